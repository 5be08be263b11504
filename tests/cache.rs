//! The image cache API (2.14+): queue, list, delete, clear.

use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use openstack_image::{CacheTarget, CachedImage, DiskFormat, ImageCache};
use openstack_tests::{ADMIN, DEMO, data, image, unique};

async fn wait_cached(img: &openstack_image::ImageProxy, id: &str) -> ImageCache {
    let started = Instant::now();
    loop {
        let cache = img.get_image_cache().await.unwrap();
        if cache.cached_images.iter().any(|c| c.image_id == id) {
            return cache;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "image {id} was not cached: {cache:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn queue_cache_delete_and_clear() {
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
    img.clear_cache(CacheTarget::Cache).await.unwrap();
    assert!(!img.get_image_cache().await.unwrap().cached_images.iter().any(|c| c.image_id == a.id));
    img.clear_cache(CacheTarget::Both).await.unwrap();
    img.delete_image(&a).await.unwrap();
}

#[tokio::test]
async fn queueing_a_missing_image_is_not_found_and_demo_is_forbidden() {
    let img = image(ADMIN);
    let err = img.queue_image("00000000-0000-0000-0000-000000000000").await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(image(DEMO).get_image_cache().await.unwrap_err().is_forbidden());
}
