//! How the image layer reports errors: every transfer failure kind mapped to its own
//! variant of the SDK's error, causes kept reachable through `source()`.

use openstack_auth::Error;
use openstack_transfer::TransferError;

/// Maps a transfer error on `url` to the SDK's error kinds.
pub(crate) fn transfer_error(e: TransferError, url: &str) -> Error {
    match e {
        TransferError::ChecksumMismatch { algorithm, expected, actual } => {
            Error::ChecksumMismatch { algorithm, expected, actual }
        }
        TransferError::Io { path, source } => Error::Io { path, source },
        TransferError::InvalidArgument(m) => Error::InvalidArgument(m),
        TransferError::SizeMismatch { expected, actual } => {
            Error::SizeMismatch { expected, actual }
        }
        TransferError::Resume { message } => Error::Resume { url: url.into(), reason: message },
        TransferError::Incomplete { message } => {
            Error::Incomplete { url: url.into(), reason: message }
        }
        TransferError::Refused { source } => match source.downcast::<Error>() {
            Ok(e) => *e,
            Err(source) => Error::Transport { url: url.into(), source },
        },
        TransferError::Interrupted { source } => match source.downcast::<Error>() {
            // The session's own error (a transport failure, an idle timeout) as it was.
            Ok(e) => *e,
            Err(source) => Error::Transport { url: url.into(), source },
        },
        other => Error::transport(url, other),
    }
}

/// An upload that failed because its own data source failed (a read error, a source
/// shorter or longer than announced) is reported as that failure, not as a transport error
/// on the URL: the network was fine. A stream's error kept in `kept` is reported as it was
/// (an SDK error inside it, such as a download's checksum mismatch, as itself); otherwise
/// the source's `io::Error` keeps its kind and message.
pub(crate) fn upload_source_failure(e: Error, kept: Option<&crate::upload::FailureSlot>) -> Error {
    let Error::Transport { .. } = &e else { return e };
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(cause) = next {
        match cause.downcast_ref::<TransferError>() {
            Some(TransferError::Io { path, source }) => {
                let path =
                    if path == "stream" { "the upload's data source".into() } else { path.clone() };
                let original = kept.and_then(|k| k.lock().ok()?.take());
                return match original {
                    Some(io) if io.get_ref().is_some_and(|inner| inner.is::<Error>()) => {
                        let inner = io.into_inner().expect("checked");
                        *inner.downcast::<Error>().expect("checked")
                    }
                    Some(io) => Error::Io { path, source: io },
                    None => Error::Io {
                        path,
                        source: std::io::Error::new(source.kind(), source.to_string()),
                    },
                };
            }
            Some(TransferError::SizeMismatch { expected, actual }) => {
                return Error::SizeMismatch { expected: *expected, actual: *actual };
            }
            _ => next = cause.source(),
        }
    }
    e
}

/// A response of `what` that is not what Glance documents.
pub(crate) fn decode(what: &str, e: serde_json::Error) -> Error {
    Error::decode(what, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn every_transfer_kind_has_its_own_variant_and_keeps_its_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full");
        let e = transfer_error(TransferError::Io { path: "/x".into(), source: io }, "u");
        assert!(
            matches!(&e, Error::Io { path, source } if path == "/x" && source.kind() == std::io::ErrorKind::StorageFull)
        );
        assert_eq!(e.to_string(), "i/o error on /x");
        assert_eq!(e.source().unwrap().to_string(), "disk full");
        let e = transfer_error(TransferError::SizeMismatch { expected: 2, actual: 1 }, "u");
        assert!(matches!(e, Error::SizeMismatch { expected: 2, actual: 1 }));
        let e = transfer_error(TransferError::Resume { message: "etag changed".into() }, "u");
        assert!(matches!(&e, Error::Resume { url, .. } if url == "u"));
        let e = transfer_error(TransferError::Incomplete { message: "dropped".into() }, "u");
        assert!(matches!(e, Error::Incomplete { .. }));
        let cause = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let e = transfer_error(TransferError::interrupted(cause), "u");
        let Error::Transport { source, .. } = &e else { panic!("{e:?}") };
        assert_eq!(
            source.downcast_ref::<std::io::Error>().unwrap().kind(),
            std::io::ErrorKind::ConnectionReset
        );
        // The session's own error comes back as it was.
        let inner = Error::decode("x", "y");
        let e = transfer_error(TransferError::interrupted(inner), "u");
        assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    }
}
