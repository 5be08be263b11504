//! How a download runs: digests, hashing mode, resumes, progress, durability, connections.

#[cfg(doc)]
use crate::download::{Download, RangeSource};
use crate::hash::{Algorithm, HashMode};
use crate::progress::Progress;

/// How a download runs.
#[derive(Debug, Clone)]
#[must_use]
#[non_exhaustive]
pub struct DownloadOptions {
    /// Extra digests to compute (the expected one is always computed).
    pub extra_algorithms: Vec<Algorithm>,
    /// Where hashing runs.
    pub mode: HashMode,
    /// How many times a broken connection is resumed (default 5).
    pub max_resumes: u32,
    /// Progress callback.
    pub progress: Option<Progress>,
    /// Whether a path sink makes the file durable (fsync) before renaming it into place
    /// (default true). See [`DownloadOptions::durable`].
    pub durable: bool,
    /// Connections fetching parts at once (default 1). See [`DownloadOptions::connections`].
    pub connections: usize,
    /// Bytes per part when fetching over several connections; `None` (default): see
    /// [`DownloadOptions::part_size`].
    pub part_size: Option<u64>,
    /// Adaptive: the other connections start only if the first part arrived slower than
    /// this many bytes per second. See [`DownloadOptions::connections_if_slower_than`].
    pub widen_below: Option<u64>,
}

/// The largest default part of a download over several connections.
pub const DEFAULT_PART_SIZE: u64 = 4 << 20;

/// What the parts held in a download's reorder window add up to at most, by default.
pub const DEFAULT_WINDOW_BYTES: u64 = 24 << 20;

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            extra_algorithms: Vec::new(),
            mode: HashMode::Threads,
            max_resumes: 5,
            progress: None,
            durable: true,
            connections: 1,
            part_size: None,
            widen_below: None,
        }
    }
}

impl DownloadOptions {
    /// Sets the resume budget.
    pub fn max_resumes(mut self, n: u32) -> Self {
        self.max_resumes = n;
        self
    }
    /// Adds digests to compute besides the expected one.
    pub fn extra_algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.extra_algorithms = algorithms.to_vec();
        self
    }
    /// Sets the hashing mode.
    pub fn mode(mut self, mode: HashMode) -> Self {
        self.mode = mode;
        self
    }
    /// Sets a progress callback.
    pub fn progress(mut self, p: Progress) -> Self {
        self.progress = Some(p);
        self
    }
    /// Whether [`Download::to_path`] flushes the file to disk (fsync) before renaming it
    /// into place. Default true: once the call returns, the verified file survives a
    /// crash. With false the file is still verified before it appears at the path, but it
    /// reaches the disk whenever the OS writes it back (what most download tools do); that
    /// is faster when the disk is busy, and a power loss soon after may leave an empty or
    /// partial file at the path. For scratch space and tmpfs.
    pub fn durable(mut self, durable: bool) -> Self {
        self.durable = durable;
        self
    }
    /// Fetches the object over `n` connections at once (default 1), in parts of
    /// [`DownloadOptions::part_size`] bytes, when the source can [`RangeSource::fork`] and the
    /// object is larger than one part. The data is still hashed and delivered in order: at
    /// most `n` parts are held in memory (a reorder window; by default at most
    /// [`DEFAULT_WINDOW_BYTES`] in all), however large the object and however slow one
    /// connection. Each part resumes on its own after a broken
    /// connection (from the same budget, [`DownloadOptions::max_resumes`]); a server that
    /// answers a range with the whole object is read on one connection from there. Worth it
    /// when one stream is capped below the link (latency, a per-connection limit, a backend
    /// serving one stream at a time); on a fast local link one connection is as fast.
    ///
    /// Each connection asks for its next part about one round trip (as last measured)
    /// before the current part ends, on a second socket of its own, so the next part's
    /// first byte follows the current part's last without a request's round trip between
    /// them (what HTTP/1.1 pipelining would give, which servers and proxies rarely honour).
    /// So up to `2n` sockets are open, and `n` responses stream at any time.
    pub fn connections(mut self, n: usize) -> Self {
        self.connections = n.max(1);
        self.widen_below = None;
        self
    }
    /// As [`DownloadOptions::connections`], but only when one stream is slow: the first part
    /// is read from the first response alone, and the other `n - 1` connections start only
    /// if it arrived slower than `bytes_per_second`; otherwise that one response is read to
    /// the end (no more requests: on a fast link, one stream is as fast and cheaper).
    pub fn connections_if_slower_than(mut self, n: usize, bytes_per_second: u64) -> Self {
        self.connections = n.max(1);
        self.widen_below = Some(bytes_per_second);
        self
    }
    /// Bytes per part with several connections (at least 64 KiB). Default:
    /// [`DEFAULT_PART_SIZE`], or less with many connections, so that the `n` parts the
    /// window holds stay within [`DEFAULT_WINDOW_BYTES`] (but not under 1 MiB a part: with 8
    /// connections, 3 MiB). Larger parts pay fewer requests and hold more memory; a part
    /// should take longer to arrive than a round trip, so its successor can be asked for in
    /// time.
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = Some(bytes.max(64 << 10));
        self
    }

    /// The part size in effect with `connections`.
    pub(crate) fn part_len(&self, connections: usize) -> u64 {
        self.part_size.unwrap_or_else(|| {
            (DEFAULT_WINDOW_BYTES / connections.max(1) as u64).clamp(1 << 20, DEFAULT_PART_SIZE)
        })
    }
}
