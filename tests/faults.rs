//! Faults the real Glance cannot be made to produce, injected by the proxy in
//! `openstack_tests::faults`: connections cut mid-download, a server ignoring `Range`, a
//! flipped byte, short bodies, a stall, and a 503 in the middle of a one-shot upload.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use openstack_image::{Algorithm, DiskFormat, ImageData};
use openstack_resource::Error;
use openstack_tests::faults::{Fault, ready, start, through, through_with};
use openstack_tests::trap::{EVENT_WAIT, Hold, Trap};
use openstack_tests::{ADMIN, data, image, unique};

async fn uploaded(bytes: &[u8]) -> openstack_image::Image {
    image(ADMIN)
        .create_image(unique("fault"))
        .data(bytes.to_vec())
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap()
        .into_image()
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
        matches!(&err, Error::ChecksumMismatch { algorithm, .. } if *algorithm == Algorithm::Sha512),
        "{err:?}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file, no temp file");
    // The stream form ends with the error too.
    let mut s = Box::pin(through(&proxy, None).download_image(&img).into_stream());
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
    let through = through(&proxy, Some(Duration::from_secs(1)));
    ready(&through).await; // token from Keystone without the 1 s timeout, endpoint resolved
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("img.raw");
    let started = std::time::Instant::now();
    let download = through.download_image(&img).max_resumes(1).to_path(&out);
    let err = tokio::time::timeout(EVENT_WAIT, download).await.expect("bounded").unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err.kind(), Error::IdleTimeout { .. }), "{}", err.report());
    // The first attempt stalls, the one resume (asking for the rest) stalls too.
    assert_eq!(proxy.state.downloads.load(Ordering::SeqCst), 2, "first try + one resume");
    let ranges = proxy.state.ranges.lock().unwrap().clone();
    assert!(ranges[1].as_deref().is_some_and(|r| r.starts_with("bytes=")), "{ranges:?}");
    assert!(took >= Duration::from_secs(2), "two idle timeouts of 1 s: {took:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    image(ADMIN).delete_image(&img).await.unwrap();
}

#[tokio::test]
async fn one_shot_upload_interrupted_by_503_is_never_resent() {
    use openstack_transfer::{Algorithm, digest_hex};
    let proxy = start(Fault::Upload503).await;
    let img = through(&proxy, None);
    let name = unique("oneshot");
    let chunks: Vec<Bytes> = (0..16).map(|i| Bytes::from(data(64 * 1024, 60 + i))).collect();
    let whole: Vec<u8> = chunks.concat();
    let err = img
        .create_image(&name)
        .data(ImageData::sized_stream(
            futures_util::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>)),
            16 * 64 * 1024,
        ))
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), Error::NotReplayable { .. }), "{err:?}");
    assert!(err.report().contains("cannot be replayed"), "{}", err.report());
    assert_eq!(proxy.state.uploads.load(Ordering::SeqCst), 1, "sent once, never re-sent");
    let sent = |from: usize| proxy.state.puts.lock().unwrap()[from..].to_vec();
    assert_eq!(sent(0), vec![(whole.len() as u64, digest_hex(Algorithm::Sha256, &whole))]);
    assert!(
        image(ADMIN).find_image_opt(&name).await.unwrap().is_none(),
        "half-created image deleted"
    );

    // A file, by contrast, can be reopened: each retry after a 503 sends all of it again,
    // from the start (not nothing, not the tail).
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("retry.raw");
    let bytes = data(300_000, 70);
    std::fs::write(&f, &bytes).unwrap();
    let name = unique("file503");
    let err = img.create_image(&name).filename(&f).await.unwrap_err();
    assert!(err.status() == Some(StatusCode::SERVICE_UNAVAILABLE), "{err:?}");
    assert_eq!(proxy.state.uploads.load(Ordering::SeqCst), 1 + 3, "2 retries");
    let whole_file = (bytes.len() as u64, digest_hex(Algorithm::Sha256, &bytes));
    assert_eq!(sent(1), vec![whole_file.clone(); 3], "every attempt carried the whole file");
    assert!(image(ADMIN).find_image_opt(&name).await.unwrap().is_none(), "record deleted");

    // So can an open file (read by offset, from its cursor each time).
    let mut open = std::fs::File::open(&f).unwrap();
    std::io::Seek::seek(&mut open, std::io::SeekFrom::Start(1000)).unwrap();
    let name = unique("open503");
    let err = img.create_image(&name).data(open).await.unwrap_err();
    assert!(err.status() == Some(StatusCode::SERVICE_UNAVAILABLE), "{err:?}");
    assert_eq!(proxy.state.uploads.load(Ordering::SeqCst), 1 + 3 + 3, "an open file is retried");
    let tail = (bytes.len() as u64 - 1000, digest_hex(Algorithm::Sha256, &bytes[1000..]));
    assert_eq!(sent(4), vec![tail; 3], "every attempt carried the tail from the cursor");
    assert!(image(ADMIN).find_image_opt(&name).await.unwrap().is_none(), "record deleted");
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
    // 2 s idle read timeout, an upload that takes at least 5 s (the proxy forwards 256 KiB
    // pieces, 500 ms apart): bytes keep moving, so nothing may time out. (The token comes
    // from a session without the tight timeout.)
    let proxy = start(Fault::SlowUpload(Duration::from_millis(500))).await;
    let img = through(&proxy, Some(Duration::from_secs(2)));
    ready(&img).await;
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
    ready(&img).await;
    let name = unique("hung");
    let started = std::time::Instant::now();
    let create = img
        .create_image(&name)
        .data(data(64 << 20, 91))
        .disk_format(DiskFormat::Raw)
        .allow_duplicates(true)
        .digests(&[]);
    // Bounded: the hung upload ends by itself (a generous cap, far above the limit).
    let err = tokio::time::timeout(EVENT_WAIT, create).await.expect("bounded").unwrap_err();
    let took = started.elapsed();
    let limit = response.unwrap_or(send);
    assert!(matches!(err.kind(), Error::IdleTimeout { .. }), "{}", err.report());
    assert!(took >= limit, "not before the limit: {took:?}");
    assert_eq!(proxy.state.uploads.load(Ordering::SeqCst), 1, "the upload was under way");
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
    let through = through(&proxy, Some(Duration::from_secs(1)));
    ready(&through).await; // a slow Keystone cannot be the timeout seen below
    let download = through.download_image(&img).max_resumes(0).to_bytes();
    let err = tokio::time::timeout(EVENT_WAIT, download).await.expect("bounded").unwrap_err();
    assert!(matches!(err, Error::IdleTimeout { .. }), "{}", err.report());
    // The timeout is the download's: the one GET of the file was made, its head and the
    // first 100,000 bytes came, then nothing.
    assert_eq!(proxy.state.downloads.load(Ordering::SeqCst), 1);
    assert!(err.report().contains("/file"), "{}", err.report());
    image(ADMIN).delete_image(&img).await.unwrap();
}

#[tokio::test]
async fn a_create_image_dropped_mid_upload_deletes_its_record() {
    // The future is dropped in the middle of the body (as `tokio::time::timeout` and
    // `select!` do), once the proxy has forwarded 1 MiB of the upload.
    let proxy = start(Fault::None).await;
    let img = through(&proxy, None);
    ready(&img).await;
    let name = unique("dropped");
    let create = img
        .create_image(&name)
        .data(data(64 << 20, 92))
        .disk_format(DiskFormat::Raw)
        .allow_duplicates(true)
        .digests(&[]);
    proxy.arm(Trap::on(http::Method::PUT, "/file", Hold::BodyAfter(1 << 20)));
    tokio::select! {
        done = std::future::IntoFuture::into_future(create) => panic!("finished: {done:?}"),
        () = proxy.sprung(1) => {}
    }
    assert_eq!(proxy.state.uploads.load(Ordering::SeqCst), 1, "the upload had started");
    proxy.release();
    // The record existed and is deleted by a spawned task, through the proxy.
    let started = std::time::Instant::now();
    while image(ADMIN).find_image_opt(&name).await.unwrap().is_some() {
        assert!(started.elapsed() < EVENT_WAIT, "the half-made image is still there");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(proxy.state.count(|r| r.starts_with("DELETE /v2/images/")), 1);
}

#[tokio::test]
async fn an_image_deleted_before_the_resume_is_not_found_with_nothing_left() {
    let bytes = data(1_000_000, 57);
    let img = uploaded(&bytes).await;
    let proxy = start(Fault::CutOnce(400_000)).await;
    // The resume (the second GET of the data) is held until the image is gone.
    let gets = std::sync::atomic::AtomicU32::new(0);
    proxy.arm(Trap::when(
        move |m, p| {
            *m == http::Method::GET
                && p.ends_with("/file")
                && gets.fetch_add(1, Ordering::SeqCst) == 1
        },
        Hold::Request,
    ));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("img.raw");
    let download = through(&proxy, None).download_image(&img).to_path(out.clone());
    let download = tokio::spawn(download);
    proxy.sprung(1).await;
    image(ADMIN).delete_image(&img).await.unwrap();
    proxy.release();
    let err = tokio::time::timeout(EVENT_WAIT, download).await.expect("bounded").unwrap();
    let err = err.unwrap_err();
    // Glance's 404, as itself: not "cannot resume", not a transport error.
    assert!(matches!(err.kind(), Error::NotFound(_)), "{}", err.report());
    assert!(!out.exists(), "nothing at the output path");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "no temporary file either: {left:?}");
}
