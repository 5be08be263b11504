//! The commonest production Glance: one store, no image cache (cloud `local-b`). It lists
//! API 2.17 as current but not the multi-store versions (2.8 to 2.13) nor the cache ones
//! (2.14, 2.16, 2.18), so a call that needs those is refused before it is sent, naming what
//! the cloud lacks; everything else works as on the multi-store cloud.

use futures_util::TryStreamExt;
use openstack_auth::{ApiVersion, Error};
use openstack_image::{DiskFormat, ImageStatus, ImportMethod, StoreQuery, WaitOptions};
use openstack_tests::faults::{Fault, start_to};
use openstack_tests::{data, image, unique};

const B: &str = "local-b";

fn unsupported(err: &Error, feature: &str) {
    match err.kind() {
        Error::Unsupported { feature: Some(f), .. } => assert!(f.contains(feature), "{f}"),
        other => panic!("expected Unsupported for lack of {feature}, got {other:?}"),
    }
    assert!(err.to_string().contains("this cloud does not offer it"), "{err}");
}

#[tokio::test]
async fn what_a_single_store_cloud_lacks_is_refused_before_sending() {
    let glance_b = std::env::var("OSRS_GLANCE_B_URL").expect("OSRS_GLANCE_B_URL (cloud env)");
    let proxy = start_to(Fault::None, &glance_b).await;
    let mut cfg = openstack_tests::cloud(B);
    cfg.endpoint_overrides.insert("image".into(), proxy.url.clone());
    let img = openstack_image::ImageProxy::new(openstack_auth::Session::new(cfg).unwrap());
    let ep = img.endpoint().await.unwrap();
    assert_eq!(ep.version, Some(ApiVersion::new(2, 17)));
    assert!(!ep.offered.contains(&ApiVersion::new(2, 8)), "{:?}", ep.offered);

    let err = img.stores(&StoreQuery::new()).try_collect::<Vec<_>>().await.unwrap_err();
    unsupported(&err, "multiple stores");
    let err = img.get_image_cache().await.unwrap_err();
    unsupported(&err, "image cache");
    let err = img.queue_image("d9ed362f-77cd-4c7d-bd7e-c32b18ada370").await.unwrap_err();
    unsupported(&err, "image cache");
    let err = img.delete_image("d9ed362f-77cd-4c7d-bd7e-c32b18ada370").store("file").await;
    unsupported(&err.unwrap_err(), "multiple stores");
    for path in ["/v2/info/stores", "/v2/cache"] {
        assert_eq!(proxy.state.count(|r| r.contains(path)), 0, "{path} was sent");
    }
}

#[tokio::test]
async fn upload_import_and_download_work_on_a_single_store_cloud() {
    let img = image(B);
    let bytes = data(300_000, 71);
    let up = img
        .create_image(unique("single"))
        .data(bytes.clone())
        .disk_format(DiskFormat::Raw)
        .validate_checksum(true)
        .await
        .unwrap();
    assert_eq!(up.status, ImageStatus::Active);
    assert_eq!(img.download_image(&up).await.unwrap().as_ref(), bytes.as_slice());
    // The import path: stage, glance-direct, wait (the waiter reads the image's tasks).
    let rec = img.create_image(unique("single-import")).disk_format(DiskFormat::Raw).await.unwrap();
    img.stage_image(&rec, bytes.clone()).await.unwrap();
    let outcome = img
        .import_image(&rec, ImportMethod::GlanceDirect)
        .wait(WaitOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome.image.status, ImageStatus::Active);
    assert_eq!(img.download_image(&rec).await.unwrap().as_ref(), bytes.as_slice());
    for i in [&up.image, &rec.image] {
        img.delete_image(i).await.unwrap();
    }
}
