//! Image records: get, find, list, update, delete, actions, tags.

use std::future::IntoFuture;
use std::marker::PhantomData;

use futures_util::{StreamExt, TryStreamExt};
use http::Method;
use openstack_auth::{Error, Result};
use openstack_resource::{ListOptions, PreparedRequest, encode_segment};

use crate::call::{Built, Call, Items, MULTI_STORE, unit};
use crate::id_ref::IdRef;
use crate::proxy::ImageProxy;
use crate::query::ImageQuery;
use crate::types::Image;

/// `DELETE /v2/images/{id}`, or with a store `DELETE /v2/stores/{store}/{id}` (API 2.10).
pub(crate) fn delete_request(image: &str, store: Option<&str>) -> Built {
    match store {
        Some(s) => Built::new(
            "delete_image(store)",
            PreparedRequest::new(
                Method::DELETE,
                format!("/v2/stores/{}/{}", encode_segment(s), encode_segment(image)),
            ),
        )
        .needs(10)
        .needs_feature(MULTI_STORE.0, MULTI_STORE.1),
        None => Built::new("delete_image", PreparedRequest::new(Method::DELETE, image_path(image))),
    }
}

/// `POST /v2/images/{id}/actions/{deactivate|reactivate}`.
pub(crate) fn action_request(what: &'static str, image: &str, action: &str) -> Built {
    Built::new(
        what,
        PreparedRequest::new(Method::POST, format!("{}/actions/{action}", image_path(image))),
    )
}

/// `PUT|DELETE /v2/images/{id}/tags/{tag}`; a tag is 1 to 255 characters.
pub(crate) fn tag_request(
    what: &'static str,
    method: Method,
    image: &str,
    tag: &str,
) -> Result<Built> {
    if method == Method::PUT {
        check_tag(tag)?;
    }
    Ok(Built::new(
        what,
        PreparedRequest::new(method, format!("{}/tags/{}", image_path(image), encode_segment(tag))),
    ))
}

pub(crate) fn image_path(id: &str) -> String {
    format!("/v2/images/{}", encode_segment(id))
}

pub(crate) fn check_tag(tag: &str) -> Result<()> {
    if tag.is_empty() || tag.chars().count() > 255 {
        return Err(Error::InvalidArgument(format!(
            "tag {tag:?} must be 1 to 255 characters long"
        )));
    }
    Ok(())
}

impl ImageProxy {
    /// `get_image(image)`: one image by id.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let img = image.get_image("5cfaff86-…").await?;
    /// # let _ = img; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::NotFound`] when it does not exist.
    pub fn get_image(&self, image: impl IdRef) -> Call<Image> {
        self.get_one::<Image>((), image)
    }

    /// As [`ImageProxy::get_image`], `None` when it does not exist.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// if image.get_image_opt("5cfaff86-…").await?.is_none() { println!("gone"); }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Errors other than not-found.
    pub fn get_image_opt(&self, image: impl IdRef) -> Call<Option<Image>> {
        let api = self.api::<Image>(());
        let id = image.id_ref().to_string();
        Call::new(async move { api.get_opt(&id).await })
    }

    /// `find_image(name_or_id, ignore_missing=False)`: by id, else by name (hidden images
    /// included). Two images with the name are [`Error::Ambiguous`], never a guess.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let cirros = image.find_image("cirros").await?;
    /// # let _ = cirros; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::ResourceNotFound`], [`Error::Ambiguous`].
    pub fn find_image(&self, name_or_id: &str) -> Call<Image> {
        let find = self.find_image_opt(name_or_id);
        let name = name_or_id.to_string();
        Call::new(async move { find.await?.ok_or(Error::ResourceNotFound { kind: "image", name }) })
    }

    /// `find_image(name_or_id, ignore_missing=True)`: `None` when nothing matches.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let maybe = image.find_image_opt("cirros").await?;
    /// # let _ = maybe; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Ambiguous`] and request errors.
    pub fn find_image_opt(&self, name_or_id: &str) -> Call<Option<Image>> {
        let api = self.api::<Image>(());
        let name = name_or_id.to_string();
        Call::new(async move {
            if let Some(img) = api.find_opt(&name).await? {
                return Ok(Some(img));
            }
            // Hidden images are not listed by default: look for them too.
            let hidden: Vec<Image> = api
                .list(
                    &ImageQuery::new().name(&name).hidden(true).to_query(),
                    &ListOptions::default(),
                )
                .try_collect()
                .await?;
            match hidden.len() {
                0 => Ok(None),
                1 => Ok(hidden.into_iter().next()),
                _ => Err(Error::Ambiguous {
                    kind: "image",
                    name,
                    matches: hidden.into_iter().map(|i| i.id).collect(),
                }),
            }
        })
    }

    /// `images(**query)`: a lazy stream over images, following `next` links.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use futures_util::TryStreamExt;
    /// use openstack_image::{ImageQuery, ImageStatus};
    /// let active: Vec<_> =
    ///     image.images(&ImageQuery::new().status(ImageStatus::Active)).try_collect().await?;
    /// # let _ = active; Ok(()) }
    /// ```
    ///
    /// A query Glance would refuse fails as the first item, before anything is sent.
    pub fn images(&self, query: &ImageQuery) -> Items<Image> {
        self.api::<Image>(()).list(&query.to_query(), &ListOptions::default()).boxed()
    }

    /// `update_image(image, **attrs)`: send only what changed between `original` (as last
    /// fetched) and `changed`, as a JSON patch. Read-only fields are never sent; nothing is
    /// sent when nothing changed.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy, img: openstack_image::Image) -> openstack_auth::Result<()> {
    /// let mut changed = img.clone();
    /// changed.min_ram = 512;
    /// let img = image.update_image(&img, &changed).await?;
    /// # let _ = img; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when a read-only field was changed; server errors.
    pub fn update_image(&self, original: &Image, changed: &Image) -> Call<Image> {
        self.update_one::<Image>((), original, changed)
    }

    /// `update_image(image, key=value, ...)`: fetch, apply `edit`, send the difference.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let img = image.update_image_with("5cfaff86-…", |i| i.min_disk = 2).await?;
    /// # let _ = img; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`ImageProxy::update_image`].
    pub fn update_image_with(
        &self,
        image: impl IdRef,
        edit: impl FnOnce(&mut Image) + Send + 'static,
    ) -> Call<Image> {
        let api = self.api::<Image>(());
        let id = image.id_ref().to_string();
        Call::new(async move {
            let original = api.get(&id).await?;
            let mut changed = original.clone();
            edit(&mut changed);
            api.update(&original, &changed).await
        })
    }

    /// `delete_image(image, store=None, ignore_missing=False)`: deletes the image; with
    /// [`DeleteImage::store`], only its data in that store (API 2.10).
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.delete_image("5cfaff86-…").store("slow").await?; // only the copy in `slow`
    /// image.delete_image("5cfaff86-…").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::NotFound`]; server errors (e.g. 403 when deleting the last store of an
    /// image, 409 for a protected image).
    pub fn delete_image(&self, image: impl IdRef) -> DeleteImage<()> {
        DeleteImage {
            proxy: self.clone(),
            image: image.id_ref().to_string(),
            store: None,
            out: PhantomData,
        }
    }

    /// `delete_image(image, ignore_missing=True)`: `None` when there was nothing to delete.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let deleted = image.delete_image_opt("5cfaff86-…").await?.is_some();
    /// # let _ = deleted; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Errors other than not-found.
    pub fn delete_image_opt(&self, image: impl IdRef) -> DeleteImage<Option<()>> {
        DeleteImage {
            proxy: self.clone(),
            image: image.id_ref().to_string(),
            store: None,
            out: PhantomData,
        }
    }

    /// `deactivate_image(image)`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.deactivate_image("5cfaff86-…").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors (403 for non-admins, 409 for images that are not active).
    pub fn deactivate_image(&self, image: impl IdRef) -> Call<()> {
        self.call(Ok(action_request("deactivate_image", image.id_ref(), "deactivate")), unit)
    }

    /// `reactivate_image(image)`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.reactivate_image("5cfaff86-…").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn reactivate_image(&self, image: impl IdRef) -> Call<()> {
        self.call(Ok(action_request("reactivate_image", image.id_ref(), "reactivate")), unit)
    }

    /// `add_tag(image, tag)`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.add_tag("5cfaff86-…", "golden").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty tag or one over 255 characters (nothing is
    /// sent); server errors.
    pub fn add_tag(&self, image: impl IdRef, tag: &str) -> Call<()> {
        self.call(tag_request("add_tag", Method::PUT, image.id_ref(), tag), unit)
    }

    /// `remove_tag(image, tag)`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.remove_tag("5cfaff86-…", "golden").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::NotFound`] when the image does not have the tag.
    pub fn remove_tag(&self, image: impl IdRef, tag: &str) -> Call<()> {
        self.call(tag_request("remove_tag", Method::DELETE, image.id_ref(), tag), unit)
    }

    /// [`ImageProxy::remove_tag`], `None` when the image did not have the tag.
    ///
    /// # Errors
    /// As [`ImageProxy::remove_tag`], but for not-found. (A missing *image* is not-found
    /// too: Glance answers both with 404.)
    pub fn remove_tag_opt(&self, image: impl IdRef, tag: &str) -> Call<Option<()>> {
        let removed = self.remove_tag(image, tag);
        Call::new(async move {
            match removed.await {
                Ok(()) => Ok(Some(())),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e),
            }
        })
    }
}

/// `delete_image(..)` / `delete_image_opt(..)` being configured; `.await` it.
///
/// `Out` is `()` for `delete_image` and `Option<()>` for `delete_image_opt`.
#[must_use = "nothing is deleted until it is awaited"]
#[derive(Debug)]
pub struct DeleteImage<Out> {
    proxy: ImageProxy,
    image: String,
    store: Option<String>,
    out: PhantomData<fn() -> Out>,
}

impl<Out> DeleteImage<Out> {
    /// `store=`: delete only the image's data in this store (API 2.10); the image keeps
    /// its other stores.
    pub fn store(mut self, store: impl IdRef) -> Self {
        self.store = Some(store.id_ref().to_string());
        self
    }

    fn built(&self) -> Built {
        delete_request(&self.image, self.store.as_deref())
    }
}

impl IntoFuture for DeleteImage<()> {
    type Output = Result<()>;
    type IntoFuture = Call<()>;
    fn into_future(self) -> Call<()> {
        self.proxy.call(Ok(self.built()), unit)
    }
}

impl IntoFuture for DeleteImage<Option<()>> {
    type Output = Result<Option<()>>;
    type IntoFuture = Call<Option<()>>;
    fn into_future(self) -> Call<Option<()>> {
        self.proxy.call_opt(Ok(self.built()), unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delete_paths_and_the_store_gate() {
        let b = delete_request("a b/c", None);
        assert_eq!(
            (b.http.method.clone(), b.http.path.as_str()),
            (Method::DELETE, "/v2/images/a%20b%2Fc")
        );
        assert_eq!(b.needs, None);
        let b = delete_request("id", Some("fast%1"));
        assert_eq!(b.http.path, "/v2/stores/fast%251/id");
        assert_eq!(b.needs, Some(openstack_auth::ApiVersion::new(2, 10)));
    }

    #[test]
    fn tags_are_checked_and_escaped() {
        let b = tag_request("add_tag", Method::PUT, "i", "dé jà/vu").unwrap();
        assert_eq!(b.http.path, "/v2/images/i/tags/d%C3%A9%20j%C3%A0%2Fvu");
        assert!(tag_request("add_tag", Method::PUT, "i", "").is_err());
        assert!(tag_request("add_tag", Method::PUT, "i", &"x".repeat(256)).is_err());
        // Removing is never refused locally: the server says whether the tag exists.
        assert!(tag_request("remove_tag", Method::DELETE, "i", "").is_ok());
    }

    #[test]
    fn actions() {
        let b = action_request("deactivate_image", "i", "deactivate");
        assert_eq!(
            (b.http.method, b.http.path.as_str()),
            (Method::POST, "/v2/images/i/actions/deactivate")
        );
    }
}
