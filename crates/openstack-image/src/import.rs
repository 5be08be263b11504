//! Interoperable image import: `import_image` and a waiter reporting the per-store outcome.

use std::collections::HashSet;
use std::future::IntoFuture;

use futures_util::TryStreamExt;
use http::Method;
use openstack_auth::{Error, Result};
use openstack_resource::{Polled, PreparedRequest, WaitOptions, encode_segment, poll_until};
use serde_json::{Value, json};

use crate::call::{Built, Call};
use crate::id_ref::IdRef;
use crate::proxy::ImageProxy;
use crate::tasks::{Task, latest_import_task, with_failed_stores};
use crate::types::{Image, ImageStatus, TaskStatus};

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

    /// Waits until an import finished: the image's import task ended (API 2.12) and no store
    /// is still being imported to. Reports which stores succeeded and failed.
    ///
    /// Right after Glance accepted an import, its task may not be listed yet while an earlier
    /// import's finished task is (seen for over a second with copy-image): to wait for the
    /// import just started, use [`ImportImage::wait`], which ignores the tasks that existed
    /// before it.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let outcome = image.wait_for_import("5cfaff86-…").all_stores_must_succeed(false).await?;
    /// println!("failed for {:?}", outcome.failed);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Failed`] when the import task failed, or when a store failed and all had to
    /// succeed (the default); [`Error::Timeout`] with the last state.
    pub fn wait_for_import(&self, image: impl IdRef) -> WaitForImport {
        WaitForImport {
            proxy: self.clone(),
            image: image.id_ref().to_string(),
            options: WaitOptions::default(),
            all_must_succeed: true,
            earlier_tasks: HashSet::new(),
        }
    }

    /// The ids of the image's import tasks now (none before API 2.12, which lists them).
    async fn import_task_ids(&self, image: &str) -> Result<HashSet<String>> {
        if self.require("image_tasks", 12).await.is_err() {
            return Ok(HashSet::new());
        }
        let tasks: Vec<Task> = self.image_tasks(image).try_collect().await?;
        Ok(tasks.into_iter().filter(|t| t.task_type.contains("import")).map(|t| t.id).collect())
    }
}

/// `wait_for_import(image)` being configured; `.await` it.
#[must_use = "nothing is waited for until it is awaited"]
#[derive(Debug)]
pub struct WaitForImport {
    proxy: ImageProxy,
    image: String,
    options: WaitOptions,
    all_must_succeed: bool,
    /// Import tasks that are not the one waited for (they existed before the import).
    earlier_tasks: HashSet<String>,
}

impl WaitForImport {
    /// How to poll (default [`WaitOptions::default`]).
    pub fn wait(mut self, options: WaitOptions) -> Self {
        self.options = options;
        self
    }

    /// Whether a store that failed fails the wait (default true), as
    /// `all_stores_must_succeed` does on the server.
    pub fn all_stores_must_succeed(mut self, must: bool) -> Self {
        self.all_must_succeed = must;
        self
    }

    async fn run(self) -> Result<ImportOutcome> {
        let WaitForImport { proxy, image, options, all_must_succeed, earlier_tasks } = self;
        let has_tasks = proxy.require("image_tasks", 12).await.is_ok();
        let (proxy, id, earlier) = (&proxy, image.as_str(), &earlier_tasks);
        // The same polling loop as every waiter: backoff, transient errors, on_poll, and a
        // deadline that covers the poll in flight.
        poll_until(&options, format!("import of image {id}"), || async move {
            let img = proxy.get_image(id).await?;
            let task = if has_tasks {
                let tasks: Vec<Task> = proxy.image_tasks(id).try_collect().await?;
                latest_import_task(tasks.into_iter().filter(|t| !earlier.contains(&t.id)).collect())
            } else {
                None
            };
            import_state(id, img, task, has_tasks, all_must_succeed)
        })
        .await
    }
}

/// What one poll of an import says: done (with the outcome), failed, or still going (with
/// the state the timeout error names).
fn import_state(
    id: &str,
    img: Image,
    task: Option<Task>,
    has_tasks: bool,
    all_must_succeed: bool,
) -> Result<Polled<ImportOutcome>> {
    let task_done =
        task.as_ref().is_none_or(|t| matches!(t.status, TaskStatus::Success | TaskStatus::Failure));
    let importing = !img.os_glance_importing_to_stores.is_empty();
    if let Some(t) = task.as_ref().filter(|t| t.status == TaskStatus::Failure) {
        // A failed glance-download leaves the image `queued` with its stores still listed in
        // os_glance_importing_to_stores: the task's end is what counts then.
        if !importing || img.status != ImageStatus::Importing {
            return Err(Error::Failed {
                what: format!("import of image {id}"),
                status: format!("task {} {}", t.id, t.status),
                message: with_failed_stores(&t.message, &img),
            });
        }
    }
    if task_done
        && !importing
        && img.status == ImageStatus::Active
        && (task.is_some() || !has_tasks)
    {
        let failed = img.os_glance_failed_import.clone();
        if all_must_succeed && !failed.is_empty() {
            return Err(Error::Failed {
                what: format!("import of image {id}"),
                status: "partial".into(),
                message: format!("failed for stores: {}", failed.join(", ")),
            });
        }
        return Ok(Polled::Done(ImportOutcome {
            succeeded: img.stores.clone(),
            failed,
            task,
            image: img,
        }));
    }
    if matches!(img.status, ImageStatus::Killed | ImageStatus::Deleted) {
        return Err(Error::Failed {
            what: format!("import of image {id}"),
            status: img.status.to_string(),
            message: task.map(|t| t.message).unwrap_or_default(),
        });
    }
    Ok(Polled::Pending(format!(
        "{}, importing to [{}], task {}",
        img.status,
        img.os_glance_importing_to_stores.join(","),
        task.map_or("none".into(), |t| t.status.to_string())
    )))
}

impl IntoFuture for WaitForImport {
    type Output = Result<ImportOutcome>;
    type IntoFuture = Call<ImportOutcome>;
    fn into_future(self) -> Call<ImportOutcome> {
        Call::new(self.run())
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
