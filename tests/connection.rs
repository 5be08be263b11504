//! Every `ConnectionBuilder` setter, checked by what it changes against the real cloud (the
//! endpoint picked, the TLS trust, the requests a proxy sees, how a fault ends).

use std::sync::atomic::Ordering;
use std::time::Duration;

use openstack_auth::{Interface, RetryPolicy};
use openstack_client::Connection;
use openstack_image::DiskFormat;
use openstack_resource::Error;
use openstack_tests::faults::{Fault, start};
use openstack_tests::trap::EVENT_WAIT;
use openstack_tests::{ADMIN, DEMO, cloud, data, unique};

const NONE: &str = "00000000-0000-0000-0000-000000000000";

#[tokio::test]
async fn cloud_config_region_and_interface_pick_the_endpoint() {
    let by_name = Connection::builder().cloud(DEMO).build().unwrap();
    let token = by_name.session().token().await.unwrap().unwrap();
    assert!(matches!(&token.scope, openstack_auth::Scope::Project { name, .. } if name == "demo"));
    let by_config = Connection::builder().config(cloud(ADMIN)).build().unwrap();
    let token = by_config.session().token().await.unwrap().unwrap();
    assert!(matches!(&token.scope, openstack_auth::Scope::Project { name, .. } if name == "admin"));
    // The catalog has its own URL for every region and interface.
    let glance = openstack_tests::glance_url();
    let alt = std::env::var("OSRS_GLANCE_ALT_URL").expect("OSRS_GLANCE_ALT_URL");
    for (region, interface, want) in [
        ("RegionOne", Interface::Public, glance.clone()),
        ("RegionOne", Interface::Internal, format!("{glance}/v2")),
        ("RegionTwo", Interface::Public, alt.clone()),
        ("RegionTwo", Interface::Internal, format!("{alt}/v2")),
    ] {
        let conn =
            Connection::builder().cloud(ADMIN).region(region).interface(interface).build().unwrap();
        let ep = conn.session().endpoint("image").await.unwrap();
        assert_eq!(ep.catalog_url.trim_end_matches('/'), want, "{region} {interface:?}");
        assert!(conn.image().get_image_opt(NONE).await.unwrap().is_none(), "{region}");
    }
}

#[tokio::test]
async fn tls_trust_is_set_by_cacert_or_insecure() {
    let mut cfg = cloud("local-tls");
    let ca = cfg.cacert.take().expect("local-tls has a private CA");
    let untrusting = Connection::builder().config(cfg.clone()).build().unwrap();
    let err = untrusting.image().get_image_opt(NONE).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let with_ca = Connection::builder().config(cfg.clone()).cacert(&ca).build().unwrap();
    assert!(with_ca.image().get_image_opt(NONE).await.unwrap().is_none());
    let insecure = Connection::builder().config(cfg.clone()).insecure(true).build().unwrap();
    assert!(insecure.image().get_image_opt(NONE).await.unwrap().is_none());
    // A client certificate that cannot be read is refused when building, before anything.
    let missing = std::path::PathBuf::from("/nonexistent/client.pem");
    let err = Connection::builder().config(cfg).client_cert(&missing).build().unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(ref m) if m.contains("client.pem")), "{err:?}");
}

#[tokio::test]
async fn endpoint_override_user_agent_and_retries_show_at_a_proxy() {
    let proxy = start(Fault::ImageGet503(2)).await;
    let conn = Connection::builder()
        .cloud(ADMIN)
        .endpoint_override("image", &proxy.url)
        .user_agent("osrs-builder-test/1")
        .retries(RetryPolicy::default().max_retries(0))
        .build()
        .unwrap();
    let rec = openstack_tests::image(ADMIN)
        .create_image(unique("builder"))
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap();
    // No retries: the first 503 is the answer.
    let err = conn.image().get_image(&rec.id).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{err:?}");
    let agents = proxy.state.agents.lock().unwrap().clone();
    assert!(!agents.is_empty() && agents.iter().all(|a| a == "osrs-builder-test/1"), "{agents:?}");
    // Two retries: past the second 503.
    let retrying = Connection::builder()
        .cloud(ADMIN)
        .endpoint_override("image", &proxy.url)
        .retries(RetryPolicy::default().max_retries(2))
        .build()
        .unwrap();
    assert_eq!(retrying.image().get_image(&rec.id).await.unwrap().id, rec.id);
    assert_eq!(proxy.state.get503s.load(Ordering::SeqCst), 3, "two 503s, then the answer");
    openstack_tests::image(ADMIN).delete_image(&rec).await.unwrap();
}

/// A connection through a fault proxy with the given timeouts, its token fetched without them.
async fn timed(
    url: &str,
    b: impl FnOnce(openstack_client::ConnectionBuilder) -> openstack_client::ConnectionBuilder,
) -> Connection {
    let conn =
        b(Connection::builder().cloud(ADMIN).endpoint_override("image", url)).build().unwrap();
    openstack_tests::faults::ready(&conn.image()).await;
    conn
}

#[tokio::test]
async fn read_send_and_response_timeouts_end_hung_transfers() {
    let bytes = data(600_000, 31);
    let admin = openstack_tests::image(ADMIN);
    let up = admin.create_image(unique("timeouts")).data(bytes).disk_format(DiskFormat::Raw);
    let up = up.await.unwrap();
    // A download that stalls after 100 kB: the read timeout ends it.
    let stall = start(Fault::Stall(100_000)).await;
    let conn = timed(&stall.url, |b| b.read_timeout(Duration::from_secs(2))).await;
    let download = conn.image().download_image(&up).max_resumes(0).to_bytes();
    let err = tokio::time::timeout(EVENT_WAIT, download).await.expect("bounded").unwrap_err();
    assert!(matches!(err, Error::IdleTimeout { .. }), "{err:?}");
    // An upload the server stops reading: the send timeout ends it.
    let stop = start(Fault::UploadStopReading(1 << 20)).await;
    let conn = timed(&stop.url, |b| b.send_timeout(Duration::from_secs(2))).await;
    let name = unique("sendtimeout");
    let create =
        conn.image().create_image(&name).data(data(64 << 20, 32)).disk_format(DiskFormat::Raw);
    let err = tokio::time::timeout(EVENT_WAIT, create).await.expect("bounded").unwrap_err();
    assert!(matches!(err.kind(), Error::IdleTimeout { .. }), "{}", err.report());
    // An upload never answered: the response timeout ends it.
    let mute = start(Fault::UploadNoAnswer).await;
    let conn = timed(&mute.url, |b| b.response_timeout(Duration::from_secs(2))).await;
    let create = conn
        .image()
        .create_image(unique("resptimeout"))
        .data(data(1 << 20, 33))
        .disk_format(DiskFormat::Raw);
    let err = tokio::time::timeout(EVENT_WAIT, create).await.expect("bounded").unwrap_err();
    assert!(matches!(err.kind(), Error::IdleTimeout { .. }), "{}", err.report());
    assert!(err.report().contains("response"), "{}", err.report());
    admin.delete_image(&up).await.unwrap();
}

#[tokio::test]
async fn a_connect_timeout_ends_a_connection_that_never_completes() {
    // A listener whose accept queue is full: the kernel stops answering SYNs, so a new
    // connection neither succeeds nor fails until the connect timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut filler = Vec::new();
    let stuck = loop {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Ok(s) => filler.push(s),
            Err(_) => break true,
        }
        if filler.len() > 4096 {
            break false;
        }
    };
    assert!(stuck, "the accept queue never filled");
    let conn = Connection::builder()
        .cloud(ADMIN)
        .endpoint_override("image", &format!("http://{addr}"))
        .connect_timeout(Duration::from_secs(1))
        .retries(RetryPolicy::default().max_retries(0))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = tokio::time::timeout(EVENT_WAIT, conn.image().get_image_opt(NONE))
        .await
        .expect("bounded")
        .unwrap_err();
    assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());
    assert!(matches!(err, Error::IdleTimeout { .. } | Error::Transport { .. }), "{err:?}");
    assert!(err.report().to_lowercase().contains("connect"), "{}", err.report());
    drop(listener);
}

#[tokio::test]
async fn a_failed_version_discovery_is_an_error_and_is_tried_again() {
    // Glance's root answers 503 three times: the first call (three tries) fails with the
    // 503 instead of going on without the API version; the next call discovers it.
    let proxy = start(Fault::Root503(3)).await;
    let img = openstack_tests::faults::through(&proxy, None);
    let err = img.get_image_opt(NONE).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{err:?}");
    assert!(img.get_image_opt(NONE).await.unwrap().is_none());
    let ep = img.session().endpoint("image").await.unwrap();
    assert!(ep.version.is_some(), "discovered on the second call: {ep:?}");
    assert_eq!(proxy.state.seen("GET", "/"), 4, "three refused, one answered, then cached");
}
