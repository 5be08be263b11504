use super::*;
use crate::hash::Algorithm;
use crate::hash::digest_hex;
use crate::progress::Progress;
use http_body_util::BodyExt;
use std::sync::{Arc, Mutex};

async fn drain(mut body: UploadBody) -> Result<Vec<u8>, TransferError> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        out.extend_from_slice(&frame?.into_data().unwrap());
    }
    Ok(out)
}

#[tokio::test]
async fn file_body_streams_and_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let opts = UploadOptions::default()
        .chunk_size(64 * 1024)
        .progress(Progress::new(move |u| s.lock().unwrap().push(*u)));
    let (body, results) = UploadBody::from_path(&path, &opts).await.unwrap();
    assert_eq!(body.size_hint().exact(), Some(3_000_000));
    assert!(body.is_replayable());
    let copy = body.reopen().await.unwrap().unwrap();
    assert_eq!(drain(body).await.unwrap(), data);
    let d = results.wait().await.unwrap();
    assert_eq!(d.bytes, 3_000_000);
    assert_eq!(d.get(Algorithm::Md5).unwrap(), digest_hex(Algorithm::Md5, &data));
    assert_eq!(d.get(Algorithm::Sha512).unwrap(), digest_hex(Algorithm::Sha512, &data));
    let last = *seen.lock().unwrap().last().unwrap();
    assert!(last.done && last.bytes == 3_000_000 && last.total == Some(3_000_000));
    // The reopened copy is independent and complete.
    assert_eq!(drain(copy.0).await.unwrap(), data);
    assert_eq!(copy.1.wait().await.unwrap(), d);
}

#[tokio::test]
async fn open_file_body_starts_at_the_cursor_and_never_moves_it() {
    use std::io::{Seek, SeekFrom};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img");
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let mut file = std::fs::File::open(&path).unwrap();
    file.seek(SeekFrom::Start(1000)).unwrap();
    let file = Arc::new(file);
    let opts = UploadOptions::default().chunk_size(64 * 1024);
    let (body, results) = UploadBody::from_file_at(file.clone(), 1000, &opts).unwrap();
    assert_eq!(body.size_hint().exact(), Some(999_000));
    assert!(body.is_replayable());
    // A replay and the first body read the same file side by side.
    let (copy, copy_results) = body.reopen().await.unwrap().unwrap();
    let (a, b) = tokio::join!(drain(body), drain(copy));
    assert_eq!(a.unwrap(), &data[1000..]);
    assert_eq!(b.unwrap(), &data[1000..]);
    let d = results.wait().await.unwrap();
    assert_eq!(d.get(Algorithm::Sha256).unwrap(), digest_hex(Algorithm::Sha256, &data[1000..]));
    assert_eq!(copy_results.wait().await.unwrap(), d);
    assert_eq!((&*file).stream_position().unwrap(), 1000, "the cursor did not move");
    // from_file takes the cursor as the start.
    let (body, _) = UploadBody::from_file(std::fs::File::open(&path).unwrap(), &opts).unwrap();
    assert_eq!(body.length(), Some(1_000_000));
    let err = UploadBody::from_file_at(file, 2_000_000, &opts).unwrap_err();
    assert!(err.to_string().contains("past the end"), "{err}");
}

#[tokio::test]
async fn a_file_that_shrinks_while_sent_is_an_error_not_a_short_upload() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img");
    std::fs::write(&path, vec![5u8; 500_000]).unwrap();
    let file = Arc::new(std::fs::File::open(&path).unwrap());
    let (body, results) = UploadBody::from_file_at(file, 0, &UploadOptions::default()).unwrap();
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(100_000).unwrap();
    let err = drain(body).await.unwrap_err();
    assert!(
        matches!(err, TransferError::SizeMismatch { expected: 500_000, actual: 100_000 }),
        "{err:?}"
    );
    assert!(matches!(results.wait().await, Err(TransferError::Incomplete { .. })));
}

#[tokio::test]
async fn missing_file_fails_before_anything_is_sent() {
    let err =
        UploadBody::from_path("/nonexistent/x.img", &UploadOptions::default()).await.unwrap_err();
    assert!(
        matches!(&err, TransferError::Io { path, .. } if path == "/nonexistent/x.img"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let err = UploadBody::from_path(dir.path(), &UploadOptions::default()).await.unwrap_err();
    assert!(
        matches!(&err, TransferError::Io { source, .. } if source.kind() == std::io::ErrorKind::InvalidInput),
        "{err:?}"
    );
    assert_eq!(std::error::Error::source(&err).unwrap().to_string(), "not a regular file");
}

#[tokio::test]
async fn short_reader_is_an_error_not_a_truncated_upload() {
    let (body, results) =
        UploadBody::from_sized_reader(&b"only ten b"[..], 20, &UploadOptions::default());
    assert!(!body.is_replayable());
    assert!(body.reopen().await.is_none());
    let err = drain(body).await.unwrap_err();
    assert!(matches!(err, TransferError::SizeMismatch { expected: 20, actual: 10 }), "{err:?}");
    assert!(matches!(results.wait().await, Err(TransferError::Incomplete { .. })));
}

#[tokio::test]
async fn bytes_body_is_sliced_without_copying() {
    let data = Bytes::from(vec![1u8; 1_000_000]);
    let (mut body, results) = UploadBody::from_bytes(
        data.clone(),
        &UploadOptions::default().algorithms(&[Algorithm::Sha256]),
    );
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first.as_ptr(), data.as_ptr(), "first frame points into the caller's buffer");
    let rest = drain(body).await.unwrap();
    assert_eq!(first.len() + rest.len(), 1_000_000);
    assert_eq!(
        results.wait().await.unwrap().get(Algorithm::Sha256).unwrap(),
        digest_hex(Algorithm::Sha256, &data)
    );
}
