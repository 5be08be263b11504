//! Downloads `<url>/<bytes>` through the transfer engine, verifying sha512 and computing md5
//! too (what a verified image download with a legacy checksum costs), into a sink; prints
//! MiB/s. `cargo xtask bench` runs it beside the Python reference client.

use bytes::Bytes;
use http_body_util::Empty;
use openstack_benches::{HttpSource, client, expected_sha512};
use openstack_transfer::{Algorithm, Download, DownloadOptions, Expected};

fn main() {
    let mut args = std::env::args().skip(1);
    let base = args.next().expect("usage: fetch <base-url> <bytes>");
    let size: u64 =
        args.next().and_then(|a| a.parse().ok()).expect("usage: fetch <base-url> <bytes>");
    let sha512 = expected_sha512(size);
    let rt = openstack_benches::runtime();
    let started = std::time::Instant::now();
    rt.block_on(async {
        let src = HttpSource { client: client::<Empty<Bytes>>(), url: format!("{base}/{size}") };
        let expected = Expected { size: Some(size), digest: Some((Algorithm::Sha512, sha512)) };
        let opts = DownloadOptions::default().extra_algorithms(&[Algorithm::Md5]);
        Download::new(src, expected, &opts)
            .to_writer(&mut tokio::io::sink())
            .await
            .expect("verified download");
    });
    println!("{:.1}", size as f64 / (1 << 20) as f64 / started.elapsed().as_secs_f64());
}
