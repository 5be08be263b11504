//! An in-process HTTP service that stands in for the cloud in users' unit tests (feature
//! `test-util`): it answers scripted requests, records what was sent, and checks that every
//! scripted answer was used. Give it to [`crate::SessionBuilder::http_service`].
//!
//! This is for testing code that *uses* the SDK. The SDK itself is tested against a real
//! Keystone and Glance.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::Value;

use crate::body::RequestBody;
use crate::error::BoxError;

/// A scripted stand-in for the cloud's HTTP endpoints.
///
/// Each answer is scripted with [`MockHttp::on`] for a method and a path (and, when the path
/// has a `?`, that exact query); a request takes the first unused answer that matches, so
/// the same path can answer differently the second time. A request nothing matches fails
/// with a transport error naming it, so a test never passes on an unexpected call. API
/// version discovery (`GET /`) is answered by itself (image API 2.17, identity 3.14) and
/// not recorded. Clones share the script and the record.
///
/// With `auth_type: none` (see [`crate::CloudConfig::without_auth`]) and an endpoint
/// override, no Keystone is involved:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> openstack_auth::Result<()> {
/// use http::Request;
/// use openstack_auth::{CloudConfig, MockHttp, RequestBody, Session};
///
/// let mock = MockHttp::new();
/// mock.on("GET", "/v2/images/abc").json(200, serde_json::json!({"id": "abc"}));
/// mock.on("DELETE", "/v2/images/abc").status(204);
///
/// let config = CloudConfig::without_auth("image", "http://glance.test");
/// let session = Session::builder(config).http_service(mock.clone()).build()?;
/// let get = Request::get("/v2/images/abc").body(RequestBody::empty()).unwrap();
/// let image = session.request("image", get).await?.into_body().bytes().await?;
/// assert_eq!(&image[..], br#"{"id":"abc"}"#);
///
/// let sent = mock.requests();
/// assert_eq!(sent.len(), 1);
/// assert_eq!(sent[0].path, "/v2/images/abc");
/// // The DELETE was scripted but never sent:
/// assert_eq!(mock.unused(), vec!["DELETE /v2/images/abc".to_string()]);
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct MockHttp {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<RecordedRequest>,
}

struct Rule {
    method: Method,
    path: String,
    query: Option<String>,
    repeat: bool,
    used: bool,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Rule {
    fn matches(&self, method: &Method, path: &str, query: Option<&str>) -> bool {
        (self.repeat || !self.used)
            && self.method == method
            && self.path == path
            && self.query.as_deref().is_none_or(|q| Some(q) == query)
    }

    fn name(&self) -> String {
        match &self.query {
            Some(q) => format!("{} {}?{q}", self.method, self.path),
            None => format!("{} {}", self.method, self.path),
        }
    }
}

impl fmt::Debug for MockHttp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("MockHttp")
            .field("scripted", &state.rules.iter().map(Rule::name).collect::<Vec<_>>())
            .field("seen", &state.seen.len())
            .finish()
    }
}

/// One request the mock received.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method.
    pub method: Method,
    /// The path, e.g. `/v2/images/abc`.
    pub path: String,
    /// The query string without `?`, if any.
    pub query: Option<String>,
    /// The headers as sent (the token included: this is a test).
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl RecordedRequest {
    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The value of query parameter `name` (the first one), percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_deref()?.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// An answer being scripted: finish it with [`MockAnswer::json`], [`MockAnswer::status`] or
/// [`MockAnswer::body`].
#[must_use = "an answer is scripted only by .json(..), .status(..) or .body(..)"]
#[derive(Debug)]
pub struct MockAnswer<'a> {
    mock: &'a MockHttp,
    method: Method,
    path: String,
    query: Option<String>,
    repeat: bool,
    headers: HeaderMap,
}

impl MockAnswer<'_> {
    /// Answers every matching request, not only the first.
    pub fn always(mut self) -> Self {
        self.repeat = true;
        self
    }

    /// Adds a response header.
    ///
    /// # Panics
    /// On a header name or value that is not valid HTTP (a mistake in the test itself).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = HeaderName::try_from(name).expect("a valid header name");
        self.headers.insert(name, HeaderValue::try_from(value).expect("a valid header value"));
        self
    }

    /// Answers with `status` and `body` as JSON.
    pub fn json(mut self, status: u16, body: Value) {
        self.headers
            .insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.finish(status, Bytes::from(body.to_string()));
    }

    /// Answers with `status` and no body.
    pub fn status(self, status: u16) {
        self.finish(status, Bytes::new());
    }

    /// Answers with `status` and `body` as it is.
    pub fn body(self, status: u16, body: impl Into<Bytes>) {
        self.finish(status, body.into());
    }

    fn finish(self, status: u16, body: Bytes) {
        let status = StatusCode::from_u16(status).expect("a valid HTTP status");
        self.mock.lock().rules.push(Rule {
            method: self.method,
            path: self.path,
            query: self.query,
            repeat: self.repeat,
            used: false,
            status,
            headers: self.headers,
            body,
        });
    }
}

impl MockHttp {
    /// An empty script.
    pub fn new() -> MockHttp {
        MockHttp::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Scripts an answer to `method` on `path` (`/v2/images`; with `?query`, only that exact
    /// query matches, otherwise any query does).
    ///
    /// ```
    /// use openstack_auth::MockHttp;
    /// let mock = MockHttp::new();
    /// mock.on("GET", "/v2/images/abc").json(200, serde_json::json!({"id": "abc"}));
    /// mock.on("DELETE", "/v2/images/abc").status(204);
    /// mock.on("GET", "/v2/images?limit=1").always().json(200, serde_json::json!({"images": []}));
    /// ```
    ///
    /// # Panics
    /// On a method that is not an HTTP method (a mistake in the test itself).
    pub fn on(&self, method: &str, path: &str) -> MockAnswer<'_> {
        let method = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (path.to_string(), None),
        };
        MockAnswer { mock: self, method, path, query, repeat: false, headers: HeaderMap::new() }
    }

    /// Every request received so far, in order (version discovery left out).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use openstack_auth::{CloudConfig, MockHttp, Session};
    /// let mock = MockHttp::new();
    /// mock.on("DELETE", "/v2/images/abc").status(204);
    /// let config = CloudConfig::without_auth("image", "http://glance.test");
    /// let session = Session::builder(config).http_service(mock.clone()).build()?;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let req = http::Request::delete("/v2/images/abc").body(openstack_auth::RequestBody::empty())?;
    /// session.request("image", req).await?; // the code under test would do this
    /// # Ok::<_, Box<dyn std::error::Error>>(()) })?;
    /// let sent = mock.requests();
    /// assert_eq!((sent[0].method.as_str(), sent[0].path.as_str()), ("DELETE", "/v2/images/abc"));
    /// mock.assert_all_used();
    /// # Ok(()) }
    /// ```
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().seen.clone()
    }

    /// The scripted answers no request has taken yet (those made with `always` excluded), as
    /// `METHOD /path[?query]`.
    pub fn unused(&self) -> Vec<String> {
        self.lock().rules.iter().filter(|r| !r.used && !r.repeat).map(Rule::name).collect()
    }

    /// Panics, listing them, when a scripted answer was never taken.
    ///
    /// # Panics
    /// When [`MockHttp::unused`] is not empty.
    pub fn assert_all_used(&self) {
        let unused = self.unused();
        assert!(unused.is_empty(), "scripted answers never requested: {unused:?}");
    }

    fn answer(&self, req: RecordedRequest) -> Result<Response<Full<Bytes>>, BoxError> {
        let mut state = self.lock();
        let query = req.query.as_deref();
        if let Some(rule) =
            state.rules.iter_mut().find(|r| r.matches(&req.method, &req.path, query))
        {
            rule.used = true;
            let mut resp = Response::new(Full::new(rule.body.clone()));
            *resp.status_mut() = rule.status;
            *resp.headers_mut() = rule.headers.clone();
            state.seen.push(req);
            return Ok(resp);
        }
        if req.method == Method::GET && req.path == "/" {
            let doc = serde_json::json!({"versions": [
                {"id": "v2.17", "status": "CURRENT"},
                {"id": "v3.14", "status": "CURRENT"},
            ]});
            return Ok(Response::new(Full::new(Bytes::from(doc.to_string()))));
        }
        let name = match query {
            Some(q) => format!("{} {}?{q}", req.method, req.path),
            None => format!("{} {}", req.method, req.path),
        };
        let scripted: Vec<String> = state.rules.iter().map(Rule::name).collect();
        state.seen.push(req);
        Err(format!("MockHttp: no scripted answer for {name} (scripted: {scripted:?})").into())
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl tower::Service<Request<RequestBody>> for MockHttp {
    type Response = Response<Full<Bytes>>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<RequestBody>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await?.to_bytes();
            let recorded = RecordedRequest {
                method: parts.method,
                path: parts.uri.path().to_string(),
                query: parts.uri.query().map(str::to_string),
                headers: parts.headers,
                body,
            };
            this.answer(recorded)
        })
    }
}
