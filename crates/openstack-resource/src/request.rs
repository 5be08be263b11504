//! Requests built without I/O: inspectable in unit tests, sent by the session.

use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use openstack_auth::{Error, RequestBody, Result};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use crate::patch;
use crate::resource::{Create, Delete, Get, List, Resource, Update, UpdateStrategy};

/// Characters escaped in a path segment (RFC 3986 unreserved characters are kept).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes one path segment (an id or name).
pub fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// Query parameters, in order, possibly repeated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// An empty query.
    pub fn new() -> Self {
        Query::default()
    }

    /// Adds `key=value` (repeatable).
    ///
    /// ```
    /// use openstack_resource::Query;
    /// let q = Query::new().param("tag", "a").param("tag", "b c").limit(10);
    /// assert_eq!(q.to_query_string(), "?tag=a&tag=b+c&limit=10");
    /// assert_eq!(q.get("limit"), Some("10"));
    /// ```
    #[must_use]
    pub fn param(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.pairs.push((key.into(), value.to_string()));
        self
    }

    /// Adds `key=value` when `value` is `Some`.
    #[must_use]
    pub fn opt(mut self, key: &str, value: Option<impl ToString>) -> Self {
        if let Some(v) = value {
            self.pairs.push((key.into(), v.to_string()));
        }
        self
    }

    /// Sets the page size (`limit`).
    #[must_use]
    pub fn limit(self, n: u32) -> Self {
        self.param("limit", n)
    }

    /// The pairs.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// `?a=1&b=2` (empty when there are no pairs).
    pub fn to_query_string(&self) -> String {
        if self.pairs.is_empty() {
            return String::new();
        }
        let mut s = url::form_urlencoded::Serializer::new(String::from("?"));
        for (k, v) in &self.pairs {
            s.append_pair(k, v);
        }
        s.finish().replacen("?&", "?", 1)
    }

    /// Checks the keys against `allowed` (empty: anything goes; `limit` and `marker` always
    /// pass).
    ///
    /// ```
    /// use openstack_resource::Query;
    /// let q = Query::new().param("status", "active").limit(5);
    /// assert!(q.validate("image", &["status"]).is_ok());
    /// let err = q.param("colour", "red").validate("image", &["status"]).unwrap_err();
    /// assert!(err.to_string().contains("unknown image query parameter \"colour\""));
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the unknown key and the allowed ones.
    pub fn validate(&self, kind: &str, allowed: &[&str]) -> Result<()> {
        if allowed.is_empty() {
            return Ok(());
        }
        for (k, _) in &self.pairs {
            if !allowed.contains(&k.as_str()) && k != "limit" && k != "marker" {
                return Err(Error::InvalidArgument(format!(
                    "unknown {kind} query parameter {k:?}; allowed: {}",
                    allowed.join(", ")
                )));
            }
        }
        Ok(())
    }
}

/// A request ready to send, without I/O: method, path (and query), headers, body.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PreparedRequest {
    /// The method.
    pub method: Method,
    /// Path and query relative to the service root, e.g. `/v2/images?limit=5`.
    pub path: String,
    /// Extra headers.
    pub headers: HeaderMap,
    /// A JSON body, if any.
    pub json: Option<Value>,
}

impl PreparedRequest {
    /// A request without body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        PreparedRequest { method, path: path.into(), headers: HeaderMap::new(), json: None }
    }

    /// Adds a JSON body (and `Content-Type: application/json` unless set).
    #[must_use]
    pub fn with_json(mut self, body: Value) -> Self {
        self.json = Some(body);
        self
    }

    /// Adds a header.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the name or value is not a valid header (a value
    /// with a line break, say): never dropped silently.
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Self> {
        let invalid = |what: &str| {
            Error::InvalidArgument(format!("invalid header {what} for {name:?}: {value:?}"))
        };
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid("name"))?;
        let value = HeaderValue::from_str(value).map_err(|_| invalid("value"))?;
        self.headers.insert(name, value);
        Ok(self)
    }

    /// Converts into an `http::Request` for the session.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the path is not a valid URI.
    pub fn into_http(self) -> Result<Request<RequestBody>> {
        let mut b = Request::builder().method(self.method).uri(&self.path);
        let has_ct = self.headers.contains_key(CONTENT_TYPE);
        for (k, v) in &self.headers {
            b = b.header(k, v);
        }
        let body = match self.json {
            Some(v) => {
                if !has_ct {
                    b = b.header(CONTENT_TYPE, "application/json");
                }
                RequestBody::json(&v)
            }
            None => RequestBody::empty(),
        };
        b.body(body)
            .map_err(|e| Error::InvalidArgument(format!("bad request path {:?}: {e}", self.path)))
    }
}

fn wrap<R: Resource>(v: Value) -> Value {
    match R::RESOURCE_KEY {
        Some(k) => serde_json::json!({ k: v }),
        None => v,
    }
}

/// `GET {base}/{id}`.
pub fn get<R: Get>(parent: &R::Parent, id: &str) -> PreparedRequest {
    PreparedRequest::new(Method::GET, format!("{}/{}", R::base_path(parent), encode_segment(id)))
}

/// `GET {base}?query`.
///
/// # Errors
/// [`Error::InvalidArgument`] for a query key the resource does not accept.
pub fn list<R: List>(parent: &R::Parent, query: &Query) -> Result<PreparedRequest> {
    query.validate(R::KIND, R::QUERY_PARAMETERS)?;
    Ok(PreparedRequest::new(
        Method::GET,
        format!("{}{}", R::base_path(parent), query.to_query_string()),
    ))
}

/// `POST {base}` with the creation body.
///
/// # Errors
/// [`Error::InvalidArgument`] when the body does not serialise.
pub fn create<R: Create>(parent: &R::Parent, body: &R::Create) -> Result<PreparedRequest> {
    let v = serde_json::to_value(body)
        .map_err(|e| Error::InvalidArgument(format!("cannot serialise the {}: {e}", R::KIND)))?;
    Ok(PreparedRequest::new(Method::POST, R::base_path(parent)).with_json(wrap::<R>(v)))
}

/// `DELETE {base}/{id}`.
pub fn delete<R: Delete>(parent: &R::Parent, id: &str) -> PreparedRequest {
    PreparedRequest::new(Method::DELETE, format!("{}/{}", R::base_path(parent), encode_segment(id)))
}

/// The update from `old` to `new` per [`Resource::UPDATE`]; `None` when nothing changed.
///
/// # Errors
/// [`Error::InvalidArgument`] when a read-only field was changed or the ids differ.
pub fn update<R: Update>(parent: &R::Parent, old: &R, new: &R) -> Result<Option<PreparedRequest>> {
    let ser = |r: &R| {
        serde_json::to_value(r)
            .map_err(|e| Error::InvalidArgument(format!("cannot serialise the {}: {e}", R::KIND)))
    };
    let (o, n) = (ser(old)?, ser(new)?);
    // The resource being updated is the old one: a rename (where the name is the id, as for
    // metadefs) is addressed by the old name.
    let path = format!("{}/{}", R::base_path(parent), encode_segment(old.id()));
    Ok(match R::UPDATE {
        UpdateStrategy::JsonPatch(media_type) => {
            let ops = patch::diff(&o, &n, R::READ_ONLY)?;
            if ops.is_empty() {
                return Ok(None);
            }
            Some(
                PreparedRequest::new(Method::PATCH, path)
                    .with_header("content-type", media_type)?
                    .with_json(Value::Array(ops)),
            )
        }
        UpdateStrategy::MergePatch => {
            let changes = patch::merge_changes(&o, &n, R::READ_ONLY)?;
            if changes.is_empty() {
                return Ok(None);
            }
            Some(
                PreparedRequest::new(Method::PATCH, path)
                    .with_json(wrap::<R>(Value::Object(changes))),
            )
        }
        UpdateStrategy::Put => {
            if let Some(k) = R::READ_ONLY.iter().find(|k| o.get(**k) != n.get(**k)) {
                return Err(Error::InvalidArgument(format!(
                    "{k:?} of a {} is read-only; it cannot be updated",
                    R::KIND
                )));
            }
            // Compare like with like: both without the fields the server owns.
            let (o, n) = (strip_read_only::<R>(o), strip_read_only::<R>(n));
            if o == n {
                return Ok(None);
            }
            Some(PreparedRequest::new(Method::PUT, path).with_json(wrap::<R>(n)))
        }
    })
}

fn strip_read_only<R: Resource>(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        for k in R::READ_ONLY {
            m.remove(*k);
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Thing {
        id: String,
        name: String,
        #[serde(default)]
        created_at: String,
    }
    impl Resource for Thing {
        const SERVICE_TYPE: &'static str = "test";
        const KIND: &'static str = "thing";
        const RESOURCE_KEY: Option<&'static str> = Some("thing");
        const LIST_KEY: &'static str = "things";
        const READ_ONLY: &'static [&'static str] = &["id", "created_at"];
        const QUERY_PARAMETERS: &'static [&'static str] = &["name", "status"];
        type Parent = String;
        fn base_path(parent: &String) -> String {
            format!("/v1/parents/{}/things", encode_segment(parent))
        }
        fn id(&self) -> &str {
            &self.id
        }
    }
    impl Get for Thing {}
    impl List for Thing {}
    impl Update for Thing {}
    impl Delete for Thing {}
    impl Create for Thing {
        type Create = serde_json::Value;
    }

    fn thing(name: &str) -> Thing {
        Thing { id: "a b/c".into(), name: name.into(), created_at: "t".into() }
    }

    #[test]
    fn paths_are_built_and_escaped() {
        let p = "p 1".to_string();
        assert_eq!(get::<Thing>(&p, "a b/c").path, "/v1/parents/p%201/things/a%20b%2Fc");
        assert_eq!(delete::<Thing>(&p, "x").method, Method::DELETE);
        let q = Query::new().param("name", "a&b").param("status", "active").limit(5);
        assert_eq!(
            list::<Thing>(&p, &q).unwrap().path,
            "/v1/parents/p%201/things?name=a%26b&status=active&limit=5"
        );
    }

    #[test]
    fn unknown_query_key_is_refused_before_sending() {
        let err = list::<Thing>(&"p".into(), &Query::new().param("nmae", "x")).unwrap_err();
        assert!(err.to_string().contains("\"nmae\""), "{err}");
    }

    #[test]
    fn create_wraps_in_the_resource_key() {
        let r = create::<Thing>(&"p".into(), &json!({"name": "n"})).unwrap();
        assert_eq!(r.method, Method::POST);
        assert_eq!(r.json, Some(json!({"thing": {"name": "n"}})));
        let http = r.into_http().unwrap();
        assert_eq!(http.headers()["content-type"], "application/json");
    }

    #[test]
    fn merge_update_sends_only_changes_and_nothing_when_unchanged() {
        let r = update::<Thing>(&"p".into(), &thing("a"), &thing("b")).unwrap().unwrap();
        assert_eq!(r.method, Method::PATCH);
        assert_eq!(r.json, Some(json!({"thing": {"name": "b"}})));
        assert!(update::<Thing>(&"p".into(), &thing("a"), &thing("a")).unwrap().is_none());
        let mut other = thing("a");
        other.id = "zzz".into();
        assert!(update::<Thing>(&"p".into(), &thing("a"), &other).is_err(), "id is read-only");
    }

    /// [`Thing`] with another update strategy.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Other<const PUT: bool>(Thing);
    impl<const PUT: bool> Resource for Other<PUT> {
        const SERVICE_TYPE: &'static str = "test";
        const KIND: &'static str = "thing";
        const RESOURCE_KEY: Option<&'static str> = None;
        const LIST_KEY: &'static str = "things";
        const READ_ONLY: &'static [&'static str] = &["id", "created_at"];
        const UPDATE: UpdateStrategy = if PUT {
            UpdateStrategy::Put
        } else {
            UpdateStrategy::JsonPatch("application/openstack-images-v2.1-json-patch")
        };
        type Parent = String;
        fn base_path(parent: &String) -> String {
            Thing::base_path(parent)
        }
        fn id(&self) -> &str {
            &self.0.id
        }
    }
    impl<const PUT: bool> Update for Other<PUT> {}

    #[test]
    fn put_update_sends_the_whole_resource_without_what_the_server_owns() {
        let (a, b) = (Other::<true>(thing("a")), Other::<true>(thing("b")));
        let r = update(&"p".into(), &a, &b).unwrap().expect("a change");
        assert_eq!(r.method, Method::PUT);
        assert_eq!(r.path, "/v1/parents/p/things/a%20b%2Fc");
        assert_eq!(r.json, Some(json!({"name": "b"})), "no id, no created_at");
        assert!(update(&"p".into(), &a, &a.clone()).unwrap().is_none(), "nothing changed");
        let mut touched = a.clone();
        touched.0.created_at = "later".into();
        let err = update(&"p".into(), &a, &touched).unwrap_err();
        assert!(err.to_string().contains("\"created_at\" of a thing is read-only"), "{err}");
    }

    #[test]
    fn json_patch_update_carries_its_media_type() {
        let (a, b) = (Other::<false>(thing("a")), Other::<false>(thing("b")));
        let r = update(&"p".into(), &a, &b).unwrap().expect("a change");
        assert_eq!(r.method, Method::PATCH);
        assert_eq!(r.json, Some(json!([{"op": "replace", "path": "/name", "value": "b"}])));
        let http = r.into_http().unwrap();
        assert_eq!(http.headers()["content-type"], "application/openstack-images-v2.1-json-patch");
        assert!(update(&"p".into(), &a, &a.clone()).unwrap().is_none());
    }

    #[test]
    fn invalid_header_values_are_errors() {
        let r = PreparedRequest::new(Method::GET, "/x");
        assert!(r.clone().with_header("x-ok", "v").is_ok());
        let err = r.clone().with_header("x-bad", "a\r\nb").unwrap_err();
        assert!(err.to_string().contains("x-bad"), "{err}");
        assert!(r.with_header("bad name", "v").is_err());
    }

    #[test]
    fn query_string_helpers() {
        assert_eq!(Query::new().to_query_string(), "");
        let q = Query::new()
            .opt("a", Some(1))
            .opt("b", None::<u32>)
            .param("tag", "x")
            .param("tag", "y");
        assert_eq!(q.to_query_string(), "?a=1&tag=x&tag=y");
        assert_eq!(q.get("tag"), Some("x"));
        let pairs: Vec<(&str, &str)> =
            q.pairs().iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(pairs, [("a", "1"), ("tag", "x"), ("tag", "y")]);
    }
}
