//! Progress reporting: bytes done, total, rate and ETA through a callback.
//!
//! Reports are throttled (at most one per interval, plus the final one), so a callback is
//! cheap enough to leave on for every transfer.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

/// One progress report.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct ProgressUpdate {
    /// Bytes transferred so far.
    pub bytes: u64,
    /// Total bytes, when known.
    pub total: Option<u64>,
    /// Time since the transfer started.
    pub elapsed: Duration,
    /// Average rate in bytes per second.
    pub bytes_per_second: f64,
    /// Estimated time left, when the total is known.
    pub eta: Option<Duration>,
    /// Whether this is the final report.
    pub done: bool,
}

/// A progress callback.
#[derive(Clone)]
pub struct Progress {
    callback: Arc<dyn Fn(&ProgressUpdate) + Send + Sync>,
    interval: Duration,
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress").field("interval", &self.interval).finish_non_exhaustive()
    }
}

impl Progress {
    /// Calls `f` at most every 100 ms and once at the end.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use openstack_transfer::*;
    /// # /// An object in memory that honours ranges.
    /// # struct Memory(Bytes);
    /// # impl RangeSource for Memory {
    /// #     fn open(&mut self, offset: u64) -> OpenFuture<'_> {
    /// #         let rest = self.0.slice(offset as usize..);
    /// #         let total = Some(self.0.len() as u64);
    /// #         Box::pin(async move {
    /// #             let body: ByteStream = Box::pin(futures_util::stream::iter([Ok(rest)]));
    /// #             Ok(Opened { partial: offset > 0, start: offset, total, identity: None, body })
    /// #         })
    /// #     }
    /// # }
    /// # async fn demo() -> Result<(), TransferError> {
    /// # let data = Bytes::from_static(b"image bytes");
    /// # let sha512 = digest_hex(Algorithm::Sha512, &data);
    /// use std::time::Duration;
    /// let progress = Progress::new(|u: &ProgressUpdate| {
    ///     if let Some(total) = u.total {
    ///         eprint!("\r{:>3}%", u.bytes * 100 / total.max(1));
    ///     }
    /// })
    /// .every(Duration::from_millis(250));
    /// let options = DownloadOptions::default().progress(progress);
    /// # let _ = options;
    /// # Ok(()) }
    /// ```
    pub fn new(f: impl Fn(&ProgressUpdate) + Send + Sync + 'static) -> Progress {
        Progress { callback: Arc::new(f), interval: Duration::from_millis(100) }
    }

    /// Changes the minimum interval between reports.
    #[must_use]
    pub fn every(mut self, interval: Duration) -> Progress {
        self.interval = interval;
        self
    }

    pub(crate) fn tracker(&self, total: Option<u64>) -> Tracker {
        let now = Instant::now();
        Tracker { progress: self.clone(), total, started: now, last: now, bytes: 0 }
    }
}

/// Tracks one transfer.
#[derive(Debug)]
pub(crate) struct Tracker {
    progress: Progress,
    total: Option<u64>,
    started: Instant,
    last: Instant,
    bytes: u64,
}

impl Tracker {
    pub(crate) fn advance(&mut self, n: u64) {
        self.bytes += n;
        let now = Instant::now();
        if now.duration_since(self.last) >= self.progress.interval {
            self.last = now;
            self.emit(now, false);
        }
    }

    pub(crate) fn set_total(&mut self, total: Option<u64>) {
        if total.is_some() {
            self.total = total;
        }
    }

    pub(crate) fn finish(&mut self) {
        self.emit(Instant::now(), true);
    }

    fn emit(&self, now: Instant, done: bool) {
        let elapsed = now.duration_since(self.started);
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 { self.bytes as f64 / secs } else { 0.0 };
        let eta = match self.total {
            Some(t) if rate > 0.0 && t >= self.bytes => {
                Some(Duration::from_secs_f64((t - self.bytes) as f64 / rate))
            }
            _ => None,
        };
        (self.progress.callback)(&ProgressUpdate {
            bytes: self.bytes,
            total: self.total,
            elapsed,
            bytes_per_second: rate,
            eta,
            done,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A progress whose reports are kept, and the reports.
    fn recorded(every: Duration) -> (Progress, Arc<Mutex<Vec<ProgressUpdate>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let p = Progress::new(move |u: &ProgressUpdate| log.lock().unwrap().push(*u)).every(every);
        (p, seen)
    }

    #[tokio::test(start_paused = true)]
    async fn reports_say_bytes_rate_and_time_left_at_most_once_per_interval() {
        let (p, seen) = recorded(Duration::from_secs(1));
        let mut t = p.tracker(Some(1000));
        t.advance(100);
        tokio::time::sleep(Duration::from_millis(500)).await;
        t.advance(100);
        assert!(seen.lock().unwrap().is_empty(), "within the interval: no report");
        tokio::time::sleep(Duration::from_millis(500)).await;
        t.advance(200);
        let first = seen.lock().unwrap()[0];
        assert_eq!((first.bytes, first.total, first.done), (400, Some(1000), false));
        assert_eq!(first.elapsed, Duration::from_secs(1));
        assert_eq!(first.bytes_per_second, 400.0);
        assert_eq!(first.eta, Some(Duration::from_millis(1500)));

        // A total learnt later replaces the first; None does not erase it.
        t.set_total(Some(2000));
        t.set_total(None);
        tokio::time::sleep(Duration::from_secs(1)).await;
        t.finish();
        let last = *seen.lock().unwrap().last().unwrap();
        assert_eq!((last.bytes, last.total, last.done), (400, Some(2000), true));
        assert_eq!(last.bytes_per_second, 200.0);
        assert_eq!(last.eta, Some(Duration::from_secs(8)));
        assert_eq!(seen.lock().unwrap().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn no_rate_no_time_left_and_none_past_the_total() {
        let (p, seen) = recorded(Duration::from_millis(100));
        p.tracker(Some(10)).finish();
        let at_once = seen.lock().unwrap()[0];
        assert_eq!((at_once.bytes_per_second, at_once.eta), (0.0, None), "nothing measured yet");
        let mut t = p.tracker(Some(10));
        tokio::time::sleep(Duration::from_secs(1)).await;
        t.advance(15);
        let past = *seen.lock().unwrap().last().unwrap();
        assert_eq!((past.bytes, past.eta), (15, None), "more than the total: no estimate");
        let mut t = p.tracker(None);
        tokio::time::sleep(Duration::from_secs(1)).await;
        t.advance(5);
        assert_eq!(seen.lock().unwrap().last().unwrap().eta, None, "no total: no estimate");
    }
}
