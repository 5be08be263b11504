//! Request and response bodies of the session.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;

use crate::error::Error;

/// The error type streaming request bodies may fail with.
pub use crate::error::BoxError;

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
        RequestBody { kind: Kind::Empty }
    }

    /// An in-memory body (replayable).
    pub fn bytes(b: impl Into<Bytes>) -> Self {
        RequestBody { kind: Kind::Full(Some(b.into())) }
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
        RequestBody { kind: Kind::Stream(body.map_err(Into::into).boxed_unsync()) }
    }

    /// A stream that `factory` can produce again (e.g. a file reopened), so it may be replayed.
    ///
    /// # Errors
    /// Whatever the factory's first call returns.
    pub fn replayable(factory: BodyFactory) -> Result<Self, BoxError> {
        let first = factory()?;
        Ok(RequestBody { kind: Kind::Replayable(first, factory) })
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
        RequestBody { kind }
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

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(b) => b.as_ref().is_none_or(Bytes::is_empty),
            Kind::Stream(s) | Kind::Replayable(s, _) => s.is_end_stream(),
            Kind::Deferred(..) | Kind::Gone => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Stream(s) | Kind::Replayable(s, _) => s.size_hint(),
            Kind::Deferred(_, h) => *h,
            Kind::Gone => SizeHint::default(),
        }
    }
}

/// A response body that fails when no byte arrives for the idle timeout.
///
/// The timeout restarts with every frame, so a long transfer that keeps moving is never cut.
pub struct ResponseBody {
    inner: hyper::body::Incoming,
    url: Arc<str>,
    idle: Option<Duration>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody").field("url", &self.url).field("idle", &self.idle).finish()
    }
}

impl ResponseBody {
    pub(crate) fn new(inner: hyper::body::Incoming, url: Arc<str>, idle: Option<Duration>) -> Self {
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
        match Pin::new(&mut this.inner).poll_frame(cx) {
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
                Poll::Ready(Some(Err(Error::transport(
                    &*this.url,
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no data received for {idle:?} (idle read timeout)"),
                    ),
                ))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
