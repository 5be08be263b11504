//! Verified downloads: `download_image` to a path, a writer, memory or a stream.

use std::path::PathBuf;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use http::header::RANGE;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use openstack_auth::{Error, RequestBody, ResponseBody, Result};
use openstack_resource::encode_segment;
use openstack_transfer::{
    Algorithm, Download, DownloadOptions, DownloadReport, Expected, Opened, Progress, RangeSource,
    TransferError,
};
use openstack_transfer::{ByteStream, OpenFuture};

use crate::call::Call;
use crate::error::transfer_error;
use crate::id_ref::IdRef;
use crate::proxy::{ImageProxy, SERVICE};
use crate::types::{Image, ImageStatus};

impl ImageProxy {
    /// `download_image(image, stream, output)`: a builder. Awaited, it gives the bytes in
    /// memory (as openstacksdk's does); [`DownloadImage::to_path`],
    /// [`DownloadImage::to_writer`] and [`DownloadImage::into_stream`] send them elsewhere.
    /// Every form is verified against the image's `os_hash_value` (else `checksum`), and
    /// every future is `'static` (spawn it, put it in a `select!`).
    ///
    /// On a multi-thread runtime, a long download costs less CPU run as a spawned task than
    /// awaited directly in `#[tokio::main]`'s body (which runs on the main thread, outside the
    /// workers): spawned, each frame is read on the worker that received it; awaited in
    /// `block_on`, each frame wakes the main thread and a worker in turn. Over a 16 MiB/s link,
    /// `osrs image save` (which spawns) cost 26% less CPU this way, at the same speed.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let bytes = image.download_image("5cfaff86-…").await?;
    /// let outcome = image.download_image("5cfaff86-…").to_path("disk.qcow2").await?;
    /// println!("{} bytes verified with {:?}", outcome.report.bytes, outcome.verified_with);
    /// # let _ = bytes; Ok(()) }
    /// ```
    pub fn download_image(&self, image: impl IdRef) -> DownloadImage {
        DownloadImage {
            proxy: self.clone(),
            image_id: image.id_ref().to_string(),
            prefer: None,
            progress: None,
            max_resumes: 5,
            allow_md5: true,
            verify: true,
            durable: true,
            connections: None,
        }
    }
}

/// A download being configured. See [`ImageProxy::download_image`].
#[must_use = "nothing is downloaded until a to_* method is awaited"]
pub struct DownloadImage {
    proxy: ImageProxy,
    image_id: String,
    prefer: Option<String>,
    progress: Option<Progress>,
    max_resumes: u32,
    allow_md5: bool,
    verify: bool,
    durable: bool,
    connections: Option<usize>,
}

/// From this image size on, a download uses [`AUTO_CONNECTIONS`] connections unless told
/// otherwise (rclone's `--multi-thread-cutoff`).
pub const AUTO_CONNECTIONS_FROM: u64 = 256 << 20;
/// Connections of a download of a large image by default (rclone's
/// `--multi-thread-streams`), when one stream is slower than [`AUTO_CONNECTIONS_BELOW`].
pub const AUTO_CONNECTIONS: usize = 4;
/// A large image's first 4 MiB arriving slower than this (bytes per second) start the other
/// connections; faster, one stream reads it all.
pub const AUTO_CONNECTIONS_BELOW: u64 = 64 << 20;

impl std::fmt::Debug for DownloadImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadImage").field("image_id", &self.image_id).finish_non_exhaustive()
    }
}

/// What a finished download delivered.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DownloadOutcome {
    /// The image record the data was checked against.
    pub image: Box<Image>,
    /// Bytes, digests, resumes.
    pub report: DownloadReport,
    /// The digest that was verified. `None` when verification was switched off, when the
    /// image has no checksum at all, or when it has only an MD5 `checksum` (an image older
    /// than `os_hash_value`) and [`DownloadImage::allow_md5`] is off: the bytes were then
    /// delivered unverified.
    pub verified_with: Option<Algorithm>,
}

impl DownloadImage {
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
    /// switch off on FIPS systems). Off, such an image is delivered unverified and
    /// [`DownloadOutcome::verified_with`] is `None`.
    pub fn allow_md5(mut self, allow: bool) -> Self {
        self.allow_md5 = allow;
        self
    }

    /// How many connections fetch parts of the image at once. Default: 1 for an image under
    /// [`AUTO_CONNECTIONS_FROM`] (256 MiB); from there, [`AUTO_CONNECTIONS`] (4) if its first
    /// 4 MiB arrive slower than [`AUTO_CONNECTIONS_BELOW`] (64 MiB/s), else one stream.
    /// Several connections win only where one stream is held below the link (a distant
    /// region, a per-connection cap at a load balancer or proxy, a store serving one stream
    /// at a time); on a fast link one stream is as fast and cheaper (measured on loopback: a
    /// fixed 4 connections took 1.5x as long as one), and for a small image the first part
    /// is most of it. `connections(n)` uses `n` whatever the speed (fewer for an image of
    /// fewer parts). [`DownloadReport::connections`] in the outcome says how many a download
    /// used.
    ///
    /// The image is fetched in parts (4 MiB; 3 MiB with 8 connections) by range requests,
    /// each connection asking for its next part about a round trip before the current one
    /// ends, on a second socket (so up to `2n` sockets are open, `n` streaming). The data is
    /// still verified against the whole image's digest, hashed in order as it arrives; at
    /// most `n` parts (24 MiB in all) are held in memory; each part resumes on its own;
    /// progress counts all connections. `connections(1)` is one stream, as before.
    pub fn connections(mut self, n: usize) -> Self {
        self.connections = Some(n.max(1));
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
            return Err(Error::NoData {
                what: format!("image {}", image.id),
                reason: format!("status {}", image.status),
            });
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
        let path = file_path(&image.id, self.prefer.as_deref());
        // The first request is made here so its errors keep their kind (403, 404, ...).
        let first = open_file(&self.proxy, &path, 0).await.map_err(|e| match e {
            OpenError::Api(e) => e,
            OpenError::Transfer(t) => transfer_error(t, &path),
        })?;
        let source = GlanceFile { proxy: self.proxy, path: path.clone(), first: Some(first) };
        let size = image.size.unwrap_or(0);
        let mut opts =
            DownloadOptions::default().max_resumes(self.max_resumes).durable(self.durable);
        opts = match self.connections {
            Some(n) => opts.connections(n),
            None if size >= AUTO_CONNECTIONS_FROM => {
                opts.connections_if_slower_than(AUTO_CONNECTIONS, AUTO_CONNECTIONS_BELOW)
            }
            None => opts,
        };
        if let Some(p) = self.progress {
            opts = opts.progress(p);
        }
        Ok((Download::new(source, expected, &opts), Box::new(image), verified_with, path))
    }

    /// Downloads into `path` atomically (temp file + fsync + rename after verification);
    /// nothing is left at `path` on any error. Dropping the future at any await point (a
    /// `timeout`, a `select!`) removes the temp file too: `path` is as it was before.
    ///
    /// # Errors
    /// [`Error::ChecksumMismatch`], [`Error::Io`] (e.g. disk full), transport errors after the
    /// resume budget, server errors (403 for a deactivated image as non-admin),
    /// [`Error::NoData`] for an image without data yet.
    pub fn to_path(self, path: impl Into<PathBuf>) -> Call<DownloadOutcome> {
        let path = path.into();
        Call::new(async move {
            let (download, image, verified_with, url) = self.start().await?;
            let report = download.to_path(path).await.map_err(|e| transfer_error(e, &url))?;
            Ok(DownloadOutcome { image, report, verified_with })
        })
    }

    /// Writes into `writer` (owned: the future is `'static`; it is flushed, then dropped),
    /// verifying at the end: on an error the writer may have received part of the data.
    ///
    /// # Errors
    /// As [`DownloadImage::to_path`].
    pub fn to_writer<W>(self, writer: W) -> Call<DownloadOutcome>
    where
        W: tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        Call::new(async move {
            let mut writer = writer;
            let (download, image, verified_with, url) = self.start().await?;
            let report =
                download.to_writer(&mut writer).await.map_err(|e| transfer_error(e, &url))?;
            Ok(DownloadOutcome { image, report, verified_with })
        })
    }

    /// Reads the whole image into memory, verified: what awaiting the builder does.
    ///
    /// # Errors
    /// As [`DownloadImage::to_path`].
    pub fn to_bytes(self) -> Call<Bytes> {
        Call::new(async move {
            let (download, _, _, url) = self.start().await?;
            let mut out = Vec::new();
            download.to_writer(&mut out).await.map_err(|e| transfer_error(e, &url))?;
            Ok(out.into())
        })
    }

    /// A verified stream (`stream=True`): nothing is asked of Glance until it is first
    /// polled; the last item is an error on a mismatch. Its errors convert to
    /// `std::io::Error`, so it can feed an upload: `ImageData::from(stream)`.
    pub fn into_stream(self) -> DownloadStream {
        let started = futures_util::stream::once(async move {
            let (download, _image, _, url) = self.start().await?;
            Ok::<_, Error>(download.into_stream().map_err(move |e| transfer_error(e, &url)))
        });
        DownloadStream { inner: Box::pin(started.try_flatten()) }
    }
}

impl std::future::IntoFuture for DownloadImage {
    type Output = Result<Bytes>;
    type IntoFuture = Call<Bytes>;
    fn into_future(self) -> Call<Bytes> {
        self.to_bytes()
    }
}

/// A verified download as a stream of chunks (see [`DownloadImage::into_stream`]).
#[must_use = "streams do nothing unless polled"]
pub struct DownloadStream {
    inner: std::pin::Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>,
}

impl std::fmt::Debug for DownloadStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadStream").finish_non_exhaustive()
    }
}

impl Stream for DownloadStream {
    type Item = Result<Bytes>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Bytes>>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl From<DownloadStream> for crate::ImageData {
    /// Uploads what the download delivers (size not announced: sent chunked; use
    /// `ImageData::sized_stream(stream.map_err(Into::into), size)` to announce it). A
    /// download failure, such as a checksum mismatch, fails the upload as itself.
    fn from(s: DownloadStream) -> crate::ImageData {
        crate::ImageData::stream(s.map_err(std::io::Error::from))
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
    open_file_range(proxy, path, offset, None).await
}

async fn open_file_range(
    proxy: &ImageProxy,
    path: &str,
    offset: u64,
    end: Option<u64>,
) -> std::result::Result<Opened, OpenError> {
    let req = file_request(path, offset, end).map_err(|e| OpenError::Api(e.into()))?;
    let resp = match proxy.session.request(SERVICE, req).await {
        Ok(r) => r,
        Err(e @ (Error::Transport { .. } | Error::IdleTimeout { .. })) => {
            return Err(OpenError::Transfer(TransferError::interrupted(e)));
        }
        Err(e) => return Err(OpenError::Api(e)),
    };
    let status = resp.status();
    if status == StatusCode::NO_CONTENT {
        return Err(OpenError::Api(Error::NoData {
            what: path.to_string(),
            reason: "204 No Content".into(),
        }));
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
    let stream: ByteStream =
        Box::pin(body.into_data_stream().map(|r| r.map_err(TransferError::interrupted)));
    Ok(Opened { partial, start, total, identity, body: stream })
}

/// `/v2/images/{id}/file`, with `?prefer=<store>` to read from that store first.
pub(crate) fn file_path(image_id: &str, prefer: Option<&str>) -> String {
    let mut path = format!("/v2/images/{}/file", encode_segment(image_id));
    if let Some(p) = prefer {
        path.push_str(&format!("?prefer={}", encode_segment(p)));
    }
    path
}

/// `GET` of the image data from `offset` (a `Range` request after a broken connection), to
/// `end` (exclusive) when given (a part of a download over several connections).
fn file_request(path: &str, offset: u64, end: Option<u64>) -> http::Result<Request<RequestBody>> {
    let mut req = Request::get(path);
    match end {
        Some(end) => req = req.header(RANGE, format!("bytes={offset}-{}", end - 1)),
        None if offset > 0 => req = req.header(RANGE, format!("bytes={offset}-")),
        None => {}
    }
    req.body(RequestBody::empty())
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

impl GlanceFile {
    fn request(&mut self, offset: u64, end: Option<u64>) -> OpenFuture<'_> {
        Box::pin(async move {
            open_file_range(&self.proxy, &self.path, offset, end).await.map_err(|e| match e {
                OpenError::Transfer(t) => t,
                OpenError::Api(e @ (Error::ServiceUnavailable(_) | Error::Http(_))) => {
                    TransferError::interrupted(e)
                }
                // Gone, forbidden, ...: the SDK's error itself, with its kind.
                OpenError::Api(e) => TransferError::Refused { source: Box::new(e) },
            })
        })
    }
}

impl RangeSource for GlanceFile {
    fn open(&mut self, offset: u64) -> OpenFuture<'_> {
        if offset == 0 {
            if let Some(first) = self.first.take() {
                return Box::pin(async move { Ok(first) });
            }
        }
        self.request(offset, None)
    }

    fn open_range(&mut self, offset: u64, end: u64) -> OpenFuture<'_> {
        self.request(offset, Some(end))
    }

    fn fork(&self) -> Option<Box<dyn RangeSource>> {
        Some(Box::new(GlanceFile {
            proxy: self.proxy.clone(),
            path: self.path.clone(),
            first: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_requests_prefer_a_store_and_resume_by_range() {
        assert_eq!(
            file_path("i/d", Some("fast store")),
            "/v2/images/i%2Fd/file?prefer=fast%20store"
        );
        let r = file_request("/v2/images/i/file", 0, None).unwrap();
        assert!(!r.headers().contains_key(RANGE));
        let r = file_request("/v2/images/i/file", 1024, None).unwrap();
        assert_eq!(r.headers()[RANGE], "bytes=1024-");
        let r = file_request("/v2/images/i/file", 0, Some(4096)).unwrap();
        assert_eq!(r.headers()[RANGE], "bytes=0-4095");
    }

    #[test]
    fn content_range() {
        assert_eq!(parse_content_range("bytes 100-199/1000"), Some((100, Some(1000))));
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(parse_content_range("items 1-2/3"), None);
    }
}
