//! Waiters: one [`WaitOptions`] for every waiter, polling with backoff, a bound on the
//! whole wait, and tolerance for transient errors.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openstack_auth::{Error, Result};

use crate::api::Api;
use crate::resource::{Get, HasStatus};

/// A waiter's progress callback, called with the status after each poll.
pub type PollCallback = Arc<dyn Fn(&str) + Send + Sync>;

/// How a waiter polls: one set of options for every waiter of the SDK.
///
/// ```
/// use std::time::Duration;
/// use openstack_resource::WaitOptions;
/// let opts = WaitOptions::default().interval(Duration::from_secs(1)).timeout(Duration::from_secs(600));
/// assert_eq!(opts.timeout, Duration::from_secs(600));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct WaitOptions {
    /// First interval between polls (default 2 s).
    pub interval: Duration,
    /// Growth factor of the interval (default 1.5).
    pub backoff: f64,
    /// Longest interval (default 15 s).
    pub max_interval: Duration,
    /// Give up after this long (default 120 s); never unbounded.
    pub timeout: Duration,
    /// Transient errors (transport, 5xx) tolerated while polling (default 3).
    pub transient_errors: u32,
    /// Called after each poll with the status seen (a delete waiter says `exists` for each
    /// poll that still found the resource).
    pub on_poll: Option<PollCallback>,
}

impl std::fmt::Debug for WaitOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitOptions")
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            interval: Duration::from_secs(2),
            backoff: 1.5,
            max_interval: Duration::from_secs(15),
            timeout: Duration::from_secs(120),
            transient_errors: 3,
            on_poll: None,
        }
    }
}

impl WaitOptions {
    /// Polls every `interval` (no growth) for at most `timeout`: openstacksdk's
    /// `interval` / `wait` parameters.
    pub fn fixed(interval: Duration, timeout: Duration) -> Self {
        WaitOptions::default()
            .interval(interval)
            .backoff(1.0)
            .max_interval(interval)
            .timeout(timeout)
    }

    /// The first interval between polls.
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self.max_interval = self.max_interval.max(interval);
        self
    }

    /// How much the interval grows after each poll (1.0: fixed).
    #[must_use]
    pub fn backoff(mut self, factor: f64) -> Self {
        self.backoff = factor.max(1.0);
        self
    }

    /// The longest interval.
    #[must_use]
    pub fn max_interval(mut self, max: Duration) -> Self {
        self.max_interval = max;
        self
    }

    /// How long to wait in all.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many transient errors (transport, 5xx) polling tolerates.
    #[must_use]
    pub fn transient_errors(mut self, n: u32) -> Self {
        self.transient_errors = n;
        self
    }

    /// Sets the progress callback, called with the status after each poll (`exists` from a
    /// delete waiter while the resource is still there).
    #[must_use]
    pub fn on_poll(mut self, f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_poll = Some(Arc::new(f));
        self
    }
}

fn is_transient(e: &Error) -> bool {
    match e {
        Error::Transport { .. } | Error::Timeout { .. } | Error::ServiceUnavailable(_) => true,
        Error::Http(a) => a.status.is_server_error(),
        _ => false,
    }
}

/// `fut`'s output, or `None` when the wait that started at `started` reaches `timeout` first.
async fn within<T>(
    started: Instant,
    timeout: Duration,
    fut: impl std::future::Future<Output = T>,
) -> Option<T> {
    tokio::time::timeout(timeout.saturating_sub(started.elapsed()), fut).await.ok()
}

impl<R: Get> Api<R> {
    /// Polls until the resource reaches `status`; fails early on a `failures` status.
    ///
    /// # Errors
    /// [`Error::Timeout`] (with the last status seen), [`Error::Failed`] (with the server's
    /// message), or a non-transient error while polling.
    pub async fn wait_for_status(
        &self,
        id: &str,
        status: &str,
        failures: &[&str],
        opts: &WaitOptions,
    ) -> Result<R>
    where
        R: HasStatus,
    {
        let started = Instant::now();
        let mut interval = opts.interval;
        let mut transient_left = opts.transient_errors;
        let mut last = String::from("unknown");
        let timed_out = |last: &str| Error::Timeout {
            what: format!("{} {id} to become {status} (last status: {last})", R::KIND),
            waited: started.elapsed(),
        };
        loop {
            // The deadline covers the poll in flight too: a server that stops answering
            // cannot stretch the wait past its timeout.
            let Some(poll) = within(started, opts.timeout, self.get(id)).await else {
                return Err(timed_out(&last));
            };
            match poll {
                Ok(r) => {
                    let s = r.status().to_string();
                    if let Some(f) = &opts.on_poll {
                        f(&s);
                    }
                    if s.eq_ignore_ascii_case(status) {
                        return Ok(r);
                    }
                    if failures.iter().any(|f| f.eq_ignore_ascii_case(&s)) {
                        return Err(Error::Failed {
                            what: format!("{} {id}", R::KIND),
                            status: s,
                            message: r.failure_message().unwrap_or_default(),
                        });
                    }
                    last = s;
                }
                Err(e) if is_transient(&e) && transient_left > 0 => {
                    transient_left -= 1;
                    tracing::debug!(error = %e, "transient error while waiting; polling again");
                }
                Err(e) => return Err(e),
            }
            if started.elapsed() + interval > opts.timeout {
                return Err(timed_out(&last));
            }
            tokio::time::sleep(interval).await;
            interval = interval.mul_f64(opts.backoff.max(1.0)).min(opts.max_interval);
        }
    }

    /// Polls until a get answers 404.
    ///
    /// # Errors
    /// [`Error::Timeout`] when it still exists after the timeout.
    pub async fn wait_for_delete(&self, id: &str, opts: &WaitOptions) -> Result<()> {
        let started = Instant::now();
        let mut interval = opts.interval;
        let mut transient_left = opts.transient_errors;
        let timed_out = || Error::Timeout {
            what: format!("{} {id} to be deleted", R::KIND),
            waited: started.elapsed(),
        };
        loop {
            let Some(poll) = within(started, opts.timeout, self.get(id)).await else {
                return Err(timed_out());
            };
            match poll {
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) if is_transient(&e) && transient_left > 0 => transient_left -= 1,
                Err(e) => return Err(e),
                Ok(_) => {
                    if let Some(f) = &opts.on_poll {
                        f("exists");
                    }
                }
            }
            if started.elapsed() + interval > opts.timeout {
                return Err(timed_out());
            }
            tokio::time::sleep(interval).await;
            interval = interval.mul_f64(opts.backoff.max(1.0)).min(opts.max_interval);
        }
    }
}
