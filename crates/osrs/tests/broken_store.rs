//! `image import` into several stores when one of them fails: openstackclient's default
//! (`--allow-failure`) keeps the image in the stores that worked; `--disallow-failure` fails.
//! Its own test binary: the broken store would break other tests running beside it.

mod common;

use common::{json, osrs};
use openstack_client::image::{DiskFormat, ImageStatus};
use openstack_tests::{ADMIN, BrokenStore, data, image, unique};

#[tokio::test]
async fn a_failing_store_is_allowed_by_default_and_refused_with_disallow_failure() {
    let admin = image(ADMIN);
    let staged = || async {
        let rec = admin.create_image(unique("clistorefail")).disk_format(DiskFormat::Raw);
        let rec = rec.await.unwrap();
        admin.stage_image(&rec, data(20_000, 31)).await.unwrap();
        rec
    };
    let (lenient, strict) = (staged().await, staged().await);
    let broken = BrokenStore::break_it("cold");
    let import = |id: &str, extra: &[&str]| {
        let mut args = vec!["image", "import", id, "--store", "fast", "--store", "cold", "--wait"];
        args.extend(extra);
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let args = import(&lenient.id, &["-f", "json"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let shown = json(ADMIN, &refs);
    assert_eq!(shown["status"], "active", "{shown}");
    let got = admin.get_image(&lenient.id).await.unwrap();
    assert_eq!(got.stores, ["fast"]);
    assert_eq!(got.os_glance_failed_import, ["cold"]);
    let args = import(&strict.id, &["--disallow-failure"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = osrs(ADMIN, &refs);
    drop(broken);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cold"), "names the failed store: {err}");
    let after = admin.get_image_opt(&strict.id).await.unwrap();
    assert!(after.as_ref().is_none_or(|i| i.status != ImageStatus::Active), "{after:?}");
    admin.delete_image(&lenient).await.unwrap();
    let _ = admin.delete_image_opt(&strict.id).await;
}
