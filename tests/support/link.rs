//! A long, thin link on loopback: a TCP relay that delays every byte by half the round trip
//! each way, holds at most a window of bytes unacknowledged per direction (so TCP's window
//! matters: a stream moves at most `window / rtt`), and caps each connection's rate. Put it
//! in front of Glance (or of the fault proxy) in a test, or in a bench (`cargo xtask bench
//! wan`). It knows nothing of HTTP: curl, aria2c and the SDK see the same link.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// What the link is like.
#[derive(Debug, Clone, Copy)]
pub struct LinkSpec {
    /// The round trip: each direction adds half.
    pub rtt: Duration,
    /// Bytes per second per connection and direction (`None`: no cap).
    pub cap: Option<u64>,
    /// Bytes sent and not yet acknowledged per connection and direction (TCP's window).
    pub window: usize,
}

impl LinkSpec {
    /// A link of this round trip, capped at `mib_per_s` MiB/s per connection, with a 4 MiB
    /// window (Linux's autotuned receive buffer is of that order).
    pub fn wan(rtt: Duration, mib_per_s: u64) -> LinkSpec {
        LinkSpec { rtt, cap: Some(mib_per_s << 20), window: 4 << 20 }
    }
}

/// A running link; dropping it stops it (and every connection through it).
pub struct Link {
    /// Where to connect instead of the upstream.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Link {
    /// `http://addr` of the link.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Starts a link on a free loopback port, relaying to `upstream`.
pub async fn start(upstream: SocketAddr, spec: LinkSpec) -> Link {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the link");
    let addr = listener.local_addr().expect("the link's address");
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        while let Ok((inbound, _)) = listener.accept().await {
            connections.spawn(async move {
                let Ok(outbound) = TcpStream::connect(upstream).await else { return };
                let _ = (inbound.set_nodelay(true), outbound.set_nodelay(true));
                let (ri, wi) = inbound.into_split();
                let (ro, wo) = outbound.into_split();
                let _ = tokio::join!(pump(ri, wo, spec), pump(ro, wi, spec));
            });
            while connections.try_join_next().is_some() {}
        }
    });
    Link { addr, task }
}

/// One direction: bytes read from `from` reach `to` half a round trip after the link
/// finished sending them at the capped rate; at most `window` bytes are unacknowledged
/// (an acknowledgement takes another half round trip).
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    spec: LinkSpec,
) -> std::io::Result<()> {
    let one_way = spec.rtt / 2;
    let mut buf = vec![0u8; 64 << 10];
    let mut line: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
    let mut acks: VecDeque<(Instant, usize)> = VecDeque::new();
    let mut unacked = 0usize;
    let mut free_at = Instant::now();
    let mut eof = false;
    loop {
        if eof && line.is_empty() {
            return to.shutdown().await;
        }
        let room = spec.window.saturating_sub(unacked).min(buf.len());
        let delivery = line.front().map(|(at, _)| *at);
        let ack = acks.front().map(|(at, _)| *at);
        tokio::select! {
            n = from.read(&mut buf[..room.max(1)]), if !eof && room > 0 => {
                let n = n.unwrap_or(0);
                if n == 0 {
                    eof = true;
                    continue;
                }
                let now = Instant::now();
                let sending = spec.cap.map_or(Duration::ZERO, |cap| {
                    Duration::from_secs_f64(n as f64 / cap as f64)
                });
                free_at = free_at.max(now) + sending;
                line.push_back((free_at + one_way, buf[..n].to_vec()));
                unacked += n;
            }
            _ = tokio::time::sleep_until(delivery.unwrap_or_else(Instant::now)), if delivery.is_some() => {
                let (at, bytes) = line.pop_front().expect("a delivery is due");
                to.write_all(&bytes).await?;
                acks.push_back((at.max(Instant::now()) + one_way, bytes.len()));
            }
            _ = tokio::time::sleep_until(ack.unwrap_or_else(Instant::now)), if ack.is_some() => {
                let (_, n) = acks.pop_front().expect("an ack is due");
                unacked -= n;
            }
        }
    }
}
