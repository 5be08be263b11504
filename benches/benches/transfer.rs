//! (b) Upload and download through the engine against a minimal in-process HTTP server on
//! 127.0.0.1 (a 1 GiB object; `OSRS_BENCH_MIB` to change): what the engine adds on top of the
//! hash limit measured in `hash`.

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_main};
use http::Request;
use http_body_util::{BodyExt, Empty};
use openstack_benches::{HttpSource, MIB, client, expected_sha512, serve};
use openstack_transfer::{
    Algorithm, Download, DownloadOptions, Expected, HashMode, UploadBody, UploadOptions,
};

/// The object size: 1 GiB (`OSRS_BENCH_MIB` to change).
fn size() -> u64 {
    let mib: u64 =
        std::env::var("OSRS_BENCH_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(1024);
    mib * MIB as u64
}

fn transfers(c: &mut Criterion) {
    let size = size();
    let rt = openstack_benches::runtime();
    let addr = rt.block_on(serve());
    let url = format!("http://{addr}/{size}");
    let sha512 = expected_sha512(size);
    let dir = std::env::temp_dir().join(format!("osrs-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let file = dir.join("upload.bin");
    std::fs::write(&file, openstack_benches::object(size as usize)).expect("bench file");

    let mut g = c.benchmark_group("loopback");
    g.throughput(Throughput::Bytes(size)).sample_size(10);
    g.bench_function("download no hash", |b| {
        b.iter(|| {
            rt.block_on(async {
                let c = client::<Empty<Bytes>>();
                let resp = c
                    .request(Request::get(&url).body(Empty::new()).expect("req"))
                    .await
                    .expect("get");
                let mut body = resp.into_body();
                while let Some(f) = body.frame().await {
                    f.expect("frame");
                }
            })
        })
    });
    for (name, mode) in [
        ("download sha512 verified", HashMode::Threads),
        ("download sha512 verified inline", HashMode::Inline),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let src = HttpSource { client: client(), url: url.clone() };
                    let expected = Expected {
                        size: Some(size),
                        digest: Some((Algorithm::Sha512, sha512.clone())),
                    };
                    let d = Download::new(src, expected, &DownloadOptions::default().mode(mode));
                    let mut sink = tokio::io::sink();
                    d.to_writer(&mut sink).await.expect("verified download");
                })
            })
        });
    }
    g.bench_function("download md5+sha512 to file", |b| {
        b.iter(|| {
            rt.block_on(async {
                let src = HttpSource { client: client(), url: url.clone() };
                let expected = Expected {
                    size: Some(size),
                    digest: Some((Algorithm::Sha512, sha512.clone())),
                };
                let opts = DownloadOptions::default().extra_algorithms(&[Algorithm::Md5]);
                Download::new(src, expected, &opts)
                    .to_path(dir.join("download.bin"))
                    .await
                    .expect("download");
            })
        })
    });
    let all = &[Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512][..];
    for (name, algs, mode) in [
        ("upload file no hash", &[][..], HashMode::Threads),
        ("upload file md5+sha256+sha512", all, HashMode::Threads),
        ("upload file md5+sha256+sha512 thread each", all, HashMode::Lanes(3)),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let opts = UploadOptions::default().algorithms(algs).mode(mode);
                    let (body, digests) = UploadBody::from_path(&file, &opts).await.expect("open");
                    let c = client::<UploadBody>();
                    let put = Request::put(format!("http://{addr}/up")).body(body).expect("req");
                    let resp = c.request(put).await.expect("put");
                    assert_eq!(resp.status(), 204);
                    digests.wait().await.expect("digests");
                })
            })
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Criterion's generated entry points.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::transfers);
}
criterion_main!(group::benches);
