//! Errors of the transfer engine.

/// A boxed cause, reachable through [`std::error::Error::source`] (downcast it to the
/// concrete type, e.g. a `hyper::Error` or a `std::io::Error`).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in a transfer. `Display` is one line without the cause; the cause is
/// [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// Reading or writing a local file failed.
    #[error("i/o error on {path}")]
    Io {
        /// The file (or `reader` / `writer`).
        path: String,
        /// The I/O error, with its kind (e.g. `StorageFull`).
        #[source]
        source: std::io::Error,
    },
    /// The data does not match the expected digest.
    #[error("checksum mismatch ({algorithm}): expected {expected}, got {actual}")]
    ChecksumMismatch {
        /// The algorithm.
        algorithm: crate::hash::Algorithm,
        /// Expected hex digest.
        expected: String,
        /// Computed hex digest.
        actual: String,
    },
    /// The data has another length than announced.
    #[error("size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        /// Announced length.
        expected: u64,
        /// Bytes actually seen.
        actual: u64,
    },
    /// The connection failed (resumable when it broke mid-body).
    #[error("transfer interrupted")]
    Interrupted {
        /// What broke it (a hyper, rustls or I/O error, or the SDK's own).
        #[source]
        source: BoxError,
    },
    /// The source refused to (re)open the object for a reason a retry does not mend (it is
    /// gone, access is denied): its own error is the cause. Not resumed.
    #[error("the source refused the request")]
    Refused {
        /// The source's error (for the SDK, its own `Error` with its kind: `NotFound`, ...).
        #[source]
        source: BoxError,
    },
    /// A resumed download did not continue the same object.
    #[error("cannot resume: {message}")]
    Resume {
        /// Why not.
        message: String,
    },
    /// An upload body was dropped or failed before its end, so its digests do not exist.
    #[error("the upload did not complete: {message}")]
    Incomplete {
        /// Why.
        message: String,
    },
    /// A bad argument (unknown algorithm name, missing directory, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl TransferError {
    pub(crate) fn io(path: impl std::fmt::Display, e: std::io::Error) -> TransferError {
        TransferError::Io { path: path.to_string(), source: e }
    }

    /// A broken connection, caused by `source`.
    pub fn interrupted(source: impl Into<BoxError>) -> TransferError {
        TransferError::Interrupted { source: source.into() }
    }

    /// Whether resuming the transfer may help (the connection broke mid-body).
    pub fn is_resumable(&self) -> bool {
        matches!(self, TransferError::Interrupted { .. })
    }
}
