//! How requests are retried: the policy and its backoff (exponential, with jitter,
//! honouring `Retry-After`), and the tower retry state that applies it per request. Only
//! replayable requests are ever retried.

use std::time::{Duration, Instant, SystemTime};

use http::{Request, Response};

use crate::body::{RequestBody, ResponseBody};
use crate::error::Error;
use crate::transport::{Failure, RetryBudget};

/// How requests are retried. Only replayable requests are ever retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (connect errors, 429, 502, 503, 504).
    pub max_retries: u32,
    /// First backoff; doubled each time, with jitter.
    pub initial_backoff: Duration,
    /// Largest single backoff (also caps `Retry-After`).
    pub max_backoff: Duration,
    /// Stop retrying once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..RetryPolicy::default() }
    }

    /// Retries after the first attempt.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use openstack_auth::{RetryPolicy, Session};
    /// # let config = openstack_auth::CloudConfig::from_cloud("mycloud")?;
    /// let patient = RetryPolicy::default().max_retries(8).max_elapsed(Duration::from_secs(300));
    /// let session = Session::builder(config).retry_policy(patient).build()?;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The first backoff (doubled each time, with jitter).
    #[must_use]
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// The largest single backoff (also caps `Retry-After`).
    #[must_use]
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// Stop retrying once this much time has passed since the first attempt.
    #[must_use]
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1-based), honouring `Retry-After` seconds.
    pub(crate) fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return ra.min(self.max_backoff);
        }
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_backoff);
        // Jitter: 50–100 % of the base, from the clock's low bits (no RNG dependency needed).
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let factor = 0.5 + f64::from(nanos % 1000) / 2000.0;
        base.mul_f64(factor)
    }
}

/// The retry policy's per-request state.
#[derive(Clone)]
pub(crate) struct RetryState {
    policy: RetryPolicy,
    attempts: u32,
    started: Option<Instant>,
}

impl RetryState {
    pub(crate) fn new(policy: RetryPolicy) -> Self {
        RetryState { policy, attempts: 0, started: None }
    }
}

impl tower::retry::Policy<Request<RequestBody>, Response<ResponseBody>, Failure> for RetryState {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        req: &mut Request<RequestBody>,
        result: &mut Result<Response<ResponseBody>, Failure>,
    ) -> Option<Self::Future> {
        let Err(failure) = result else { return None };
        if !failure.retryable {
            return None;
        }
        let started = *self.started.get_or_insert_with(Instant::now);
        let budget = req.extensions().get::<RetryBudget>().map_or(self.policy.max_retries, |b| b.0);
        self.attempts += 1;
        let wait = self.policy.backoff(self.attempts, failure.retry_after);
        if self.attempts > budget || started.elapsed() + wait > self.policy.max_elapsed {
            return None;
        }
        if req.body().is_gone() {
            // A one-shot stream is never re-sent: say so instead of retrying.
            let error =
                std::mem::replace(&mut failure.error, Error::InvalidArgument(String::new()));
            failure.error = Error::NotReplayable {
                method: req.method().clone(),
                url: req.uri().to_string(),
                reason: error.to_string(),
            };
            return None;
        }
        tracing::debug!(attempt = self.attempts, ?wait, error = %failure.error, "retrying");
        Some(tokio::time::sleep(wait))
    }

    fn clone_request(&mut self, req: &Request<RequestBody>) -> Option<Request<RequestBody>> {
        self.started.get_or_insert_with(Instant::now);
        // Cheap: a replayable body is only re-made when a retry really happens.
        let mut copy = Request::new(req.body().deferred_copy());
        *copy.method_mut() = req.method().clone();
        *copy.uri_mut() = req.uri().clone();
        *copy.version_mut() = req.version();
        *copy.headers_mut() = req.headers().clone();
        if let Some(b) = req.extensions().get::<RetryBudget>() {
            copy.extensions_mut().insert(*b);
        }
        Some(copy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_honours_retry_after() {
        let p = RetryPolicy::default();
        for attempt in 1..=4 {
            let base = p.initial_backoff * (1 << (attempt - 1));
            let w = p.backoff(attempt, None);
            assert!(w >= base / 2 && w <= base, "attempt {attempt}: {w:?} vs {base:?}");
        }
        assert_eq!(p.backoff(1, Some(Duration::from_secs(3))), Duration::from_secs(3));
        assert_eq!(p.backoff(1, Some(Duration::from_secs(3600))), p.max_backoff);
        assert!(p.backoff(30, None) <= p.max_backoff);
        // The setters are what backoff reads.
        let p = RetryPolicy::default().initial_backoff(Duration::from_secs(8));
        let w = p.backoff(1, None);
        assert!(w >= Duration::from_secs(4) && w <= Duration::from_secs(8), "{w:?}");
        let p = RetryPolicy::default().max_backoff(Duration::from_secs(2));
        assert_eq!(p.backoff(1, Some(Duration::from_secs(3))), Duration::from_secs(2));
        assert!(p.backoff(5, None) <= Duration::from_secs(2));
    }

    use tower::retry::Policy as _;

    type Outcome = Result<Response<ResponseBody>, Failure>;

    /// A retryable failure whose server asked for `retry_after` (a wait without jitter).
    fn failed(retry_after: Duration) -> Outcome {
        Err(Failure {
            error: Error::InvalidArgument("503 from the test".into()),
            retryable: true,
            retry_after: Some(retry_after),
        })
    }

    fn get(body: RequestBody) -> Request<RequestBody> {
        let mut req = Request::new(body);
        *req.uri_mut() = "http://g:9292/v2/images".parse().unwrap();
        req
    }

    /// Asks `state` whether to retry after a failure; `true` when it would.
    fn retries(state: &mut RetryState, req: &mut Request<RequestBody>, out: &mut Outcome) -> bool {
        // The sleep is created inside a runtime (tokio's timer needs one) but never awaited.
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(async { state.retry(req, out).is_some() })
    }

    #[test]
    fn retries_stop_at_the_budget_the_request_or_the_policy_gives() {
        let zero = Duration::ZERO;
        let mut state = RetryState::new(RetryPolicy::default().max_retries(2));
        let mut req = get(RequestBody::empty());
        let verdicts: Vec<bool> =
            (0..4).map(|_| retries(&mut state, &mut req, &mut failed(zero))).collect();
        assert_eq!(verdicts, [true, true, false, false], "two retries, then no more");

        // The session's per-service budget, carried by the request, wins over the policy's.
        let mut state = RetryState::new(RetryPolicy::default().max_retries(5));
        let mut req = get(RequestBody::empty());
        req.extensions_mut().insert(RetryBudget(1));
        assert!(retries(&mut state, &mut req, &mut failed(zero)));
        assert!(!retries(&mut state, &mut req, &mut failed(zero)), "a budget of 1");

        let mut state = RetryState::new(RetryPolicy::none());
        assert!(!retries(&mut state, &mut get(RequestBody::empty()), &mut failed(zero)));
    }

    #[test]
    fn a_failure_that_is_not_retryable_is_not_retried() {
        let mut state = RetryState::new(RetryPolicy::default());
        let mut out: Outcome = Err(Error::InvalidArgument("404".into()).into());
        assert!(!retries(&mut state, &mut get(RequestBody::empty()), &mut out));
    }

    #[test]
    fn no_retry_waits_past_max_elapsed() {
        // Retry-After is honoured up to max_backoff; a wait that would end after max_elapsed
        // is not started at all.
        let policy = RetryPolicy::default()
            .max_retries(10)
            .max_backoff(Duration::from_secs(30))
            .max_elapsed(Duration::from_secs(5));
        let mut req = get(RequestBody::empty());
        let mut state = RetryState::new(policy);
        assert!(retries(&mut state, &mut req, &mut failed(Duration::from_secs(1))));
        assert!(!retries(&mut state, &mut req, &mut failed(Duration::from_secs(20))));
        let mut state = RetryState::new(policy);
        assert!(!retries(&mut state, &mut req, &mut failed(Duration::from_secs(6))));
        // Capped by max_backoff first: 20 s asked, 4 s waited, inside max_elapsed.
        let mut state = RetryState::new(policy.max_backoff(Duration::from_secs(4)));
        assert!(retries(&mut state, &mut req, &mut failed(Duration::from_secs(20))));
    }

    #[test]
    fn a_one_shot_body_is_never_resent_and_the_error_says_so() {
        let once = RequestBody::stream(http_body_util::Full::new(bytes::Bytes::from("data")));
        let mut copy = get(once.deferred_copy());
        *copy.method_mut() = http::Method::PUT;
        let mut state = RetryState::new(RetryPolicy::default());
        let mut out = failed(Duration::ZERO);
        assert!(!retries(&mut state, &mut copy, &mut out));
        match out {
            Err(Failure { error: Error::NotReplayable { method, url, reason }, .. }) => {
                assert_eq!(method, http::Method::PUT);
                assert_eq!(url, "http://g:9292/v2/images");
                assert!(reason.contains("503 from the test"), "{reason}");
            }
            other => panic!("expected NotReplayable, got {:?}", other.err().map(|f| f.error)),
        }
        // The same failure with a body that can be made again is retried.
        let mut state = RetryState::new(RetryPolicy::default());
        let mut req = get(RequestBody::bytes("data").deferred_copy());
        assert!(retries(&mut state, &mut req, &mut failed(Duration::ZERO)));
    }

    #[test]
    fn a_copy_keeps_what_the_request_says_and_its_budget() {
        let mut req = get(RequestBody::bytes("{}"));
        *req.method_mut() = http::Method::PATCH;
        req.headers_mut().insert("content-type", "application/json".parse().unwrap());
        req.extensions_mut().insert(RetryBudget(7));
        let mut state = RetryState::new(RetryPolicy::default());
        let copy = state.clone_request(&req).expect("always a copy");
        assert_eq!(copy.method(), http::Method::PATCH);
        assert_eq!(copy.uri(), req.uri());
        assert_eq!(copy.version(), req.version());
        assert_eq!(copy.headers(), req.headers());
        assert_eq!(copy.extensions().get::<RetryBudget>().map(|b| b.0), Some(7));
        assert!(copy.body().is_replayable() && !copy.body().is_gone());
    }
}
