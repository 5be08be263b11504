//! Tasks: the legacy tasks API and the tasks of an image's imports.

use http::Method;
use openstack_resource::{PreparedRequest, Query, encode_segment};
use serde_json::{Value, json};

use crate::call::{Built, Call, Items};
use crate::proxy::{IdRef, ImageProxy};
use crate::types::Task;

/// `GET /v2/images/{id}/tasks` (API 2.12).
pub(crate) fn image_tasks_request(image: &str) -> Built {
    Built::new(
        "image_tasks",
        PreparedRequest::new(Method::GET, format!("/v2/images/{}/tasks", encode_segment(image))),
    )
    .needs(12)
}

impl ImageProxy {
    /// `tasks(**query)` (filters `type`, `status`, `sort_key`, `sort_dir`; admin by
    /// default): a lazy stream.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use futures_util::TryStreamExt;
    /// use openstack_resource::Query;
    /// let failed: Vec<_> = image.tasks(&Query::new().param("status", "failure")).try_collect().await?;
    /// # let _ = failed; Ok(()) }
    /// ```
    pub fn tasks(&self, query: &Query) -> Items<Task> {
        self.list_all::<Task>((), query)
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
