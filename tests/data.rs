//! Image data: uploads hashed in flight and verified, downloads verified and atomic.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures_util::StreamExt;
use openstack_auth::CleanupOutcome;
use openstack_image::{ContainerFormat, DiskFormat, ImageData, ImageStatus, WaitOptions};
use openstack_resource::Error;
use openstack_tests::{ADMIN, DEMO, data, image, unique};
use openstack_transfer::{Algorithm, Progress, digest_hex};

#[tokio::test]
async fn upload_file_then_download_every_way_byte_for_byte() {
    let img = image(ADMIN);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("disk.raw");
    let bytes = data(3 * 1024 * 1024 + 17, 1);
    std::fs::write(&src, &bytes).unwrap();
    let seen = Arc::new(AtomicU64::new(0));
    let s = seen.clone();
    let created = img
        .create_image(unique("upload"))
        .filename(&src)
        .container_format(ContainerFormat::Bare)
        .wait(WaitOptions::default())
        .validate_checksum(true)
        .progress(Progress::new(move |u| s.store(u.bytes, Ordering::Relaxed)))
        .await
        .unwrap();
    assert_eq!(created.status, ImageStatus::Active);
    assert_eq!(created.disk_format, Some(DiskFormat::Raw), "disk format from the .raw extension");
    assert_eq!(created.size, Some(bytes.len() as u64));
    assert_eq!(created.checksum.as_deref(), Some(digest_hex(Algorithm::Md5, &bytes).as_str()));
    assert_eq!(
        created.os_hash_value.as_deref(),
        Some(digest_hex(Algorithm::Sha512, &bytes).as_str())
    );
    assert_eq!(
        created.property("owner_specified.openstack.sha256"),
        Some(digest_hex(Algorithm::Sha256, &bytes).as_str())
    );
    assert_eq!(seen.load(Ordering::Relaxed), bytes.len() as u64);

    // To a path: atomic and verified by sha512.
    let out = dir.path().join("copy.raw");
    let outcome = img.download_image(&created).to_path(&out).await.unwrap();
    assert_eq!(outcome.verified_with, Some(Algorithm::Sha512));
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    // Over the same path again, without the fsync: replaced, still verified.
    std::fs::write(&out, b"older content").unwrap();
    let outcome = img.download_image(&created).durable(false).to_path(&out).await.unwrap();
    assert_eq!(outcome.verified_with, Some(Algorithm::Sha512));
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "no temp file left");
    // To memory.
    assert_eq!(
        img.download_image(&created.id).to_bytes().await.unwrap(),
        Bytes::from(bytes.clone())
    );
    // As a stream.
    let mut stream = Box::pin(img.download_image(&created.id).into_stream());
    let mut got = Vec::new();
    while let Some(chunk) = stream.next().await {
        got.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(got, bytes);
    // (Preferring a store: tests/import.rs, where the stores hold different bytes.)
    img.delete_image(&created).await.unwrap();
}

#[tokio::test]
async fn upload_image_from_memory_and_stage_data() {
    let img = image(DEMO);
    let bytes = data(200_000, 2);
    let up = img
        .upload_image(unique("mem"), bytes.clone())
        .container_format(ContainerFormat::Bare)
        .disk_format(DiskFormat::Raw)
        .wait(WaitOptions::default())
        .await
        .unwrap();
    assert_eq!(up.status, ImageStatus::Active);
    assert_eq!(img.download_image(&up).to_bytes().await.unwrap(), Bytes::from(bytes));
    img.delete_image(&up).await.unwrap();

    // stage_image: data lands in the staging area, the image turns `uploading`; imported,
    // the image has exactly the staged bytes.
    let rec = img.create_image(unique("stage")).disk_format(DiskFormat::Raw).await.unwrap();
    let staged_bytes = data(50_000, 3);
    let staged = img.stage_image(&rec, ImageData::from(staged_bytes.clone())).await.unwrap();
    assert_eq!(staged.status, ImageStatus::Uploading);
    let done = img
        .import_image(&rec, openstack_image::ImportMethod::GlanceDirect)
        .wait(WaitOptions::default())
        .await
        .unwrap();
    assert_eq!(done.image.size, Some(staged_bytes.len() as u64));
    assert_eq!(
        done.image.checksum.as_deref(),
        Some(digest_hex(Algorithm::Md5, &staged_bytes).as_str())
    );
    assert_eq!(img.download_image(&rec).to_bytes().await.unwrap(), Bytes::from(staged_bytes));
    img.delete_image(&rec).await.unwrap();
}

#[tokio::test]
async fn open_file_upload_starts_at_its_cursor_and_leaves_it_there() {
    use std::io::{Seek, SeekFrom};
    let img = image(ADMIN);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("with-header.raw");
    let bytes = data(400_000, 5);
    std::fs::write(&path, &bytes).unwrap();
    let mut file = std::fs::File::open(&path).unwrap();
    file.seek(SeekFrom::Start(4096)).unwrap(); // e.g. past a header the caller already read
    let file = std::sync::Arc::new(file);
    let up = img
        .create_image(unique("openfile"))
        .data(file.clone())
        .disk_format(DiskFormat::Raw)
        .wait(WaitOptions::default())
        .validate_checksum(true)
        .await
        .unwrap();
    assert_eq!(up.size, Some(bytes.len() as u64 - 4096));
    assert_eq!(up.checksum.as_deref(), Some(digest_hex(Algorithm::Md5, &bytes[4096..]).as_str()));
    assert_eq!((&*file).stream_position().unwrap(), 4096, "the caller's cursor did not move");
    let down = img.download_image(&up).to_bytes().await.unwrap();
    assert_eq!(down.as_ref(), &bytes[4096..]);
    img.delete_image(&up).await.unwrap();
}

#[tokio::test]
async fn digests_can_be_chosen_or_switched_off() {
    let img = image(ADMIN);
    let bytes = data(200_000, 6);
    // Only sha512 verified (compared with os_hash_value); md5 and sha256 are still computed
    // and recorded for deduplication, as openstacksdk records both.
    let up = img
        .create_image(unique("sha512only"))
        .data(bytes.clone())
        .disk_format(DiskFormat::Raw)
        .digests(&[Algorithm::Sha512])
        .validate_checksum(true)
        .await
        .unwrap();
    assert_eq!(up.os_hash_value.as_deref(), Some(digest_hex(Algorithm::Sha512, &bytes).as_str()));
    let recorded = |up: &openstack_image::Image, key: &str| up.property(key).map(str::to_string);
    assert_eq!(
        recorded(&up, "owner_specified.openstack.md5"),
        Some(digest_hex(Algorithm::Md5, &bytes))
    );
    assert_eq!(
        recorded(&up, "owner_specified.openstack.sha256"),
        Some(digest_hex(Algorithm::Sha256, &bytes))
    );
    img.delete_image(&up).await.unwrap();
    // None at all: uploaded as is (Glance still computes its own), nothing recorded.
    let up = img
        .create_image(unique("nodigest"))
        .data(bytes.clone())
        .disk_format(DiskFormat::Raw)
        .digests(&[])
        .wait(WaitOptions::default())
        .await
        .unwrap();
    assert_eq!(up.checksum.as_deref(), Some(digest_hex(Algorithm::Md5, &bytes).as_str()));
    assert_eq!(recorded(&up, "owner_specified.openstack.md5"), None);
    assert_eq!(recorded(&up, "owner_specified.openstack.sha256"), None);
    assert_eq!(img.download_image(&up).to_bytes().await.unwrap().as_ref(), bytes.as_slice());
    img.delete_image(&up).await.unwrap();
    // None, but validation asked for: refused before anything exists.
    let name = unique("nodigest-validate");
    let err = img
        .create_image(&name)
        .data(bytes.clone())
        .disk_format(DiskFormat::Raw)
        .digests(&[])
        .validate_checksum(true)
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::InvalidArgument(m) if m.contains("digests(&[])")), "{err}");
    assert!(img.find_image_opt(&name).await.unwrap().is_none(), "nothing was created");
    // A claimed md5 is computed (and checked) even when not asked for.
    let up = img
        .create_image(unique("claimed"))
        .data(bytes.clone())
        .disk_format(DiskFormat::Raw)
        .digests(&[])
        .md5(digest_hex(Algorithm::Md5, &bytes))
        .await
        .unwrap();
    assert_eq!(
        up.property("owner_specified.openstack.md5"),
        Some(digest_hex(Algorithm::Md5, &bytes).as_str())
    );
    img.delete_image(&up).await.unwrap();
}

#[tokio::test]
async fn reader_upload_with_known_length() {
    let img = image(ADMIN);
    let bytes = data(123_457, 4);
    let reader = std::io::Cursor::new(bytes.clone());
    let up = img
        .create_image(unique("reader"))
        .data(ImageData::sized_reader(reader, bytes.len() as u64))
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap();
    assert_eq!(up.size, Some(bytes.len() as u64));
    assert_eq!(up.checksum.as_deref(), Some(digest_hex(Algorithm::Md5, &bytes).as_str()));
    img.delete_image(&up).await.unwrap();
}

#[tokio::test]
async fn duplicate_upload_returns_the_existing_image_unless_allowed() {
    let img = image(ADMIN);
    let name = unique("dedupe");
    let bytes = data(10_000, 5);
    let first =
        img.create_image(&name).data(bytes.clone()).disk_format(DiskFormat::Raw).await.unwrap();
    let again =
        img.create_image(&name).data(bytes.clone()).disk_format(DiskFormat::Raw).await.unwrap();
    assert!(!first.reused);
    assert_eq!(again.id, first.id, "same name + same data → the existing image");
    assert!(again.reused, "and the result says it was reused");
    let dup = img
        .create_image(&name)
        .data(bytes)
        .disk_format(DiskFormat::Raw)
        .allow_duplicates(true)
        .await
        .unwrap();
    assert_ne!(dup.id, first.id);
    assert!(!dup.reused);
    img.delete_image(&first).await.unwrap();
    img.delete_image(&dup).await.unwrap();
}

#[tokio::test]
async fn wrong_md5_from_the_caller_deletes_the_image() {
    let img = image(ADMIN);
    let name = unique("wrongmd5");
    let err = img
        .create_image(&name)
        .data(data(5000, 6))
        .disk_format(DiskFormat::Raw)
        .md5("00000000000000000000000000000000")
        .allow_duplicates(true)
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), Error::ChecksumMismatch { algorithm, .. } if *algorithm == Algorithm::Md5),
        "{err}"
    );
    // One context mechanism: the failure says what became of the half-created image, and the
    // mismatch itself is the source.
    let cleanup = err.cleanup().expect("a cleanup note");
    assert!(matches!(cleanup.outcome, CleanupOutcome::Deleted), "{cleanup:?}");
    assert!(err.to_string().contains("the half-created image"), "{err}");
    let source = std::error::Error::source(&err).unwrap();
    assert!(source.to_string().starts_with("checksum mismatch (md5)"), "{source}");
    assert!(
        img.find_image_opt(&name).await.unwrap().is_none(),
        "the mismatching image was deleted"
    );
}

#[tokio::test]
async fn upload_killed_midway_cleans_up_the_queued_image() {
    let img = image(ADMIN);
    let name = unique("killed");
    // A stream that fails after some data: the upload aborts, the record is deleted.
    let first = Bytes::from(data(100_000, 7));
    let chunks = move || {
        futures_util::stream::iter(vec![
            Ok(first.clone()),
            Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "source died")),
        ])
    };
    // Inspected first (the default), the stream fails while its start is read: before the
    // record exists, nothing to clean up.
    let err = img
        .create_image(&name)
        .data(ImageData::sized_stream(chunks(), 1_000_000))
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap_err();
    let Error::Io { path, source } = err.kind() else { panic!("{}", err.report()) };
    assert_eq!(
        (path.as_str(), source.kind()),
        ("the upload's data source", std::io::ErrorKind::BrokenPipe)
    );
    assert!(err.cleanup().is_none(), "nothing was created: {err:?}");
    assert!(img.find_image_opt(&name).await.unwrap().is_none());
    // Not inspected, it fails mid-upload: the record is deleted.
    let err = img
        .create_image(&name)
        .data(ImageData::sized_stream(chunks(), 1_000_000))
        .disk_format(DiskFormat::Raw)
        .inspect(false)
        .await
        .unwrap_err();
    // The source's own failure (not the network's): Io, its io::Error kept; record deleted.
    let Error::Io { path, source } = err.kind() else { panic!("{}", err.report()) };
    assert_eq!(path, "the upload's data source");
    assert_eq!(source.kind(), std::io::ErrorKind::BrokenPipe, "{}", err.report());
    let io = openstack_tests::find_cause::<std::io::Error>(&err)
        .unwrap_or_else(|| panic!("no io::Error in {}", err.report()));
    assert!(io.to_string().contains("source died"), "{}", err.report());
    assert!(matches!(err.cleanup().map(|c| &c.outcome), Some(CleanupOutcome::Deleted)), "{err:?}");
    assert!(img.find_image_opt(&name).await.unwrap().is_none());
}

#[tokio::test]
async fn disk_full_at_the_output_leaves_nothing_behind() {
    let img = image(ADMIN);
    let up = img
        .create_image(unique("full"))
        .data(data(300_000, 9))
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap();
    // A 128 KiB tmpfs: the 300 KB download cannot fit. (The tests run as root, as CI does;
    // without the mount this test fails loudly rather than skipping.)
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=128k", "tmpfs"])
        .arg(dir.path())
        .status()
        .expect("running mount");
    assert!(status.success(), "mounting a small tmpfs needs root (as in CI): {status}");
    let target = dir.path().join("out.img");
    let result = img.download_image(&up).to_path(&target).await;
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    let _ = std::process::Command::new("umount").arg(dir.path()).status();
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::StorageFull),
        "{err:?}"
    );
    // The io::Error is the source, with its kind: a caller can tell "disk full" apart.
    let source = std::error::Error::source(&err).unwrap();
    assert_eq!(
        source.downcast_ref::<std::io::Error>().unwrap().kind(),
        std::io::ErrorKind::StorageFull
    );
    assert_eq!(leftovers, 0, "nothing left behind");
    img.delete_image(&up).await.unwrap();
}
