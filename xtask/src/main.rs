//! `cargo xtask <command>`: the project's automation.
//!
//! * `cloud up|down|status|env|logs`: a real Keystone + Glance on 127.0.0.1 (see `cloud.rs`).
//! * `test`: the one test command CI runs (fmt, clippy, doc, cloud up, all tests).
//! * `demo`: brings the local cloud up and runs the quickstart example against it.
//! * `bench`: runs the criterion benchmarks.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod cloud;
mod http;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  cloud up       start (installing on first use) a local Keystone + Glance on 127.0.0.1
  cloud down     stop the local cloud's processes
  cloud restart  restart Glance and Keystone (cloud restart glance|keystone for one;
                 --hard kills them with SIGKILL first, as a crash would)
  cloud status   show what runs and where
  cloud env      print the shell exports that point an SDK at the local cloud
  cloud logs     print the tail of every server log (cloud logs <name> for one)
  cloud purge    delete the images and metadef namespaces tests and benchmarks left behind
  test           the full suite as CI runs it: fmt, clippy, doc, cloud up, all tests
  demo           bring the local cloud up and run the quickstart example against it
  soak           the chaos soak alone, longer: `soak --secs 600 [--seed N]` (the suite runs
                 it for 75 s); prints the table of calls, faults and outcomes
  bench          criterion benchmarks, the throughput targets as ratios (interleaved rounds),
                 peak RSS of 4 GiB transfers, a 1 GiB verified download against Python
                 requests + hashlib, and the whole stack against openstacksdk, in one run
                 (`bench targets|rss|reference|stack` for one part; other args go to cargo bench);
                 `bench cli`: osrs vs openstack vs curl (not part of the full run)

environment:
  OSRS_BENCH_OPENSSL  1: benchmark with OpenSSL digests (feature `openssl`, needs libssl-dev)
  OSRS_BENCH_MIB, OSRS_TARGETS_MIB, OSRS_TARGETS_ROUNDS, OSRS_RSS_MIB, OSRS_STACK_MIB: sizes
  OSRS_CLOUD_DIR      state dir of the local cloud (default: ~/.cache/openstack-rs/cloud)
  OSRS_KEYSTONE_PORT  Keystone port (default 5000)
  OSRS_GLANCE_PORT    Glance port (default 9292)
  OSRS_WEB_PORT       loopback file server port for web-download (default 8089)
  OSRS_KEYSTONE_SHORT_PORT  the second Keystone, with one-minute tokens (default 5001)
  OSRS_KEYSTONE_TLS_PORT, OSRS_GLANCE_TLS_PORT  nginx with TLS (defaults 5443, 9443)
  OSRS_GLANCE_ALT_PORT  Glance through nginx, RegionTwo's endpoint (default 9294)
  OSRS_GLANCE_LIMITS_PORT  a second Glance with unified limits on (default 9295)
  OSRS_SOAK_SECS, OSRS_SOAK_SEED  length and seed of the chaos soak (tests/soak.rs)
  OSRS_PYTHON         Python >= 3.11 used to create the server venv (default python3)
";

/// An error that ends the command with a message for the user.
pub(crate) type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["cloud", "up"] => cloud::Cloud::from_env().and_then(|c| c.up()),
        ["cloud", "down"] => cloud::Cloud::from_env().and_then(|c| c.down()),
        ["cloud", "status"] => cloud::Cloud::from_env().and_then(|c| c.status()),
        ["cloud", "purge"] => cloud::Cloud::from_env().and_then(|c| c.purge()),
        ["cloud", "restart", rest @ ..] => cloud::Cloud::from_env().and_then(|c| c.restart(rest)),
        ["cloud", "env"] => cloud::Cloud::from_env().map(|c| print!("{}", c.env_exports())),
        ["cloud", "logs", rest @ ..] => {
            cloud::Cloud::from_env().and_then(|c| c.logs(rest.first().copied()))
        }
        ["test", rest @ ..] => test(rest),
        ["demo", rest @ ..] => demo(rest),
        ["bench", rest @ ..] => bench(rest),
        ["soak", rest @ ..] => soak(rest),
        ["help" | "--help" | "-h"] | [] => {
            print!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command: {}\n\n{USAGE}", args.join(" "))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of `xtask/`).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

/// Runs a command to completion, failing with its name when it fails.
pub(crate) fn run(what: &str, cmd: &mut Command) -> Result {
    eprintln!("xtask: {what}");
    let status =
        cmd.status().map_err(|e| format!("{what}: cannot start {:?}: {e}", cmd.get_program()))?;
    if status.success() { Ok(()) } else { Err(format!("{what} failed ({status})")) }
}

/// The crates published to crates.io, in dependency order.
const PUBLISHED: [&str; 5] = [
    "openstack-transfer",
    "openstack-auth",
    "openstack-resource",
    "openstack-image",
    "openstack-client",
];

fn test(extra: &[&str]) -> Result {
    let started = std::time::Instant::now();
    run("cargo fmt --check", cargo().args(["fmt", "--all", "--check"]))?;
    run(
        "cargo clippy",
        cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
    )?;
    run(
        "cargo doc",
        cargo().args(["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    // Every library crate packages and its package builds on its own (what `cargo publish`
    // would upload; the inter-crate dependencies resolve to the packages made here). In a
    // target dir of its own, where our five crates are cleaned first: packaged, they look
    // like registry crates of an unchanged version, whose old builds cargo would reuse.
    let pkg_target = workspace_root().join("target/package-verify");
    match std::fs::remove_dir_all(pkg_target.join("package")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("removing {}: {e}", pkg_target.join("package").display()));
        }
        _ => {}
    }
    let crates: Vec<&str> = PUBLISHED.iter().flat_map(|c| ["-p", c]).collect();
    run(
        "cargo clean of the packaged crates' old builds",
        cargo().args(["clean", "--quiet"]).args(&crates).env("CARGO_TARGET_DIR", &pkg_target),
    )?;
    run(
        "cargo package (the five library crates)",
        cargo()
            .args(["package", "--allow-dirty"])
            .args(&crates)
            .env("CARGO_TARGET_DIR", &pkg_target),
    )?;
    let cloud = cloud::Cloud::from_env()?;
    cloud.up()?;
    let mut cmd = cargo();
    // Every test binary runs even when one fails, so one run shows every failure.
    cmd.args(["test", "--workspace", "--all-targets", "--no-fail-fast"]).args(extra);
    for (key, value) in cloud.env_vars() {
        cmd.env(key, value);
    }
    run("cargo test (unit + integration against the local cloud)", &mut cmd)?;
    // Tests that restart the cloud's servers run alone, after everything else (they would
    // break the tests running beside them). They restart through this very binary.
    let mut cmd = cargo();
    cmd.args(["test", "-p", "openstack-tests", "--test", "restarts", "--", "--test-threads=1"]);
    for (key, value) in cloud.env_vars() {
        cmd.env(key, value);
    }
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    cmd.env("OSRS_XTASK", me);
    run("cargo test --test restarts (servers restarted, one test at a time)", &mut cmd)?;
    // Doc tests are compiled and run too (all-targets excludes them).
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--doc"]);
    for (key, value) in cloud.env_vars() {
        cmd.env(key, value);
    }
    run("cargo test --doc", &mut cmd)?;
    eprintln!("xtask: test passed in {:.0?}", started.elapsed());
    Ok(())
}

/// `soak [--secs N] [--seed S]`: the chaos soak alone, with its table printed.
fn soak(args: &[&str]) -> Result {
    let mut secs = "600".to_string();
    let mut seed = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let value = || -> Result<String> {
            Ok(rest.clone().next().ok_or_else(|| format!("{arg} needs a value"))?.to_string())
        };
        match *arg {
            "--secs" => secs = value()?,
            "--seed" => seed = Some(value()?),
            other => return Err(format!("soak: unknown argument {other:?} (--secs N, --seed S)")),
        }
        rest.next();
    }
    secs.parse::<u64>().map_err(|e| format!("--secs {secs}: {e}"))?;
    let cloud = cloud::Cloud::from_env()?;
    cloud.up()?;
    let mut cmd = cargo();
    cmd.args(["test", "--release", "-p", "openstack-tests", "--test", "soak", "--", "--nocapture"]);
    for (key, value) in cloud.env_vars() {
        cmd.env(key, value);
    }
    cmd.env("OSRS_SOAK_SECS", &secs);
    if let Some(seed) = seed {
        cmd.env("OSRS_SOAK_SEED", seed);
    }
    run(&format!("chaos soak for {secs} s"), &mut cmd)
}

fn demo(extra: &[&str]) -> Result {
    let cloud = cloud::Cloud::from_env()?;
    cloud.up()?;
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--quiet",
        "--release",
        "-p",
        "openstack-client",
        "--example",
        "quickstart",
        "--",
    ])
    .args(extra);
    for (key, value) in cloud.env_vars() {
        cmd.env(key, value);
    }
    run("quickstart example against the local cloud", &mut cmd)
}

/// `--features openssl` for the benchmark crate when `OSRS_BENCH_OPENSSL=1`.
fn bench_features() -> Vec<&'static str> {
    if std::env::var("OSRS_BENCH_OPENSSL").is_ok_and(|v| v == "1") {
        vec!["--features", "openssl"]
    } else {
        Vec::new()
    }
}

fn bench(extra: &[&str]) -> Result {
    match extra {
        ["reference"] => return reference_comparison(),
        ["rss"] => return rss(),
        ["stack"] => return stack_comparison(),
        ["targets"] => return targets(),
        ["cli"] => return cli_bench(),
        _ => {}
    }
    let mut cmd = cargo();
    cmd.args(["bench", "-p", "openstack-benches"]).args(bench_features()).args(extra);
    run("cargo bench -p openstack-benches (hashing, loopback upload/download)", &mut cmd)?;
    targets()?;
    rss()?;
    reference_comparison()?;
    stack_comparison()
}

/// `bench cli`: osrs beside `openstack` and curl on the local cloud (benches/cli_bench.py):
/// image list (2,001 images), show, create --file and save (cache miss and hit) of
/// OSRS_CLI_MIB (default 1024) MiB, OSRS_CLI_ROUNDS (default 3) interleaved rounds.
fn cli_bench() -> Result {
    let cloud = cloud::Cloud::from_env()?;
    cloud.up()?;
    run(
        "building osrs (release)",
        cargo().args(["build", "--quiet", "--release", "-p", "openstack-image-cli"]),
    )?;
    let osrs = workspace_root().join("target/release/osrs");
    let openstack = cloud.venv_python().with_file_name("openstack");
    let rounds = std::env::var("OSRS_CLI_ROUNDS").unwrap_or_else(|_| "3".into());
    let mib = std::env::var("OSRS_CLI_MIB").unwrap_or_else(|_| "1024".into());
    let mut cmd = Command::new(cloud.venv_python());
    cmd.arg(workspace_root().join("benches/cli_bench.py"))
        .arg(&osrs)
        .arg(&openstack)
        .args(["local", &rounds, &mib])
        .env("PYTHONWARNINGS", "ignore");
    for (key, value) in cloud.env_vars() {
        cmd.env(key, value);
    }
    run("osrs vs openstack vs curl", &mut cmd)
}

/// Runs one of the benchmark crate's probe binaries (release, with `bench_features`).
fn bench_bin(what: &str, bin: &str, args: &[&str]) -> Result {
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "--release", "-p", "openstack-benches"])
        .args(bench_features())
        .args(["--bin", bin, "--"])
        .args(args);
    run(what, &mut cmd)
}

/// The throughput targets as ratios, from interleaved rounds (OSRS_TARGETS_MIB, default 1024;
/// OSRS_TARGETS_ROUNDS, default 7).
fn targets() -> Result {
    let mib = std::env::var("OSRS_TARGETS_MIB").unwrap_or_else(|_| "1024".into());
    let rounds = std::env::var("OSRS_TARGETS_ROUNDS").unwrap_or_else(|_| "7".into());
    bench_bin("throughput targets (interleaved rounds)", "targets", &[&mib, &rounds])
}

fn rss() -> Result {
    // Peak RSS of a 4 GiB verified download and hashed upload (OSRS_RSS_MIB to change).
    let mib = std::env::var("OSRS_RSS_MIB").unwrap_or_else(|_| "4096".into());
    bench_bin("peak RSS of a large transfer", "rss", &[&mib])
}

/// The same 1 GiB md5+sha512-verified download by this engine and by Python requests +
/// hashlib (openstacksdk's path), each in its own process against one loopback server.
fn reference_comparison() -> Result {
    use std::io::BufRead;
    let cloud = cloud::Cloud::from_env()?;
    let python = cloud.venv_python();
    if !python.exists() {
        return Err(format!(
            "the Python reference needs the local cloud's venv ({}); run `cargo xtask cloud up` first",
            python.display()
        ));
    }
    run(
        "building the loopback server and client",
        cargo()
            .args(["build", "--quiet", "--release", "-p", "openstack-benches", "--bins"])
            .args(bench_features()),
    )?;
    let bin = workspace_root().join("target/release");
    let mut server = Command::new(bin.join("serve"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting the loopback server: {e}"))?;
    let mut url = String::new();
    std::io::BufReader::new(server.stdout.take().expect("piped stdout"))
        .read_line(&mut url)
        .map_err(|e| e.to_string())?;
    let url = url.trim().to_string();
    let size = (1u64 << 30).to_string();
    let measure = |cmd: &mut Command| -> Result<f64> {
        let out = cmd.output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "{:?} failed: {}",
                cmd.get_program(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|e| format!("bad output: {e}"))
    };
    let mut ours = Vec::new();
    let mut python_runs = Vec::new();
    for _ in 0..3 {
        ours.push(measure(Command::new(bin.join("fetch")).args([&url, &size]))?);
        python_runs.push(measure(
            Command::new(&python)
                .arg(workspace_root().join("benches/reference.py"))
                .args([&url, &size]),
        )?);
    }
    drop(server.stdin.take());
    let _ = server.wait();
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (o, p) = (median(&mut ours), median(&mut python_runs));
    let backend = if bench_features().is_empty() { "rustcrypto" } else { "openssl" };
    println!(
        "1 GiB download, md5 + sha512 verified, loopback (median of 3, same run; digests: {backend}):"
    );
    println!("  openstack-transfer:        {o:>7.1} MiB/s   runs {ours:?}");
    println!("  Python requests + hashlib: {p:>7.1} MiB/s   runs {python_runs:?}");
    println!("  ratio: {:.2}x", o / p);
    Ok(())
}

/// The whole stack against the local cloud, this SDK vs openstacksdk 4.22 (a second venv,
/// made on first use): upload, download to a file, list. Medians of 3 interleaved runs.
fn stack_comparison() -> Result {
    let cloud = cloud::Cloud::from_env()?;
    cloud.up()?;
    let sdk_python = cloud.ensure_sdk_venv()?;
    run(
        "building the stack benchmark",
        cargo().args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "openstack-benches",
            "--bin",
            "stack",
        ]),
    )?;
    let mib: u64 = std::env::var("OSRS_STACK_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    let dir = std::env::temp_dir().join(format!("osrs-stack-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join("image.raw");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&file).map_err(|e| e.to_string())?;
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut block = vec![0u8; 1 << 20];
        for _ in 0..mib {
            for c in block.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                c.copy_from_slice(&x.to_le_bytes());
            }
            f.write_all(&block).map_err(|e| e.to_string())?;
        }
    }
    let out = dir.join("out.raw");
    let measure = |cmd: &mut Command, keys: &[&str]| -> Result<Vec<f64>> {
        for (k, v) in cloud.env_vars() {
            cmd.env(k, v);
        }
        let out = cmd.output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "{:?} failed: {}",
                cmd.get_program(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().last().unwrap_or_default();
        keys.iter()
            .map(|k| {
                line.split(&format!("\"{k}\": "))
                    .nth(1)
                    .and_then(|r| r.split([',', '}']).next())
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .ok_or_else(|| format!("no {k} in {line:?}"))
            })
            .collect()
    };
    let bin = workspace_root().join("target/release/stack");
    let script = workspace_root().join("benches/openstacksdk_bench.py");
    let runs: usize =
        std::env::var("OSRS_STACK_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(5).max(1);
    let mut ours: Vec<Vec<f64>> = Vec::new();
    let mut plain: Vec<Vec<f64>> = Vec::new();
    let mut theirs: Vec<Vec<f64>> = Vec::new();
    for round in 0..runs {
        // Rotate who goes first, so no one always meets a server warmed (or still writing
        // back) after another.
        for k in 0..3 {
            match (round + k) % 3 {
                0 => ours.push(measure(
                    Command::new(&bin).args(["local"]).arg(&file).arg(&out),
                    &["upload", "download", "download_again", "list"],
                )?),
                1 => plain.push(measure(
                    Command::new(&bin).args(["local"]).arg(&file).arg(&out).arg("plain"),
                    &["upload_plain"],
                )?),
                _ => theirs.push(measure(
                    Command::new(&sdk_python).arg(&script).arg("local").arg(&file).arg(&out),
                    &["upload", "download", "download_again", "list"],
                )?),
            }
            let _ = std::fs::remove_file(&out);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let median = |runs: &[Vec<f64>], i: usize| {
        let mut v: Vec<f64> = runs.iter().map(|r| r[i]).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let spread = |runs: &[Vec<f64>], i: usize| {
        let v = runs.iter().map(|r| r[i]);
        let lo = v.clone().fold(f64::INFINITY, f64::min);
        format!("{lo:.3}–{:.3}", v.fold(0.0, f64::max))
    };
    let backend = if bench_features().is_empty() { "rustcrypto" } else { "openssl" };
    println!(
        "Against the local Glance, {mib} MiB image (median of {runs} interleaved runs, seconds; digests: {backend}):"
    );
    println!(
        "  {:<10} {:>12} {:>14} {:>8}   {:>13} {:>13}",
        "", "openstack-rs", "openstacksdk", "ratio", "rs range", "sdk range"
    );
    // (row, our column, their column)
    // (row, our runs and column, their column)
    let rows = [
        ("upload", &ours, 0, 0),
        ("plain up", &plain, 0, 0),
        ("download", &ours, 1, 1),
        ("again", &ours, 2, 2),
        ("list", &ours, 3, 3),
    ];
    for (name, rs, i, j) in rows {
        let (o, t) = (median(rs, i), median(&theirs, j));
        println!(
            "  {name:<10} {o:>12.3} {t:>14.3} {:>7.2}x   {:>13} {:>13}",
            t / o,
            spread(rs, i),
            spread(&theirs, j)
        );
    }
    println!(
        "  (ratio = openstacksdk time / openstack-rs time; above 1 means openstack-rs is faster;\n   \
         upload: openstack-rs hashes md5+sha256+sha512 in flight and verifies, openstacksdk hashes nothing;\n   \
         plain up: openstack-rs with digests(&[]), the same work as openstacksdk;\n   \
         download: the first, openstack-rs fsyncs before returning and openstacksdk does not;\n   \
         again: the second download, served from Glance's cache, openstack-rs without fsync too)"
    );
    Ok(())
}
