//! The authenticated HTTP session: one cheap-to-clone client per cloud.
//!
//! A [`Session`] owns the pooled hyper client (rustls), the token cache (refreshed before
//! expiry, single-flight), the resolved endpoints (catalog + version discovery), retries with
//! backoff for replayable requests, the 401 re-authentication, and the mapping of error
//! statuses to [`Error`] kinds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue, RETRY_AFTER, USER_AGENT};
use http::{Method, Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tracing::Instrument;

use crate::body::{RequestBody, ResponseBody};
use crate::config::{AuthType, CloudConfig, Interface};
use crate::discovery::{ApiVersion, highest_version};
use crate::error::{Error, Result};
use crate::identity::{Token, identity_root, strip_version_suffix, token_request_body};
use crate::tls;

/// Header carrying the token.
pub const AUTH_TOKEN: &str = "x-auth-token";
/// Header carrying the request id in responses.
pub const REQUEST_ID: &str = "x-openstack-request-id";

type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, RequestBody>;

/// How requests are retried. Only replayable requests are ever retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (connect errors, 429, 502, 503, 504).
    pub max_retries: u32,
    /// First backoff; doubled each time, with jitter.
    pub initial_backoff: Duration,
    /// Largest single backoff (also caps `Retry-After`).
    pub max_backoff: Duration,
    /// Stop retrying once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..RetryPolicy::default() }
    }

    /// The wait before retry number `attempt` (1-based), honouring `Retry-After` seconds.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return ra.min(self.max_backoff);
        }
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_backoff);
        // Jitter: 50–100 % of the base, from the clock's low bits (no RNG dependency needed).
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let factor = 0.5 + f64::from(nanos % 1000) / 2000.0;
        base.mul_f64(factor)
    }
}

/// A service's resolved endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEndpoint {
    /// The service type.
    pub service_type: String,
    /// The unversioned root URL (no trailing slash), e.g. `http://127.0.0.1:9292`.
    /// Resource paths (`/v2/images`) are joined to it.
    pub root: String,
    /// The URL the catalog (or override) gave.
    pub catalog_url: String,
    /// The highest version of the wanted major the server offers, if discovery worked.
    pub version: Option<ApiVersion>,
}

impl ServiceEndpoint {
    /// Fails with [`Error::Unsupported`] unless the server offers at least `needed`.
    /// When discovery found no version, the call is allowed (the server will answer).
    ///
    /// # Errors
    /// [`Error::Unsupported`] naming both versions.
    pub fn require(&self, what: &str, needed: ApiVersion) -> Result<()> {
        match self.version {
            Some(v) if v.major == needed.major && v < needed => Err(Error::Unsupported {
                what: what.into(),
                needs_version: needed.to_string(),
                server_max: v.to_string(),
            }),
            _ => Ok(()),
        }
    }
}

/// Builds a [`Session`].
#[derive(Debug, Clone)]
#[must_use]
pub struct SessionBuilder {
    config: CloudConfig,
    user_agent: String,
    retry: Option<RetryPolicy>,
    connect_timeout: Duration,
    read_timeout: Option<Duration>,
}

impl SessionBuilder {
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
    pub fn read_timeout(mut self, t: Option<Duration>) -> Self {
        self.read_timeout = t;
        self
    }

    /// Builds the session. Nothing is sent until the first request.
    ///
    /// # Errors
    /// [`Error::Config`] for an incomplete cloud, [`Error::InvalidArgument`] for unreadable
    /// TLS files.
    pub fn build(self) -> Result<Session> {
        self.config.validate()?;
        let tls = tls::client_config(&self.config)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(self.connect_timeout));
        http.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(50))
            .build(https);
        let user_agent = HeaderValue::from_str(&self.user_agent).map_err(|_| {
            Error::InvalidArgument(format!(
                "user agent {:?} is not a valid header",
                self.user_agent
            ))
        })?;
        Ok(Session {
            inner: Arc::new(Inner {
                client,
                config: self.config,
                user_agent,
                retry: self.retry,
                read_timeout: self.read_timeout,
                token: tokio::sync::Mutex::new(None),
                endpoints: Mutex::new(HashMap::new()),
                auth_count: std::sync::atomic::AtomicU64::new(0),
            }),
        })
    }
}

struct Inner {
    client: HttpClient,
    config: CloudConfig,
    user_agent: HeaderValue,
    retry: Option<RetryPolicy>,
    read_timeout: Option<Duration>,
    token: tokio::sync::Mutex<Option<Arc<Token>>>,
    endpoints: Mutex<HashMap<String, Arc<ServiceEndpoint>>>,
    auth_count: std::sync::atomic::AtomicU64,
}

/// An authenticated connection to one cloud. Cheap to clone; share it between tasks.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("cloud", &self.inner.config.name).finish_non_exhaustive()
    }
}

/// Refresh a token this long before it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(120);
/// Largest error body read to extract the server's message.
const MAX_ERROR_BODY: usize = 64 * 1024;

fn default_major(service_type: &str) -> u32 {
    match service_type {
        "identity" => 3,
        "image" | "network" | "compute" => 2,
        "block-storage" | "volumev3" => 3,
        _ => 1,
    }
}

impl Session {
    /// A builder for `config`.
    pub fn builder(config: CloudConfig) -> SessionBuilder {
        let timeout = config.api_timeout;
        SessionBuilder {
            config,
            user_agent: format!("openstack-rs/{}", env!("CARGO_PKG_VERSION")),
            retry: None,
            connect_timeout: timeout.unwrap_or(Duration::from_secs(30)),
            read_timeout: Some(timeout.unwrap_or(Duration::from_secs(120))),
        }
    }

    /// A session with default settings.
    ///
    /// # Errors
    /// As [`SessionBuilder::build`].
    pub fn new(config: CloudConfig) -> Result<Session> {
        Session::builder(config).build()
    }

    /// The cloud's configuration.
    pub fn config(&self) -> &CloudConfig {
        &self.inner.config
    }

    /// How many times this session has asked Keystone for a token (for tests and metrics).
    pub fn auth_count(&self) -> u64 {
        self.inner.auth_count.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The current token, authenticating (once, for all concurrent callers) when there is
    /// none or it expires within two minutes. `None` for the `none` auth type.
    ///
    /// # Errors
    /// [`Error::Unauthorized`] with Keystone's message for wrong credentials, and transport
    /// errors.
    pub async fn token(&self) -> Result<Option<Arc<Token>>> {
        let cfg = &self.inner.config;
        match cfg.auth_type {
            AuthType::None | AuthType::AdminToken => return Ok(None),
            _ => {}
        }
        let mut guard = self.inner.token.lock().await;
        if let Some(t) = guard.as_ref() {
            if t.valid_for(EXPIRY_MARGIN) {
                return Ok(Some(t.clone()));
            }
        }
        let token = Arc::new(self.authenticate().await?);
        *guard = Some(token.clone());
        Ok(Some(token))
    }

    /// Forgets the cached token so the next request authenticates again.
    pub async fn invalidate_token(&self) {
        *self.inner.token.lock().await = None;
    }

    /// Replaces the cached token (e.g. with one known to be revoked, in tests).
    pub async fn set_token(&self, token: Token) {
        *self.inner.token.lock().await = Some(Arc::new(token));
    }

    async fn authenticate(&self) -> Result<Token> {
        let cfg = &self.inner.config;
        let auth_url = cfg.auth.auth_url.as_deref().unwrap_or_default();
        let url = format!("{}/v3/auth/tokens", identity_root(auth_url));
        let body = token_request_body(cfg)?;
        self.inner.auth_count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let req = Request::post(&url)
            .header(CONTENT_TYPE, "application/json")
            .body(RequestBody::json(&body))
            .map_err(|e| Error::InvalidArgument(format!("bad auth_url {auth_url:?}: {e}")))?;
        let resp = self
            .send_raw(req, None)
            .instrument(tracing::debug_span!("openstack.auth", cloud = %cfg.name, auth_type = ?cfg.auth_type))
            .await?;
        let subject = resp
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| Error::Decode {
                url: url.clone(),
                message: "Keystone sent no X-Subject-Token header".into(),
            })?;
        let body = resp.into_body().bytes().await?;
        let token = Token::parse(&url, &subject, &body)?;
        tracing::debug!(user = %token.user_id, scope = ?token.scope, "authenticated");
        Ok(token)
    }

    /// The endpoint of a service type: the override if configured, else the catalog's entry
    /// for the cloud's interface and region, then version discovery at its root. Cached.
    ///
    /// # Errors
    /// [`Error::EndpointNotFound`] / [`Error::Ambiguous`] listing the catalog.
    pub async fn endpoint(&self, service_type: &str) -> Result<Arc<ServiceEndpoint>> {
        if let Some(ep) = self.inner.endpoints.lock().expect("endpoint cache").get(service_type) {
            return Ok(ep.clone());
        }
        let cfg = &self.inner.config;
        let catalog_url = if let Some(url) = cfg.endpoint_overrides.get(service_type) {
            url.clone()
        } else if let (AuthType::None | AuthType::AdminToken, Some(url)) =
            (&cfg.auth_type, &cfg.auth.endpoint)
        {
            url.clone()
        } else if service_type == "identity"
            && cfg.auth.auth_url.is_some()
            && self.token().await?.is_none()
        {
            cfg.auth.auth_url.clone().unwrap_or_default()
        } else {
            let token = self.token().await?.ok_or_else(|| Error::EndpointNotFound {
                service_type: service_type.into(),
                interface: cfg.interface.as_str().into(),
                region: cfg.region_name.clone().unwrap_or_else(|| "any".into()),
                available: "no catalog (auth type none): set <service>_endpoint_override".into(),
            })?;
            token.catalog.endpoint(service_type, cfg.interface, cfg.region_name.as_deref())?
        };
        let root = strip_version_suffix(&catalog_url);
        let major = cfg
            .api_versions
            .get(service_type)
            .and_then(|v| ApiVersion::parse(v))
            .map_or_else(|| default_major(service_type), |v| v.major);
        let version = self.discover(&root, major).await;
        let ep = Arc::new(ServiceEndpoint {
            service_type: service_type.into(),
            root,
            catalog_url,
            version,
        });
        tracing::debug!(service = service_type, root = %ep.root, version = ?ep.version, "endpoint resolved");
        self.inner
            .endpoints
            .lock()
            .expect("endpoint cache")
            .insert(service_type.into(), ep.clone());
        Ok(ep)
    }

    /// The catalog interface in use.
    pub fn interface(&self) -> Interface {
        self.inner.config.interface
    }

    async fn discover(&self, root: &str, major: u32) -> Option<ApiVersion> {
        let url = format!("{root}/");
        let req = Request::get(&url).body(RequestBody::empty()).ok()?;
        // The versions document may come with 200 or 300; 300 is not an error here.
        let resp = match self.send_once(req).await {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(%url, error = %e, "version discovery failed");
                return None;
            }
        };
        let body = resp.into_body().bytes().await.ok()?;
        let doc: serde_json::Value = serde_json::from_slice(&body).ok()?;
        highest_version(&doc, major)
    }

    /// Sends `req` to `service_type`: its URI is a path (and query) joined to the service's
    /// root, e.g. `/v2/images?limit=10`. Adds the token, `Accept: application/json` (unless
    /// set) and the user agent; retries replayable requests; re-authenticates once on 401.
    /// Error statuses become [`Error`] kinds carrying the server's message and request id.
    ///
    /// # Errors
    /// See [`Error`]; [`Error::NotReplayable`] when a retry would need a consumed stream.
    pub async fn request(
        &self,
        service_type: &str,
        req: Request<RequestBody>,
    ) -> Result<Response<ResponseBody>> {
        let ep = self.endpoint(service_type).await?;
        let (mut parts, body) = req.into_parts();
        // An absolute URL (e.g. a next link) is used as is; a path joins the service root.
        let url = if parts.uri.scheme().is_some() {
            parts.uri.to_string()
        } else {
            format!("{}{}", ep.root, parts.uri.path_and_query().map_or("/", |p| p.as_str()))
        };
        parts.uri = url
            .parse::<Uri>()
            .map_err(|e| Error::InvalidArgument(format!("bad URL {url:?}: {e}")))?;
        let req = Request::from_parts(parts, body);
        let retries = self
            .inner
            .retry
            .map(|r| r.max_retries)
            .or_else(|| self.inner.config.status_code_retries.get(service_type).copied());
        let span = tracing::debug_span!("openstack.request", service = service_type, method = %req.method(), url = %url);
        self.send_authenticated(req, retries).instrument(span).await
    }

    async fn send_authenticated(
        &self,
        req: Request<RequestBody>,
        retries: Option<u32>,
    ) -> Result<Response<ResponseBody>> {
        let (parts, body) = req.into_parts();
        let replayer = body.replayer();
        let token = self.token().await?;
        let mut req = Request::from_parts(parts.clone(), body);
        self.apply_auth(&mut req, token.as_deref());
        match self.send_raw(req, retries).await {
            Err(Error::Unauthorized(api)) if token.is_some() => {
                // The token was revoked or expired early: authenticate again, replay once.
                {
                    let mut guard = self.inner.token.lock().await;
                    if guard
                        .as_ref()
                        .is_some_and(|t| token.as_ref().is_some_and(|u| Arc::ptr_eq(t, u)))
                    {
                        *guard = None;
                    }
                }
                let Some(replayer) = replayer else {
                    return Err(Error::NotReplayable {
                        method: parts.method.clone(),
                        url: parts.uri.to_string(),
                        reason: format!("the token was rejected ({})", api.message),
                    });
                };
                let body = replayer.make().map_err(|e| Error::Io {
                    path: parts.uri.to_string(),
                    message: format!("cannot reopen the body for a replay: {e}"),
                })?;
                tracing::debug!("401: re-authenticating and replaying once");
                let token = self.token().await?;
                let mut req = Request::from_parts(parts, body);
                self.apply_auth(&mut req, token.as_deref());
                self.send_raw(req, retries).await
            }
            other => other,
        }
    }

    fn apply_auth(&self, req: &mut Request<RequestBody>, token: Option<&Token>) {
        let value = match (token, &self.inner.config.auth_type) {
            (Some(t), _) => Some(t.value.expose().to_string()),
            (None, AuthType::AdminToken) => {
                self.inner.config.auth.token.as_ref().map(|t| t.expose().to_string())
            }
            _ => None,
        };
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            let mut v = v;
            v.set_sensitive(true);
            req.headers_mut().insert(AUTH_TOKEN, v);
        }
    }

    /// Sends with retries; maps error statuses to errors.
    async fn send_raw(
        &self,
        req: Request<RequestBody>,
        retries: Option<u32>,
    ) -> Result<Response<ResponseBody>> {
        let policy = self.inner.retry.unwrap_or_default();
        let max_retries = retries.unwrap_or(policy.max_retries);
        let started = Instant::now();
        let (parts, body) = req.into_parts();
        let mut body = body;
        let mut attempt = 0u32;
        let replayer = body.replayer();
        loop {
            let (err, retry_after) =
                match self.send_attempt(Request::from_parts(parts.clone(), body)).await {
                    Ok(resp) => return Ok(resp),
                    Err(Failure { error, retryable: false, .. }) => return Err(error),
                    Err(Failure { error, retry_after, .. }) => (error, retry_after),
                };
            attempt += 1;
            let wait = policy.backoff(attempt, retry_after);
            if attempt > max_retries || started.elapsed() + wait > policy.max_elapsed {
                return Err(err);
            }
            // A one-shot stream is never re-sent: say so instead of retrying.
            let Some(replayer) = &replayer else {
                return Err(Error::NotReplayable {
                    method: parts.method.clone(),
                    url: parts.uri.to_string(),
                    reason: err.to_string(),
                });
            };
            body = replayer.make().map_err(|e| Error::Io {
                path: parts.uri.to_string(),
                message: format!("cannot reopen the body for a retry: {e}"),
            })?;
            tracing::debug!(attempt, ?wait, error = %err, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt, mapping error statuses to errors (no retries).
    async fn send_once(&self, req: Request<RequestBody>) -> Result<Response<ResponseBody>> {
        self.send_attempt(req).await.map_err(|f| f.error)
    }

    async fn send_attempt(
        &self,
        mut req: Request<RequestBody>,
    ) -> std::result::Result<Response<ResponseBody>, Failure> {
        let headers = req.headers_mut();
        headers.entry(ACCEPT).or_insert(HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, self.inner.user_agent.clone());
        let method = req.method().clone();
        let url: Arc<str> = Arc::from(req.uri().to_string());
        let replayable = req.body().is_replayable();
        let fut = self.inner.client.request(req);
        let sent = match (replayable, self.inner.read_timeout) {
            // A bounded wait for headers only where the body is small or reproducible; a
            // one-shot streaming upload can legitimately take longer than any fixed deadline.
            (true, Some(t)) => match tokio::time::timeout(t, fut).await {
                Ok(r) => r,
                Err(_) => {
                    return Err(Failure {
                        error: Error::Transport {
                            url: url.to_string(),
                            message: format!("no response within {t:?}"),
                        },
                        retryable: is_idempotent(&method),
                        retry_after: None,
                    });
                }
            },
            _ => fut.await,
        };
        let resp = sent.map_err(|e| Failure {
            // Nothing was sent when connecting failed; otherwise only idempotent calls retry,
            // and never when the request's own body failed (the source, not the network).
            retryable: e.is_connect() || (is_idempotent(&method) && !is_body_error(&e)),
            error: Error::transport(&*url, &e),
            retry_after: None,
        })?;
        let status = resp.status();
        let request_id = resp
            .headers()
            .get(REQUEST_ID)
            .or_else(|| resp.headers().get("x-compute-request-id"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        tracing::debug!(
            status = status.as_u16(),
            request_id = request_id.as_deref().unwrap_or("-"),
            "response"
        );
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let resp = resp.map(|b| ResponseBody::new(b, url.clone(), self.inner.read_timeout));
        if status.is_success()
            || status == StatusCode::MULTIPLE_CHOICES
            || status == StatusCode::NOT_MODIFIED
        {
            return Ok(resp);
        }
        let body = read_limited(resp.into_body(), MAX_ERROR_BODY).await;
        Err(Failure {
            error: Error::from_response_parts(method, url.to_string(), status, &body, request_id),
            retryable: is_retryable_status(status),
            retry_after,
        })
    }
}

/// Whether a client error came from the request body itself (hyper's "user body" error).
fn is_body_error(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(h) = err.downcast_ref::<hyper::Error>() {
            if h.is_user() {
                return true;
            }
        }
        source = err.source();
    }
    false
}

/// A failed attempt and whether another attempt may help.
struct Failure {
    error: Error,
    retryable: bool,
    retry_after: Option<Duration>,
}

fn is_retryable_status(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    )
}

async fn read_limited(mut body: ResponseBody, limit: usize) -> Bytes {
    use http_body_util::BodyExt;
    let mut out = Vec::new();
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            let room = limit.saturating_sub(out.len());
            out.extend_from_slice(&data[..data.len().min(room)]);
            if out.len() >= limit {
                break;
            }
        }
    }
    Bytes::from(out)
}

/// Reads a JSON response body.
///
/// # Errors
/// [`Error::Decode`] naming the URL when the body is not the expected JSON.
pub async fn read_json<T: serde::de::DeserializeOwned>(resp: Response<ResponseBody>) -> Result<T> {
    let body = resp.into_body();
    let url = body.url().to_string();
    let bytes = body.bytes().await?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
        url,
        message: format!(
            "{e} (body starts {:?})",
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
        ),
    })
}

/// `true` for methods whose requests are safe to send twice.
pub fn is_idempotent(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS)
}
