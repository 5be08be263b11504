//! Traps: the fault proxy holds one request at a chosen point and says so, so that a test
//! acts on an event ("the POST reached Glance", "1 MiB of the upload was forwarded") instead
//! of guessing how long something takes on this machine.
//!
//! A trap is armed on a running proxy ([`crate::faults::FaultProxy::arm`]), springs on the
//! first request that matches, and then disarms itself (later requests, a cleanup's DELETE
//! among them, pass). What it held stays held until [`Traps::release`]; a test that drops
//! the caller's future at the event usually never releases.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use tokio::sync::watch;

use crate::relay::Body;

/// Where a trap holds the request it caught.
#[derive(Clone, Copy, Debug)]
pub enum Hold {
    /// The request arrived at the proxy; it is not forwarded to Glance until released.
    Request,
    /// Glance answered (the head); the answer is held.
    Answer,
    /// Glance answered in full; the proxy then closes the client's connection without
    /// answering (an answer lost on the way back). Nothing is held.
    CutAnswer,
    /// This many bytes of the request body were forwarded to Glance (and the body asked for
    /// more); the rest is held.
    BodyAfter(u64),
}

type Matcher = Box<dyn Fn(&Method, &str) -> bool + Send + Sync>;

/// A point where the proxy holds one request.
pub struct Trap {
    matches: Matcher,
    /// Where it holds.
    pub hold: Hold,
}

impl Trap {
    /// Springs on the first `method` request whose path ends with `path_end`.
    pub fn on(method: Method, path_end: &'static str, hold: Hold) -> Trap {
        Trap::when(move |m, p| *m == method && p.ends_with(path_end), hold)
    }

    /// Springs on the first request for which `matches(method, path)` holds.
    pub fn when(
        matches: impl Fn(&Method, &str) -> bool + Send + Sync + 'static,
        hold: Hold,
    ) -> Trap {
        Trap { matches: Box::new(matches), hold }
    }
}

/// The traps of one proxy: at most one armed at a time.
pub struct Traps {
    armed: Mutex<Option<Trap>>,
    sprung: watch::Sender<u32>,
    /// Bumped by each release; a hold waits for a release after it sprung.
    released: watch::Sender<u64>,
}

/// The longest a test waits for an event before failing loudly: far longer than any event
/// takes on a loaded machine, so hitting it means the event never comes.
pub const EVENT_WAIT: Duration = Duration::from_secs(180);

impl Default for Traps {
    fn default() -> Self {
        Traps {
            armed: Mutex::new(None),
            sprung: watch::Sender::new(0),
            released: watch::Sender::new(0),
        }
    }
}

impl Traps {
    /// Arms `trap` (replacing one not yet sprung); what earlier traps hold stays held.
    pub fn arm(&self, trap: Trap) {
        *self.armed.lock().unwrap() = Some(trap);
    }

    /// How many traps have sprung on this proxy so far.
    pub fn sprung_count(&self) -> u32 {
        *self.sprung.borrow()
    }

    /// Waits until `n` traps in all have sprung on this proxy (fails loudly after
    /// [`EVENT_WAIT`]).
    pub async fn sprung(&self, n: u32) {
        let mut rx = self.sprung.subscribe();
        let waited = tokio::time::timeout(EVENT_WAIT, rx.wait_for(|c| *c >= n)).await;
        assert!(waited.is_ok(), "trap {n} never sprung within {EVENT_WAIT:?}");
    }

    /// Lets everything held so far go on (traps that spring later hold again).
    pub fn release(&self) {
        self.released.send_modify(|r| *r += 1);
    }

    /// The armed trap, taken (disarmed), when this request matches it.
    pub(crate) fn take(&self, method: &Method, path: &str) -> Option<Hold> {
        let mut armed = self.armed.lock().unwrap();
        let hit = armed.as_ref().is_some_and(|t| (t.matches)(method, path));
        if hit { armed.take().map(|t| t.hold) } else { None }
    }

    /// Says that a trap sprung.
    pub(crate) fn spring(&self) {
        self.sprung.send_modify(|c| *c += 1);
    }

    /// Springs, then waits until released (forever if never).
    pub(crate) async fn spring_and_hold(&self) {
        let mut rx = self.released.subscribe();
        let generation = *rx.borrow_and_update();
        self.spring();
        let _ = rx.wait_for(|r| *r > generation).await;
    }
}

/// Wraps a request body on its way to Glance: flips the byte at `flip` (same length), and
/// with `hold_after`, springs the trap and holds once that many bytes went through.
pub(crate) fn tap_upload(
    body: Body,
    flip: Option<u64>,
    hold_after: Option<(u64, Arc<Traps>)>,
) -> Body {
    struct S {
        body: Body,
        pos: u64,
        flip: Option<u64>,
        hold: Option<(u64, Arc<Traps>)>,
        pending: Option<Bytes>,
    }
    let s = S { body, pos: 0, flip, hold: hold_after, pending: None };
    let frames = futures_util::stream::unfold(s, |mut s| async move {
        // The held bytes reached their count and the body asks for more: spring and hold.
        if let Some((after, traps)) = &s.hold {
            if s.pos >= *after {
                traps.spring_and_hold().await;
                s.hold = None;
            }
        }
        let mut data = match s.pending.take() {
            Some(rest) => rest,
            None => match s.body.frame().await? {
                Err(e) => return Some((Err(e), s)),
                Ok(frame) => match frame.into_data() {
                    Ok(d) => d,
                    Err(other) => return Some((Ok(other), s)),
                },
            },
        };
        // Stop exactly at the hold point; the rest goes after the release.
        if let Some((after, _)) = &s.hold {
            let room = after.saturating_sub(s.pos);
            if (data.len() as u64) > room {
                s.pending = Some(data.split_off(room as usize));
            }
        }
        let start = s.pos;
        s.pos += data.len() as u64;
        if let Some(at) = s.flip {
            if start <= at && at < s.pos {
                let mut v = data.to_vec();
                v[(at - start) as usize] ^= 0x01;
                data = Bytes::from(v);
            }
        }
        Some((Ok(Frame::data(data)), s))
    });
    StreamBody::new(frames).boxed()
}
