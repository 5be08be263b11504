//! Asking ahead: each connection of a parallel download asks for its next part on a spare
//! socket about one round trip before the current part ends (see [`crate::parallel`]).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::Instant;

use crate::download::{Opened, RangeSource};
use crate::error::TransferError;
use crate::parallel::Plan;

/// A request for a connection's next part, sent on its second connection about one round
/// trip before the current part ends, so the next part's first bytes follow the current
/// part's last ones without a request's round trip between them (HTTP/1.1 has no usable
/// pipelining; this is what it would give). Its body is not read before its turn: until
/// then it waits in the socket's buffers, and only one response per connection streams.
pub(crate) struct Ahead {
    pub(crate) part: usize,
    pub(crate) state: AheadState,
}

/// The spare source back, its answer, and how long the answer took.
pub(crate) type AheadOutput = (Box<dyn RangeSource>, Result<Opened, TransferError>, Duration);
pub(crate) type AheadFuture = Pin<Box<dyn Future<Output = AheadOutput> + Send>>;

pub(crate) enum AheadState {
    Asking(AheadFuture),
    Answered(Result<Opened, TransferError>),
}

/// One connection's sources (its own and a spare to ask ahead with) and what it learnt of
/// the link.
pub(crate) struct Worker {
    pub(crate) source: Box<dyn RangeSource>,
    /// The second source; `None` while it asks ahead, or when the source cannot fork.
    pub(crate) spare: Option<Box<dyn RangeSource>>,
    pub(crate) ahead: Option<Ahead>,
    /// From asking for a range to its answer, last seen.
    pub(crate) latency: Option<Duration>,
}

impl Worker {
    /// Asks for part `i` on the spare source (which comes back with the answer).
    pub(crate) fn ask_ahead(&mut self, plan: &Plan, i: usize) {
        let Some(mut spare) = self.spare.take() else { return };
        let (start, end) = plan.range(i);
        let asking: AheadFuture = Box::pin(async move {
            let asked = Instant::now();
            let answer = spare.open_range(start, end).await;
            (spare, answer, asked.elapsed())
        });
        self.ahead = Some(Ahead { part: i, state: AheadState::Asking(asking) });
    }

    /// Takes the spare source back from a request asked ahead, and its answer.
    pub(crate) fn returned(&mut self, out: AheadOutput) -> Result<Opened, TransferError> {
        let (spare, answer, latency) = out;
        self.spare = Some(spare);
        if answer.is_ok() {
            self.latency = Some(latency);
        }
        answer
    }

    /// The request asked ahead was answered before its turn.
    pub(crate) fn answered(&mut self, out: AheadOutput) {
        let answer = self.returned(out);
        if let Some(a) = self.ahead.as_mut() {
            a.state = AheadState::Answered(answer);
        }
    }
}

/// Whether to ask for the next part now: fewer bytes are left of this one than arrive in
/// one round trip (the last answer's) at the rate seen since its first byte (measured over
/// at least one round trip). So the next answer's first byte comes as this part's last one
/// does: asked earlier, the next answer would stream beside this one (more than one stream
/// per connection, as if there were more connections); asked later, the link idles.
pub(crate) fn time_to_ask(worker: &Worker, left: u64, streamed: u64, since: Instant) -> bool {
    let (Some(latency), None, Some(_)) = (worker.latency, &worker.ahead, &worker.spare) else {
        return false;
    };
    let elapsed = since.elapsed();
    if elapsed < latency {
        return false;
    }
    let rate = streamed as f64 / elapsed.as_secs_f64().max(1e-6);
    (left as f64) <= rate * latency.as_secs_f64()
}
