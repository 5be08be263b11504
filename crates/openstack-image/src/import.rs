//! Interoperable image import: `import_image` and a waiter reporting the per-store outcome.

use std::future::IntoFuture;

use http::Method;
use openstack_auth::{Error, Result};
use openstack_resource::{PreparedRequest, WaitOptions, encode_segment};
use serde_json::{Value, json};

use crate::call::{Built, Call};
use crate::id_ref::IdRef;
use crate::proxy::ImageProxy;
use crate::tasks::Task;
use crate::types::Image;

/// An import method and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportMethod {
    /// Import data staged with `stage_image`.
    GlanceDirect,
    /// Glance downloads the data from `uri`.
    WebDownload {
        /// Where the data is.
        uri: String,
    },
    /// Glance copies an image from another region's Glance.
    GlanceDownload {
        /// The other region.
        remote_region: String,
        /// The image there.
        remote_image_id: String,
        /// The interface of the remote Glance endpoint (default `public`).
        remote_service_interface: Option<String>,
    },
    /// Copy an active image's data to more stores.
    CopyImage,
}

impl ImportMethod {
    /// The method's wire name.
    pub fn name(&self) -> &'static str {
        match self {
            ImportMethod::GlanceDirect => "glance-direct",
            ImportMethod::WebDownload { .. } => "web-download",
            ImportMethod::GlanceDownload { .. } => "glance-download",
            ImportMethod::CopyImage => "copy-image",
        }
    }

    fn body(&self) -> Result<Value> {
        Ok(match self {
            ImportMethod::GlanceDirect | ImportMethod::CopyImage => json!({ "name": self.name() }),
            ImportMethod::WebDownload { uri } => {
                if uri.is_empty() {
                    return Err(Error::InvalidArgument("web-download needs a uri".into()));
                }
                json!({ "name": "web-download", "uri": uri })
            }
            ImportMethod::GlanceDownload {
                remote_region,
                remote_image_id,
                remote_service_interface,
            } => {
                if remote_region.is_empty() || remote_image_id.is_empty() {
                    return Err(Error::InvalidArgument(
                        "glance-download needs remote_region and remote_image_id".into(),
                    ));
                }
                json!({
                    "name": "glance-download",
                    "glance_region": remote_region,
                    "glance_image_id": remote_image_id,
                    // openstacksdk drops the region and image id unless this is given; we
                    // always send all three, defaulting the interface to public.
                    "glance_service_interface": remote_service_interface.as_deref().unwrap_or("public"),
                })
            }
        })
    }
}

/// Which stores an import (or upload) goes to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StoreSelection {
    pub(crate) stores: Vec<String>,
    pub(crate) all_stores: Option<bool>,
    pub(crate) all_stores_must_succeed: Option<bool>,
}

impl StoreSelection {
    pub(crate) fn is_set(&self) -> bool {
        !self.stores.is_empty() || self.all_stores == Some(true)
    }
}

/// The store setters `create_image(..)` and `import_image(..)` both have, written once: the
/// builder has a `selection: StoreSelection` field; `$note` is added to each setter's doc.
macro_rules! store_setters {
    ($note:literal) => {
        #[doc = concat!("`stores=[store]`: one target store", $note, ".")]
        pub fn store(mut self, store: impl $crate::IdRef) -> Self {
            self.selection.stores = vec![store.id_ref().to_string()];
            self
        }

        #[doc = concat!("`stores=`: the target stores", $note, ".")]
        pub fn stores<S: $crate::IdRef>(mut self, stores: impl IntoIterator<Item = S>) -> Self {
            self.selection.stores = stores.into_iter().map(|s| s.id_ref().to_string()).collect();
            self
        }

        #[doc = concat!("`all_stores=`: every writable store", $note, ".")]
        pub fn all_stores(mut self, all: bool) -> Self {
            self.selection.all_stores = Some(all);
            self
        }

        #[doc = concat!(
                    "`all_stores_must_succeed=`: whether one store failing fails (and reverts) the \
             import (the server's default: true)", $note, "."
                )]
        pub fn all_stores_must_succeed(mut self, must: bool) -> Self {
            self.selection.all_stores_must_succeed = Some(must);
            self
        }
    };
}
pub(crate) use store_setters;

/// The result of an import: which stores got the data.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ImportOutcome {
    /// The image after the import.
    pub image: Image,
    /// Stores holding the data now.
    pub succeeded: Vec<String>,
    /// Stores the import failed for.
    pub failed: Vec<String>,
    /// The image's import task, when the server lists image tasks (API 2.12).
    pub task: Option<Task>,
}

/// Typestate of [`ImportImage`]: return once Glance accepted the import.
#[derive(Debug)]
pub struct Accepted(());

/// Typestate of [`ImportImage`]: wait for the import to end.
#[derive(Debug)]
pub struct Waited(WaitOptions);

/// `import_image(...)` being configured; `.await` it.
///
/// Awaited as it is, it returns `()` once Glance accepted the import; after
/// [`ImportImage::wait`] it returns the [`ImportOutcome`] once the import ended.
#[must_use = "nothing is imported until it is awaited"]
pub struct ImportImage<W = Accepted> {
    proxy: ImageProxy,
    image_id: String,
    method: ImportMethod,
    selection: StoreSelection,
    wait: W,
}

impl<W> std::fmt::Debug for ImportImage<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportImage")
            .field("image_id", &self.image_id)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

impl<W> ImportImage<W> {
    store_setters!("");

    /// All store choices at once (from `create_image`).
    pub(crate) fn selection(mut self, selection: StoreSelection) -> Self {
        self.selection = selection;
        self
    }

    /// Waits for the import to end and reports the per-store outcome (without it the call
    /// returns once Glance accepted the import).
    pub fn wait(self, options: WaitOptions) -> ImportImage<Waited> {
        ImportImage {
            proxy: self.proxy,
            image_id: self.image_id,
            method: self.method,
            selection: self.selection,
            wait: Waited(options),
        }
    }

    /// Validates, then `POST /v2/images/{id}/import`.
    async fn start(&self) -> Result<()> {
        let proxy = &self.proxy;
        let built = import_request(&self.image_id, &self.method, &self.selection)?;
        proxy.validate_import(self.method.name(), &self.selection).await?;
        // A 4xx here (e.g. a filtered web-download URL) is an error, never swallowed.
        proxy.exec(built).await.map(drop)
    }
}

/// `POST /v2/images/{id}/import` (API 2.6) with the method and the store choice.
pub(crate) fn import_request(
    image: &str,
    method: &ImportMethod,
    selection: &StoreSelection,
) -> Result<Built> {
    let mut body = json!({ "method": method.body()? });
    if !selection.stores.is_empty() {
        body["stores"] = json!(selection.stores);
    }
    if let Some(all) = selection.all_stores {
        body["all_stores"] = json!(all);
    }
    if let Some(must) = selection.all_stores_must_succeed {
        body["all_stores_must_succeed"] = json!(must);
    }
    let req =
        PreparedRequest::new(Method::POST, format!("/v2/images/{}/import", encode_segment(image)))
            .with_json(body);
    Ok(Built::new("import_image", req).needs(6))
}

impl IntoFuture for ImportImage<Accepted> {
    type Output = Result<()>;
    type IntoFuture = Call<()>;
    fn into_future(self) -> Call<()> {
        Call::new(async move { self.start().await })
    }
}

impl IntoFuture for ImportImage<Waited> {
    type Output = Result<ImportOutcome>;
    type IntoFuture = Call<ImportOutcome>;
    fn into_future(self) -> Call<ImportOutcome> {
        Call::new(async move {
            // The image's earlier import tasks (an earlier import, or one whose task Glance
            // stamped in the same second) must not be taken for this one's.
            let earlier = self.proxy.import_task_ids(&self.image_id).await?;
            self.start().await?;
            let must = self.selection.all_stores_must_succeed != Some(false);
            let mut wait = self
                .proxy
                .wait_for_import(&self.image_id)
                .wait(self.wait.0)
                .all_stores_must_succeed(must);
            wait.earlier_tasks = earlier;
            wait.expected_stores = self.selection.stores.clone();
            wait.await
        })
    }
}

impl ImageProxy {
    /// `import_image(image, method, uri, remote_region, remote_image_id,
    /// remote_service_interface, store, stores, all_stores, all_stores_must_succeed)`.
    ///
    /// Validated before sending: the method must be advertised by the server, the stores
    /// must exist and be writable, `stores` and `all_stores` are exclusive. Server errors
    /// (e.g. 400 for a URL the import filter refuses) are returned, never swallowed.
    ///
    /// Cancellation: the image is the caller's, so dropping this future never deletes it.
    /// Dropped before Glance accepted the import, nothing was asked; after, the import goes
    /// on in Glance (only the wait stops): watch it with [`ImageProxy::wait_for_import`].
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use openstack_image::{ImportMethod, WaitOptions};
    /// let method = ImportMethod::WebDownload { uri: "http://127.0.0.1:8089/cirros.img".into() };
    /// image.import_image("5cfaff86-…", method.clone()).await?; // accepted
    /// let done = image
    ///     .import_image("5cfaff86-…", ImportMethod::CopyImage)
    ///     .stores(["slow", "cold"])
    ///     .wait(WaitOptions::default())
    ///     .await?; // ended: per-store outcome
    /// println!("now in {:?}", done.succeeded);
    /// # Ok(()) }
    /// ```
    pub fn import_image(&self, image: impl IdRef, method: ImportMethod) -> ImportImage {
        ImportImage {
            proxy: self.clone(),
            image_id: image.id_ref().to_string(),
            method,
            selection: StoreSelection::default(),
            wait: Accepted(()),
        }
    }

    pub(crate) async fn validate_import(
        &self,
        method: &str,
        selection: &StoreSelection,
    ) -> Result<()> {
        check_method(self.cached_import_info().await?, method)?;
        self.validate_stores(selection).await
    }

    pub(crate) async fn validate_stores(&self, selection: &StoreSelection) -> Result<()> {
        if !selection.stores.is_empty() && selection.all_stores == Some(true) {
            return Err(Error::InvalidArgument(
                "stores and all_stores are mutually exclusive".into(),
            ));
        }
        if selection.stores.is_empty() {
            return Ok(());
        }
        let known = self.cached_stores().await?;
        for s in &selection.stores {
            match known.iter().find(|k| &k.id == s) {
                None => {
                    return Err(Error::InvalidArgument(format!(
                        "store {s:?} does not exist (stores: {})",
                        known.iter().map(|k| k.id.as_str()).collect::<Vec<_>>().join(", ")
                    )));
                }
                Some(k) if k.read_only => {
                    return Err(Error::InvalidArgument(format!("store {s:?} is read-only")));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// Fails unless the cloud advertises `method`.
fn check_method(info: &crate::info::ImportInfo, method: &str) -> Result<()> {
    if info.import_methods.iter().any(|m| m == method) {
        return Ok(());
    }
    Err(Error::InvalidArgument(format!(
        "import method {method:?} is not offered by this cloud (it offers: {})",
        info.import_methods.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glance_download_always_sends_region_image_and_interface() {
        let m = ImportMethod::GlanceDownload {
            remote_region: "RegionTwo".into(),
            remote_image_id: "abc".into(),
            remote_service_interface: None,
        };
        assert_eq!(
            m.body().unwrap(),
            json!({"name": "glance-download", "glance_region": "RegionTwo", "glance_image_id": "abc", "glance_service_interface": "public"})
        );
    }

    #[test]
    fn a_method_the_cloud_does_not_advertise_is_refused() {
        // The local cloud advertises all four methods, so this case is checked here.
        let info = crate::info::ImportInfo {
            import_methods: vec!["glance-direct".into(), "web-download".into()],
            extra: Default::default(),
        };
        assert!(check_method(&info, "glance-direct").is_ok());
        let err = check_method(&info, "copy-image").unwrap_err().to_string();
        assert!(
            err.contains("\"copy-image\" is not offered")
                && err.contains("glance-direct, web-download"),
            "{err}"
        );
    }

    #[test]
    fn method_arguments_are_checked() {
        assert!(ImportMethod::WebDownload { uri: String::new() }.body().is_err());
        assert_eq!(ImportMethod::CopyImage.body().unwrap(), json!({"name": "copy-image"}));
    }
}
