//! What every proxy in front of Glance shares (the fault proxy, the chaos proxy): the body
//! type, the upstream client, the accept loop, and small request helpers.

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// The body of what a proxy sends on, either way.
pub(crate) type Body = BoxBody<Bytes, std::io::Error>;

/// The upstream client a proxy forwards to Glance with.
pub(crate) type Upstream = Client<HttpConnector, Body>;

/// Serves HTTP/1 on `listener` in a task: every request goes to `handler` with the shared
/// `state` and a client for Glance. A handler's `Err` closes the connection unanswered.
pub(crate) fn serve<S, F, Fut, E>(listener: tokio::net::TcpListener, state: Arc<S>, handler: F)
where
    S: Send + Sync + 'static,
    F: Fn(Request<Incoming>, Arc<S>, Upstream) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Response<Body>, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    let upstream: Upstream = Client::builder(TokioExecutor::new()).build_http();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let (state, upstream, handler) = (state.clone(), upstream.clone(), handler.clone());
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    handler(req, state.clone(), upstream.clone())
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
}

/// Reads a request body until `limit` bytes (or its end, or an error); returns how many.
pub(crate) async fn read_up_to<B>(body: &mut B, limit: u64) -> u64
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
{
    let mut read = 0u64;
    while read < limit {
        match body.frame().await {
            Some(Ok(f)) => read += f.data_ref().map_or(0, |d| d.len() as u64),
            _ => break,
        }
    }
    read
}

/// Points a request the proxy received at the Glance at `base` (same path and query).
pub(crate) fn to_glance(parts: &mut http::request::Parts, base: &str, path_and_query: &str) {
    parts.uri = format!("{base}{path_and_query}").parse().unwrap();
    parts.headers.remove("host");
}
