//! `osrs image copy` between two clouds that really differ: `local` (multi-store Glance with
//! a cache, its Keystone) and `local-b` (its own Keystone, users and catalog; its own Glance,
//! database and single store, no cache).

mod common;

use common::{json, osrs_command};
use openstack_client::image::DiskFormat;
use openstack_tests::faults::{Fault, start_to};
use openstack_tests::{ADMIN, data, image, state_dir, unique};

const B: &str = "local-b";

#[tokio::test]
async fn a_copy_to_another_cloud_arrives_verified() {
    let (here, there) = (image(ADMIN), image(B));
    // Two clouds: different Keystones hand out different projects.
    let project = |img: &openstack_client::image::ImageProxy| {
        let img = img.clone();
        async move {
            match img.session().token().await.unwrap().unwrap().scope.clone() {
                openstack_client::auth::Scope::Project { id, .. } => id,
                other => panic!("{other:?}"),
            }
        }
    };
    assert_ne!(project(&here).await, project(&there).await, "two separate Keystones");
    let bytes = data(1_500_000, 801);
    let src = here
        .create_image(unique("xcopy"))
        .data(bytes.clone())
        .disk_format(DiskFormat::Raw)
        .property("os_distro", "cirros")
        .await
        .unwrap();
    assert!(there.get_image_opt(&src.id).await.unwrap().is_none(), "not in local-b before");
    let name = unique("xcopied");
    let made =
        json(ADMIN, &["image", "copy", &src.id, "--to-cloud", B, "--name", &name, "-f", "json"]);
    let copy = there.get_image(made["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(copy.os_hash_value, src.os_hash_value, "verified at the far end");
    assert_eq!(copy.property("os_distro"), Some("cirros"));
    // In local-b's own single store.
    let stored = copy.direct_url.clone().unwrap_or_default();
    assert!(stored.contains("/data/glance-b/images/"), "{stored}");
    assert_eq!(there.download_image(&copy).to_bytes().await.unwrap().as_ref(), &bytes[..]);
    there.delete_image(&copy).await.unwrap();
    here.delete_image(&src).await.unwrap();
}

#[tokio::test]
async fn bytes_changed_on_the_way_to_the_far_cloud_exit_3_and_leave_nothing() {
    let (here, there) = (image(ADMIN), image(B));
    let bytes = data(800_000, 802);
    let src = here
        .create_image(unique("xcopybad"))
        .data(bytes.clone())
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap();
    // local-b's Glance behind a proxy that changes one byte of every upload (same length):
    // Glance stores other bytes than osrs read and hashed.
    let glance_b = std::env::var("OSRS_GLANCE_B_URL").expect("OSRS_GLANCE_B_URL is not set");
    let proxy = start_to(Fault::CorruptUpload(400_000), &glance_b).await;
    let clouds = std::fs::read_to_string(state_dir().join("clouds.yaml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("clouds.yaml");
    let b_entry = clouds.split("\n  local-b:\n").nth(1).expect("local-b in clouds.yaml");
    let b_entry: String = b_entry
        .lines()
        .take_while(|l| l.starts_with("    ") || l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(
        &yaml,
        format!(
            "{clouds}\n  local-b-corrupt:\n{b_entry}    image_endpoint_override: {}\n",
            proxy.url
        ),
    )
    .unwrap();
    let name = unique("xcopybadcopy");
    // osrs runs on a blocking thread: the proxy serves it from this test's runtime.
    let mut cmd = osrs_command();
    cmd.env("OS_CLIENT_CONFIG_FILE", &yaml)
        .args(["--os-cloud", ADMIN, "image", "copy", &src.id, "--to-cloud", "local-b-corrupt"])
        .args(["--name", &name]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("checksum"), "{err}");
    assert_eq!(proxy.state.uploads.load(std::sync::atomic::Ordering::SeqCst), 1);
    // Nothing on the far side, the source untouched.
    assert!(there.find_image_opt(&name).await.unwrap().is_none(), "the bad copy is deleted");
    let still = here.get_image(&src.id).await.unwrap();
    assert_eq!(still.os_hash_value, src.os_hash_value);
    assert_eq!(here.download_image(&src).to_bytes().await.unwrap().as_ref(), &bytes[..]);
    here.delete_image(&src).await.unwrap();
}

/// The global options that are not about one cloud apply to the far cloud too: an API
/// version pinned with `--os-image-api-version` refuses, on the far cloud, a copy into a
/// store (an import, API 2.6) before anything is made there.
#[tokio::test]
async fn the_api_version_pin_applies_to_the_far_cloud() {
    let here = image(ADMIN);
    let src = here
        .create_image(unique("xpin"))
        .data(data(10_000, 802))
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap();
    let name = unique("xpinned");
    let out = osrs_command()
        .args(["--os-cloud", ADMIN, "--os-image-api-version", "2.5", "image", "copy", &src.id])
        .args(["--to-cloud", B, "--name", &name, "--store", "file"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("the configuration pins API version 2.5"), "{err}");
    let there = image(B);
    assert!(there.find_image_opt(&name).await.unwrap().is_none(), "nothing made in local-b");
    here.delete_image(&src).await.unwrap();
}
