//! Cancellation: a public future dropped at any await point leaves nothing behind, checked
//! through a proxy in front of the real Glance. Every drop happens at an event the proxy
//! reports (a request held before Glance sees it, Glance's answer held, so many bytes of an
//! upload forwarded), never after a guessed delay. (Transfers dropped at every point of a
//! download to a path: the unit tests of openstack-transfer's `download.rs`.)

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use http::Method;
use openstack_image::{DiskFormat, Image, ImageProxy, ImageStatus, WaitOptions};
use openstack_tests::faults::{Fault, FaultProxy, start, through};
use openstack_tests::trap::{Hold, Trap};
use openstack_tests::{ADMIN, data, image, unique};

/// Waits (bounded) until no image named `name` exists.
async fn gone(name: &str) {
    let admin = image(ADMIN);
    let started = Instant::now();
    while let Some(left) = admin.find_image_opt(name).await.unwrap() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{name} is still there: {:?} {:?}",
            left.id,
            left.status
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn warm(img: &ImageProxy) {
    img.get_image_opt("00000000-0000-0000-0000-000000000000").await.unwrap();
}

/// Polls `fut` until the proxy's trap number `n` springs, then drops it. Panics when `fut`
/// finishes first (it cannot: the trap holds what it needs).
async fn drop_when_sprung<T: std::fmt::Debug>(
    proxy: &FaultProxy,
    n: u32,
    fut: impl std::future::Future<Output = T>,
) {
    tokio::select! {
        done = fut => panic!("finished past trap {n}: {done:?}"),
        () = proxy.sprung(n) => {}
    }
}

/// The DELETE requests the proxy has seen.
fn deletes(proxy: &FaultProxy) -> usize {
    proxy.state.count(|r| r.starts_with("DELETE /v2/images/"))
}

/// Waits (bounded) until the proxy has seen `n` DELETEs of images.
async fn deletes_reach(proxy: &FaultProxy, n: usize) {
    let started = Instant::now();
    while deletes(proxy) < n {
        assert!(started.elapsed() < Duration::from_secs(60), "no DELETE was sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn dropped_while_glance_creates_the_record_the_record_is_deleted() {
    // Glance has made the record and answered; the answer is held and the caller gives up
    // then, before the first byte of data: the record Glance made must still go.
    let proxy = start(Fault::None).await;
    let img = through(&proxy, None);
    warm(&img).await;
    for (n, with_data) in [(1, false), (2, true)] {
        let name = unique("dropcreate");
        let mut create = img.create_image(&name).disk_format(DiskFormat::Raw);
        if with_data {
            create = create.data(data(100_000, 401));
        }
        proxy.arm(Trap::on(Method::POST, "/v2/images", Hold::Answer));
        drop_when_sprung(&proxy, n, create.into_future()).await;
        assert_eq!(proxy.state.seen("POST", "/v2/images"), n as usize, "the POST reached Glance");
        proxy.release();
        gone(&name).await;
        deletes_reach(&proxy, n as usize).await;
        assert_eq!(proxy.state.uploads.load(std::sync::atomic::Ordering::SeqCst), 0, "no data");
    }
}

/// The moments `create_image_dropped_at_any_moment_leaves_no_image` drops at.
fn moments() -> Vec<(&'static str, Trap)> {
    let image_get = |m: &Method, p: &str| {
        *m == Method::GET && p.strip_prefix("/v2/images/").is_some_and(|id| !id.contains('/'))
    };
    vec![
        ("before the POST", Trap::on(Method::POST, "/v2/images", Hold::Request)),
        ("POST answered", Trap::on(Method::POST, "/v2/images", Hold::Answer)),
        ("mid-body", Trap::on(Method::PUT, "/stage", Hold::BodyAfter(3 << 20))),
        ("body sent, no answer yet", Trap::on(Method::PUT, "/stage", Hold::Answer)),
        ("the import call", Trap::on(Method::POST, "/import", Hold::Request)),
        ("the import answered", Trap::on(Method::POST, "/import", Hold::Answer)),
        ("during the wait", Trap::when(image_get, Hold::Answer)),
    ]
}

#[tokio::test]
async fn create_image_dropped_at_any_moment_leaves_no_image() {
    // One create (8 MiB, import path, waiting for active) dropped at each moment of its
    // life: before Glance saw the POST, with the record made, mid-upload, around the import
    // call and during the wait. Whatever Glance made is deleted, held requests included
    // (they are let go after the drop, so a record can appear late).
    let proxy = start(Fault::None).await;
    let img = through(&proxy, None);
    warm(&img).await;
    let bytes = data(8 << 20, 402);
    let mut buckets = Vec::new();
    for (n, (moment, trap)) in (1..).zip(moments()) {
        let name = unique(&format!("drop{n}"));
        let create = img
            .create_image(&name)
            .data(bytes.clone())
            .disk_format(DiskFormat::Raw)
            .use_import(true)
            .allow_duplicates(true)
            .wait(WaitOptions::default().interval(Duration::from_millis(100)));
        let (posts, deleted) = (proxy.state.seen("POST", "/v2/images"), deletes(&proxy));
        proxy.arm(trap);
        drop_when_sprung(&proxy, n, create.into_future()).await;
        proxy.release();
        gone(&name).await;
        // The POST reached Glance (a held one once let go) and the record was deleted.
        assert_eq!(proxy.state.seen("POST", "/v2/images"), posts + 1, "{moment}");
        deletes_reach(&proxy, deleted + 1).await;
        buckets.push((moment, deletes(&proxy) - deleted));
    }
    eprintln!("drops (moment, DELETEs sent): {buckets:?}");
    for bucket in ["before the POST", "mid-body", "during the wait"] {
        assert!(buckets.iter().any(|(m, _)| *m == bucket), "no drop {bucket}");
    }
}

#[tokio::test]
async fn stage_image_dropped_mid_body_keeps_the_callers_image() {
    // stage_image and import_image work on an image the caller made: dropping them never
    // deletes it (documented on both).
    let proxy = start(Fault::None).await;
    let img = through(&proxy, None);
    warm(&img).await;
    let rec: Image =
        image(ADMIN).create_image(unique("stagedrop")).disk_format(DiskFormat::Raw).await.unwrap();
    proxy.arm(Trap::on(Method::PUT, "/stage", Hold::BodyAfter(1 << 20)));
    drop_when_sprung(&proxy, 1, img.stage_image(&rec, data(4 << 20, 403)).into_future()).await;
    assert_eq!(proxy.state.seen("PUT", &format!("/v2/images/{}/stage", rec.id)), 1);
    proxy.release();
    // Glance sees the broken upload and puts the image back to queued; nothing deletes it.
    let admin = image(ADMIN);
    let back = admin
        .wait_for_status(&rec, ImageStatus::Queued)
        .options(WaitOptions::default().timeout(Duration::from_secs(120)))
        .await
        .unwrap();
    assert_eq!(back.id, rec.id);
    warm(&img).await; // one more request through the proxy after the drop
    assert_eq!(deletes(&proxy), 0, "{:?}", proxy.state.requests.lock().unwrap());
    admin.delete_image(&rec).await.unwrap();
}
