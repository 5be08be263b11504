//! `ImageProxy`: every call of openstacksdk's image proxy, in snake_case.

use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use http::Method;
use openstack_auth::{ApiVersion, Error, Result, ServiceEndpoint, Session};
use openstack_resource::{
    Api, ListOptions, PreparedRequest, Query, WaitOptions, decode, encode_segment, send_json,
};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::types::{
    CacheTarget, Image, ImageCache, ImportInfo, Member, MemberStatus, Schema, Store, Task,
    TaskStatus, Usage,
};

/// Something that names a resource: an id string, or the resource itself.
///
/// Every call taking an image accepts `"id"`, `String`, or `&Image` (openstacksdk's
/// "the value can be the ID of an image or an Image instance"); the id is what goes into the
/// URL, never a text form of the object.
pub trait IdRef {
    /// The id (or, for metadefs, the name) used in URLs.
    fn id_ref(&self) -> &str;
}

impl IdRef for str {
    fn id_ref(&self) -> &str {
        self
    }
}
impl IdRef for String {
    fn id_ref(&self) -> &str {
        self
    }
}
impl<T: IdRef + ?Sized> IdRef for &T {
    fn id_ref(&self) -> &str {
        (**self).id_ref()
    }
}
impl IdRef for Image {
    fn id_ref(&self) -> &str {
        &self.id
    }
}
impl IdRef for Member {
    fn id_ref(&self) -> &str {
        &self.member_id
    }
}
impl IdRef for Task {
    fn id_ref(&self) -> &str {
        &self.id
    }
}
impl IdRef for Store {
    fn id_ref(&self) -> &str {
        &self.id
    }
}

pub(crate) const SERVICE: &str = "image";

/// The Image service v2 through one session. Cheap to clone; share it between tasks.
///
/// Calls mirror openstacksdk's image proxy one-to-one (snake_case names); calls with many
/// options return builders that you `.await`.
#[derive(Clone, Debug)]
pub struct ImageProxy {
    pub(crate) session: Session,
    pub(crate) cache: Arc<Cached>,
}

/// Server facts fetched once per proxy.
#[derive(Debug, Default)]
pub(crate) struct Cached {
    pub(crate) image_schema: OnceCell<Schema>,
    pub(crate) import_info: OnceCell<ImportInfo>,
    pub(crate) stores: OnceCell<Vec<Store>>,
}

impl ImageProxy {
    /// A proxy over `session` (which finds the `image` endpoint in the catalog).
    pub fn new(session: Session) -> Self {
        ImageProxy { session, cache: Arc::new(Cached::default()) }
    }

    /// The session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The image endpoint, with the server's highest API version.
    ///
    /// # Errors
    /// Catalog errors.
    pub async fn endpoint(&self) -> Result<Arc<ServiceEndpoint>> {
        self.session.endpoint(SERVICE).await
    }

    /// Fails with [`Error::Unsupported`] when the server is older than `major.minor`.
    pub(crate) async fn require(&self, what: &str, major: u32, minor: u32) -> Result<()> {
        self.endpoint().await?.require(what, ApiVersion::new(major, minor))
    }

    pub(crate) fn images_api(&self) -> Api<Image> {
        Api::new(self.session.clone(), ())
    }

    pub(crate) async fn send(&self, req: PreparedRequest) -> Result<Value> {
        Ok(send_json(&self.session, SERVICE, req).await?.1)
    }

    // ---- images -------------------------------------------------------------------------

    /// `get_image(image)`: one image by id.
    ///
    /// # Errors
    /// [`Error::NotFound`] when it does not exist.
    pub async fn get_image(&self, image: impl IdRef) -> Result<Image> {
        self.images_api().get(image.id_ref()).await
    }

    /// `find_image(name_or_id, ignore_missing=False)`: by id, else by name (hidden images
    /// included). Two images with the name are [`Error::Ambiguous`], never a guess.
    ///
    /// # Errors
    /// [`Error::ResourceNotFound`], [`Error::Ambiguous`].
    pub async fn find_image(&self, name_or_id: &str) -> Result<Image> {
        self.find_image_opt(name_or_id)
            .await?
            .ok_or_else(|| Error::ResourceNotFound { kind: "image", name: name_or_id.into() })
    }

    /// `find_image(name_or_id, ignore_missing=True)`: `None` when nothing matches.
    ///
    /// # Errors
    /// [`Error::Ambiguous`] and request errors.
    pub async fn find_image_opt(&self, name_or_id: &str) -> Result<Option<Image>> {
        let api = self.images_api();
        if let Some(img) = api.find_opt(name_or_id).await? {
            return Ok(Some(img));
        }
        // Hidden images are not listed by default: look for them too.
        let hidden: Vec<Image> = api
            .list_all(&Query::new().param("name", name_or_id).param("os_hidden", "true"))
            .await?;
        match hidden.len() {
            0 => Ok(None),
            1 => Ok(hidden.into_iter().next()),
            _ => Err(Error::Ambiguous {
                kind: "image",
                name: name_or_id.into(),
                matches: hidden.into_iter().map(|i| i.id).collect(),
            }),
        }
    }

    /// `images(**query)`: a lazy stream over images, following `next` links.
    ///
    /// Filters: `name`, `status`, `visibility`, `owner`, `member_status`, `tag`, `size_min`,
    /// `size_max`, `created_at`/`updated_at` (with operators, e.g. `gte:2026-01-01T00:00:00Z`),
    /// `sort_key`/`sort_dir` or `sort`, `os_hidden`, `protected`, `disk_format`,
    /// `container_format`; `limit` is the page size. Unknown keys fail before any request.
    pub fn images(
        &self,
        query: &Query,
    ) -> impl Stream<Item = Result<Image>> + Send + 'static + use<> {
        self.images_api().list(query, &ListOptions::default())
    }

    /// `images(**query)` with explicit paging (page size, cap on items).
    pub fn images_paged(
        &self,
        query: &Query,
        opts: &ListOptions,
    ) -> impl Stream<Item = Result<Image>> + Send + 'static + use<> {
        self.images_api().list(query, opts)
    }

    /// `update_image(image, **attrs)`: send only what changed between `original` (as last
    /// fetched) and `changed`, as a JSON patch. Read-only fields are never sent.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when a read-only field was changed; server errors.
    pub async fn update_image(&self, original: &Image, changed: &Image) -> Result<Image> {
        self.images_api().update(original, changed).await
    }

    /// `update_image(image, key=value, ...)`: fetch, apply `edit`, send the difference.
    ///
    /// # Errors
    /// As [`ImageProxy::update_image`].
    pub async fn update_image_with(
        &self,
        image: impl IdRef,
        edit: impl FnOnce(&mut Image),
    ) -> Result<Image> {
        let original = self.get_image(image.id_ref()).await?;
        let mut changed = original.clone();
        edit(&mut changed);
        self.update_image(&original, &changed).await
    }

    /// `delete_image(image, store=None, ignore_missing=True)`: deletes the image; with
    /// `store`, only its data in that store (API 2.10). Returns whether something was deleted.
    ///
    /// # Errors
    /// With `ignore_missing == false`, [`Error::NotFound`]; server errors (e.g. 403 when
    /// deleting the last store of an image).
    pub async fn delete_image(
        &self,
        image: impl IdRef,
        store: Option<&str>,
        ignore_missing: bool,
    ) -> Result<bool> {
        let id = image.id_ref();
        let req = match store {
            Some(s) => {
                self.require("delete_image(store=...)", 2, 10).await?;
                PreparedRequest::new(
                    Method::DELETE,
                    format!("/v2/stores/{}/{}", encode_segment(s), encode_segment(id)),
                )
            }
            None => {
                PreparedRequest::new(Method::DELETE, format!("/v2/images/{}", encode_segment(id)))
            }
        };
        match self.send(req).await {
            Ok(_) => Ok(true),
            Err(e) if ignore_missing && e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `deactivate_image(image)`.
    ///
    /// # Errors
    /// Server errors (403 for non-admins, 409 for images that are not active).
    pub async fn deactivate_image(&self, image: impl IdRef) -> Result<()> {
        self.action(image.id_ref(), "deactivate").await
    }

    /// `reactivate_image(image)`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn reactivate_image(&self, image: impl IdRef) -> Result<()> {
        self.action(image.id_ref(), "reactivate").await
    }

    async fn action(&self, id: &str, action: &str) -> Result<()> {
        let req = PreparedRequest::new(
            Method::POST,
            format!("/v2/images/{}/actions/{action}", encode_segment(id)),
        );
        self.send(req).await.map(drop)
    }

    /// `add_tag(image, tag)`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty tag or one over 255 characters; server errors.
    pub async fn add_tag(&self, image: impl IdRef, tag: &str) -> Result<()> {
        check_tag(tag)?;
        let req = PreparedRequest::new(
            Method::PUT,
            format!("/v2/images/{}/tags/{}", encode_segment(image.id_ref()), encode_segment(tag)),
        );
        self.send(req).await.map(drop)
    }

    /// `remove_tag(image, tag)`.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the image does not have the tag.
    pub async fn remove_tag(&self, image: impl IdRef, tag: &str) -> Result<()> {
        let req = PreparedRequest::new(
            Method::DELETE,
            format!("/v2/images/{}/tags/{}", encode_segment(image.id_ref()), encode_segment(tag)),
        );
        self.send(req).await.map(drop)
    }

    /// `wait_for_status(image, status, failures, interval, wait)`.
    ///
    /// # Errors
    /// [`Error::Timeout`], [`Error::Failed`].
    pub async fn wait_for_status(
        &self,
        image: impl IdRef,
        status: &str,
        failures: &[&str],
        opts: &WaitOptions,
    ) -> Result<Image> {
        self.images_api().wait_for_status(image.id_ref(), status, failures, opts).await
    }

    /// `wait_for_delete(image, interval, wait)`.
    ///
    /// # Errors
    /// [`Error::Timeout`] when it still exists.
    pub async fn wait_for_delete(&self, image: impl IdRef, opts: &WaitOptions) -> Result<()> {
        self.images_api().wait_for_delete(image.id_ref(), opts).await
    }

    // ---- stores, import info, usage, locations, image tasks ---------------------------------

    /// `stores(details=False)`: the storage backends (multi-store clouds; API 2.8, details 2.15).
    ///
    /// # Errors
    /// Server errors (details are admin-only by default).
    pub async fn stores(&self, details: bool) -> Result<Vec<Store>> {
        let path = if details {
            self.require("stores(details=True)", 2, 15).await?;
            "/v2/info/stores/detail"
        } else {
            "/v2/info/stores"
        };
        let v = self.send(PreparedRequest::new(Method::GET, path)).await?;
        decode_field(v, "stores", path)
    }

    /// `get_import_info()`: the advertised import methods (API 2.6).
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_import_info(&self) -> Result<ImportInfo> {
        self.require("get_import_info", 2, 6).await?;
        let v = self.send(PreparedRequest::new(Method::GET, "/v2/info/import")).await?;
        serde_json::from_value(v).map_err(|e| decode_err("/v2/info/import", e))
    }

    /// Quota usage (`GET /v2/info/usage`, API 2.13); empty without unified limits.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_usage(&self) -> Result<Usage> {
        self.require("get_usage", 2, 13).await?;
        let v = self.send(PreparedRequest::new(Method::GET, "/v2/info/usage")).await?;
        serde_json::from_value(v).map_err(|e| decode_err("/v2/info/usage", e))
    }

    /// The tasks of one image (`GET /v2/images/{id}/tasks`, API 2.12).
    ///
    /// # Errors
    /// Server errors.
    pub async fn image_tasks(&self, image: impl IdRef) -> Result<Vec<Task>> {
        self.require("image_tasks", 2, 12).await?;
        let path = format!("/v2/images/{}/tasks", encode_segment(image.id_ref()));
        let v = self.send(PreparedRequest::new(Method::GET, &path)).await?;
        decode_field(v, "tasks", &path)
    }

    /// Adds a location to a queued image (`POST /v2/images/{id}/locations`, API 2.17).
    ///
    /// # Errors
    /// Server errors (403 unless an http store is enabled; 409 unless the image is queued).
    pub async fn add_image_location(
        &self,
        image: impl IdRef,
        url: &str,
        validation_data: Option<Value>,
    ) -> Result<()> {
        self.require("add_image_location", 2, 17).await?;
        let mut body = json!({ "url": url });
        if let Some(v) = validation_data {
            body["validation_data"] = v;
        }
        let req = PreparedRequest::new(
            Method::POST,
            format!("/v2/images/{}/locations", encode_segment(image.id_ref())),
        )
        .with_json(body);
        self.send(req).await.map(drop)
    }

    /// Lists an image's locations (`GET /v2/images/{id}/locations`, API 2.17; admin/service).
    ///
    /// # Errors
    /// Server errors.
    pub async fn image_locations(&self, image: impl IdRef) -> Result<Vec<crate::types::Location>> {
        self.require("image_locations", 2, 17).await?;
        let path = format!("/v2/images/{}/locations", encode_segment(image.id_ref()));
        let v = self.send(PreparedRequest::new(Method::GET, &path)).await?;
        serde_json::from_value(v).map_err(|e| decode_err(&path, e))
    }

    // ---- members --------------------------------------------------------------------------

    fn members_api(&self, image: &str) -> Api<Member> {
        Api::new(self.session.clone(), image.to_string())
    }

    /// `add_member(image, member=project_id)`: shares an image with a project.
    ///
    /// # Errors
    /// Server errors (e.g. 403 for a public image, 409 when already a member).
    pub async fn add_member(&self, image: impl IdRef, member_id: &str) -> Result<Member> {
        self.members_api(image.id_ref()).create(&json!({ "member": member_id })).await
    }

    /// `remove_member(member, image, ignore_missing)`.
    ///
    /// # Errors
    /// [`Error::NotFound`] unless `ignore_missing`.
    pub async fn remove_member(
        &self,
        member: impl IdRef,
        image: impl IdRef,
        ignore_missing: bool,
    ) -> Result<bool> {
        let api = self.members_api(image.id_ref());
        if ignore_missing {
            api.delete_opt(member.id_ref()).await
        } else {
            api.delete(member.id_ref()).await.map(|()| true)
        }
    }

    /// `get_member(member, image)`.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn get_member(&self, member: impl IdRef, image: impl IdRef) -> Result<Member> {
        self.members_api(image.id_ref()).get(member.id_ref()).await
    }

    /// `find_member(name_or_id, image, ignore_missing)`: members have no names, so by id.
    ///
    /// # Errors
    /// [`Error::ResourceNotFound`] unless `ignore_missing`.
    pub async fn find_member(
        &self,
        member_id: &str,
        image: impl IdRef,
        ignore_missing: bool,
    ) -> Result<Option<Member>> {
        let found = self.members_api(image.id_ref()).get_opt(member_id).await?;
        match found {
            None if !ignore_missing => {
                Err(Error::ResourceNotFound { kind: "member", name: member_id.into() })
            }
            other => Ok(other),
        }
    }

    /// `members(image, **query)`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn members(&self, image: impl IdRef) -> Result<Vec<Member>> {
        self.members_api(image.id_ref()).list_all(&Query::new()).await
    }

    /// `update_member(member, image, status=...)`: the member project accepts or rejects.
    ///
    /// # Errors
    /// Server errors (only the member project may change its status).
    pub async fn update_member(
        &self,
        member: impl IdRef,
        image: impl IdRef,
        status: MemberStatus,
    ) -> Result<Member> {
        let req = PreparedRequest::new(
            Method::PUT,
            format!(
                "/v2/images/{}/members/{}",
                encode_segment(image.id_ref()),
                encode_segment(member.id_ref())
            ),
        )
        .with_json(json!({ "status": status.as_str() }));
        decode(self.send(req).await?)
    }

    // ---- tasks ----------------------------------------------------------------------------

    fn tasks_api(&self) -> Api<Task> {
        Api::new(self.session.clone(), ())
    }

    /// `tasks(**query)` (filters `type`, `status`, `sort_key`, `sort_dir`; admin by default).
    pub fn tasks(
        &self,
        query: &Query,
    ) -> impl Stream<Item = Result<Task>> + Send + 'static + use<> {
        self.tasks_api().list(query, &ListOptions::default())
    }

    /// `get_task(task)`.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn get_task(&self, task: impl IdRef) -> Result<Task> {
        self.tasks_api().get(task.id_ref()).await
    }

    /// `create_task(type=..., input=...)` (the legacy tasks API; `import` is the one type).
    ///
    /// # Errors
    /// Server errors.
    pub async fn create_task(&self, task_type: &str, input: Value) -> Result<Task> {
        self.tasks_api().create(&json!({ "type": task_type, "input": input })).await
    }

    /// `wait_for_task(task, status='success', failures=['failure'], interval=2, wait=120)`.
    ///
    /// # Errors
    /// [`Error::Failed`] with the task's message, [`Error::Timeout`].
    pub async fn wait_for_task(
        &self,
        task: impl IdRef,
        status: TaskStatus,
        failures: &[TaskStatus],
        interval: Duration,
        wait: Duration,
    ) -> Result<Task> {
        let failures: Vec<&str> = failures.iter().map(TaskStatus::as_str).collect();
        self.tasks_api()
            .wait_for_status(
                task.id_ref(),
                status.as_str(),
                &failures,
                &WaitOptions::fixed(interval, wait),
            )
            .await
    }

    // ---- schemas --------------------------------------------------------------------------

    /// Any schema under `/v2/schemas/` (e.g. `image`, `metadefs/namespace`).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown schema.
    pub async fn get_schema(&self, name: &str) -> Result<Schema> {
        let path = format!("/v2/schemas/{name}");
        let v = self.send(PreparedRequest::new(Method::GET, &path)).await?;
        serde_json::from_value(v).map_err(|e| decode_err(&path, e))
    }

    // ---- cache (API 2.14) -----------------------------------------------------------------

    /// `get_image_cache()`: cached and queued images.
    ///
    /// # Errors
    /// [`Error::Unsupported`] below API 2.14; 403 for non-admins.
    pub async fn get_image_cache(&self) -> Result<ImageCache> {
        self.require("get_image_cache", 2, 14).await?;
        let v = self.send(PreparedRequest::new(Method::GET, "/v2/cache")).await?;
        serde_json::from_value(v).map_err(|e| decode_err("/v2/cache", e))
    }

    /// `queue_image(image_id)`: queue an image for caching.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown image; [`Error::Unsupported`] below 2.14.
    pub async fn queue_image(&self, image: impl IdRef) -> Result<()> {
        self.require("queue_image", 2, 14).await?;
        self.send(PreparedRequest::new(
            Method::PUT,
            format!("/v2/cache/{}", encode_segment(image.id_ref())),
        ))
        .await
        .map(drop)
    }

    /// `cache_delete_image(image, ignore_missing)`: drop one image from the cache (an id or an
    /// `&Image`; the id goes into the URL).
    ///
    /// # Errors
    /// [`Error::NotFound`] unless `ignore_missing`; [`Error::Unsupported`] below 2.14.
    pub async fn cache_delete_image(
        &self,
        image: impl IdRef,
        ignore_missing: bool,
    ) -> Result<bool> {
        self.require("cache_delete_image", 2, 14).await?;
        match self
            .send(PreparedRequest::new(
                Method::DELETE,
                format!("/v2/cache/{}", encode_segment(image.id_ref())),
            ))
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if ignore_missing && e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `clear_cache(target)`: empty the cache, the queue, or both.
    ///
    /// # Errors
    /// [`Error::Unsupported`] below 2.14; 403 for non-admins.
    pub async fn clear_cache(&self, target: CacheTarget) -> Result<()> {
        self.require("clear_cache", 2, 14).await?;
        let mut req = PreparedRequest::new(Method::DELETE, "/v2/cache");
        match target {
            CacheTarget::Cache => req = req.with_header("x-image-cache-clear-target", "cache"),
            CacheTarget::Queue => req = req.with_header("x-image-cache-clear-target", "queue"),
            CacheTarget::Both => {}
        }
        self.send(req).await.map(drop)
    }

    // ---- cached server facts --------------------------------------------------------------

    pub(crate) async fn cached_image_schema(&self) -> Result<&Schema> {
        self.cache.image_schema.get_or_try_init(|| self.get_schema("image")).await
    }

    pub(crate) async fn cached_import_info(&self) -> Result<&ImportInfo> {
        self.cache.import_info.get_or_try_init(|| self.get_import_info()).await
    }

    pub(crate) async fn cached_stores(&self) -> Result<&Vec<Store>> {
        self.cache.stores.get_or_try_init(|| self.stores(false)).await
    }
}

fn check_tag(tag: &str) -> Result<()> {
    if tag.is_empty() || tag.chars().count() > 255 {
        return Err(Error::InvalidArgument(format!(
            "tag {tag:?} must be 1 to 255 characters long"
        )));
    }
    Ok(())
}

pub(crate) fn decode_err(path: &str, e: serde_json::Error) -> Error {
    Error::Decode { url: path.into(), message: e.to_string() }
}

pub(crate) fn decode_field<T: serde::de::DeserializeOwned>(
    mut v: Value,
    key: &str,
    path: &str,
) -> Result<T> {
    let inner = v.get_mut(key).map(Value::take).unwrap_or(Value::Null);
    serde_json::from_value(inner).map_err(|e| decode_err(path, e))
}

/// The schema calls: one per schema Glance serves.
impl ImageProxy {
    /// `get_images_schema()`: `GET /v2/schemas/images`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_images_schema(&self) -> Result<Schema> {
        self.get_schema("images").await
    }

    /// `get_image_schema()`: `GET /v2/schemas/image`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_image_schema(&self) -> Result<Schema> {
        self.get_schema("image").await
    }

    /// `get_members_schema()`: `GET /v2/schemas/members`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_members_schema(&self) -> Result<Schema> {
        self.get_schema("members").await
    }

    /// `get_member_schema()`: `GET /v2/schemas/member`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_member_schema(&self) -> Result<Schema> {
        self.get_schema("member").await
    }

    /// `get_tasks_schema()`: `GET /v2/schemas/tasks`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_tasks_schema(&self) -> Result<Schema> {
        self.get_schema("tasks").await
    }

    /// `get_task_schema()`: `GET /v2/schemas/task`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_task_schema(&self) -> Result<Schema> {
        self.get_schema("task").await
    }

    /// `get_metadef_namespace_schema()`: `GET /v2/schemas/metadefs/namespace`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_metadef_namespace_schema(&self) -> Result<Schema> {
        self.get_schema("metadefs/namespace").await
    }

    /// `get_metadef_namespaces_schema()`: `GET /v2/schemas/metadefs/namespaces`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_metadef_namespaces_schema(&self) -> Result<Schema> {
        self.get_schema("metadefs/namespaces").await
    }

    /// `get_metadef_resource_type_schema()`: `GET /v2/schemas/metadefs/resource_type`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_metadef_resource_type_schema(&self) -> Result<Schema> {
        self.get_schema("metadefs/resource_type").await
    }

    /// `get_metadef_resource_types_schema()`: `GET /v2/schemas/metadefs/resource_types`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_metadef_resource_types_schema(&self) -> Result<Schema> {
        self.get_schema("metadefs/resource_types").await
    }

    /// `get_metadef_object_schema()`: `GET /v2/schemas/metadefs/object`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_metadef_object_schema(&self) -> Result<Schema> {
        self.get_schema("metadefs/object").await
    }

    /// `get_metadef_objects_schema()`: `GET /v2/schemas/metadefs/objects`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_metadef_objects_schema(&self) -> Result<Schema> {
        self.get_schema("metadefs/objects").await
    }

    /// `get_metadef_property_schema()`: `GET /v2/schemas/metadefs/property`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_metadef_property_schema(&self) -> Result<Schema> {
        self.get_schema("metadefs/property").await
    }

    /// `get_metadef_properties_schema()`: `GET /v2/schemas/metadefs/properties`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_metadef_properties_schema(&self) -> Result<Schema> {
        self.get_schema("metadefs/properties").await
    }

    /// `get_metadef_tag_schema()`: `GET /v2/schemas/metadefs/tag`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_metadef_tag_schema(&self) -> Result<Schema> {
        self.get_schema("metadefs/tag").await
    }

    /// `get_metadef_tags_schema()`: `GET /v2/schemas/metadefs/tags`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn get_metadef_tags_schema(&self) -> Result<Schema> {
        self.get_schema("metadefs/tags").await
    }
}
