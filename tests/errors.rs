//! Errors keep their kind and their cause: match on the variant, walk `source()`, downcast.

use std::error::Error as _;

use openstack_auth::{AuthOptions, AuthType};
use openstack_auth::{CloudConfig, RetryPolicy, Session};
use openstack_image::{ImageProxy, MetadefNamespace};
use openstack_resource::Error;
use openstack_tests::{ADMIN, image, unique};

#[tokio::test]
async fn connection_refused_is_transport_with_the_io_error_in_its_chain() {
    // Nothing listens on port 1 of the loopback.
    let auth = AuthOptions { endpoint: Some("http://127.0.0.1:1".into()), ..Default::default() };
    let mut cfg = CloudConfig::new("refused", AuthType::None, auth);
    cfg.endpoint_overrides.insert("image".into(), "http://127.0.0.1:1".into());
    let session = Session::builder(cfg).retry_policy(RetryPolicy::none()).build().unwrap();
    let err = ImageProxy::new(session).get_image("x").await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(!err.to_string().contains('\n'), "one line: {err}");
    let io = openstack_tests::find_cause::<std::io::Error>(&err)
        .unwrap_or_else(|| panic!("no io::Error in {}", err.report()));
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused, "{}", err.report());
}

#[tokio::test]
async fn not_found_and_conflict_carry_status_message_and_request_id() {
    let img = image(ADMIN);
    let err = img.get_image("00000000-0000-0000-0000-000000000000").await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert!(err.is_not_found());
    let api = err.api().unwrap();
    assert_eq!(api.status.as_u16(), 404);
    assert!(api.request_id.as_deref().is_some_and(|id| id.starts_with("req-")), "{api:?}");
    assert!(err.source().is_none(), "the server's answer is the whole story");

    let ns = MetadefNamespace::new(unique("conflict").replace('-', "_"));
    img.create_metadef_namespace(&ns).await.unwrap();
    let err = img.create_metadef_namespace(&ns).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409));
    assert!(err.to_string().starts_with("conflict: POST "), "{err}");
    assert!(err.request_id().is_some());
    img.delete_metadef_namespace(&ns.namespace).await.unwrap();
}
