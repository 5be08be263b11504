//! What keeps `create_image` from leaving a record behind: the `POST` in a task of its own
//! with a client-chosen id, a guard that deletes the record when the caller goes away, and
//! a cleanup delete patient enough to outlast a server restart.

use std::time::Duration;

use tokio::time::Instant;

use openstack_auth::{Cleanup, Error, Result};

use crate::proxy::ImageProxy;
use crate::types::{Image, ImageCreate};

/// How long a cleanup delete keeps trying through transient failures (a Glance that is
/// restarting refuses connections for several seconds).
const CLEANUP_PATIENCE: Duration = Duration::from_secs(30);

/// Deletes a half-made image, retrying transient failures (connection refused or broken,
/// timeouts, 5xx) with backoff for up to [`CLEANUP_PATIENCE`]; says what became of it.
pub(crate) async fn delete_patiently(proxy: &ImageProxy, id: &str) -> Cleanup {
    let what = format!("image {id}");
    let started = Instant::now();
    let mut pause = Duration::from_millis(250);
    loop {
        match proxy.delete_image_opt(id).await {
            Ok(_) => return Cleanup::deleted(what),
            Err(e) if transient(&e) && started.elapsed() + pause < CLEANUP_PATIENCE => {
                tracing::debug!(image = %id, error = %e.report(), "cleanup delete failed; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(4));
            }
            Err(e) => {
                tracing::warn!(image = %id, error = %e.report(), "could not delete the half-created image");
                return Cleanup::delete_failed(what, e);
            }
        }
    }
}

fn transient(e: &Error) -> bool {
    matches!(e, Error::Transport { .. } | Error::IdleTimeout { .. } | Error::ServiceUnavailable(_))
        || e.status().is_some_and(|s| s.is_server_error())
}

/// A `POST /v2/images` running in a spawned task, so its outcome is known even when the
/// caller stops waiting: dropped before the answer, it deletes the record the answer names.
pub(crate) struct PendingCreate {
    proxy: ImageProxy,
    task: Option<tokio::task::JoinHandle<Result<Image>>>,
}

impl PendingCreate {
    pub(crate) fn start(proxy: &ImageProxy, body: ImageCreate) -> PendingCreate {
        let task = tokio::spawn(create_record(proxy.clone(), body));
        PendingCreate { proxy: proxy.clone(), task: Some(task) }
    }

    pub(crate) async fn finish(mut self) -> Result<Image> {
        let task = self.task.as_mut().expect("awaited once");
        let joined = task.await;
        self.task = None;
        joined.map_err(|e| Error::Incomplete {
            url: "/v2/images".into(),
            reason: format!("the create request's task ended abnormally: {e}"),
        })?
    }
}

impl Drop for PendingCreate {
    fn drop(&mut self) {
        let Some(task) = self.task.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let proxy = self.proxy.clone();
        runtime.spawn(async move {
            let Ok(Ok(created)) = task.await else { return };
            tracing::info!(image = %created.id, "create_image was dropped while creating the record: deleting it");
            delete_patiently(&proxy, &created.id).await;
        });
    }
}

/// `POST /v2/images` with a client-chosen id, so that exactly one record results even when
/// an answer is lost: a POST whose outcome is unknown (the connection broke after sending,
/// no answer in time) is sent again; Glance's 409 for the id then means the earlier one
/// made the record, which is fetched and used. When every attempt stays unknown, the id is
/// deleted (nothing is left if the record appears only after that, very late, is the one
/// case this cannot cover).
async fn create_record(proxy: ImageProxy, body: ImageCreate) -> Result<Image> {
    let api = proxy.api::<Image>(());
    let id = body.id.clone().expect("a client-chosen id");
    // Once an attempt's outcome is unknown the record may exist: any failure from then on
    // deletes it before returning.
    let give_up = |e: Error| async {
        let cleanup = delete_patiently(&proxy, &id).await;
        e.with_cleanup("create_image", cleanup)
    };
    let mut unknown = 0u32;
    loop {
        match api.create(&body).await {
            Ok(created) => return Ok(created),
            Err(Error::Conflict(_)) if unknown > 0 => {
                return match api.get(&id).await {
                    Ok(created) => Ok(created),
                    Err(e) => Err(give_up(e).await),
                };
            }
            Err(e) if outcome_unknown(&e) && unknown < POST_ATTEMPTS => {
                unknown += 1;
                tracing::debug!(image = %id, error = %e.report(), "the create request's outcome is unknown; sending it again");
                tokio::time::sleep(Duration::from_millis(250 * u64::from(unknown))).await;
            }
            Err(e) if unknown > 0 || outcome_unknown(&e) => return Err(give_up(e).await),
            Err(e) => return Err(e),
        }
    }
}

/// Further POSTs after one whose outcome is unknown.
const POST_ATTEMPTS: u32 = 3;

/// The request may or may not have reached Glance: its answer was lost.
fn outcome_unknown(e: &Error) -> bool {
    matches!(e, Error::Transport { .. } | Error::IdleTimeout { .. })
}

/// Deletes a half-made image when dropped armed: the `create_image` future was dropped (a
/// `timeout`, a `select!`) after the record existed. The delete runs in a task spawned on
/// the current runtime, best effort, and is logged when it fails.
pub(crate) struct RecordGuard {
    proxy: ImageProxy,
    id: Option<String>,
}

impl RecordGuard {
    /// Armed for the record `id`.
    pub(crate) fn new(proxy: &ImageProxy, id: &str) -> RecordGuard {
        RecordGuard { proxy: proxy.clone(), id: Some(id.to_string()) }
    }

    pub(crate) fn disarm(&mut self) {
        self.id = None;
    }
}

impl Drop for RecordGuard {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(image = %id, "create_image dropped outside a runtime: the half-created image is left");
            return;
        };
        let proxy = self.proxy.clone();
        runtime.spawn(async move {
            tracing::info!(image = %id, "create_image was dropped: deleting the half-created image");
            delete_patiently(&proxy, &id).await;
        });
    }
}
