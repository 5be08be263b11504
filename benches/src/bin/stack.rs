//! The whole stack against a real cloud: upload a file (create_image, wait), download it to a
//! file (verified, atomic, fsynced), download it again without the fsync (as openstacksdk
//! writes), list every image. Prints JSON seconds, like `openstacksdk_bench.py` does for
//! openstacksdk; `cargo xtask bench stack` runs both, and this with `plain` (only an upload
//! without client-side digests, the work openstacksdk does by default) as a third process.
//!
//! Usage: `stack <cloud> <file> <output> [plain]`

use std::time::Instant;

use futures_util::TryStreamExt;
use openstack_auth::{CloudConfig, Session};
use openstack_image::{ContainerFormat, DiskFormat, Image, ImageProxy, ImageQuery, WaitOptions};

fn main() {
    let mut args = std::env::args().skip(1);
    let (cloud, file, out) = match (args.next(), args.next(), args.next()) {
        (Some(c), Some(f), Some(o)) => (c, f, o),
        _ => panic!("usage: stack <cloud> <file> <output> [plain]"),
    };
    let plain_only = args.next().as_deref() == Some("plain");
    let rt = openstack_benches::runtime();
    rt.block_on(async {
        let image = ImageProxy::new(
            Session::new(CloudConfig::from_cloud(&cloud).expect("cloud")).expect("session"),
        );
        let _: Vec<Image> = image.images(&ImageQuery::new()).try_collect().await.expect("list");
        if plain_only {
            let t = Instant::now();
            let plain = image
                .create_image(format!("osrs-bench-rs-plain-{}", std::process::id()))
                .filename(&file)
                .disk_format(DiskFormat::Raw)
                .container_format(ContainerFormat::Bare)
                .allow_duplicates(true)
                .digests(&[])
                .wait(WaitOptions::default())
                .await
                .expect("upload without digests");
            let upload_plain = t.elapsed().as_secs_f64();
            image.delete_image(&plain).await.expect("delete");
            println!("{{\"upload_plain\": {upload_plain}}}");
            return;
        }

        let t = Instant::now();
        let img = image
            .create_image(format!("osrs-bench-rs-{}", std::process::id()))
            .filename(&file)
            .disk_format(DiskFormat::Raw)
            .container_format(ContainerFormat::Bare)
            .allow_duplicates(true)
            .wait(WaitOptions::default())
            .await
            .expect("upload");
        let upload = t.elapsed().as_secs_f64();


        let t = Instant::now();
        image.download_image(&img).to_path(&out).await.expect("download");
        let download = t.elapsed().as_secs_f64();
        std::fs::remove_file(&out).expect("remove the download");

        // Again (Glance now serves it from its image cache), this time like openstacksdk:
        // verified, but not flushed to disk before returning.
        let t = Instant::now();
        image.download_image(&img).durable(false).to_path(&out).await.expect("download");
        let download_again = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let mut n = 0;
        for _ in 0..5 {
            let all: Vec<Image> = image.images(&ImageQuery::new()).try_collect().await.expect("list");
            n = all.len();
        }
        let list = t.elapsed().as_secs_f64() / 5.0;

        image.delete_image(&img).await.expect("delete");
        println!(
            "{{\"upload\": {upload}, \"download\": {download}, \"download_again\": {download_again}, \"list\": {list}, \"images\": {n}}}"
        );
    });
}
