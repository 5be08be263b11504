//! (a) The hash set alone on in-memory data: the physical limit of every transfer.

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_main};
use openstack_benches::MIB;
use openstack_transfer::{Algorithm, digest_hex};
use openstack_transfer::{HashMode, hash_pipeline as pipeline};

const SIZE: usize = 64 * MIB;

fn run(rt: &tokio::runtime::Runtime, data: &Bytes, algorithms: &[Algorithm], mode: HashMode) {
    rt.block_on(async {
        let (mut feeder, results) = pipeline(algorithms, mode);
        for i in (0..data.len()).step_by(256 * 1024) {
            feeder.ready().await.expect("ready");
            feeder.update(&data.slice(i..(i + 256 * 1024).min(data.len())));
        }
        feeder.finish();
        results.wait().await.expect("digests");
    });
}

fn hashes(c: &mut Criterion) {
    let data = openstack_benches::object(SIZE);
    let rt = openstack_benches::runtime();
    let mut g = c.benchmark_group("hash");
    g.throughput(Throughput::Bytes(SIZE as u64)).sample_size(10);
    for alg in [Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512] {
        g.bench_function(alg.as_str(), |b| b.iter(|| digest_hex(alg, &data)));
    }
    let pair = [Algorithm::Md5, Algorithm::Sha512];
    g.bench_function("md5+sha512 serial", |b| b.iter(|| run(&rt, &data, &pair, HashMode::Inline)));
    g.bench_function("md5+sha512 parallel", |b| {
        b.iter(|| run(&rt, &data, &pair, HashMode::Threads))
    });
    let all = [Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512];
    g.bench_function("md5+sha256+sha512 parallel", |b| {
        b.iter(|| run(&rt, &data, &all, HashMode::Threads))
    });
    g.bench_function("md5+sha256+sha512 thread each", |b| {
        b.iter(|| run(&rt, &data, &all, HashMode::Lanes(3)))
    });
    g.finish();
}

/// Criterion's generated entry points.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::hashes);
}
criterion_main!(group::benches);
