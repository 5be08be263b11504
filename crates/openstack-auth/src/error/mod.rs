//! The SDK's error type, organised by kind.
//!
//! Every layer above (`openstack-resource`, `openstack-image`, the facade) reports
//! [`Error`], so users match on one enum. HTTP statuses are mapped to kinds in exactly one
//! place (the session's response handling). `Display` is one line without the cause; the
//! cause stays reachable through `std::error::Error::source` ([`Error::report`] prints the
//! whole chain), and [`Error::kind`] looks through the context a failed call adds.

use openstack_transfer::Algorithm;
use std::time::Duration;

use http::{Method, StatusCode};

mod api;
mod cleanup;
mod config;

pub use api::ApiError;
pub(crate) use api::error_message;
pub use cleanup::{Cleanup, CleanupOutcome};
pub use config::ConfigError;

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
    /// The call needs a newer API version than the server offers, or than the configuration
    /// allows (`image_api_version`, `--os-image-api-version`).
    #[error("{what} needs API version {needs_version} but {}", limit_text(*.pinned, .available, .feature.as_deref()))]
    Unsupported {
        /// The call.
        what: String,
        /// The version it needs, e.g. 2.14.
        needs_version: crate::ApiVersion,
        /// The highest version usable: the server's, or the configuration's pin.
        available: crate::ApiVersion,
        /// Whether `available` is the configuration's pin rather than the server's limit.
        pinned: bool,
        /// What the server lacks when it lists newer versions but not this one (Glance
        /// lists 2.8 only with several stores, 2.14 only with a cache).
        feature: Option<String>,
    },
    /// A wait ran out of time (a waiter's deadline: `wait_for_status`, an import, a create
    /// with `.wait(..)`). The connection was fine; the resource did not get there in time.
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout {
        /// What was waited for (and the last state seen).
        what: String,
        /// How long it waited.
        waited: Duration,
    },
    /// The server has no data for the resource yet (an image still `queued`, `saving` or
    /// `importing`, or a 204 where data was expected): not a mistake in the call, and it may
    /// change (wait for the image to become `active`).
    #[error("{what} has no data yet: {reason}")]
    NoData {
        /// The resource (`image <id>`).
        what: String,
        /// What the server said (`status queued`, `204 No Content`).
        reason: String,
    },
    /// The connection was idle too long: no response, no response bytes, or (uploading) no
    /// request bytes taken, for the session's idle timeout. A network or server stall, not a
    /// wait that ran out.
    #[error("{what} (idle for {waited:?})")]
    IdleTimeout {
        /// The request and what did not come.
        what: String,
        /// How long nothing moved.
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
        /// The algorithm.
        algorithm: Algorithm,
        /// The expected hex digest.
        expected: String,
        /// The computed hex digest.
        actual: String,
    },
    /// An image's content was refused before anything was sent: it is not the declared
    /// `disk_format`, or it fails one of the safety checks Glance runs after an upload.
    #[error("image format: {reason}")]
    ImageFormat {
        /// The `disk_format` declared; `None` when it was to be detected.
        declared: Option<String>,
        /// What the inspection found: the format, the virtual size, each check's outcome.
        inspection: Box<openstack_diskformat::Inspection>,
        /// Why it is refused and what to do, in one line.
        reason: String,
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
    /// An HTTP proxy could not be used: it cannot be reached, refused the tunnel, or wants
    /// (other) credentials. Its password is never shown.
    #[error("proxy {proxy} {reason} (for {url})")]
    Proxy {
        /// The proxy URL, its password as `***`.
        proxy: String,
        /// The URL the request was for.
        url: String,
        /// What went wrong.
        reason: String,
        /// The underlying failure, if any (an I/O error).
        #[source]
        source: Option<BoxError>,
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

fn limit_text(pinned: bool, available: &crate::ApiVersion, feature: Option<&str>) -> String {
    if let Some(f) = feature {
        format!(
            "this cloud does not offer it: {f} is not enabled there (it offers up to {available} without it)"
        )
    } else if pinned {
        format!(
            "the configuration pins API version {available} (image_api_version / --os-image-api-version)"
        )
    } else {
        format!("the server offers at most {available}")
    }
}

/// A boxed cause, reachable through [`std::error::Error::source`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Shorthand for results of this SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(Box::new(e))
    }
}

/// For byte streams that must carry `std::io::Error` (an upload source, `AsyncRead`
/// adapters): the kind follows the error's (`TimedOut`, `NotFound`, `PermissionDenied`,
/// `InvalidData` for a checksum or size mismatch, an `Io` error's own kind), and the SDK error
/// stays inside, whole (`io::Error::into_inner` + `downcast` gives it back).
impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        use std::io::ErrorKind;
        let kind = match e.kind() {
            Error::Io { source, .. } => source.kind(),
            Error::Timeout { .. } | Error::IdleTimeout { .. } => ErrorKind::TimedOut,
            Error::NotFound(_) | Error::ResourceNotFound { .. } => ErrorKind::NotFound,
            Error::Unauthorized(_) | Error::Forbidden(_) => ErrorKind::PermissionDenied,
            Error::ChecksumMismatch { .. } | Error::SizeMismatch { .. } => ErrorKind::InvalidData,
            Error::InvalidArgument(_) => ErrorKind::InvalidInput,
            Error::ImageFormat { .. } => ErrorKind::InvalidData,
            _ => ErrorKind::Other,
        };
        std::io::Error::new(kind, e)
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
    /// # use openstack_auth::{Algorithm, Cleanup, Error};
    /// let e = Error::ChecksumMismatch { algorithm: Algorithm::Md5, expected: "a".into(), actual: "b".into() };
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
    ///
    /// ```
    /// use openstack_auth::{Cleanup, Error};
    /// let e = Error::InvalidArgument("no such store: fast".into())
    ///     .with_cleanup("create_image", Cleanup::deleted("image x"));
    /// assert_eq!(e.to_string(), "create_image failed; the half-created image x was deleted");
    /// assert_eq!(
    ///     e.report(),
    ///     "create_image failed; the half-created image x was deleted: invalid argument: no such store: fast"
    /// );
    /// ```
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
    ///
    /// ```no_run
    /// # async fn demo(session: openstack_auth::Session) -> openstack_auth::Result<()> {
    /// let req = http::Request::get("/v2/images/abc").body(openstack_auth::RequestBody::empty()).unwrap();
    /// match session.request("image", req).await {
    ///     Err(e) if e.is_not_found() => println!("no image abc"),
    ///     Err(e) => return Err(e),
    ///     Ok(_) => println!("found"),
    /// }
    /// # Ok(()) }
    /// ```
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

#[cfg(test)]
mod tests;
