//! Waiters: typed statuses, one [`WaitOptions`] for all of them.

use std::future::IntoFuture;

use openstack_resource::{Api, Get, HasStatus, WaitOptions};

use crate::call::Call;
use crate::id_ref::IdRef;
use crate::proxy::ImageProxy;
use crate::tasks::Task;
use crate::types::{Image, ImageStatus, TaskStatus};

/// `wait_for_status(image, status, ..)` being configured; `.await` it.
#[must_use = "nothing is waited for until it is awaited"]
pub struct WaitForStatus<R: Get, S> {
    api: Api<R>,
    id: String,
    status: S,
    failures: Vec<S>,
    options: WaitOptions,
}

impl<R: Get, S: std::fmt::Debug> std::fmt::Debug for WaitForStatus<R, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitForStatus")
            .field("kind", &R::KIND)
            .field("id", &self.id)
            .field("status", &self.status)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<R: Get> std::fmt::Debug for WaitForDelete<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitForDelete")
            .field("kind", &R::KIND)
            .field("id", &self.id)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<R: Get, S> WaitForStatus<R, S> {
    /// Statuses that end the wait with [`openstack_auth::Error::Failed`] (default: `killed`
    /// for images, `failure` for tasks).
    pub fn failures(mut self, failures: impl IntoIterator<Item = S>) -> Self {
        self.failures = failures.into_iter().collect();
        self
    }

    /// How to poll (interval, backoff, timeout; default [`WaitOptions::default`]):
    /// openstacksdk's `interval` and `wait`, under the name every builder uses.
    pub fn wait(mut self, options: WaitOptions) -> Self {
        self.options = options;
        self
    }
}

/// Statuses that have a wire form.
pub trait WireStatus {
    /// The status as the server sends it.
    fn wire(&self) -> &str;
}
impl WireStatus for ImageStatus {
    fn wire(&self) -> &str {
        self.as_str()
    }
}
impl WireStatus for TaskStatus {
    fn wire(&self) -> &str {
        self.as_str()
    }
}

impl<R: Get + HasStatus, S: WireStatus> IntoFuture for WaitForStatus<R, S> {
    type Output = openstack_auth::Result<R>;
    type IntoFuture = Call<R>;
    fn into_future(self) -> Call<R> {
        let status = self.status.wire().to_string();
        let failures: Vec<String> = self.failures.iter().map(|f| f.wire().to_string()).collect();
        Call::new(async move {
            let failures: Vec<&str> = failures.iter().map(String::as_str).collect();
            self.api.wait_for_status(&self.id, &status, &failures, &self.options).await
        })
    }
}

/// `wait_for_delete(res, ..)` being configured; `.await` it.
#[must_use = "nothing is waited for until it is awaited"]
pub struct WaitForDelete<R: Get> {
    api: Api<R>,
    id: String,
    options: WaitOptions,
}

impl<R: Get> WaitForDelete<R> {
    pub(crate) fn new(api: Api<R>, id: &str) -> Self {
        WaitForDelete { api, id: id.to_string(), options: WaitOptions::default() }
    }

    /// How to poll (default [`WaitOptions::default`]).
    pub fn wait(mut self, options: WaitOptions) -> Self {
        self.options = options;
        self
    }
}

impl<R: Get> IntoFuture for WaitForDelete<R> {
    type Output = openstack_auth::Result<()>;
    type IntoFuture = Call<()>;
    fn into_future(self) -> Call<()> {
        Call::new(async move { self.api.wait_for_delete(&self.id, &self.options).await })
    }
}

impl ImageProxy {
    /// `wait_for_status(image, status, failures, interval, wait)`: polls until the image
    /// reaches `status`; a `killed` image (or [`WaitForStatus::failures`]) fails early.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use std::time::Duration;
    /// use openstack_image::{ImageStatus, WaitOptions};
    /// let img = image
    ///     .wait_for_status("5cfaff86-…", ImageStatus::Active)
    ///     .wait(WaitOptions::default().timeout(Duration::from_secs(600)))
    ///     .await?;
    /// # let _ = img; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::Timeout`] (with the last status),
    /// [`openstack_auth::Error::Failed`].
    pub fn wait_for_status(
        &self,
        image: impl IdRef,
        status: ImageStatus,
    ) -> WaitForStatus<Image, ImageStatus> {
        WaitForStatus {
            api: self.api(()),
            id: image.id_ref().to_string(),
            status,
            failures: vec![ImageStatus::Killed],
            options: WaitOptions::default(),
        }
    }

    /// `wait_for_delete(image, interval, wait)`: polls until the image is gone.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.wait_for_delete("5cfaff86-…").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::Timeout`] when it still exists.
    pub fn wait_for_delete(&self, image: impl IdRef) -> WaitForDelete<Image> {
        WaitForDelete::new(self.api(()), image.id_ref())
    }

    /// `wait_for_task(task, status='success', failures=['failure'], interval, wait)`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use openstack_image::TaskStatus;
    /// let task = image.wait_for_task("0f2c…").await?; // success, or Error::Failed
    /// let task = image.wait_for_task(&task).status(TaskStatus::Processing).await?;
    /// # let _ = task; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::Failed`] with the task's message,
    /// [`openstack_auth::Error::Timeout`].
    pub fn wait_for_task(&self, task: impl IdRef) -> WaitForStatus<Task, TaskStatus> {
        WaitForStatus {
            api: self.api(()),
            id: task.id_ref().to_string(),
            status: TaskStatus::Success,
            failures: vec![TaskStatus::Failure],
            options: WaitOptions::default(),
        }
    }
}

impl WaitForStatus<Task, TaskStatus> {
    /// The status to wait for (default `success`).
    pub fn status(mut self, status: TaskStatus) -> Self {
        self.status = status;
        self
    }
}
