//! Digests computed while the bytes pass: md5, sha256, sha512.
//!
//! With [`HashMode::Threads`] the algorithms run on hashing threads ("lanes") fed through
//! bounded queues of `Bytes` (refcounted slices, no copies), so a transfer hashing md5 +
//! sha512 runs at the speed of the slower hash rather than the sum of both; the queue bound
//! gives backpressure and keeps memory flat. There are never more lanes than cores: with
//! more algorithms than cores, they are packed into lanes of about equal cost (on two cores,
//! md5 + sha256 share one lane and sha512 has the other), because a third thread fighting for
//! two cores costs more in switches than it gains. [`HashMode::Inline`] hashes on the
//! caller's task.

use std::fmt;
use std::str::FromStr;
use std::task::{Context, Poll};

use bytes::Bytes;
use md5::Md5;
use sha2::{Digest as _, Sha256, Sha512};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::PollSender;

use crate::error::TransferError;

/// A digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// MD5 (Glance's legacy `checksum`).
    Md5,
    /// SHA-256.
    Sha256,
    /// SHA-512 (Glance's default `os_hash_algo`).
    Sha512,
}

impl Algorithm {
    /// The lowercase name (`md5`, `sha256`, `sha512`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Relative CPU cost per byte (nanoseconds per KiB on the machine this was tuned on,
    /// single core); only the ratios matter, to balance lanes.
    fn cost(self) -> u32 {
        let openssl = cfg!(feature = "openssl");
        match self {
            Algorithm::Md5 if openssl => 1600,
            Algorithm::Md5 => 2080,
            // With SHA-NI sha256 is the cheapest by far; without it, the dearest.
            Algorithm::Sha256 if sha_extensions() => 700,
            Algorithm::Sha256 => 3000,
            Algorithm::Sha512 if openssl => 1360,
            Algorithm::Sha512 => 2770,
        }
    }

    /// Length of the hex digest.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 => 32,
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = TransferError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "md5" => Ok(Algorithm::Md5),
            "sha256" => Ok(Algorithm::Sha256),
            "sha512" => Ok(Algorithm::Sha512),
            _ => Err(TransferError::InvalidArgument(format!(
                "unknown digest algorithm {s:?} (supported: md5, sha256, sha512)"
            ))),
        }
    }
}

/// One running digest.
///
/// Pure Rust (RustCrypto) by default; with the `openssl` feature, OpenSSL's implementations
/// (measured here: sha512 1.77x, md5 1.30x faster), at the cost of linking the system libssl.
#[derive(Clone)]
pub struct Hasher {
    algorithm: Algorithm,
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Md5(Md5),
    Sha256(Sha256),
    Sha512(Box<Sha512>),
    #[cfg(feature = "openssl")]
    OpenSsl(openssl::hash::Hasher),
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hasher({}, {})", self.algorithm, backend())
    }
}

/// The digest implementation in use: `rustcrypto` or `openssl`.
pub fn backend() -> &'static str {
    if cfg!(feature = "openssl") { "openssl" } else { "rustcrypto" }
}

impl Hasher {
    /// A fresh hasher: feed it with [`Hasher::update`], read it with [`Hasher::finish_hex`].
    ///
    /// ```
    /// use openstack_transfer::{Algorithm, Hasher, digest_hex};
    /// let mut h = Hasher::new(Algorithm::Sha512);
    /// h.update(b"hel");
    /// h.update(b"lo");
    /// assert_eq!(h.finish_hex(), digest_hex(Algorithm::Sha512, b"hello"));
    /// ```
    pub fn new(algorithm: Algorithm) -> Hasher {
        #[cfg(feature = "openssl")]
        {
            use openssl::hash::MessageDigest;
            let md = match algorithm {
                Algorithm::Md5 => MessageDigest::md5(),
                Algorithm::Sha256 => MessageDigest::sha256(),
                Algorithm::Sha512 => MessageDigest::sha512(),
            };
            // Fails only when libssl lacks the algorithm (e.g. md5 under a FIPS provider).
            if let Ok(h) = openssl::hash::Hasher::new(md) {
                return Hasher { algorithm, inner: Inner::OpenSsl(h) };
            }
        }
        let inner = match algorithm {
            Algorithm::Md5 => Inner::Md5(Md5::new()),
            Algorithm::Sha256 => Inner::Sha256(Sha256::new()),
            Algorithm::Sha512 => Inner::Sha512(Box::new(Sha512::new())),
        };
        Hasher { algorithm, inner }
    }

    /// Its algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.inner {
            Inner::Md5(h) => h.update(data),
            Inner::Sha256(h) => h.update(data),
            Inner::Sha512(h) => h.update(data),
            #[cfg(feature = "openssl")]
            Inner::OpenSsl(h) => h.update(data).expect("OpenSSL digest update does not fail"),
        }
    }

    /// The lowercase hex digest.
    pub fn finish_hex(self) -> String {
        match self.inner {
            Inner::Md5(h) => hex(&h.finalize()),
            Inner::Sha256(h) => hex(&h.finalize()),
            Inner::Sha512(h) => hex(&h.finalize()),
            #[cfg(feature = "openssl")]
            Inner::OpenSsl(mut h) => hex(&h.finish().expect("OpenSSL digest finish does not fail")),
        }
    }
}

/// Whether the CPU has the SHA extensions (sha256 in hardware).
fn sha_extensions() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("sha")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("sha2")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// Packs `algorithms` into at most `lanes` groups of about equal cost (longest first, each
/// into the cheapest lane so far). Every algorithm appears once; no lane is empty.
pub(crate) fn plan_lanes(algorithms: &[Algorithm], lanes: usize) -> Vec<Vec<Algorithm>> {
    let lanes = lanes.clamp(1, algorithms.len().max(1));
    let mut sorted = algorithms.to_vec();
    sorted.sort_by_key(|a| std::cmp::Reverse(a.cost()));
    let mut plan: Vec<(u32, Vec<Algorithm>)> = vec![(0, Vec::new()); lanes];
    for a in sorted {
        let lane = plan.iter_mut().min_by_key(|(load, _)| *load).expect("at least one lane");
        lane.0 += a.cost();
        lane.1.push(a);
    }
    plan.into_iter().map(|(_, algs)| algs).filter(|algs| !algs.is_empty()).collect()
}

/// Cores this process may use (1 when unknown); asked once (on Linux it reads cgroup files).
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Hashes a whole buffer at once (convenience for small data).
///
/// ```
/// use openstack_transfer::{Algorithm, digest_hex};
/// assert_eq!(digest_hex(Algorithm::Md5, b"hello"), "5d41402abc4b2a76b9719d911017c592");
/// assert_eq!(digest_hex(Algorithm::Sha256, b"").len(), 64);
/// ```
pub fn digest_hex(algorithm: Algorithm, data: &[u8]) -> String {
    let mut h = Hasher::new(algorithm);
    h.update(data);
    h.finish_hex()
}

/// The digests of a completed transfer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Digests {
    /// Bytes hashed.
    pub bytes: u64,
    /// `(algorithm, lowercase hex)` in the order asked for.
    pub values: Vec<(Algorithm, String)>,
}

impl Digests {
    /// The hex digest for `algorithm`, if it was computed.
    pub fn get(&self, algorithm: Algorithm) -> Option<&str> {
        self.values.iter().find(|(a, _)| *a == algorithm).map(|(_, h)| h.as_str())
    }
}

/// Where hashing runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HashMode {
    /// Hashing threads fed through bounded queues (default): one per algorithm, or fewer
    /// when there are fewer cores than algorithms (then algorithms share a lane, balanced by
    /// cost).
    #[default]
    Threads,
    /// At most this many hashing threads, algorithms balanced by cost (`Lanes(1)`: one
    /// thread for all; more than the algorithms: one each). For measurements and for
    /// callers who want to leave cores to other work.
    Lanes(usize),
    /// On the transfer's own task, one algorithm after the other.
    Inline,
}

/// Frames queued per hashing thread; with 256 KiB reads this bounds memory to a few MiB.
const QUEUE_FRAMES: usize = 16;

/// A lane hashing several algorithms feeds each this much at a time, so the slice is still
/// in cache for the next one.
const LANE_SLICE: usize = 64 * 1024;

enum Feed {
    Inline(Vec<(Hasher, oneshot::Sender<String>)>),
    Threads(Vec<PollSender<Bytes>>),
}

/// The feeding half of a hash pipeline: lives in the body or download loop.
pub struct HashFeeder {
    feed: Feed,
    bytes: u64,
    done: Option<oneshot::Sender<u64>>,
}

impl fmt::Debug for HashFeeder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashFeeder").field("bytes", &self.bytes).finish_non_exhaustive()
    }
}

/// The result half: resolves to the [`Digests`] once the feeder finished.
#[derive(Debug)]
pub struct HashResults {
    done: oneshot::Receiver<u64>,
    values: Vec<(Algorithm, oneshot::Receiver<String>)>,
}

/// Creates a pipeline hashing `algorithms` in `mode`.
pub fn pipeline(algorithms: &[Algorithm], mode: HashMode) -> (HashFeeder, HashResults) {
    let (done_tx, done_rx) = oneshot::channel();
    let mut values = Vec::new();
    let feed = match mode {
        HashMode::Inline => Feed::Inline(
            algorithms
                .iter()
                .map(|&a| {
                    let (tx, rx) = oneshot::channel();
                    values.push((a, rx));
                    (Hasher::new(a), tx)
                })
                .collect(),
        ),
        HashMode::Threads | HashMode::Lanes(_) => {
            let lanes = if let HashMode::Lanes(n) = mode { n } else { cores() };
            let mut unique = algorithms.to_vec();
            unique.sort();
            unique.dedup();
            let mut receivers: Vec<_> = algorithms
                .iter()
                .map(|&a| {
                    let (tx, rx) = oneshot::channel();
                    values.push((a, rx));
                    (a, Some(tx))
                })
                .collect();
            Feed::Threads(
                plan_lanes(&unique, lanes)
                    .into_iter()
                    .map(|lane| {
                        // Each algorithm hashed once, even when asked twice.
                        let outs: Vec<(Hasher, Vec<oneshot::Sender<String>>)> = lane
                            .iter()
                            .map(|&a| {
                                let txs = receivers
                                    .iter_mut()
                                    .filter(|(b, _)| *b == a)
                                    .filter_map(|(_, tx)| tx.take())
                                    .collect();
                                (Hasher::new(a), txs)
                            })
                            .collect();
                        let name = lane.iter().map(|a| a.as_str()).collect::<Vec<_>>().join("+");
                        let (data_tx, data_rx) = mpsc::channel::<Bytes>(QUEUE_FRAMES);
                        std::thread::Builder::new()
                            .name(format!("hash-{name}"))
                            .spawn(move || run_lane(outs, data_rx))
                            .expect("spawning a hashing thread");
                        PollSender::new(data_tx)
                    })
                    .collect(),
            )
        }
    };
    (HashFeeder { feed, bytes: 0, done: Some(done_tx) }, HashResults { done: done_rx, values })
}

/// A hashing thread: feeds every frame to its hashers, then sends each final digest.
fn run_lane(
    mut hashers: Vec<(Hasher, Vec<oneshot::Sender<String>>)>,
    mut data: mpsc::Receiver<Bytes>,
) {
    while let Some(b) = data.blocking_recv() {
        if let [(h, _)] = hashers.as_mut_slice() {
            h.update(&b);
        } else {
            for slice in b.chunks(LANE_SLICE) {
                for (h, _) in hashers.iter_mut() {
                    h.update(slice);
                }
            }
        }
    }
    for (h, txs) in hashers {
        let hex = h.finish_hex();
        for tx in txs {
            let _ = tx.send(hex.clone());
        }
    }
}

impl HashFeeder {
    /// Ready to take the next frame (room in every queue).
    pub fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TransferError>> {
        if let Feed::Threads(senders) = &mut self.feed {
            for s in senders.iter_mut() {
                match s.poll_reserve(cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(_)) => {
                        return Poll::Ready(Err(TransferError::Incomplete {
                            message: "a hashing thread stopped".into(),
                        }));
                    }
                    Poll::Pending => return Poll::Pending,
                }
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Waits until [`HashFeeder::update`] may be called.
    ///
    /// # Errors
    /// When a hashing thread died.
    pub async fn ready(&mut self) -> Result<(), TransferError> {
        std::future::poll_fn(|cx| self.poll_ready(cx)).await
    }

    /// Feeds a frame. With threads, call only after `poll_ready` returned ready.
    pub fn update(&mut self, data: &Bytes) {
        self.bytes += data.len() as u64;
        match &mut self.feed {
            Feed::Inline(hashers) => {
                for (h, _) in hashers.iter_mut() {
                    h.update(data);
                }
            }
            Feed::Threads(senders) => {
                for s in senders.iter_mut() {
                    let _ = s.send_item(data.clone());
                }
            }
        }
    }

    /// Bytes fed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Ends the input: the results resolve once every digest is final.
    pub fn finish(mut self) {
        match std::mem::replace(&mut self.feed, Feed::Inline(Vec::new())) {
            Feed::Inline(hashers) => {
                for (h, tx) in hashers {
                    let _ = tx.send(h.finish_hex());
                }
            }
            Feed::Threads(senders) => drop(senders),
        }
        if let Some(done) = self.done.take() {
            let _ = done.send(self.bytes);
        }
    }
}

impl HashResults {
    /// The digests, once the feeder finished.
    ///
    /// # Errors
    /// [`TransferError::Incomplete`] when the feeder was dropped before its end (the
    /// transfer failed or was abandoned): partial digests are never reported.
    pub async fn wait(self) -> Result<Digests, TransferError> {
        let bytes = self.done.await.map_err(|_| TransferError::Incomplete {
            message: "the data ended before the end of the transfer".into(),
        })?;
        let mut values = Vec::with_capacity(self.values.len());
        for (a, rx) in self.values {
            let hex = rx.await.map_err(|_| TransferError::Incomplete {
                message: format!("the {a} hashing thread stopped"),
            })?;
            values.push((a, hex));
        }
        Ok(Digests { bytes, values })
    }
}

#[cfg(test)]
mod tests;
