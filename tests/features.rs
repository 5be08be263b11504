//! Options that only matter in some clouds or some failures, each run against the real
//! Glance and checked by its effect: `CreateImage::container`, `disable_vendor_agent`,
//! `all_stores`, `ImportImage::stores`; `DownloadImage::allow_md5`, `progress`, `to_writer`
//! on a mismatch; `WaitOptions::backoff`, `max_interval` and `transient_errors`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openstack_image::{DiskFormat, ImageProxy, ImageStatus, ImportMethod, WaitOptions};
use openstack_resource::Error;
use openstack_tests::faults::{Fault, start, through};
use openstack_tests::{ADMIN, cloud, data, image, state_dir, unique};
use openstack_transfer::{Algorithm, Progress};

#[tokio::test]
async fn container_and_vendor_agent_properties_reach_the_record() {
    // A cloud whose clouds.yaml names vendor-agent properties (as some public clouds do).
    let mut cfg = cloud(ADMIN);
    cfg.disable_vendor_agent.insert("vm_mode".into(), "hvm".into());
    let img = ImageProxy::new(openstack_auth::Session::new(cfg).unwrap());
    let name = unique("vendor");
    let up = img
        .create_image(&name)
        .data(data(5_000, 11))
        .disk_format(DiskFormat::Raw)
        .container("osrs-bucket")
        .await
        .unwrap();
    assert_eq!(
        up.property("owner_specified.openstack.object"),
        Some(format!("osrs-bucket/{name}").as_str())
    );
    assert_eq!(up.property("vm_mode"), Some("hvm"), "added by default");
    let off = img
        .create_image(unique("vendoroff"))
        .disk_format(DiskFormat::Raw)
        .disable_vendor_agent(false)
        .await
        .unwrap();
    assert_eq!(off.property("vm_mode"), None, "not added when switched off");
    img.delete_image(&up).await.unwrap();
    img.delete_image(&off).await.unwrap();
}

#[tokio::test]
async fn all_stores_and_a_chosen_store_are_where_the_data_lands() {
    let img = image(ADMIN);
    let wait = WaitOptions::default().timeout(Duration::from_secs(180));
    let everywhere = img
        .create_image(unique("allstores"))
        .data(data(40_000, 12))
        .disk_format(DiskFormat::Raw)
        .all_stores(true)
        .wait(wait.clone())
        .await
        .unwrap();
    let mut stores = everywhere.stores.clone();
    stores.sort();
    assert_eq!(stores, ["cold", "fast", "slow"], "every writable store (not the http one)");
    // A record staged, then imported into one chosen store.
    let rec = img.create_image(unique("onestore")).disk_format(DiskFormat::Raw).await.unwrap();
    img.stage_image(&rec, data(30_000, 13)).await.unwrap();
    img.import_image(&rec, ImportMethod::GlanceDirect).stores(["slow"]).wait(wait).await.unwrap();
    let got = img.get_image(&rec.id).await.unwrap();
    assert_eq!(got.status, ImageStatus::Active);
    assert_eq!(got.stores, ["slow"]);
    img.delete_image(&everywhere).await.unwrap();
    img.delete_image(&rec).await.unwrap();
}

/// Makes `id` look like an image uploaded before Glance had `os_hash_value` (Rocky): only
/// the MD5 `checksum` remains, in Glance's own database.
fn legacy_md5_only(id: &str) {
    let db = state_dir().join("data/glance/glance.sqlite");
    let python = state_dir().join("venv/bin/python");
    let script = "import sqlite3, sys\n\
                  c = sqlite3.connect(sys.argv[1], timeout=60)\n\
                  c.execute('UPDATE images SET os_hash_algo = NULL, os_hash_value = NULL WHERE id = ?', (sys.argv[2],))\n\
                  c.commit()\n";
    let status = std::process::Command::new(python)
        .args(["-c", script, db.to_str().unwrap(), id])
        .status()
        .unwrap();
    assert!(status.success(), "updating Glance's database");
}

#[tokio::test]
async fn an_md5_only_image_is_verified_with_md5_unless_md5_is_refused() {
    let img = image(ADMIN);
    let bytes = data(300_000, 14);
    let up =
        img.create_image(unique("legacy")).data(bytes.clone()).disk_format(DiskFormat::Raw).await;
    let up = up.unwrap();
    legacy_md5_only(&up.id);
    let now = img.get_image(&up.id).await.unwrap();
    assert!(now.os_hash_value.is_none() && now.checksum.is_some(), "{now:?}");

    let out = openstack_tests::SharedBuf::default();
    let done = img.download_image(&up).to_writer(out.clone()).await.unwrap();
    assert_eq!(done.verified_with, Some(Algorithm::Md5));
    assert_eq!(out.bytes(), bytes);
    // A flipped byte is caught by MD5 ...
    let proxy = start(Fault::Flip(1_000)).await;
    let err = through(&proxy, None).download_image(&up).to_bytes().await.unwrap_err();
    assert!(
        matches!(&err, Error::ChecksumMismatch { algorithm, .. } if *algorithm == Algorithm::Md5),
        "{err:?}"
    );
    // ... and with MD5 refused (FIPS) nothing can verify it: the bytes come unverified,
    // and the outcome says so.
    let out = openstack_tests::SharedBuf::default();
    let done = img.download_image(&up).allow_md5(false).to_writer(out.clone()).await.unwrap();
    assert_eq!(done.verified_with, None);
    assert_eq!(out.bytes(), bytes);
    img.delete_image(&up).await.unwrap();
}

#[tokio::test]
async fn download_progress_and_a_mismatch_into_a_writer() {
    let img = image(ADMIN);
    let bytes = data(2_000_000, 15);
    let up = img.create_image(unique("progress")).data(bytes.clone()).disk_format(DiskFormat::Raw);
    let up = up.await.unwrap();
    let updates = Arc::new(Mutex::new(Vec::new()));
    let seen = updates.clone();
    let progress = Progress::new(move |u| seen.lock().unwrap().push((u.bytes, u.total, u.done)));
    let out = openstack_tests::SharedBuf::default();
    img.download_image(&up).progress(progress).to_writer(out.clone()).await.unwrap();
    let updates = updates.lock().unwrap().clone();
    assert!(!updates.is_empty());
    assert!(updates.windows(2).all(|w| w[0].0 <= w[1].0), "bytes only grow: {updates:?}");
    assert_eq!(updates.last().copied(), Some((2_000_000, Some(2_000_000), true)));
    assert_eq!(updates.iter().filter(|u| u.2).count(), 1, "done once");

    // A mismatch into the caller's writer: the error is the mismatch (the caller's writer
    // holds what came, which the error says not to trust).
    let proxy = start(Fault::Flip(1_500_000)).await;
    let out = openstack_tests::SharedBuf::default();
    let err = through(&proxy, None).download_image(&up).to_writer(out.clone()).await.unwrap_err();
    assert!(
        matches!(&err, Error::ChecksumMismatch { algorithm, .. } if *algorithm == Algorithm::Sha512),
        "{err:?}"
    );
    img.delete_image(&up).await.unwrap();
}

/// A download streamed into an upload (a copy): the download's own failure, a checksum
/// mismatch caught at its end, fails the upload as itself, and the half-made copy is deleted.
#[tokio::test]
async fn a_download_feeding_an_upload_fails_it_with_its_own_error() {
    let img = image(ADMIN);
    let bytes = data(1_000_000, 16);
    let up = img.create_image(unique("feed")).data(bytes.clone()).disk_format(DiskFormat::Raw);
    let up = up.await.unwrap();
    // Unharmed, the stream is the image: the copy arrives whole.
    let copy = img
        .create_image(unique("feed-copy"))
        .data(img.download_image(&up).into_stream())
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap();
    assert_eq!(copy.os_hash_value, up.os_hash_value);
    let proxy = start(Fault::Flip(500_000)).await;
    // Inspected first (the default), the whole small stream is read before the record
    // exists: the mismatch fails the call with nothing created. Not inspected, it fails the
    // upload, and the half-made copy is deleted.
    for inspect in [true, false] {
        let name = unique("feed-bad");
        let err = img
            .create_image(&name)
            .data(through(&proxy, None).download_image(&up).into_stream())
            .disk_format(DiskFormat::Raw)
            .inspect(inspect)
            .await
            .unwrap_err();
        assert!(
            matches!(err.kind(), Error::ChecksumMismatch { algorithm, .. } if *algorithm == Algorithm::Sha512),
            "{}",
            err.report()
        );
        match inspect {
            true => assert!(err.cleanup().is_none(), "nothing was created: {}", err.report()),
            false => assert!(
                err.cleanup().is_some_and(|c| c.to_string().contains("deleted")),
                "{}",
                err.report()
            ),
        }
        assert!(img.find_image_opt(&name).await.unwrap().is_none(), "nothing left behind");
    }
    for i in [&up, &copy] {
        img.delete_image(i).await.unwrap();
    }
}

#[tokio::test]
async fn waits_back_off_up_to_their_cap_and_ride_out_transient_errors() {
    let img = image(ADMIN);
    let rec = img.create_image(unique("backoff")).disk_format(DiskFormat::Raw).await.unwrap();
    // Never active (no data): polls at 100 ms, then 200, 400, capped at 400. Sleeps are
    // never shorter than asked, so each gap is at least its interval, whatever the speed.
    let polls = Arc::new(Mutex::new(Vec::new()));
    let seen = polls.clone();
    let opts = WaitOptions::fixed(Duration::from_millis(100), Duration::from_secs(4))
        .backoff(2.0)
        .max_interval(Duration::from_millis(400))
        .on_poll(move |_| seen.lock().unwrap().push(Instant::now()));
    let err = img.wait_for_status(&rec, ImageStatus::Active).wait(opts).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    let polls = polls.lock().unwrap().clone();
    let gaps: Vec<Duration> = polls.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.len() >= 2, "{gaps:?}");
    for (gap, least) in gaps.iter().zip([100u64, 200, 400, 400, 400]) {
        assert!(*gap >= Duration::from_millis(least), "{gaps:?}");
    }
    // Six 503s in a row: with two retries per request, that is two failed polls. Two
    // transient errors allowed: the wait goes on and sees the image; one allowed: it ends
    // with the 503.
    for (allowed, ends_well) in [(2, true), (1, false)] {
        let proxy = start(Fault::ImageGet503(6)).await;
        let watched = through(&proxy, None);
        let opts = WaitOptions::fixed(Duration::from_millis(50), Duration::from_secs(120))
            .transient_errors(allowed);
        let result = watched.wait_for_status(&rec, ImageStatus::Queued).wait(opts).await;
        match (ends_well, result) {
            (true, Ok(img)) => assert_eq!(img.id, rec.id),
            (false, Err(e)) => assert_eq!(e.status().map(|s| s.as_u16()), Some(503), "{e:?}"),
            (_, other) => panic!("{allowed} transient errors allowed: {other:?}"),
        }
    }
    img.delete_image(&rec).await.unwrap();
}
