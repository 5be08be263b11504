//! The chaos soak: 16 tasks share one `ImageProxy` (one session, one connection pool) for a
//! bounded time, uploading files and one-shot streams, downloading to paths and as streams,
//! listing and updating, through a proxy that faults a seeded share of the requests (cuts,
//! resets, stalls, 503/429 with `Retry-After`, flipped bytes, truncated uploads). One call in
//! ten is also cancelled at a random moment by `tokio::time::timeout`.
//!
//! Every call must return correct data or a typed error that a fault explains: one of the
//! faults the proxy injected into *that call's* requests (each task has images of its own,
//! and each upload a name of its own, so the proxy's record of faulted requests points at
//! one call). No success may carry wrong bytes; no file may be left in the output directory;
//! no image the soak made may be left half-made; memory stays flat; every kind of call
//! succeeds, at a rate the fault rate allows; and the same workload with the faults off
//! succeeds every time.
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
use openstack_tests::chaos::{self, ChaosState, Subject};
use openstack_tests::faults::through_url;
use openstack_tests::{ADMIN, data, image, unique};
use openstack_transfer::{Algorithm, digest_hex};

const TASKS: u64 = 16;
const FAULT_PERCENT: u64 = 15;

mod soak_tally;
use soak_tally::{Outcome, Tally, print_table};

/// An image uploaded without faults, whose bytes every download is checked against.
struct Fixture {
    id: String,
    bytes: Bytes,
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
    chaos: Arc<ChaosState>,
    /// On every image the soak makes.
    tag: String,
    /// Each task's own fixtures (tagged with the task's tag too), so that the requests for
    /// them during a call are that call's.
    fixtures: Vec<Vec<Fixture>>,
    task_tags: Vec<String>,
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
fn soak_image(w: &World, name: &str) -> openstack_image::CreateImage {
    w.img
        .create_image(name)
        .disk_format(DiskFormat::Raw)
        .tags([w.tag.clone()])
        .allow_duplicates(true)
}

async fn file_upload(w: &World, k: usize, name: &str) -> Result<(), Outcome> {
    let (path, bytes) = &w.sources[k];
    let up = soak_image(w, name).filename(path).await?;
    w.tally.lock().unwrap().created.push(up.id.clone());
    check_upload(&up, bytes)
}

async fn stream_upload(w: &World, k: usize, name: &str) -> Result<(), Outcome> {
    let (_, bytes) = &w.sources[k];
    let chunks: Vec<std::io::Result<Bytes>> =
        bytes.chunks(100_000).map(|c| Ok(bytes.slice_ref(c))).collect();
    let stream = futures_util::stream::iter(chunks);
    let up = soak_image(w, name).data(ImageData::sized_stream(stream, bytes.len() as u64)).await?;
    w.tally.lock().unwrap().created.push(up.id.clone());
    check_upload(&up, bytes)
}

async fn download_to_path(w: &World, fx: &Fixture, name: &str) -> Result<(), Outcome> {
    let path = w.out.join(name);
    w.img.download_image(&fx.id).to_path(&path).await?;
    let got = std::fs::read(&path).map_err(|e| Outcome::Wrong(format!("{name}: {e}")))?;
    std::fs::remove_file(&path).unwrap();
    if got != fx.bytes {
        return Err(Outcome::Wrong(format!("{name}: {} bytes differ from the image", got.len())));
    }
    Ok(())
}

async fn download_stream(w: &World, fx: &Fixture) -> Result<(), Outcome> {
    let mut stream = Box::pin(w.img.download_image(&fx.id).into_stream());
    let mut got = Vec::with_capacity(fx.bytes.len());
    while let Some(chunk) = stream.next().await {
        got.extend_from_slice(&chunk?);
    }
    if got != fx.bytes {
        return Err(Outcome::Wrong(format!("stream of {}: bytes differ", fx.id)));
    }
    Ok(())
}

async fn list(w: &World, task: usize) -> Result<(), Outcome> {
    let tag = &w.task_tags[task];
    let listed: Vec<Image> =
        w.img.images(&ImageQuery::new().tag(tag).page_size(2)).try_collect().await?;
    let mut ids: Vec<&str> = listed.iter().map(|i| i.id.as_str()).collect();
    let mut want: Vec<&str> = w.fixtures[task].iter().map(|f| f.id.as_str()).collect();
    ids.sort_unstable();
    want.sort_unstable();
    if ids != want {
        return Err(Outcome::Wrong(format!("list by tag {tag} gave {ids:?}, want {want:?}")));
    }
    Ok(())
}

async fn update(w: &World, fx: &Fixture, task: usize, n: u64) -> Result<(), Outcome> {
    let key = format!("osrs_soak_t{task}");
    let value = n.to_string();
    let (k2, v2) = (key.clone(), value.clone());
    let updated = w
        .img
        .update_image_with(&fx.id, move |i| {
            i.properties.insert(k2, serde_json::Value::String(v2));
        })
        .await?;
    if updated.property(&key) != Some(value.as_str()) {
        return Err(Outcome::Wrong(format!("{key} is {:?}, set {value}", updated.property(&key))));
    }
    Ok(())
}

/// Runs calls of every kind at random until `deadline`; one in ten is cancelled at a random
/// moment. Each call's outcome is judged against the faults on its own requests.
async fn worker(w: Arc<World>, task: usize, seed: u64, deadline: Instant) {
    let mut rng = Xorshift((seed ^ (task as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407)) | 1);
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let op = rng.roll(6);
        let k = rng.roll(3) as usize;
        let cancel_after = (rng.roll(10) == 0).then(|| Duration::from_millis(rng.roll(3000)));
        let file = format!("t{task}-{n}.img");
        let fx = &w.fixtures[task][k];
        let name = unique(if op == 0 { "soak-file" } else { "soak-stream" });
        let subject = match op {
            0 | 1 => Subject::Named(name.clone()),
            4 => Subject::Text(format!("tag={}", w.task_tags[task])),
            _ => Subject::Image(fx.id.clone()),
        };
        let (label, fut): (&'static str, futures_util::future::BoxFuture<'_, Result<(), Outcome>>) =
            match op {
                0 => ("file upload", Box::pin(file_upload(&w, k, &name))),
                1 => ("stream upload", Box::pin(stream_upload(&w, k, &name))),
                2 => ("download to path", Box::pin(download_to_path(&w, fx, &file))),
                3 => ("download stream", Box::pin(download_stream(&w, fx))),
                4 => ("list", Box::pin(list(&w, task))),
                _ => ("update", Box::pin(update(&w, fx, task, n))),
            };
        let started = Instant::now();
        let outcome = match cancel_after {
            Some(d) => tokio::time::timeout(d, fut).await.unwrap_or(Err(Outcome::Cancelled)),
            None => fut.await,
        };
        let requests = w.chaos.requests_of(&subject, started, Instant::now());
        w.tally.lock().unwrap().record(label, outcome, &requests);
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Runs the workload on `world` for `secs`, then takes its tally.
async fn run(world: &Arc<World>, seed: u64, secs: u64) -> (Tally, Duration) {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let workers: Vec<_> = (0..TASKS as usize)
        .map(|t| tokio::spawn(worker(world.clone(), t, seed, deadline)))
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    (std::mem::take(&mut *world.tally.lock().unwrap()), started.elapsed())
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
    let task_tags: Vec<String> = (0..TASKS).map(|t| format!("{tag}-t{t}")).collect();
    let mut fixtures = Vec::new();
    for (t, task_tag) in task_tags.iter().enumerate() {
        let mut mine = Vec::new();
        for (i, size) in [64 << 10, 700_000, 1_500_000].into_iter().enumerate() {
            let bytes = Bytes::from(data(size, seed ^ (t * 3 + i) as u64));
            let up = direct
                .create_image(unique("soak-fixture"))
                .data(bytes.to_vec())
                .disk_format(DiskFormat::Raw)
                .tags([tag.clone(), task_tag.clone()])
                .allow_duplicates(true)
                .await
                .unwrap();
            mine.push(Fixture { id: up.image.id, bytes });
        }
        fixtures.push(mine);
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

    // Idle timeouts well above anything a loaded Glance takes to answer, below the stall.
    let chaos = chaos::start(seed, FAULT_PERCENT).await;
    let img = through_url(
        &chaos.url,
        Some(Duration::from_secs(8)),
        Some(Duration::from_secs(15)),
        Some(Duration::from_secs(60)),
    );
    assert!(chaos::STALL > Duration::from_secs(8));
    openstack_tests::faults::ready(&img).await;
    let world = Arc::new(World {
        img: img.clone(),
        chaos: chaos.state.clone(),
        tag: tag.clone(),
        fixtures,
        task_tags,
        sources,
        out: out_dir.path().to_path_buf(),
        tally: Mutex::new(Tally::default()),
    });
    let rss = Arc::new(Mutex::new(Vec::<(Duration, u64)>::new()));
    let sampler = {
        let (rss, started) = (rss.clone(), Instant::now());
        tokio::spawn(async move {
            loop {
                rss.lock().unwrap().push((started.elapsed(), rss_kib()));
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };
    let (tally, ran) = run(&world, seed, secs).await;
    sampler.abort();

    // The same workload with the faults off: every call that is not cancelled succeeds. It
    // also measures how many faultable requests each kind of call makes.
    chaos.state.disable();
    let (calm, calm_ran) = run(&world, seed ^ 1, (secs / 4).max(15)).await;
    let p = FAULT_PERCENT as f64 / 100.0;
    let minimum: BTreeMap<&'static str, f64> = calm
        .lines
        .iter()
        .map(|(op, l)| {
            let per_call = l.faultable as f64 / (l.calls - l.cancelled).max(1) as f64;
            // The share of calls no fault touches, halved for the luck of a short run.
            (*op, 0.5 * (1.0 - p).powf(per_call))
        })
        .collect();

    // Cancelled creations delete their records from spawned tasks (patiently, through
    // restarts): wait for that, then nothing the soak made may be half-made.
    let mut half_made = Vec::new();
    let waiting = Instant::now();
    while waiting.elapsed() < Duration::from_secs(120) {
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
    let fx = &world.fixtures[1][1];
    assert_eq!(img.download_image(&fx.id).to_bytes().await.unwrap(), fx.bytes);
    assert_eq!(img.get_image(&fx.id).await.unwrap().status, ImageStatus::Active);

    // Every image the soak made, and the fixtures, go; active ones it never reported are leaks.
    let mine: Vec<Image> = direct.images(&ImageQuery::new().tag(&tag)).try_collect().await.unwrap();
    let fixture = |id: &str| world.fixtures.iter().flatten().any(|f| f.id == id);
    let created = |id: &String| tally.created.contains(id) || calm.created.contains(id);
    let unaccounted: Vec<String> = mine
        .iter()
        .filter(|i| i.status == ImageStatus::Active)
        .filter(|i| !created(&i.id) && !fixture(&i.id))
        .map(|i| i.id.clone())
        .collect();
    for i in &mine {
        direct.delete_image_opt(&i.id).await.unwrap();
    }

    // The tables.
    let samples = rss.lock().unwrap().clone();
    let third = samples.len() / 3;
    let early = samples[..third.max(1)].iter().map(|s| s.1).max().unwrap_or(0);
    let late = samples[samples.len() - third.max(1)..].iter().map(|s| s.1).max().unwrap_or(0);
    eprintln!(
        "\nsoak: seed {seed}, ran {ran:.1?} with faults and {calm_ran:.1?} without, {} requests through the proxy",
        chaos.state.requests.load(std::sync::atomic::Ordering::Relaxed)
    );
    eprintln!("{:<20} {:>8}", "fault applied", "count");
    for (kind, n) in chaos.state.applied() {
        eprintln!("{kind:<20} {n:>8}");
    }
    print_table(&format!("with {FAULT_PERCENT}% faults"), &tally, &minimum);
    print_table("faults off", &calm, &BTreeMap::new());
    eprintln!(
        "wrong bytes {}, files left {}, half-made images {}, unaccounted images {}, peak RSS first third {} MiB, last third {} MiB",
        tally.wrong_bytes + calm.wrong_bytes,
        left_files.len(),
        half_made.len(),
        unaccounted.len(),
        early / 1024,
        late / 1024
    );

    assert!(tally.unexpected.is_empty(), "unexplained outcomes:\n{}", tally.unexpected.join("\n"));
    assert!(calm.unexpected.is_empty(), "faults off:\n{}", calm.unexpected.join("\n"));
    assert_eq!(tally.wrong_bytes + calm.wrong_bytes, 0);
    assert!(left_files.is_empty(), "files left in the output directory: {left_files:?}");
    assert!(half_made.is_empty(), "half-made images left: {half_made:?}");
    assert!(unaccounted.is_empty(), "images made but never reported: {unaccounted:?}");
    assert!(late <= early + 64 * 1024, "RSS grew from {early} KiB to {late} KiB");
    assert!(chaos.state.applied().values().sum::<u64>() > 0, "no fault was injected");
    for (op, l) in &calm.lines {
        assert_eq!(l.ok, l.calls - l.cancelled, "faults off, every {op} succeeds");
    }
    for op in
        ["file upload", "stream upload", "download to path", "download stream", "list", "update"]
    {
        let l = tally.lines.get(op).cloned().unwrap_or_default();
        assert!(l.ok >= 1, "{op} never succeeded under faults");
        let rate = l.ok as f64 / (l.calls - l.cancelled).max(1) as f64;
        let least = minimum.get(op).copied().unwrap_or(0.0);
        assert!(
            rate >= least,
            "{op}: {:.0}% succeeded, at least {:.0}% expected",
            rate * 100.0,
            least * 100.0
        );
    }
}
