//! Tasks: the legacy tasks API and the tasks of an image's imports.

use http::Method;
use openstack_resource::{PreparedRequest, encode_segment};
use serde_json::{Value, json};

use crate::call::{Built, Call, Items};
use crate::id_ref::IdRef;
use crate::list_query::TaskQuery;
use crate::proxy::ImageProxy;
use crate::types::{Image, TaskStatus};
use openstack_resource::{Create, Get, HasStatus, List, Resource};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An asynchronous Glance task (legacy `import` tasks and the interoperable-import tasks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Task {
    /// Id.
    pub id: String,
    /// Type (`import`, `api_image_import`, `location_import`).
    #[serde(rename = "type")]
    pub task_type: String,
    /// Status.
    pub status: TaskStatus,
    /// Input.
    #[serde(default)]
    pub input: Option<Value>,
    /// Result.
    #[serde(default)]
    pub result: Option<Value>,
    /// Owner project.
    #[serde(default)]
    pub owner: Option<String>,
    /// The server's message (set on failure).
    #[serde(default)]
    pub message: String,
    /// When it expires.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Creation time.
    #[serde(default)]
    pub created_at: String,
    /// Last update.
    #[serde(default)]
    pub updated_at: String,
    /// The image (for image tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// The request that started it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Resource for Task {
    const SERVICE_TYPE: &'static str = "image";
    const KIND: &'static str = "task";
    const RESOURCE_KEY: Option<&'static str> = None;
    const LIST_KEY: &'static str = "tasks";
    const NAME_FILTER: Option<&'static str> = None;
    const QUERY_PARAMETERS: &'static [&'static str] = &["type", "status", "sort_key", "sort_dir"];
    type Parent = ();
    fn base_path(_: &()) -> String {
        "/v2/tasks".into()
    }
    fn id(&self) -> &str {
        &self.id
    }
}
impl Get for Task {}
impl List for Task {}
impl Create for Task {
    type Create = Value;
}
impl HasStatus for Task {
    fn status(&self) -> &str {
        self.status.as_str()
    }
    fn failure_message(&self) -> Option<String> {
        (!self.message.is_empty()).then(|| self.message.clone())
    }
}
crate::id_ref::id_ref!(Task => id);

/// `GET /v2/images/{id}/tasks` (API 2.12).
pub(crate) fn image_tasks_request(image: &str) -> Built {
    Built::new(
        "image_tasks",
        PreparedRequest::new(Method::GET, format!("/v2/images/{}/tasks", encode_segment(image))),
    )
    .needs(12)
}

impl ImageProxy {
    /// `tasks(**query)` (type, status, sorting, paging; admin by default): a lazy stream.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use futures_util::TryStreamExt;
    /// use openstack_image::{TaskQuery, TaskStatus};
    /// let failed: Vec<_> =
    ///     image.tasks(&TaskQuery::new().status(TaskStatus::Failure)).try_collect().await?;
    /// # let _ = failed; Ok(()) }
    /// ```
    pub fn tasks(&self, query: &TaskQuery) -> Items<Task> {
        self.list_all::<Task>((), &query.to_query())
    }

    /// `get_task(task)`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let task = image.get_task("0f2c…").await?;
    /// # let _ = task; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::NotFound`].
    pub fn get_task(&self, task: impl IdRef) -> Call<Task> {
        self.get_one::<Task>((), task)
    }

    /// [`ImageProxy::get_task`], `None` when there is no such task.
    ///
    /// # Errors
    /// As [`ImageProxy::get_task`], but for not-found.
    pub fn get_task_opt(&self, task: impl IdRef) -> Call<Option<Task>> {
        self.get_one_opt::<Task>((), task)
    }

    /// `create_task(type=..., input=...)` (the legacy tasks API; `import` is the one type).
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let input = serde_json::json!({"import_from": "http://127.0.0.1:8089/cirros.img",
    ///     "import_from_format": "raw", "image_properties": {"name": "x"}});
    /// let task = image.create_task("import", input).await?;
    /// # let _ = task; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn create_task(&self, task_type: &str, input: Value) -> Call<Task> {
        self.create_one::<Task>((), json!({ "type": task_type, "input": input }))
    }

    /// The tasks of one image (`GET /v2/images/{id}/tasks`, API 2.12), as a stream.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use futures_util::TryStreamExt;
    /// let tasks: Vec<_> = image.image_tasks("5cfaff86-…").try_collect().await?;
    /// # let _ = tasks; Ok(()) }
    /// ```
    pub fn image_tasks(&self, image: impl IdRef) -> Items<Task> {
        self.one_page(Ok(image_tasks_request(image.id_ref())), "tasks")
    }
}

/// Glance's task message, with the stores the image says failed (Glance's own message is
/// often only "Task failed due to Internal Error").
pub(crate) fn with_failed_stores(message: &str, img: &Image) -> String {
    match img.os_glance_failed_import.as_slice() {
        [] => message.to_string(),
        failed => format!("{message} (failed stores: {})", failed.join(", ")),
    }
}

/// The newest import task of an image's tasks.
pub(crate) fn latest_import_task(tasks: Vec<Task>) -> Option<Task> {
    tasks
        .into_iter()
        .filter(|t| t.task_type.contains("import"))
        .max_by(|a, b| a.created_at.cmp(&b.created_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tasks_is_gated_on_2_12() {
        let b = image_tasks_request("a/b");
        assert_eq!(b.http.path, "/v2/images/a%2Fb/tasks");
        assert_eq!(b.needs, Some(openstack_auth::ApiVersion::new(2, 12)));
    }
}
