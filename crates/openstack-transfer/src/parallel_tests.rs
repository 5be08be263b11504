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
            // Chunks that do not divide a part, as a server's frames: some cross the end of a
            // part (the first, whole-object answer goes on past part 0).
            bytes[..keep].chunks(10_000).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
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
    assert_eq!((report.bytes, report.resumes, report.connections), (data.len() as u64, 0, 3));
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
    // An object of one part is one stream; otherwise a connection per part, at most 8.
    let p = PART as usize;
    for (len, connections) in [(1, 1), (3, 1), (p, 1), (p + 1, 2), (2 * p + 5, 3), (9 * p, 8)] {
        let data = object(len);
        let got: Vec<Bytes> =
            Download::new(Ranged::new(data.clone()), expected(&data), &options(8))
                .into_stream()
                .try_collect()
                .await
                .unwrap();
        assert_eq!(got.concat(), data, "{len} bytes");
        let mut out = Vec::new();
        let report = Download::new(Ranged::new(data.clone()), expected(&data), &options(8))
            .to_writer(&mut out)
            .await
            .unwrap();
        assert_eq!(out, data, "{len} bytes");
        assert_eq!(report.connections, connections, "{len} bytes");
    }
}

#[tokio::test]
async fn two_connections_asked_are_two_used() {
    let data = object(3 * PART as usize);
    let mut out = Vec::new();
    let report = Download::new(Ranged::new(data.clone()), expected(&data), &options(2))
        .to_writer(&mut out)
        .await
        .unwrap();
    assert_eq!((out == data, report.connections), (true, 2));
}

#[tokio::test]
async fn widening_late_uses_no_more_connections_than_parts_are_left() {
    // Widened after part 0 (and the rest of the 10,000-byte chunk crossing it): 2 parts and
    // 10,000-20,000 bytes are left, so 3 connections of the 8 allowed.
    let data = object(3 * PART as usize + 20_000);
    let opts = DownloadOptions::default().connections_if_slower_than(8, u64::MAX).part_size(PART);
    let mut got = Vec::new();
    let report = Download::new(Ranged::new(data.clone()), expected(&data), &opts)
        .to_writer(&mut got)
        .await
        .unwrap();
    assert_eq!(got, data);
    assert_eq!(report.connections, 3);
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
    let mut got = Vec::new();
    let report = Download::new(source, expected(&data), &opts).to_writer(&mut got).await.unwrap();
    assert_eq!(got, data);
    assert_eq!(*log.lock().unwrap(), [(0, data.len() as u64)], "no more requests");
    assert_eq!(report.connections, 1);
}

#[tokio::test]
async fn adaptive_widens_when_the_first_part_is_slow() {
    let data = object(9 * PART as usize + 5);
    let source = Ranged::new(data.clone());
    let log = source.log.clone();
    // No speed reaches u64::MAX bytes/s: the other connections start after part 0.
    let opts = DownloadOptions::default().connections_if_slower_than(4, u64::MAX).part_size(PART);
    let mut got = Vec::new();
    let report = Download::new(source, expected(&data), &opts).to_writer(&mut got).await.unwrap();
    assert_eq!(got, data);
    assert_eq!(report.connections, 4);
    // The whole object asked for once, read past part 0 (to the end of the chunk crossing
    // it); then parts by range, back to back from there to the end.
    let log = log.lock().unwrap().clone();
    let end = data.len() as u64;
    assert_eq!(log[0], (0, end), "{log:?}");
    assert!((PART..PART + 10_000).contains(&log[1].0), "{log:?}");
    assert!(log[1..].windows(2).all(|w| w[0].1 == w[1].0), "{log:?}");
    assert!(log[1..log.len() - 1].iter().all(|(s, e)| e - s == PART), "{log:?}");
    assert_eq!(log.last().unwrap().1, end, "{log:?}");
    // The first stream, then at least eight parts.
    assert!(log.len() > 8, "{log:?}");
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

#[path = "parallel_paced_tests.rs"]
mod paced;
