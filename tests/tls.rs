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
    assert!(matches!(err, Error::Transport { .. }), "expected a transport error, got {err:?}");
    // The rustls error is in the source chain, as itself: it can be downcast and matched.
    let rustls_err = openstack_tests::find_cause::<rustls::Error>(&err)
        .unwrap_or_else(|| panic!("no rustls::Error in the chain of {}", err.report()));
    assert!(
        matches!(
            rustls_err,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
        ),
        "{rustls_err:?}"
    );
    assert!(err.report().to_lowercase().contains("certificate"), "{}", err.report());
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

/// Glance behind a path prefix (`https://host/image`), as clouds publish it behind one HTTPS
/// front: discovery, paginated lists (Glance's relative `next` links must keep the prefix),
/// upload and a verified download all go through the prefix.
#[tokio::test]
async fn a_path_prefixed_image_endpoint_works_end_to_end() {
    use futures_util::TryStreamExt;
    use openstack_image::{
        ContainerFormat, DiskFormat, Image, ImageProxy, ImageQuery, WaitOptions,
    };
    use openstack_resource::Query;

    let tls_url = std::env::var("OSRS_GLANCE_TLS_URL").expect("OSRS_GLANCE_TLS_URL is not set");
    let prefixed = format!("{}/image", tls_url.trim_end_matches('/'));
    let mut cfg = tls_cloud();
    cfg.endpoint_overrides.insert("image".into(), prefixed.clone());
    let session = Session::new(cfg).unwrap();
    let ep = session.endpoint("image").await.unwrap();
    assert_eq!(ep.root.trim_end_matches('/'), prefixed);
    assert!(ep.version.is_some(), "version discovery through the prefix");

    let img = ImageProxy::new(session);
    let name = openstack_tests::unique("osrs-test-prefix");
    let data = openstack_tests::data(300_000, 7);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let created = img
            .create_image(&name)
            .data(data.clone())
            .disk_format(DiskFormat::Raw)
            .container_format(ContainerFormat::Bare)
            .allow_duplicates(true)
            .wait(WaitOptions::default())
            .await
            .unwrap();
        ids.push(created.image.id);
    }
    // One image per page: two next links to follow, each relative to the prefix.
    let listed: Vec<Image> = img
        .images(&ImageQuery::from(Query::new().param("name", &name).limit(1)))
        .try_collect()
        .await
        .unwrap();
    let mut got: Vec<String> = listed.into_iter().map(|i| i.id).collect();
    got.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(got, want);
    // Every page went through the prefix: nginx logged one GET per page (three pages of one
    // image, and the empty fourth that ends the list), each under /image/.
    let log = openstack_tests::state_dir().join("log/nginx-access.log");
    let pages = || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<String> = text
            .lines()
            .filter(|l| l.contains(&format!("name={name}")))
            .map(String::from)
            .collect();
        lines
    };
    let started = std::time::Instant::now();
    while pages().len() < 3 && started.elapsed() < openstack_tests::trap::EVENT_WAIT {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let seen = pages();
    assert!((3..=4).contains(&seen.len()), "{seen:#?}");
    assert!(seen.iter().all(|l| l.contains("GET /image/v2/images?")), "{seen:#?}");
    let bytes = img.download_image(&ids[0]).to_bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), data.as_slice());
    for id in &ids {
        img.delete_image(id).await.unwrap();
    }
}
