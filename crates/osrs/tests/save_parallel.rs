//! `image save --parallel N`: the image over several connections, verified.

mod common;

use common::{ok, osrs};
use openstack_tests::{ADMIN, image, unique};

#[tokio::test]
async fn save_over_several_connections_writes_the_verified_image() {
    let bytes = openstack_tests::data(9 << 20, 91);
    let img = image(ADMIN)
        .create_image(unique("save-parallel"))
        .data(bytes.clone())
        .disk_format(openstack_client::image::DiskFormat::Raw)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("saved.raw");
    ok(ADMIN, &["image", "save", &img.id, "--file", out.to_str().unwrap(), "--parallel", "3"]);
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    let refused = osrs(ADMIN, &["image", "save", &img.id, "--parallel", "0"]);
    assert_eq!(refused.status.code(), Some(2), "clap refuses 0 connections");
    image(ADMIN).delete_image(&img).await.unwrap();
}
