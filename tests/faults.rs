//! Faults the real Glance cannot be made to produce, injected by a small proxy in front of
//! it: connections cut mid-download, a server ignoring `Range`, a flipped byte, short
//! bodies, a stall, and a 503 in the middle of a one-shot upload.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use openstack_auth::{RetryPolicy, Session};
use openstack_image::{DiskFormat, ImageData, ImageProxy};
use openstack_resource::Error;
use openstack_tests::{ADMIN, cloud, data, image, unique};

type Body = BoxBody<Bytes, std::io::Error>;

#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Cut the first file download after this many bytes.
    CutOnce(u64),
    /// Cut the first download; answer later ranged requests with 200 and everything.
    CutThenIgnoreRange(u64),
    /// Flip one byte of every download at this offset.
    Flip(u64),
    /// Cut every download after this many bytes (a body shorter than the image).
    CutAlways(u64),
    /// Stop sending (keep the connection open) after this many bytes.
    Stall(u64),
    /// Answer every image list with the same `next` link (a server bug).
    LoopNext,
    /// Forward uploads to Glance slowly: this long between frames.
    SlowUpload(Duration),
    /// Answer `PUT .../file` with 503 (after reading the whole upload, so the answer is
    /// deterministic rather than a race with a broken pipe).
    Upload503,
    /// Stop reading an upload after this many bytes (keep the connection open, answer never).
    UploadStopReading(u64),
    /// Read a whole upload, then never answer.
    UploadNoAnswer,
}

struct State {
    fault: Fault,
    downloads: AtomicU32,
    uploads: AtomicU32,
    ranges: Mutex<Vec<Option<String>>>,
}

struct FaultProxy {
    url: String,
    state: Arc<State>,
}

async fn start(fault: Fault) -> FaultProxy {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(State {
        fault,
        downloads: AtomicU32::new(0),
        uploads: AtomicU32::new(0),
        ranges: Mutex::new(Vec::new()),
    });
    let upstream: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new()).build_http();
    let st = state.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let st = st.clone();
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    handle(req, st.clone(), upstream.clone())
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    FaultProxy { url, state }
}

fn io_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

async fn handle(
    req: Request<Incoming>,
    st: Arc<State>,
    upstream: Client<HttpConnector, Body>,
) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let is_file = req.uri().path().ends_with("/file");
    if is_file && req.method() == http::Method::PUT {
        st.uploads.fetch_add(1, Ordering::SeqCst);
        let limit = match st.fault {
            Fault::UploadStopReading(after) => Some(after),
            Fault::UploadNoAnswer => Some(u64::MAX),
            _ => None,
        };
        if let Some(limit) = limit {
            let mut body = req.into_body();
            let mut read = 0u64;
            while read < limit {
                match body.frame().await {
                    Some(Ok(f)) => read += f.data_ref().map_or(0, |d| d.len() as u64),
                    _ => break,
                }
            }
            // Hold the connection (and any unread body) open; never answer.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            drop(body);
            let late = Full::new(Bytes::from_static(b"too late")).map_err(io_err).boxed();
            return Ok(Response::builder().status(504).body(late).unwrap());
        }
        if let Fault::Upload503 = st.fault {
            let mut body = req.into_body();
            while let Some(Ok(_)) = body.frame().await {}
            let resp = Response::builder()
                .status(StatusCode::SERVICE_UNAVAILABLE)
                .header("retry-after", "0")
                .body(
                    Full::new(Bytes::from_static(b"{\"message\": \"injected 503\"}"))
                        .map_err(io_err)
                        .boxed(),
                )
                .unwrap();
            return Ok(resp);
        }
    }
    if let Fault::LoopNext = st.fault {
        if req.uri().path() == "/v2/images" {
            let body = r#"{"images": [{"id": "11111111-1111-1111-1111-111111111111", "name": "loop"}], "next": "/v2/images?marker=11111111-1111-1111-1111-111111111111"}"#;
            return Ok(Response::new(
                Full::new(Bytes::from_static(body.as_bytes())).map_err(io_err).boxed(),
            ));
        }
    }
    let download = is_file && req.method() == http::Method::GET;
    let n = if download { st.downloads.fetch_add(1, Ordering::SeqCst) } else { 0 };
    let (mut parts, body) = req.into_parts();
    if download {
        st.ranges
            .lock()
            .unwrap()
            .push(parts.headers.get("range").map(|v| v.to_str().unwrap().to_string()));
        if matches!(st.fault, Fault::CutThenIgnoreRange(_)) && n > 0 {
            parts.headers.remove("range");
        }
    }
    parts.uri = format!("{}{path}", openstack_tests::glance_url()).parse().unwrap();
    parts.headers.remove("host");
    let body = body.map_err(io_err).boxed();
    let body = match st.fault {
        Fault::SlowUpload(pause) if is_file => {
            let frames = futures_util::stream::unfold(body, move |mut b| async move {
                tokio::time::sleep(pause).await;
                b.frame().await.map(|f| (f, b))
            });
            StreamBody::new(frames).boxed()
        }
        _ => body,
    };
    let up = Request::from_parts(parts, body);
    let resp = match upstream.request(up).await {
        Ok(r) => r,
        Err(e) => {
            return Ok(Response::builder()
                .status(502)
                .body(Full::new(Bytes::from(e.to_string())).map_err(io_err).boxed())
                .unwrap());
        }
    };
    let (parts, body) = resp.into_parts();
    if !download || parts.status.is_client_error() {
        return Ok(Response::from_parts(parts, body.map_err(io_err).boxed()));
    }
    // Glance streams downloads chunked, so the cut points are absolute offsets.
    let limit = match st.fault {
        Fault::CutOnce(at) | Fault::CutThenIgnoreRange(at) if n == 0 => Some(at),
        Fault::CutAlways(at) => Some(at),
        _ => None,
    };
    let fault = st.fault;
    let stream = futures_util::stream::unfold(
        (body, 0u64, false),
        move |(mut body, mut pos, done)| async move {
            if done {
                return None;
            }
            if let Fault::Stall(after) = fault {
                if pos >= after {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
            }
            let frame = match body.frame().await {
                None => return None,
                Some(Err(e)) => return Some((Err(io_err(e)), (body, pos, true))),
                Some(Ok(f)) => f,
            };
            let Ok(mut data) = frame.into_data() else {
                return Some((Ok(Frame::data(Bytes::new())), (body, pos, false)));
            };
            let start = pos;
            pos += data.len() as u64;
            if let Some(limit) = limit {
                if pos > limit {
                    let keep = limit.saturating_sub(start) as usize;
                    // Send what fits, then break the connection.
                    let first = data.slice(..keep);
                    let rest: std::io::Result<Frame<Bytes>> =
                        Err(io_err("injected: connection cut"));
                    let _ = rest;
                    if keep == 0 {
                        // Let the server flush what it sent (headers included) first, so the
                        // client sees a broken body rather than a connection that never answered.
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        return Some((Err(io_err("injected: connection cut")), (body, pos, true)));
                    }
                    return Some((Ok(Frame::data(first)), (body, limit, false)));
                }
            }
            if let Fault::Flip(at) = fault {
                if start <= at && at < pos {
                    let mut v = data.to_vec();
                    v[(at - start) as usize] ^= 0x01;
                    data = Bytes::from(v);
                }
            }
            if let Fault::Stall(after) = fault {
                if pos > after {
                    let keep = after.saturating_sub(start) as usize;
                    return Some((Ok(Frame::data(data.slice(..keep))), (body, after, false)));
                }
            }
            Some((Ok(Frame::data(data)), (body, pos, false)))
        },
    );
    Ok(Response::from_parts(parts, StreamBody::new(stream).boxed()))
}

/// An image proxy that reaches Glance through the fault proxy (Keystone directly).
fn through(proxy: &FaultProxy, read_timeout: Option<Duration>) -> ImageProxy {
    through_with(proxy, read_timeout, None, None)
}

/// As [`through`], with the upload's idle timeout and its bound on the wait for a response.
fn through_with(
    proxy: &FaultProxy,
    read_timeout: Option<Duration>,
    send_timeout: Option<Duration>,
    response_timeout: Option<Duration>,
) -> ImageProxy {
    let mut cfg = cloud(ADMIN);
    cfg.endpoint_overrides.insert("image".into(), proxy.url.clone());
    let mut b = Session::builder(cfg);
    if read_timeout.is_some() {
        b = b.read_timeout(read_timeout);
    }
    if let Some(t) = send_timeout {
        b = b.send_timeout(t);
    }
    if let Some(t) = response_timeout {
        b = b.response_timeout(t);
    }
    ImageProxy::new(b.retry_policy(RetryPolicy::default().max_retries(2)).build().unwrap())
}

async fn uploaded(bytes: &[u8]) -> openstack_image::Image {
    image(ADMIN)
        .create_image(unique("fault"))
        .data(bytes.to_vec())
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap()
}

#[tokio::test]
async fn cut_at_10_50_and_99_percent_resumes_with_range_and_verifies() {
    let bytes = data(2_000_000, 51);
    let img = uploaded(&bytes).await;
    for fraction in [0.10, 0.50, 0.99] {
        let proxy = start(Fault::CutOnce((bytes.len() as f64 * fraction) as u64)).await;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("img.raw");
        let outcome = through(&proxy, None).download_image(&img).to_path(&out).await.unwrap();
        eprintln!(
            "fraction {fraction} ranges {:?} resumes {}",
            proxy.state.ranges.lock().unwrap(),
            outcome.report.resumes
        );
        assert_eq!(std::fs::read(&out).unwrap(), bytes, "cut at {fraction}");
        assert_eq!(outcome.report.resumes, 1);
        let ranges = proxy.state.ranges.lock().unwrap().clone();
        eprintln!("ranges {ranges:?} resumes {}", outcome.report.resumes);
        assert_eq!(ranges.len(), 2, "{ranges:?}");
        // The resume starts where the client's data ended: at or before the cut (bytes in
        // flight when the connection broke are lost), never at 0.
        let cut = (bytes.len() as f64 * fraction) as u64;
        let start: u64 = ranges[1]
            .as_deref()
            .and_then(|r| r.strip_prefix("bytes=")?.strip_suffix('-')?.parse().ok())
            .unwrap_or_else(|| panic!("the resume asked for a range: {ranges:?}"));
        assert!(start > 0 && start <= cut, "resumed from {start}, cut at {cut}");
    }
    image(ADMIN).delete_image(&img).await.unwrap();
}

#[tokio::test]
async fn server_ignoring_range_restarts_cleanly() {
    let bytes = data(1_500_000, 52);
    let img = uploaded(&bytes).await;
    let proxy = start(Fault::CutThenIgnoreRange(600_000)).await;
    let got = through(&proxy, None).download_image(&img).to_bytes().await.unwrap();
    assert_eq!(got.as_ref(), &bytes[..]);
    assert_eq!(proxy.state.downloads.load(Ordering::SeqCst), 2);
    image(ADMIN).delete_image(&img).await.unwrap();
}

#[tokio::test]
async fn flipped_byte_is_a_checksum_mismatch_and_nothing_is_left() {
    let bytes = data(700_000, 53);
    let img = uploaded(&bytes).await;
    let proxy = start(Fault::Flip(333_333)).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("img.raw");
    let err = through(&proxy, None).download_image(&img).to_path(&out).await.unwrap_err();
    assert!(
        matches!(&err, Error::ChecksumMismatch { algorithm, .. } if algorithm == "sha512"),
        "{err:?}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file, no temp file");
    // The stream form ends with the error too.
    let mut s = Box::pin(through(&proxy, None).download_image(&img).into_stream().await.unwrap());
    let mut last = None;
    while let Some(item) = futures_util::StreamExt::next(&mut s).await {
        last = Some(item);
    }
    assert!(matches!(last, Some(Err(Error::ChecksumMismatch { .. }))));
    image(ADMIN).delete_image(&img).await.unwrap();
}

#[tokio::test]
async fn short_body_is_an_error_and_no_file() {
    let bytes = data(800_000, 54);
    let img = uploaded(&bytes).await;
    let proxy = start(Fault::CutAlways(100_000)).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("img.raw");
    let err =
        through(&proxy, None).download_image(&img).max_resumes(2).to_path(&out).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert_eq!(proxy.state.downloads.load(Ordering::SeqCst), 3, "first try + 2 resumes");
    image(ADMIN).delete_image(&img).await.unwrap();
}

#[tokio::test]
async fn stalled_server_hits_the_idle_timeout_and_leaves_no_file() {
    let bytes = data(600_000, 55);
    let img = uploaded(&bytes).await;
    let proxy = start(Fault::Stall(100_000)).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("img.raw");
    let err = through(&proxy, Some(Duration::from_secs(1)))
        .download_image(&img)
        .max_resumes(1)
        .to_path(&out)
        .await
        .unwrap_err();
    assert!(err.report().contains("idle read timeout"), "{}", err.report());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    image(ADMIN).delete_image(&img).await.unwrap();
}

#[tokio::test]
async fn one_shot_upload_interrupted_by_503_is_never_resent() {
    let proxy = start(Fault::Upload503).await;
    let img = through(&proxy, None);
    let name = unique("oneshot");
    let chunks: Vec<std::io::Result<Bytes>> =
        (0..16).map(|i| Ok(Bytes::from(data(64 * 1024, 60 + i)))).collect();
    let err = img
        .create_image(&name)
        .data(ImageData::sized_stream(futures_util::stream::iter(chunks), 16 * 64 * 1024))
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), Error::NotReplayable { .. }), "{err:?}");
    assert!(err.report().contains("cannot be replayed"), "{}", err.report());
    assert_eq!(proxy.state.uploads.load(Ordering::SeqCst), 1, "sent once, never re-sent");
    assert!(
        image(ADMIN).find_image_opt(&name).await.unwrap().is_none(),
        "half-created image deleted"
    );

    // A file, by contrast, can be reopened: the retry after the 503 is sent again from the start.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("retry.raw");
    std::fs::write(&f, data(300_000, 70)).unwrap();
    let err = img.create_image(unique("file503")).filename(&f).await.unwrap_err();
    assert!(err.status() == Some(StatusCode::SERVICE_UNAVAILABLE), "{err:?}");
    assert_eq!(
        proxy.state.uploads.load(Ordering::SeqCst),
        1 + 3,
        "a file upload is retried (2 retries)"
    );
    // So can an open file (read by offset, from its cursor each time).
    let mut open = std::fs::File::open(&f).unwrap();
    std::io::Seek::seek(&mut open, std::io::SeekFrom::Start(1000)).unwrap();
    let err = img.create_image(unique("open503")).data(open).await.unwrap_err();
    assert!(err.status() == Some(StatusCode::SERVICE_UNAVAILABLE), "{err:?}");
    assert_eq!(proxy.state.uploads.load(Ordering::SeqCst), 1 + 3 + 3, "an open file is retried");
}

#[tokio::test]
async fn a_repeated_next_link_ends_the_list_with_an_error_not_a_loop() {
    use futures_util::StreamExt;
    let proxy = start(Fault::LoopNext).await;
    let img = through(&proxy, None);
    let items: Vec<_> = img.images(&openstack_image::ImageQuery::new()).take(10).collect().await;
    assert_eq!(items.len(), 3, "two pages of one image, then the error: {items:?}");
    assert!(items[0].is_ok() && items[1].is_ok());
    let err = items[2].as_ref().unwrap_err();
    assert!(err.report().contains("pagination loop"), "{}", err.report());
}

#[tokio::test]
async fn a_long_upload_is_never_cut_by_the_read_timeout() {
    // 2 s idle read timeout, an upload that takes several seconds (the proxy forwards one
    // 256 KiB frame every 500 ms): bytes keep moving, so nothing may time out. (The timeout
    // applies to the token request too; a Keystone worker that just started can take over
    // a second to answer its first one, so both workers are warmed first.)
    for _ in 0..2 {
        openstack_tests::session(ADMIN).endpoint("image").await.unwrap();
    }
    let proxy = start(Fault::SlowUpload(Duration::from_millis(500))).await;
    let img = through(&proxy, Some(Duration::from_secs(2)));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("slow.raw");
    let bytes = data(2_500_000, 90);
    std::fs::write(&f, &bytes).unwrap();
    let started = std::time::Instant::now();
    let up = img.create_image(unique("slow")).filename(&f).await.unwrap();
    assert!(
        started.elapsed() > Duration::from_secs(4),
        "the upload was slow: {:?}",
        started.elapsed()
    );
    assert_eq!(up.size, Some(bytes.len() as u64));
    image(ADMIN).delete_image(&up).await.unwrap();
}

/// Awaits a `create_image` whose upload the proxy never finishes: it must end in a typed
/// `Timeout` within the limit plus slack, and delete the record it made.
async fn hung_upload_is_bounded(fault: Fault, send: Duration, response: Option<Duration>) {
    let proxy = start(fault).await;
    let img = through_with(&proxy, None, Some(send), response);
    // Warm the token and the endpoint so the timing below is the upload's.
    img.get_image_opt("00000000-0000-0000-0000-000000000000").await.unwrap();
    let name = unique("hung");
    let started = std::time::Instant::now();
    let err = img
        .create_image(&name)
        .data(data(64 << 20, 91))
        .disk_format(DiskFormat::Raw)
        .allow_duplicates(true)
        .digests(&[])
        .await
        .unwrap_err();
    let took = started.elapsed();
    let limit = response.unwrap_or(send);
    assert!(matches!(err.kind(), Error::Timeout { .. }), "{}", err.report());
    assert!(took >= limit, "not before the limit: {took:?}");
    assert!(took < limit + Duration::from_secs(10), "bounded: {took:?} ({})", err.report());
    assert!(
        matches!(err.cleanup().map(|c| &c.outcome), Some(openstack_auth::CleanupOutcome::Deleted)),
        "{}",
        err.report()
    );
    assert!(image(ADMIN).find_image_opt(&name).await.unwrap().is_none(), "record deleted");
}

#[tokio::test]
async fn a_server_that_stops_reading_an_upload_ends_in_a_timeout() {
    hung_upload_is_bounded(Fault::UploadStopReading(1 << 20), Duration::from_secs(2), None).await;
}

#[tokio::test]
async fn a_server_that_never_answers_an_upload_ends_in_a_timeout() {
    hung_upload_is_bounded(
        Fault::UploadNoAnswer,
        Duration::from_secs(2),
        Some(Duration::from_secs(3)),
    )
    .await;
}

#[tokio::test]
async fn headers_then_a_stall_ends_in_a_timeout() {
    let bytes = data(600_000, 56);
    let img = uploaded(&bytes).await;
    let proxy = start(Fault::Stall(100_000)).await;
    let started = std::time::Instant::now();
    let err = through(&proxy, Some(Duration::from_secs(1)))
        .download_image(&img)
        .max_resumes(0)
        .to_bytes()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{}", err.report());
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
    image(ADMIN).delete_image(&img).await.unwrap();
}

#[tokio::test]
async fn a_create_image_dropped_mid_upload_deletes_its_record() {
    // The proxy stops reading the upload: the future is dropped by a timeout in the middle
    // of the body, as `tokio::time::timeout` and `select!` do.
    let proxy = start(Fault::UploadStopReading(1 << 20)).await;
    let img = through(&proxy, None);
    img.get_image_opt("00000000-0000-0000-0000-000000000000").await.unwrap();
    let name = unique("dropped");
    let create = img
        .create_image(&name)
        .data(data(64 << 20, 92))
        .disk_format(DiskFormat::Raw)
        .allow_duplicates(true)
        .digests(&[]);
    let dropped = tokio::time::timeout(Duration::from_secs(2), create).await;
    assert!(dropped.is_err(), "the upload was still hanging");
    // The record existed (the upload had started) and is deleted by a spawned task, promptly.
    assert_eq!(proxy.state.uploads.load(Ordering::SeqCst), 1, "the upload had started");
    let started = std::time::Instant::now();
    while image(ADMIN).find_image_opt(&name).await.unwrap().is_some() {
        assert!(started.elapsed() < Duration::from_secs(10), "the half-made image is still there");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
