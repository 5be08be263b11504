//! The transfer engine's throughput targets as ratios, measured in interleaved rounds so a
//! noisy, shared machine slows the baseline and the measured transfer alike.
//!
//! Each round hashes the object in memory with each algorithm alone (one core: the physical
//! limit), then runs a sha512-verified download and md5+sha256+sha512 uploads (default lanes
//! and one thread per algorithm) against the in-process loopback server. Each ratio is taken
//! within a round (baseline and transfer measured seconds apart), and the median ratio over
//! the rounds is reported with its range:
//! * verified download / sha512 alone (target >= 0.9);
//! * 3-digest upload / the slowest single hash (target >= 0.9);
//! * 3-digest upload / the hashing ceiling `min(slowest, cores / sum(1/speed))`: what three
//!   digests can reach when they share the machine's cores and nothing else (no I/O, no
//!   server) runs. On two cores the three RustCrypto digests need about two full cores at
//!   the slowest one's speed, so 0.9x the slowest hash is out of reach there whatever the
//!   pipeline does; this ratio shows how close the engine gets to what the cores allow.
//!
//! `cargo xtask bench targets`; by hand: `cargo run --release -p openstack-benches --bin
//! targets -- [MiB] [rounds]` (default 1024 MiB, 5 rounds).

use std::time::Instant;

use bytes::Bytes;
use http::Request;
use http_body_util::Empty;
use openstack_benches::{HttpSource, MIB, client, expected_sha512, serve};
use openstack_transfer::{
    Algorithm, Download, DownloadOptions, Expected, HashMode, UploadBody, UploadOptions, digest_hex,
};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1024);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5).max(1);
    let size = mib * MIB;
    let rt = openstack_benches::runtime();
    let addr = rt.block_on(serve());
    let sha512 = expected_sha512(size as u64);
    let data = openstack_benches::object(size);
    let dir = std::env::temp_dir().join(format!("osrs-targets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("upload.bin");
    std::fs::write(&file, &data).expect("data file");
    let all = [Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512];
    let rate = |secs: f64| mib as f64 / secs;

    let mut alone: Vec<Vec<f64>> = vec![Vec::new(); all.len()];
    let (mut down, mut up, mut up_each) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds {
        for (i, &a) in all.iter().enumerate() {
            let t = Instant::now();
            std::hint::black_box(digest_hex(a, &data));
            alone[i].push(rate(t.elapsed().as_secs_f64()));
        }
        let t = Instant::now();
        rt.block_on(async {
            let src = HttpSource {
                client: client::<Empty<Bytes>>(),
                url: format!("http://{addr}/{size}"),
            };
            let expected = Expected {
                size: Some(size as u64),
                digest: Some((Algorithm::Sha512, sha512.clone())),
            };
            Download::new(src, expected, &DownloadOptions::default())
                .to_writer(&mut tokio::io::sink())
                .await
                .expect("verified download");
        });
        down.push(rate(t.elapsed().as_secs_f64()));
        for (mode, out) in [(HashMode::Threads, &mut up), (HashMode::Lanes(3), &mut up_each)] {
            let t = Instant::now();
            rt.block_on(async {
                let opts = UploadOptions::default().algorithms(&all).mode(mode);
                let (body, digests) = UploadBody::from_path(&file, &opts).await.expect("open");
                let put = Request::put(format!("http://{addr}/up")).body(body).expect("req");
                let resp = client::<UploadBody>().request(put).await.expect("put");
                assert_eq!(resp.status(), 204);
                digests.wait().await.expect("digests");
            });
            out.push(rate(t.elapsed().as_secs_f64()));
        }
        eprintln!("round {round}/{rounds} done");
    }
    let _ = std::fs::remove_dir_all(&dir);

    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    println!(
        "{mib} MiB, {rounds} interleaved rounds, {cores} cores, digests: {}; medians (and range) in MiB/s",
        openstack_transfer::digest_backend()
    );
    for (a, v) in all.iter().zip(&alone) {
        println!("  {a:<6} alone, one core:     {:>5.0}  ({})", median(v.clone()), range(v));
    }
    println!("  sha512-verified download:  {:>5.0}  ({})", median(down.clone()), range(&down));
    println!("  md5+sha256+sha512 upload:  {:>5.0}  ({})", median(up.clone()), range(&up));
    println!(
        "  same, a thread per digest: {:>5.0}  ({})",
        median(up_each.clone()),
        range(&up_each)
    );
    // Per-round ratios.
    let per_round = |f: &dyn Fn(usize) -> f64| -> Vec<f64> { (0..rounds).map(f).collect() };
    let slowest = |r: usize| alone.iter().map(|v| v[r]).fold(f64::INFINITY, f64::min);
    let ceiling = |r: usize| slowest(r).min(cores / alone.iter().map(|v| 1.0 / v[r]).sum::<f64>());
    let report = |what: &str, v: Vec<f64>, target: Option<f64>| {
        let m = median(v.clone());
        let verdict = match target {
            Some(t) if m >= t => format!("  (target >= {t}: met)"),
            Some(t) => format!("  (target >= {t}: NOT met)"),
            None => String::new(),
        };
        println!("  {what}: {m:.2}x  ({}){verdict}", range(&v));
    };
    println!("ratios, median of per-round ratios (range):");
    report("verified download / sha512 alone", per_round(&|r| down[r] / alone[2][r]), Some(0.9));
    report("3-digest upload / slowest hash", per_round(&|r| up[r] / slowest(r)), Some(0.9));
    report(
        &format!("3-digest upload / {cores}-core hashing ceiling"),
        per_round(&|r| up[r] / ceiling(r)),
        None,
    );
    report("thread per digest / slowest hash", per_round(&|r| up_each[r] / slowest(r)), None);
}

fn range(v: &[f64]) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(0.0, f64::max);
    if hi > 10.0 { format!("{lo:.0}–{hi:.0}") } else { format!("{lo:.2}–{hi:.2}") }
}
