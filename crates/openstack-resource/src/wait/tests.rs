//! The polling loop under tokio's paused clock: the schedule, the bound and the transient
//! budget are checked to the second, on any machine.

use std::sync::{Arc, Mutex};

use openstack_auth::{CloudConfig, MockHttp, RequestBody, RetryPolicy, Session};
use serde_json::json;

use super::*;

/// The error a session returns for an answer with `status` (from a scripted service).
async fn api_error(status: u16) -> Error {
    let mock = MockHttp::new();
    mock.on("GET", "/x").json(status, json!({"message": "from the test"}));
    let session = Session::builder(CloudConfig::without_auth("test", "http://svc.test"))
        .http_service(mock)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let req = http::Request::get("/x").body(RequestBody::empty()).unwrap();
    session.request("test", req).await.expect_err("an error status")
}

fn transport_error() -> Error {
    Error::transport("http://svc.test/x", std::io::Error::other("connection reset"))
}

/// A scripted poll: answers `steps` in turn (a last pending state again and again) and
/// records when each poll came, in seconds since the test began.
struct Script {
    steps: Mutex<Vec<Result<Polled<u32>>>>,
    at: Mutex<Vec<u64>>,
    start: Instant,
}

impl Script {
    fn new(steps: Vec<Result<Polled<u32>>>) -> Arc<Script> {
        Arc::new(Script { steps: Mutex::new(steps), at: Mutex::new(vec![]), start: Instant::now() })
    }

    fn poll(self: &Arc<Self>) -> impl std::future::Future<Output = Result<Polled<u32>>> + use<> {
        self.at.lock().unwrap().push(self.start.elapsed().as_secs());
        let mut steps = self.steps.lock().unwrap();
        let step = match steps.first() {
            None => panic!("polled after the script ended"),
            Some(Ok(Polled::Pending(s))) if steps.len() == 1 => Ok(Polled::Pending(s.clone())),
            Some(_) => steps.remove(0),
        };
        async move { step }
    }

    fn at(&self) -> Vec<u64> {
        self.at.lock().unwrap().clone()
    }
}

fn pending(s: &str) -> Result<Polled<u32>> {
    Ok(Polled::Pending(s.into()))
}

#[tokio::test]
async fn server_errors_and_lost_connections_are_transient_and_nothing_else_is() {
    for status in [500, 502, 503, 504] {
        assert!(is_transient(&api_error(status).await), "{status}");
    }
    for status in [400, 403, 404, 409] {
        assert!(!is_transient(&api_error(status).await), "{status}");
    }
    assert!(is_transient(&transport_error()));
    let idle = Error::IdleTimeout { what: "GET /x".into(), waited: Duration::from_secs(30) };
    assert!(is_transient(&idle));
    assert!(!is_transient(&Error::InvalidArgument("x".into())));
}

#[tokio::test(start_paused = true)]
async fn the_interval_grows_by_the_backoff_up_to_its_cap() {
    let opts = WaitOptions::default()
        .interval(Duration::from_secs(1))
        .backoff(2.0)
        .max_interval(Duration::from_secs(4))
        .timeout(Duration::from_secs(100));
    let mut steps: Vec<_> = (0..5).map(|_| pending("saving")).collect();
    steps.push(Ok(Polled::Done(6)));
    let script = Script::new(steps);
    let got = poll_until(&opts, "thing", || script.poll()).await.unwrap();
    assert_eq!(got, 6);
    assert_eq!(script.at(), [0, 1, 3, 7, 11, 15]);
}

#[tokio::test(start_paused = true)]
async fn transient_errors_are_polled_through_until_the_budget_is_spent() {
    let opts = WaitOptions::fixed(Duration::from_secs(1), Duration::from_secs(60));
    let script = Script::new(vec![
        Err(transport_error()),
        Err(api_error(503).await),
        pending("saving"),
        Ok(Polled::Done(1)),
    ]);
    let tolerant = opts.clone().transient_errors(2);
    assert_eq!(poll_until(&tolerant, "thing", || script.poll()).await.unwrap(), 1);
    assert_eq!(script.at().len(), 4);

    let script =
        Script::new(vec![Err(transport_error()), Err(api_error(500).await), Ok(Polled::Done(1))]);
    let strict = opts.transient_errors(1);
    let err = poll_until(&strict, "thing", || script.poll()).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500), "{err:?}");
    assert_eq!(script.at(), [0, 1], "the second error is one too many");
}

#[tokio::test(start_paused = true)]
async fn any_other_error_ends_the_wait_at_once() {
    let opts = WaitOptions::fixed(Duration::from_secs(1), Duration::from_secs(60));
    let script = Script::new(vec![Err(api_error(404).await), Ok(Polled::Done(1))]);
    let err = poll_until(&opts, "thing", || script.poll()).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(script.at(), [0]);
}

#[tokio::test(start_paused = true)]
async fn the_wait_ends_at_its_timeout_naming_the_last_state() {
    let opts = WaitOptions::fixed(Duration::from_secs(10), Duration::from_secs(60));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let opts = opts.on_poll(move |s| log.lock().unwrap().push(s.to_string()));
    let script = Script::new(vec![pending("queued"), pending("importing")]);
    let err = poll_until(&opts, "image x to become active", || script.poll()).await.unwrap_err();
    let Error::Timeout { what, waited } = &err else { panic!("not a timeout: {err:?}") };
    assert_eq!(what, "image x to become active (last status: importing)");
    assert_eq!(*waited, Duration::from_secs(60));
    // The last poll is at the deadline; none is started that would end after it.
    assert_eq!(script.at(), [0, 10, 20, 30, 40, 50, 60]);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 7);
    assert_eq!(seen[..2], ["queued", "importing"]);
}

#[tokio::test(start_paused = true)]
async fn a_poll_that_never_answers_is_bounded_by_the_timeout_too() {
    let opts = WaitOptions::fixed(Duration::from_secs(1), Duration::from_secs(30));
    let err =
        poll_until(&opts, "thing", std::future::pending::<Result<Polled<u32>>>).await.unwrap_err();
    let Error::Timeout { what, waited } = &err else { panic!("not a timeout: {err:?}") };
    assert_eq!(what, "thing (last status: unknown; no answer to the last poll)");
    assert_eq!(*waited, Duration::from_secs(30));
}

#[test]
fn options_are_what_their_setters_say() {
    let fixed = WaitOptions::fixed(Duration::from_secs(2), Duration::from_secs(20));
    assert_eq!(
        (fixed.interval, fixed.backoff, fixed.max_interval, fixed.timeout),
        (Duration::from_secs(2), 1.0, Duration::from_secs(2), Duration::from_secs(20))
    );
    // A first interval above the cap raises the cap; a shrinking backoff is no backoff.
    let o = WaitOptions::default().interval(Duration::from_secs(40)).backoff(0.5);
    assert_eq!((o.max_interval, o.backoff), (Duration::from_secs(40), 1.0));
    assert_eq!(WaitOptions::default().transient_errors(7).transient_errors, 7);
    let shown = format!("{:?}", WaitOptions::fixed(Duration::from_secs(3), Duration::from_secs(9)));
    assert!(shown.contains("3s") && shown.contains("9s"), "{shown}");
}
