//! A verified upload and download of one image through the real forward proxy (tinyproxy of
//! the local cloud) beside the same transfers direct, interleaved in the same run:
//! `https` through a CONNECT tunnel (cloud `local-tls`) and `http` forwarded (cloud `local`).
//! Prints each transfer's time and the proxied/direct ratios of the medians.
//!
//! Usage: `proxy <mib> <rounds>` with the cloud's environment (`cargo xtask bench proxy`).

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use openstack_auth::{CloudConfig, Proxy, Session};
use openstack_benches::{MIB, block};
use openstack_image::{DiskFormat, ImageData, ImageProxy};

async fn round_trip(img: &ImageProxy, mib: usize, tag: &str) -> (Duration, Duration) {
    let block = block();
    let source = futures_util::stream::iter(0..mib).map(move |i| {
        let mut c = block.to_vec();
        c[..8].copy_from_slice(&(i as u64).to_le_bytes());
        Ok(bytes::Bytes::from(c))
    });
    let name = format!("osrs-bench-proxy-{tag}-{}", std::process::id());
    let started = Instant::now();
    let up = img
        .create_image(name)
        .data(ImageData::sized_stream(source, (mib * MIB) as u64))
        .disk_format(DiskFormat::Raw)
        .allow_duplicates(true)
        .await
        .expect("verified upload");
    let upload = started.elapsed();
    let started = Instant::now();
    let mut stream = Box::pin(img.download_image(&up).into_stream());
    let mut len = 0;
    while let Some(piece) = stream.next().await {
        len += piece.expect("verified download").len();
    }
    let download = started.elapsed();
    assert_eq!(len, mib * MIB);
    img.delete_image(&up).await.expect("delete");
    (upload, download)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1024);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let proxy =
        std::env::var("OSRS_PROXY_URL").expect("OSRS_PROXY_URL: run `cargo xtask bench proxy`");
    let rt = openstack_benches::runtime();
    rt.block_on(async {
        for (cloud, path) in [("local-tls", "https, CONNECT tunnel"), ("local", "http, forwarded")] {
            let cfg = CloudConfig::from_cloud(cloud).expect("cloud");
            let direct = ImageProxy::new(
                Session::builder(cfg.clone()).proxy(Proxy::none()).build().expect("session"),
            );
            let proxied = ImageProxy::new(
                Session::builder(cfg).proxy(Proxy::url(&proxy)).build().expect("session"),
            );
            let (mut du, mut dd, mut pu, mut pd) = (vec![], vec![], vec![], vec![]);
            for r in 0..rounds {
                // Alternate which goes first, so neither always meets a warm cache.
                let order: [(&ImageProxy, bool); 2] =
                    if r % 2 == 0 { [(&direct, false), (&proxied, true)] } else { [(&proxied, true), (&direct, false)] };
                for (img, via) in order {
                    let (u, d) = round_trip(img, mib, if via { "via" } else { "direct" }).await;
                    println!(
                        "{path}: round {r} {:<8} {mib} MiB upload {:>6.2} s ({:>6.0} MiB/s), download {:>6.2} s ({:>6.0} MiB/s)",
                        if via { "proxy" } else { "direct" },
                        u.as_secs_f64(),
                        mib as f64 / u.as_secs_f64(),
                        d.as_secs_f64(),
                        mib as f64 / d.as_secs_f64()
                    );
                    if via { pu.push(u); pd.push(d) } else { du.push(u); dd.push(d) }
                }
            }
            let (du, dd, pu, pd) = (median(du), median(dd), median(pu), median(pd));
            println!(
                "{path}: median proxy/direct time ratio: upload {:.2} ({:.2} s / {:.2} s), download {:.2} ({:.2} s / {:.2} s)",
                pu.as_secs_f64() / du.as_secs_f64(),
                pu.as_secs_f64(),
                du.as_secs_f64(),
                pd.as_secs_f64() / dd.as_secs_f64(),
                pd.as_secs_f64(),
                dd.as_secs_f64()
            );
        }
    });
}
