//! `create_image` options against the real Glance: protected, meta, claimed digests, an
//! expiring wait. (`all_stores_must_succeed` with a store that fails needs a broken store:
//! tests/restarts.rs, which runs alone.)

use std::time::Duration;

use openstack_auth::CleanupOutcome;
use openstack_image::{DiskFormat, ImageStatus, WaitOptions};
use openstack_resource::Error;
use openstack_tests::{ADMIN, data, image, unique};
use openstack_transfer::{Algorithm, digest_hex};

#[tokio::test]
async fn protected_meta_and_a_right_sha256_reach_the_server() {
    let img = image(ADMIN);
    let bytes = data(70_000, 301);
    let sha256 = digest_hex(Algorithm::Sha256, &bytes);
    let up = img
        .create_image(unique("prot"))
        .data(bytes.clone())
        .disk_format(DiskFormat::Raw)
        .protected(true)
        .meta([("osrs_meta", "from meta")])
        .property("osrs_property", "from property")
        .sha256(&sha256)
        .await
        .unwrap();
    let got = img.get_image(&up.id).await.unwrap();
    assert!(got.protected);
    assert_eq!(got.property("osrs_meta"), Some("from meta"));
    assert_eq!(got.property("osrs_property"), Some("from property"));
    assert_eq!(got.property("owner_specified.openstack.sha256"), Some(sha256.as_str()));
    // Protected means Glance refuses the delete.
    let err = img.delete_image(&up).await.unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{}", err.report());
    let unprotected = img.update_image_with(&up.id, |i| i.protected = false).await.unwrap();
    assert!(!unprotected.protected);
    img.delete_image(&up).await.unwrap();
}

#[tokio::test]
async fn a_wrong_sha256_is_a_mismatch_and_the_image_is_deleted() {
    let img = image(ADMIN);
    let name = unique("sha");
    let err = img
        .create_image(&name)
        .data(data(30_000, 302))
        .disk_format(DiskFormat::Raw)
        .sha256("0".repeat(64))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), Error::ChecksumMismatch { algorithm, .. } if algorithm == "sha256"),
        "{}",
        err.report()
    );
    assert!(matches!(err.cleanup().map(|c| &c.outcome), Some(CleanupOutcome::Deleted)));
    assert!(img.find_image_opt(&name).await.unwrap().is_none());
}

#[tokio::test]
async fn an_expiring_wait_is_a_timeout_and_the_record_is_cleaned_up() {
    let img = image(ADMIN);
    let name = unique("expire");
    let started = std::time::Instant::now();
    let err = img
        .create_image(&name)
        .data(data(200_000, 303))
        .disk_format(DiskFormat::Raw)
        .use_import(true)
        .wait(
            WaitOptions::default()
                .interval(Duration::from_millis(50))
                .timeout(Duration::from_millis(60)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), Error::Timeout { .. }), "{}", err.report());
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    let cleanup = err.cleanup().expect("the error says what became of the record");
    assert!(matches!(cleanup.outcome, CleanupOutcome::Deleted), "{}", err.report());
    // Deleted, or (when Glance was finishing the import) on its way out.
    match img.find_image_opt(&name).await.unwrap() {
        None => {}
        Some(left) => assert!(
            matches!(left.status, ImageStatus::Deleted | ImageStatus::PendingDelete),
            "{left:?}"
        ),
    }
}
