//! Image data: uploads (`PUT /file`, `PUT /stage`) and verified downloads.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, RANGE};
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use openstack_auth::body::BodyFactory;
use openstack_auth::{Error, RequestBody, ResponseBody, Result};
use openstack_resource::encode_segment;
use openstack_transfer::download::{ByteStream, OpenFuture};
use openstack_transfer::{
    Algorithm, Digests, Download, DownloadOptions, DownloadReport, Expected, Opened, Progress,
    RangeSource, TransferError, UploadBody, UploadOptions,
};
use tokio::io::AsyncRead;

use crate::proxy::{IdRef, ImageProxy, SERVICE};
use crate::types::{Image, ImageStatus};

/// Image data to upload: a file path, an open file, bytes in memory, a reader or a stream.
pub enum ImageData {
    /// A file (streamed, never read into memory; its size is announced).
    Path(PathBuf),
    /// An open file, from its cursor to its end (read by offset: the cursor never moves,
    /// and a retry can read it again). `From<std::fs::File>`; a `tokio::fs::File` converts
    /// with `into_std().await`.
    File(Arc<std::fs::File>),
    /// Bytes in memory (sent in slices without copying).
    Bytes(Bytes),
    /// Any reader; `length` is announced and enforced when given.
    Reader {
        /// The reader.
        reader: Pin<Box<dyn AsyncRead + Send>>,
        /// Its length, if known.
        length: Option<u64>,
    },
    /// A stream of chunks.
    Stream {
        /// The stream.
        stream: Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
        /// Its length, if known.
        length: Option<u64>,
    },
}

impl std::fmt::Debug for ImageData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImageData::Path(p) => f.debug_tuple("Path").field(p).finish(),
            ImageData::File(file) => f.debug_tuple("File").field(file).finish(),
            ImageData::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            ImageData::Reader { length, .. } => write!(f, "Reader(length {length:?})"),
            ImageData::Stream { length, .. } => write!(f, "Stream(length {length:?})"),
        }
    }
}

impl ImageData {
    /// Data from a reader.
    pub fn reader(reader: impl AsyncRead + Send + 'static, length: Option<u64>) -> Self {
        ImageData::Reader { reader: Box::pin(reader), length }
    }

    /// Data from a stream of chunks.
    pub fn stream(
        stream: impl Stream<Item = std::io::Result<Bytes>> + Send + 'static,
        length: Option<u64>,
    ) -> Self {
        ImageData::Stream { stream: Box::pin(stream), length }
    }
}

impl From<Bytes> for ImageData {
    fn from(b: Bytes) -> Self {
        ImageData::Bytes(b)
    }
}
impl From<Vec<u8>> for ImageData {
    fn from(b: Vec<u8>) -> Self {
        ImageData::Bytes(b.into())
    }
}
impl From<&'static [u8]> for ImageData {
    fn from(b: &'static [u8]) -> Self {
        ImageData::Bytes(Bytes::from_static(b))
    }
}
impl From<String> for ImageData {
    fn from(s: String) -> Self {
        ImageData::Bytes(s.into())
    }
}
impl From<&Path> for ImageData {
    fn from(p: &Path) -> Self {
        ImageData::Path(p.to_path_buf())
    }
}
impl From<std::fs::File> for ImageData {
    fn from(f: std::fs::File) -> Self {
        ImageData::File(Arc::new(f))
    }
}
impl From<Arc<std::fs::File>> for ImageData {
    fn from(f: Arc<std::fs::File>) -> Self {
        ImageData::File(f)
    }
}
impl From<PathBuf> for ImageData {
    fn from(p: PathBuf) -> Self {
        ImageData::Path(p)
    }
}

/// Where an open file's upload starts (its cursor) and how many bytes follow; refuses
/// anything but a regular file, before any request.
pub(crate) fn open_file_span(file: &std::fs::File) -> Result<(u64, u64)> {
    use std::io::Seek;
    let io = |e: std::io::Error| Error::Io { path: "open file".into(), message: e.to_string() };
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(Error::Io { path: "open file".into(), message: "not a regular file".into() });
    }
    let offset = { file }.stream_position().map_err(io)?;
    Ok((offset, meta.len().saturating_sub(offset)))
}

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

/// Where the digests of an upload come from: its one body, or the last attempt's.
enum Digested {
    Once(openstack_transfer::HashResults),
    Slot(Arc<Mutex<Option<openstack_transfer::HashResults>>>),
}

/// A file an upload can read again for a retry.
#[derive(Clone)]
pub(crate) enum FileSource {
    Path(PathBuf),
    Open { file: Arc<std::fs::File>, offset: u64 },
}

impl FileSource {
    /// A fresh body (and hashers) reading the file from its start (or offset).
    pub(crate) fn body(
        &self,
        options: &UploadOptions,
    ) -> std::result::Result<(UploadBody, openstack_transfer::HashResults), TransferError> {
        match self {
            FileSource::Path(p) => UploadBody::from_path_blocking(p, options),
            FileSource::Open { file, offset } => {
                UploadBody::from_file_at(file.clone(), *offset, options)
            }
        }
    }

    pub(crate) fn name(&self) -> String {
        match self {
            FileSource::Path(p) => p.display().to_string(),
            FileSource::Open { .. } => "open file".into(),
        }
    }
}

/// Upload data checked and ready to send.
pub(crate) enum PreparedUpload {
    /// A readable regular file: read (with fresh hashers) only when a request sends it, so a
    /// retry can read it again.
    File { source: FileSource, length: u64, options: UploadOptions },
    /// Any other source: one body, sent once.
    OneShot { body: Box<UploadBody>, digests: openstack_transfer::HashResults },
}

impl ImageProxy {
    /// Opens the data (checking a file exists and is readable) before anything is sent.
    pub(crate) async fn prepare_upload(
        &self,
        data: ImageData,
        options: &UploadOptions,
    ) -> Result<PreparedUpload> {
        let (body, digests) = match data {
            ImageData::Path(path) => {
                let io = |e: std::io::Error| Error::Io {
                    path: path.display().to_string(),
                    message: e.to_string(),
                };
                let meta =
                    tokio::fs::File::open(&path).await.map_err(io)?.metadata().await.map_err(io)?;
                if !meta.is_file() {
                    return Err(Error::Io {
                        path: path.display().to_string(),
                        message: "not a regular file".into(),
                    });
                }
                return Ok(PreparedUpload::File {
                    source: FileSource::Path(path),
                    length: meta.len(),
                    options: options.clone(),
                });
            }
            ImageData::File(file) => {
                let (offset, length) = open_file_span(&file)?;
                return Ok(PreparedUpload::File {
                    source: FileSource::Open { file, offset },
                    length,
                    options: options.clone(),
                });
            }
            ImageData::Bytes(b) => UploadBody::from_bytes(b, options),
            ImageData::Reader { reader, length } => {
                UploadBody::from_reader(reader, length, options)
            }
            ImageData::Stream { stream, length } => {
                UploadBody::from_stream(stream, length, options)
            }
        };
        Ok(PreparedUpload::OneShot { body: Box::new(body), digests })
    }

    /// `PUT /v2/images/{id}/{file|stage}` with a hashing body; returns the digests.
    pub(crate) async fn put_data(
        &self,
        image_id: &str,
        target: &str,
        upload: PreparedUpload,
        store: Option<&str>,
    ) -> Result<Digests> {
        let path = format!("/v2/images/{}/{target}", encode_segment(image_id));
        let length = match &upload {
            PreparedUpload::File { length, .. } => Some(*length),
            PreparedUpload::OneShot { body, .. } => body.length(),
        };
        let mut req = Request::builder()
            .method(Method::PUT)
            .uri(&path)
            .header(CONTENT_TYPE, "application/octet-stream");
        if let Some(len) = length {
            req = req.header(CONTENT_LENGTH, len);
            if target == "stage" {
                req = req.header("x-openstack-image-size", len);
            }
        }
        if let Some(s) = store {
            req = req.header("x-image-meta-store", s);
        }
        // A file can be reopened, so its upload may be retried (each attempt with fresh
        // hashers; the digests of the attempt that succeeded count). Any other source is sent
        // once: a consumed stream is never replayed.
        let (body, digests) = match upload {
            PreparedUpload::File { source, options, .. } => {
                let slot = Arc::new(Mutex::new(None));
                let attempts = slot.clone();
                let factory: BodyFactory = Arc::new(move || {
                    let (body, digests) = source.body(&options)?;
                    *attempts.lock().expect("digest slot") = Some(digests);
                    Ok(body.map_err(Into::into).boxed_unsync())
                });
                let body = RequestBody::replayable(factory)
                    .map_err(|e| Error::Io { path: path.clone(), message: e.to_string() })?;
                (body, Digested::Slot(slot))
            }
            PreparedUpload::OneShot { body, digests } => {
                (RequestBody::stream(*body), Digested::Once(digests))
            }
        };
        let req = req.body(body)?;
        let resp = self.session.request(SERVICE, req).await?;
        let _ = resp.into_body().bytes().await;
        let results = match digests {
            Digested::Once(r) => r,
            Digested::Slot(slot) => slot.lock().expect("digest slot").take().ok_or_else(|| {
                Error::Io { path: path.clone(), message: "no upload attempt was made".into() }
            })?,
        };
        results.wait().await.map_err(|e| transfer_error(e, &path))
    }

    /// `upload_image(container_format, disk_format, data, **attrs)`: creates an image and
    /// uploads `data` in one call (a [`crate::CreateImage`] with data set).
    pub fn upload_image(
        &self,
        name: impl Into<String>,
        container_format: crate::types::ContainerFormat,
        disk_format: crate::types::DiskFormat,
        data: impl Into<ImageData>,
    ) -> crate::create::CreateImage<'_> {
        self.create_image(name)
            .container_format(container_format)
            .disk_format(disk_format)
            .data(data)
    }

    /// `stage_image(image, filename|data)`: `PUT /stage` (for a later glance-direct import),
    /// announcing the size when known. Returns the image after staging.
    ///
    /// # Errors
    /// [`Error::Io`] for an unreadable file (before anything is sent); server errors.
    pub async fn stage_image(
        &self,
        image: impl IdRef,
        data: impl Into<ImageData>,
    ) -> Result<Image> {
        self.require("stage_image", 2, 6).await?;
        let upload = self
            .prepare_upload(
                data.into(),
                &UploadOptions::default().algorithms(&[Algorithm::Md5, Algorithm::Sha256]),
            )
            .await?;
        self.put_data(image.id_ref(), "stage", upload, None).await?;
        self.get_image(image.id_ref()).await
    }

    /// `download_image(image, stream, output, chunk_size)`: a builder; finish it with
    /// [`DownloadImage::to_path`], [`DownloadImage::to_writer`], [`DownloadImage::to_bytes`] or
    /// [`DownloadImage::into_stream`]. Every form is verified against the image's
    /// `os_hash_value` (else `checksum`).
    pub fn download_image<I: IdRef>(&self, image: I) -> DownloadImage<'_> {
        DownloadImage {
            proxy: self,
            image_id: image.id_ref().to_string(),
            prefer: None,
            progress: None,
            max_resumes: 5,
            allow_md5: true,
            verify: true,
            durable: true,
        }
    }
}

/// A download being configured. See [`ImageProxy::download_image`].
#[must_use]
pub struct DownloadImage<'a> {
    proxy: &'a ImageProxy,
    image_id: String,
    prefer: Option<String>,
    progress: Option<Progress>,
    max_resumes: u32,
    allow_md5: bool,
    verify: bool,
    durable: bool,
}

impl std::fmt::Debug for DownloadImage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadImage").field("image_id", &self.image_id).finish_non_exhaustive()
    }
}

/// What a finished download delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadOutcome {
    /// The image record the data was checked against.
    pub image: Box<Image>,
    /// Bytes, digests, resumes.
    pub report: DownloadReport,
    /// The digest that was verified (`None` only when verification was switched off or the
    /// image has no checksum at all).
    pub verified_with: Option<Algorithm>,
}

impl<'a> DownloadImage<'a> {
    /// Asks Glance to read from this store first (`?prefer=`; falls back to the others).
    pub fn prefer(mut self, store: impl Into<String>) -> Self {
        self.prefer = Some(store.into());
        self
    }

    /// Reports progress.
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// How many broken connections are resumed with a range request (default 5).
    pub fn max_resumes(mut self, n: u32) -> Self {
        self.max_resumes = n;
        self
    }

    /// Whether MD5 (`checksum`) may verify an image without `os_hash_value` (default true;
    /// switch off on FIPS systems).
    pub fn allow_md5(mut self, allow: bool) -> Self {
        self.allow_md5 = allow;
        self
    }

    /// Whether [`DownloadImage::to_path`] fsyncs the file before renaming it into place
    /// (default true: the verified file survives a crash once the call returns). False skips
    /// the flush to disk, as openstacksdk and most tools do: faster when the disk is busy,
    /// but a power loss soon after may leave an empty or partial file. The file is verified
    /// before it appears at the path either way.
    pub fn durable(mut self, durable: bool) -> Self {
        self.durable = durable;
        self
    }

    /// `chunk_size` of openstacksdk: accepted for compatibility; chunks are the network's
    /// frames, passed on without copying.
    pub fn chunk_size(self, _bytes: usize) -> Self {
        self
    }

    async fn start(self) -> Result<(Download, Box<Image>, Option<Algorithm>, String)> {
        let image = self.proxy.get_image(&self.image_id).await?;
        if matches!(
            image.status,
            ImageStatus::Queued
                | ImageStatus::Saving
                | ImageStatus::Uploading
                | ImageStatus::Importing
        ) || image.size.is_none()
        {
            return Err(Error::InvalidArgument(format!(
                "image {} has no data to download yet (status {})",
                image.id, image.status
            )));
        }
        let digest = match (
            image.os_hash_algo.as_deref(),
            image.os_hash_value.as_deref(),
            image.checksum.as_deref(),
        ) {
            (Some(algo), Some(value), _) if algo.parse::<Algorithm>().is_ok() => {
                Some((algo.parse::<Algorithm>().expect("checked"), value.to_ascii_lowercase()))
            }
            (_, _, Some(md5)) if self.allow_md5 => Some((Algorithm::Md5, md5.to_ascii_lowercase())),
            _ => None,
        };
        let verified_with = digest.as_ref().map(|(a, _)| *a).filter(|_| self.verify);
        let expected =
            Expected { size: image.size, digest: if self.verify { digest } else { None } };
        let mut path = format!("/v2/images/{}/file", encode_segment(&image.id));
        if let Some(p) = &self.prefer {
            path.push_str(&format!("?prefer={}", encode_segment(p)));
        }
        // The first request is made here so its errors keep their kind (403, 404, ...).
        let first = open_file(self.proxy, &path, 0).await.map_err(|e| match e {
            OpenError::Api(e) => e,
            OpenError::Transfer(t) => transfer_error(t, &path),
        })?;
        let source =
            GlanceFile { proxy: self.proxy.clone(), path: path.clone(), first: Some(first) };
        let mut opts =
            DownloadOptions::default().max_resumes(self.max_resumes).durable(self.durable);
        if let Some(p) = self.progress {
            opts = opts.progress(p);
        }
        Ok((Download::new(source, expected, &opts), Box::new(image), verified_with, path))
    }

    /// Downloads into `path` atomically (temp file + fsync + rename after verification);
    /// nothing is left at `path` on any error.
    ///
    /// # Errors
    /// [`Error::ChecksumMismatch`], [`Error::Io`] (e.g. disk full), transport errors after the
    /// resume budget, server errors (403 for a deactivated image as non-admin).
    pub async fn to_path(self, path: impl AsRef<Path>) -> Result<DownloadOutcome> {
        let (download, image, verified_with, url) = self.start().await?;
        let report = download.to_path(path).await.map_err(|e| transfer_error(e, &url))?;
        Ok(DownloadOutcome { image, report, verified_with })
    }

    /// Writes into `writer`, verifying at the end (the writer may hold partial data on error).
    ///
    /// # Errors
    /// As [`DownloadImage::to_path`].
    pub async fn to_writer<W: tokio::io::AsyncWrite + Unpin>(
        self,
        writer: &mut W,
    ) -> Result<DownloadOutcome> {
        let (download, image, verified_with, url) = self.start().await?;
        let report = download.to_writer(writer).await.map_err(|e| transfer_error(e, &url))?;
        Ok(DownloadOutcome { image, report, verified_with })
    }

    /// Reads the whole image into memory, verified (`download_image(image)` without output).
    ///
    /// # Errors
    /// As [`DownloadImage::to_path`].
    pub async fn to_bytes(self) -> Result<Bytes> {
        let mut out = Vec::new();
        self.to_writer(&mut out).await?;
        Ok(out.into())
    }

    /// A verified stream (`stream=True`): the last item is an error on a mismatch.
    ///
    /// # Errors
    /// Errors before the first byte (the image record, the first request).
    pub async fn into_stream(self) -> Result<impl Stream<Item = Result<Bytes>> + Send + use<>> {
        let (download, _image, _, url) = self.start().await?;
        Ok(download.into_stream().map_err(move |e| transfer_error(e, &url)))
    }
}

enum OpenError {
    Api(Error),
    Transfer(TransferError),
}

async fn open_file(
    proxy: &ImageProxy,
    path: &str,
    offset: u64,
) -> std::result::Result<Opened, OpenError> {
    let mut req = Request::get(path);
    if offset > 0 {
        req = req.header(RANGE, format!("bytes={offset}-"));
    }
    let req = req.body(RequestBody::empty()).map_err(|e| OpenError::Api(e.into()))?;
    let resp = match proxy.session.request(SERVICE, req).await {
        Ok(r) => r,
        Err(e @ Error::Transport { .. }) => {
            return Err(OpenError::Transfer(TransferError::Interrupted { message: e.to_string() }));
        }
        Err(e) => return Err(OpenError::Api(e)),
    };
    let status = resp.status();
    if status == StatusCode::NO_CONTENT {
        return Err(OpenError::Api(Error::InvalidArgument(format!(
            "{path}: the image has no data (204 No Content)"
        ))));
    }
    let headers = resp.headers();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let content_length = header("content-length").and_then(|v| v.parse::<u64>().ok());
    let (partial, start, total) = if status == StatusCode::PARTIAL_CONTENT {
        let range = header("content-range").unwrap_or_default();
        let (start, total) = parse_content_range(&range).ok_or_else(|| {
            OpenError::Transfer(TransferError::Resume {
                message: format!("206 without a usable Content-Range ({range:?})"),
            })
        })?;
        (true, start, total)
    } else {
        (false, 0, content_length)
    };
    // Glance sends the MD5 of the whole image with every answer, ranged or not.
    let identity = header("content-md5").or_else(|| header("etag"));
    let body: ResponseBody = resp.into_body();
    let stream: ByteStream = Box::pin(
        body.into_data_stream()
            .map(|r| r.map_err(|e| TransferError::Interrupted { message: e.to_string() })),
    );
    Ok(Opened { partial, start, total, identity, body: stream })
}

/// `bytes 100-199/1000` → (100, Some(1000)).
fn parse_content_range(s: &str) -> Option<(u64, Option<u64>)> {
    let rest = s.trim().strip_prefix("bytes")?.trim();
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()))
}

struct GlanceFile {
    proxy: ImageProxy,
    path: String,
    first: Option<Opened>,
}

impl RangeSource for GlanceFile {
    fn open(&mut self, offset: u64) -> OpenFuture<'_> {
        if offset == 0 {
            if let Some(first) = self.first.take() {
                return Box::pin(async move { Ok(first) });
            }
        }
        Box::pin(async move {
            open_file(&self.proxy, &self.path, offset).await.map_err(|e| match e {
                OpenError::Transfer(t) => t,
                OpenError::Api(e @ (Error::ServiceUnavailable(_) | Error::Http(_))) => {
                    TransferError::Interrupted { message: e.to_string() }
                }
                OpenError::Api(e) => TransferError::Resume { message: e.to_string() },
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range() {
        assert_eq!(parse_content_range("bytes 100-199/1000"), Some((100, Some(1000))));
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(parse_content_range("items 1-2/3"), None);
    }
}
