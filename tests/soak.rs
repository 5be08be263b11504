//! The chaos soak: 16 tasks share one `ImageProxy` (one session, one connection pool) for a
//! bounded time, uploading files and one-shot streams, downloading to paths and as streams,
//! listing and updating, through a proxy that faults a seeded share of the requests (cuts,
//! resets, stalls, 503/429 with `Retry-After`, flipped bytes, truncated uploads). One call in
//! ten is also cancelled at a random moment by `tokio::time::timeout`.
//!
//! Every call must return correct data or a typed error of a kind the faults explain; no
//! success may carry wrong bytes; no file may be left in the output directory; no image the
//! soak made may be left half-made; memory stays flat; the connection works at the end.
//!
//! `OSRS_SOAK_SECS` (default 75) sets the length and `OSRS_SOAK_SEED` replays a run;
//! `cargo xtask soak --secs N` runs it alone for longer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use openstack_image::{DiskFormat, Image, ImageData, ImageProxy, ImageQuery, ImageStatus};
use openstack_resource::Error;
use openstack_tests::faults::through_url;
use openstack_tests::{ADMIN, chaos, data, image, unique};
use openstack_transfer::{Algorithm, digest_hex};

const TASKS: u64 = 16;
const FAULT_PERCENT: u64 = 15;

/// An image uploaded without faults, whose bytes every download is checked against.
struct Fixture {
    id: String,
    bytes: Bytes,
}

#[derive(Default)]
struct Tally {
    calls: BTreeMap<&'static str, u64>,
    outcomes: BTreeMap<String, u64>,
    wrong_bytes: u64,
    unexpected: Vec<String>,
    created: Vec<String>,
}

impl Tally {
    fn record(&mut self, op: &'static str, outcome: Result<(), Outcome>) {
        *self.calls.entry(op).or_default() += 1;
        let key = match outcome {
            Ok(()) => "ok".to_string(),
            Err(Outcome::Cancelled) => "cancelled".to_string(),
            Err(Outcome::Wrong(why)) => {
                self.wrong_bytes += 1;
                self.unexpected.push(format!("{op}: WRONG DATA: {why}"));
                "WRONG DATA".to_string()
            }
            Err(Outcome::Failed(e)) => {
                let name = kind_name(&e);
                let expected = explained(&e) || (op == "update" && concurrent_update_conflict(&e));
                if !expected {
                    self.unexpected.push(format!("{op}: {}", e.report()));
                }
                name
            }
        };
        *self.outcomes.entry(key).or_default() += 1;
    }
}

enum Outcome {
    Cancelled,
    Wrong(String),
    Failed(Error),
}

impl From<Error> for Outcome {
    fn from(e: Error) -> Self {
        Outcome::Failed(e)
    }
}

fn kind_name(e: &Error) -> String {
    let kind = e.kind();
    match kind {
        Error::Http(api) => format!("error: http {}", api.status.as_u16()),
        other => {
            let debug = format!("{other:?}");
            let name: String = debug.chars().take_while(|c| c.is_alphanumeric()).collect();
            format!("error: {name}")
        }
    }
}

/// Error kinds the injected faults explain (after the retries and resumes allowed).
fn explained(e: &Error) -> bool {
    match e.kind() {
        Error::Transport { .. }
        | Error::Timeout { .. }
        | Error::ServiceUnavailable(_)
        | Error::ChecksumMismatch { .. }
        | Error::NotReplayable { .. }
        | Error::Incomplete { .. }
        | Error::Resume { .. } => true,
        Error::Http(api) => api.status.as_u16() == 429,
        _ => false,
    }
}

/// Glance applies concurrent PATCHes to one image last-writer-wins: a property another
/// task's PATCH dropped meanwhile makes this task's `replace` of it fail with 409 ("Property
/// ... does not exist"). The server's own refusal, typed; not a client fault.
fn concurrent_update_conflict(e: &Error) -> bool {
    matches!(e.kind(), Error::Conflict(api) if api.message.contains("does not exist"))
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Xorshift(u64);

impl Xorshift {
    fn roll(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

struct World {
    img: ImageProxy,
    tag: String,
    fixtures: Vec<Fixture>,
    sources: Vec<(PathBuf, Bytes)>,
    out: PathBuf,
    tally: Mutex<Tally>,
}

fn check_upload(up: &Image, bytes: &[u8]) -> Result<(), Outcome> {
    let md5 = digest_hex(Algorithm::Md5, bytes);
    if up.size != Some(bytes.len() as u64) || up.checksum.as_deref() != Some(md5.as_str()) {
        return Err(Outcome::Wrong(format!(
            "image {} has size {:?} checksum {:?}, sent {} bytes md5 {md5}",
            up.id,
            up.size,
            up.checksum,
            bytes.len()
        )));
    }
    Ok(())
}

/// An image the soak makes: tagged so the checks at the end find it.
fn soak_image(w: &World, kind: &str) -> openstack_image::CreateImage {
    w.img
        .create_image(unique(kind))
        .disk_format(DiskFormat::Raw)
        .tags([w.tag.clone()])
        .allow_duplicates(true)
}

async fn file_upload(w: &World, k: usize) -> Result<(), Outcome> {
    let (path, bytes) = &w.sources[k];
    let up = soak_image(w, "soak-file").filename(path).await?;
    w.tally.lock().unwrap().created.push(up.id.clone());
    check_upload(&up, bytes)
}

async fn stream_upload(w: &World, k: usize) -> Result<(), Outcome> {
    let (_, bytes) = &w.sources[k];
    let chunks: Vec<std::io::Result<Bytes>> =
        bytes.chunks(100_000).map(|c| Ok(bytes.slice_ref(c))).collect();
    let stream = futures_util::stream::iter(chunks);
    let up = soak_image(w, "soak-stream")
        .data(ImageData::sized_stream(stream, bytes.len() as u64))
        .await?;
    w.tally.lock().unwrap().created.push(up.id.clone());
    check_upload(&up, bytes)
}

async fn download_to_path(w: &World, k: usize, name: &str) -> Result<(), Outcome> {
    let fx = &w.fixtures[k];
    let path = w.out.join(name);
    w.img.download_image(&fx.id).to_path(&path).await?;
    let got = std::fs::read(&path).map_err(|e| Outcome::Wrong(format!("{name}: {e}")))?;
    std::fs::remove_file(&path).unwrap();
    if got != fx.bytes {
        return Err(Outcome::Wrong(format!("{name}: {} bytes differ from the image", got.len())));
    }
    Ok(())
}

async fn download_stream(w: &World, k: usize) -> Result<(), Outcome> {
    let fx = &w.fixtures[k];
    let mut stream = Box::pin(w.img.download_image(&fx.id).into_stream().await?);
    let mut got = Vec::with_capacity(fx.bytes.len());
    while let Some(chunk) = stream.next().await {
        got.extend_from_slice(&chunk?);
    }
    if got != fx.bytes {
        return Err(Outcome::Wrong(format!("stream of {}: bytes differ", fx.id)));
    }
    Ok(())
}

async fn list(w: &World) -> Result<(), Outcome> {
    let listed: Vec<Image> =
        w.img.images(&ImageQuery::new().tag(&w.tag).page_size(2)).try_collect().await?;
    if listed.len() < w.fixtures.len() || listed.iter().any(|i| !i.tags.contains(&w.tag)) {
        return Err(Outcome::Wrong(format!("list by tag gave {} images", listed.len())));
    }
    Ok(())
}

async fn update(w: &World, k: usize, task: u64, n: u64) -> Result<(), Outcome> {
    let key = format!("osrs_soak_t{task}");
    let value = n.to_string();
    let (k2, v2) = (key.clone(), value.clone());
    let updated = w
        .img
        .update_image_with(&w.fixtures[k].id, move |i| {
            i.properties.insert(k2, serde_json::Value::String(v2));
        })
        .await?;
    if updated.property(&key) != Some(value.as_str()) {
        return Err(Outcome::Wrong(format!("{key} is {:?}, set {value}", updated.property(&key))));
    }
    Ok(())
}

async fn worker(w: Arc<World>, task: u64, seed: u64, deadline: Instant) {
    let mut rng = Xorshift((seed ^ (task + 1).wrapping_mul(0xA24B_AED4_963E_E407)) | 1);
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let op = rng.roll(6);
        let k = rng.roll(3) as usize;
        let cancel_after = (rng.roll(10) == 0).then(|| Duration::from_millis(rng.roll(3000)));
        let name = format!("t{task}-{n}.img");
        let (label, fut): (&'static str, futures_util::future::BoxFuture<'_, Result<(), Outcome>>) =
            match op {
                0 => ("file upload", Box::pin(file_upload(&w, k))),
                1 => ("stream upload", Box::pin(stream_upload(&w, k))),
                2 => ("download to path", Box::pin(download_to_path(&w, k, &name))),
                3 => ("download stream", Box::pin(download_stream(&w, k))),
                4 => ("list", Box::pin(list(&w))),
                _ => ("update", Box::pin(update(&w, k, task, n))),
            };
        let outcome = match cancel_after {
            Some(d) => tokio::time::timeout(d, fut).await.unwrap_or(Err(Outcome::Cancelled)),
            None => fut.await,
        };
        w.tally.lock().unwrap().record(label, outcome);
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_soak() {
    let secs = env_u64("OSRS_SOAK_SECS").unwrap_or(75);
    let seed = env_u64("OSRS_SOAK_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
            as u64
    });
    eprintln!("soak: seed {seed}, {secs} s, {TASKS} tasks (replay with OSRS_SOAK_SEED={seed})");
    let direct = image(ADMIN);
    let tag = unique("soak");
    let mut fixtures = Vec::new();
    for (i, size) in [64 << 10, 700_000, 3 << 20].into_iter().enumerate() {
        let bytes = Bytes::from(data(size, seed ^ i as u64));
        let up = direct
            .create_image(unique("soak-fixture"))
            .data(bytes.to_vec())
            .disk_format(DiskFormat::Raw)
            .tags([tag.clone()])
            .allow_duplicates(true)
            .await
            .unwrap();
        fixtures.push(Fixture { id: up.id, bytes });
    }
    let src_dir = tempfile::tempdir().unwrap();
    let sources: Vec<(PathBuf, Bytes)> = [100_000, 1 << 20, 2_500_000]
        .into_iter()
        .enumerate()
        .map(|(i, size)| {
            let bytes = Bytes::from(data(size, seed ^ (100 + i as u64)));
            let path = src_dir.path().join(format!("source-{i}.raw"));
            std::fs::write(&path, &bytes).unwrap();
            (path, bytes)
        })
        .collect();
    let out_dir = tempfile::tempdir().unwrap();

    let chaos = chaos::start(seed, FAULT_PERCENT).await;
    let img = through_url(
        &chaos.url,
        Some(Duration::from_secs(2)),
        Some(Duration::from_secs(5)),
        Some(Duration::from_secs(60)),
    );
    let world = Arc::new(World {
        img: img.clone(),
        tag: tag.clone(),
        fixtures,
        sources,
        out: out_dir.path().to_path_buf(),
        tally: Mutex::new(Tally::default()),
    });
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let rss = Arc::new(Mutex::new(Vec::<(Duration, u64)>::new()));
    let sampler = {
        let rss = rss.clone();
        tokio::spawn(async move {
            loop {
                rss.lock().unwrap().push((started.elapsed(), rss_kib()));
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };
    let workers: Vec<_> =
        (0..TASKS).map(|t| tokio::spawn(worker(world.clone(), t, seed, deadline))).collect();
    for w in workers {
        w.await.unwrap();
    }
    sampler.abort();
    let ran = started.elapsed();
    chaos.state.disable();

    // Cancelled creations delete their records from spawned tasks: give them a moment, then
    // nothing the soak made may be half-made.
    let mut half_made = Vec::new();
    for _ in 0..40 {
        let mine: Vec<Image> =
            direct.images(&ImageQuery::new().tag(&tag)).try_collect().await.unwrap();
        half_made = mine.into_iter().filter(|i| i.status != ImageStatus::Active).collect();
        if half_made.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let left_files = files_in(out_dir.path());

    // The connection still works, faults off.
    let fx = &world.fixtures[1];
    assert_eq!(img.download_image(&fx.id).to_bytes().await.unwrap(), fx.bytes);
    assert_eq!(img.get_image(&fx.id).await.unwrap().status, ImageStatus::Active);

    // Every image the soak made, and the fixtures, go; active ones it never reported are leaks.
    let tally = std::mem::take(&mut *world.tally.lock().unwrap());
    let mine: Vec<Image> = direct.images(&ImageQuery::new().tag(&tag)).try_collect().await.unwrap();
    let unaccounted: Vec<String> = mine
        .iter()
        .filter(|i| i.status == ImageStatus::Active)
        .filter(|i| !tally.created.contains(&i.id) && !world.fixtures.iter().any(|f| f.id == i.id))
        .map(|i| i.id.clone())
        .collect();
    for i in &mine {
        direct.delete_image_opt(&i.id).await.unwrap();
    }

    // The table.
    let samples = rss.lock().unwrap().clone();
    let third = samples.len() / 3;
    let early = samples[..third.max(1)].iter().map(|s| s.1).max().unwrap_or(0);
    let late = samples[samples.len() - third.max(1)..].iter().map(|s| s.1).max().unwrap_or(0);
    eprintln!(
        "\nsoak: seed {seed}, ran {ran:.1?}, {} requests through the proxy",
        chaos.state.requests.load(std::sync::atomic::Ordering::Relaxed)
    );
    eprintln!("{:<20} {:>8}", "call", "count");
    for (op, n) in &tally.calls {
        eprintln!("{op:<20} {n:>8}");
    }
    eprintln!("{:<20} {:>8}", "fault applied", "count");
    for (kind, n) in chaos.state.applied() {
        eprintln!("{kind:<20} {n:>8}");
    }
    eprintln!("{:<28} {:>8}", "outcome", "count");
    for (kind, n) in &tally.outcomes {
        eprintln!("{kind:<28} {n:>8}");
    }
    eprintln!(
        "wrong bytes {}, files left {}, half-made images {}, unaccounted images {}, peak RSS first third {} MiB, last third {} MiB",
        tally.wrong_bytes,
        left_files.len(),
        half_made.len(),
        unaccounted.len(),
        early / 1024,
        late / 1024
    );

    assert!(tally.unexpected.is_empty(), "unexplained outcomes:\n{}", tally.unexpected.join("\n"));
    assert_eq!(tally.wrong_bytes, 0);
    assert!(left_files.is_empty(), "files left in the output directory: {left_files:?}");
    assert!(half_made.is_empty(), "half-made images left: {half_made:?}");
    assert!(unaccounted.is_empty(), "images made but never reported: {unaccounted:?}");
    assert!(late <= early + 64 * 1024, "RSS grew from {early} KiB to {late} KiB");
    let total: u64 = tally.calls.values().sum();
    assert!(total >= TASKS * 3, "the soak ran only {total} calls");
    assert!(chaos.state.applied().values().sum::<u64>() > 0, "no fault was injected");
}
