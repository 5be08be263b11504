//! The SDK's own verified download of an image to a file (what `osrs image save` does, with
//! no command line around it): `cargo xtask bench cli` runs it beside `osrs image save` so
//! the two can be compared in the same run.
//!
//! Usage: `sdk_save <cloud> <image-id> <output>`; `OSRS_CONNECTIONS=N` sets the download's
//! connections, `OSRS_IMAGE_ENDPOINT=URL` reaches Glance elsewhere (`cargo xtask bench wan`
//! puts a slow link there), `OSRS_SINK=stream` reads the verified stream and drops its bytes
//! instead of writing the output (`cargo xtask bench sink` compares the two; otherwise it
//! prints `connections N`, how many connections fetched the image),
//! `OSRS_SPAWN=1` runs the download as a spawned task instead of as `block_on`'s future (as
//! `osrs` does; see the README's note on runtimes).

use openstack_auth::{CloudConfig, Session};
use openstack_image::ImageProxy;

fn main() {
    let mut args = std::env::args().skip(1);
    let (cloud, id, out) = match (args.next(), args.next(), args.next()) {
        (Some(c), Some(i), Some(o)) => (c, i, o),
        _ => panic!("usage: sdk_save <cloud> <image-id> <output>"),
    };
    let rt = openstack_benches::runtime();
    let work = async move {
        let mut config = CloudConfig::from_cloud(&cloud).expect("cloud");
        if let Ok(url) = std::env::var("OSRS_IMAGE_ENDPOINT") {
            config.endpoint_overrides.insert("image".into(), url);
        }
        let image = ImageProxy::new(Session::new(config).expect("session"));
        let img = image.get_image(id.as_str()).await.expect("the image");
        let mut download = image.download_image(&img);
        if let Some(n) = std::env::var("OSRS_CONNECTIONS").ok().and_then(|n| n.parse().ok()) {
            download = download.connections(n);
        }
        if std::env::var("OSRS_SINK").is_ok_and(|s| s == "stream") {
            use futures_util::TryStreamExt;
            let bytes = download
                .into_stream()
                .try_fold(0u64, |n, chunk| async move { Ok(n + chunk.len() as u64) })
                .await
                .expect("verified download");
            assert_eq!(Some(bytes), img.size, "the whole image");
        } else {
            let done = download.to_path(&out).await.expect("verified download");
            // For `bench wan`: how many connections the download used (the default widens
            // only when one stream is slow).
            println!("connections {}", done.report.connections);
        }
    };
    if std::env::var("OSRS_SPAWN").is_ok() {
        rt.block_on(async { tokio::spawn(work).await.expect("the download task") });
    } else {
        rt.block_on(work);
    }
}
