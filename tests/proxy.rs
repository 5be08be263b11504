//! HTTP proxies for real: three tinyproxy instances started by `cargo xtask cloud up` (one
//! forwarding anything, one wanting a user and password, one refusing everything) between
//! the SDK and Keystone + Glance, over http (forwarded) and https (CONNECT to nginx's TLS
//! endpoints). What went through a proxy is read from its own log.

use http::Request;
use openstack_auth::{CloudConfig, Error, Proxy, RequestBody, Session, StaticEnvironment};
use openstack_image::{DiskFormat, ImageProxy};
use openstack_tests::{ADMIN, cloud, unique};

fn var(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run with `cargo xtask test` (cloud env)"))
}

/// The open proxy, the one with a password (URL with credentials), the refusing one.
fn open() -> String {
    var("OSRS_PROXY_URL")
}
fn with_password() -> String {
    var("OSRS_PROXY_AUTH_URL")
}
fn refusing() -> String {
    var("OSRS_PROXY_DENY_URL")
}

/// The request lines a proxy logged (`GET http://...`, `CONNECT host:port`).
fn logged(proxy_log: &str) -> Vec<String> {
    std::fs::read_to_string(proxy_log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once("): ").map(|(_, req)| req.to_string()))
        .filter(|req| req.ends_with("HTTP/1.1") || req.ends_with("HTTP/1.0"))
        .collect()
}

fn log_of(which: &str) -> String {
    let open_log = var("OSRS_PROXY_LOG");
    open_log.replace("proxy.log", &format!("{which}.log"))
}

fn tls_cloud() -> CloudConfig {
    let c = cloud("local-tls");
    assert!(c.auth.auth_url.as_deref().is_some_and(|u| u.starts_with("https://")));
    c
}

fn session(cfg: CloudConfig, proxy: Proxy) -> Session {
    Session::builder(cfg).proxy(proxy).build().expect("session")
}

async fn list_images(s: &Session, marker: &str) -> Result<http::StatusCode, Error> {
    let path = format!("/v2/images?limit=1&name={marker}");
    let resp = s.request("image", Request::get(path).body(RequestBody::empty()).unwrap()).await?;
    Ok(resp.status())
}

/// Keystone and Glance over https: each through a CONNECT tunnel (the only test of this
/// binary that tunnels through the open proxy, so the log's new lines are its own).
#[tokio::test]
async fn https_goes_through_a_connect_tunnel() {
    let log = var("OSRS_PROXY_LOG");
    let before = logged(&log).len();
    let s = session(tls_cloud(), Proxy::url(open()));
    let ep = s.endpoint("image").await.unwrap();
    assert!(ep.root.starts_with("https://"), "{}", ep.root);
    assert_eq!(list_images(&s, "x").await.unwrap(), 200);
    let new: Vec<String> = logged(&log).split_off(before);
    let tls_port = |url: &str| url.rsplit(':').next().unwrap().trim_end_matches('/').to_string();
    let keystone =
        format!("CONNECT 127.0.0.1:{} HTTP/1.1", tls_port(&var("OSRS_KEYSTONE_TLS_URL")));
    let glance = format!("CONNECT 127.0.0.1:{} HTTP/1.1", tls_port(&var("OSRS_GLANCE_TLS_URL")));
    assert!(new.contains(&keystone), "no {keystone:?} in {new:?}");
    assert!(new.contains(&glance), "no {glance:?} in {new:?}");
}

/// Plain http: the proxy forwards each request (its log has the absolute URL).
#[tokio::test]
async fn http_is_forwarded() {
    let log = var("OSRS_PROXY_LOG");
    let s = session(cloud(ADMIN), Proxy::url(open()));
    let marker = unique("forwarded");
    assert_eq!(list_images(&s, &marker).await.unwrap(), 200);
    let glance = var("OSRS_GLANCE_URL");
    let want = format!("GET {glance}/v2/images?limit=1&name={marker} HTTP/1.1");
    assert!(logged(&log).contains(&want), "the proxy did not forward {want:?}");
}

/// `no_proxy` hosts go direct: through the refusing proxy, everything still works.
#[tokio::test]
async fn no_proxy_hosts_bypass_the_proxy() {
    let deny_log = log_of("proxy-deny");
    for proxy in [
        Proxy::url(refusing()).no_proxy("localhost, 127.0.0.0/8"),
        // The same through the environment, as a user's shell would set it.
        Proxy::from_environment(
            &StaticEnvironment::default()
                .var("HTTPS_PROXY", &refusing())
                .var("http_proxy", &refusing())
                .var("NO_PROXY", "127.0.0.1"),
        ),
    ] {
        for cfg in [cloud(ADMIN), tls_cloud()] {
            let s = session(cfg, proxy.clone());
            let marker = unique("bypass");
            assert_eq!(list_images(&s, &marker).await.unwrap(), 200, "{proxy:?}");
            assert!(
                !logged(&deny_log).iter().any(|l| l.contains(&marker)),
                "{marker} went through the proxy"
            );
        }
    }
}

/// A proxy that refuses the tunnel is a typed error, not retried, naming the proxy.
#[tokio::test]
async fn a_refusing_proxy_is_a_typed_error() {
    let deny_log = log_of("proxy-deny");
    let before = logged(&deny_log).len();
    let s = session(tls_cloud(), Proxy::url(refusing()));
    let err = list_images(&s, "x").await.unwrap_err();
    let Error::Proxy { proxy, url, reason, .. } = err.kind() else {
        panic!("expected Error::Proxy, got {}", err.report())
    };
    assert_eq!(proxy, &refusing());
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert!(reason.contains("refused") && reason.contains("403"), "{reason}");
    // Glance's version discovery and Keystone's token each asked once: nothing retried.
    let mut asked = logged(&deny_log).split_off(before);
    asked.sort();
    let n = asked.len();
    asked.dedup();
    assert_eq!(n, asked.len(), "a refusal is not retried: {asked:?}");

    // Forwarded http: the refusal is the proxy's own 403 answer.
    let s = session(cloud(ADMIN), Proxy::url(refusing()));
    let err = list_images(&s, "x").await.unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::FORBIDDEN), "{}", err.report());
}

/// User and password in the proxy URL: sent to the proxy (CONNECT and forwarded), never
/// shown; missing or wrong credentials are typed errors that say what to do.
#[tokio::test]
async fn proxy_credentials() {
    for cfg in [tls_cloud(), cloud(ADMIN)] {
        let s = session(cfg.clone(), Proxy::url(with_password()));
        assert_eq!(list_images(&s, "x").await.unwrap(), 200);

        let without = with_password().replace("osrs-proxy:pr0xy-secret@", "");
        let s = session(cfg.clone(), Proxy::url(without));
        let err = list_images(&s, "x").await.unwrap_err();
        let Error::Proxy { reason, .. } = err.kind() else {
            panic!("expected Error::Proxy, got {}", err.report())
        };
        assert!(reason.contains("407") && reason.contains("user:password@"), "{reason}");

        let wrong = with_password().replace("pr0xy-secret", "wrong-secret");
        let tunnelled = cfg.auth.auth_url.as_deref().is_some_and(|u| u.starts_with("https"));
        let s = session(cfg, Proxy::url(&wrong));
        let err = list_images(&s, "x").await.unwrap_err();
        if tunnelled {
            let Error::Proxy { proxy, reason, .. } = err.kind() else {
                panic!("expected Error::Proxy, got {}", err.report())
            };
            assert!(reason.contains("rejected the user and password"), "{reason}");
            assert!(proxy.contains("osrs-proxy:***@"), "{proxy}");
        } else {
            // Forwarded http: tinyproxy answers wrong credentials with its own 401 page
            // (not 407), which cannot be told from the server's 401; it is reported as such.
            assert!(err.report().contains("proxy"), "{}", err.report());
        }
        for text in [err.to_string(), err.report(), format!("{err:?}")] {
            assert!(!text.contains("wrong-secret"), "the password leaked: {text}");
        }
    }
}

/// A proxy that is not there: a typed error naming it (after the connect retries).
#[tokio::test]
async fn an_unreachable_proxy_is_a_typed_error() {
    let s = session(cloud(ADMIN), Proxy::url("http://127.0.0.1:1"));
    let err = list_images(&s, "x").await.unwrap_err();
    let Error::Proxy { proxy, reason, .. } = err.kind() else {
        panic!("expected Error::Proxy, got {}", err.report())
    };
    assert_eq!(proxy, "http://127.0.0.1:1");
    assert!(reason.contains("cannot be reached"), "{reason}");
    assert!(err.report().to_lowercase().contains("refused"), "{}", err.report());
}

/// A proxy URL that cannot be used is refused when the session is built.
#[test]
fn an_unusable_proxy_url_fails_the_build() {
    let err = Session::builder(cloud(ADMIN))
        .proxy(Proxy::url("socks5://u:hidden@127.0.0.1:1080"))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert!(err.to_string().contains("SOCKS") && !err.to_string().contains("hidden"), "{err}");
}

/// 1 GiB up and down through the CONNECT tunnel, verified: the SDK compares Glance's
/// checksums with its own after the upload and the sha512 after the download; the test
/// also compares the bytes' sha256 with what it sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_gib_up_and_down_through_the_proxy_verified() {
    use futures_util::StreamExt;
    use sha2::{Digest, Sha256};
    const MIB: usize = 1 << 20;
    const TOTAL: usize = 1024 * MIB;
    let img = ImageProxy::new(session(tls_cloud(), Proxy::url(with_password())));
    let chunk = |i: usize| {
        let mut c = openstack_tests::data(MIB, 7);
        c[..8].copy_from_slice(&(i as u64).to_le_bytes());
        bytes::Bytes::from(c)
    };
    let mut sent = Sha256::new();
    for i in 0..TOTAL / MIB {
        sent.update(chunk(i));
    }
    let sent = format!("{:x}", sent.finalize());
    let source = futures_util::stream::iter(0..TOTAL / MIB).map(move |i| Ok(chunk(i)));
    let up = img
        .create_image(unique("proxy-gib"))
        .data(openstack_image::ImageData::sized_stream(source, TOTAL as u64))
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap();
    assert_eq!(up.size, Some(TOTAL as u64));
    assert_eq!(up.property("owner_specified.openstack.sha256"), Some(sent.as_str()));
    let mut stream = Box::pin(img.download_image(&up).into_stream());
    let mut got = Sha256::new();
    let mut len = 0usize;
    while let Some(piece) = stream.next().await {
        let piece = piece.unwrap();
        len += piece.len();
        got.update(&piece);
    }
    assert_eq!(len, TOTAL);
    assert_eq!(format!("{:x}", got.finalize()), sent);
    img.delete_image(&up).await.unwrap();
}
