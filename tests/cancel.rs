//! Cancellation: a public future dropped at any await point leaves nothing behind, checked
//! through a proxy in front of the real Glance. (Transfers dropped at every point of a
//! download to a path: the unit tests of openstack-transfer's `download.rs`.)

use std::time::{Duration, Instant};

use openstack_image::{DiskFormat, ImageProxy, ImageStatus, WaitOptions};
use openstack_tests::faults::{Fault, start, through};
use openstack_tests::{ADMIN, data, image, unique};

/// Waits (bounded) until no image named `name` exists.
async fn gone(name: &str) {
    let admin = image(ADMIN);
    let started = Instant::now();
    while let Some(left) = admin.find_image_opt(name).await.unwrap() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{name} is still there: {:?} {:?}",
            left.id,
            left.status
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn warm(img: &ImageProxy) {
    img.get_image_opt("00000000-0000-0000-0000-000000000000").await.unwrap();
}

#[tokio::test]
async fn dropped_while_glance_creates_the_record_the_record_is_deleted() {
    // Glance has made the record; its answer is held back 1.5 s and the caller gives up
    // after 300 ms, before the first byte of data: the record Glance made must still go.
    let proxy = start(Fault::DelayCreate(Duration::from_millis(1500))).await;
    let img = through(&proxy, None);
    warm(&img).await;
    for with_data in [false, true] {
        let name = unique("dropcreate");
        let mut create = img.create_image(&name).disk_format(DiskFormat::Raw);
        if with_data {
            create = create.data(data(100_000, 401));
        }
        let dropped = tokio::time::timeout(Duration::from_millis(300), create).await;
        assert!(dropped.is_err(), "the create was still waiting for Glance");
        gone(&name).await;
    }
}

#[tokio::test]
async fn create_image_dropped_at_any_moment_leaves_no_image() {
    // One create (8 MiB, import path, waiting for active) dropped at a spread of moments:
    // during validation, the POST, the upload, the import call and the wait.
    let proxy = start(Fault::None).await;
    let img = through(&proxy, None);
    warm(&img).await;
    let bytes = data(8 << 20, 402);
    for ms in [0u64, 5, 20, 60, 150, 300, 600, 1200, 2500] {
        let name = unique(&format!("drop{ms}"));
        let create = img
            .create_image(&name)
            .data(bytes.clone())
            .disk_format(DiskFormat::Raw)
            .use_import(true)
            .allow_duplicates(true)
            .wait(WaitOptions::default().interval(Duration::from_millis(100)));
        match tokio::time::timeout(Duration::from_millis(ms), create).await {
            Err(_) => gone(&name).await,
            // Finished before the deadline: a complete image, the caller's to keep.
            Ok(done) => {
                let done = done.unwrap();
                assert_eq!(done.status, ImageStatus::Active);
                image(ADMIN).delete_image(&done).await.unwrap();
            }
        }
    }
}

#[tokio::test]
async fn stage_image_dropped_mid_body_keeps_the_callers_image() {
    // stage_image and import_image work on an image the caller made: dropping them never
    // deletes it (documented on both).
    let proxy = start(Fault::SlowUpload(Duration::from_millis(200))).await;
    let img = through(&proxy, None);
    let rec =
        image(ADMIN).create_image(unique("stagedrop")).disk_format(DiskFormat::Raw).await.unwrap();
    let stage = img.stage_image(&rec, data(4 << 20, 403));
    assert!(tokio::time::timeout(Duration::from_millis(500), stage).await.is_err());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let still = image(ADMIN).get_image(&rec.id).await.unwrap();
    assert!(matches!(still.status, ImageStatus::Queued | ImageStatus::Uploading), "{still:?}");
    image(ADMIN).delete_image(&rec).await.unwrap();
}
