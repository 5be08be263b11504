//! HTTP proxies: which one a session uses, and for which URLs.
//!
//! The rules (which variable, which destinations bypass the proxy) come from hyper-util's
//! proxy matcher; this module reads the variables in the order curl and Python requests
//! (and so `openstack`) do, and refuses a value it cannot use instead of ignoring it.

use std::fmt;
use std::sync::Arc;

use http::{HeaderValue, Uri};
use hyper_util::client::proxy::matcher::Matcher;

use crate::config::{Environment, SystemEnvironment};
use crate::error::{Error, Result};

/// Which HTTP proxy a session goes through, and which hosts bypass it.
///
/// The default, [`Proxy::from_env`], reads the variables curl and Python requests (and so
/// `openstack`) read: `https_proxy` for `https://` URLs, `http_proxy` for `http://` URLs,
/// `all_proxy` for both when the specific one is not set, and `no_proxy` for the hosts that
/// bypass the proxy. The lower-case name wins over the upper-case one (`HTTPS_PROXY`, ...);
/// an empty value counts as unset. As in requests, `HTTP_PROXY` in upper case is ignored when
/// `REQUEST_METHOD` is set (a CGI script, where it could come from a request header).
///
/// `no_proxy` is a comma-separated list of host names (matching the host and its
/// subdomains: `example.com` and `.example.com` both match `glance.example.com`), IP
/// addresses, CIDR networks (`10.0.0.0/8`), or `*` for every host.
///
/// Requests to `https://` URLs go through a `CONNECT` tunnel, so TLS stays end to end; those
/// to `http://` URLs are forwarded by the proxy. A user and password in the proxy URL
/// (`http://user:password@proxy:3128`, percent-encoded) are sent as `Proxy-Authorization:
/// Basic`; they never appear in `Debug` output, errors or logs. The proxy itself is reached
/// over plain HTTP: `https://` and `socks5://` proxy URLs are refused when the session is
/// built.
///
/// ```
/// use openstack_auth::{Proxy, StaticEnvironment};
///
/// let env = StaticEnvironment::default()
///     .var("HTTPS_PROXY", "http://alice:s3cret@proxy.corp:3128")
///     .var("no_proxy", "localhost,.internal,10.0.0.0/8");
/// let proxy = Proxy::from_environment(&env);
/// assert_eq!(
///     proxy.proxy_for("https://glance.example.com/v2/images")?.as_deref(),
///     Some("http://alice:***@proxy.corp:3128")
/// );
/// assert_eq!(proxy.proxy_for("https://glance.internal/v2/images")?, None);
/// assert_eq!(proxy.proxy_for("https://10.1.2.3:9292/")?, None);
/// // No `http_proxy`: plain http goes direct.
/// assert_eq!(proxy.proxy_for("http://keystone.example.com/v3")?, None);
/// assert!(!format!("{proxy:?}").contains("s3cret"));
/// # Ok::<(), openstack_auth::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Proxy {
    http: Option<Setting>,
    https: Option<Setting>,
    no_proxy: Option<Setting>,
}

/// One value and where it came from (a variable's name, or the call that set it).
#[derive(Clone, PartialEq, Eq)]
struct Setting {
    value: String,
    from: &'static str,
}

impl Setting {
    fn new(value: String, from: &'static str) -> Option<Setting> {
        let value = value.trim().to_string();
        (!value.is_empty()).then_some(Setting { value, from })
    }
}

impl Proxy {
    /// The proxy the process environment asks for (see the type's documentation); no proxy
    /// when none of the variables is set. This is the session's default.
    pub fn from_env() -> Proxy {
        Proxy::from_environment(&SystemEnvironment)
    }

    /// The proxy `env` asks for, read now (for tests: see [`crate::StaticEnvironment`]).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use openstack_auth::{Proxy, StaticEnvironment};
    /// let env = StaticEnvironment::default()
    ///     .var("HTTPS_PROXY", "http://proxy.corp:3128")
    ///     .var("no_proxy", "localhost,.internal.corp");
    /// let proxy = Proxy::from_environment(&env);
    /// assert_eq!(proxy.proxy_for("https://glance.example.com")?.as_deref(), Some("http://proxy.corp:3128"));
    /// assert_eq!(proxy.proxy_for("https://keystone.internal.corp")?, None);
    /// # Ok(()) }
    /// ```
    pub fn from_environment(env: &impl Environment) -> Proxy {
        let first = |names: &[&'static str]| {
            names.iter().find_map(|&n| env.var(n).and_then(|v| Setting::new(v, n)))
        };
        let cgi = env.var("REQUEST_METHOD").is_some();
        let http_names: &[&'static str] =
            if cgi { &["http_proxy"] } else { &["http_proxy", "HTTP_PROXY"] };
        let all = first(&["all_proxy", "ALL_PROXY"]);
        Proxy {
            http: first(http_names).or_else(|| all.clone()),
            https: first(&["https_proxy", "HTTPS_PROXY"]).or(all),
            no_proxy: first(&["no_proxy", "NO_PROXY"]),
        }
    }

    /// No proxy at all, whatever the environment says.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use openstack_auth::{Proxy, Session};
    /// # let config = openstack_auth::CloudConfig::from_cloud("mycloud")?;
    /// let session = Session::builder(config).proxy(Proxy::none()).build()?;
    /// # Ok(()) }
    /// ```
    pub fn none() -> Proxy {
        Proxy::default()
    }

    /// `url` for every request (`http://` and `https://` URLs), ignoring the environment.
    /// Refine it with [`Proxy::no_proxy`].
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use openstack_auth::Proxy;
    /// // The password is sent to the proxy, never printed.
    /// let proxy = Proxy::url("http://me:s3cret@proxy.corp:3128").no_proxy("10.0.0.0/8");
    /// assert_eq!(proxy.proxy_for("https://glance.example.com")?.as_deref(), Some("http://me:***@proxy.corp:3128"));
    /// assert_eq!(proxy.proxy_for("http://10.1.2.3:9292")?, None);
    /// assert!(!format!("{proxy:?}").contains("s3cret"));
    /// # Ok(()) }
    /// ```
    pub fn url(url: impl Into<String>) -> Proxy {
        let url = url.into();
        Proxy {
            http: Setting::new(url.clone(), "Proxy::url"),
            https: Setting::new(url, "Proxy::url"),
            no_proxy: None,
        }
    }

    /// Uses `url` for `http://` URLs (like `http_proxy`).
    #[must_use]
    pub fn http(mut self, url: impl Into<String>) -> Proxy {
        self.http = Setting::new(url.into(), "Proxy::http");
        self
    }

    /// Uses `url` for `https://` URLs (like `https_proxy`).
    #[must_use]
    pub fn https(mut self, url: impl Into<String>) -> Proxy {
        self.https = Setting::new(url.into(), "Proxy::https");
        self
    }

    /// The hosts that bypass the proxy, in `no_proxy`'s syntax (replaces any list before).
    #[must_use]
    pub fn no_proxy(mut self, list: impl Into<String>) -> Proxy {
        self.no_proxy = Setting::new(list.into(), "Proxy::no_proxy");
        self
    }

    /// The proxy a request to `url` would go through (its password shown as `***`), or
    /// `None` when it goes direct.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use openstack_auth::Proxy;
    /// let proxy = Proxy::none().https("http://proxy.corp:3128");
    /// assert!(proxy.proxy_for("https://glance.example.com")?.is_some());
    /// assert!(proxy.proxy_for("http://glance.example.com")?.is_none()); // no http proxy set
    /// assert!(Proxy::url("socks5://proxy.corp").proxy_for("https://x").is_err());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a proxy URL that cannot be used (the same check the
    /// session's `build` makes) or a `url` that is not a URL.
    pub fn proxy_for(&self, url: &str) -> Result<Option<String>> {
        let dst: Uri = url
            .parse()
            .map_err(|e| Error::InvalidArgument(format!("{url:?} is not a URL: {e}")))?;
        Ok(self.routes()?.and_then(|r| r.route(&dst)).map(|r| r.shown.to_string()))
    }

    /// Checks the settings and builds the matcher; `None` when no proxy is set.
    pub(crate) fn routes(&self) -> Result<Option<Routes>> {
        let http = self.http.as_ref().map(ProxyUrl::parse).transpose()?;
        let https = self.https.as_ref().map(ProxyUrl::parse).transpose()?;
        if http.is_none() && https.is_none() {
            return Ok(None);
        }
        let mut m = Matcher::builder();
        if let Some(p) = &http {
            m = m.http(p.full.clone());
        }
        if let Some(p) = &https {
            m = m.https(p.full.clone());
        }
        if let Some(no) = &self.no_proxy {
            m = m.no(no.value.clone());
        }
        Ok(Some(Routes {
            matcher: m.build(),
            http: http.map(|p| p.shown),
            https: https.map(|p| p.shown),
        }))
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |s: &Option<Setting>| {
            s.as_ref().map(|s| format!("{} (from {})", redact(&s.value), s.from))
        };
        f.debug_struct("Proxy")
            .field("http", &show(&self.http))
            .field("https", &show(&self.https))
            .field("no_proxy", &self.no_proxy.as_ref().map(|s| s.value.as_str()))
            .finish()
    }
}

/// A checked proxy URL.
struct ProxyUrl {
    /// With the credentials, for the matcher.
    full: String,
    /// With the password as `***`, for messages.
    shown: Arc<str>,
}

impl ProxyUrl {
    fn parse(s: &Setting) -> Result<ProxyUrl> {
        let bad = |why: &str| {
            Error::InvalidArgument(format!(
                "{}={:?} cannot be used as a proxy: {why}; expected http://[user:password@]host[:port]",
                s.from,
                redact(&s.value)
            ))
        };
        // curl and requests take `host:port` as `http://host:port`.
        let text =
            if s.value.contains("://") { s.value.clone() } else { format!("http://{}", s.value) };
        let url = url::Url::parse(&text).map_err(|e| bad(&e.to_string()))?;
        match url.scheme() {
            "http" => {}
            "https" => {
                return Err(bad(
                    "a proxy reached over TLS (https://) is not supported; https:// requests \
                     still go through an http:// proxy encrypted end to end",
                ));
            }
            s if s.starts_with("socks") => return Err(bad("SOCKS proxies are not supported")),
            other => return Err(bad(&format!("unknown scheme {other:?}"))),
        }
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("no host"))?;
        if url.path() != "/" && !url.path().is_empty() || url.query().is_some() {
            return Err(bad("a proxy URL has no path or query"));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let creds = match (url.username(), url.password()) {
            ("", None) => String::new(),
            (user, Some(pass)) => format!("{user}:{pass}@"),
            (user, None) => format!("{user}@"),
        };
        let full = format!("http://{creds}{host}:{port}");
        let shown = redact(&full).into();
        // What the matcher would silently drop, refuse here.
        if full.parse::<Uri>().is_err() {
            return Err(bad("not a valid URI"));
        }
        Ok(ProxyUrl { full, shown })
    }
}

/// `scheme://user:***@host...`: a URL with its password hidden.
pub(crate) fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let prefix = if scheme.is_empty() { String::new() } else { format!("{scheme}://") };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{prefix}{user}{hidden}{}", &rest[at..])
        }
        None => url.to_string(),
    }
}

/// The checked proxy settings of a session.
pub(crate) struct Routes {
    matcher: Matcher,
    http: Option<Arc<str>>,
    https: Option<Arc<str>>,
}

/// Where one request goes.
#[derive(Clone)]
pub(crate) struct Route {
    /// The proxy's `http://host:port/`.
    pub(crate) uri: Uri,
    /// `Proxy-Authorization`, when the URL had a user.
    pub(crate) auth: Option<HeaderValue>,
    /// The proxy URL for messages (password hidden).
    pub(crate) shown: Arc<str>,
}

impl Routes {
    /// The proxy for `dst`, or `None` to go direct.
    pub(crate) fn route(&self, dst: &Uri) -> Option<Route> {
        let i = self.matcher.intercept(dst)?;
        let https = dst.scheme() == Some(&http::uri::Scheme::HTTPS);
        let shown = if https { self.https.clone() } else { self.http.clone() }
            .unwrap_or_else(|| i.uri().to_string().into());
        Some(Route { uri: i.uri().clone(), auth: i.basic_auth().cloned(), shown })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StaticEnvironment;

    fn via(env: &StaticEnvironment, url: &str) -> Option<String> {
        Proxy::from_environment(env).proxy_for(url).unwrap()
    }

    #[test]
    fn lower_case_wins_and_all_proxy_is_the_fallback() {
        let env = StaticEnvironment::default()
            .var("HTTPS_PROXY", "http://upper:1")
            .var("https_proxy", "http://lower:2")
            .var("ALL_PROXY", "http://all:3");
        assert_eq!(via(&env, "https://h/").as_deref(), Some("http://lower:2"));
        assert_eq!(via(&env, "http://h/").as_deref(), Some("http://all:3"));
        let env = StaticEnvironment::default().var("HTTP_PROXY", "upper:8080");
        assert_eq!(via(&env, "http://h/").as_deref(), Some("http://upper:8080"));
        assert_eq!(via(&env, "https://h/"), None);
    }

    #[test]
    fn cgi_ignores_upper_case_http_proxy() {
        let env = StaticEnvironment::default()
            .var("REQUEST_METHOD", "GET")
            .var("HTTP_PROXY", "http://from-a-header:1");
        assert_eq!(via(&env, "http://h/"), None);
        let env = env.var("http_proxy", "http://p:2");
        assert_eq!(via(&env, "http://h/").as_deref(), Some("http://p:2"));
    }

    #[test]
    fn no_proxy_matches_like_curl() {
        let env = StaticEnvironment::default()
            .var("https_proxy", "http://p:3128")
            .var("NO_PROXY", "example.com, .internal,192.168.0.0/16,10.1.2.3,::1");
        for direct in [
            "https://example.com/",
            "https://glance.example.com:9292/v2",
            "https://a.b.internal/",
            "https://192.168.4.5/",
            "https://10.1.2.3:9292/",
            "https://[::1]:9292/",
        ] {
            assert_eq!(via(&env, direct), None, "{direct}");
        }
        for proxied in ["https://notexample.com/", "https://10.1.2.4/", "https://internal.org/"] {
            assert_eq!(via(&env, proxied).as_deref(), Some("http://p:3128"), "{proxied}");
        }
        let star = env.var("no_proxy", "*");
        assert_eq!(via(&star, "https://anything/"), None);
    }

    #[test]
    fn explicit_settings_ignore_the_environment() {
        let p = Proxy::url("http://p:1").no_proxy("keystone.local");
        assert_eq!(p.proxy_for("http://glance.local/").unwrap().as_deref(), Some("http://p:1"));
        assert_eq!(p.proxy_for("https://keystone.local/").unwrap(), None);
        let p = Proxy::none().https("http://s:2");
        assert_eq!(p.proxy_for("http://glance.local/").unwrap(), None);
        assert_eq!(Proxy::none().proxy_for("https://x/").unwrap(), None);
    }

    #[test]
    fn unusable_urls_are_refused_naming_the_variable_without_the_password() {
        for (value, why) in [
            ("https://u:topsecret@p:3128", "https://"),
            ("socks5://u:topsecret@p:1080", "SOCKS"),
            ("ftp://u:topsecret@p", "unknown scheme"),
            ("http://u:topsecret@p:3128/some/path", "no path"),
            ("http://u:topsecret@:3128", "cannot be used"),
        ] {
            let env = StaticEnvironment::default().var("HTTPS_PROXY", value);
            let e = Proxy::from_environment(&env).proxy_for("https://h/").unwrap_err();
            let text = e.to_string();
            assert!(matches!(e, Error::InvalidArgument(_)), "{text}");
            assert!(text.contains("HTTPS_PROXY=") && text.contains(why), "{value}: {text}");
            assert!(!text.contains("topsecret"), "{text}");
        }
    }

    #[test]
    fn credentials_become_basic_auth_and_stay_hidden() {
        let p = Proxy::url("http://al%40ice:pa%3Ass@p:3128");
        let routes = p.routes().unwrap().unwrap();
        let r = routes.route(&"https://h/".parse().unwrap()).unwrap();
        // base64("al@ice:pa:ss")
        assert_eq!(r.auth.unwrap(), "Basic YWxAaWNlOnBhOnNz");
        assert_eq!(&*r.shown, "http://al%40ice:***@p:3128");
        assert!(!format!("{p:?}").contains("pa%3Ass"), "{p:?}");
        assert_eq!(redact("http://user@p:1"), "http://user@p:1");
        assert_eq!(redact("p:1"), "p:1");
    }

    #[test]
    fn default_ports_are_filled_in() {
        let p = Proxy::url("proxy.corp");
        assert_eq!(p.proxy_for("https://h/").unwrap().as_deref(), Some("http://proxy.corp:80"));
    }
}
