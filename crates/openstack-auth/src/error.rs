//! The SDK's error type, organised by kind.
//!
//! Every layer above (`openstack-resource`, `openstack-image`, the facade) reports
//! [`Error`], so users match on one enum. HTTP statuses are mapped to kinds in exactly one
//! place, [`Error::from_response_parts`].

use std::fmt;
use std::time::Duration;

use http::{Method, StatusCode};

/// What the server said when a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The request's method.
    pub method: Method,
    /// The request's URL (without query secrets; OpenStack puts none there).
    pub url: String,
    /// The HTTP status.
    pub status: StatusCode,
    /// The server's message, parsed from its JSON or HTML error body.
    pub message: String,
    /// The `x-openstack-request-id` (or `x-compute-request-id`) header, if any.
    pub request_id: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} returned {}", self.method, self.url, self.status.as_u16())?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// A configuration problem: which cloud, which file, which key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No clouds.yaml was found and none was named.
    #[error(
        "no clouds.yaml found (searched {searched}); set OS_CLIENT_CONFIG_FILE or use OS_* variables"
    )]
    NoConfigFile {
        /// The places that were searched.
        searched: String,
    },
    /// A file could not be read or parsed.
    #[error("cannot read {file}: {message}")]
    Malformed {
        /// The file.
        file: String,
        /// What was wrong.
        message: String,
    },
    /// The named cloud is not in the file.
    #[error("cloud {cloud:?} not found in {file} (it has: {available})")]
    CloudNotFound {
        /// The cloud asked for.
        cloud: String,
        /// The file searched.
        file: String,
        /// The clouds the file has.
        available: String,
    },
    /// A required key is missing.
    #[error("cloud {cloud:?} in {file}: missing {key}")]
    MissingKey {
        /// The cloud.
        cloud: String,
        /// Where the cloud came from (a file, or `environment`).
        file: String,
        /// The missing key (e.g. `auth.auth_url`).
        key: String,
    },
    /// A key has a value that cannot be used.
    #[error("cloud {cloud:?} in {file}: {key}: {message}")]
    InvalidValue {
        /// The cloud.
        cloud: String,
        /// Where the cloud came from.
        file: String,
        /// The key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

/// The SDK's error, by kind. Match on the variant; [`Error::api`] gives the server's details.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 400: the server rejected the request.
    #[error("bad request: {0}")]
    BadRequest(Box<ApiError>),
    /// 401: authentication failed or the token is no longer valid.
    #[error("unauthorized: {0}")]
    Unauthorized(Box<ApiError>),
    /// 403: the policy forbids the call.
    #[error("forbidden: {0}")]
    Forbidden(Box<ApiError>),
    /// 404: the resource (or URL) does not exist.
    #[error("not found: {0}")]
    NotFound(Box<ApiError>),
    /// 409: the request conflicts with the resource's state.
    #[error("conflict: {0}")]
    Conflict(Box<ApiError>),
    /// 413: the body is too large (or a quota is exceeded).
    #[error("request entity too large: {0}")]
    RequestEntityTooLarge(Box<ApiError>),
    /// 503 (after retries): the service is unavailable.
    #[error("service unavailable: {0}")]
    ServiceUnavailable(Box<ApiError>),
    /// Any other non-success HTTP status.
    #[error("http error: {0}")]
    Http(Box<ApiError>),
    /// A lookup by name found nothing (no HTTP 404 involved).
    #[error("no {kind} named or with id {name:?}")]
    ResourceNotFound {
        /// The kind of resource (e.g. `image`).
        kind: &'static str,
        /// The name or id searched for.
        name: String,
    },
    /// A lookup by name matched several resources; the caller must choose by id.
    #[error("{kind} name {name:?} is ambiguous: {} matches ({})", matches.len(), matches.join(", "))]
    Ambiguous {
        /// The kind of resource.
        kind: &'static str,
        /// The name searched for.
        name: String,
        /// The ids of all matches.
        matches: Vec<String>,
    },
    /// No endpoint in the catalog matches the wanted service / interface / region.
    #[error(
        "no {service_type} endpoint for interface {interface} in region {region}; the catalog has: {available}"
    )]
    EndpointNotFound {
        /// The service type asked for.
        service_type: String,
        /// The interface asked for.
        interface: String,
        /// The region asked for (`any` if none).
        region: String,
        /// What the catalog offers.
        available: String,
    },
    /// The call needs a newer API version than the server offers.
    #[error("{what} needs API version {needs_version} but the server offers at most {server_max}")]
    Unsupported {
        /// The call.
        what: String,
        /// The version it needs, e.g. `2.14`.
        needs_version: String,
        /// The server's highest version.
        server_max: String,
    },
    /// A wait ran out of time.
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout {
        /// What was waited for (and the last state seen).
        what: String,
        /// How long it waited.
        waited: Duration,
    },
    /// A resource reached a failure state.
    #[error("{what} failed with status {status}: {message}")]
    Failed {
        /// The resource.
        what: String,
        /// The failure status reached.
        status: String,
        /// The server's explanation, if any.
        message: String,
    },
    /// Data did not match its checksum.
    #[error("checksum mismatch ({algorithm}): expected {expected}, got {actual}")]
    ChecksumMismatch {
        /// The algorithm (`md5`, `sha256`, `sha512`).
        algorithm: String,
        /// The expected hex digest.
        expected: String,
        /// The computed hex digest.
        actual: String,
    },
    /// An argument was rejected before anything was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The configuration is wrong or incomplete.
    #[error("configuration: {0}")]
    Config(Box<ConfigError>),
    /// A request could not be sent again (its streaming body was already consumed).
    #[error(
        "{method} {url} cannot be retried: {reason}; its streaming body was already sent and cannot be replayed"
    )]
    NotReplayable {
        /// The request's method.
        method: Method,
        /// The request's URL.
        url: String,
        /// Why a retry was needed.
        reason: String,
    },
    /// Connecting, TLS, reading or writing failed.
    #[error("transport error on {url}: {message}")]
    Transport {
        /// The URL involved.
        url: String,
        /// What happened (including the underlying cause).
        message: String,
    },
    /// A response could not be decoded.
    #[error("cannot decode the response of {url}: {message}")]
    Decode {
        /// The URL involved.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// A local I/O error (reading an upload, writing a download).
    #[error("i/o error on {path}: {message}")]
    Io {
        /// The file involved.
        path: String,
        /// What happened.
        message: String,
    },
}

/// Shorthand for results of this SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(Box::new(e))
    }
}

impl From<http::Error> for Error {
    fn from(e: http::Error) -> Self {
        Error::InvalidArgument(format!("cannot build the request: {e}"))
    }
}

impl Error {
    /// Maps an HTTP error status to its kind. The one place this mapping lives.
    pub fn from_response_parts(
        method: Method,
        url: String,
        status: StatusCode,
        body: &[u8],
        request_id: Option<String>,
    ) -> Error {
        let api =
            Box::new(ApiError { method, url, status, message: error_message(body), request_id });
        match status {
            StatusCode::BAD_REQUEST => Error::BadRequest(api),
            StatusCode::UNAUTHORIZED => Error::Unauthorized(api),
            StatusCode::FORBIDDEN => Error::Forbidden(api),
            StatusCode::NOT_FOUND => Error::NotFound(api),
            StatusCode::CONFLICT => Error::Conflict(api),
            StatusCode::PAYLOAD_TOO_LARGE => Error::RequestEntityTooLarge(api),
            StatusCode::SERVICE_UNAVAILABLE => Error::ServiceUnavailable(api),
            _ => Error::Http(api),
        }
    }

    /// The server's details when this error came from an HTTP response.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::BadRequest(a)
            | Error::Unauthorized(a)
            | Error::Forbidden(a)
            | Error::NotFound(a)
            | Error::Conflict(a)
            | Error::RequestEntityTooLarge(a)
            | Error::ServiceUnavailable(a)
            | Error::Http(a) => Some(a),
            _ => None,
        }
    }

    /// The HTTP status, when this error came from a response.
    pub fn status(&self) -> Option<StatusCode> {
        self.api().map(|a| a.status)
    }

    /// The `x-openstack-request-id` of the failed request, if the server sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.api().and_then(|a| a.request_id.as_deref())
    }

    /// Whether the resource does not exist (HTTP 404 or a failed lookup by name).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_) | Error::ResourceNotFound { .. })
    }

    /// Whether this is a 409 Conflict.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict(_))
    }

    /// Whether this is a 403 Forbidden.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Error::Forbidden(_))
    }

    /// Whether this is a 401 Unauthorized.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Error::Unauthorized(_))
    }

    /// Whether this is a 400 Bad Request.
    pub fn is_bad_request(&self) -> bool {
        matches!(self, Error::BadRequest(_))
    }

    pub(crate) fn transport(url: impl Into<String>, err: &dyn std::error::Error) -> Error {
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(s) = source {
            let text = s.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = s.source();
        }
        Error::Transport { url: url.into(), message }
    }
}

/// Extracts the human message from an OpenStack error body.
///
/// Handles `{"message": ...}`, `{"error": {"message": ...}}`, `{"<kind>": {"message": ...}}`
/// (nova style), `{"errors": [{"detail"|"title": ...}]}`, and HTML pages (tags stripped).
pub fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        if let Some(m) = json_message(&value) {
            return clean(&m);
        }
    }
    if text.starts_with('<') || text.contains("</") {
        return clean(&strip_html(text));
    }
    clean(text)
}

fn json_message(value: &serde_json::Value) -> Option<String> {
    let obj = value.as_object()?;
    for key in ["message", "detail", "title", "faultstring"] {
        if let Some(s) = obj.get(key).and_then(|v| v.as_str()) {
            return Some(s.to_string());
        }
    }
    if let Some(errors) = obj.get("errors").and_then(|v| v.as_array()) {
        let msgs: Vec<String> = errors.iter().filter_map(json_message).collect();
        if !msgs.is_empty() {
            return Some(msgs.join("; "));
        }
    }
    obj.values().find_map(|v| v.is_object().then(|| json_message(v)).flatten())
}

fn strip_html(text: &str) -> String {
    // Prefer the body: titles repeat the status line.
    let lower = text.to_ascii_lowercase();
    let body = match (lower.find("<body"), lower.rfind("</body>")) {
        (Some(start), Some(end)) if start < end => &text[start..end],
        _ => text,
    };
    let mut out = String::with_capacity(body.len());
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn clean(text: &str) -> String {
    let text = text.replace("<br />", " ").replace("<br/>", " ").replace("<br>", " ");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glance_json_error_message_loses_its_html_breaks() {
        let body = br#"{"message": "Image with identifier x already exists!<br /><br />", "code": "409 Conflict", "title": "Conflict"}"#;
        assert_eq!(error_message(body), "Image with identifier x already exists!");
    }

    #[test]
    fn keystone_nested_error_message() {
        let body = br#"{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}"#;
        assert_eq!(error_message(body), "The request you have made requires authentication.");
    }

    #[test]
    fn html_error_page_is_reduced_to_its_text() {
        let body = b"<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID abc<br /><br />\n\n\n </body>\n</html>";
        assert_eq!(error_message(body), "404 Not Found No image found with ID abc");
    }

    #[test]
    fn status_maps_to_kind_and_display_is_one_line() {
        let e = Error::from_response_parts(
            Method::DELETE,
            "http://h/v2/images/x".into(),
            StatusCode::CONFLICT,
            br#"{"message":"Image is protected"}"#,
            Some("req-1".into()),
        );
        assert!(e.is_conflict());
        assert_eq!(e.request_id(), Some("req-1"));
        let text = e.to_string();
        assert_eq!(
            text,
            "conflict: DELETE http://h/v2/images/x returned 409: Image is protected (request id req-1)"
        );
        assert!(!text.contains('\n'));
    }
}
