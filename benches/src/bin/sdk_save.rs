//! The SDK's own verified download of an image to a file (what `osrs image save` does, with
//! no command line around it): `cargo xtask bench cli` runs it beside `osrs image save` so
//! the two can be compared in the same run.
//!
//! Usage: `sdk_save <cloud> <image-id> <output>`

use openstack_auth::{CloudConfig, Session};
use openstack_image::ImageProxy;

fn main() {
    let mut args = std::env::args().skip(1);
    let (cloud, id, out) = match (args.next(), args.next(), args.next()) {
        (Some(c), Some(i), Some(o)) => (c, i, o),
        _ => panic!("usage: sdk_save <cloud> <image-id> <output>"),
    };
    let rt = openstack_benches::runtime();
    rt.block_on(async {
        let image = ImageProxy::new(
            Session::new(CloudConfig::from_cloud(&cloud).expect("cloud")).expect("session"),
        );
        let img = image.get_image(id.as_str()).await.expect("the image");
        image.download_image(&img).to_path(&out).await.expect("verified download");
    });
}
