//! Downloads over several connections from the real Glance, through the fault proxy: in
//! order and verified, each part resumed on its own, a flipped byte, a stall, a server that
//! ignores `Range`, a dropped download, and objects smaller than the connections.

use std::future::IntoFuture;
use std::time::Duration;

use openstack_image::{DiskFormat, Image};
use openstack_resource::Error;
use openstack_tests::faults::{Fault, ready, start, through};
use openstack_tests::trap::EVENT_WAIT;
use openstack_tests::{ADMIN, data, image, unique};

const MIB: usize = 1 << 20;

async fn uploaded(bytes: &[u8]) -> Image {
    image(ADMIN)
        .create_image(unique("parallel"))
        .data(bytes.to_vec())
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap()
        .into_image()
}

/// The `Range` headers the proxy saw, sorted.
fn ranges(proxy: &openstack_tests::faults::FaultProxy) -> Vec<String> {
    let mut r: Vec<String> =
        proxy.state.ranges.lock().unwrap().iter().map(|r| r.clone().unwrap_or_default()).collect();
    r.sort();
    r
}

#[tokio::test]
async fn four_connections_fetch_4_mib_parts_and_the_file_is_verified() {
    let bytes = data(10 * MIB + 1234, 81);
    let img = uploaded(&bytes).await;
    let proxy = start(Fault::None).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("img.raw");
    let done =
        through(&proxy, None).download_image(&img).connections(4).to_path(&out).await.unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    assert_eq!((done.report.bytes, done.report.resumes), (bytes.len() as u64, 0));
    // Three parts: three of the four connections had a part to fetch.
    assert_eq!(done.report.connections, 3);
    // The whole image asked for once (its first part read), then each other part by range.
    assert_eq!(ranges(&proxy), ["", "bytes=4194304-8388607", "bytes=8388608-10486993"]);
    // As a stream, the same bytes in order.
    let got = through(&proxy, None).download_image(&img).connections(3).to_bytes().await.unwrap();
    assert_eq!(got.as_ref(), &bytes[..]);
    image(ADMIN).delete_image(&img).await.unwrap();
}

#[tokio::test]
async fn a_cut_in_one_range_resumes_that_range_while_the_others_go_on() {
    let bytes = data(12 * MIB, 82);
    let img = uploaded(&bytes).await;
    let at = 9 * MIB as u64 + 777;
    let proxy = start(Fault::CutRangeOnce(at)).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("img.raw");
    let done =
        through(&proxy, None).download_image(&img).connections(3).to_path(&out).await.unwrap();
    assert_eq!(done.report.resumes, 1);
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    let resumed = format!("bytes={at}-{}", 12 * MIB - 1);
    assert!(ranges(&proxy).contains(&resumed), "{:?}", ranges(&proxy));
    image(ADMIN).delete_image(&img).await.unwrap();
}

#[tokio::test]
async fn a_flipped_byte_in_one_range_is_a_mismatch_and_leaves_no_file() {
    let bytes = data(10 * MIB, 83);
    let img = uploaded(&bytes).await;
    let proxy = start(Fault::Flip(6 * MIB as u64 + 5)).await;
    let dir = tempfile::tempdir().unwrap();
    let err = through(&proxy, None)
        .download_image(&img)
        .connections(4)
        .to_path(dir.path().join("img.raw"))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), Error::ChecksumMismatch { .. }), "{}", err.report());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    image(ADMIN).delete_image(&img).await.unwrap();
}

#[tokio::test]
async fn a_stalled_range_times_out_and_is_resumed() {
    let bytes = data(10 * MIB, 84);
    let img = uploaded(&bytes).await;
    let proxy = start(Fault::StallRangeOnce(5 * MIB as u64 + 3)).await;
    // The stalled connection sends nothing for the idle timeout (the others go on), then
    // its part is asked for again from where it stopped.
    let through = through(&proxy, Some(Duration::from_secs(2)));
    ready(&through).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("img.raw");
    let download = through.download_image(&img).connections(4).to_path(&out);
    let done = tokio::time::timeout(EVENT_WAIT, download).await.expect("bounded").unwrap();
    assert!(done.report.resumes >= 1);
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    image(ADMIN).delete_image(&img).await.unwrap();
}

#[tokio::test]
async fn a_server_that_ignores_range_is_read_on_one_connection() {
    let bytes = data(10 * MIB, 85);
    let img = uploaded(&bytes).await;
    let proxy = start(Fault::IgnoreRange).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("img.raw");
    through(&proxy, None).download_image(&img).connections(4).to_path(&out).await.unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    image(ADMIN).delete_image(&img).await.unwrap();
}

#[tokio::test]
async fn a_dropped_parallel_download_leaves_nothing() {
    let bytes = data(12 * MIB, 86);
    let img = uploaded(&bytes).await;
    // One range never finishes: the download is dropped while its connections are busy.
    let proxy = start(Fault::StallRangeOnce(4 * MIB as u64 + 10)).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("img.raw");
    let through = through(&proxy, None);
    let download = tokio::spawn(
        through.download_image(&img).connections(3).to_path(out.clone()).into_future(),
    );
    let waited = std::time::Instant::now();
    while proxy.state.ranges.lock().unwrap().len() < 3 {
        assert!(waited.elapsed() < EVENT_WAIT, "the parts were never asked for");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    download.abort();
    assert!(download.await.unwrap_err().is_cancelled());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file, no temp file");
    image(ADMIN).delete_image(&img).await.unwrap();
}

#[tokio::test]
async fn objects_smaller_than_the_connections_and_one_byte() {
    let img_api = image(ADMIN);
    for len in [1usize, 7, 4 * MIB + 1] {
        let bytes = data(len, 87);
        let img = uploaded(&bytes).await;
        let got = img_api.download_image(&img).connections(8).to_bytes().await.unwrap();
        assert_eq!(got.as_ref(), &bytes[..], "{len} bytes");
        img_api.delete_image(&img).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_long_thin_link_the_bytes_arrive_whole_and_no_sooner_than_it_allows() {
    use openstack_tests::link::{LinkSpec, start as link};
    let bytes = data(6 * MIB, 88);
    let img = uploaded(&bytes).await;
    let glance = openstack_tests::glance_url();
    let upstream = glance.trim_start_matches("http://").trim_end_matches('/').parse().unwrap();
    let spec = LinkSpec { rtt: Duration::from_millis(100), cap: Some(8 << 20), window: 1 << 20 };
    let link = link(upstream, spec).await;
    let started = std::time::Instant::now();
    let slow = openstack_tests::faults::through_url(&link.url(), None, None, None);
    let got = slow.download_image(&img).connections(1).to_bytes().await.unwrap();
    assert_eq!(got.as_ref(), &bytes[..]);
    // Lower bounds only, which no machine can beat: two requests (the record, then the
    // data) of a round trip each, and 6 MiB at 8 MiB/s.
    let least = Duration::from_millis(2 * 100 + 750);
    assert!(started.elapsed() >= least, "{:?} < {least:?}", started.elapsed());
    // Several connections through the same link: the same bytes.
    let got = slow.download_image(&img).connections(3).to_bytes().await.unwrap();
    assert_eq!(got.as_ref(), &bytes[..]);
    image(ADMIN).delete_image(&img).await.unwrap();
}
