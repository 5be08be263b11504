//! The sinks of a [`Download`]: a writer, a path (atomic), a stream.

use std::path::Path;

use bytes::Bytes;
use futures_core::Stream;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::{Download, DownloadReport};
use crate::error::TransferError;
use crate::filewrite::FileWriter;
use crate::target::{TempFile, remove_stale_temp_files, replace, temp_path};

impl Download {
    /// A sink delivers every byte the digest covers: none may have been taken with
    /// [`Download::next_chunk`] before it.
    fn unstarted(&self, sink: &str) -> Result<(), TransferError> {
        if self.offset == 0 && !self.finished {
            return Ok(());
        }
        Err(TransferError::Incomplete {
            message: format!(
                "{} bytes were already read with next_chunk; {sink} delivers a whole object, \
                 so start it on a new Download",
                self.offset
            ),
        })
    }

    /// Writes to `writer`, verifying at the end. On error the writer holds partial data:
    /// prefer [`Download::to_path`] when a file is the goal.
    ///
    /// # Errors
    /// As [`Download::next_chunk`], plus write errors.
    pub async fn to_writer<W: AsyncWrite + Unpin>(
        mut self,
        writer: &mut W,
    ) -> Result<DownloadReport, TransferError> {
        self.unstarted("to_writer")?;
        while let Some(chunk) = self.next_chunk().await? {
            writer.write_all(&chunk).await.map_err(|e| TransferError::io("writer", e))?;
        }
        writer.flush().await.map_err(|e| TransferError::io("writer", e))?;
        self.verify().await
    }

    /// Downloads into `path` atomically: the bytes go to a temporary file in the same
    /// directory, which is fsynced (unless [`DownloadOptions::durable`](crate::DownloadOptions::durable) is off) and renamed
    /// onto `path` only after verification. On any error the temporary file is removed and
    /// `path` is untouched.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use openstack_transfer::*;
    /// # /// An object in memory that honours ranges.
    /// # struct Memory(Bytes);
    /// # impl RangeSource for Memory {
    /// #     fn open(&mut self, offset: u64) -> OpenFuture<'_> {
    /// #         let rest = self.0.slice(offset as usize..);
    /// #         let total = Some(self.0.len() as u64);
    /// #         Box::pin(async move {
    /// #             let body: ByteStream = Box::pin(futures_util::stream::iter([Ok(rest)]));
    /// #             Ok(Opened { partial: offset > 0, start: offset, total, identity: None, body })
    /// #         })
    /// #     }
    /// # }
    /// # async fn demo() -> Result<(), TransferError> {
    /// # let data = Bytes::from_static(b"image bytes");
    /// # let sha512 = digest_hex(Algorithm::Sha512, &data);
    /// let expected = Expected { size: None, digest: Some((Algorithm::Sha512, "00".repeat(64))) };
    /// let download = Download::new(Memory(data), expected, &DownloadOptions::default());
    /// let path = std::env::temp_dir().join("never-written.img");
    /// // The digest does not match: the error says so and nothing is left at `path`.
    /// assert!(matches!(download.to_path(&path).await, Err(TransferError::ChecksumMismatch { .. })));
    /// assert!(!path.exists());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Download::next_chunk`], plus [`TransferError::Io`] naming the file.
    pub async fn to_path(self, path: impl AsRef<Path>) -> Result<DownloadReport, TransferError> {
        let path = path.as_ref();
        let tmp = temp_path(path)?;
        remove_stale_temp_files(path);
        // Removes the temp file on an error and when this future is dropped at any await
        // point (a `timeout`, a `select!`): nothing is left beside the target.
        let mut guard = TempFile::new(tmp.clone());
        let result = self.write_temp(&guard, path).await;
        guard.renamed = result.is_ok();
        result
    }

    async fn write_temp(
        self,
        guard: &TempFile,
        path: &Path,
    ) -> Result<DownloadReport, TransferError> {
        self.unstarted("to_path")?;
        let tmp = guard.path.as_path();
        let file = guard.create().await?;
        // Frames go to a writer thread as they are (no copy into a buffer) and are flushed
        // to disk in the background while the download goes on.
        let mut writer = FileWriter::new(file, tmp, self.durable);
        let mut this = self;
        while let Some(chunk) = this.next_chunk().await? {
            writer.write(chunk).await?;
        }
        let report = this.verify().await?;
        writer.finish().await?;
        replace(tmp, path).await?;
        Ok(report)
    }

    /// A stream of verified chunks. On a mismatch its last item is an error, so a consumer
    /// can never take a corrupt stream for a complete one.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use openstack_transfer::*;
    /// # /// An object in memory that honours ranges.
    /// # struct Memory(Bytes);
    /// # impl RangeSource for Memory {
    /// #     fn open(&mut self, offset: u64) -> OpenFuture<'_> {
    /// #         let rest = self.0.slice(offset as usize..);
    /// #         let total = Some(self.0.len() as u64);
    /// #         Box::pin(async move {
    /// #             let body: ByteStream = Box::pin(futures_util::stream::iter([Ok(rest)]));
    /// #             Ok(Opened { partial: offset > 0, start: offset, total, identity: None, body })
    /// #         })
    /// #     }
    /// # }
    /// # async fn demo() -> Result<(), TransferError> {
    /// # let data = Bytes::from_static(b"image bytes");
    /// # let sha512 = digest_hex(Algorithm::Sha512, &data);
    /// use futures_util::TryStreamExt;
    /// let expected = Expected { size: None, digest: Some((Algorithm::Sha512, sha512)) };
    /// let stream = Download::new(Memory(data), expected, &DownloadOptions::default()).into_stream();
    /// // Every chunk passes through; a mismatch would be the last item, an error.
    /// let chunks: Vec<Bytes> = stream.try_collect().await?;
    /// assert_eq!(chunks.concat(), b"image bytes");
    /// # Ok(()) }
    /// ```
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, TransferError>> + Send {
        let unstarted = self.unstarted("into_stream");
        futures_util::stream::unfold(Some((self, unstarted)), |state| async move {
            let (mut d, unstarted) = state?;
            if let Err(e) = unstarted {
                return Some((Err(e), None));
            }
            match d.next_chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some((d, Ok(()))))),
                Ok(None) => match d.verify().await {
                    Ok(_) => None,
                    Err(e) => Some((Err(e), None)),
                },
                Err(e) => Some((Err(e), None)),
            }
        })
    }
}
