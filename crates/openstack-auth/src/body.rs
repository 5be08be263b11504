//! Request and response bodies of the session.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;

use crate::error::Error;

/// The error type streaming request bodies may fail with.
pub(crate) use crate::error::BoxError;

/// A boxed streaming body, as produced by the transfer engine.
pub type StreamBody = UnsyncBoxBody<Bytes, BoxError>;

/// Makes a fresh copy of a streaming body (e.g. by reopening a file), for replays.
pub type BodyFactory = Arc<dyn Fn() -> Result<StreamBody, BoxError> + Send + Sync>;

/// The body of a request sent through the session.
///
/// Whether a request may be retried depends on its body: empty and in-memory bodies and
/// bodies with a [`BodyFactory`] can be sent again; a one-shot stream cannot, and the session
/// never re-sends one (it reports [`Error::NotReplayable`] instead).
pub struct RequestBody {
    kind: Kind,
    /// Set by the transport while a streaming body is sent, to notice a server that stopped
    /// reading.
    watch: Option<Arc<SendWatch>>,
    /// The rest of a frame being handed over in slices (watched bodies only).
    rest: Bytes,
}

/// A watched body is handed to the connection in slices of at most this size (zero-copy),
/// so the connection asks for more, and progress is seen, every few KiB rather than every
/// transfer chunk: a slow server that still takes bytes is never mistaken for a stalled one.
const WATCH_SLICE: usize = 16 * 1024;

/// How the sending of a streaming request body progresses, shared between the body (polled
/// by the connection task) and the transport's watchdog.
#[derive(Debug)]
pub(crate) struct SendWatch {
    start: Instant,
    /// Milliseconds since `start` of the last frame handed to the connection (or the start).
    last_frame_ms: AtomicU64,
    /// The body's own source had nothing ready at the last poll (a slow reader is not the
    /// server's fault).
    source_pending: AtomicBool,
    /// Milliseconds since `start` when the body ended; `u64::MAX` while it has not.
    finished_ms: AtomicU64,
    /// Bytes handed over, and the body's exact length when known: a connection that has all
    /// the announced bytes asks for no more, so that is the end too.
    sent: AtomicU64,
    expected: AtomicU64,
}

/// Where a watched send stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendState {
    /// Still sending; the connection last took a frame this long ago.
    Sending { idle: Duration, source_pending: bool },
    /// The body ended this long ago; waiting for the response head.
    Sent { ago: Duration },
}

impl SendWatch {
    pub(crate) fn new() -> Self {
        SendWatch {
            start: Instant::now(),
            last_frame_ms: AtomicU64::new(0),
            source_pending: AtomicBool::new(false),
            finished_ms: AtomicU64::new(u64::MAX),
            sent: AtomicU64::new(0),
            expected: AtomicU64::new(u64::MAX),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    pub(crate) fn state(&self) -> SendState {
        let now = self.now_ms();
        let finished = self.finished_ms.load(Ordering::Acquire);
        if finished != u64::MAX {
            return SendState::Sent { ago: Duration::from_millis(now.saturating_sub(finished)) };
        }
        let last = self.last_frame_ms.load(Ordering::Acquire);
        SendState::Sending {
            idle: Duration::from_millis(now.saturating_sub(last)),
            source_pending: self.source_pending.load(Ordering::Acquire),
        }
    }

    fn observe(&self, poll: &Poll<Option<Result<Frame<Bytes>, BoxError>>>) {
        match poll {
            Poll::Ready(Some(Ok(frame))) => {
                self.source_pending.store(false, Ordering::Release);
                let now = self.now_ms();
                self.last_frame_ms.store(now, Ordering::Release);
                let n = frame.data_ref().map_or(0, |d| d.len() as u64);
                let sent = self.sent.fetch_add(n, Ordering::AcqRel) + n;
                if sent >= self.expected.load(Ordering::Acquire) {
                    self.finished_ms.store(now, Ordering::Release);
                }
            }
            Poll::Ready(None) => self.finished_ms.store(self.now_ms(), Ordering::Release),
            Poll::Pending => self.source_pending.store(true, Ordering::Release),
            Poll::Ready(Some(Err(_))) => {}
        }
    }
}

enum Kind {
    Empty,
    Full(Option<Bytes>),
    Stream(StreamBody),
    Replayable(StreamBody, BodyFactory),
    /// A copy made only when first polled (a retry that really happens).
    Deferred(Replayer, SizeHint),
    /// The stand-in for a one-shot stream's copy: it cannot be sent.
    Gone,
}

impl std::fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            Kind::Empty => "empty",
            Kind::Full(_) => "bytes",
            Kind::Stream(_) => "stream",
            Kind::Replayable(..) | Kind::Deferred(..) => "replayable stream",
            Kind::Gone => "consumed stream",
        };
        f.debug_struct("RequestBody").field("kind", &kind).finish()
    }
}

impl Default for RequestBody {
    fn default() -> Self {
        RequestBody::empty()
    }
}

impl RequestBody {
    /// No body.
    pub fn empty() -> Self {
        RequestBody::of(Kind::Empty)
    }

    fn of(kind: Kind) -> Self {
        RequestBody { kind, watch: None, rest: Bytes::new() }
    }

    /// Watches the sending of this body (the transport's watchdog reads it).
    pub(crate) fn watch(&mut self, watch: Arc<SendWatch>) {
        if let Some(n) = self.size_hint().exact() {
            watch.expected.store(n, Ordering::Release);
        }
        self.watch = Some(watch);
    }

    /// An in-memory body (replayable).
    pub fn bytes(b: impl Into<Bytes>) -> Self {
        RequestBody::of(Kind::Full(Some(b.into())))
    }

    /// A JSON body (replayable).
    ///
    /// # Panics
    /// Never for `serde_json::Value` and derived `Serialize` types.
    pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Self {
        RequestBody::bytes(serde_json::to_vec(value).expect("JSON values always serialise"))
    }

    /// A one-shot stream: sent once, never replayed.
    pub fn stream<B>(body: B) -> Self
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        RequestBody::of(Kind::Stream(body.map_err(Into::into).boxed_unsync()))
    }

    /// A stream that `factory` can produce again (e.g. a file reopened), so it may be replayed.
    ///
    /// # Errors
    /// Whatever the factory's first call returns.
    pub fn replayable(factory: BodyFactory) -> Result<Self, BoxError> {
        let first = factory()?;
        Ok(RequestBody::of(Kind::Replayable(first, factory)))
    }

    /// Whether this body can be sent again.
    pub fn is_replayable(&self) -> bool {
        !matches!(self.kind, Kind::Stream(_) | Kind::Gone)
    }

    /// Whether the whole body is in memory (empty or bytes): sending it takes no longer than
    /// any other small request, so a deadline on the response may apply.
    pub fn is_in_memory(&self) -> bool {
        matches!(self.kind, Kind::Empty | Kind::Full(_))
    }

    /// Whether this is the stand-in copy of a one-shot stream (see
    /// [`RequestBody::deferred_copy`]).
    pub fn is_gone(&self) -> bool {
        matches!(self.kind, Kind::Gone)
    }

    /// A copy for a possible retry that costs nothing until it is sent: in-memory bytes are
    /// shared, a reproducible stream is made again only when first polled, and a one-shot
    /// stream's copy is a stand-in that cannot be sent ([`RequestBody::is_gone`]).
    pub fn deferred_copy(&self) -> RequestBody {
        let kind = match &self.kind {
            Kind::Empty => Kind::Empty,
            Kind::Full(b) => Kind::Full(b.clone()),
            Kind::Stream(_) | Kind::Gone => Kind::Gone,
            Kind::Replayable(s, f) => {
                Kind::Deferred(Replayer(ReplayKind::Factory(f.clone())), s.size_hint())
            }
            Kind::Deferred(r, h) => Kind::Deferred(r.clone(), *h),
        };
        RequestBody::of(kind)
    }

    /// What can make this body again for a retry, or `None` for a one-shot stream.
    /// Nothing is copied or reopened until [`Replayer::make`] is called.
    pub fn replayer(&self) -> Option<Replayer> {
        match &self.kind {
            Kind::Empty => Some(Replayer(ReplayKind::Empty)),
            Kind::Full(b) => Some(Replayer(ReplayKind::Bytes(b.clone().unwrap_or_default()))),
            Kind::Stream(_) | Kind::Gone => None,
            Kind::Replayable(_, factory) => Some(Replayer(ReplayKind::Factory(factory.clone()))),
            Kind::Deferred(r, _) => Some(r.clone()),
        }
    }
}

/// Makes a fresh copy of a replayable [`RequestBody`].
#[derive(Clone)]
pub struct Replayer(ReplayKind);

#[derive(Clone)]
enum ReplayKind {
    Empty,
    Bytes(Bytes),
    Factory(BodyFactory),
}

impl std::fmt::Debug for Replayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Replayer")
    }
}

impl Replayer {
    /// A fresh body from the start.
    ///
    /// # Errors
    /// Whatever the body factory returns (e.g. the file can no longer be opened).
    pub fn make(&self) -> Result<RequestBody, BoxError> {
        match &self.0 {
            ReplayKind::Empty => Ok(RequestBody::empty()),
            ReplayKind::Bytes(b) => Ok(RequestBody::bytes(b.clone())),
            ReplayKind::Factory(f) => RequestBody::replayable(f.clone()),
        }
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let Some(watch) = this.watch.clone() else {
            return this.poll_inner(cx);
        };
        if this.rest.is_empty() {
            match this.poll_inner(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => this.rest = data,
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
                other => {
                    watch.observe(&other);
                    return other;
                }
            }
        }
        let n = this.rest.len().min(WATCH_SLICE);
        let poll = Poll::Ready(Some(Ok(Frame::data(this.rest.split_to(n)))));
        watch.observe(&poll);
        poll
    }

    fn is_end_stream(&self) -> bool {
        if !self.rest.is_empty() {
            return false;
        }
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(b) => b.as_ref().is_none_or(Bytes::is_empty),
            Kind::Stream(s) | Kind::Replayable(s, _) => s.is_end_stream(),
            Kind::Deferred(..) | Kind::Gone => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        let mut hint = match &self.kind {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Stream(s) | Kind::Replayable(s, _) => s.size_hint(),
            Kind::Deferred(_, h) => *h,
            Kind::Gone => SizeHint::default(),
        };
        let rest = self.rest.len() as u64;
        if rest > 0 {
            let upper = hint.upper().map(|u| u + rest);
            hint.set_lower(hint.lower() + rest);
            if let Some(u) = upper {
                hint.set_upper(u);
            }
        }
        hint
    }
}

impl RequestBody {
    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            return match &mut self.kind {
                Kind::Empty => Poll::Ready(None),
                Kind::Full(b) => {
                    Poll::Ready(b.take().filter(|b| !b.is_empty()).map(|b| Ok(Frame::data(b))))
                }
                Kind::Stream(s) | Kind::Replayable(s, _) => Pin::new(s).poll_frame(cx),
                Kind::Deferred(r, _) => match r.make() {
                    Ok(body) => {
                        self.kind = body.kind;
                        continue;
                    }
                    Err(e) => Poll::Ready(Some(Err(e))),
                },
                Kind::Gone => {
                    Poll::Ready(Some(Err("a one-shot request body cannot be sent twice".into())))
                }
            };
        }
    }
}

/// A response body that fails when no byte arrives for the idle timeout.
///
/// The timeout restarts with every frame, so a long transfer that keeps moving is never cut.
pub struct ResponseBody {
    inner: Inner,
    url: Arc<str>,
    idle: Option<Duration>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody").field("url", &self.url).field("idle", &self.idle).finish()
    }
}

/// What a response body reads from: hyper's connection, or a custom HTTP service's body.
pub(crate) enum Inner {
    Hyper(hyper::body::Incoming),
    Boxed(http_body_util::combinators::BoxBody<Bytes, BoxError>),
}

impl Inner {
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self {
            Inner::Hyper(b) => Pin::new(b).poll_frame(cx).map_err(BoxError::from),
            Inner::Boxed(b) => Pin::new(b).poll_frame(cx),
        }
    }
}

impl ResponseBody {
    pub(crate) fn new(inner: Inner, url: Arc<str>, idle: Option<Duration>) -> Self {
        ResponseBody { inner, url, idle, sleep: None }
    }

    /// The URL this body is the response of.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Reads the whole body into memory.
    ///
    /// # Errors
    /// [`Error::Transport`] when the connection fails or stalls.
    pub async fn bytes(self) -> Result<Bytes, Error> {
        Ok(self.collect().await?.to_bytes())
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = &mut *self;
        match this.inner.poll_frame(cx) {
            Poll::Ready(frame) => {
                this.sleep = None;
                Poll::Ready(frame.map(|f| f.map_err(|e| Error::transport(&*this.url, e))))
            }
            Poll::Pending => {
                let Some(idle) = this.idle else {
                    return Poll::Pending;
                };
                let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                ready!(sleep.as_mut().poll(cx));
                this.sleep = None;
                Poll::Ready(Some(Err(Error::IdleTimeout {
                    what: format!("{}: no data received (idle read timeout)", this.url),
                    waited: idle,
                })))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Hyper(b) => b.is_end_stream(),
            Inner::Boxed(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Hyper(b) => b.size_hint(),
            Inner::Boxed(b) => b.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_watched_body_is_handed_over_in_small_slices_and_its_end_is_seen() {
        let data = Bytes::from((0..100_000u32).map(|i| i as u8).collect::<Vec<u8>>());
        let inner = http_body_util::Full::new(data.clone());
        let mut body = RequestBody::stream(inner);
        let watch = Arc::new(SendWatch::new());
        body.watch(watch.clone());
        assert!(matches!(watch.state(), SendState::Sending { .. }));
        let mut got = Vec::new();
        while let Some(frame) = body.frame().await {
            let chunk = frame.unwrap().into_data().unwrap();
            assert!(chunk.len() <= WATCH_SLICE);
            got.extend_from_slice(&chunk);
        }
        assert_eq!(got, data, "every byte, in order");
        assert!(matches!(watch.state(), SendState::Sent { .. }), "{:?}", watch.state());
    }

    #[tokio::test]
    async fn an_unwatched_body_passes_frames_through() {
        let mut body =
            RequestBody::stream(http_body_util::Full::new(Bytes::from(vec![7u8; 50_000])));
        let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(frame.len(), 50_000);
    }
}
