use super::*;

#[test]
fn status_maps_to_kind_and_display_is_one_line() {
    let e = Error::from_response_parts(
        Method::DELETE,
        "http://h/v2/images/x".into(),
        StatusCode::CONFLICT,
        br#"{"message":"Image is protected"}"#,
        Some("req-1".into()),
    );
    assert!(e.is_conflict());
    assert_eq!(e.request_id(), Some("req-1"));
    let text = e.to_string();
    assert_eq!(
        text,
        "conflict: DELETE http://h/v2/images/x returned 409: Image is protected (request id req-1)"
    );
    assert!(!text.contains('\n'));
}

#[test]
fn waits_and_stalls_are_different_kinds() {
    let wait = Error::Timeout { what: "image x to become active".into(), waited: Duration::ZERO };
    let idle = Error::IdleTimeout { what: "GET u: no data".into(), waited: Duration::ZERO };
    assert!(matches!(wait.kind(), Error::Timeout { .. }));
    assert!(matches!(idle.kind(), Error::IdleTimeout { .. }));
    assert!(idle.to_string().contains("idle for"), "{idle}");
}

#[test]
fn into_io_error_keeps_the_kind_and_the_error_itself() {
    let e = Error::ChecksumMismatch {
        algorithm: Algorithm::Sha512,
        expected: "a".into(),
        actual: "b".into(),
    };
    let io = std::io::Error::from(e);
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
    let back = io.into_inner().unwrap().downcast::<Error>().unwrap();
    assert!(matches!(*back, Error::ChecksumMismatch { .. }));
    let full = std::io::Error::new(std::io::ErrorKind::StorageFull, "full");
    let io = std::io::Error::from(Error::Io { path: "/x".into(), source: full });
    assert_eq!(io.kind(), std::io::ErrorKind::StorageFull);
    let io = std::io::Error::from(Error::Timeout { what: "w".into(), waited: Duration::ZERO });
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
}
