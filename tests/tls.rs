//! TLS for real: nginx (started by `cargo xtask cloud up`) terminates TLS in front of
//! Keystone and Glance with a private CA.

use http::Request;
use openstack_auth::{CloudConfig, Error, RequestBody, Session};
use openstack_tests::cloud;

fn tls_dir() -> std::path::PathBuf {
    std::env::var("OSRS_CLOUD_TLS_DIR")
        .expect("OSRS_CLOUD_TLS_DIR is not set: run with `cargo xtask test`")
        .into()
}

fn tls_cloud() -> CloudConfig {
    let c = cloud("local-tls");
    assert!(c.auth.auth_url.as_deref().is_some_and(|u| u.starts_with("https://")));
    c
}

async fn list_images(cfg: CloudConfig) -> Result<http::StatusCode, Error> {
    let s = Session::new(cfg)?;
    let resp = s
        .request("image", Request::get("/v2/images?limit=1").body(RequestBody::empty()).unwrap())
        .await?;
    Ok(resp.status())
}

#[tokio::test]
async fn works_with_the_private_ca() {
    let cfg = tls_cloud();
    let s = Session::new(cfg.clone()).unwrap();
    let ep = s.endpoint("image").await.unwrap();
    assert!(ep.root.starts_with("https://"), "{}", ep.root);
    assert_eq!(ep.version.map(|v| v.to_string()).as_deref(), Some("2.18"));
    assert_eq!(list_images(cfg).await.unwrap(), 200);
}

#[tokio::test]
async fn fails_clearly_without_the_ca() {
    let mut cfg = tls_cloud();
    cfg.cacert = None;
    let err = list_images(cfg).await.unwrap_err();
    match &err {
        Error::Transport { message, .. } => {
            assert!(message.to_lowercase().contains("certificate"), "{message}");
        }
        other => panic!("expected a transport (certificate) error, got {other:?}"),
    }
}

#[tokio::test]
async fn works_insecure_without_the_ca() {
    let mut cfg = tls_cloud();
    cfg.cacert = None;
    cfg.verify = false;
    assert_eq!(list_images(cfg).await.unwrap(), 200);
}

#[tokio::test]
async fn presents_the_client_certificate_when_configured() {
    let url = format!("{}/client-cert", std::env::var("OSRS_KEYSTONE_TLS_URL").unwrap());
    let ask = |cfg: CloudConfig| {
        let url = url.clone();
        async move {
            let s = Session::new(cfg).unwrap();
            let resp = s
                .request("identity", Request::get(url).body(RequestBody::empty()).unwrap())
                .await
                .unwrap();
            String::from_utf8(resp.into_body().bytes().await.unwrap().to_vec()).unwrap()
        }
    };
    let without = ask(tls_cloud()).await;
    assert!(without.starts_with("NONE"), "{without}");
    let mut cfg = tls_cloud();
    cfg.cert = Some(tls_dir().join("client.pem"));
    cfg.key = Some(tls_dir().join("client.key"));
    let with = ask(cfg).await;
    assert!(with.starts_with("SUCCESS") && with.contains("openstack-rs test client"), "{with}");
}

#[tokio::test]
async fn unreadable_tls_files_are_config_errors_before_any_request() {
    let mut cfg = tls_cloud();
    cfg.cacert = Some("/nonexistent/ca.pem".into());
    let err = Session::new(cfg).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m.contains("/nonexistent/ca.pem")),
        "{err}"
    );
}
