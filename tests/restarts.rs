//! Restarts of the real servers under one long-lived session: Glance restarted between two
//! calls, Keystone restarted under a cached token and a re-authentication.
//!
//! These restart the shared local cloud, so `cargo xtask test` runs them alone, after the
//! other tests, one at a time (`test = false` keeps them out of the parallel run).

use futures_util::{StreamExt, TryStreamExt};
use openstack_image::{DiskFormat, ImageQuery};
use openstack_tests::{ADMIN, image, unique};

const NO_SUCH_IMAGE: &str = "00000000-0000-0000-0000-000000000000";

/// Restarts one server of the local cloud through `cargo xtask cloud restart`.
fn restart(which: &str) {
    let xtask = std::env::var_os("OSRS_XTASK").expect(
        "OSRS_XTASK is not set: these tests restart the local cloud and run from `cargo xtask test`",
    );
    let status = std::process::Command::new(xtask).args(["cloud", "restart", which]).status();
    assert!(status.is_ok_and(|s| s.success()), "restarting {which} failed");
}

#[tokio::test]
async fn glance_restarted_between_two_calls() {
    let img = image(ADMIN);
    // A pooled keep-alive connection to the old Glance.
    assert!(img.get_image_opt(NO_SUCH_IMAGE).await.unwrap().is_none());
    restart("glance");
    // Idempotent calls succeed on a fresh connection, transparently.
    assert!(img.get_image_opt(NO_SUCH_IMAGE).await.unwrap().is_none());
    let page: Vec<_> =
        img.images(&ImageQuery::new().page_size(1)).take(1).try_collect().await.unwrap();
    assert!(page.len() <= 1);
    // A non-idempotent one (a create with a streamed upload) works too.
    let up = img
        .create_image(unique("restarted"))
        .data(openstack_tests::data(100_000, 5))
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap();
    assert_eq!(up.size, Some(100_000));
    img.delete_image(&up).await.unwrap();
}

#[tokio::test]
async fn keystone_restarted_under_a_cached_token() {
    let img = image(ADMIN);
    assert!(img.get_image_opt(NO_SUCH_IMAGE).await.unwrap().is_none());
    let before = img.session().auth_count();
    restart("keystone");
    // The cached token keeps working (fernet keys survive the restart).
    assert!(img.get_image_opt(NO_SUCH_IMAGE).await.unwrap().is_none());
    assert_eq!(img.session().auth_count(), before, "no re-authentication was needed");
    // A re-authentication against the restarted Keystone works.
    img.session().invalidate_token().await;
    assert!(img.get_image_opt(NO_SUCH_IMAGE).await.unwrap().is_none());
    assert_eq!(img.session().auth_count(), before + 1, "exactly one re-authentication");
}
