//! Shared helpers of the integration tests.
//!
//! The tests run against the real Keystone + Glance that `cargo xtask cloud up` starts;
//! `cargo xtask test` exports `OS_CLIENT_CONFIG_FILE` pointing at its `clouds.yaml`. Without
//! it every test fails loudly: nothing here skips silently.

// Test and benchmark helpers, not a published API: their proxies and sources hold clients
// and closures without `Debug`.
#![allow(missing_debug_implementations)]

pub mod chaos;
pub mod faults;
pub mod link;
pub mod relay;
pub mod trap;

use std::sync::atomic::{AtomicU32, Ordering};

use openstack_auth::{CloudConfig, Session};

/// The admin cloud of the local test cloud.
pub const ADMIN: &str = "local";
/// The non-admin cloud (project `demo`, role member).
pub const DEMO: &str = "local-demo";
/// The admin cloud through the second Glance, the one with unified limits on.
pub const LIMITS: &str = "local-limits";

/// Loads a cloud of the local test cloud, failing loudly when it is not configured.
pub fn cloud(name: &str) -> CloudConfig {
    assert!(
        std::env::var_os("OS_CLIENT_CONFIG_FILE").is_some(),
        "OS_CLIENT_CONFIG_FILE is not set: these integration tests need the local cloud. \
         Run them with `cargo xtask test`, or `cargo xtask cloud up && eval \"$(cargo xtask cloud env)\"` first."
    );
    CloudConfig::from_cloud(name).unwrap_or_else(|e| panic!("cannot load cloud {name}: {e}"))
}

/// A session on a cloud of the local test cloud.
pub fn session(name: &str) -> Session {
    Session::new(cloud(name)).expect("session")
}

/// A name unique to this test process and call, for resources the test creates.
///
/// The name is also remembered for the test's thread: if the test fails (panics), the
/// images and metadef namespaces of that name are deleted, so a failed assertion leaves
/// nothing behind on the shared cloud (a panic hook, installed on first use, does it).
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!("osrs-test-{prefix}-{}-{n}-{nanos:x}", std::process::id());
    cleanup::remember(&name);
    name
}

mod cleanup {
    use std::cell::RefCell;
    use std::sync::Once;

    thread_local! {
        static NAMES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn remember(name: &str) {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                previous(info);
                let names = NAMES.with(|n| std::mem::take(&mut *n.borrow_mut()));
                if !names.is_empty() {
                    sweep(names);
                }
            }));
        });
        NAMES.with(|n| n.borrow_mut().push(name.to_string()));
    }

    /// Deletes what a failed test made under its names (on a thread and runtime of its own:
    /// the hook runs inside the test's runtime, which cannot be blocked on).
    fn sweep(names: Vec<String>) {
        let worker = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async move {
                let img = super::image(super::ADMIN);
                let mut deleted = 0;
                for name in &names {
                    let shown = openstack_image::ImageQuery::new().name(name.as_str());
                    let hidden = shown.clone().hidden(true);
                    for query in [shown, hidden] {
                        let found: Vec<openstack_image::Image> =
                            futures_util::TryStreamExt::try_collect(img.images(&query))
                                .await
                                .unwrap_or_default();
                        for i in found {
                            if i.protected {
                                let _ = img.update_image_with(&i.id, |i| i.protected = false).await;
                            }
                            if img.delete_image_opt(&i.id).await.is_ok_and(|d| d.is_some()) {
                                deleted += 1;
                            }
                        }
                    }
                    if img
                        .delete_metadef_namespace_opt(name.as_str())
                        .await
                        .is_ok_and(|d| d.is_some())
                    {
                        deleted += 1;
                    }
                }
                eprintln!("openstack-tests: the failed test's leftovers deleted: {deleted}");
                Some(())
            })
        });
        let _ = worker.join();
    }
}

/// An image proxy on a cloud of the local test cloud.
pub fn image(name: &str) -> openstack_image::ImageProxy {
    openstack_image::ImageProxy::new(session(name))
}

/// Deterministic pseudo-random bytes (xorshift), so data differs between tests.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The directory and base URL of the loopback web server that web-download imports from.
pub fn www() -> (std::path::PathBuf, String) {
    let dir = std::env::var("OSRS_CLOUD_WWW_DIR")
        .expect("OSRS_CLOUD_WWW_DIR is not set: run the tests with `cargo xtask test`");
    let url = std::env::var("OSRS_CLOUD_WWW_URL").expect("OSRS_CLOUD_WWW_URL is not set");
    (dir.into(), url)
}

/// The local Glance's URL (plain HTTP), as the catalog lists it.
pub fn glance_url() -> String {
    std::env::var("OSRS_GLANCE_URL")
        .expect("OSRS_GLANCE_URL is not set: run the tests with `cargo xtask test`")
}

/// The first cause of type `T` in `err`'s `source()` chain, looking inside `std::io::Error`s
/// that wrap another error (as hyper and rustls do: `io::Error::source` skips the error it
/// wraps, `get_ref` reaches it).
pub fn find_cause<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut next: Option<&'a (dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        next = match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// An object served from memory to the transfer engine, in 64 KiB chunks; with `stall_at`,
/// it sends that many bytes and then nothing, forever (a server that stopped).
pub struct MemorySource {
    /// The object.
    pub data: bytes::Bytes,
    /// Where it stops sending, if it does.
    pub stall_at: Option<usize>,
}

impl openstack_transfer::RangeSource for MemorySource {
    fn open(&mut self, offset: u64) -> openstack_transfer::OpenFuture<'_> {
        use futures_util::StreamExt;
        let end = self.stall_at.unwrap_or(self.data.len());
        let head = self.data.slice(offset as usize..end.max(offset as usize));
        let stalls = self.stall_at.is_some();
        let total = self.data.len() as u64;
        Box::pin(async move {
            let chunks: Vec<Result<bytes::Bytes, openstack_transfer::TransferError>> =
                head.chunks(64 * 1024).map(|c| Ok(bytes::Bytes::copy_from_slice(c))).collect();
            let body = futures_util::stream::iter(chunks);
            let body: openstack_transfer::ByteStream = if stalls {
                Box::pin(body.chain(futures_util::stream::pending()))
            } else {
                Box::pin(body)
            };
            Ok(openstack_transfer::Opened {
                partial: offset > 0,
                start: offset,
                total: Some(total),
                identity: None,
                body,
            })
        })
    }
}

/// What a [`MemorySource`] download of `data` must verify against (size and sha512).
pub fn expected(data: &[u8]) -> openstack_transfer::Expected {
    use openstack_transfer::Algorithm;
    openstack_transfer::Expected {
        size: Some(data.len() as u64),
        digest: Some((Algorithm::Sha512, openstack_transfer::digest_hex(Algorithm::Sha512, data))),
    }
}

/// The local cloud's state directory (where `clouds.yaml` is).
pub fn state_dir() -> std::path::PathBuf {
    let cfg = std::env::var_os("OS_CLIENT_CONFIG_FILE").expect("OS_CLIENT_CONFIG_FILE is not set");
    std::path::Path::new(&cfg).parent().expect("clouds.yaml has a directory").to_path_buf()
}

/// The reference `openstack` command line (python-openstackclient, pinned, in the main
/// cloud's venv): `OSRS_OPENSTACK` when set (a release's environment points it at the main
/// venv), else the venv beside `clouds.yaml`.
pub fn openstack_bin() -> std::path::PathBuf {
    std::env::var_os("OSRS_OPENSTACK")
        .map_or_else(|| state_dir().join("venv/bin/openstack"), std::path::PathBuf::from)
}

/// Flips the first byte of an image's copy in a file store of the local cloud, so that a
/// download which really reads that store fails verification.
pub fn alter_store_copy(store: &str, image_id: &str) {
    let path = state_dir().join("data/glance/stores").join(store).join(image_id);
    let mut bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("the {store} copy of {image_id} at {}: {e}", path.display()));
    bytes[0] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
}

/// Replaces a file store's directory of the local cloud with a regular file while alive, so
/// that Glance's writes to that store fail; puts it back when dropped (also on a panic). It
/// breaks every test using that store meanwhile: use it in a test binary that runs alone.
pub struct BrokenStore {
    dir: std::path::PathBuf,
    aside: std::path::PathBuf,
}

impl BrokenStore {
    /// Breaks `store` (`fast`, `slow` or `cold`).
    pub fn break_it(store: &str) -> BrokenStore {
        let dir = state_dir().join("data/glance/stores").join(store);
        let aside = dir.with_extension("aside");
        std::fs::rename(&dir, &aside).unwrap();
        std::fs::write(&dir, b"not a directory").unwrap();
        BrokenStore { dir, aside }
    }
}

impl Drop for BrokenStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.dir);
        let _ = std::fs::rename(&self.aside, &self.dir);
    }
}

/// Waits until Glance's cache holds image `id` (its cache worker takes queued images in the
/// background; while it caches one, the image is in neither list). Returns the cache then;
/// fails loudly after three minutes.
pub async fn wait_cached(
    img: &openstack_image::ImageProxy,
    id: &str,
) -> openstack_image::ImageCache {
    let started = std::time::Instant::now();
    loop {
        let cache = img.get_image_cache().await.unwrap();
        if cache.cached_images.iter().any(|c| c.image_id == id) {
            return cache;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(180),
            "image {id} was not cached: {cache:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// A writer whose bytes the test can read after handing it (owned) to a download.
#[derive(Clone, Default)]
pub struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl SharedBuf {
    /// What was written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().expect("buffer").clone()
    }
}

impl tokio::io::AsyncWrite for SharedBuf {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.0.lock().expect("buffer").extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
