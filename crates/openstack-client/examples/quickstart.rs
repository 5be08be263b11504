//! Quickstart: connect, upload a file with a progress bar, list, download (verified) with a
//! progress bar, delete.
//!
//! ```sh
//! cargo xtask demo                      # against the local cloud
//! OS_CLOUD=mycloud cargo run --example quickstart -- 256   # 256 MiB against your cloud
//! ```

use std::io::Write;
use std::time::Instant;

use futures_util::TryStreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use openstack_client::prelude::*;

fn bar(total: u64, what: &str) -> (ProgressBar, Progress) {
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template(
            "{msg:>10} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    let p = pb.clone();
    (pb, Progress::new(move |u: &ProgressUpdate| p.set_position(u.bytes)))
}

fn mib_per_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / secs.max(1e-9)
}

#[tokio::main]
async fn main() -> openstack_client::Result<()> {
    let mib: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(64);
    let conn = Connection::from_env()?;
    let image = conn.image();
    let endpoint = image.endpoint().await?;
    println!(
        "Connected to cloud {:?}: Glance at {} (API v{})",
        conn.session().config().name,
        endpoint.root,
        endpoint.version.map_or("?".into(), |v| v.to_string())
    );

    // A disk image to upload: random-looking data, written once to a temp file.
    let dir = std::env::temp_dir().join(format!("openstack-rs-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::Io { path: dir.display().to_string(), source: e })?;
    let src = dir.join("quickstart.raw");
    {
        let mut f = std::fs::File::create(&src)
            .map_err(|e| Error::Io { path: src.display().to_string(), source: e })?;
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut block = vec![0u8; 1 << 20];
        for _ in 0..mib {
            for chunk in block.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                chunk.copy_from_slice(&x.to_le_bytes());
            }
            f.write_all(&block)
                .map_err(|e| Error::Io { path: src.display().to_string(), source: e })?;
        }
    }
    let size = mib << 20;
    println!(
        "Uploading {mib} MiB from {} (md5 + sha256 + sha512 computed while it streams)",
        src.display()
    );
    let (pb, progress) = bar(size, "upload");
    let started = Instant::now();
    let img = image
        .create_image(format!("quickstart-{}", std::process::id()))
        .filename(&src)
        .disk_format(DiskFormat::Raw)
        .container_format(ContainerFormat::Bare)
        .tags(["quickstart"])
        .wait(WaitOptions::default())
        .progress(progress)
        .await?;
    pb.finish();
    let up = started.elapsed().as_secs_f64();
    println!(
        "Created image {} ({}), {:.0} MiB/s; Glance's sha512 matches ours: {}",
        img.id,
        img.status,
        mib_per_s(size, up),
        img.os_hash_value.as_deref().unwrap_or("-").get(..16).unwrap_or("-")
    );

    let active: Vec<Image> =
        image.images(&ImageQuery::new().status(ImageStatus::Active)).try_collect().await?;
    println!("The cloud has {} active images; newest first:", active.len());
    for i in active.iter().take(3) {
        println!(
            "  {}  {:<30} {:>12} bytes",
            i.id,
            i.name.as_deref().unwrap_or("-"),
            i.size.unwrap_or(0)
        );
    }

    let out = dir.join("downloaded.raw");
    let (pb, progress) = bar(size, "download");
    let started = Instant::now();
    let outcome = image.download_image(&img).progress(progress).to_path(&out).await?;
    pb.finish();
    let down = started.elapsed().as_secs_f64();
    println!(
        "Downloaded to {} and verified with {}: {:.0} MiB/s ({} resumes)",
        out.display(),
        outcome.verified_with.map_or("nothing".into(), |a| a.to_string()),
        mib_per_s(outcome.report.bytes, down),
        outcome.report.resumes
    );

    image.delete_image(&img).await?;
    let _ = std::fs::remove_dir_all(&dir);
    println!("Deleted image {}. Done.", img.id);
    Ok(())
}
