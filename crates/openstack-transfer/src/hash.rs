//! Digests computed while the bytes pass: md5, sha256, sha512.
//!
//! With [`HashMode::Threads`] every algorithm runs on its own thread fed through a bounded
//! queue of `Bytes` (refcounted slices, no copies), so a transfer hashing md5 + sha512 runs
//! at the speed of the slower hash rather than the sum of both; the queue bound gives
//! backpressure and keeps memory flat. [`HashMode::Inline`] hashes on the caller's task.

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
    /// A fresh hasher.
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

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Hashes a whole buffer at once (convenience for small data).
pub fn digest_hex(algorithm: Algorithm, data: &[u8]) -> String {
    let mut h = Hasher::new(algorithm);
    h.update(data);
    h.finish_hex()
}

/// The digests of a completed transfer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
pub enum HashMode {
    /// One thread per algorithm, fed through a bounded queue (default).
    #[default]
    Threads,
    /// On the transfer's own task, one algorithm after the other.
    Inline,
}

/// Frames queued per hashing thread; with 256 KiB reads this bounds memory to a few MiB.
const QUEUE_FRAMES: usize = 16;

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
        HashMode::Threads => Feed::Threads(
            algorithms
                .iter()
                .map(|&a| {
                    let (tx, rx) = oneshot::channel();
                    values.push((a, rx));
                    let (data_tx, mut data_rx) = mpsc::channel::<Bytes>(QUEUE_FRAMES);
                    std::thread::Builder::new()
                        .name(format!("hash-{a}"))
                        .spawn(move || {
                            let mut h = Hasher::new(a);
                            while let Some(b) = data_rx.blocking_recv() {
                                h.update(&b);
                            }
                            let _ = tx.send(h.finish_hex());
                        })
                        .expect("spawning a hashing thread");
                    PollSender::new(data_tx)
                })
                .collect(),
        ),
    };
    (HashFeeder { feed, bytes: 0, done: Some(done_tx) }, HashResults { done: done_rx, values })
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
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(digest_hex(Algorithm::Md5, b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            digest_hex(Algorithm::Sha256, b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(digest_hex(Algorithm::Sha512, b"abc").starts_with("ddaf35a193617aba"));
        assert_eq!("SHA-512".parse::<Algorithm>().unwrap(), Algorithm::Sha512);
        assert!("crc32".parse::<Algorithm>().is_err());
    }

    async fn run(mode: HashMode) -> Digests {
        let (mut feeder, results) =
            pipeline(&[Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512], mode);
        let data = Bytes::from(vec![7u8; 1 << 20]);
        for chunk in data.chunks(4096 * 7) {
            feeder.ready().await.unwrap();
            feeder.update(&data.slice_ref(chunk));
        }
        feeder.finish();
        results.wait().await.unwrap()
    }

    #[tokio::test]
    async fn threads_and_inline_agree_with_one_shot_hashing() {
        let data = vec![7u8; 1 << 20];
        let a = run(HashMode::Threads).await;
        let b = run(HashMode::Inline).await;
        assert_eq!(a, b);
        assert_eq!(a.bytes, 1 << 20);
        for alg in [Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512] {
            assert_eq!(a.get(alg).unwrap(), digest_hex(alg, &data));
        }
    }

    #[tokio::test]
    async fn dropped_feeder_yields_no_digest() {
        let (mut feeder, results) = pipeline(&[Algorithm::Sha256], HashMode::Threads);
        feeder.ready().await.unwrap();
        feeder.update(&Bytes::from_static(b"partial"));
        drop(feeder);
        assert!(matches!(results.wait().await, Err(TransferError::Incomplete { .. })));
    }
}
