//! Uploads: the data sources (`ImageData`) and `PUT /file` / `PUT /stage` with digests
//! computed in flight.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::Stream;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, Request};
use http_body_util::BodyExt;
use openstack_auth::BodyFactory;
use openstack_auth::{Error, RequestBody, Result};
use openstack_resource::encode_segment;
use openstack_transfer::{Digests, Progress, TransferError, UploadBody, UploadOptions};
use tokio::io::AsyncRead;

use crate::call::Call;
use crate::error::{transfer_error, upload_source_failure};
use crate::id_ref::IdRef;
use crate::proxy::{ImageProxy, SERVICE};
use crate::types::{ContainerFormat, Image};

/// Image data to upload: a file path, an open file, bytes in memory, a reader or a stream.
#[non_exhaustive]
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
    /// Data from a reader of unknown length (sent chunked).
    pub fn reader(reader: impl AsyncRead + Send + 'static) -> Self {
        ImageData::Reader { reader: Box::pin(reader), length: None }
    }

    /// Data from a reader of `length` bytes: announced, and enforced (a reader that ends
    /// early or runs long fails the upload with [`openstack_auth::Error::SizeMismatch`]).
    pub fn sized_reader(reader: impl AsyncRead + Send + 'static, length: u64) -> Self {
        ImageData::Reader { reader: Box::pin(reader), length: Some(length) }
    }

    /// Data from a stream of chunks of unknown length (sent chunked).
    pub fn stream(stream: impl Stream<Item = std::io::Result<Bytes>> + Send + 'static) -> Self {
        ImageData::Stream { stream: Box::pin(stream), length: None }
    }

    /// Data from a stream of `length` bytes: announced and enforced.
    pub fn sized_stream(
        stream: impl Stream<Item = std::io::Result<Bytes>> + Send + 'static,
        length: u64,
    ) -> Self {
        ImageData::Stream { stream: Box::pin(stream), length: Some(length) }
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

/// Uploads read regular files only (a directory or a pipe has no length to announce).
pub(crate) fn not_a_regular_file() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file")
}

/// Where an open file's upload starts (its cursor) and how many bytes follow; refuses
/// anything but a regular file, before any request.
pub(crate) fn open_file_span(file: &std::fs::File) -> Result<(u64, u64)> {
    use std::io::Seek;
    let io = |source| Error::Io { path: "open file".into(), source };
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(io(not_a_regular_file()));
    }
    let offset = { file }.stream_position().map_err(io)?;
    Ok((offset, meta.len().saturating_sub(offset)))
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

/// `PUT /v2/images/{id}/{file|stage}` without its body: the length announced when known
/// (and for `stage` also as `X-OpenStack-Image-Size`), the target store when given.
pub(crate) fn data_request(
    image_id: &str,
    target: &str,
    length: Option<u64>,
    store: Option<&str>,
) -> http::request::Builder {
    let mut req = Request::builder()
        .method(Method::PUT)
        .uri(format!("/v2/images/{}/{target}", encode_segment(image_id)))
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
    req
}

/// Upload data checked and ready to send.
pub(crate) enum PreparedUpload {
    /// A readable regular file: read (with fresh hashers) only when a request sends it, so a
    /// retry can read it again.
    File { source: FileSource, length: u64, options: UploadOptions },
    /// Any other source: one body, sent once. A stream's own failure is kept in `failure`
    /// (the HTTP stack only carries a stand-in), so the upload reports it as it was.
    OneShot {
        body: Box<UploadBody>,
        digests: openstack_transfer::HashResults,
        failure: Option<FailureSlot>,
    },
}

/// Where a stream source's own error waits for the upload's report.
pub(crate) type FailureSlot = Arc<Mutex<Option<std::io::Error>>>;

/// `stream`, its first error moved into the returned slot (a stand-in with the same kind and
/// message goes on through hyper, which keeps no error it can hand back).
fn keep_failure(
    stream: Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
) -> (Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>, FailureSlot) {
    use futures_util::StreamExt;
    let slot = FailureSlot::default();
    let keep = slot.clone();
    let stream = stream.map(move |r| {
        r.map_err(|e| {
            let stand_in = std::io::Error::new(e.kind(), e.to_string());
            keep.lock().expect("failure slot").get_or_insert(e);
            stand_in
        })
    });
    (Box::pin(stream), slot)
}

impl ImageProxy {
    /// Opens the data (checking a file exists and is readable) before anything is sent.
    pub(crate) async fn prepare_upload(
        &self,
        data: ImageData,
        options: &UploadOptions,
    ) -> Result<PreparedUpload> {
        let mut failure = None;
        let (body, digests) = match data {
            ImageData::Path(path) => {
                let io = |source| Error::Io { path: path.display().to_string(), source };
                let meta =
                    tokio::fs::File::open(&path).await.map_err(io)?.metadata().await.map_err(io)?;
                if !meta.is_file() {
                    return Err(io(not_a_regular_file()));
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
            ImageData::Reader { reader, length } => match length {
                Some(n) => UploadBody::from_sized_reader(reader, n, options),
                None => UploadBody::from_reader(reader, options),
            },
            ImageData::Stream { stream, length } => {
                let (stream, slot) = keep_failure(stream);
                failure = Some(slot);
                match length {
                    Some(n) => UploadBody::from_sized_stream(stream, n, options),
                    None => UploadBody::from_stream(stream, options),
                }
            }
        };
        Ok(PreparedUpload::OneShot { body: Box::new(body), digests, failure })
    }

    /// `PUT /v2/images/{id}/{file|stage}` with a hashing body; returns the digests.
    pub(crate) async fn put_data(
        &self,
        image_id: &str,
        target: &str,
        upload: PreparedUpload,
        store: Option<&str>,
    ) -> Result<Digests> {
        let length = match &upload {
            PreparedUpload::File { length, .. } => Some(*length),
            PreparedUpload::OneShot { body, .. } => body.length(),
        };
        let req = data_request(image_id, target, length, store);
        let path = req.uri_ref().map(ToString::to_string).unwrap_or_default();
        // A file can be reopened, so its upload may be retried (each attempt with fresh
        // hashers; the digests of the attempt that succeeded count). Any other source is sent
        // once: a consumed stream is never replayed.
        let mut failure = None;
        let (body, digests) = match upload {
            PreparedUpload::File { source, options, .. } => {
                let slot = Arc::new(Mutex::new(None));
                let attempts = slot.clone();
                let factory: BodyFactory = Arc::new(move || {
                    let (body, digests) = source.body(&options)?;
                    *attempts.lock().expect("digest slot") = Some(digests);
                    Ok(body.map_err(Into::into).boxed_unsync())
                });
                let body = RequestBody::replayable(factory).map_err(|e| {
                    match e.downcast::<TransferError>() {
                        Ok(t) => transfer_error(*t, &path),
                        Err(e) => Error::transport(&path, e),
                    }
                })?;
                (body, Digested::Slot(slot))
            }
            PreparedUpload::OneShot { body, digests, failure: slot } => {
                failure = slot;
                (RequestBody::stream(*body), Digested::Once(digests))
            }
        };
        let req = req.body(body)?;
        let resp = self
            .session
            .request(SERVICE, req)
            .await
            .map_err(|e| upload_source_failure(e, failure.as_ref()))?;
        let _ = resp.into_body().bytes().await;
        let results = match digests {
            Digested::Once(r) => r,
            Digested::Slot(slot) => slot.lock().expect("digest slot").take().ok_or_else(|| {
                Error::Incomplete { url: path.clone(), reason: "no upload attempt was made".into() }
            })?,
        };
        results.wait().await.map_err(|e| transfer_error(e, &path))
    }

    /// `stage_image(image, filename|data)`: `PUT /stage` (for a later glance-direct import),
    /// announcing the size when known. Returns the image after staging.
    /// [`StageImage::progress`] reports the bytes sent.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use std::path::Path;
    /// let img = image.stage_image("5cfaff86-…", Path::new("disk.qcow2")).await?;
    /// # let _ = img; Ok(()) }
    /// ```
    ///
    /// The data is inspected first, as `create_image`'s is: for an image whose
    /// `container_format` is `bare`, content that is not its `disk_format`, or that fails
    /// Glance's safety checks (a qcow2 backing file, a VMDK descriptor naming a host file...),
    /// or a qcow2/VMDK/VHD(X)/VDI/ISO labelled `raw`, is [`Error::ImageFormat`] before a byte
    /// is staged. Glance would take the bytes and fail the later import with a task message
    /// of "Internal Error". This costs one GET of the image; [`StageImage::inspect`] turns it
    /// off.
    ///
    /// Cancellation: the image is the caller's and is never deleted. Dropping the future
    /// mid-upload stops sending; the image keeps whatever Glance had staged (stage again,
    /// or delete the image).
    ///
    /// # Errors
    /// [`Error::Io`] for an unreadable file (before anything is sent);
    /// [`Error::ImageFormat`] (above); server errors.
    pub fn stage_image(&self, image: impl IdRef, data: impl Into<ImageData>) -> StageImage {
        StageImage {
            proxy: self.clone(),
            id: image.id_ref().to_string(),
            data: Mutex::new(Some(data.into())),
            progress: None,
            inspect: true,
        }
    }
}

/// `stage_image(image, data)` being configured; `.await` it.
#[must_use = "nothing is sent until it is awaited"]
pub struct StageImage {
    proxy: ImageProxy,
    id: String,
    // In a Mutex only so the builder is Sync (readers and streams need not be).
    data: Mutex<Option<ImageData>>,
    progress: Option<Progress>,
    inspect: bool,
}

impl std::fmt::Debug for StageImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageImage").field("id", &self.id).finish_non_exhaustive()
    }
}

impl StageImage {
    /// Reports the bytes sent as they go (and the total, when known).
    pub fn progress(mut self, p: Progress) -> Self {
        self.progress = Some(p);
        self
    }

    /// Whether the data is inspected against the image's `disk_format` before it is sent
    /// (default true; see [`ImageProxy::stage_image`]). Off, it is sent as it is, and
    /// Glance's import decides.
    pub fn inspect(mut self, inspect: bool) -> Self {
        self.inspect = inspect;
        self
    }
}

impl std::future::IntoFuture for StageImage {
    type Output = Result<Image>;
    type IntoFuture = Call<Image>;
    fn into_future(self) -> Call<Image> {
        let StageImage { proxy, id, data, progress, inspect } = self;
        let data = data.into_inner().ok().flatten();
        Call::new(async move {
            proxy.require("stage_image", 6).await?;
            let mut data =
                data.ok_or_else(|| Error::InvalidArgument("stage_image: no data".into()))?;
            if inspect {
                let image = proxy.get_image(&id).await?;
                // Glance inspects only bare images, as for create_image.
                if image.container_format == Some(ContainerFormat::Bare) {
                    let source = crate::inspect::describe(&data);
                    let (checked, found) = crate::inspect::inspect_data(data).await?;
                    data = checked;
                    crate::inspect::judge_for(
                        image.disk_format.as_ref(),
                        found,
                        &source,
                        crate::inspect::Bound::Stage,
                    )?;
                }
            }
            // Glance checks nothing when staging (digests come with the import), so nothing
            // is hashed here.
            let mut opts = UploadOptions::default().algorithms(&[]);
            if let Some(p) = progress {
                opts = opts.progress(p);
            }
            let upload = proxy.prepare_upload(data, &opts).await?;
            proxy.put_data(&id, "stage", upload, None).await?;
            proxy.get_image(&id).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_requests_announce_length_and_store() {
        let r = data_request("a b", "stage", Some(5), Some("fast")).body(()).unwrap();
        assert_eq!(r.method(), Method::PUT);
        assert_eq!(r.uri(), "/v2/images/a%20b/stage");
        assert_eq!(r.headers()[CONTENT_LENGTH], "5");
        assert_eq!(r.headers()["x-openstack-image-size"], "5");
        assert_eq!(r.headers()["x-image-meta-store"], "fast");
        let r = data_request("i", "file", None, None).body(()).unwrap();
        assert!(!r.headers().contains_key(CONTENT_LENGTH), "unknown length: chunked");
        assert!(!r.headers().contains_key("x-openstack-image-size"));
        assert_eq!(r.headers()[CONTENT_TYPE], "application/octet-stream");
    }
}
