//! What a command fails with, how it is printed, and the exit code of each kind.

use std::fmt;

use openstack_client::Error;

/// A checksum mismatch: the data is not what the server says it is.
const EXIT_CHECKSUM: u8 = 3;

/// What a command failed with.
#[derive(Debug)]
pub(crate) enum CliError {
    /// The SDK's error (printed with its cause chain and request id).
    Api(Error),
    /// A usage problem found by osrs itself: a name that matches nothing, a flag a method
    /// needs, a column that does not exist.
    Usage(String),
    /// A command over several targets went on past failures (each reported as it happened),
    /// as openstackclient does: this many of that many failed.
    Partial {
        /// How many targets failed.
        failed: usize,
        /// How many were given.
        total: usize,
        /// openstackclient's summary, with `{failed}` and `{total}` where the counts go, e.g.
        /// "Failed to delete {failed} of {total} images."
        summary: String,
    },
    /// The output could not be formatted or written.
    Output(String),
    /// An image file fails a safety check (`image inspect`): what failed.
    Unsafe(String),
}

impl CliError {
    /// The process's exit code: 3 for a checksum mismatch, 1 otherwise (clap exits 2 for bad
    /// arguments before a command runs).
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Api(e) if matches!(e.kind(), Error::ChecksumMismatch { .. }) => EXIT_CHECKSUM,
            _ => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Api(e) => {
                f.write_str(&e.report())?;
                match e.request_id() {
                    Some(id) if !e.report().contains(id) => write!(f, " (request id {id})"),
                    _ => Ok(()),
                }
            }
            CliError::Usage(m) => f.write_str(m),
            CliError::Partial { failed, total, summary } => f.write_str(
                &summary
                    .replace("{failed}", &failed.to_string())
                    .replace("{total}", &total.to_string()),
            ),
            CliError::Output(m) => write!(f, "cannot write the output: {m}"),
            CliError::Unsafe(m) => f.write_str(m),
        }
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Api(e)
    }
}

/// What a command returns.
pub(crate) type Outcome = Result<(), CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_is_openstackclients_summary_and_exits_1() {
        let summary = "Failed to delete {failed} of {total} images.".to_string();
        let e = CliError::Partial { failed: 2, total: 5, summary };
        assert_eq!(e.to_string(), "Failed to delete 2 of 5 images.");
        assert_eq!(e.exit_code(), 1);
    }

    #[test]
    fn a_checksum_mismatch_exits_3_even_after_a_cleanup() {
        let e = Error::ChecksumMismatch {
            algorithm: openstack_client::image::Algorithm::Md5,
            expected: "a".into(),
            actual: "b".into(),
        };
        let cleaned =
            e.with_cleanup("create_image", openstack_client::auth::Cleanup::deleted("image x"));
        assert_eq!(CliError::Api(cleaned).exit_code(), 3);
        assert_eq!(CliError::Usage("x".into()).exit_code(), 1);
        assert_eq!(CliError::Output("x".into()).exit_code(), 1);
    }
}
