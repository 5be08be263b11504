//! Waiting for an import to end: `wait_for_import` and what `import_image(..).wait(..)`
//! returns once the image's import task ended and every store asked for holds the data or
//! failed.

use std::collections::HashSet;
use std::future::IntoFuture;

use futures_util::TryStreamExt;
use openstack_auth::{Error, Result};
use openstack_resource::{Polled, WaitOptions, poll_until};

use crate::call::Call;
use crate::id_ref::IdRef;
use crate::import::ImportOutcome;
use crate::proxy::ImageProxy;
use crate::tasks::{Task, latest_import_task, with_failed_stores};
use crate::types::{Image, ImageStatus, TaskStatus};

impl ImageProxy {
    /// Waits until an import finished: the image's import task ended (API 2.12) and no store
    /// is still being imported to. Reports which stores succeeded and failed.
    ///
    /// Right after Glance accepted an import, its task may not be listed yet while an earlier
    /// import's finished task is (seen for over a second with copy-image): to wait for the
    /// import just started, use [`crate::ImportImage::wait`], which ignores the tasks that existed
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
            expected_stores: Vec::new(),
        }
    }

    /// The ids of the image's import tasks now (none before API 2.12, which lists them).
    pub(crate) async fn import_task_ids(&self, image: &str) -> Result<HashSet<String>> {
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
    pub(crate) earlier_tasks: HashSet<String>,
    /// The stores the import was asked for by name: each must hold the data or be listed
    /// as failed before the import counts as ended.
    pub(crate) expected_stores: Vec<String>,
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
        let WaitForImport {
            proxy,
            image,
            options,
            all_must_succeed,
            earlier_tasks,
            expected_stores,
        } = self;
        let has_tasks = proxy.require("image_tasks", 12).await.is_ok();
        let (proxy, id, earlier, expected) =
            (&proxy, image.as_str(), &earlier_tasks, expected_stores.as_slice());
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
            let ended = Ended { has_tasks, all_must_succeed, expected };
            import_state(id, img, task, &ended)
        })
        .await
    }
}

/// What one poll of an import says: done (with the outcome), failed, or still going (with
/// the state the timeout error names).
/// What an import's end is judged by, besides the image and its task.
struct Ended<'a> {
    /// Whether the server lists an image's tasks (API 2.12): the task's end is then awaited.
    has_tasks: bool,
    all_must_succeed: bool,
    /// The stores asked for by name.
    expected: &'a [String],
}

fn import_state(
    id: &str,
    img: Image,
    task: Option<Task>,
    ended: &Ended<'_>,
) -> Result<Polled<ImportOutcome>> {
    let Ended { has_tasks, all_must_succeed, expected } = *ended;
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
    // A store asked for that neither holds the data nor is listed as failed: not ended yet
    // (Glance 32 was seen to end the task and empty os_glance_importing_to_stores a moment
    // before the copied location was on the image).
    let pending: Vec<&str> = expected
        .iter()
        .filter(|s| !img.stores.contains(s) && !img.os_glance_failed_import.contains(s))
        .map(String::as_str)
        .collect();
    if task_done
        && !importing
        && pending.is_empty()
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
        "{}, importing to [{}], task {}, not yet in [{}]",
        img.status,
        img.os_glance_importing_to_stores.join(","),
        task.map_or("none".into(), |t| t.status.to_string()),
        pending.join(",")
    )))
}

impl IntoFuture for WaitForImport {
    type Output = Result<ImportOutcome>;
    type IntoFuture = Call<ImportOutcome>;
    fn into_future(self) -> Call<ImportOutcome> {
        Call::new(self.run())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_import_ends_only_when_every_store_asked_for_holds_the_data_or_failed() {
        let image = |stores: &str, failed: &str| -> Image {
            serde_json::from_value(json!({
                "id": "i", "status": "active", "stores": stores,
                "os_glance_failed_import": failed, "os_glance_importing_to_stores": ""
            }))
            .unwrap()
        };
        let task: Task = serde_json::from_value(json!({
            "id": "t", "type": "api_image_import", "status": "success"
        }))
        .unwrap();
        let expected = ["slow".to_string()];
        let ended = Ended { has_tasks: true, all_must_succeed: false, expected: &expected };
        let state = |img| import_state("i", img, Some(task.clone()), &ended).unwrap();
        // The task ended, nothing is importing, but the copy is not on the image yet.
        assert!(matches!(state(image("fast", "")), Polled::Pending(m) if m.contains("[slow]")));
        assert!(matches!(state(image("fast,slow", "")), Polled::Done(o) if o.succeeded.len() == 2));
        assert!(matches!(state(image("fast", "slow")), Polled::Done(o) if o.failed == ["slow"]));
    }
}
