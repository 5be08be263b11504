//! Verified downloads: to a path (atomic), to a writer, or as a stream; resumable.
//!
//! A [`Download`] pulls bytes from a [`RangeSource`], feeds them to the hashers, and checks
//! the byte count and the expected digest at the end. When the connection breaks mid-body
//! it asks the source again from the current offset (`Range: bytes=N-`), checks that the
//! answer continues the same object, and keeps feeding the same hashers. A server that
//! ignores the range (answers 200 with the whole object) is handled by skipping the bytes
//! already seen.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;

use crate::download_options::DownloadOptions;
use crate::error::TransferError;
use crate::hash::{Algorithm, Digests, HashFeeder, HashResults, pipeline};
use crate::progress::Tracker;

/// The body of one response, as a stream of chunks.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, TransferError>> + Send>>;

/// One (re)opened response.
pub struct Opened {
    /// Whether the server honoured the range (206).
    pub partial: bool,
    /// The first byte's offset (from `Content-Range`; 0 for a 200).
    pub start: u64,
    /// The whole object's size, when known (`Content-Range` total or `Content-Length`).
    pub total: Option<u64>,
    /// What identifies the object's content (ETag, `Content-MD5`, ...), compared across resumes.
    pub identity: Option<String>,
    /// The body.
    pub body: ByteStream,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("partial", &self.partial)
            .field("start", &self.start)
            .field("total", &self.total)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// Future returned by [`RangeSource::open`].
pub type OpenFuture<'a> = Pin<Box<dyn Future<Output = Result<Opened, TransferError>> + Send + 'a>>;

/// How to (re)request the object: `open(0)` for the whole, `open(n)` for `bytes=n-`.
pub trait RangeSource: Send {
    /// Requests the object from `offset`.
    fn open(&mut self, offset: u64) -> OpenFuture<'_>;

    /// Requests bytes `offset..end` (`Range: bytes=offset-(end - 1)`), for one part of a
    /// download over several connections. The default asks for everything from `offset`
    /// ([`RangeSource::open`]); the download reads only up to `end`.
    fn open_range(&mut self, offset: u64, end: u64) -> OpenFuture<'_> {
        let _ = end;
        self.open(offset)
    }

    /// Another source for the same object, for one more connection
    /// ([`DownloadOptions::connections`]). The default, `None`, keeps a download to one
    /// connection.
    fn fork(&self) -> Option<Box<dyn RangeSource>> {
        None
    }
}

/// What the downloaded object must be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// Its size in bytes.
    pub size: Option<u64>,
    /// Its digest: algorithm and lowercase hex.
    pub digest: Option<(Algorithm, String)>,
}

/// What a finished download saw.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadReport {
    /// Bytes delivered.
    pub bytes: u64,
    /// Digests computed (the expected one first).
    pub digests: Digests,
    /// How many times the transfer resumed after a broken connection.
    pub resumes: u32,
    /// How many connections fetched parts at once: 1 for one stream, which is also what a
    /// download asked for several uses when its first part came fast enough
    /// ([`DownloadOptions::connections_if_slower_than`](crate::DownloadOptions)) or when the
    /// object is a single part; fewer than asked when the object has fewer parts than that.
    pub connections: usize,
}

/// A verified download in progress. Use one of the sinks: [`Download::to_path`],
/// [`Download::to_writer`], [`Download::into_stream`].
pub struct Download {
    source: Box<dyn RangeSource>,
    expected: Expected,
    body: Option<ByteStream>,
    offset: u64,
    skip: u64,
    identity: Option<String>,
    total: Option<u64>,
    resumes_left: u32,
    resumes: u32,
    feeder: Option<HashFeeder>,
    results: Option<HashResults>,
    tracker: Option<Tracker>,
    connections: usize,
    part_size: u64,
    widen_below: Option<u64>,
    /// When the first response began (adaptive: its first part's speed decides).
    first_at: Option<std::time::Instant>,
    /// Connections the parallel fetch started with (1: none started).
    connections_used: usize,
    /// Resumes of the parts of a parallel fetch.
    part_resumes: std::sync::Arc<std::sync::atomic::AtomicU32>,
    finished: bool,
    durable: bool,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("expected", &self.expected)
            .field("offset", &self.offset)
            .field("resumes", &self.resumes)
            .finish_non_exhaustive()
    }
}

impl Download {
    /// Starts nothing yet; the first chunk request opens the source.
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
    /// let expected = Expected { size: Some(data.len() as u64), digest: Some((Algorithm::Sha512, sha512)) };
    /// let download = Download::new(Memory(data.clone()), expected, &DownloadOptions::default());
    /// let report = download.to_path(std::env::temp_dir().join("demo.img")).await?;
    /// println!("{} bytes, verified", report.bytes);
    /// # std::fs::remove_file(std::env::temp_dir().join("demo.img")).unwrap();
    /// # Ok(()) }
    /// ```
    pub fn new(
        source: impl RangeSource + 'static,
        expected: Expected,
        options: &DownloadOptions,
    ) -> Download {
        let mut algorithms: Vec<Algorithm> = expected.digest.iter().map(|(a, _)| *a).collect();
        for a in &options.extra_algorithms {
            if !algorithms.contains(a) {
                algorithms.push(*a);
            }
        }
        let (feeder, results) = pipeline(&algorithms, options.mode);
        Download {
            source: Box::new(source),
            tracker: options.progress.as_ref().map(|p| p.tracker(expected.size)),
            expected,
            body: None,
            offset: 0,
            skip: 0,
            identity: None,
            total: None,
            resumes_left: options.max_resumes,
            resumes: 0,
            feeder: Some(feeder),
            results: Some(results),
            finished: false,
            durable: options.durable,
            connections: options.connections,
            part_size: options.part_len(options.connections),
            widen_below: options.widen_below,
            first_at: None,
            connections_used: 1,
            part_resumes: Default::default(),
        }
    }

    async fn open(&mut self) -> Result<(), TransferError> {
        let opened = self.source.open(self.offset).await?;
        if self.offset == 0 {
            self.identity = opened.identity.clone();
            self.total = opened.total;
            if let (Some(t), Some(size)) = (opened.total, self.expected.size) {
                if t != size {
                    return Err(TransferError::SizeMismatch { expected: size, actual: t });
                }
            }
            if let Some(t) = self.tracker.as_mut() {
                t.set_total(opened.total);
            }
            if self.widen_below.is_some() {
                self.first_at = Some(std::time::Instant::now());
            } else if let Some(parallel) = self.parallel(opened.total, 0) {
                self.body = Some(parallel(Some(opened.body)));
                return Ok(());
            }
        } else {
            if opened.identity.is_some()
                && self.identity.is_some()
                && opened.identity != self.identity
            {
                return Err(TransferError::Resume {
                    message: format!(
                        "the object changed ({:?} became {:?})",
                        self.identity, opened.identity
                    ),
                });
            }
            if opened.total.is_some() && self.total.is_some() && opened.total != self.total {
                return Err(TransferError::Resume {
                    message: format!(
                        "the object's size changed ({:?} became {:?})",
                        self.total, opened.total
                    ),
                });
            }
            if opened.partial {
                if opened.start != self.offset {
                    return Err(TransferError::Resume {
                        message: format!(
                            "asked for bytes from {} but the server sent from {}",
                            self.offset, opened.start
                        ),
                    });
                }
            } else {
                // The server ignored the range and sends everything again: skip what we have.
                tracing::debug!(
                    offset = self.offset,
                    "server ignored Range; skipping bytes already received"
                );
                self.skip = self.offset;
            }
        }
        self.body = Some(opened.body);
        Ok(())
    }

    /// The parallel fetch of the object from `origin`, when asked for and possible (more
    /// than a part is left and the source forks): given the first response's body when
    /// `origin` is 0, the body to read instead.
    fn parallel(
        &mut self,
        total: Option<u64>,
        origin: u64,
    ) -> Option<impl FnOnce(Option<ByteStream>) -> ByteStream + use<>> {
        let total = total.or(self.expected.size)?;
        if self.connections < 2 || total.saturating_sub(origin) <= self.part_size {
            return None;
        }
        let plan = crate::parallel::Plan {
            total,
            part: self.part_size,
            connections: self.connections.min((total - origin).div_ceil(self.part_size) as usize),
            origin,
        };
        let sources: Vec<Box<dyn RangeSource>> =
            (0..plan.connections).map_while(|_| self.source.fork()).collect();
        if sources.len() < plan.connections {
            return None;
        }
        self.connections_used = plan.connections;
        let (identity, budget, resumes) =
            (self.identity.clone(), self.resumes_left, self.part_resumes.clone());
        Some(move |first| crate::parallel::start(plan, first, identity, sources, budget, resumes).0)
    }

    /// Adaptive: once the first response delivered a part, the other connections take over
    /// from here if it came slower than asked; otherwise it is read to the end.
    fn widen_if_slow(&mut self) {
        let Some(started) = self.first_at else { return };
        if self.offset < self.part_size {
            return;
        }
        self.first_at = None;
        let below = self.widen_below.unwrap_or(0);
        let rate = self.offset as f64 / started.elapsed().as_secs_f64().max(1e-9);
        if rate >= below as f64 {
            return;
        }
        if let Some(parallel) = self.parallel(self.total, self.offset) {
            tracing::debug!(offset = self.offset, rate, "one stream is slow: more connections");
            self.body = Some(parallel(None));
        }
    }

    /// The next verified chunk; `None` at the verified end.
    ///
    /// # Errors
    /// [`TransferError::ChecksumMismatch`] / [`TransferError::SizeMismatch`] at the end,
    /// [`TransferError::Interrupted`] when the resume budget is spent, [`TransferError::Resume`]
    /// when the object changed.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, TransferError> {
        if self.finished {
            return Ok(None);
        }
        loop {
            if self.body.is_none() {
                match self.open().await {
                    Ok(()) => {}
                    Err(e) if e.is_resumable() && self.offset > 0 && self.resumes_left > 0 => {
                        self.resumes_left -= 1;
                        self.resumes += 1;
                        continue;
                    }
                    Err(e) => return Err(self.fail(e)),
                }
            }
            let next = self.body.as_mut().expect("opened").next().await;
            match next {
                Some(Ok(mut chunk)) => {
                    if self.skip > 0 {
                        let n = (self.skip.min(chunk.len() as u64)) as usize;
                        self.skip -= n as u64;
                        chunk = chunk.slice(n..);
                    }
                    if chunk.is_empty() {
                        continue;
                    }
                    self.offset += chunk.len() as u64;
                    if let Some(size) = self.expected.size.or(self.total) {
                        if self.offset > size {
                            return Err(self.fail(TransferError::SizeMismatch {
                                expected: size,
                                actual: self.offset,
                            }));
                        }
                    }
                    self.widen_if_slow();
                    let feeder = self.feeder.as_mut().expect("feeder until the end");
                    feeder.ready().await?;
                    feeder.update(&chunk);
                    if let Some(t) = self.tracker.as_mut() {
                        t.advance(chunk.len() as u64);
                    }
                    return Ok(Some(chunk));
                }
                Some(Err(e)) if self.skip == 0 && self.all_bytes_arrived() => {
                    // Every byte arrived and then the connection broke (Glance's cache
                    // aborts a response whose data fails its own check, after sending it):
                    // there is nothing to resume; verification decides.
                    tracing::debug!(offset = self.offset, error = %e, "connection broke after the last byte");
                    self.body = None;
                    self.finished = true;
                    return Ok(None);
                }
                Some(Err(e)) if e.is_resumable() && self.resumes_left > 0 => {
                    tracing::debug!(offset = self.offset, error = %e, "connection broke; resuming");
                    self.resumes_left -= 1;
                    self.resumes += 1;
                    self.body = None;
                }
                Some(Err(e)) => return Err(self.fail(e)),
                None => {
                    if self.skip > 0 {
                        return Err(self.fail(TransferError::Resume {
                            message: "the restarted body ended before reaching the resume point"
                                .into(),
                        }));
                    }
                    if let Some(size) = self.expected.size.or(self.total) {
                        if self.offset < size {
                            // Hyper normally reports a short body itself; a source may not.
                            if self.resumes_left > 0 {
                                self.resumes_left -= 1;
                                self.resumes += 1;
                                self.body = None;
                                continue;
                            }
                            return Err(self.fail(TransferError::SizeMismatch {
                                expected: size,
                                actual: self.offset,
                            }));
                        }
                    }
                    self.finished = true;
                    return Ok(None);
                }
            }
        }
    }

    /// The object's size is known and that many bytes arrived.
    fn all_bytes_arrived(&self) -> bool {
        self.expected.size.or(self.total).is_some_and(|size| size > 0 && self.offset == size)
    }

    fn fail(&mut self, e: TransferError) -> TransferError {
        self.feeder = None;
        self.body = None;
        self.finished = true;
        e
    }

    /// Verifies the digests after the last chunk.
    async fn verify(&mut self) -> Result<DownloadReport, TransferError> {
        if let Some(f) = self.feeder.take() {
            f.finish();
        }
        let results = self.results.take().ok_or_else(|| TransferError::Incomplete {
            message: "the download was already verified".into(),
        })?;
        let digests = results.wait().await?;
        if let Some((alg, expected)) = &self.expected.digest {
            let actual = digests.get(*alg).unwrap_or_default();
            if !actual.eq_ignore_ascii_case(expected) {
                return Err(TransferError::ChecksumMismatch {
                    algorithm: *alg,
                    expected: expected.clone(),
                    actual: actual.to_string(),
                });
            }
        }
        if let Some(t) = self.tracker.as_mut() {
            t.finish();
        }
        let resumes = self.resumes + self.part_resumes.load(std::sync::atomic::Ordering::Relaxed);
        Ok(DownloadReport {
            bytes: self.offset,
            digests,
            resumes,
            connections: self.connections_used,
        })
    }
}

#[path = "download_sinks.rs"]
mod sinks;

#[cfg(test)]
mod tests;
