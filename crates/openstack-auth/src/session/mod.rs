//! The authenticated HTTP session: one cheap-to-clone client per cloud.
//!
//! A [`Session`] owns a tower stack over hyper-util's pooled client with rustls
//! (`auth → default headers → retry → hyper`, see the `transport` module), the token cache
//! (refreshed two minutes, or a quarter of its lifetime, before expiry; single-flight), and the resolved endpoints (catalog
//! + version discovery). Error statuses become [`Error`] kinds in one place.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Request, Response, Uri};
use tower::ServiceExt;
use tracing::Instrument;

use crate::body::{RequestBody, ResponseBody};
use crate::config::{AuthType, CloudConfig, Interface};
use crate::discovery::{ApiVersion, default_major, discovery_fatal, offered_versions};
use crate::error::{Error, Result};
use crate::identity::{Token, identity_root, strip_version_suffix, token_request_body};
use crate::retry::RetryPolicy;
use crate::transport::{CurrentToken, RetryBudget, TokenSource, Transport};

/// Header carrying the token.
mod builder;

pub use builder::SessionBuilder;

/// A service's resolved endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceEndpoint {
    /// The service type.
    pub service_type: String,
    /// The unversioned root URL (no trailing slash), e.g. `http://127.0.0.1:9292`.
    /// Resource paths (`/v2/images`) are joined to it.
    pub root: String,
    /// The URL the catalog (or override) gave.
    pub catalog_url: String,
    /// The highest version of the wanted major the server offers, if discovery worked, or
    /// the version the configuration pins when that is lower.
    pub version: Option<ApiVersion>,
    /// Whether `version` is the configuration's pin (`image_api_version: '2.5'`,
    /// `--os-image-api-version 2.5`) rather than the server's own highest.
    pub pinned: bool,
    /// Every version of the wanted major the server lists (empty when discovery found no
    /// document). Glance's list has gaps: it lists the multi-store versions (2.8 to 2.13)
    /// only with several stores configured, the cache versions (2.14, 2.16, 2.18) only with
    /// a cache.
    pub offered: Vec<ApiVersion>,
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
                needs_version: needed,
                available: v,
                pinned: self.pinned,
                feature: None,
            }),
            _ => Ok(()),
        }
    }

    /// As [`ServiceEndpoint::require`], and moreover the server must list `needed` itself:
    /// for what a server offers only when it is configured for it (`feature`, e.g. Glance's
    /// "multiple stores" at 2.8, "the image cache" at 2.14), where a newer version alone
    /// says nothing. Allowed when discovery found no document.
    ///
    /// # Errors
    /// [`Error::Unsupported`] naming the feature.
    pub fn require_offered(&self, what: &str, needed: ApiVersion, feature: &str) -> Result<()> {
        self.require(what, needed)?;
        match self.version {
            Some(v) if !self.offered.is_empty() && !self.offered.contains(&needed) => {
                Err(Error::Unsupported {
                    what: what.into(),
                    needs_version: needed,
                    available: v,
                    pinned: false,
                    feature: Some(feature.into()),
                })
            }
            _ => Ok(()),
        }
    }
}

struct Inner {
    config: CloudConfig,
    retry: Option<RetryPolicy>,
    tokens: Arc<Tokens>,
    /// `headers → retry → hyper`, for Keystone itself and version discovery.
    base: Transport,
    /// `auth → headers → retry → hyper`, for everything else.
    authed: Transport,
    endpoints: Mutex<HashMap<String, Arc<ServiceEndpoint>>>,
}

/// The token cache behind the auth layer.
struct Tokens {
    config: CloudConfig,
    base: Transport,
    token: tokio::sync::Mutex<Option<Arc<Token>>>,
    auth_count: AtomicU64,
}

impl Tokens {
    /// The cached token, or a new one (single-flight: the lock is held while authenticating).
    async fn get(&self) -> Result<Option<Arc<Token>>> {
        match self.config.auth_type {
            AuthType::None | AuthType::AdminToken => return Ok(None),
            _ => {}
        }
        let mut guard = self.token.lock().await;
        if let Some(t) = guard.as_ref() {
            if t.valid_for(t.refresh_margin(EXPIRY_MARGIN)) {
                return Ok(Some(t.clone()));
            }
        }
        let token = Arc::new(self.authenticate().await?);
        *guard = Some(token.clone());
        Ok(Some(token))
    }

    async fn authenticate(&self) -> Result<Token> {
        let cfg = &self.config;
        let auth_url = cfg.auth.auth_url.as_deref().unwrap_or_default();
        let url = format!("{}/v3/auth/tokens", identity_root(auth_url));
        let body = token_request_body(cfg)?;
        self.auth_count.fetch_add(1, Ordering::Relaxed);
        let req = Request::post(&url)
            .header(CONTENT_TYPE, "application/json")
            .body(RequestBody::json(&body))
            .map_err(|e| Error::InvalidArgument(format!("bad auth_url {auth_url:?}: {e}")))?;
        let resp = self
            .base
            .clone()
            .oneshot(req)
            .instrument(tracing::debug_span!("openstack.auth", cloud = %cfg.name, auth_type = ?cfg.auth_type))
            .await
            .map_err(|f| f.error)?;
        let subject = resp
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| Error::decode(&url, "Keystone sent no X-Subject-Token header"))?;
        let body = resp.into_body().bytes().await?;
        let token = Token::parse(&url, &subject, &body)?;
        tracing::debug!(user = %token.user_id, scope = ?token.scope, "authenticated");
        Ok(token)
    }
}

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl TokenSource for Tokens {
    fn current(self: Arc<Self>) -> BoxFuture<Result<CurrentToken>> {
        Box::pin(async move {
            let Some(t) = self.get().await? else { return Ok(None) };
            let value = HeaderValue::from_str(t.value.expose())
                .map_err(|_| Error::decode("token", "the token is not a valid header value"))?;
            Ok(Some((t, value)))
        })
    }

    fn static_token(&self) -> Option<HeaderValue> {
        match self.config.auth_type {
            AuthType::AdminToken => {
                self.config.auth.token.as_ref().and_then(|t| HeaderValue::from_str(t.expose()).ok())
            }
            _ => None,
        }
    }

    fn invalidate(self: Arc<Self>, token: Arc<Token>) -> BoxFuture<()> {
        Box::pin(async move {
            let mut guard = self.token.lock().await;
            if guard.as_ref().is_some_and(|t| Arc::ptr_eq(t, &token)) {
                *guard = None;
            }
        })
    }
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

/// Refresh a token this long before it expires (at most; see [`Token::refresh_margin`]).
const EXPIRY_MARGIN: Duration = Duration::from_secs(120);

impl Session {
    /// A builder for `config`.
    pub fn builder(config: CloudConfig) -> SessionBuilder {
        SessionBuilder::new(config)
    }

    /// A session with default settings. Nothing is sent until the first request.
    ///
    /// ```
    /// use openstack_auth::{CloudConfig, Session};
    /// let session = Session::new(CloudConfig::without_auth("image", "http://glance.example:9292"))?;
    /// assert_eq!(session.config().endpoint_overrides["image"], "http://glance.example:9292");
    /// # Ok::<(), openstack_auth::Error>(())
    /// ```
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
        self.inner.tokens.auth_count.load(Ordering::Relaxed)
    }

    /// The current token, authenticating (once, for all concurrent callers) when there is
    /// none or it expires within two minutes (a quarter of its lifetime for short-lived tokens). `None` for the `none` auth type.
    ///
    /// # Errors
    /// [`Error::Unauthorized`] with Keystone's message for wrong credentials, and transport
    /// errors.
    pub async fn token(&self) -> Result<Option<Arc<Token>>> {
        self.inner.tokens.get().await
    }

    /// The token held now, if any, without authenticating (unlike [`Session::token`]).
    pub async fn current_token(&self) -> Option<Arc<Token>> {
        self.inner.tokens.token.lock().await.clone()
    }

    /// Forgets the cached token so the next request authenticates again.
    pub async fn invalidate_token(&self) {
        *self.inner.tokens.token.lock().await = None;
    }

    /// Replaces the cached token: one kept from an earlier run (a command line's token cache;
    /// a token Keystone no longer accepts costs one 401 and a new authentication), or one
    /// known to be revoked, in tests.
    pub async fn set_token(&self, token: Token) {
        *self.inner.tokens.token.lock().await = Some(Arc::new(token));
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
            token.catalog.find_endpoint(service_type, cfg.interface, cfg.region_name.as_deref())?
        };
        let root = strip_version_suffix(&catalog_url);
        let configured = cfg.api_versions.get(service_type);
        let wanted = configured.and_then(|v| ApiVersion::parse(v));
        let major = wanted.map_or_else(|| default_major(service_type), |v| v.major);
        // A discovery that could not reach the service fails the call (and is tried again
        // by the next one): caching "no version" would switch version checks off for good.
        let offered = self.discover(&root, major).await?;
        let discovered = offered.last().copied();
        // `image_api_version: '2.5'` (a minor given) caps the version used, as
        // `--os-image-api-version 2.5` does in openstackclient: calls that need more are
        // refused before anything is sent. A bare major (`'2'`) only picks the major.
        let cap = wanted.filter(|_| configured.is_some_and(|v| v.contains('.')));
        let (version, pinned) = match (discovered, cap) {
            (Some(d), Some(c)) => (Some(d.min(c)), c < d),
            (None, Some(c)) => (Some(c), true),
            (d, None) => (d, false),
        };
        let ep = Arc::new(ServiceEndpoint {
            service_type: service_type.into(),
            root,
            catalog_url,
            version,
            pinned,
            offered,
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

    /// The highest `v{major}.x` the service's root document lists. `Ok(None)` when the
    /// root has no usable document (some deployments do not publish one: versions are not
    /// checked then); an error when the service could not be reached or answered 5xx (after
    /// the retries), so that the endpoint is not cached without its version.
    async fn discover(&self, root: &str, major: u32) -> Result<Vec<ApiVersion>> {
        let url = format!("{root}/");
        let Ok(req) = Request::get(&url).body(RequestBody::empty()) else { return Ok(Vec::new()) };
        // The versions document may come with 200 or 300; 300 is not an error here.
        let resp = match self.inner.base.clone().oneshot(req).await.map_err(|f| f.error) {
            Ok(r) => r,
            Err(e) if discovery_fatal(&e) => return Err(e),
            Err(e) => {
                tracing::debug!(%url, error = %e, "no version document; versions are not checked");
                return Ok(Vec::new());
            }
        };
        let Ok(body) = resp.into_body().bytes().await else { return Ok(Vec::new()) };
        let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&body) else {
            return Ok(Vec::new());
        };
        Ok(offered_versions(&doc, major))
    }

    /// Sends `req` to `service_type`: its URI is a path (and query) joined to the service's
    /// root, e.g. `/v2/images?limit=10`. Adds the token, `Accept: application/json` (unless
    /// set) and the user agent; retries replayable requests; re-authenticates once on 401.
    /// Error statuses become [`Error`] kinds carrying the server's message and request id.
    ///
    /// ```no_run
    /// # async fn demo(session: openstack_auth::Session) -> openstack_auth::Result<()> {
    /// use http::Request;
    /// use openstack_auth::{RequestBody, read_json};
    /// let req = Request::get("/v2/images?limit=1").body(RequestBody::empty()).unwrap();
    /// let page: serde_json::Value = read_json(session.request("image", req).await?).await?;
    /// # let _ = page; Ok(()) }
    /// ```
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
        // Per-service retry budget from the cloud (`<service>_status_code_retries`), unless
        // the session was given an explicit policy.
        if self.inner.retry.is_none() {
            if let Some(n) = self.inner.config.status_code_retries.get(service_type) {
                parts.extensions.insert(RetryBudget(*n));
            }
        }
        let req = Request::from_parts(parts, body);
        let span = tracing::debug_span!("openstack.request", service = service_type, method = %req.method(), url = %url);
        self.inner.authed.clone().oneshot(req).instrument(span).await.map_err(|f| f.error)
    }
}

/// Reads a JSON response body.
///
/// # Errors
/// [`Error::Decode`] naming the URL when the body is not the expected JSON.
pub async fn read_json<T: serde::de::DeserializeOwned>(resp: Response<ResponseBody>) -> Result<T> {
    let body = resp.into_body();
    let url = body.url().to_string();
    let bytes = body.bytes().await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        tracing::debug!(
            %url,
            body_start = %String::from_utf8_lossy(&bytes[..bytes.len().min(200)]),
            "response is not the expected JSON"
        );
        Error::decode(url, e)
    })
}
