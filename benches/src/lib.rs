//! Helpers shared by the benchmarks: a minimal in-process HTTP data server on 127.0.0.1
//! and a [`RangeSource`] over a hyper client, so the transfer engine is measured over real
//! loopback HTTP without any OpenStack service in the way.

// Test and benchmark helpers, not a published API: their proxies and sources hold clients
// and closures without `Debug`.
#![allow(missing_debug_implementations)]

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use openstack_transfer::OpenFuture;
use openstack_transfer::{Opened, RangeSource, TransferError};

/// One mebibyte.
pub const MIB: usize = 1 << 20;

/// The block the server repeats: 1 MiB of pseudo-random bytes.
pub fn block() -> Bytes {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut v = Vec::with_capacity(MIB);
    while v.len() < MIB {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    Bytes::from(v)
}

type Body = BoxBody<Bytes, Infallible>;

/// Starts a server: `GET /<bytes>` answers that many bytes (the block repeated, sent as
/// refcounted slices); `PUT` drains the body and answers 204. Returns its address.
pub async fn serve() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let block = block();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let block = block.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let block = block.clone();
                    async move { Ok::<_, Infallible>(answer(req, block).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    addr
}

async fn answer(req: Request<Incoming>, block: Bytes) -> Response<Body> {
    if req.method() == http::Method::PUT {
        let mut body = req.into_body();
        while let Some(Ok(_)) = body.frame().await {}
        return Response::builder().status(204).body(Empty::new().boxed()).expect("response");
    }
    let total: u64 = req.uri().path().trim_start_matches('/').parse().unwrap_or(0);
    let frames = futures_util::stream::unfold(0u64, move |sent| {
        let block = block.clone();
        async move {
            if sent >= total {
                return None;
            }
            let n = (total - sent).min(block.len() as u64) as usize;
            Some((Ok::<_, Infallible>(Frame::data(block.slice(..n))), sent + n as u64))
        }
    });
    Response::builder()
        .header("content-length", total)
        .body(BodyExt::boxed(StreamBody::new(frames)))
        .expect("response")
}

/// A pooled HTTP client.
pub fn client<B>() -> Client<HttpConnector, B>
where
    B: http_body::Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Client::builder(TokioExecutor::new()).build_http()
}

/// A [`RangeSource`] that GETs `url` (no ranges needed on loopback).
pub struct HttpSource {
    /// The client.
    pub client: Client<HttpConnector, Empty<Bytes>>,
    /// The URL.
    pub url: String,
}

impl RangeSource for HttpSource {
    fn open(&mut self, offset: u64) -> OpenFuture<'_> {
        Box::pin(async move {
            let mut req = Request::get(&self.url);
            if offset > 0 {
                req = req.header("range", format!("bytes={offset}-"));
            }
            let resp = self
                .client
                .request(req.body(Empty::new()).expect("request"))
                .await
                .map_err(TransferError::interrupted)?;
            let total =
                resp.headers().get("content-length").and_then(|v| v.to_str().ok()?.parse().ok());
            let body =
                resp.into_body().into_data_stream().map(|r| r.map_err(TransferError::interrupted));
            Ok(Opened { partial: false, start: 0, total, identity: None, body: Box::pin(body) })
        })
    }
}

/// The sha512 of `total` bytes of the server's data, computed the plain way.
pub fn expected_sha512(total: u64) -> String {
    let block = block();
    let mut h = openstack_transfer::Hasher::new(openstack_transfer::Algorithm::Sha512);
    let mut left = total;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        h.update(&block[..n]);
        left -= n as u64;
    }
    h.finish_hex()
}

/// `size` bytes of the server's object (the block repeated), in memory.
pub fn object(size: usize) -> Bytes {
    let b = block();
    let mut v = Vec::with_capacity(size);
    while v.len() < size {
        let n = (size - v.len()).min(b.len());
        v.extend_from_slice(&b[..n]);
    }
    Bytes::from(v)
}

/// The runtime every benchmark uses: two worker threads, like the machine's two cores.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}
