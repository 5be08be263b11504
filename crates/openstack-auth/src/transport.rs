//! The session's tower stack: `headers → retry → hyper`, with the auth layer on top.
//!
//! * [`HyperService`] sends one request with the pooled hyper client and maps error statuses
//!   to [`Error`] kinds (the one place this happens), classifying what may be retried.
//! * [`RetryPolicy`] (a `tower::retry::Policy`) retries connect errors, 429, 502, 503, 504 with
//!   exponential backoff and jitter, honours `Retry-After`, bounded by count and time, and
//!   only for bodies that can be made again; a retry that would need a consumed stream ends
//!   with [`Error::NotReplayable`].
//! * [`AuthService`] adds the token from the cache and, on a 401, re-authenticates once and
//!   replays the request when its body can be made again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, HeaderValue, PROXY_AUTHORIZATION, RETRY_AFTER, USER_AGENT};
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceBuilder, ServiceExt};

use crate::body::{Inner, RequestBody, ResponseBody, SendState, SendWatch};
use crate::connect::{Connector, ProxyFailure};
use crate::error::{BoxError, Error};
use crate::proxy::Routes;
use crate::retry::{RetryPolicy, RetryState};

/// Header carrying the token.
pub(crate) const AUTH_TOKEN: &str = "x-auth-token";

/// Header carrying the request id in responses.
pub(crate) const REQUEST_ID: &str = "x-openstack-request-id";

pub(crate) type HttpClient = Client<hyper_rustls::HttpsConnector<Connector>, RequestBody>;

/// A user-supplied HTTP service (see `SessionBuilder::http_service`), boxed.
pub(crate) type CustomHttp = BoxCloneSyncService<
    Request<RequestBody>,
    Response<http_body_util::combinators::BoxBody<Bytes, BoxError>>,
    BoxError,
>;

/// What sends the bytes: hyper's pooled client, or a service the user gave.
#[derive(Clone)]
pub(crate) enum Backend {
    Hyper(HttpClient),
    Custom(CustomHttp),
}

/// Why a request got no response.
enum SendError {
    Hyper(hyper_util::client::legacy::Error),
    Custom(BoxError),
}

/// The stack without authentication (used for Keystone itself and version discovery).
pub(crate) type Transport =
    BoxCloneSyncService<Request<RequestBody>, Response<ResponseBody>, Failure>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Largest error body read to extract the server's message.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// A failed attempt and whether another attempt may help.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: Error,
    pub(crate) retryable: bool,
    pub(crate) retry_after: Option<Duration>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure { error, retryable: false, retry_after: None }
    }
}

/// How many retries a request may use (set per service by the session).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryBudget(pub(crate) u32);

/// One HTTP exchange.
#[derive(Clone)]
pub(crate) struct HyperService {
    pub(crate) backend: Backend,
    /// The proxy settings: `Proxy-Authorization` for forwarded http, and 407 answers.
    pub(crate) routes: Option<Arc<Routes>>,
    /// The idle timeout of responses: no response bytes for this long ends the request (for
    /// requests with a body in memory, also the bound on the wait for the response head).
    pub(crate) read_timeout: Option<Duration>,
    /// The idle timeout of a streamed request body: the server taking no bytes for this long
    /// ends the request.
    pub(crate) send_timeout: Duration,
    /// The longest wait for the response head once a streamed request body has been sent.
    pub(crate) response_timeout: Duration,
}

impl Service<Request<RequestBody>> for HyperService {
    type Response = Response<ResponseBody>;
    type Error = Failure;
    type Future = BoxFuture<Result<Response<ResponseBody>, Failure>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Failure>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<RequestBody>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.send(req).await })
    }
}

impl HyperService {
    async fn send(self, mut req: Request<RequestBody>) -> Result<Response<ResponseBody>, Failure> {
        let method = req.method().clone();
        let url: Arc<str> = Arc::from(req.uri().to_string());
        let route = self.routes.as_ref().and_then(|r| r.route(req.uri()));
        if let Some(route) = &route {
            if req.uri().scheme() == Some(&http::uri::Scheme::HTTP) {
                if let Some(auth) = &route.auth {
                    // Forwarded plain http: the proxy reads the credentials on each request.
                    req.headers_mut().insert(PROXY_AUTHORIZATION, auth.clone());
                }
            }
        }
        let in_memory = req.body().is_in_memory();
        let watch = (!in_memory).then(|| Arc::new(SendWatch::new()));
        if let Some(w) = &watch {
            req.body_mut().watch(w.clone());
        }
        let backend = self.backend.clone();
        let fut = async move {
            match backend {
                Backend::Hyper(client) => {
                    client.request(req).await.map(|r| r.map(Inner::Hyper)).map_err(SendError::Hyper)
                }
                Backend::Custom(service) => service
                    .oneshot(req)
                    .await
                    .map(|r| r.map(Inner::Boxed))
                    .map_err(SendError::Custom),
            }
        };
        let sent = match (in_memory, self.read_timeout) {
            // A bounded wait for the response only where the body is in memory: a streamed
            // upload (a file of many GiB) can legitimately take longer than any deadline.
            (true, Some(t)) => match tokio::time::timeout(t, fut).await {
                Ok(r) => r,
                Err(_) => {
                    return Err(Failure {
                        error: Error::IdleTimeout {
                            what: format!("{method} {url}: no response (read timeout)"),
                            waited: t,
                        },
                        retryable: is_idempotent(&method),
                        retry_after: None,
                    });
                }
            },
            (false, _) => {
                let watch = watch.as_deref().expect("streamed bodies are watched");
                match watchdog(fut, watch, self.send_timeout, self.response_timeout).await {
                    Ok(r) => r,
                    Err(timeout) => {
                        let (what, waited) = match timeout {
                            Stall::Sending(waited) => (
                                format!(
                                    "{method} {url}: the server took no request body bytes for {waited:?} (idle timeout)"
                                ),
                                waited,
                            ),
                            Stall::Answering(waited) => (
                                format!(
                                    "{method} {url}: no response within {waited:?} after the request body was sent"
                                ),
                                waited,
                            ),
                        };
                        // The streamed body is spent: never retried.
                        return Err(Error::IdleTimeout { what, waited }.into());
                    }
                }
            }
            _ => fut.await,
        };
        let sent = sent.map_err(|e| match e {
            SendError::Hyper(e) => match find_proxy_failure(&e) {
                Some(p) => Failure {
                    error: Error::Proxy {
                        proxy: p.proxy.to_string(),
                        url: url.to_string(),
                        reason: p.reason.clone(),
                        source: p.source.clone().map(|s| Box::new(s) as BoxError),
                    },
                    retryable: p.retryable,
                    retry_after: None,
                },
                None => Failure {
                    // Nothing was sent when connecting failed; otherwise only idempotent
                    // calls retry, and never when the request's own body failed (the source,
                    // not the network).
                    retryable: e.is_connect() || (is_idempotent(&method) && !is_body_error(&e)),
                    error: Error::transport(&*url, e),
                    retry_after: None,
                },
            },
            // A custom service's failure (a test double's "nothing scripted") is final.
            SendError::Custom(e) => {
                Failure { error: Error::transport(&*url, e), retryable: false, retry_after: None }
            }
        });
        let resp = sent?;
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
        let resp = resp.map(|b| ResponseBody::new(b, url.clone(), self.read_timeout));
        if status.is_success()
            || status == StatusCode::MULTIPLE_CHOICES
            || status == StatusCode::NOT_MODIFIED
        {
            return Ok(resp);
        }
        if status == StatusCode::PROXY_AUTHENTICATION_REQUIRED {
            // Only a proxy answers 407 (here, one forwarding plain http).
            let proxy = route.as_ref().map_or_else(|| "(unknown)".into(), |r| r.shown.to_string());
            let reason = if route.as_ref().is_some_and(|r| r.auth.is_some()) {
                "rejected the user and password in its URL (407)".to_string()
            } else {
                "asks for credentials (407); put them in the proxy URL: \
                 http://user:password@host:port"
                    .to_string()
            };
            return Err(Error::Proxy { proxy, url: url.to_string(), reason, source: None }.into());
        }
        let body = read_limited(resp.into_body(), MAX_ERROR_BODY).await;
        Err(Failure {
            error: Error::from_response_parts(method, url.to_string(), status, &body, request_id),
            retryable: is_retryable_status(status),
            retry_after,
        })
    }
}

/// Which wait of a streamed request ran out.
enum Stall {
    /// The server took no body bytes for this long.
    Sending(Duration),
    /// The body was sent this long ago and no response head came.
    Answering(Duration),
}

/// Awaits `fut` (a request with a streamed body) unless the server stops taking the body for
/// `idle`, or sends no response head for `response` after the body ended. A body waiting on
/// its own source (a slow reader) is not the server's fault and is not cut.
async fn watchdog<F: Future>(
    fut: F,
    watch: &SendWatch,
    idle: Duration,
    response: Duration,
) -> Result<F::Output, Stall> {
    let mut fut = std::pin::pin!(fut);
    // Check often enough that a stall is noticed within a fraction of its limit.
    let tick = (idle.min(response) / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    loop {
        if let Ok(out) = tokio::time::timeout(tick, &mut fut).await {
            return Ok(out);
        }
        match watch.state() {
            SendState::Sending { idle: waited, source_pending: false } if waited >= idle => {
                return Err(Stall::Sending(waited));
            }
            SendState::Sent { ago } if ago >= response => return Err(Stall::Answering(ago)),
            _ => {}
        }
    }
}

/// Builds the unauthenticated stack: default headers, retries, hyper.
pub(crate) fn transport(
    hyper: HyperService,
    user_agent: HeaderValue,
    policy: RetryPolicy,
) -> Transport {
    let svc = ServiceBuilder::new()
        .map_request(move |mut req: Request<RequestBody>| {
            let headers = req.headers_mut();
            headers.entry(ACCEPT).or_insert(HeaderValue::from_static("application/json"));
            headers.insert(USER_AGENT, user_agent.clone());
            req
        })
        .retry(RetryState::new(policy))
        .service(hyper);
    BoxCloneSyncService::new(svc)
}

/// A token and its header value.
pub(crate) type CurrentToken = Option<(Arc<crate::identity::Token>, HeaderValue)>;

/// Where the auth layer gets tokens.
pub(crate) trait TokenSource: Send + Sync + 'static {
    /// The current token value (`None`: send no token), authenticating when needed.
    fn current(self: Arc<Self>) -> BoxFuture<Result<CurrentToken, Error>>;
    /// A static token to send when there is no Keystone token (admin_token).
    fn static_token(&self) -> Option<HeaderValue>;
    /// Forgets `token` if it is still the cached one.
    fn invalidate(self: Arc<Self>, token: Arc<crate::identity::Token>) -> BoxFuture<()>;
}

/// Adds the token; on a 401 re-authenticates once and replays a replayable request.
#[derive(Clone)]
pub(crate) struct AuthService {
    pub(crate) tokens: Arc<dyn TokenSource>,
    pub(crate) inner: Transport,
}

impl Service<Request<RequestBody>> for AuthService {
    type Response = Response<ResponseBody>;
    type Error = Failure;
    type Future = BoxFuture<Result<Response<ResponseBody>, Failure>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Failure>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<RequestBody>) -> Self::Future {
        let tokens = self.tokens.clone();
        let inner = self.inner.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let replay = body.deferred_copy();
            let token = tokens.clone().current().await?;
            let mut first = Request::from_parts(parts.clone(), body);
            set_token(
                &mut first,
                token.as_ref().map(|t| t.1.clone()).or_else(|| tokens.static_token()),
            );
            match inner.clone().oneshot(first).await {
                Err(Failure { error: Error::Unauthorized(api), .. }) if token.is_some() => {
                    // The token was revoked or expired early: authenticate again, replay once.
                    if let Some((t, _)) = &token {
                        tokens.clone().invalidate(t.clone()).await;
                    }
                    if replay.is_gone() {
                        return Err(Error::NotReplayable {
                            method: parts.method.clone(),
                            url: parts.uri.to_string(),
                            reason: format!("the token was rejected ({})", api.message),
                        }
                        .into());
                    }
                    tracing::debug!("401: re-authenticating and replaying once");
                    let token = tokens.clone().current().await?;
                    let mut again = Request::from_parts(parts, replay);
                    set_token(&mut again, token.map(|t| t.1));
                    inner.oneshot(again).await
                }
                other => other,
            }
        })
    }
}

fn set_token(req: &mut Request<RequestBody>, value: Option<HeaderValue>) {
    if let Some(mut v) = value {
        v.set_sensitive(true);
        req.headers_mut().insert(AUTH_TOKEN, v);
    }
}

/// The proxy failure among a client error's causes.
fn find_proxy_failure<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a ProxyFailure> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(p) = err.downcast_ref::<ProxyFailure>() {
            return Some(p);
        }
        source = err.source();
    }
    None
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

fn is_retryable_status(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    )
}

/// `true` for methods whose requests are safe to send twice.
pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS)
}

async fn read_limited(mut body: ResponseBody, limit: usize) -> Bytes {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotent_methods() {
        assert!(is_idempotent(&Method::PUT) && is_idempotent(&Method::GET));
        assert!(!is_idempotent(&Method::POST) && !is_idempotent(&Method::PATCH));
    }
}
