//! The image cache (API 2.14; admin by default).

use http::Method;
use openstack_auth::Result;
use openstack_resource::{PreparedRequest, encode_segment};

use crate::call::{Built, Call, IMAGE_CACHE, Items, json, unit};
use crate::id_ref::IdRef;
use crate::proxy::ImageProxy;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The image cache's content (`GET /v2/cache`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImageCache {
    /// Cached images.
    #[serde(default)]
    pub cached_images: Vec<CachedImage>,
    /// Image ids queued for caching.
    #[serde(default)]
    pub queued_images: Vec<String>,
    /// Fields this SDK does not know yet (kept, and sent back as they came).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// One cached image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CachedImage {
    /// The image id.
    pub image_id: String,
    /// Hits.
    #[serde(default)]
    pub hits: u64,
    /// Size in bytes.
    #[serde(default)]
    pub size: u64,
    /// Other fields (times, ...).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// What `clear_cache` clears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CacheTarget {
    /// Cached images.
    Cache,
    /// The queue.
    Queue,
    /// Both (the default, as in openstacksdk).
    #[default]
    Both,
}

/// A `clear_cache` call being built: both the cache and the queue unless
/// [`ClearCache::target`] says otherwise. Await it.
#[derive(Debug, Clone)]
#[must_use = "nothing is cleared until the call is awaited"]
pub struct ClearCache {
    proxy: ImageProxy,
    target: CacheTarget,
}

impl ClearCache {
    /// Clears only the cached images, only the queue, or both (the default).
    pub fn target(mut self, target: CacheTarget) -> Self {
        self.target = target;
        self
    }
}

impl std::future::IntoFuture for ClearCache {
    type Output = Result<()>;
    type IntoFuture = Call<()>;
    fn into_future(self) -> Call<()> {
        self.proxy.call(clear_request(self.target), unit)
    }
}

/// `GET /v2/cache`.
pub(crate) fn get_request() -> Built {
    Built::new("get_image_cache", PreparedRequest::new(Method::GET, "/v2/cache"))
        .needs_feature(IMAGE_CACHE.0, IMAGE_CACHE.1)
}

/// `PUT /v2/cache/{id}` (queue) or `DELETE /v2/cache/{id}`.
pub(crate) fn image_request(what: &'static str, method: Method, image: &str) -> Built {
    Built::new(what, PreparedRequest::new(method, format!("/v2/cache/{}", encode_segment(image))))
        .needs_feature(IMAGE_CACHE.0, IMAGE_CACHE.1)
}

/// `DELETE /v2/cache` with `x-image-cache-clear-target` (none clears both).
pub(crate) fn clear_request(target: CacheTarget) -> Result<Built> {
    let req = PreparedRequest::new(Method::DELETE, "/v2/cache");
    let req = match target {
        CacheTarget::Cache => req.with_header("x-image-cache-clear-target", "cache")?,
        CacheTarget::Queue => req.with_header("x-image-cache-clear-target", "queue")?,
        CacheTarget::Both => req,
    };
    Ok(Built::new("clear_cache", req).needs_feature(IMAGE_CACHE.0, IMAGE_CACHE.1))
}

impl ImageProxy {
    /// `get_image_cache()`: cached and queued images (a snapshot of the whole cache).
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let cache = image.get_image_cache().await?;
    /// println!("{} cached, {} queued", cache.cached_images.len(), cache.queued_images.len());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::Unsupported`] below API 2.14; 403 for non-admins.
    pub fn get_image_cache(&self) -> Call<ImageCache> {
        self.call(Ok(get_request()), json("get_image_cache"))
    }

    /// The cached images, as a stream (from the same `GET /v2/cache` as
    /// [`ImageProxy::get_image_cache`]).
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use futures_util::TryStreamExt;
    /// let cached: Vec<_> = image.cached_images().try_collect().await?;
    /// # let _ = cached; Ok(()) }
    /// ```
    pub fn cached_images(&self) -> Items<CachedImage> {
        self.one_page(Ok(get_request()), "cached_images")
    }

    /// The ids of the images queued for caching, as a stream.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use futures_util::TryStreamExt;
    /// let queued: Vec<String> = image.queued_images().try_collect().await?;
    /// # let _ = queued; Ok(()) }
    /// ```
    pub fn queued_images(&self) -> Items<String> {
        self.one_page(Ok(get_request()), "queued_images")
    }

    /// `queue_image(image_id)`: queue an image for caching.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.queue_image("5cfaff86-…").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::NotFound`] for an unknown image;
    /// [`openstack_auth::Error::Unsupported`] below 2.14.
    pub fn queue_image(&self, image: impl IdRef) -> Call<()> {
        self.call(Ok(image_request("queue_image", Method::PUT, image.id_ref())), unit)
    }

    /// `cache_delete_image(image, ignore_missing=False)`: drop one image from the cache (an
    /// id or an `&Image`; the id goes into the URL).
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.cache_delete_image("5cfaff86-…").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::NotFound`] when it is not cached;
    /// [`openstack_auth::Error::Unsupported`] below 2.14.
    pub fn cache_delete_image(&self, image: impl IdRef) -> Call<()> {
        self.call(Ok(image_request("cache_delete_image", Method::DELETE, image.id_ref())), unit)
    }

    /// `cache_delete_image(image, ignore_missing=True)`: `None` when it was not cached.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.cache_delete_image_opt("5cfaff86-…").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Errors other than not-found.
    pub fn cache_delete_image_opt(&self, image: impl IdRef) -> Call<Option<()>> {
        self.call_opt(Ok(image_request("cache_delete_image", Method::DELETE, image.id_ref())), unit)
    }

    /// `clear_cache(target='both')`: empty the cache and the queue, or only one of them.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use openstack_image::CacheTarget;
    /// image.clear_cache().await?; // both
    /// image.clear_cache().target(CacheTarget::Queue).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::Unsupported`] below 2.14; 403 for non-admins.
    pub fn clear_cache(&self) -> ClearCache {
        ClearCache { proxy: self.clone(), target: CacheTarget::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_requests() {
        let b = clear_request(CacheTarget::Queue).unwrap();
        assert_eq!(b.http.headers["x-image-cache-clear-target"], "queue");
        assert!(clear_request(CacheTarget::Both).unwrap().http.headers.is_empty());
        let b = image_request("queue_image", Method::PUT, "a b");
        assert_eq!(
            (b.http.path.as_str(), b.feature),
            ("/v2/cache/a%20b", Some((openstack_auth::ApiVersion::new(2, 14), IMAGE_CACHE.1)))
        );
        assert_eq!(get_request().http.path, "/v2/cache");
    }
}
