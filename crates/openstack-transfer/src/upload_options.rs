//! How an upload hashes, reads and reports.

use crate::hash::{Algorithm, HashMode};
use crate::progress::Progress;

/// Default read size for files and readers.
pub const DEFAULT_CHUNK_SIZE: usize = 256 * 1024;

/// How an upload hashes and reports.
#[derive(Debug, Clone)]
#[must_use]
#[non_exhaustive]
pub struct UploadOptions {
    /// Digests to compute while sending (default md5 + sha256 + sha512).
    pub algorithms: Vec<Algorithm>,
    /// Where hashing runs (default: hashing threads, at most one per core).
    pub mode: HashMode,
    /// Read size for files and readers (default 256 KiB).
    pub chunk_size: usize,
    /// Progress callback.
    pub progress: Option<Progress>,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            algorithms: vec![Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512],
            mode: HashMode::Threads,
            chunk_size: DEFAULT_CHUNK_SIZE,
            progress: None,
        }
    }
}

impl UploadOptions {
    /// Sets the digests to compute.
    pub fn algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.algorithms = algorithms.to_vec();
        self
    }
    /// Sets the hashing mode.
    pub fn mode(mut self, mode: HashMode) -> Self {
        self.mode = mode;
        self
    }
    /// Sets the read size.
    pub fn chunk_size(mut self, size: usize) -> Self {
        self.chunk_size = size.max(4096);
        self
    }
    /// Sets a progress callback.
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }
}
