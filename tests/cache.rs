//! The image cache API (2.14+): queue, list, delete, clear.

use futures_util::TryStreamExt;
use openstack_image::{CacheTarget, CachedImage, DiskFormat};
use openstack_tests::{ADMIN, DEMO, data, image, unique, wait_cached};

/// The cache is one per Glance: the tests that clear it take turns.
static CACHE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn queue_cache_delete_and_clear() {
    let _turn = CACHE.lock().await;
    let img = image(ADMIN);
    let a = img
        .create_image(unique("cache"))
        .data(data(50_000, 41))
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap();
    img.queue_image(&a).await.unwrap();
    let cache = wait_cached(&img, &a.id).await;
    let entry = cache.cached_images.iter().find(|c| c.image_id == a.id).unwrap();
    assert_eq!(entry.size, 50_000);
    // The same entries as a stream.
    let cached: Vec<CachedImage> = img.cached_images().try_collect().await.unwrap();
    assert!(cached.iter().any(|c| c.image_id == a.id && c.size == 50_000), "{cached:?}");
    let queued: Vec<String> = img.queued_images().try_collect().await.unwrap();
    assert!(!queued.contains(&a.id), "cached, so no longer queued: {queued:?}");
    // cache_delete_image takes the Image itself (its id goes into the URL).
    img.cache_delete_image(&a).await.unwrap();
    assert!(!img.get_image_cache().await.unwrap().cached_images.iter().any(|c| c.image_id == a.id));
    // An image that does not exist: NotFound, or Ok(false) with ignore_missing.
    let missing = "00000000-0000-0000-0000-000000000000";
    assert!(img.cache_delete_image(missing).await.unwrap_err().is_not_found());
    assert!(img.cache_delete_image_opt(missing).await.unwrap().is_none());

    // Downloading caches it too; clearing the cache target empties it.
    img.download_image(&a).to_bytes().await.unwrap();
    wait_cached(&img, &a.id).await;
    img.clear_cache().target(CacheTarget::Cache).await.unwrap();
    assert!(!img.get_image_cache().await.unwrap().cached_images.iter().any(|c| c.image_id == a.id));
    img.delete_image(&a).await.unwrap();
}

#[tokio::test]
async fn a_queued_image_is_listed_and_clear_cache_empties_the_queue_and_the_cache() {
    // Glance's cache worker takes a queued image into the cache whenever it gets to it, so
    // right after queueing, the image is queued, being cached (in neither list) or cached;
    // never in both lists; and then cached.
    // (An image the worker cannot fetch would stay queued, but a failed fetch kills Glance
    // 33's worker thread for good: nothing queued is cached after that until a restart.)
    let _turn = CACHE.lock().await;
    let img = image(ADMIN);
    let make = |seed| {
        img.create_image(unique("queue")).data(data(30_000, seed)).disk_format(DiskFormat::Raw)
    };
    let (a, b) = (make(42).await.unwrap(), make(43).await.unwrap());
    img.queue_image(&a).await.unwrap();
    let now = img.get_image_cache().await.unwrap();
    let queued = now.queued_images.contains(&a.id);
    let cached = now.cached_images.iter().any(|c| c.image_id == a.id);
    assert!(!(queued && cached), "in both lists: {now:?}");
    let in_queue: Vec<String> = img.queued_images().try_collect().await.unwrap();
    wait_cached(&img, &a.id).await;
    assert!(!img.get_image_cache().await.unwrap().queued_images.contains(&a.id));
    eprintln!("queued right after queueing: {queued} (queue then: {in_queue:?})");
    // The queue target leaves the cache alone; both empties both.
    img.download_image(&b).to_bytes().await.unwrap();
    wait_cached(&img, &b.id).await;
    img.clear_cache().target(CacheTarget::Queue).await.unwrap();
    let after = img.get_image_cache().await.unwrap();
    assert!(after.queued_images.is_empty(), "{after:?}");
    for id in [&a.id, &b.id] {
        assert!(after.cached_images.iter().any(|c| &c.image_id == id), "{after:?}");
    }
    img.clear_cache().await.unwrap();
    let after = img.get_image_cache().await.unwrap();
    assert!(after.queued_images.is_empty() && after.cached_images.is_empty(), "{after:?}");
    img.delete_image(&a).await.unwrap();
    img.delete_image(&b).await.unwrap();
}

#[tokio::test]
async fn queueing_a_missing_image_is_not_found_and_demo_is_forbidden() {
    let img = image(ADMIN);
    let err = img.queue_image("00000000-0000-0000-0000-000000000000").await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(image(DEMO).get_image_cache().await.unwrap_err().is_forbidden());
}
