//! Interoperable import: glance-direct, web-download, glance-download, copy-image, stores.

use std::time::Duration;

use futures_util::TryStreamExt;
use openstack_image::{DiskFormat, ImageStatus, ImportMethod, StoreQuery, WaitOptions};
use openstack_resource::Error;
use openstack_tests::{ADMIN, DEMO, data, image, unique, www};
use openstack_transfer::{Algorithm, digest_hex};

const WAIT: Duration = Duration::from_secs(180);

#[tokio::test]
async fn import_info_and_stores() {
    let img = image(ADMIN);
    let info = img.get_import_info().await.unwrap();
    for m in ["glance-direct", "web-download", "copy-image", "glance-download"] {
        assert!(info.import_methods.iter().any(|x| x == m), "{m} in {:?}", info.import_methods);
    }
    let stores = img.stores(&StoreQuery::new()).try_collect::<Vec<_>>().await.unwrap();
    let ids: Vec<&str> = stores.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["fast", "slow", "cold", "web"]);
    assert!(stores[0].default && stores[3].read_only);
    let detail = img.stores(&StoreQuery::new().details()).try_collect::<Vec<_>>().await.unwrap();
    assert_eq!(detail[0].weight, Some(100));
    assert_eq!(detail[0].store_type.as_deref(), Some("file"));
    // Details are admin-only.
    assert!(
        image(DEMO)
            .stores(&StoreQuery::new().details())
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err()
            .is_forbidden()
    );
}

#[tokio::test]
async fn create_with_import_to_two_stores_waits_for_active() {
    let img = image(ADMIN);
    let bytes = data(400_000, 11);
    let created = img
        .create_image(unique("imp"))
        .data(bytes.clone())
        .disk_format(DiskFormat::Raw)
        .stores(["fast", "slow"])
        .wait(WaitOptions::default().timeout(WAIT))
        .await
        .unwrap();
    assert_eq!(created.status, ImageStatus::Active, "wait really waits on the import path");
    let mut stores = created.stores.clone();
    stores.sort();
    assert_eq!(stores, ["fast", "slow"]);
    assert_eq!(
        created.os_hash_value.as_deref(),
        Some(digest_hex(Algorithm::Sha512, &bytes).as_str())
    );
    assert_eq!(img.download_image(&created).to_bytes().await.unwrap().as_ref(), &bytes[..]);
    // Delete from one store only (2.10), then the last store is refused (403).
    img.delete_image(&created).store("slow").await.unwrap();
    assert_eq!(img.get_image(&created.id).await.unwrap().stores, ["fast"]);
    assert!(img.delete_image(&created).store("fast").await.unwrap_err().is_forbidden());
    img.delete_image(&created).await.unwrap();
}

#[tokio::test]
async fn stage_then_glance_direct_import_and_copy_image_to_all_stores() {
    let admin = image(ADMIN);
    let bytes = data(250_000, 12);
    let rec = admin.create_image(unique("direct")).disk_format(DiskFormat::Raw).await.unwrap();
    admin.stage_image(&rec, bytes.clone()).await.unwrap();
    let outcome = admin
        .import_image(&rec, ImportMethod::GlanceDirect)
        .store("cold")
        .wait(WaitOptions::default().timeout(WAIT))
        .await
        .unwrap();
    assert_eq!(outcome.succeeded, ["cold"]);
    assert!(outcome.failed.is_empty());
    let task = outcome.task.expect("the import task");
    assert_eq!(task.status, openstack_image::TaskStatus::Success);

    // copy-image (admin) to every store; per-store outcome.
    let outcome = admin
        .import_image(&rec, ImportMethod::CopyImage)
        .all_stores(true)
        .all_stores_must_succeed(false)
        .wait(WaitOptions::default().timeout(WAIT))
        .await
        .unwrap();
    let mut stores = outcome.succeeded.clone();
    stores.sort();
    assert_eq!(stores, ["cold", "fast", "slow"]);
    // `prefer` made observable: the copy in `slow` is altered on disk (same length), so a
    // download that really reads `slow` fails verification, and one from `fast` is intact.
    openstack_tests::alter_store_copy("slow", &rec.id);
    let err = admin.download_image(&rec).prefer("slow").to_bytes().await.unwrap_err();
    assert!(matches!(err, Error::ChecksumMismatch { .. }), "{}", err.report());
    assert_eq!(
        admin.download_image(&rec).prefer("fast").to_bytes().await.unwrap().as_ref(),
        &bytes[..]
    );
    let tasks: Vec<_> = admin.image_tasks(&rec).try_collect().await.unwrap();
    assert!(tasks.len() >= 2, "{tasks:?}");
    admin.delete_image(&rec).await.unwrap();
}

#[tokio::test]
async fn web_download_from_the_loopback_server() {
    let img = image(DEMO);
    let (dir, url) = www();
    let bytes = data(180_000, 13);
    let file = format!("{}.raw", unique("web"));
    std::fs::write(dir.join(&file), &bytes).unwrap();
    let rec = img.create_image(unique("web")).disk_format(DiskFormat::Raw).await.unwrap();
    let outcome = img
        .import_image(&rec, ImportMethod::WebDownload { uri: format!("{url}/{file}") })
        .wait(WaitOptions::default().timeout(WAIT))
        .await
        .unwrap();
    assert_eq!(outcome.image.status, ImageStatus::Active);
    assert_eq!(
        outcome.image.checksum.as_deref(),
        Some(digest_hex(Algorithm::Md5, &bytes).as_str())
    );
    std::fs::remove_file(dir.join(&file)).unwrap();
    img.delete_image(&rec).await.unwrap();
}

#[tokio::test]
async fn web_download_from_a_filtered_host_surfaces_the_servers_400() {
    let img = image(DEMO);
    let rec = img.create_image(unique("filtered")).disk_format(DiskFormat::Raw).await.unwrap();
    let err = img
        .import_image(&rec, ImportMethod::WebDownload { uri: "http://localhost:8089/x.raw".into() })
        .await
        .unwrap_err();
    match &err {
        Error::BadRequest(api) => assert!(api.message.contains("filtering"), "{}", api.message),
        other => panic!("expected BadRequest, got {other:?}"),
    }
    img.delete_image(&rec).await.unwrap();
}

#[tokio::test]
async fn glance_download_from_region_two_without_an_interface() {
    let img = image(ADMIN);
    let bytes = data(120_000, 14);
    let source = img
        .create_image(unique("remote"))
        .data(bytes.clone())
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap();
    let target = img.create_image(unique("gd")).disk_format(DiskFormat::Raw).await.unwrap();
    let outcome = img
        .import_image(
            &target,
            ImportMethod::GlanceDownload {
                remote_region: "RegionTwo".into(),
                remote_image_id: source.id.clone(),
                remote_service_interface: None,
            },
        )
        .wait(WaitOptions::default().timeout(WAIT))
        .await
        .unwrap();
    assert_eq!(outcome.image.status, ImageStatus::Active);
    assert_eq!(img.download_image(&target).to_bytes().await.unwrap().as_ref(), &bytes[..]);
    // Glance fetched it from RegionTwo's own URL (nginx on another port), not RegionOne's.
    let log =
        std::fs::read_to_string(openstack_tests::state_dir().join("log/nginx-access.log")).unwrap();
    assert!(log.contains(&format!("/v2/images/{}/file", source.id)), "RegionTwo was not used");
    img.delete_image(&target).await.unwrap();
    img.delete_image(&source).await.unwrap();
}

#[tokio::test]
async fn a_failed_glance_download_ends_the_wait_with_the_tasks_message() {
    // Glance's task fails (the remote image does not exist) and leaves the image `queued`
    // with its store still in os_glance_importing_to_stores: the wait must end there, not at
    // its timeout.
    let img = image(ADMIN);
    let target = img.create_image(unique("gdfail")).disk_format(DiskFormat::Raw).await.unwrap();
    let started = std::time::Instant::now();
    let err = img
        .import_image(
            &target,
            ImportMethod::GlanceDownload {
                remote_region: "RegionTwo".into(),
                remote_image_id: "00000000-0000-0000-0000-000000000000".into(),
                remote_service_interface: None,
            },
        )
        .wait(WaitOptions::default().timeout(WAIT))
        .await
        .unwrap_err();
    let Error::Failed { status, message, .. } = &err else { panic!("{}", err.report()) };
    assert!(status.contains("failure"), "{status}");
    assert!(!message.is_empty(), "the task's message is passed on");
    assert!(started.elapsed() < Duration::from_secs(60), "ended early: {:?}", started.elapsed());
    img.delete_image(&target).await.unwrap();
}

#[tokio::test]
async fn bad_import_arguments_are_refused_before_sending() {
    let img = image(DEMO);
    let rec = img.create_image(unique("badimp")).disk_format(DiskFormat::Raw).await.unwrap();
    let err =
        img.import_image(&rec, ImportMethod::WebDownload { uri: String::new() }).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    let err =
        img.import_image(&rec, ImportMethod::CopyImage).stores(["nowhere"]).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidArgument(m) if m.contains("nowhere")), "{err}");
    let err = img.import_image(&rec, ImportMethod::CopyImage).stores(["web"]).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidArgument(m) if m.contains("read-only")), "{err}");
    let err = img
        .import_image(&rec, ImportMethod::CopyImage)
        .stores(["fast"])
        .all_stores(true)
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::InvalidArgument(m) if m.contains("mutually exclusive")), "{err}");
    assert_eq!(
        img.get_image(&rec.id).await.unwrap().status,
        ImageStatus::Queued,
        "nothing happened"
    );
    img.delete_image(&rec).await.unwrap();
}

/// The import waiter polls on the same loop as every waiter: 503s while it polls are
/// ridden out up to the options' `transient_errors`, and each pending state reaches
/// `on_poll` (an hour-long import wait must not end on one 503).
#[tokio::test]
async fn the_import_waiter_rides_out_transient_errors_like_every_waiter() {
    use openstack_tests::faults::{Fault, start, through};
    let img = image(ADMIN);
    let rec = img.create_image(unique("importwait")).disk_format(DiskFormat::Raw).await.unwrap();
    img.stage_image(&rec, data(50_000, 61)).await.unwrap();
    img.import_image(&rec, ImportMethod::GlanceDirect).await.unwrap();
    // Six 503s in a row: with two retries per request, two failed polls.
    for (allowed, ends_well) in [(2, true), (1, false)] {
        let proxy = start(Fault::ImageGet503(6)).await;
        let opts = WaitOptions::fixed(Duration::from_millis(50), Duration::from_secs(120))
            .transient_errors(allowed);
        let result = through(&proxy, None).wait_for_import(&rec.id).wait(opts).await;
        match (ends_well, result) {
            (true, Ok(outcome)) => assert_eq!(outcome.image.status, ImageStatus::Active),
            (false, Err(e)) => assert_eq!(e.status().map(|s| s.as_u16()), Some(503), "{e:?}"),
            (_, other) => panic!("{allowed} transient errors allowed: {other:?}"),
        }
    }
    // A pending import reports its state to on_poll: a record that was never imported
    // stays queued; the first report ends the test's wait (an event, not a clock).
    let queued =
        img.create_image(unique("importwait-q")).disk_format(DiskFormat::Raw).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let opts = WaitOptions::fixed(Duration::from_millis(50), Duration::from_secs(180))
        .on_poll(move |s| drop(tx.send(s.to_string())));
    tokio::select! {
        r = img.wait_for_import(&queued.id).wait(opts) => panic!("the wait ended: {r:?}"),
        state = rx.recv() => {
            let state = state.expect("a poll was reported");
            assert!(state.starts_with("queued"), "{state}");
        }
    }
    for i in [&rec, &queued] {
        img.delete_image(i).await.unwrap();
    }
}
