//! No token or password in any log line, at any level (its own test binary: `tracing`
//! caches per-callsite interest process-wide, so other tests running without a subscriber
//! would hide events from this one).

use std::io::Write;
use std::sync::{Arc, Mutex};

use http::Request;
use openstack_auth::{RequestBody, Session};
use openstack_tests::{DEMO, cloud};

fn get(path: &str) -> Request<RequestBody> {
    Request::get(path).body(RequestBody::empty()).unwrap()
}

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn no_secret_in_trace_output() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let cfg = cloud(DEMO);
    let password = cfg.auth.password.clone().unwrap();
    let token = tracing::subscriber::with_default(subscriber, || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let s = Session::new(cfg).unwrap();
            let _ = s.request("image", get("/v2/images?limit=2")).await.unwrap();
            let _ = s.request("image", get("/v2/images/does-not-exist")).await.unwrap_err();
            tracing::debug!(session = ?s, config = ?s.config(), "state");
            s.token().await.unwrap().unwrap().value.clone()
        })
    });
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("openstack.request"), "tracing captured nothing useful:\n{text}");
    assert!(!text.contains(password.expose()), "password leaked into logs");
    assert!(!text.contains(token.expose()), "token leaked into logs");
}
