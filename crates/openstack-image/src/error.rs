//! How the image layer reports errors: transfer failures mapped to the SDK's kinds, decode
//! errors naming the call.

use openstack_auth::Error;
use openstack_transfer::TransferError;

/// Maps a transfer error to the SDK's error kinds.
pub(crate) fn transfer_error(e: TransferError, url: &str) -> Error {
    match e {
        TransferError::ChecksumMismatch { algorithm, expected, actual } => {
            Error::ChecksumMismatch { algorithm, expected, actual }
        }
        TransferError::Io { path, message } => Error::Io { path, message },
        TransferError::InvalidArgument(m) => Error::InvalidArgument(m),
        other => Error::Transport { url: url.into(), message: other.to_string() },
    }
}

/// A response of `what` that is not what Glance documents.
pub(crate) fn decode(what: &str, e: serde_json::Error) -> Error {
    Error::Decode { url: what.into(), message: e.to_string() }
}
