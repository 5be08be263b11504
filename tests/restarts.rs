//! Restarts of the real servers under one long-lived session: Glance restarted between two
//! calls, Glance killed (SIGKILL) in the middle of an upload, Keystone restarted under a
//! cached token and a re-authentication.
//!
//! These restart the shared local cloud, so `cargo xtask test` runs them alone, after the
//! other tests, one at a time (`test = false` keeps them out of the parallel run).

use futures_util::{StreamExt, TryStreamExt};
use openstack_image::{DiskFormat, ImageQuery};
use openstack_tests::{ADMIN, image, unique};

const NO_SUCH_IMAGE: &str = "00000000-0000-0000-0000-000000000000";

/// Restarts one server of the local cloud through `cargo xtask cloud restart`.
fn restart(which: &str) {
    restart_with(&[which]);
}

fn restart_with(args: &[&str]) {
    let xtask = std::env::var_os("OSRS_XTASK").expect(
        "OSRS_XTASK is not set: these tests restart the local cloud and run from `cargo xtask test`",
    );
    let status = std::process::Command::new(xtask).args(["cloud", "restart"]).args(args).status();
    assert!(status.is_ok_and(|s| s.success()), "restarting {args:?} failed");
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

#[tokio::test]
async fn glance_killed_in_the_middle_of_an_upload() {
    use bytes::Bytes;
    use openstack_auth::CleanupOutcome;
    use openstack_image::ImageData;
    use openstack_resource::Error;
    use std::time::Duration;
    let img = image(ADMIN);
    assert!(img.get_image_opt(NO_SUCH_IMAGE).await.unwrap().is_none());
    // 16 MiB sent at about 2.5 MiB/s: Glance is killed (SIGKILL, no graceful stop) while it
    // is receiving.
    let chunks = (0..64u64).map(|i| Bytes::from(openstack_tests::data(256 << 10, 500 + i)));
    let slow = futures_util::stream::iter(chunks).then(|c| async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok::<_, std::io::Error>(c)
    });
    let name = unique("killed");
    let create = tokio::spawn(
        img.create_image(&name)
            .data(ImageData::sized_stream(slow, 64 * (256 << 10)))
            .disk_format(DiskFormat::Raw)
            .into_future(),
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    tokio::task::spawn_blocking(|| restart_with(&["glance", "--hard"])).await.unwrap();
    let err = create.await.unwrap().unwrap_err();
    // The upload broke on the network (a one-shot stream is never re-sent): typed, with the
    // cause, and the record Glance had made was deleted once Glance was back.
    assert!(
        matches!(err.kind(), Error::Transport { .. } | Error::NotReplayable { .. }),
        "{}",
        err.report()
    );
    assert!(std::error::Error::source(&err).is_some(), "{}", err.report());
    assert!(
        matches!(err.cleanup().map(|c| &c.outcome), Some(CleanupOutcome::Deleted)),
        "{}",
        err.report()
    );
    assert!(img.find_image_opt(&name).await.unwrap().is_none(), "the record is gone");
    // The same session goes on working.
    let up = img
        .create_image(unique("afterkill"))
        .data(openstack_tests::data(10_000, 6))
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap();
    img.delete_image(&up).await.unwrap();
}
