//! A chaos proxy in front of the real Glance for the soak: a seeded share of the requests
//! gets a fault, drawn at random from what each kind of request can meet in the wild.
//!
//! * downloads (`GET .../file`): the connection cut at a random offset, one byte flipped,
//!   a stall longer than the client's idle timeout, a 503 instead of the data, a reset
//!   before any answer;
//! * uploads (`PUT .../file|stage`): a 503 or a 429 with `Retry-After` after the body was
//!   read, the connection cut after a random number of bytes (a truncated upload);
//! * other reads (`GET`): 503, 429 with `Retry-After`, a reset before any answer.
//!
//! `POST`, `PATCH` and `DELETE` are never faulted, so that creating and cleaning up records
//! stays reliable and "no image left behind" measures the client, not the proxy.
//!
//! Every request is recorded with the time it arrived and the fault it got, and the name of
//! each image created through the proxy is kept (from the `POST` body), so that an error can
//! be traced to a fault that hit one of *that* call's requests ([`ChaosState::requests_of`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::relay::{Body, Upstream, read_up_to, to_glance};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};

/// How long a stalled download holds still (longer than the soak's idle timeout).
pub const STALL: Duration = Duration::from_secs(12);

/// One request the proxy saw.
#[derive(Clone, Debug)]
pub struct Seen {
    /// When it arrived.
    pub at: Instant,
    /// `METHOD path?query`.
    pub request: String,
    /// The fault it got, if any.
    pub fault: Option<&'static str>,
    /// Whether it could have got one (a GET or an upload).
    pub faultable: bool,
}

/// What a call's requests are recognised by.
#[derive(Clone, Debug)]
pub enum Subject {
    /// Requests naming this image id in their path.
    Image(String),
    /// Requests for the image created with this name (its id from the `POST` body).
    Named(String),
    /// Requests whose path or query contains this text (a tag filter).
    Text(String),
}

/// What the chaos proxy did.
pub struct ChaosState {
    rng: Mutex<u64>,
    percent: u64,
    enabled: AtomicBool,
    applied: Mutex<BTreeMap<&'static str, u64>>,
    /// Requests seen.
    pub requests: AtomicU64,
    seen: Mutex<Vec<Seen>>,
    /// Image id to name, from the bodies of `POST /v2/images`.
    names: Mutex<HashMap<String, String>>,
}

impl ChaosState {
    /// Stops injecting faults (requests are forwarded untouched from now on).
    pub fn disable(&self) {
        self.enabled.store(false, Ordering::SeqCst);
    }

    /// Faults applied so far, by kind.
    pub fn applied(&self) -> BTreeMap<&'static str, u64> {
        self.applied.lock().unwrap().clone()
    }

    /// The requests about `subject` that arrived between `from` and `to`.
    pub fn requests_of(&self, subject: &Subject, from: Instant, to: Instant) -> Vec<Seen> {
        let id = match subject {
            Subject::Image(id) => Some(id.clone()),
            Subject::Named(name) => {
                let names = self.names.lock().unwrap();
                names.iter().find(|(_, n)| *n == name).map(|(id, _)| id.clone())
            }
            Subject::Text(_) => None,
        };
        let matches = |r: &str| match (subject, &id) {
            (Subject::Text(t), _) => r.contains(t.as_str()),
            (_, Some(id)) => r.contains(&format!("/v2/images/{id}")),
            (_, None) => false,
        };
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|s| s.at >= from && s.at <= to && matches(&s.request)).cloned().collect()
    }

    /// A number in `0..n` from the seeded generator (xorshift).
    fn roll(&self, n: u64) -> u64 {
        let mut x = self.rng.lock().unwrap();
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x % n.max(1)
    }

    fn pick(&self, kinds: &[&'static str]) -> &'static str {
        let kind = kinds[self.roll(kinds.len() as u64) as usize];
        *self.applied.lock().unwrap().entry(kind).or_default() += 1;
        kind
    }
}

/// A running chaos proxy.
pub struct Chaos {
    /// Its base URL (use as the image endpoint override).
    pub url: String,
    /// What it did.
    pub state: Arc<ChaosState>,
}

/// Starts a chaos proxy faulting about `percent` % of the faultable requests.
pub async fn start(seed: u64, percent: u64) -> Chaos {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(ChaosState {
        rng: Mutex::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
        percent,
        enabled: AtomicBool::new(true),
        applied: Mutex::new(BTreeMap::new()),
        requests: AtomicU64::new(0),
        seen: Mutex::new(Vec::new()),
        names: Mutex::new(HashMap::new()),
    });
    crate::relay::serve(listener, state.clone(), handle);
    Chaos { url, state }
}

fn io_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

fn answer(status: StatusCode, retry_after: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("retry-after", retry_after)
        .body(
            Full::new(Bytes::from_static(b"{\"message\": \"injected by the chaos proxy\"}"))
                .map_err(io_err)
                .boxed(),
        )
        .unwrap()
}

async fn drain(body: Body) {
    let mut body = body;
    while let Some(Ok(_)) = body.frame().await {}
}

async fn handle(
    req: Request<Incoming>,
    st: Arc<ChaosState>,
    upstream: Upstream,
) -> Result<Response<Body>, std::io::Error> {
    st.requests.fetch_add(1, Ordering::Relaxed);
    let at = Instant::now();
    let path = req.uri().path().to_string();
    let data_path = path.ends_with("/file") || path.ends_with("/stage");
    let upload = data_path && req.method() == Method::PUT;
    let download = path.ends_with("/file") && req.method() == Method::GET;
    let faultable = upload || req.method() == Method::GET;
    let fault = if st.enabled.load(Ordering::SeqCst) && faultable && st.roll(100) < st.percent {
        Some(if upload {
            st.pick(&["upload 503", "upload 429", "upload truncated"])
        } else if download {
            st.pick(&[
                "download cut",
                "download flip",
                "download stall",
                "download 503",
                "download reset",
            ])
        } else {
            st.pick(&["read 503", "read 429", "read reset"])
        })
    } else {
        None
    };
    let path_and_query = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let request = format!("{} {path_and_query}", req.method());
    st.seen.lock().unwrap().push(Seen { at, request, fault, faultable });
    // A create: keep the id and name it carries (the body is small JSON), then send it on.
    let req = if req.method() == Method::POST && path == "/v2/images" {
        let (parts, body) = req.into_parts();
        let bytes = body.collect().await.map_err(io_err)?.to_bytes();
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            if let (Some(id), Some(name)) = (v["id"].as_str(), v["name"].as_str()) {
                st.names.lock().unwrap().insert(id.to_string(), name.to_string());
            }
        }
        Request::from_parts(parts, Full::new(bytes).map_err(io_err).boxed())
    } else {
        let (parts, body) = req.into_parts();
        Request::from_parts(parts, body.map_err(io_err).boxed())
    };
    match fault {
        Some("upload 503") => {
            drain(req.into_body()).await;
            return Ok(answer(StatusCode::SERVICE_UNAVAILABLE, "0"));
        }
        Some("upload 429") | Some("read 429") => {
            drain(req.into_body()).await;
            return Ok(answer(StatusCode::TOO_MANY_REQUESTS, "1"));
        }
        Some("upload truncated") => {
            let limit = st.roll(2 << 20);
            read_up_to(&mut req.into_body(), limit).await;
            return Err(io_err("chaos: upload connection cut"));
        }
        Some("download 503") | Some("read 503") => {
            return Ok(answer(StatusCode::SERVICE_UNAVAILABLE, "0"));
        }
        Some("download reset") | Some("read reset") => {
            return Err(io_err("chaos: reset before answering"));
        }
        _ => {}
    }
    let (mut parts, body) = req.into_parts();
    to_glance(&mut parts, &crate::glance_url(), &path_and_query);
    let up = Request::from_parts(parts, body);
    let resp = match upstream.request(up).await {
        Ok(r) => r,
        Err(e) => return Err(io_err(e)),
    };
    let (parts, body) = resp.into_parts();
    let Some(kind) = fault.filter(|_| parts.status.is_success()) else {
        return Ok(Response::from_parts(parts, body.map_err(io_err).boxed()));
    };
    // A body fault at a random offset within what this response carries.
    let length = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .unwrap_or(64 << 10);
    let at = st.roll(length.max(1));
    let stream = futures_util::stream::unfold(
        (body, 0u64, false),
        move |(mut body, pos, done)| async move {
            if done {
                return None;
            }
            let frame = match body.frame().await {
                None => return None,
                Some(Err(e)) => return Some((Err(io_err(e)), (body, pos, true))),
                Some(Ok(f)) => f,
            };
            let Ok(data) = frame.into_data() else {
                return Some((Ok(Frame::data(Bytes::new())), (body, pos, false)));
            };
            let end = pos + data.len() as u64;
            if !(pos <= at && at < end) {
                return Some((Ok(Frame::data(data)), (body, end, false)));
            }
            let i = (at - pos) as usize;
            match kind {
                "download flip" => {
                    let mut v = data.to_vec();
                    v[i] ^= 0x20;
                    Some((Ok(Frame::data(Bytes::from(v))), (body, end, false)))
                }
                "download stall" => {
                    tokio::time::sleep(STALL).await;
                    Some((Ok(Frame::data(data)), (body, end, false)))
                }
                // "download cut": what fits, then the connection breaks.
                _ if i > 0 => Some((Ok(Frame::data(data.slice(..i))), (body, at, true))),
                _ => Some((Err(io_err("chaos: download cut")), (body, at, true))),
            }
        },
    );
    let cut = kind == "download cut";
    let stream = futures_util::StreamExt::chain(
        stream,
        futures_util::stream::iter(cut.then(|| Err(io_err("chaos: download cut")))),
    );
    Ok(Response::from_parts(parts, StreamBody::new(stream).boxed()))
}
