//! Several connections: in order, verified, bounded, resumed part by part, and what a server
//! without ranges, a tiny object or a dropped download do.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::TryStreamExt;
use tokio::sync::Semaphore;

use super::*;
use crate::download::{Download, Expected, OpenFuture, Opened};
use crate::download_options::DownloadOptions;
use crate::hash::{Algorithm, digest_hex};

const PART: u64 = 64 << 10;

/// An object in memory that honours ranges (unless told not to), served in 16 KiB chunks;
/// every clone shares the log of requests and the faults.
#[derive(Clone)]
struct Ranged {
    data: Bytes,
    honour_range: bool,
    faults: Arc<Mutex<Faults>>,
    /// The ranges asked for, in order.
    log: Arc<Mutex<Vec<(u64, u64)>>>,
    /// Holds the first answer for the part starting here until a permit is added.
    gate: Arc<Semaphore>,
}

#[derive(Default)]
struct Faults {
    /// The first range response covering this offset breaks there.
    cut_once: Option<u64>,
    /// The first whole-object response breaks at this offset.
    cut_whole: Option<u64>,
    /// This byte is flipped in every response.
    flip: Option<u64>,
    /// The part starting at this offset waits for the gate (once).
    gated: Option<u64>,
}

impl Ranged {
    fn new(data: Bytes) -> Ranged {
        Ranged {
            data,
            honour_range: true,
            faults: Default::default(),
            log: Default::default(),
            gate: Arc::new(Semaphore::new(0)),
        }
    }

    fn answer(&mut self, offset: u64, end: u64, partial: bool) -> OpenFuture<'_> {
        self.log.lock().unwrap().push((offset, end));
        let (offset, end) = if partial { (offset, end) } else { (0, self.data.len() as u64) };
        let mut bytes = self.data.slice(offset as usize..end as usize).to_vec();
        let mut f = self.faults.lock().unwrap();
        if let Some(at) = f.flip.filter(|at| (offset..end).contains(at)) {
            bytes[(at - offset) as usize] ^= 1;
        }
        let cut = f.cut_once.filter(|at| partial && (offset..end).contains(at));
        if cut.is_some() {
            f.cut_once = None;
        }
        let cut = cut.or_else(|| f.cut_whole.take().filter(|_| !partial));
        let gated = f.gated.filter(|at| *at == offset && partial);
        if gated.is_some() {
            f.gated = None;
        }
        drop(f);
        let keep = cut.map_or(bytes.len(), |at| (at - offset) as usize);
        let mut chunks: Vec<Result<Bytes, TransferError>> =
            bytes[..keep].chunks(16 << 10).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        if cut.is_some() {
            chunks.push(Err(TransferError::interrupted("connection reset")));
        }
        let (total, gate) = (self.data.len() as u64, self.gate.clone());
        Box::pin(async move {
            if gated.is_some() {
                gate.acquire().await.expect("gate").forget();
            }
            Ok(Opened {
                partial,
                start: offset,
                total: Some(total),
                identity: Some("etag".into()),
                body: Box::pin(futures_util::stream::iter(chunks)),
            })
        })
    }
}

impl RangeSource for Ranged {
    fn open(&mut self, offset: u64) -> OpenFuture<'_> {
        let end = self.data.len() as u64;
        self.answer(offset, end, offset > 0 && self.honour_range)
    }
    fn open_range(&mut self, offset: u64, end: u64) -> OpenFuture<'_> {
        let honour = self.honour_range;
        self.answer(offset, end, honour)
    }
    fn fork(&self) -> Option<Box<dyn RangeSource>> {
        Some(Box::new(self.clone()))
    }
}

/// Bytes that never repeat (xorshift), so a part in the wrong place cannot pass.
fn object(len: usize) -> Bytes {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    Bytes::from(v)
}

fn expected(data: &Bytes) -> Expected {
    Expected {
        size: Some(data.len() as u64),
        digest: Some((Algorithm::Sha512, digest_hex(Algorithm::Sha512, data))),
    }
}

fn options(n: usize) -> DownloadOptions {
    DownloadOptions::default().connections(n).part_size(PART)
}

#[tokio::test]
async fn several_connections_deliver_the_object_in_order_verified() {
    let data = object(10 * PART as usize + 1234);
    let source = Ranged::new(data.clone());
    let log = source.log.clone();
    let got: Vec<Bytes> = Download::new(source, expected(&data), &options(4))
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got.concat(), data);
    let mut ranges = log.lock().unwrap().clone();
    ranges.sort();
    // The whole object once (its first part read), then every other part once by range.
    let mut want = vec![(0, data.len() as u64)];
    want.extend((1..11).map(|i| (i * PART, ((i + 1) * PART).min(data.len() as u64))));
    assert_eq!(ranges, want);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("object");
    let report = Download::new(Ranged::new(data.clone()), expected(&data), &options(3))
        .to_path(&path)
        .await
        .unwrap();
    assert_eq!((report.bytes, report.resumes), (data.len() as u64, 0));
    assert_eq!(std::fs::read(&path).unwrap(), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_part_holds_the_others_to_the_window() {
    let data = object(40 * PART as usize);
    let source = Ranged::new(data.clone());
    source.faults.lock().unwrap().gated = Some(PART);
    let (log, gate) = (source.log.clone(), source.gate.clone());
    let mut first = source.clone();
    let opened = first.open(0).await.unwrap();
    let plan = Plan { total: data.len() as u64, part: PART, connections: 3, origin: 0 };
    let sources: Vec<Box<dyn RangeSource>> = (0..3).map(|_| source.fork().unwrap()).collect();
    let (mut body, shared) = start(plan, Some(opened.body), None, sources, 5, Default::default());
    // Part 0 arrives; part 1 is held: the others may run at most the window ahead.
    let mut read = 0;
    while read < PART as usize {
        read += body.try_next().await.unwrap().unwrap().len();
    }
    // Wait for the event: every part the window allows has been asked for.
    while log.lock().unwrap().len() < plan.window() {
        tokio::task::yield_now().await;
    }
    gate.add_permits(1);
    let mut rest = Vec::new();
    while let Some(chunk) = body.try_next().await.unwrap() {
        rest.push(chunk);
    }
    assert_eq!(read + rest.concat().len(), data.len());
    let most = shared.most_ahead.load(Ordering::Relaxed);
    assert!(most <= plan.window(), "{most} parts ahead, the window is {}", plan.window());
}

#[tokio::test]
async fn a_cut_in_one_part_resumes_that_part_and_the_rest_goes_on() {
    let data = object(8 * PART as usize);
    let source = Ranged::new(data.clone());
    source.faults.lock().unwrap().cut_once = Some(5 * PART + 1000);
    let log = source.log.clone();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("object");
    let report = Download::new(source, expected(&data), &options(4)).to_path(&path).await.unwrap();
    assert_eq!(report.resumes, 1);
    assert_eq!(std::fs::read(&path).unwrap(), data);
    assert!(log.lock().unwrap().contains(&(5 * PART + 1000, 6 * PART)), "resumed where it broke");
}

#[tokio::test]
async fn a_flipped_byte_in_one_part_is_a_mismatch_and_leaves_no_file() {
    let data = object(8 * PART as usize);
    let source = Ranged::new(data.clone());
    source.faults.lock().unwrap().flip = Some(6 * PART + 7);
    let dir = tempfile::tempdir().unwrap();
    let err = Download::new(source, expected(&data), &options(4))
        .to_path(dir.path().join("object"))
        .await
        .unwrap_err();
    assert!(matches!(err, TransferError::ChecksumMismatch { .. }), "{err:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing left");
}

#[tokio::test]
async fn a_server_that_ignores_ranges_is_read_on_one_connection() {
    let data = object(6 * PART as usize);
    let mut source = Ranged::new(data.clone());
    source.honour_range = false;
    let log = source.log.clone();
    let got: Vec<Bytes> = Download::new(source, expected(&data), &options(4))
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got.concat(), data);
    // Whole answers to range requests end the parallel fetch; one more request, whole,
    // from which the bytes already delivered are skipped.
    assert!(log.lock().unwrap().len() <= 1 + 4 + 1, "{:?}", log.lock().unwrap());
}

#[tokio::test]
async fn tiny_objects_and_one_byte() {
    for len in [1, 3, PART as usize, PART as usize + 1, 2 * PART as usize + 5] {
        let data = object(len);
        let got: Vec<Bytes> =
            Download::new(Ranged::new(data.clone()), expected(&data), &options(8))
                .into_stream()
                .try_collect()
                .await
                .unwrap();
        assert_eq!(got.concat(), data, "{len} bytes");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_download_stops_every_connection_and_leaves_nothing() {
    let data = object(20 * PART as usize);
    let source = Ranged::new(data.clone());
    source.faults.lock().unwrap().gated = Some(PART);
    let (log, faults) = (source.log.clone(), source.faults.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("object");
    let download =
        tokio::spawn(Download::new(source, expected(&data), &options(4)).to_path(path.clone()));
    while log.lock().unwrap().len() < 1 + 5 {
        tokio::task::yield_now().await;
    }
    download.abort();
    let _ = download.await;
    // Every source clone (one per connection) is gone once the tasks are aborted.
    while Arc::strong_count(&faults) > 1 {
        tokio::task::yield_now().await;
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing left");
}

#[tokio::test]
async fn adaptive_stays_on_one_stream_when_the_first_part_is_fast_enough() {
    let data = object(9 * PART as usize + 5);
    let source = Ranged::new(data.clone());
    let log = source.log.clone();
    // Any speed is at least 0 bytes/s: one response, read to the end.
    let opts = DownloadOptions::default().connections_if_slower_than(4, 0).part_size(PART);
    let got: Vec<Bytes> =
        Download::new(source, expected(&data), &opts).into_stream().try_collect().await.unwrap();
    assert_eq!(got.concat(), data);
    assert_eq!(*log.lock().unwrap(), [(0, data.len() as u64)], "no more requests");
}

#[tokio::test]
async fn adaptive_widens_when_the_first_part_is_slow() {
    let data = object(9 * PART as usize + 5);
    let source = Ranged::new(data.clone());
    let log = source.log.clone();
    // No speed reaches u64::MAX bytes/s: the other connections start after part 0.
    let opts = DownloadOptions::default().connections_if_slower_than(4, u64::MAX).part_size(PART);
    let got: Vec<Bytes> =
        Download::new(source, expected(&data), &opts).into_stream().try_collect().await.unwrap();
    assert_eq!(got.concat(), data);
    // The whole object asked for once, read to the end of part 0; then parts by range from
    // there.
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 1 + 9, "{log:?}");
    assert!(log[1..].iter().all(|(start, _)| (start - PART) % PART == 0), "{log:?}");
}

#[tokio::test]
async fn one_fast_stream_broken_resumes_as_one_stream() {
    let data = object(9 * PART as usize + 5);
    let source = Ranged::new(data.clone());
    source.faults.lock().unwrap().cut_whole = Some(3 * PART + 99);
    let log = source.log.clone();
    let opts = DownloadOptions::default().connections_if_slower_than(4, 0).part_size(PART);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("object");
    let report = Download::new(source, expected(&data), &opts).to_path(&path).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), data);
    assert_eq!(report.resumes, 1);
    let log = log.lock().unwrap().clone();
    assert_eq!(log, [(0, data.len() as u64), (3 * PART + 99, data.len() as u64)]);
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
        let latency = match self.then {
            Some((n, quicker)) if log.len() > n => quicker,
            _ => self.latency,
        };
        drop(log);
        let rest = self.data.slice(offset as usize..end as usize);
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
    let part = 256 << 10;
    let data = object(32 * part as usize);
    let start = tokio::time::Instant::now();
    let source = Paced {
        data: data.clone(),
        latency: Duration::from_millis(50),
        log: Default::default(),
        start,
        whole_from: None,
        then: None,
        fail_at: None,
    };
    let log = source.log.clone();
    let opts =
        DownloadOptions::default().connections(4).part_size(part).mode(crate::HashMode::Inline);
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
    let part = 256 << 10;
    let data = object(32 * part as usize);
    let start = tokio::time::Instant::now();
    // Requests 0-3 are the first response and the first part of each other connection; the
    // 5th (index 4) is asked ahead, and it and every later one get the whole object.
    let source = Paced {
        data: data.clone(),
        latency: Duration::from_millis(50),
        log: Default::default(),
        start,
        whole_from: Some(4),
        then: None,
        fail_at: None,
    };
    let log = source.log.clone();
    let opts =
        DownloadOptions::default().connections(4).part_size(part).mode(crate::HashMode::Inline);
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
    assert!(resumed >= part, "one stream from where it was: {log:?}");
}

#[tokio::test(start_paused = true)]
async fn an_answer_asked_ahead_that_comes_early_waits_for_its_turn() {
    use std::time::Duration;
    let part = 256 << 10;
    let data = object(32 * part as usize);
    let start = tokio::time::Instant::now();
    // The first four answers take 200 ms, later ones 10 ms: each connection, judging by its
    // first answer, asks 200 ms ahead, and the answer comes while its part still streams.
    let source = Paced {
        data: data.clone(),
        latency: Duration::from_millis(200),
        log: Default::default(),
        start,
        whole_from: None,
        then: Some((4, Duration::from_millis(10))),
        fail_at: None,
    };
    let log = source.log.clone();
    let opts =
        DownloadOptions::default().connections(4).part_size(part).mode(crate::HashMode::Inline);
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
    let download = Download::new(source, expected(&data), &options(4).max_resumes(0))
        .into_stream()
        .try_collect::<Vec<Bytes>>();
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(60), download)
        .await
        .expect("the download ends");
    let err = outcome.unwrap_err();
    assert!(err.to_string().contains("panic"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_request_asked_ahead_that_fails_is_asked_again() {
    use std::time::Duration;
    let part = 256 << 10;
    let data = object(32 * part as usize);
    let start = tokio::time::Instant::now();
    // The 6th request is one asked ahead at 306 ms (see the test above); it fails.
    let source = Paced {
        data: data.clone(),
        latency: Duration::from_millis(50),
        log: Default::default(),
        start,
        whole_from: None,
        then: None,
        fail_at: Some(5),
    };
    let log = source.log.clone();
    let opts =
        DownloadOptions::default().connections(4).part_size(part).mode(crate::HashMode::Inline);
    let mut out = Vec::new();
    let report = Download::new(source, expected(&data), &opts).to_writer(&mut out).await.unwrap();
    assert_eq!(out, data, "whole and verified");
    assert_eq!(report.resumes, 1, "one request asked again");
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 33, "every part once, and the failed one twice: {log:?}");
    assert!(log[5].1 < Duration::from_millis(356), "asked ahead: {log:?}");
    assert_eq!(log.iter().filter(|(o, _)| *o == log[5].0).count(), 2, "{log:?}");
}
