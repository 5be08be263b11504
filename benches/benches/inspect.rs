//! What inspecting an upload costs beside the upload itself: `inspect_file` (the first
//! 4 MiB and the last 1536 bytes, every format's probe) on a 1 GiB file, and on a VMDK whose
//! descriptor is the largest Glance reads (1 MiB, parsed line by line), against a verified
//! upload of the same 1 GiB file (md5, sha256, sha512: the SDK's default digests) to a
//! minimal HTTP server on 127.0.0.1. The target: inspection under 1% of the upload.

use criterion::{Criterion, criterion_main};
use http::Request;
use openstack_benches::{MIB, client, serve};
use openstack_transfer::{Algorithm, UploadBody, UploadOptions};

/// The object size: 1 GiB (`OSRS_BENCH_MIB` to change).
fn size() -> u64 {
    let mib: u64 =
        std::env::var("OSRS_BENCH_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(1024);
    mib * MIB as u64
}

/// A sparse VMDK header followed by a 1 MiB descriptor of many short lines.
fn vmdk_with_long_descriptor() -> Vec<u8> {
    let mut b = vec![0u8; 512];
    b[..4].copy_from_slice(b"KDMV");
    b[4..8].copy_from_slice(&1u32.to_le_bytes());
    b[12..20].copy_from_slice(&(1u64 << 21).to_le_bytes());
    b[28..36].copy_from_slice(&1u64.to_le_bytes());
    b[36..44].copy_from_slice(&2047u64.to_le_bytes());
    let mut text =
        String::from("# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicSparse\"\n");
    text.push_str("RW 2097152 SPARSE \"disk.vmdk\"\n");
    while text.len() < (1 << 20) - 64 {
        text.push_str("ddb.comment = \"padding\"\n");
    }
    b.extend_from_slice(text.as_bytes());
    b.resize(4 << 20, 0);
    b
}

fn inspection(c: &mut Criterion) {
    let size = size();
    let rt = openstack_benches::runtime();
    let addr = rt.block_on(serve());
    let dir = std::env::temp_dir().join(format!("osrs-bench-inspect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let file = dir.join("upload.bin");
    std::fs::write(&file, openstack_benches::object(size as usize)).expect("bench file");
    let vmdk = dir.join("long.vmdk");
    std::fs::write(&vmdk, vmdk_with_long_descriptor()).expect("vmdk");

    let mut g = c.benchmark_group("inspect");
    g.sample_size(10);
    g.bench_function("upload file md5+sha256+sha512 (baseline)", |b| {
        let all = [Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512];
        b.iter(|| {
            rt.block_on(async {
                let opts = UploadOptions::default().algorithms(&all);
                let (body, digests) = UploadBody::from_path(&file, &opts).await.expect("open");
                let c = client::<UploadBody>();
                let put = Request::put(format!("http://{addr}/up")).body(body).expect("req");
                let resp = c.request(put).await.expect("put");
                assert_eq!(resp.status(), 204);
                digests.wait().await.expect("digests");
            })
        })
    });
    g.sample_size(50);
    for (name, path) in
        [("inspect_file 1 GiB raw", &file), ("inspect_file 1 MiB VMDK descriptor", &vmdk)]
    {
        g.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let found = openstack_image::inspect_file(path).await.expect("inspect");
                    criterion::black_box(found);
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
    criterion::criterion_group!(benches, super::inspection);
}
criterion_main!(group::benches);
