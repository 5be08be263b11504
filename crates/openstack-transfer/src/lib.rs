//! # openstack-transfer
//!
//! The streaming engine under every image upload and download. It knows nothing about
//! OpenStack and depends on none of this workspace's crates.
//!
//! * [`UploadBody`]: an `http_body::Body` from a path, a file, an `AsyncRead`, a stream or
//!   `Bytes`, sent in refcounted frames (no copies), with md5/sha256/sha512 computed while
//!   the bytes pass and delivered by the [`HashResults`] returned beside it.
//! * [`Download`]: pulls from a [`RangeSource`], verifies size and digest, resumes a broken
//!   connection with a range request, and writes to a path atomically (temp file + fsync +
//!   rename only after verification), to a writer, or yields a verified stream.
//! * [`hash_pipeline`] / [`HashMode`]: the digest pipeline, hashing threads (at most one per core) with bounded
//!   queues, so two hashes cost the time of the slower one, not their sum.
//! * [`Progress`]: throttled progress callbacks (bytes, total, rate, ETA).
//!
//! ```
//! # async fn demo() -> Result<(), openstack_transfer::TransferError> {
//! use openstack_transfer::{Algorithm, UploadBody, UploadOptions};
//!
//! let opts = UploadOptions::default().algorithms(&[Algorithm::Md5, Algorithm::Sha512]);
//! let (body, digests) = UploadBody::from_bytes(&b"image bytes"[..], &opts);
//! // ... hand `body` to an HTTP client; once it has been sent completely:
//! # drop(http_body_util::BodyExt::collect(body).await);
//! let digests = digests.wait().await?;
//! println!("md5 {}", digests.get(Algorithm::Md5).unwrap());
//! # Ok(()) }
//! ```

mod ahead;
mod download;
mod download_options;
mod error;
mod fileread;
mod filewrite;
mod hash;
mod parallel;
mod progress;
mod target;
mod upload;
mod upload_options;
mod upload_source;

pub use download::{
    ByteStream, Download, DownloadReport, Expected, OpenFuture, Opened, RangeSource,
};
pub use download_options::{DEFAULT_PART_SIZE, DEFAULT_WINDOW_BYTES, DownloadOptions};
pub use error::{BoxError, TransferError};
pub use fileread::read_exact_at;
pub use hash::{
    Algorithm, Digests, HashFeeder, HashMode, HashResults, Hasher, backend as digest_backend,
    digest_hex, pipeline as hash_pipeline,
};
pub use progress::{Progress, ProgressUpdate};
pub use upload::{DEFAULT_CHUNK_SIZE, UploadBody, UploadOptions};

/// The README's examples are compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
