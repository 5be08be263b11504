//! The SDK's error type, organised by kind.
//!
//! Every layer above (`openstack-resource`, `openstack-image`, the facade) reports
//! [`Error`], so users match on one enum. HTTP statuses are mapped to kinds in exactly one
//! place (the session's response handling). `Display` is one line without the cause; the
//! cause stays reachable through `std::error::Error::source` ([`Error::report`] prints the
//! whole chain), and [`Error::kind`] looks through the context a failed call adds.

use std::fmt;
use std::time::Duration;

use http::{Method, StatusCode};

/// What the server said when a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
    /// Connecting, TLS, reading or writing failed (after the retries and resumes allowed).
    #[error("transport error on {url}")]
    Transport {
        /// The URL involved.
        url: String,
        /// The cause: downcast it (`hyper::Error`, `std::io::Error`, a rustls error, ...).
        #[source]
        source: BoxError,
    },
    /// A response could not be decoded.
    #[error("cannot decode the response of {url}")]
    Decode {
        /// The URL (or call) involved.
        url: String,
        /// What was wrong (a `serde_json::Error`, or the SDK's description).
        #[source]
        source: BoxError,
    },
    /// A local I/O error (reading an upload, writing a download).
    #[error("i/o error on {path}")]
    Io {
        /// The file involved.
        path: String,
        /// The I/O error, with its kind (`StorageFull`, `PermissionDenied`, ...).
        #[source]
        source: std::io::Error,
    },
    /// Data had another length than announced (an upload source that shrank or grew, or a
    /// download shorter than the image's size).
    #[error("size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        /// The announced length.
        expected: u64,
        /// The bytes actually seen.
        actual: u64,
    },
    /// A broken download could not be resumed (the server answered a range request with
    /// another object, or refused it).
    #[error("cannot resume {url}: {reason}")]
    Resume {
        /// The URL.
        url: String,
        /// Why not.
        reason: String,
    },
    /// An upload ended before its body did, so what it sent is unknown.
    #[error("the upload to {url} did not complete: {reason}")]
    Incomplete {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// A call failed after it had created something, which was then cleaned up (or could
    /// not be). The failure itself is [`Error::kind`] and the `source()`.
    #[error("{operation} failed; {cleanup}")]
    CleanedUp {
        /// The call (`create_image`).
        operation: &'static str,
        /// What happened to what it had created.
        cleanup: Box<Cleanup>,
        /// The failure.
        #[source]
        error: Box<Error>,
    },
}

/// A boxed cause, reachable through [`std::error::Error::source`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a failed call did with what it had already created.
#[derive(Debug)]
#[non_exhaustive]
pub struct Cleanup {
    /// What was created (`image 5cfaff86-…`).
    pub resource: String,
    /// What became of it.
    pub outcome: CleanupOutcome,
}

/// What became of a half-created resource.
#[derive(Debug)]
#[non_exhaustive]
pub enum CleanupOutcome {
    /// It was deleted.
    Deleted,
    /// It was kept, as asked (e.g. `keep_on_mismatch`).
    Kept,
    /// Deleting it failed too; it is still there.
    DeleteFailed(Box<Error>),
}

impl Cleanup {
    /// `resource` was deleted.
    pub fn deleted(resource: impl Into<String>) -> Cleanup {
        Cleanup { resource: resource.into(), outcome: CleanupOutcome::Deleted }
    }

    /// `resource` was kept on purpose.
    pub fn kept(resource: impl Into<String>) -> Cleanup {
        Cleanup { resource: resource.into(), outcome: CleanupOutcome::Kept }
    }

    /// Deleting `resource` failed with `error`.
    pub fn delete_failed(resource: impl Into<String>, error: Error) -> Cleanup {
        Cleanup {
            resource: resource.into(),
            outcome: CleanupOutcome::DeleteFailed(Box::new(error)),
        }
    }
}

impl fmt::Display for Cleanup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            CleanupOutcome::Deleted => write!(f, "the half-created {} was deleted", self.resource),
            CleanupOutcome::Kept => write!(f, "the {} was kept, as asked", self.resource),
            CleanupOutcome::DeleteFailed(e) => {
                write!(f, "the half-created {} could not be deleted: {}", self.resource, e.report())
            }
        }
    }
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
    /// The error to match on: itself, or for [`Error::CleanedUp`] the failure inside it.
    ///
    /// ```
    /// # use openstack_auth::{Cleanup, Error};
    /// let e = Error::ChecksumMismatch { algorithm: "md5".into(), expected: "a".into(), actual: "b".into() };
    /// let e = e.with_cleanup("create_image", Cleanup::deleted("image x"));
    /// assert!(matches!(e.kind(), Error::ChecksumMismatch { .. }));
    /// assert_eq!(e.to_string(), "create_image failed; the half-created image x was deleted");
    /// assert_eq!(e.report(), "create_image failed; the half-created image x was deleted: checksum mismatch (md5): expected a, got b");
    /// ```
    pub fn kind(&self) -> &Error {
        match self {
            Error::CleanedUp { error, .. } => error.kind(),
            other => other,
        }
    }

    /// Wraps this failure with what `operation` did about what it had created: one context
    /// mechanism for every kind of failure.
    pub fn with_cleanup(self, operation: &'static str, cleanup: Cleanup) -> Error {
        Error::CleanedUp { operation, cleanup: Box::new(cleanup), error: Box::new(self) }
    }

    /// What became of a half-created resource, when this failure cleaned one up.
    pub fn cleanup(&self) -> Option<&Cleanup> {
        match self {
            Error::CleanedUp { cleanup, .. } => Some(cleanup),
            _ => None,
        }
    }

    /// The whole chain on one line: this error, then each `source()`, separated by `: `
    /// (for logs and command lines; `Display` alone is this error without its causes).
    pub fn report(&self) -> String {
        let mut out = self.to_string();
        let mut next = std::error::Error::source(self);
        while let Some(e) = next {
            let text = e.to_string();
            if !out.ends_with(&text) {
                out.push_str(": ");
                out.push_str(&text);
            }
            next = e.source();
        }
        out
    }

    /// A transport failure on `url` caused by `source`.
    pub fn transport(url: impl Into<String>, source: impl Into<BoxError>) -> Error {
        Error::Transport { url: url.into(), source: source.into() }
    }

    /// A body of `url` that could not be decoded, because of `source`.
    pub fn decode(url: impl Into<String>, source: impl Into<BoxError>) -> Error {
        Error::Decode { url: url.into(), source: source.into() }
    }

    /// Maps an HTTP error status to its kind. The one place this mapping lives.
    pub(crate) fn from_response_parts(
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
        match self.kind() {
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
        matches!(self.kind(), Error::NotFound(_) | Error::ResourceNotFound { .. })
    }

    /// Whether this is a 409 Conflict.
    pub fn is_conflict(&self) -> bool {
        matches!(self.kind(), Error::Conflict(_))
    }

    /// Whether this is a 403 Forbidden.
    pub fn is_forbidden(&self) -> bool {
        matches!(self.kind(), Error::Forbidden(_))
    }

    /// Whether this is a 401 Unauthorized.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self.kind(), Error::Unauthorized(_))
    }

    /// Whether this is a 400 Bad Request.
    pub fn is_bad_request(&self) -> bool {
        matches!(self.kind(), Error::BadRequest(_))
    }
}

/// Extracts the human message from an OpenStack error body.
///
/// Handles `{"message": ...}`, `{"error": {"message": ...}}`, `{"<kind>": {"message": ...}}`
/// (nova style), `{"errors": [{"detail"|"title": ...}]}`, and HTML pages (tags stripped).
pub(crate) fn error_message(body: &[u8]) -> String {
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
