//! `create_image` options against the real Glance: protected, meta, claimed digests, an
//! expiring wait. (`all_stores_must_succeed` with a store that fails needs a broken store:
//! tests/restarts.rs, which runs alone.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::Method;

use bytes::Bytes;
use openstack_auth::CleanupOutcome;
use openstack_image::{DiskFormat, Image, ImageData, ImageStatus, WaitOptions};
use openstack_resource::Error;
use openstack_tests::faults::{Fault, ready, start, through};
use openstack_tests::trap::{EVENT_WAIT, Hold, Trap};
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
        matches!(err.kind(), Error::ChecksumMismatch { algorithm, .. } if *algorithm == Algorithm::Sha256),
        "{}",
        err.report()
    );
    assert!(matches!(err.cleanup().map(|c| &c.outcome), Some(CleanupOutcome::Deleted)));
    assert!(img.find_image_opt(&name).await.unwrap().is_none());
}

#[tokio::test]
async fn an_expiring_wait_is_a_timeout_and_the_record_is_cleaned_up() {
    // The proxy holds Glance's answer to the first poll of the image after the import call:
    // the wait cannot see `active`, whatever the machine's speed, and must end at its own
    // deadline (which covers a poll in flight), then delete the record.
    let proxy = start(Fault::None).await;
    let img = through(&proxy, None);
    ready(&img).await;
    let imported = AtomicBool::new(false);
    proxy.arm(Trap::when(
        move |m, p| {
            if *m == Method::POST && p.ends_with("/import") {
                imported.store(true, Ordering::SeqCst);
            }
            let image_get = *m == Method::GET
                && p.strip_prefix("/v2/images/").is_some_and(|id| !id.contains('/'));
            image_get && imported.load(Ordering::SeqCst)
        },
        Hold::Answer,
    ));
    let name = unique("expire");
    let create = img
        .create_image(&name)
        .data(data(200_000, 303))
        .disk_format(DiskFormat::Raw)
        .use_import(true)
        .wait(
            WaitOptions::default()
                .interval(Duration::from_millis(50))
                .timeout(Duration::from_secs(2)),
        );
    let err = tokio::time::timeout(EVENT_WAIT, create).await.expect("bounded").unwrap_err();
    assert!(matches!(err.kind(), Error::Timeout { .. }), "{}", err.report());
    assert!(err.report().contains("import of image"), "{}", err.report());
    assert_eq!(proxy.state.traps.sprung_count(), 1, "the wait's poll was held");
    let cleanup = err.cleanup().expect("the error says what became of the record");
    assert!(matches!(cleanup.outcome, CleanupOutcome::Deleted), "{}", err.report());
    proxy.release();
    // Deleted, or (when Glance was finishing the import) on its way out.
    match image(ADMIN).find_image_opt(&name).await.unwrap() {
        None => {}
        Some(left) => assert!(
            matches!(left.status, ImageStatus::Deleted | ImageStatus::PendingDelete),
            "{left:?}"
        ),
    }
}

/// One create through a proxy that changes byte 123,457 of the upload (same length), from
/// each kind of source: Glance stores and hashes other bytes than the client hashed.
async fn corrupted_upload(source: &str, keep: bool) -> (String, openstack_resource::Result<Image>) {
    let proxy = start(Fault::CorruptUpload(123_457)).await;
    let img = through(&proxy, None);
    let bytes = data(300_000, 910);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img.raw");
    std::fs::write(&path, &bytes).unwrap();
    let name = unique(&format!("corrupt-{source}"));
    let create = img.create_image(&name).disk_format(DiskFormat::Raw).keep_on_mismatch(keep);
    let create = match source {
        "file" => create.filename(&path),
        "open file" => create.data(std::fs::File::open(&path).unwrap()),
        "reader" => create.data(ImageData::reader(tokio::fs::File::open(&path).await.unwrap())),
        "stream" => {
            let chunks: Vec<std::io::Result<Bytes>> =
                bytes.chunks(50_000).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
            create.data(ImageData::sized_stream(futures_util::stream::iter(chunks), 300_000))
        }
        other => panic!("unknown source {other}"),
    };
    let result = create.await.map(openstack_image::CreatedImage::into_image);
    assert_eq!(proxy.state.uploads.load(std::sync::atomic::Ordering::SeqCst), 1, "{source}");
    (name, result)
}

#[tokio::test]
async fn glance_storing_other_bytes_than_sent_is_a_checksum_mismatch() {
    let bytes = data(300_000, 910);
    let mut stored = bytes.clone();
    stored[123_457] ^= 0x01;
    let (ours, theirs) = (digest_hex(Algorithm::Md5, &bytes), digest_hex(Algorithm::Md5, &stored));
    for source in ["file", "open file", "reader", "stream"] {
        let (name, result) = corrupted_upload(source, false).await;
        let err = result.unwrap_err();
        match err.kind() {
            Error::ChecksumMismatch { algorithm, expected, actual } => {
                assert_eq!(
                    (algorithm.as_str(), expected, actual),
                    ("md5", &ours, &theirs),
                    "{source}"
                );
            }
            _ => panic!("{source}: {}", err.report()),
        }
        assert!(
            matches!(err.cleanup().map(|c| &c.outcome), Some(CleanupOutcome::Deleted)),
            "{source}: {}",
            err.report()
        );
        assert!(image(ADMIN).find_image_opt(&name).await.unwrap().is_none(), "{source}");
    }
    // Kept on request: the image is there, with the bytes Glance stored.
    let (name, result) = corrupted_upload("file", true).await;
    let err = result.unwrap_err();
    assert!(matches!(err.kind(), Error::ChecksumMismatch { .. }), "{}", err.report());
    let kept = image(ADMIN).find_image(&name).await.unwrap();
    assert_eq!(kept.checksum.as_deref(), Some(theirs.as_str()));
    let got = image(ADMIN).download_image(&kept).to_bytes().await.unwrap();
    assert_eq!(got.as_ref(), &stored[..]);
    image(ADMIN).delete_image(&kept).await.unwrap();
}
