//! Token expiry for real: the `local-short` cloud authenticates at a second Keystone (same
//! database and keys) whose tokens live one minute. Lists and a slow upload run past the
//! expiry of the first token; no 401 reaches the caller; sixteen concurrent calls in the
//! refresh window cause one re-authentication, not sixteen.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use openstack_image::{DiskFormat, ImageData, ImageProxy, ImageQuery};
use openstack_tests::{data, unique};

const NO_SUCH_IMAGE: &str = "00000000-0000-0000-0000-000000000000";

#[tokio::test]
async fn calls_and_a_slow_upload_outlive_one_minute_tokens() {
    let img = ImageProxy::new(openstack_tests::session("local-short"));
    assert!(img.get_image_opt(NO_SUCH_IMAGE).await.unwrap().is_none());
    let token = img.session().token().await.unwrap().expect("a token");
    let lifetime = token.expires_at.duration_since(token.issued_at).unwrap();
    assert!(lifetime <= Duration::from_secs(61), "a one-minute token: {lifetime:?}");
    let expires = token.expires_at;
    assert_eq!(img.session().auth_count(), 1);
    // A record the lists below must find, every time.
    let listed = unique("expirylist");
    let marker = img.create_image(&listed).disk_format(DiskFormat::Raw).await.unwrap();
    let query = ImageQuery::new().name(&listed).page_size(1);

    // A slow upload (about 70 s: 35 chunks, 2 s apart) that runs past the token's expiry.
    let name = unique("expiry");
    let chunks = futures_util::stream::iter(0..35u64).then(|i| async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        Ok::<_, std::io::Error>(Bytes::from(data(64 * 1024, 100 + i)))
    });
    let upload = tokio::spawn(
        img.create_image(&name)
            .data(ImageData::sized_stream(chunks, 35 * 64 * 1024))
            .disk_format(DiskFormat::Raw)
            // Inspection would read all of this small stream before the record exists: the
            // point here is an upload in flight while the token expires.
            .inspect(false)
            .allow_duplicates(true)
            .into_future(),
    );

    let until = |t: SystemTime| async move {
        if let Ok(d) = t.duration_since(SystemTime::now()) {
            tokio::time::sleep(d).await;
        }
    };
    // Calls while the first token is fresh: no re-authentication.
    let started = Instant::now();
    while SystemTime::now() + Duration::from_secs(25) < expires {
        let page: Vec<_> = img.images(&query).try_collect().await.unwrap();
        assert_eq!(page.len(), 1);
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(started.elapsed() < Duration::from_secs(60));
    }
    assert_eq!(img.session().auth_count(), 1, "the fresh token was reused");

    // Sixteen concurrent calls inside the refresh window (the last quarter of the lifetime):
    // one re-authentication for all of them.
    until(expires - Duration::from_secs(10)).await;
    let calls: Vec<_> = (0..16).map(|_| tokio::spawn(img.get_image_opt(NO_SUCH_IMAGE))).collect();
    for c in calls {
        assert!(c.await.unwrap().unwrap().is_none());
    }
    assert_eq!(img.session().auth_count(), 2, "one re-authentication, not sixteen");

    // Past the first token's expiry: calls keep working, no 401 reaches the caller.
    until(expires + Duration::from_secs(5)).await;
    for _ in 0..3 {
        assert!(img.get_image_opt(NO_SUCH_IMAGE).await.unwrap().is_none());
        let page: Vec<_> = img.images(&query).try_collect().await.unwrap();
        assert_eq!(page.len(), 1);
    }
    assert_eq!(img.session().auth_count(), 2);

    // The upload, begun under the first token, completes after it expired.
    let up = upload.await.unwrap().unwrap();
    assert_eq!(up.size, Some(35 * 64 * 1024));
    img.delete_image(&up).await.unwrap();
    img.delete_image(&marker).await.unwrap();
}
