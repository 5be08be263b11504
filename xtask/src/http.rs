//! A tiny HTTP/1.1 GET over `std::net`, enough to probe whether a local server answers.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// `GET http://127.0.0.1:{port}{path}`; returns the status code, or `None` if nothing answered.
pub(crate) fn get_status(port: u16, path: &str) -> Option<u16> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream.set_write_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut head = [0u8; 64];
    let mut filled = 0;
    while filled < 12 {
        match stream.read(&mut head[filled..]) {
            Ok(0) | Err(_) => return None,
            Ok(n) => filled += n,
        }
    }
    let line = std::str::from_utf8(&head[..filled]).ok()?;
    line.strip_prefix("HTTP/1.")?.get(2..5)?.parse().ok()
}

/// Whether something already listens on `127.0.0.1:{port}`: a socket in LISTEN state for
/// the port in `/proc/net/tcp` (so a listener whose owner is dying still counts, and the
/// connections a SIGKILLed server leaves in FIN_WAIT do not); elsewhere, a connect.
pub(crate) fn port_in_use(port: u16) -> bool {
    if let Ok(table) = std::fs::read_to_string("/proc/net/tcp") {
        return table.lines().skip(1).any(|line| {
            let mut cols = line.split_whitespace();
            let local = cols.nth(1).unwrap_or_default();
            let state = cols.nth(1).unwrap_or_default();
            state == "0A"
                && local
                    .rsplit_once(':')
                    .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
                    .is_some_and(|p| p == port)
        });
    }
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(500)).is_ok()
}

/// Waits until nothing listens on `127.0.0.1:{port}`, at most `limit`; whether it is free.
///
/// A listener can outlive its close for a moment: a server killed a moment ago, or a child
/// process forked by another thread that holds a copy of the socket until its `exec`.
pub(crate) fn port_free_within(port: u16, limit: Duration) -> bool {
    let by = std::time::Instant::now() + limit;
    while port_in_use(port) {
        if std::time::Instant::now() >= by {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_listener_is_seen_and_its_end_too() {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(super::port_in_use(port));
        drop(listener);
        // Another test's `Command` forked in between keeps a copy until it execs: the CI run of
        // stop 29 met that (df and du spawned next door), so wait for the end, bounded.
        assert!(
            super::port_free_within(port, std::time::Duration::from_secs(15)),
            "port {port} still listens 15 s after its listener was dropped"
        );
    }

    #[test]
    fn a_listener_held_is_not_called_free() {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(!super::port_free_within(port, std::time::Duration::from_millis(50)));
        drop(listener);
    }
}
