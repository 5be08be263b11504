//! [`SessionBuilder`]: timeouts, retries, the proxy, TLS and the HTTP layer of a session.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::header::HeaderValue;
use http::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tower::util::BoxCloneSyncService;

use super::{Inner, Session, Tokens};
use crate::body::RequestBody;
use crate::config::CloudConfig;
use crate::connect::Connector;
use crate::error::{BoxError, Error, Result};
use crate::proxy::Proxy;
use crate::retry::RetryPolicy;
use crate::tls;
use crate::transport::{self, AuthService, Backend, CustomHttp, HyperService};

/// Builds a [`Session`].
#[derive(Debug, Clone)]
#[must_use]
pub struct SessionBuilder {
    config: CloudConfig,
    user_agent: String,
    retry: Option<RetryPolicy>,
    connect_timeout: Duration,
    read_timeout: Option<Duration>,
    send_timeout: Duration,
    response_timeout: Duration,
    proxy: Proxy,
    http: Option<CustomHttp>,
}

impl SessionBuilder {
    pub(super) fn new(config: CloudConfig) -> SessionBuilder {
        let timeout = config.api_timeout;
        SessionBuilder {
            config,
            user_agent: format!("openstack-rs/{}", env!("CARGO_PKG_VERSION")),
            retry: None,
            connect_timeout: timeout.unwrap_or(Duration::from_secs(30)),
            read_timeout: Some(timeout.unwrap_or(Duration::from_secs(120))),
            send_timeout: timeout.unwrap_or(Duration::from_secs(120)),
            response_timeout: Duration::from_secs(300),
            proxy: Proxy::from_env(),
            http: None,
        }
    }

    /// Sets the HTTP proxy (default: [`Proxy::from_env`], read when [`Session::builder`] was
    /// called). `Proxy::none()` goes direct whatever the environment says.
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = proxy;
        self
    }

    /// Sets the user agent (default `openstack-rs/<version>`).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Sets the retry policy (default: 3 retries, or the cloud's `*_status_code_retries`).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Sets the connect timeout (default 30 s, or the cloud's `api_timeout`).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Sets the idle read timeout: the longest wait for the next bytes (default: the cloud's
    /// `api_timeout`, else 120 s). It is never a deadline on a whole transfer.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use openstack_auth::{CloudConfig, Session};
    /// let session = Session::builder(CloudConfig::from_cloud("mycloud")?)
    ///     .connect_timeout(Duration::from_secs(10))
    ///     .read_timeout(Duration::from_secs(600)) // a slow store may think for minutes
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn read_timeout(mut self, t: Duration) -> Self {
        self.read_timeout = Some(t);
        self
    }

    /// No idle read timeout: a server may pause as long as it likes (a response that never
    /// comes then hangs; prefer a generous [`SessionBuilder::read_timeout`]).
    pub fn no_read_timeout(mut self) -> Self {
        self.read_timeout = None;
        self
    }

    /// Sets the idle timeout of uploads: a server that takes no bytes of a streamed request
    /// body for this long ends the request with [`Error::IdleTimeout`] (default: the cloud's
    /// `api_timeout`, else 120 s). Counted from when the connection's buffers are full, so a
    /// server that still reads, however slowly, is not cut; a slow *source* (a reader that
    /// has nothing yet) is not counted either.
    pub fn send_timeout(mut self, t: Duration) -> Self {
        self.send_timeout = t;
        self
    }

    /// Sets the longest wait for the response head once a streamed request body (an upload)
    /// has been sent completely (default 300 s: Glance may still be writing the data to its
    /// store). Ends with [`Error::IdleTimeout`].
    pub fn response_timeout(mut self, t: Duration) -> Self {
        self.response_timeout = t;
        self
    }

    /// Sends every request through `service` instead of the built-in hyper client (which
    /// brings TLS, the proxy and connection pooling): the seam for tests of code that uses
    /// the SDK (`MockHttp`, feature `test-util`), or for an HTTP stack of your own.
    /// Everything above it stays: authentication, retries, timeouts, error kinds.
    ///
    /// The service gets requests with absolute URLs and answers any `http_body::Body` of
    /// `Bytes`. Its errors become [`Error::Transport`] and are not retried.
    pub fn http_service<S, B>(mut self, service: S) -> Self
    where
        S: tower::Service<Request<RequestBody>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = bytes::Bytes> + Send + Sync + 'static,
        B::Error: Into<BoxError>,
    {
        use http_body_util::BodyExt;
        let service = tower::ServiceBuilder::new()
            .map_response(|r: Response<B>| r.map(|b| b.map_err(Into::into).boxed()))
            .map_err(Into::into)
            .service(service);
        self.http = Some(BoxCloneSyncService::new(service));
        self
    }

    /// Builds the session. Nothing is sent until the first request.
    ///
    /// # Errors
    /// [`Error::Config`] for an incomplete cloud, [`Error::InvalidArgument`] for unreadable
    /// TLS files or a proxy URL that cannot be used.
    pub fn build(self) -> Result<Session> {
        self.config.validate()?;
        let tls = tls::client_config(&self.config)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(self.connect_timeout));
        http.set_nodelay(true);
        let routes = self.proxy.routes()?.map(Arc::new);
        let connector = Connector {
            tcp: http,
            routes: routes.clone(),
            handshake_timeout: self.connect_timeout,
        };
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(50))
            .build(https);
        let user_agent = HeaderValue::from_str(&self.user_agent).map_err(|_| {
            Error::InvalidArgument(format!(
                "user agent {:?} is not a valid header",
                self.user_agent
            ))
        })?;
        let backend = match self.http {
            Some(custom) => Backend::Custom(custom),
            None => Backend::Hyper(client),
        };
        let hyper = HyperService {
            backend,
            routes,
            read_timeout: self.read_timeout,
            send_timeout: self.send_timeout,
            response_timeout: self.response_timeout,
        };
        let base = transport::transport(hyper, user_agent, self.retry.unwrap_or_default());
        let tokens = Arc::new(Tokens {
            config: self.config.clone(),
            base: base.clone(),
            token: tokio::sync::Mutex::new(None),
            auth_count: AtomicU64::new(0),
        });
        let authed =
            BoxCloneSyncService::new(AuthService { tokens: tokens.clone(), inner: base.clone() });
        Ok(Session {
            inner: Arc::new(Inner {
                config: self.config,
                retry: self.retry,
                tokens,
                base,
                authed,
                endpoints: Mutex::new(HashMap::new()),
            }),
        })
    }
}
