//! Waiters: one [`WaitOptions`] for every waiter, polling with backoff, a bound on the
//! whole wait, and tolerance for transient errors.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

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
    /// First interval between polls (default 1 s).
    pub interval: Duration,
    /// Growth factor of the interval (default 1.5).
    pub backoff: f64,
    /// Longest interval (default 15 s).
    pub max_interval: Duration,
    /// Give up after this long (default one hour: Glance's slowest waits, an import copying
    /// a large image into several stores, take many minutes); never unbounded. A wait that
    /// should be short (a delete, a small upload) can say so.
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
            interval: Duration::from_secs(1),
            backoff: 1.5,
            max_interval: Duration::from_secs(15),
            timeout: Duration::from_secs(3600),
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
        Error::Transport { .. } | Error::IdleTimeout { .. } | Error::ServiceUnavailable(_) => true,
        Error::Http(a) => a.status.is_server_error(),
        _ => false,
    }
}

/// What one poll of [`poll_until`] found.
#[derive(Debug)]
pub enum Polled<T> {
    /// The wait is over, with this result.
    Done(T),
    /// Not yet; the state seen (given to `on_poll`, and named if the wait times out).
    Pending(String),
}

/// The one polling loop of every waiter: calls `poll` until it answers [`Polled::Done`] or
/// fails, sleeping between polls with the options' backoff; reports each pending state to
/// `on_poll`; tolerates `transient_errors` transport errors and 5xx; and bounds the whole
/// wait, the poll in flight included, by the timeout. `what` names what is waited for in
/// the timeout error (`image X to become active`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> openstack_auth::Result<()> {
/// use std::time::Duration;
/// use openstack_resource::{Polled, WaitOptions, poll_until};
/// let mut n = 0;
/// let opts = WaitOptions::default().interval(Duration::from_millis(1));
/// let got = poll_until(&opts, "the third poll", || {
///     n += 1;
///     let step = if n < 3 { Polled::Pending(format!("poll {n}")) } else { Polled::Done(n) };
///     async move { Ok(step) }
/// })
/// .await?;
/// assert_eq!(got, 3);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::Timeout`] naming `what` and the last state; the first error `poll` returns that
/// is not transient (or once the transient budget is spent).
pub async fn poll_until<T, F, Fut>(
    opts: &WaitOptions,
    what: impl std::fmt::Display,
    mut poll: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Polled<T>>>,
{
    let started = Instant::now();
    let mut interval = opts.interval;
    let mut transient_left = opts.transient_errors;
    let mut last: Option<String> = None;
    let timed_out = |last: &Option<String>, note: &str| Error::Timeout {
        what: match last {
            Some(l) => format!("{what} (last status: {l}{note})"),
            None => format!("{what} (last status: unknown{note})"),
        },
        waited: started.elapsed(),
    };
    loop {
        // The deadline covers the poll in flight too: a server that stops answering cannot
        // stretch the wait past its timeout.
        let left = opts.timeout.saturating_sub(started.elapsed());
        let Ok(polled) = tokio::time::timeout(left, poll()).await else {
            return Err(timed_out(&last, "; no answer to the last poll"));
        };
        match polled {
            Ok(Polled::Done(t)) => return Ok(t),
            Ok(Polled::Pending(state)) => {
                if let Some(f) = &opts.on_poll {
                    f(&state);
                }
                last = Some(state);
            }
            Err(e) if is_transient(&e) && transient_left > 0 => {
                transient_left -= 1;
                tracing::debug!(error = %e, "transient error while waiting; polling again");
            }
            Err(e) => return Err(e),
        }
        if started.elapsed() + interval > opts.timeout {
            return Err(timed_out(&last, ""));
        }
        tokio::time::sleep(interval).await;
        interval = interval.mul_f64(opts.backoff.max(1.0)).min(opts.max_interval);
    }
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
        let what = format!("{} {id} to become {status}", R::KIND);
        poll_until(opts, what, || async {
            let r = self.get(id).await?;
            let s = r.status().to_string();
            if s.eq_ignore_ascii_case(status) {
                return Ok(Polled::Done(r));
            }
            if failures.iter().any(|f| f.eq_ignore_ascii_case(&s)) {
                return Err(Error::Failed {
                    what: format!("{} {id}", R::KIND),
                    status: s,
                    message: r.failure_message().unwrap_or_default(),
                });
            }
            Ok(Polled::Pending(s))
        })
        .await
    }

    /// Polls until a get answers 404.
    ///
    /// ```no_run
    /// # use openstack_resource::*;
    /// # #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    /// # struct Project { #[serde(default)] id: String, name: String, #[serde(default)] enabled: bool }
    /// # impl Resource for Project {
    /// #     const SERVICE_TYPE: &'static str = "identity";
    /// #     const KIND: &'static str = "project";
    /// #     const RESOURCE_KEY: Option<&'static str> = Some("project");
    /// #     const LIST_KEY: &'static str = "projects";
    /// #     const READ_ONLY: &'static [&'static str] = &["id"];
    /// #     type Parent = ();
    /// #     fn base_path(_: &()) -> String { "/v3/projects".into() }
    /// #     fn id(&self) -> &str { &self.id }
    /// #     fn name(&self) -> Option<&str> { Some(&self.name) }
    /// # }
    /// # impl Get for Project {}
    /// # impl List for Project {}
    /// # impl Create for Project { type Create = Project; }
    /// # impl Update for Project {}
    /// # impl Delete for Project {}
    /// # async fn demo(session: openstack_auth::Session) -> openstack_auth::Result<()> {
    /// let projects = Api::<Project>::new(session, ());
    /// projects.delete("0123abcd").await?;
    /// projects.wait_for_delete("0123abcd", &WaitOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Timeout`] when it still exists after the timeout.
    pub async fn wait_for_delete(&self, id: &str, opts: &WaitOptions) -> Result<()> {
        poll_until(opts, format!("{} {id} to be deleted", R::KIND), || async {
            match self.get(id).await {
                Err(e) if e.is_not_found() => Ok(Polled::Done(())),
                Err(e) => Err(e),
                Ok(_) => Ok(Polled::Pending("exists".into())),
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests;
