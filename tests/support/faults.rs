//! A fault-injecting proxy in front of the real Glance, for what Glance cannot be made to do:
//! connections cut mid-download, a server ignoring `Range`, a flipped byte, short bodies,
//! stalls, 503s on uploads, uploads never read or never answered, and (for the soak) all of
//! these at random, seeded.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::relay::{Body, Upstream, read_up_to, serve, to_glance};
use crate::trap::{Hold, Trap, Traps, tap_upload};
use crate::{ADMIN, cloud};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use openstack_auth::{RetryPolicy, Session};
use openstack_image::ImageProxy;

/// What the proxy does wrong.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Forward everything untouched (to watch the requests).
    None,
    /// Hold Glance's answer to `POST /v2/images` this long (the record exists meanwhile).
    DelayCreate(Duration),
    /// Cut the first file download after this many bytes.
    CutOnce(u64),
    /// Cut the first download; answer later ranged requests with 200 and everything.
    CutThenIgnoreRange(u64),
    /// Flip one byte of every download at this offset of the image (a ranged answer's
    /// offsets count from its range's start).
    Flip(u64),
    /// Cut the first ranged answer (206) that covers this offset of the image, there.
    CutRangeOnce(u64),
    /// Stop sending (keep the connection open) the first ranged answer (206) that covers
    /// this offset of the image, there.
    StallRangeOnce(u64),
    /// Drop the `Range` header of every download: Glance answers 200 with the whole image.
    IgnoreRange,
    /// Cut every download after this many bytes (a body shorter than the image).
    CutAlways(u64),
    /// Stop sending (keep the connection open) after this many bytes.
    Stall(u64),
    /// Answer every image list with the same `next` link (a server bug).
    LoopNext,
    /// Forward uploads to Glance slowly: in pieces of 256 KiB, this long before each.
    SlowUpload(Duration),
    /// Change the byte at this offset of every `PUT .../file` body on its way to Glance,
    /// keeping the length (Glance stores, and hashes, other bytes than the client sent).
    CorruptUpload(u64),
    /// Answer `PUT .../file` with 503 (after reading the whole upload, so the answer is
    /// deterministic rather than a race with a broken pipe).
    Upload503,
    /// Stop reading an upload after this many bytes (keep the connection open, answer never).
    UploadStopReading(u64),
    /// Read a whole upload, then never answer.
    UploadNoAnswer,
    /// Answer the first this many `GET /v2/images/{id}` (the record, not its file) with 503.
    ImageGet503(u32),
    /// Answer the first this many `GET /` (version discovery) with 503.
    Root503(u32),
}

/// What the proxy saw.
pub struct State {
    fault: Fault,
    /// The Glance it forwards to.
    upstream: String,
    /// File downloads (`GET .../file`) seen.
    pub downloads: AtomicU32,
    /// File uploads (`PUT .../file`) seen.
    pub uploads: AtomicU32,
    /// The `Range` header of each download.
    pub ranges: Mutex<Vec<Option<String>>>,
    /// Every request, as `METHOD path?query`.
    pub requests: Mutex<Vec<String>>,
    /// The `User-Agent` of every request.
    pub agents: Mutex<Vec<String>>,
    /// The 503s sent for `ImageGet503`.
    pub get503s: AtomicU32,
    /// Each upload the proxy read to its end itself (`Upload503`): bytes and sha256.
    pub puts: Mutex<Vec<(u64, String)>>,
    /// The trap armed on this proxy, and its events.
    pub traps: Arc<Traps>,
    /// Whether a fault placed at an offset of the image (`CutRangeOnce`, `StallRangeOnce`)
    /// was applied.
    pub placed: AtomicBool,
}

impl State {
    /// How many requests `METHOD path` seen so far satisfy `f`.
    pub fn count(&self, f: impl Fn(&str) -> bool) -> usize {
        self.requests.lock().unwrap().iter().filter(|r| f(r)).count()
    }

    /// How many `method` requests for exactly `path` (no query) were seen.
    pub fn seen(&self, method: &str, path: &str) -> usize {
        let want = format!("{method} {path}");
        self.count(|r| {
            r == want || r.strip_prefix(want.as_str()).is_some_and(|q| q.starts_with('?'))
        })
    }
}

/// A running proxy.
pub struct FaultProxy {
    /// Its base URL (use as the image endpoint override).
    pub url: String,
    /// What it saw.
    pub state: Arc<State>,
}

/// Starts a proxy on a free loopback port, in front of the local Glance.
pub async fn start(fault: Fault) -> FaultProxy {
    start_to(fault, &crate::glance_url()).await
}

/// Starts a proxy on a free loopback port, in front of the Glance at `upstream`.
pub async fn start_to(fault: Fault, upstream: &str) -> FaultProxy {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(State {
        fault,
        upstream: upstream.trim_end_matches('/').to_string(),
        downloads: AtomicU32::new(0),
        get503s: AtomicU32::new(0),
        uploads: AtomicU32::new(0),
        ranges: Mutex::new(Vec::new()),
        placed: AtomicBool::new(false),
        puts: Mutex::new(Vec::new()),
        requests: Mutex::new(Vec::new()),
        agents: Mutex::new(Vec::new()),
        traps: Arc::new(Traps::default()),
    });
    serve(listener, state.clone(), handle);
    FaultProxy { url, state }
}

impl FaultProxy {
    /// Arms a trap on this proxy (see [`crate::trap`]).
    pub fn arm(&self, trap: Trap) {
        self.state.traps.arm(trap);
    }

    /// Waits until `n` traps in all have sprung on this proxy.
    pub async fn sprung(&self, n: u32) {
        self.state.traps.sprung(n).await;
    }

    /// Lets everything the proxy's traps hold go on.
    pub fn release(&self) {
        self.state.traps.release();
    }
}

fn io_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

async fn handle(
    req: Request<Incoming>,
    st: Arc<State>,
    upstream: Upstream,
) -> Result<Response<Body>, std::io::Error> {
    let path = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let is_create = req.method() == http::Method::POST && path == "/v2/images";
    st.requests.lock().unwrap().push(format!("{} {path}", req.method()));
    let agent = req.headers().get(http::header::USER_AGENT).and_then(|v| v.to_str().ok());
    st.agents.lock().unwrap().push(agent.unwrap_or_default().to_string());
    let trap = st.traps.take(req.method(), req.uri().path());
    if let Some(Hold::Request) = trap {
        st.traps.spring_and_hold().await;
    }
    let is_file = req.uri().path().ends_with("/file");
    if is_file && req.method() == http::Method::PUT {
        st.uploads.fetch_add(1, Ordering::SeqCst);
        let limit = match st.fault {
            Fault::UploadStopReading(after) => Some(after),
            Fault::UploadNoAnswer => Some(u64::MAX),
            _ => None,
        };
        if let Some(limit) = limit {
            let mut body = req.into_body();
            read_up_to(&mut body, limit).await;
            // Hold the connection (and any unread body) open; never answer.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            drop(body);
            let late = Full::new(Bytes::from_static(b"too late")).map_err(io_err).boxed();
            return Ok(Response::builder().status(504).body(late).unwrap());
        }
        if let Fault::Upload503 = st.fault {
            let mut body = req.into_body();
            let mut got = Vec::new();
            while let Some(Ok(f)) = body.frame().await {
                got.extend_from_slice(f.data_ref().map_or(&[][..], |d| &d[..]));
            }
            let digest =
                openstack_transfer::digest_hex(openstack_transfer::Algorithm::Sha256, &got);
            st.puts.lock().unwrap().push((got.len() as u64, digest));
            let resp = Response::builder()
                .status(StatusCode::SERVICE_UNAVAILABLE)
                .header("retry-after", "0")
                .body(
                    Full::new(Bytes::from_static(b"{\"message\": \"injected 503\"}"))
                        .map_err(io_err)
                        .boxed(),
                )
                .unwrap();
            return Ok(resp);
        }
    }
    let record = req.uri().path().strip_prefix("/v2/images/").is_some_and(|id| !id.contains('/'));
    let limit = match st.fault {
        Fault::ImageGet503(n) if record => Some(n),
        Fault::Root503(n) if req.uri().path() == "/" => Some(n),
        _ => None,
    };
    if let Some(n) = limit {
        if req.method() == http::Method::GET && st.get503s.fetch_add(1, Ordering::SeqCst) < n {
            let body = Full::new(Bytes::from_static(b"{\"message\": \"injected 503\"}"));
            return Ok(Response::builder()
                .status(StatusCode::SERVICE_UNAVAILABLE)
                .header("retry-after", "0")
                .body(body.map_err(io_err).boxed())
                .unwrap());
        }
    }
    if let Fault::LoopNext = st.fault {
        if req.uri().path() == "/v2/images" {
            let body = r#"{"images": [{"id": "11111111-1111-1111-1111-111111111111", "name": "loop"}], "next": "/v2/images?marker=11111111-1111-1111-1111-111111111111"}"#;
            return Ok(Response::new(
                Full::new(Bytes::from_static(body.as_bytes())).map_err(io_err).boxed(),
            ));
        }
    }
    let download = is_file && req.method() == http::Method::GET;
    let n = if download { st.downloads.fetch_add(1, Ordering::SeqCst) } else { 0 };
    let (mut parts, body) = req.into_parts();
    if download {
        st.ranges
            .lock()
            .unwrap()
            .push(parts.headers.get("range").map(|v| v.to_str().unwrap().to_string()));
        if matches!(st.fault, Fault::CutThenIgnoreRange(_)) && n > 0
            || matches!(st.fault, Fault::IgnoreRange)
        {
            parts.headers.remove("range");
        }
    }
    to_glance(&mut parts, &st.upstream, &path);
    let body = body.map_err(io_err).boxed();
    let body = match st.fault {
        Fault::SlowUpload(pause) if is_file => slow(body, pause),
        _ => body,
    };
    let flip = match st.fault {
        Fault::CorruptUpload(at) if is_file && parts.method == http::Method::PUT => Some(at),
        _ => None,
    };
    let hold_after = match trap {
        Some(Hold::BodyAfter(n)) => Some((n, st.traps.clone())),
        _ => None,
    };
    let body = if flip.is_some() || hold_after.is_some() {
        tap_upload(body, flip, hold_after)
    } else {
        body
    };
    let up = Request::from_parts(parts, body);
    let resp = match upstream.request(up).await {
        Ok(r) => r,
        Err(e) => {
            return Ok(Response::builder()
                .status(502)
                .body(Full::new(Bytes::from(e.to_string())).map_err(io_err).boxed())
                .unwrap());
        }
    };
    match trap {
        Some(Hold::Answer) => st.traps.spring_and_hold().await,
        Some(Hold::CutAnswer) => {
            // Glance finished (its whole answer read); the client never hears of it.
            let _ = resp.into_body().collect().await;
            st.traps.spring();
            return Err(io_err("injected: answer cut"));
        }
        _ => {}
    }
    if let Fault::DelayCreate(delay) = st.fault {
        if is_create {
            tokio::time::sleep(delay).await;
        }
    }
    let (parts, body) = resp.into_parts();
    if !download || parts.status.is_client_error() {
        return Ok(Response::from_parts(parts, body.map_err(io_err).boxed()));
    }
    // Glance streams downloads chunked, so the cut points are absolute offsets.
    let limit = match st.fault {
        Fault::CutOnce(at) | Fault::CutThenIgnoreRange(at) if n == 0 => Some(at),
        Fault::CutAlways(at) => Some(at),
        _ => None,
    };
    // Where this answer starts in the image (a ranged answer's first byte), and the faults
    // placed at an offset of the image: only for the first answer that covers it.
    let base = parts
        .headers
        .get("content-range")
        .and_then(|v| v.to_str().ok()?.strip_prefix("bytes ")?.split('-').next()?.parse().ok())
        .unwrap_or(0u64);
    let covers = |at: u64| {
        let end = parts
            .headers
            .get("content-range")
            .and_then(|v| v.to_str().ok()?.split(['-', '/']).nth(1)?.parse::<u64>().ok());
        end.is_some_and(|end| base <= at && at <= end) && !st.placed.swap(true, Ordering::SeqCst)
    };
    let (cut_at, stall_at) = match st.fault {
        Fault::CutRangeOnce(at) if covers(at) => (Some(at), None),
        Fault::StallRangeOnce(at) if covers(at) => (None, Some(at)),
        _ => (None, None),
    };
    let fault = st.fault;
    let stream = futures_util::stream::unfold(
        (body, 0u64, false),
        move |(mut body, mut pos, done)| async move {
            if done {
                return None;
            }
            if stall_at.is_some_and(|at| base + pos >= at) {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            if let Fault::Stall(after) = fault {
                if pos >= after {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
            }
            let frame = match body.frame().await {
                None => return None,
                Some(Err(e)) => return Some((Err(io_err(e)), (body, pos, true))),
                Some(Ok(f)) => f,
            };
            let Ok(mut data) = frame.into_data() else {
                return Some((Ok(Frame::data(Bytes::new())), (body, pos, false)));
            };
            let start = pos;
            pos += data.len() as u64;
            if let Some(limit) = limit {
                if pos > limit {
                    let keep = limit.saturating_sub(start) as usize;
                    // Send what fits, then break the connection.
                    let first = data.slice(..keep);
                    if keep == 0 {
                        // Let the server flush what it sent (headers included) first, so the
                        // client sees a broken body rather than a connection that never
                        // answered: hyper flushes its buffer whenever the body is not ready,
                        // so one `Pending` is enough, whatever the machine's speed.
                        tokio::task::yield_now().await;
                        return Some((Err(io_err("injected: connection cut")), (body, pos, true)));
                    }
                    return Some((Ok(Frame::data(first)), (body, limit, false)));
                }
            }
            if let Some(at) = cut_at.filter(|at| base + pos > *at) {
                let keep = (at - base).saturating_sub(start) as usize;
                if keep == 0 {
                    tokio::task::yield_now().await;
                    return Some((Err(io_err("injected: connection cut")), (body, pos, true)));
                }
                return Some((Ok(Frame::data(data.slice(..keep))), (body, at - base, false)));
            }
            if let Some(at) = stall_at.filter(|at| base + pos > *at) {
                let keep = (at - base).saturating_sub(start) as usize;
                return Some((Ok(Frame::data(data.slice(..keep))), (body, at - base, false)));
            }
            if let Fault::Flip(at) = fault {
                if base + start <= at && at < base + pos {
                    let mut v = data.to_vec();
                    v[(at - base - start) as usize] ^= 0x01;
                    data = Bytes::from(v);
                }
            }
            if let Fault::Stall(after) = fault {
                if pos > after {
                    let keep = after.saturating_sub(start) as usize;
                    return Some((Ok(Frame::data(data.slice(..keep))), (body, after, false)));
                }
            }
            Some((Ok(Frame::data(data)), (body, pos, false)))
        },
    );
    Ok(Response::from_parts(parts, StreamBody::new(stream).boxed()))
}

/// `body` in pieces of at most 256 KiB, each sent `pause` after the one before.
fn slow(body: Body, pause: Duration) -> Body {
    const PIECE: usize = 256 << 10;
    let pieces =
        futures_util::stream::unfold((body, Bytes::new()), move |(mut b, mut rest)| async move {
            if rest.is_empty() {
                loop {
                    match b.frame().await? {
                        Err(e) => return Some((Err(e), (b, Bytes::new()))),
                        Ok(f) => match f.into_data() {
                            Ok(d) if d.is_empty() => continue,
                            Ok(d) => {
                                rest = d;
                                break;
                            }
                            Err(other) => return Some((Ok(other), (b, rest))),
                        },
                    }
                }
            }
            tokio::time::sleep(pause).await;
            let piece = rest.split_to(rest.len().min(PIECE));
            Some((Ok(Frame::data(piece)), (b, rest)))
        });
    StreamBody::new(pieces).boxed()
}

/// An image proxy that reaches Glance through the fault proxy (Keystone directly).
pub fn through(proxy: &FaultProxy, read_timeout: Option<Duration>) -> ImageProxy {
    through_with(proxy, read_timeout, None, None)
}

/// As [`through`], with the upload's idle timeout and its bound on the wait for a response.
pub fn through_with(
    proxy: &FaultProxy,
    read_timeout: Option<Duration>,
    send_timeout: Option<Duration>,
    response_timeout: Option<Duration>,
) -> ImageProxy {
    through_url(&proxy.url, read_timeout, send_timeout, response_timeout)
}

/// An image proxy of the admin cloud whose image endpoint is `url` (a proxy in front of
/// Glance), with the given timeouts and two retries.
pub fn through_url(
    url: &str,
    read_timeout: Option<Duration>,
    send_timeout: Option<Duration>,
    response_timeout: Option<Duration>,
) -> ImageProxy {
    let mut cfg = cloud(ADMIN);
    cfg.endpoint_overrides.insert("image".into(), url.to_string());
    let mut b = Session::builder(cfg);
    if let Some(t) = read_timeout {
        b = b.read_timeout(t);
    }
    if let Some(t) = send_timeout {
        b = b.send_timeout(t);
    }
    if let Some(t) = response_timeout {
        b = b.response_timeout(t);
    }
    ImageProxy::new(b.retry_policy(RetryPolicy::default().max_retries(2)).build().unwrap())
}

/// Makes `img` (a proxy with tight timeouts) ready for a timed test: the token comes from a
/// session with the default timeouts (so a slow Keystone can neither fail the test nor pass
/// it through the wrong path), and the image endpoint is resolved.
pub async fn ready(img: &ImageProxy) {
    let token = crate::session(ADMIN).token().await.unwrap().expect("a password cloud");
    img.session().set_token((*token).clone()).await;
    let ep = img.session().endpoint("image").await.unwrap();
    assert!(ep.version.is_some(), "version discovery through the proxy failed: {ep:?}");
}
