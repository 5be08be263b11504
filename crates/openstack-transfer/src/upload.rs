//! Upload bodies: an `http_body::Body` that hashes what it sends.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use http_body::{Body, Frame, SizeHint};
use tokio::io::AsyncRead;

use crate::error::TransferError;
use crate::fileread::not_a_regular_file;
use crate::hash::{HashFeeder, HashResults, pipeline};
use crate::progress::Tracker;
pub use crate::upload_options::{DEFAULT_CHUNK_SIZE, UploadOptions};
use crate::upload_source::{FileRead, Origin, Source};

/// A streaming request body hashing its bytes in flight.
///
/// Frames are `Bytes` handed on without copying. The length is announced when known, and a
/// source that delivers more or fewer bytes than announced fails the body (so a server never
/// receives a silently truncated upload). The digests come from the [`HashResults`]
/// returned with the body, and only when the body reached its end.
pub struct UploadBody {
    source: Source,
    origin: Origin,
    options: UploadOptions,
    feeder: Option<HashFeeder>,
    tracker: Option<Tracker>,
    length: Option<u64>,
    sent: u64,
}

impl std::fmt::Debug for UploadBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadBody")
            .field("length", &self.length)
            .field("sent", &self.sent)
            .field("replayable", &self.is_replayable())
            .finish_non_exhaustive()
    }
}

impl UploadBody {
    fn build(
        source: Source,
        origin: Origin,
        length: Option<u64>,
        options: &UploadOptions,
    ) -> (UploadBody, HashResults) {
        let (feeder, results) = pipeline(&options.algorithms, options.mode);
        let body = UploadBody {
            source,
            origin,
            tracker: options.progress.as_ref().map(|p| p.tracker(length)),
            options: options.clone(),
            feeder: Some(feeder),
            length,
            sent: 0,
        };
        (body, results)
    }

    /// A body from memory (replayable), sent in `chunk_size` slices without copying.
    pub fn from_bytes(
        data: impl Into<Bytes>,
        options: &UploadOptions,
    ) -> (UploadBody, HashResults) {
        let data = data.into();
        let len = data.len() as u64;
        let chunk = options.chunk_size.max(4096);
        Self::build(
            Source::Bytes { data: data.clone(), chunk },
            Origin::Bytes(data),
            Some(len),
            options,
        )
    }

    /// A body from a file path (replayable: it can be reopened). Fails before any request
    /// when the file is missing, unreadable or not a regular file.
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
    /// # let path = std::env::temp_dir().join("upload-demo.img");
    /// # std::fs::write(&path, b"image bytes").unwrap();
    /// let opts = UploadOptions::default().algorithms(&[Algorithm::Md5]);
    /// let (body, digests) = UploadBody::from_path(&path, &opts).await?;
    /// assert_eq!(body.length(), Some(11));
    /// // ... send `body`; once it was sent completely:
    /// # drop(http_body_util::BodyExt::collect(body).await);
    /// println!("md5 {}", digests.wait().await?.get(Algorithm::Md5).unwrap());
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`TransferError::Io`] naming the path.
    pub async fn from_path(
        path: impl AsRef<Path>,
        options: &UploadOptions,
    ) -> Result<(UploadBody, HashResults), TransferError> {
        let path = path.as_ref().to_path_buf();
        let name = path.display().to_string();
        let opened = tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&path)?;
            let meta = file.metadata()?;
            Ok::<_, io::Error>((path, file, meta))
        })
        .await;
        let (path, file, meta) = match opened {
            Ok(Ok(opened)) => opened,
            Ok(Err(e)) => return Err(TransferError::io(name, e)),
            Err(e) => return Err(TransferError::io(name, io::Error::other(e))),
        };
        Self::from_open_file(&path, file, &meta, options)
    }

    /// As [`UploadBody::from_path`], opening the file synchronously (for body factories that
    /// cannot await, e.g. to replay an upload).
    ///
    /// # Errors
    /// [`TransferError::Io`] naming the path.
    pub fn from_path_blocking(
        path: impl AsRef<Path>,
        options: &UploadOptions,
    ) -> Result<(UploadBody, HashResults), TransferError> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| TransferError::io(path.display(), e))?;
        let meta = file.metadata().map_err(|e| TransferError::io(path.display(), e))?;
        Self::from_open_file(path, file, &meta, options)
    }

    fn from_open_file(
        path: &Path,
        file: std::fs::File,
        meta: &std::fs::Metadata,
        options: &UploadOptions,
    ) -> Result<(UploadBody, HashResults), TransferError> {
        if !meta.is_file() {
            return Err(TransferError::io(path.display(), not_a_regular_file()));
        }
        let source = Source::File {
            file: Some(FileRead::Own(file)),
            frames: None,
            chunk: options.chunk_size.max(4096),
            name: path.display().to_string(),
        };
        Ok(Self::build(source, Origin::Path(path.to_path_buf()), Some(meta.len()), options))
    }

    /// A body from an open file, from its current position to its end. Replayable: the file
    /// is read by offset, so neither this body nor a replay moves the file's cursor.
    ///
    /// # Errors
    /// [`TransferError::Io`] when the file's size or position cannot be read, or it is not a
    /// regular file.
    pub fn from_file(
        file: std::fs::File,
        options: &UploadOptions,
    ) -> Result<(UploadBody, HashResults), TransferError> {
        use std::io::Seek;
        let offset = (&file).stream_position().map_err(|e| TransferError::io("open file", e))?;
        Self::from_file_at(Arc::new(file), offset, options)
    }

    /// A body from `offset` to the end of a shared open file, read by offset (the file's
    /// cursor never moves, so several bodies may read one file). Replayable.
    ///
    /// # Errors
    /// As [`UploadBody::from_file`]; also when `offset` is past the end.
    pub fn from_file_at(
        file: Arc<std::fs::File>,
        offset: u64,
        options: &UploadOptions,
    ) -> Result<(UploadBody, HashResults), TransferError> {
        let meta = file.metadata().map_err(|e| TransferError::io("open file", e))?;
        if !meta.is_file() {
            return Err(TransferError::io("open file", not_a_regular_file()));
        }
        let end = meta.len();
        if offset > end {
            return Err(TransferError::InvalidArgument(format!(
                "offset {offset} is past the end of the file ({end} bytes)"
            )));
        }
        let source = Source::File {
            file: Some(FileRead::At { file: file.clone(), offset, end }),
            frames: None,
            chunk: options.chunk_size.max(4096),
            name: "open file".into(),
        };
        Ok(Self::build(source, Origin::OpenFile { file, offset }, Some(end - offset), options))
    }

    /// The file this body reads, when it was made from a path.
    pub fn path(&self) -> Option<&Path> {
        match &self.origin {
            Origin::Path(p) => Some(p),
            _ => None,
        }
    }

    /// The options it was made with.
    pub fn options(&self) -> &UploadOptions {
        &self.options
    }

    /// A body from any reader (one-shot), of unknown length (sent chunked).
    pub fn from_reader(
        reader: impl AsyncRead + Send + 'static,
        options: &UploadOptions,
    ) -> (UploadBody, HashResults) {
        Self::reader_body(reader, None, options)
    }

    /// A body from a reader of `length` bytes (one-shot): announced, and enforced (fewer or
    /// more bytes end the body with [`TransferError::SizeMismatch`]).
    pub fn from_sized_reader(
        reader: impl AsyncRead + Send + 'static,
        length: u64,
        options: &UploadOptions,
    ) -> (UploadBody, HashResults) {
        Self::reader_body(reader, Some(length), options)
    }

    fn reader_body(
        reader: impl AsyncRead + Send + 'static,
        length: Option<u64>,
        options: &UploadOptions,
    ) -> (UploadBody, HashResults) {
        let source = Source::Reader {
            reader: Box::pin(reader),
            buf: BytesMut::new(),
            chunk: options.chunk_size.max(4096),
            name: "reader".into(),
        };
        Self::build(source, Origin::OneShot, length, options)
    }

    /// A body from a stream of `Bytes` (one-shot), of unknown length (sent chunked).
    pub fn from_stream(
        stream: impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static,
        options: &UploadOptions,
    ) -> (UploadBody, HashResults) {
        Self::build(Source::Stream(Box::pin(stream)), Origin::OneShot, None, options)
    }

    /// A body from a stream of `length` bytes (one-shot): announced and enforced.
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
    /// let chunks = [Ok(Bytes::from_static(b"image ")), Ok(Bytes::from_static(b"bytes"))];
    /// let stream = futures_util::stream::iter(chunks);
    /// let (body, digests) = UploadBody::from_sized_stream(stream, 11, &UploadOptions::default());
    /// // A stream with fewer or more bytes than announced ends the body with `SizeMismatch`.
    /// # drop(http_body_util::BodyExt::collect(body).await);
    /// # let _ = digests.wait().await?;
    /// # Ok(()) }
    /// ```
    pub fn from_sized_stream(
        stream: impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static,
        length: u64,
        options: &UploadOptions,
    ) -> (UploadBody, HashResults) {
        Self::build(Source::Stream(Box::pin(stream)), Origin::OneShot, Some(length), options)
    }

    /// Whether [`UploadBody::reopen`] can make a fresh copy (files and memory: yes; readers
    /// and streams: no).
    pub fn is_replayable(&self) -> bool {
        !matches!(self.origin, Origin::OneShot)
    }

    /// A fresh copy from the start, with fresh hashers, for a retry; `None` for one-shot
    /// sources, which are never re-sent.
    pub async fn reopen(&self) -> Option<Result<(UploadBody, HashResults), TransferError>> {
        match &self.origin {
            Origin::Path(p) => Some(UploadBody::from_path(p, &self.options).await),
            Origin::OpenFile { file, offset } => {
                Some(UploadBody::from_file_at(file.clone(), *offset, &self.options))
            }
            Origin::Bytes(b) => Some(Ok(UploadBody::from_bytes(b.clone(), &self.options))),
            Origin::OneShot => None,
        }
    }

    /// The announced length, if known.
    pub fn length(&self) -> Option<u64> {
        self.length
    }

    fn finish(&mut self) {
        self.source = Source::Done;
        if let Some(f) = self.feeder.take() {
            f.finish();
        }
        if let Some(mut t) = self.tracker.take() {
            t.finish();
        }
    }
}

impl Body for UploadBody {
    type Data = Bytes;
    type Error = TransferError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, TransferError>>> {
        let this = &mut *self;
        if let Some(feeder) = this.feeder.as_mut() {
            if let Err(e) = ready!(feeder.poll_ready(cx)) {
                return Poll::Ready(Some(Err(e)));
            }
        }
        loop {
            return match ready!(this.source.poll_next(cx)) {
                Some(Ok(chunk)) if chunk.is_empty() => continue,
                Some(Ok(chunk)) => {
                    this.sent += chunk.len() as u64;
                    if let Some(len) = this.length {
                        if this.sent > len {
                            this.source = Source::Done;
                            this.feeder = None;
                            return Poll::Ready(Some(Err(TransferError::SizeMismatch {
                                expected: len,
                                actual: this.sent,
                            })));
                        }
                    }
                    if let Some(f) = this.feeder.as_mut() {
                        f.update(&chunk);
                    }
                    if let Some(t) = this.tracker.as_mut() {
                        t.advance(chunk.len() as u64);
                    }
                    if this.length == Some(this.sent) {
                        // All announced bytes are out: an HTTP client may never poll again,
                        // so the digests are final now.
                        this.finish();
                    }
                    Poll::Ready(Some(Ok(Frame::data(chunk))))
                }
                Some(Err(e)) => {
                    this.source = Source::Done;
                    this.feeder = None;
                    Poll::Ready(Some(Err(e)))
                }
                None => {
                    this.source = Source::Done;
                    if let Some(len) = this.length {
                        if this.sent != len {
                            this.feeder = None;
                            return Poll::Ready(Some(Err(TransferError::SizeMismatch {
                                expected: len,
                                actual: this.sent,
                            })));
                        }
                    }
                    this.finish();
                    Poll::Ready(None)
                }
            };
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.source, Source::Done)
    }

    fn size_hint(&self) -> SizeHint {
        match self.length {
            Some(len) => SizeHint::with_exact(len.saturating_sub(self.sent)),
            None => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests;
