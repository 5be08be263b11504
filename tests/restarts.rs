//! Restarts of the real servers under one long-lived session: Glance restarted between two
//! calls, Glance killed (SIGKILL) in the middle of an upload, Keystone restarted under a
//! cached token and a re-authentication.
//!
//! Also a file store broken on disk (its directory replaced by a file) for an import that
//! must, or need not, succeed in every store.
//!
//! These restart or break the shared local cloud, so `cargo xtask test` runs them alone,
//! after the other tests, one at a time (`test = false` keeps them out of the parallel run).

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
    // Two records of one name, to list across a page boundary after the restart.
    let name = unique("listed");
    let mut made = Vec::new();
    for _ in 0..2 {
        made.push(
            img.create_image(&name)
                .disk_format(DiskFormat::Raw)
                .allow_duplicates(true)
                .await
                .unwrap()
                .image
                .id,
        );
    }
    // A pooled keep-alive connection to the old Glance.
    assert!(img.get_image_opt(NO_SUCH_IMAGE).await.unwrap().is_none());
    restart("glance");
    // Idempotent calls succeed on a fresh connection, transparently.
    assert!(img.get_image_opt(NO_SUCH_IMAGE).await.unwrap().is_none());
    let listed: Vec<_> =
        img.images(&ImageQuery::new().name(&name).page_size(1)).try_collect().await.unwrap();
    let mut ids: Vec<String> = listed.into_iter().map(|i: openstack_image::Image| i.id).collect();
    ids.sort();
    made.sort();
    assert_eq!(ids, made, "both records, over two pages");
    for id in &made {
        img.delete_image(id).await.unwrap();
    }
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
    let img = image(ADMIN);
    assert!(img.get_image_opt(NO_SUCH_IMAGE).await.unwrap().is_none());
    // 16 MiB, of which the SDK takes 4 MiB; then the source holds the rest back until Glance
    // has been killed (SIGKILL, no graceful stop) while it was receiving. The SDK pulls the
    // body only while it sends the PUT, so the kill falls mid-upload whatever the speed.
    let (pulled_tx, pulled_rx) = tokio::sync::oneshot::channel::<()>();
    let killed = std::sync::Arc::new(tokio::sync::Notify::new());
    let chunks = (0..64u64).map(|i| Bytes::from(openstack_tests::data(256 << 10, 500 + i)));
    let (mut pulled_tx, hold) = (Some(pulled_tx), killed.clone());
    let source = futures_util::stream::iter(chunks.enumerate()).then(move |(i, c)| {
        let signal = if i == 16 { pulled_tx.take() } else { None };
        let hold = hold.clone();
        async move {
            if let Some(tx) = signal {
                let _ = tx.send(());
                hold.notified().await;
            }
            Ok::<_, std::io::Error>(c)
        }
    });
    let name = unique("killed");
    let create = tokio::spawn(
        img.create_image(&name)
            .data(ImageData::sized_stream(source, 64 * (256 << 10)))
            .disk_format(DiskFormat::Raw)
            .into_future(),
    );
    pulled_rx.await.expect("the SDK took the first 4 MiB of the upload");
    tokio::task::spawn_blocking(|| restart_with(&["glance", "--hard"])).await.unwrap();
    killed.notify_one();
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

#[tokio::test]
async fn a_store_that_fails_the_import_with_and_without_all_stores_must_succeed() {
    use openstack_auth::CleanupOutcome;
    use openstack_image::{ImageStatus, WaitOptions};
    use openstack_resource::Error;
    let img = image(ADMIN);
    let broken = openstack_tests::BrokenStore::break_it("cold");
    let wait = WaitOptions::default().timeout(std::time::Duration::from_secs(120));
    // Must succeed everywhere: the import fails, and the image is deleted.
    let name = unique("muststores");
    let err = img
        .create_image(&name)
        .data(openstack_tests::data(50_000, 801))
        .disk_format(DiskFormat::Raw)
        .stores(["fast", "cold"])
        .all_stores_must_succeed(true)
        .wait(wait.clone())
        .await
        .unwrap_err();
    // Failed, naming the store that failed, with Glance's reason.
    match err.kind() {
        Error::Failed { message, .. } => {
            assert!(message.contains("cold"), "which store: {}", err.report());
        }
        _ => panic!("{}", err.report()),
    }
    assert!(
        matches!(err.cleanup().map(|c| &c.outcome), Some(CleanupOutcome::Deleted)),
        "{}",
        err.report()
    );
    assert!(img.find_image_opt(&name).await.unwrap().is_none());
    // Allowed to fail somewhere: the image is active in the store that worked and says
    // which one failed.
    let up = img
        .create_image(unique("somestores"))
        .data(openstack_tests::data(50_000, 802))
        .disk_format(DiskFormat::Raw)
        .stores(["fast", "cold"])
        .all_stores_must_succeed(false)
        .wait(wait)
        .await
        .unwrap();
    drop(broken);
    assert_eq!(up.status, ImageStatus::Active);
    assert_eq!(up.stores, ["fast"]);
    assert_eq!(up.os_glance_failed_import, ["cold"]);
    img.delete_image(&up).await.unwrap();
}
