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
            started.elapsed() < openstack_tests::trap::EVENT_WAIT,
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
        assert!(started.elapsed() < openstack_tests::trap::EVENT_WAIT, "no DELETE was sent");
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
    let rec: Image = image(ADMIN)
        .create_image(unique("stagedrop"))
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap()
        .into_image();
    proxy.arm(Trap::on(Method::PUT, "/stage", Hold::BodyAfter(1 << 20)));
    drop_when_sprung(&proxy, 1, img.stage_image(&rec, data(4 << 20, 403)).into_future()).await;
    assert_eq!(proxy.state.seen("PUT", &format!("/v2/images/{}/stage", rec.id)), 1);
    proxy.release();
    // One more request through the proxy: a cleanup task spawned at the drop would have sent
    // its DELETE by the time this answer is in (it was spawned first, on this runtime).
    warm(&img).await;
    assert_eq!(deletes(&proxy), 0, "{:?}", proxy.state.requests.lock().unwrap());
    // The caller's image is still there: queued, or uploading until Glance notices the
    // broken stage (how soon depends on Glance, not on us).
    let admin = image(ADMIN);
    let still = admin.get_image(&rec.id).await.unwrap();
    assert!(matches!(still.status, ImageStatus::Queued | ImageStatus::Uploading), "{still:?}");
    admin.delete_image(&rec).await.unwrap();
}

/// The images named `name` (hidden ones too).
async fn named(name: &str) -> Vec<Image> {
    use futures_util::TryStreamExt;
    let admin = image(ADMIN);
    let query = openstack_image::ImageQuery::new().name(name);
    let mut all: Vec<Image> = admin.images(&query).try_collect().await.unwrap();
    let hidden: Vec<Image> = admin.images(&query.clone().hidden(true)).try_collect().await.unwrap();
    all.extend(hidden);
    all
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_makes_exactly_one_record() {
    // Glance makes the record and answers; the proxy cuts the connection before the answer
    // reaches the client. The client cannot know whether the POST arrived: it sends it again
    // (same id), Glance answers 409, and the record Glance made is the one used. Exactly one
    // record, never two, never a lost one; with data and without.
    let proxy = start(Fault::None).await;
    let img = through(&proxy, None);
    warm(&img).await;
    let mut sprung = 0;
    for with_data in [false, true] {
        sprung += 1;
        let name = unique("lostanswer");
        let (posts, deleted) = (proxy.state.seen("POST", "/v2/images"), deletes(&proxy));
        proxy.arm(Trap::on(Method::POST, "/v2/images", Hold::CutAnswer));
        let mut create = img.create_image(&name).disk_format(DiskFormat::Raw);
        if with_data {
            create = create.data(data(200_000, 404));
        }
        let made = create.await.unwrap();
        assert_eq!(proxy.state.traps.sprung_count(), sprung, "the answer was cut");
        assert_eq!(proxy.state.seen("POST", "/v2/images") - posts, 2, "sent again once");
        assert_eq!(deletes(&proxy), deleted, "nothing deleted");
        let found = named(&name).await;
        assert_eq!(found.iter().map(|i| &i.id).collect::<Vec<_>>(), [&made.id], "one record");
        let expected = if with_data { ImageStatus::Active } else { ImageStatus::Queued };
        assert_eq!(found[0].status, expected);
        image(ADMIN).delete_image(&made).await.unwrap();
    }
    // Dropped at that very moment: the record Glance made (and the client never heard of)
    // is deleted all the same.
    for with_data in [false, true] {
        sprung += 1;
        let name = unique("lostdrop");
        let (posts, deleted) = (proxy.state.seen("POST", "/v2/images"), deletes(&proxy));
        proxy.arm(Trap::on(Method::POST, "/v2/images", Hold::CutAnswer));
        let mut create = img.create_image(&name).disk_format(DiskFormat::Raw);
        if with_data {
            create = create.data(data(200_000, 405));
        }
        drop_when_sprung(&proxy, sprung, create.into_future()).await;
        gone(&name).await;
        deletes_reach(&proxy, deleted + 1).await;
        assert_eq!(deletes(&proxy), deleted + 1, "one DELETE");
        let sent = proxy.state.seen("POST", "/v2/images") - posts;
        assert!((1..=2).contains(&sent), "{sent} POSTs");
        assert_eq!(
            proxy.state.uploads.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "no data after the drop"
        );
    }
}
