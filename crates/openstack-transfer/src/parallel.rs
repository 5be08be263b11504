//! Several connections fetching parts of one object, delivered in order.
//!
//! The object is cut into parts of [`DownloadOptions::part_size`](crate::DownloadOptions)
//! bytes. Each connection (a task with a source of its own, from [`RangeSource::fork`])
//! takes the lowest part nobody has taken and fetches it with a range request, resuming it
//! from where it broke. The parts come out in order through a **bounded reorder window**: a
//! connection may take part `i` only while `i` is less than the part being read plus the
//! window (`connections` parts), so what is held in memory is at most the window's parts,
//! whatever the object's size and however slow one connection is (the others wait for it).
//!
//! Why a window and not positional writes followed by one pass: the same path serves a file,
//! a writer and a stream (which has nowhere to write ahead), the data is hashed once, in
//! order, as it arrives (no second read of the file), and the file is written front to
//! back, so the atomic temp file + rename stays as it is.
//!
//! A request per part would cost a round trip per part, which on a long link is most of what
//! is lost against one long request per connection (4 MiB at 16 MiB/s take 250 ms; at 50 ms
//! round trips that is a sixth). So each connection asks for its next part on a spare socket
//! about one round trip before the current part ends, and reads that answer once the part
//! is inside the window ([`Ahead`]).
//!
//! A server that answers a range request with the whole object (200) ends the parallel
//! fetch: the bytes delivered so far stand, and the download goes on with one connection
//! from there (a resume).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::ahead::{Ahead, AheadOutput, AheadState, Worker, time_to_ask};
use crate::download::{ByteStream, Opened, RangeSource};
use crate::error::TransferError;

/// How the object is cut and fetched.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    /// The object's size.
    pub(crate) total: u64,
    /// Bytes per part.
    pub(crate) part: u64,
    /// Connections.
    pub(crate) connections: usize,
    /// Where part 0 starts (0, or where one stream found too slow was left).
    pub(crate) origin: u64,
}

impl Plan {
    fn parts(&self) -> usize {
        (self.total - self.origin).div_ceil(self.part) as usize
    }

    pub(crate) fn range(&self, i: usize) -> (u64, u64) {
        let start = self.origin + i as u64 * self.part;
        (start, (start + self.part).min(self.total))
    }

    fn window(&self) -> usize {
        self.connections
    }
}

struct Part {
    chunks: VecDeque<Bytes>,
    done: bool,
}

struct State {
    /// Parts from the one being read (`base`) on; `parts[0]` is part `base`. Every part
    /// taken (below `next_free`) has its place: [`try_take`] makes it, and the reader removes
    /// only the front one as `base` moves past it.
    parts: VecDeque<Part>,
    base: usize,
    next_free: usize,
    /// What ended the fetch: an error for the reader after the bytes before it.
    error: Option<TransferError>,
    /// Resumes left for all connections together.
    resumes_left: u32,
    identity: Option<String>,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    /// Wakes the reader: a chunk arrived, a part is done, an error.
    reader: Notify,
    /// Wakes the connections: the window moved.
    fetchers: Notify,
    plan: Plan,
    resumes: Arc<AtomicU32>,
    /// The most parts ever holding bytes, from the one being read on (the window's bound,
    /// checked by the tests where the bytes are placed, not where the window is enforced).
    most_ahead: std::sync::atomic::AtomicUsize,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn fail(&self, e: TransferError) {
        let mut s = self.lock();
        s.error.get_or_insert(e);
        drop(s);
        self.reader.notify_one();
        self.fetchers.notify_waiters();
    }
}

/// The parallel fetch, as one in-order body (and its shared state, for the tests), part 0
/// from `first` when given (the response to the whole object, read to part 0's end), else by
/// range. Dropping the body stops every connection.
pub(crate) fn start(
    plan: Plan,
    first: Option<ByteStream>,
    identity: Option<String>,
    sources: Vec<Box<dyn RangeSource>>,
    resumes_left: u32,
    resumes: Arc<AtomicU32>,
) -> (ByteStream, Arc<Shared>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            parts: VecDeque::new(),
            base: 0,
            // Part 0 comes from the first response, when there is one.
            next_free: usize::from(first.is_some()),
            error: None,
            resumes_left,
            identity,
        }),
        reader: Notify::new(),
        fetchers: Notify::new(),
        plan,
        resumes,
        most_ahead: Default::default(),
    });
    shared.lock().parts.push_back(Part { chunks: VecDeque::new(), done: false });
    let mut tasks = JoinSet::new();
    let mut first = first;
    for source in sources {
        let shared = shared.clone();
        let first = first.take();
        tasks.spawn(async move { connection(shared, source, first).await });
    }
    let reader = Reader { shared: shared.clone(), _tasks: tasks };
    let body: ByteStream = Box::pin(futures_util::stream::unfold(reader, |mut r| async move {
        let item = r.next().await?;
        Some((item, r))
    }));
    (body, shared)
}

/// The in-order end: owns the connections (a dropped reader aborts them).
struct Reader {
    shared: Arc<Shared>,
    /// Held for its `Drop`, which aborts the connections.
    _tasks: JoinSet<()>,
}

impl Reader {
    async fn next(&mut self) -> Option<Result<Bytes, TransferError>> {
        loop {
            let notified = self.shared.reader.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut s = self.shared.lock();
                if s.base == self.shared.plan.parts() {
                    return None;
                }
                if let Some(chunk) = s.parts.front_mut().and_then(|p| p.chunks.pop_front()) {
                    return Some(Ok(chunk));
                }
                if s.parts.front().is_some_and(|p| p.done) {
                    s.parts.pop_front();
                    s.base += 1;
                    drop(s);
                    self.shared.fetchers.notify_waiters();
                    continue;
                }
                if let Some(e) = s.error.take() {
                    // Every byte before the failure was delivered; none after it.
                    s.base = self.shared.plan.parts();
                    return Some(Err(e));
                }
            }
            notified.await;
        }
    }
}

/// One connection: takes free parts in the window and fetches each, resuming it. The first
/// connection may start with the first response (the whole object), dropped after part 0.
async fn connection(shared: Arc<Shared>, source: Box<dyn RangeSource>, first: Option<ByteStream>) {
    let _told = PanicGuard(shared.clone());
    let spare = source.fork();
    let mut worker = Worker { source, spare, ahead: None, latency: None };
    let mut first_part = first.is_some();
    let mut carry = first.map(|stream| Carry { stream, rest: Bytes::new() });
    loop {
        let i = if std::mem::take(&mut first_part) {
            0
        } else if let Some(ahead) = worker.ahead.take() {
            match asked_ahead(&shared, &mut worker, ahead.state, ahead.part).await {
                Ok(stream) => carry = stream.map(|stream| Carry { stream, rest: Bytes::new() }),
                Err(e) => {
                    shared.fail(e);
                    return;
                }
            }
            ahead.part
        } else {
            match take_part(&shared).await {
                Some(i) => i,
                None => return,
            }
        };
        if let Err(e) = fetch_part(&shared, &mut worker, i, &mut carry).await {
            shared.fail(e);
            return;
        }
        let mut s = shared.lock();
        if s.error.is_some() {
            // The fetch failed, perhaps with this part unfinished (`fetch_part` stops when
            // it sees the error): never mark it done, or the reader would go on past its
            // missing bytes into the next part's.
            return;
        }
        if let Some(p) = i.checked_sub(s.base).and_then(|k| s.parts.get_mut(k)) {
            p.done = true;
        }
        drop(s);
        shared.reader.notify_one();
    }
}

/// The answer asked ahead for `part`, taken as `fetch_part` takes one: a failed request is
/// asked again there (`None`), a wrong answer ends the parallel fetch.
async fn asked_ahead(
    shared: &Shared,
    worker: &mut Worker,
    state: AheadState,
    part: usize,
) -> Result<Option<ByteStream>, TransferError> {
    let answer = match state {
        AheadState::Answered(answer) => answer,
        AheadState::Asking(asking) => worker.returned(asking.await),
    };
    let (start, end) = shared.plan.range(part);
    match answer {
        Ok(opened) => accept(shared, opened, start, end).map(Some),
        Err(e) if e.is_resumable() && spend_resume(shared) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Fails the fetch when its connection panics (a bug in a source, say), so that the reader
/// is told rather than left waiting for parts nobody fetches.
struct PanicGuard(Arc<Shared>);

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.fail(TransferError::Incomplete {
                message: "a connection of the download stopped on a panic".into(),
            });
        }
    }
}

/// What [`try_take`] found.
enum Take {
    Part(usize),
    /// The window is full: wait for it to move.
    Full,
    /// Every part is taken, or the fetch failed.
    Done,
}

/// Takes the next free part, if there is one now: up to a part per connection past the
/// window, as a connection may ask for its next part before its turn (it streams only once
/// the part is inside the window, [`wait_turn`]).
fn try_take(shared: &Shared) -> Take {
    let mut s = shared.lock();
    if s.error.is_some() || s.next_free >= shared.plan.parts() {
        return Take::Done;
    }
    if s.next_free >= s.base + shared.plan.window() + shared.plan.connections {
        return Take::Full;
    }
    let i = s.next_free;
    s.next_free += 1;
    while s.parts.len() < i + 1 - s.base {
        s.parts.push_back(Part { chunks: VecDeque::new(), done: false });
    }
    Take::Part(i)
}

/// Waits until part `i` is inside the window, so that what is held stays within it; false
/// when the fetch failed.
async fn wait_turn(shared: &Shared, i: usize) -> bool {
    loop {
        let notified = shared.fetchers.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let s = shared.lock();
            if s.error.is_some() {
                return false;
            }
            if i < s.base + shared.plan.window() {
                return true;
            }
        }
        notified.await;
    }
}

/// The next free part within the window, waiting for the window to move; `None` when every
/// part is taken or the fetch failed.
async fn take_part(shared: &Shared) -> Option<usize> {
    loop {
        let notified = shared.fetchers.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match try_take(shared) {
            Take::Part(i) => return Some(i),
            Take::Done => return None,
            Take::Full => notified.await,
        }
    }
}

/// The answer to a request for bytes `at..end`, checked: the range asked for, of the same
/// object.
fn accept(shared: &Shared, opened: Opened, at: u64, end: u64) -> Result<ByteStream, TransferError> {
    if !opened.partial || opened.start != at {
        return Err(TransferError::interrupted(format!(
            "asked for bytes {at}-{} and the server sent {}",
            end - 1,
            if opened.partial {
                format!("from {}", opened.start)
            } else {
                "the whole object (it ignores Range)".into()
            }
        )));
    }
    let s = shared.lock();
    if opened.identity.is_some() && s.identity.is_some() && opened.identity != s.identity {
        return Err(TransferError::Resume {
            message: format!("the object changed ({:?} became {:?})", s.identity, opened.identity),
        });
    }
    Ok(opened.body)
}

/// What a connection waits for while it streams a part.
enum Event {
    Chunk(Option<Result<Bytes, TransferError>>),
    Answered(AheadOutput),
}

/// Fetches part `i` into its slot, resuming a broken connection where it stopped, and asks
/// for the connection's next part shortly before this one ends.
async fn fetch_part(
    shared: &Shared,
    worker: &mut Worker,
    i: usize,
    carry: &mut Option<Carry>,
) -> Result<(), TransferError> {
    let (start, end) = shared.plan.range(i);
    let mut at = start;
    while at < end {
        let Carry { mut stream, mut rest } = match carry.take() {
            Some(c) => c,
            None => {
                let asked = Instant::now();
                match worker.source.open_range(at, end).await {
                    Ok(opened) => {
                        worker.latency = Some(asked.elapsed());
                        Carry { stream: accept(shared, opened, at, end)?, rest: Bytes::new() }
                    }
                    Err(e) if e.is_resumable() && spend_resume(shared) => continue,
                    Err(e) => return Err(e),
                }
            }
        };
        // Asked for; read only once inside the window.
        if !wait_turn(shared, i).await {
            return Ok(());
        }
        let (since, from) = (Instant::now(), at);
        loop {
            let event = if !rest.is_empty() {
                Event::Chunk(Some(Ok(std::mem::take(&mut rest))))
            } else if let Some(Ahead { state: AheadState::Asking(asking), .. }) =
                worker.ahead.as_mut()
            {
                tokio::select! {
                    biased;
                    chunk = stream.next() => Event::Chunk(chunk),
                    out = asking => Event::Answered(out),
                }
            } else {
                Event::Chunk(stream.next().await)
            };
            let next = match event {
                Event::Answered(out) => {
                    worker.answered(out);
                    continue;
                }
                Event::Chunk(next) => next,
            };
            match next {
                Some(Ok(mut chunk)) => {
                    let keep = (end - at).min(chunk.len() as u64) as usize;
                    let mine = chunk.split_to(keep);
                    at += keep as u64;
                    let mut s = shared.lock();
                    if s.error.is_some() {
                        return Ok(());
                    }
                    let k = i - s.base;
                    if !mine.is_empty() {
                        shared.most_ahead.fetch_max(k + 1, Ordering::Relaxed);
                        s.parts[k].chunks.push_back(mine);
                    }
                    drop(s);
                    // The reader waits only for the part it reads (`base`): bytes for a part
                    // ahead of it are found when it gets there.
                    if k == 0 {
                        shared.reader.notify_one();
                    }
                    if at == end {
                        // The first response goes on past part 0: dropped here.
                        break;
                    }
                    if time_to_ask(worker, end - at, at - from, since) {
                        if let Take::Part(j) = try_take(shared) {
                            worker.ask_ahead(&shared.plan, j);
                        }
                    }
                }
                Some(Err(e)) if e.is_resumable() && spend_resume(shared) => break,
                Some(Err(e)) => return Err(e),
                // Ended early: ask again from where it stopped.
                None if spend_resume(shared) => break,
                None => {
                    return Err(TransferError::interrupted(format!(
                        "the response for bytes {start}-{} ended at {at}",
                        end - 1
                    )));
                }
            }
        }
    }
    Ok(())
}

/// A response for a part, and what of it was read and not yet placed.
pub(crate) struct Carry {
    stream: ByteStream,
    rest: Bytes,
}

/// Takes one resume from the shared budget.
fn spend_resume(shared: &Shared) -> bool {
    let mut s = shared.lock();
    if s.resumes_left == 0 {
        return false;
    }
    s.resumes_left -= 1;
    shared.resumes.fetch_add(1, Ordering::Relaxed);
    true
}

#[cfg(test)]
#[path = "parallel_tests.rs"]
mod tests;
