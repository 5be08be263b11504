//! Several connections on tokio's paused clock: asking ahead, in time and not too early;
//! answers asked ahead that come early, fail or ignore the range; a connection that panics.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::TryStreamExt;

use super::{PART, Ranged, expected, object, options};
use crate::download::{Download, OpenFuture, Opened, RangeSource};
use crate::download_options::DownloadOptions;
use crate::error::TransferError;

/// The paced tests' part: 256 KiB, streamed in 256 ms at a KiB a millisecond.
const PACED_PART: u64 = 256 << 10;

/// Four connections, parts of [`PACED_PART`], hashed inline (on the paused clock, a hashing
/// thread's real time would let the clock jump ahead).
fn paced_options() -> DownloadOptions {
    DownloadOptions::default().connections(4).part_size(PACED_PART).mode(crate::HashMode::Inline)
}

/// An object served at a pace on tokio's clock: each answer comes `latency` after its
/// request, then a KiB a millisecond, pushed whether read or not. With the clock paused,
/// time is exact and no machine is too slow or too fast for it.
#[derive(Clone)]
struct Paced {
    data: Bytes,
    latency: std::time::Duration,
    /// When each range was asked for (offset, time since the start).
    log: Arc<Mutex<Vec<(u64, std::time::Duration)>>>,
    start: tokio::time::Instant,
    /// From this request on (counting from 0), ranges are ignored: the whole object, 200.
    whole_from: Option<usize>,
    /// From this request on, answers come after this latency instead.
    then: Option<(usize, std::time::Duration)>,
    /// This request (counting from 0) fails, as a connection refused.
    fail_at: Option<usize>,
    /// This request is answered 206 from a KiB past the offset asked (and says so).
    shifted_at: Option<usize>,
    /// This request's body ends, without an error, after its first 100 KiB.
    short_at: Option<usize>,
}

impl Paced {
    /// `data` answered `latency` after each request, with no fault; the log's clock starts
    /// at `start`.
    fn new(data: &Bytes, latency: std::time::Duration, start: tokio::time::Instant) -> Paced {
        Paced {
            data: data.clone(),
            latency,
            log: Default::default(),
            start,
            whole_from: None,
            then: None,
            fail_at: None,
            shifted_at: None,
            short_at: None,
        }
    }
    fn whole_from(self, n: usize) -> Paced {
        Paced { whole_from: Some(n), ..self }
    }
    fn then(self, n: usize, latency: std::time::Duration) -> Paced {
        Paced { then: Some((n, latency)), ..self }
    }
    fn fail_at(self, n: usize) -> Paced {
        Paced { fail_at: Some(n), ..self }
    }
    fn shifted_at(self, n: usize) -> Paced {
        Paced { shifted_at: Some(n), ..self }
    }
    fn short_at(self, n: usize) -> Paced {
        Paced { short_at: Some(n), ..self }
    }
}

impl RangeSource for Paced {
    fn open(&mut self, offset: u64) -> OpenFuture<'_> {
        let end = self.data.len() as u64;
        self.open_range(offset, end)
    }
    fn open_range(&mut self, offset: u64, end: u64) -> OpenFuture<'_> {
        let mut log = self.log.lock().unwrap();
        log.push((offset, self.start.elapsed()));
        let (offset, end) = match self.whole_from {
            Some(n) if log.len() > n => (0, self.data.len() as u64),
            _ => (offset, end),
        };
        let fails = self.fail_at == Some(log.len() - 1);
        let offset = if self.shifted_at == Some(log.len() - 1) { offset + 1024 } else { offset };
        let sent_end =
            if self.short_at == Some(log.len() - 1) { end.min(offset + (100 << 10)) } else { end };
        let latency = match self.then {
            Some((n, quicker)) if log.len() > n => quicker,
            _ => self.latency,
        };
        drop(log);
        let rest = self.data.slice(offset as usize..sent_end as usize);
        let total = Some(self.data.len() as u64);
        Box::pin(async move {
            tokio::time::sleep(latency).await;
            if fails {
                return Err(TransferError::interrupted("connection refused"));
            }
            // As a server pushes into the socket: the k-th KiB is there k ms after the answer,
            // read or not (so an answer asked too early streams beside the current one).
            let answered = tokio::time::Instant::now();
            let body =
                futures_util::stream::unfold((rest, 1u32), move |(mut rest, k)| async move {
                    if rest.is_empty() {
                        return None;
                    }
                    tokio::time::sleep_until(answered + std::time::Duration::from_millis(k.into()))
                        .await;
                    let chunk = rest.split_to(rest.len().min(1024));
                    Some((Ok(chunk), (rest, k + 1)))
                });
            Ok(Opened {
                partial: offset > 0,
                start: offset,
                total,
                identity: None,
                body: Box::pin(body),
            })
        })
    }
    fn fork(&self) -> Option<Box<dyn RangeSource>> {
        Some(Box::new(self.clone()))
    }
}

#[tokio::test(start_paused = true)]
async fn each_connection_asks_for_its_next_part_before_this_one_ends() {
    use std::time::Duration;
    // 32 parts of 256 KiB (256 ms each at a KiB a millisecond), 50 ms round trips, 4
    // connections: 8 parts each.
    let data = object(32 * PACED_PART as usize);
    let start = tokio::time::Instant::now();
    let source = Paced::new(&data, Duration::from_millis(50), start);
    let log = source.log.clone();
    let opts = paced_options();
    let got: Vec<Bytes> =
        Download::new(source, expected(&data), &opts).into_stream().try_collect().await.unwrap();
    assert_eq!(got.concat(), data);
    let took = start.elapsed();
    // Asking for each part when the last one ended pays a round trip per part: 8 x (256 + 50)
    // ms = 2448 ms. Asked ahead, only the first request's round trip is paid (and one more
    // where a connection measures its first part): 8 x 256 + 2 x 50 = 2148 ms.
    let log = log.lock().unwrap().clone();
    assert!(took <= Duration::from_millis(2148 + 20), "took {took:?}; asked {log:?}");
    // Asked earlier, the next answer would stream beside the current one, as if there were
    // more connections: faster than 4 streams allow.
    assert!(took >= Duration::from_millis(2148), "took {took:?}; asked {log:?}");
    assert_eq!(log.len(), 32, "every part asked for once: {log:?}");
}

#[tokio::test(start_paused = true)]
async fn an_answer_asked_ahead_that_ignores_the_range_ends_in_one_stream() {
    use std::time::Duration;
    let data = object(32 * PACED_PART as usize);
    let start = tokio::time::Instant::now();
    // Requests 0-3 are the first response and the first part of each other connection; the
    // 5th (index 4) is asked ahead, and it and every later one get the whole object.
    let source = Paced::new(&data, Duration::from_millis(50), start).whole_from(4);
    let log = source.log.clone();
    let opts = paced_options();
    let got: Vec<Bytes> =
        Download::new(source, expected(&data), &opts).into_stream().try_collect().await.unwrap();
    assert_eq!(got.concat(), data, "whole and verified");
    let log = log.lock().unwrap().clone();
    // Connections 1-3 stream their first parts from 100 to 356 ms; connection 0 reads part 0
    // from the first response until 306 ms and only then asks for a part. So of the
    // requests from the 5th on (all answered wrongly), those made before 356 ms beyond one
    // were asked ahead. After the wrong answers the download went on as one stream.
    let early = log[4..].iter().filter(|(_, at)| *at < Duration::from_millis(356)).count();
    assert!(early >= 2, "asked ahead: {log:?}");
    // The last request resumed the bytes delivered so far, which stand.
    let resumed = log.last().unwrap().0;
    assert!(resumed >= PACED_PART, "one stream from where it was: {log:?}");
}

#[tokio::test(start_paused = true)]
async fn an_answer_asked_ahead_for_another_range_is_not_taken_for_the_part() {
    use std::time::Duration;
    let data = object(32 * PACED_PART as usize);
    let start = tokio::time::Instant::now();
    // The 5th request (asked ahead, as above) is answered 206, but from a KiB further on.
    let source = Paced::new(&data, Duration::from_millis(50), start).shifted_at(4);
    let log = source.log.clone();
    let opts = paced_options();
    let got: Vec<Bytes> =
        Download::new(source, expected(&data), &opts).into_stream().try_collect().await.unwrap();
    assert_eq!(got.concat(), data, "whole and verified");
    let log = log.lock().unwrap().clone();
    // The wrong answer ended the parallel fetch: the rest came as one stream, from where
    // the bytes in order had got to (fewer requests than parts).
    assert!(log.len() < 32, "one stream after the wrong answer: {log:?}");
}

#[tokio::test(start_paused = true)]
async fn an_answer_asked_ahead_that_comes_early_waits_for_its_turn() {
    use std::time::Duration;
    let data = object(32 * PACED_PART as usize);
    let start = tokio::time::Instant::now();
    // The first four answers take 200 ms, later ones 10 ms: each connection, judging by its
    // first answer, asks 200 ms ahead, and the answer comes while its part still streams.
    let source =
        Paced::new(&data, Duration::from_millis(200), start).then(4, Duration::from_millis(10));
    let log = source.log.clone();
    let opts = paced_options();
    let download = Download::new(source, expected(&data), &opts).into_stream().try_collect();
    // On the paused clock a stuck download would wait forever; this fails it instead.
    let got: Vec<Bytes> = tokio::time::timeout(Duration::from_secs(60), download)
        .await
        .expect("the download ends")
        .unwrap();
    assert_eq!(got.concat(), data, "whole and verified");
    // Connections 1-3 stream from 400 ms; each part then follows the last without a gap:
    // 400 + 8 x 256 = 2448 ms (connection 0 reads part 0 from 200 to 456 ms, then 7 more).
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 32, "{log:?}");
    assert!(
        start.elapsed() <= Duration::from_millis(2448 + 20),
        "took {:?}: {log:?}",
        start.elapsed()
    );
}

/// Panics on its third request.
struct Panicking(Ranged, Arc<std::sync::atomic::AtomicUsize>);

impl RangeSource for Panicking {
    fn open(&mut self, offset: u64) -> OpenFuture<'_> {
        self.0.open(offset)
    }
    fn open_range(&mut self, offset: u64, end: u64) -> OpenFuture<'_> {
        assert!(self.1.fetch_add(1, Ordering::SeqCst) != 2, "a source's bug");
        self.0.open_range(offset, end)
    }
    fn fork(&self) -> Option<Box<dyn RangeSource>> {
        Some(Box::new(Panicking(self.0.clone(), self.1.clone())))
    }
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_panics_fails_the_download_instead_of_stalling_it() {
    let data = object(20 * PART as usize);
    let source = Panicking(Ranged::new(data.clone()), Default::default());
    // Hashed inline, as in every test on the paused clock: the runtime cannot see a hashing
    // thread at work, and would jump the clock to the timeout while the download waits for
    // room in the thread's queue.
    let opts = options(4).max_resumes(0).mode(crate::HashMode::Inline);
    let download =
        Download::new(source, expected(&data), &opts).into_stream().try_collect::<Vec<Bytes>>();
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(60), download)
        .await
        .expect("the download ends");
    let err = outcome.unwrap_err();
    assert!(err.to_string().contains("panic"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_request_asked_ahead_that_fails_is_asked_again() {
    use std::time::Duration;
    let data = object(32 * PACED_PART as usize);
    let start = tokio::time::Instant::now();
    // The 6th request is one asked ahead at 306 ms (see the test above); it fails.
    let source = Paced::new(&data, Duration::from_millis(50), start).fail_at(5);
    let log = source.log.clone();
    let opts = paced_options();
    let mut out = Vec::new();
    let report = Download::new(source, expected(&data), &opts).to_writer(&mut out).await.unwrap();
    assert_eq!(out, data, "whole and verified");
    assert_eq!(report.resumes, 1, "one request asked again");
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 33, "every part once, and the failed one twice: {log:?}");
    assert!(log[5].1 < Duration::from_millis(356), "asked ahead: {log:?}");
    assert_eq!(log.iter().filter(|(o, _)| *o == log[5].0).count(), 2, "{log:?}");
}

#[tokio::test(start_paused = true)]
async fn a_part_whose_request_fails_is_asked_again_within_the_budget() {
    use std::time::Duration;
    let data = object(32 * PACED_PART as usize);
    // The 3rd request is the first part of a connection (not asked ahead); it fails.
    let source = |start| Paced::new(&data, Duration::from_millis(50), start).fail_at(2);
    let opts = paced_options();
    let paced = source(tokio::time::Instant::now());
    let log = paced.log.clone();
    let mut out = Vec::new();
    let report = Download::new(paced, expected(&data), &opts).to_writer(&mut out).await.unwrap();
    assert_eq!(out, data, "whole and verified");
    assert_eq!(report.resumes, 1, "one request asked again");
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 33, "every part once, and the failed one twice: {log:?}");
    assert_eq!(log.iter().filter(|(o, _)| *o == log[2].0).count(), 2, "{log:?}");
    // With no resume to spend, the failure ends the download.
    let paced = source(tokio::time::Instant::now());
    let err = Download::new(paced, expected(&data), &opts.max_resumes(0))
        .to_writer(&mut Vec::new())
        .await
        .unwrap_err();
    let TransferError::Interrupted { source } = &err else { panic!("{err:?}") };
    assert!(source.to_string().contains("connection refused"), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn a_part_whose_answer_ends_early_is_asked_again_for_the_rest() {
    use std::time::Duration;
    let data = object(32 * PACED_PART as usize);
    // The 3rd request (a connection's first part) ends cleanly after 100 KiB of its 256.
    let paced =
        Paced::new(&data, Duration::from_millis(50), tokio::time::Instant::now()).short_at(2);
    let log = paced.log.clone();
    let opts = paced_options();
    let mut out = Vec::new();
    let report = Download::new(paced, expected(&data), &opts).to_writer(&mut out).await.unwrap();
    assert_eq!(out, data, "whole and verified");
    assert_eq!(report.resumes, 1, "the rest asked for with one resume");
    let log = log.lock().unwrap().clone();
    let rest = log[2].0 + (100 << 10);
    assert!(log.iter().any(|(o, _)| *o == rest), "asked from {rest}: {log:?}");
    assert_eq!(log.len(), 33, "{log:?}");
}
