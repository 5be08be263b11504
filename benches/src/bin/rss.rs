//! (c) Peak RSS of a large verified download and a hashed upload over loopback HTTP.
//!
//! `cargo xtask bench` runs it; by hand: `cargo run --release -p openstack-benches --bin rss -- 4096`
//! (size in MiB). Prints the idle RSS, the peak RSS (VmHWM) after each transfer, and the
//! difference, which must stay flat in the size of the object.

use std::time::Instant;

use bytes::Bytes;
use http::Request;
use http_body_util::Empty;
use openstack_benches::{HttpSource, MIB, block, client, expected_sha512, serve};
use openstack_transfer::{
    Algorithm, Download, DownloadOptions, Expected, UploadBody, UploadOptions,
};

fn status_kib(key: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let mib: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(4096);
    let size = mib * MIB as u64;
    let rt = openstack_benches::runtime();
    let addr = rt.block_on(serve());
    eprintln!("computing the expected sha512 of {mib} MiB...");
    let sha512 = expected_sha512(size);
    let dir = std::env::temp_dir().join(format!("osrs-rss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let idle = status_kib("VmRSS:");
    let started = Instant::now();
    rt.block_on(async {
        let src =
            HttpSource { client: client::<Empty<Bytes>>(), url: format!("http://{addr}/{size}") };
        let expected = Expected { size: Some(size), digest: Some((Algorithm::Sha512, sha512)) };
        let opts = DownloadOptions::default().extra_algorithms(&[Algorithm::Md5]);
        Download::new(src, expected, &opts)
            .to_path(dir.join("big.bin"))
            .await
            .expect("verified download");
    });
    let down_secs = started.elapsed().as_secs_f64();
    let after_download = status_kib("VmHWM:");
    let started = Instant::now();
    rt.block_on(async {
        let opts = UploadOptions::default();
        let (body, digests) =
            UploadBody::from_path(dir.join("big.bin"), &opts).await.expect("open");
        let put = Request::put(format!("http://{addr}/up")).body(body).expect("req");
        let resp = client::<UploadBody>().request(put).await.expect("put");
        assert_eq!(resp.status(), 204);
        digests.wait().await.expect("digests");
    });
    let up_secs = started.elapsed().as_secs_f64();
    let after_upload = status_kib("VmHWM:");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = block();
    println!("object: {mib} MiB");
    println!("idle RSS: {} MiB", idle / 1024);
    println!(
        "download (md5+sha512, verified, to file): {:.0} MiB/s, peak RSS {} MiB ({} MiB above idle)",
        mib as f64 / down_secs,
        after_download / 1024,
        after_download.saturating_sub(idle) / 1024
    );
    println!(
        "upload (md5+sha256+sha512, from file): {:.0} MiB/s, peak RSS {} MiB ({} MiB above idle)",
        mib as f64 / up_secs,
        after_upload / 1024,
        after_upload.saturating_sub(idle) / 1024
    );
}
