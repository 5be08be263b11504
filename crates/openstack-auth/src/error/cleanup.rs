//! What a failed call did with what it had already created.

use std::fmt;

use super::Error;

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
