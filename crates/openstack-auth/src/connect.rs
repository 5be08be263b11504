//! The session's connector: direct TCP, or through an HTTP proxy (a `CONNECT` tunnel for
//! `https://` URLs, forwarding for `http://` URLs). TLS is added on top by hyper-rustls.
//!
//! hyper-util's `Tunnel` was the first choice for the tunnel; its error type is private and
//! drops the proxy's status, so "the proxy refused (403)", "wants credentials (407)" and "the
//! proxy cannot reach the server (502)" could not be told apart, nor retried differently.
//! The handshake here is one request and one response head, parsed with `httparse`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::{Service, ServiceExt};

use crate::error::BoxError;
use crate::proxy::{Route, Routes};

/// Why a proxy could not be used; found in a transport error's causes by the session.
#[derive(Debug)]
pub(crate) struct ProxyFailure {
    /// The proxy (password hidden).
    pub(crate) proxy: Arc<str>,
    /// What went wrong, as a sentence's end: "refused ...".
    pub(crate) reason: String,
    /// Whether another attempt may help (the proxy was unreachable or closed early).
    pub(crate) retryable: bool,
    pub(crate) source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl std::fmt::Display for ProxyFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "proxy {} {}", self.proxy, self.reason)
    }
}

impl std::error::Error for ProxyFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// Connects to servers, through the proxy the routes name.
#[derive(Clone)]
pub(crate) struct Connector {
    pub(crate) tcp: HttpConnector,
    pub(crate) routes: Option<Arc<Routes>>,
    /// Bounds the `CONNECT` exchange (the TCP connect has its own bound in `tcp`).
    pub(crate) handshake_timeout: Duration,
}

impl Service<Uri> for Connector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let tcp = self.tcp.clone();
        let route = self.routes.as_ref().and_then(|r| r.route(&dst));
        let limit = self.handshake_timeout;
        Box::pin(async move {
            let Some(route) = route else {
                let io = tcp.oneshot(dst).await?;
                return Ok(Conn { io, forwarding: false });
            };
            tracing::debug!(proxy = %route.shown, %dst, "connecting through the proxy");
            let mut io = tcp.oneshot(route.uri.clone()).await.map_err(|e| ProxyFailure {
                proxy: route.shown.clone(),
                reason: "cannot be reached".into(),
                retryable: true,
                source: Some(Arc::new(e)),
            })?;
            if dst.scheme() != Some(&http::uri::Scheme::HTTPS) {
                // Plain http: the proxy forwards each request (sent in absolute form).
                return Ok(Conn { io, forwarding: true });
            }
            match tokio::time::timeout(limit, tunnel(io.inner_mut(), &dst, &route)).await {
                Ok(Ok(())) => Ok(Conn { io, forwarding: false }),
                Ok(Err(failure)) => Err(failure.into()),
                Err(_) => Err(ProxyFailure {
                    proxy: route.shown,
                    reason: format!("did not answer CONNECT within {limit:?}"),
                    retryable: true,
                    source: None,
                }
                .into()),
            }
        })
    }
}

/// Asks the proxy for a tunnel to `dst`; `Ok` once it answered 2xx.
async fn tunnel(io: &mut TcpStream, dst: &Uri, route: &Route) -> Result<(), ProxyFailure> {
    let fail = |reason: String,
                retryable: bool,
                source: Option<Arc<dyn std::error::Error + Send + Sync>>| {
        ProxyFailure { proxy: route.shown.clone(), reason, retryable, source }
    };
    let host = dst.host().ok_or_else(|| fail(format!("no host in {dst}"), false, None))?;
    let target = format!("{host}:{}", dst.port_u16().unwrap_or(443));
    let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n").into_bytes();
    if let Some(auth) = &route.auth {
        head.extend_from_slice(b"Proxy-Authorization: ");
        head.extend_from_slice(auth.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    let closed = |e: io::Error| {
        fail(
            format!("closed the connection while opening a tunnel to {target}"),
            true,
            Some(Arc::new(e)),
        )
    };
    io.write_all(&head).await.map_err(closed)?;
    let mut buf = vec![0u8; 8192];
    let mut len = 0;
    loop {
        let n = io.read(&mut buf[len..]).await.map_err(closed)?;
        if n == 0 {
            return Err(closed(io::ErrorKind::UnexpectedEof.into()));
        }
        len += n;
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(&buf[..len]) {
            Ok(httparse::Status::Complete(end)) => {
                let code = resp.code.unwrap_or(0);
                let status = format!("{code} {}", resp.reason.unwrap_or("")).trim_end().to_string();
                return match code {
                    200..=299 if end == len => Ok(()),
                    200..=299 => Err(fail(
                        format!("sent data after its answer to CONNECT {target}"),
                        false,
                        None,
                    )),
                    // 407 is the standard answer; tinyproxy sends 401 to a CONNECT.
                    401 | 407 if route.auth.is_some() => Err(fail(
                        format!("rejected the user and password in its URL ({status})"),
                        false,
                        None,
                    )),
                    401 | 407 => Err(fail(
                        format!(
                            "asks for credentials ({status}); put them in the proxy URL: \
                             http://user:password@host:port"
                        ),
                        false,
                        None,
                    )),
                    // The proxy could not reach the server: like a failed connect.
                    502..=504 => Err(fail(
                        format!("could not open a tunnel to {target} ({status})"),
                        true,
                        None,
                    )),
                    _ => Err(fail(
                        format!("refused to open a tunnel to {target} ({status})"),
                        false,
                        None,
                    )),
                };
            }
            Ok(httparse::Status::Partial) if len == buf.len() => {
                return Err(fail(
                    format!("answered CONNECT {target} with too long a head"),
                    false,
                    None,
                ));
            }
            Ok(httparse::Status::Partial) => {}
            Err(e) => {
                return Err(fail(
                    format!("answered CONNECT {target} with something other than HTTP"),
                    false,
                    Some(Arc::new(e)),
                ));
            }
        }
    }
}

/// A connection to a server or a proxy.
pub(crate) struct Conn {
    io: TokioIo<TcpStream>,
    /// The proxy forwards plain http requests: hyper sends them in absolute form.
    forwarding: bool,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.forwarding)
    }
}

impl Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}
