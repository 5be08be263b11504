//! `cargo xtask <command>`: the project's automation.
//!
//! * `cloud up|down|status|env|logs`: a real Keystone + Glance on 127.0.0.1 (see `cloud.rs`).
//! * `test`: the one test command CI runs (fmt, clippy, doc, cloud up, all tests).
//! * `demo`: brings the local cloud up and runs the quickstart example against it.
//! * `bench`: runs the criterion benchmarks.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod bench;
mod cloud;
mod compat;
mod http;
mod load;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  cloud up       start (installing on first use) a local Keystone + Glance on 127.0.0.1;
                 `cloud up --glance <release>` also starts another Glance release beside it
                 (2023.1, 2024.1, 2025.1, 2026.1, or its Glance version), in its own venv
  cloud down     stop the local cloud's processes
  cloud restart  restart Glance and Keystone (cloud restart glance|keystone for one;
                 --hard kills them with SIGKILL first, as a crash would)
  cloud status   show what runs and where
  cloud env      print the shell exports that point an SDK at the local cloud
                 (`cloud env --glance <release>`: at that release's Glance)
  cloud logs     print the tail of every server log (cloud logs <name> for one)
  cloud purge    delete the images and metadef namespaces tests and benchmarks left behind
  test           the full suite as CI runs it: fmt, clippy, doc, cloud up, all tests;
                 `test --under-load` runs it with two CPU-burning processes beside it
  compat         the conformance suite against every Glance of the matrix (2023.1, 2024.1,
                 2025.1, 2026.1, the current release, and it with one store and no cache),
                 and the table of results (`compat 2024.1 single-store` for some)
  demo           bring the local cloud up and run the quickstart example against it
  soak           the chaos soak alone, longer: `soak --secs 600 [--seed N]` (the suite runs
                 it for 75 s); prints the table of calls, faults and outcomes
  bench          criterion benchmarks, the throughput targets as ratios (interleaved rounds),
                 peak RSS of 4 GiB transfers, a 1 GiB verified download against Python
                 requests + hashlib, and the whole stack against openstacksdk, in one run
                 (`bench targets|rss|reference|stack` for one part; other args go to cargo bench);
                 `bench cli`: osrs vs openstack vs curl; `bench proxy`: 1 GiB verified up and
                 down through tinyproxy vs direct; `bench wan`: a verified to_path over a slow
                 link by connections, vs curl and aria2c (none is part of the full run)

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
  OSRS_KEYSTONE_B_PORT, OSRS_GLANCE_B_PORT  cloud local-b: a separate Keystone and a
                      single-store Glance without cache (defaults 5002, 9296)
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
        ["cloud", "up", "--glance", release] => cloud::release::find(release)
            .and_then(|r| cloud::Cloud::from_env().and_then(|c| c.release_up(r))),
        ["cloud", "down"] => cloud::Cloud::from_env().and_then(|c| c.down()),
        ["cloud", "status"] => cloud::Cloud::from_env().and_then(|c| c.status()),
        ["cloud", "purge"] => cloud::Cloud::from_env().and_then(|c| c.purge()),
        ["cloud", "restart", rest @ ..] => cloud::Cloud::from_env().and_then(|c| c.restart(rest)),
        ["cloud", "env"] => cloud::Cloud::from_env().map(|c| print!("{}", c.env_exports())),
        ["cloud", "env", "--glance", release] => cloud::release::find(release).and_then(|r| {
            cloud::Cloud::from_env().map(|c| print!("{}", cloud::exports(&c.release_env_vars(r))))
        }),
        ["cloud", "logs", rest @ ..] => {
            cloud::Cloud::from_env().and_then(|c| c.logs(rest.first().copied()))
        }
        ["test", rest @ ..] => test(rest),
        ["compat", rest @ ..] => compat::compat(rest),
        ["burn"] => load::burn(),
        ["demo", rest @ ..] => demo(rest),
        ["bench", rest @ ..] => bench::bench(rest),
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

pub(crate) fn cargo() -> Command {
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
const PUBLISHED: [&str; 7] = [
    "openstack-diskformat",
    "openstack-transfer",
    "openstack-auth",
    "openstack-resource",
    "openstack-image",
    "openstack-client",
    "openstack-image-cli",
];

/// `cargo package` of several crates puts them in a temporary local registry, and cargo
/// extracts a crate from it only once per registry path and version: a second run would
/// verify each crate against its siblings' sources from the first run. Those extracted
/// copies (under `$CARGO_HOME/registry/src/-<hash>/`, local registries only, never
/// crates.io's) are removed first.
fn remove_stale_package_sources() -> Result {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")));
    let Some(src) = home.map(|h| h.join("registry/src")) else { return Ok(()) };
    let Ok(registries) = std::fs::read_dir(&src) else { return Ok(()) };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        let Ok(crates) = std::fs::read_dir(registry.path()) else { continue };
        for dir in crates.flatten() {
            let name = dir.file_name().to_string_lossy().into_owned();
            let ours = PUBLISHED.iter().any(|c| {
                name.strip_prefix(c)
                    .and_then(|v| v.strip_prefix('-'))
                    .is_some_and(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit()))
            });
            if ours {
                std::fs::remove_dir_all(dir.path())
                    .map_err(|e| format!("removing {}: {e}", dir.path().display()))?;
            }
        }
    }
    Ok(())
}

fn test(extra: &[&str]) -> Result {
    let started = std::time::Instant::now();
    let under_load = extra.contains(&"--under-load");
    let extra: Vec<&str> = extra.iter().copied().filter(|a| *a != "--under-load").collect();
    let _load = if under_load { Some(load::Load::start(2)?) } else { None };
    check_free_space();
    run("cargo fmt --check", cargo().args(["fmt", "--all", "--check"]))?;
    run(
        "cargo clippy",
        cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
    )?;
    run(
        "cargo doc",
        cargo().args(["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    // Every published crate (the six libraries and osrs) packages and its package builds on
    // its own (what `cargo publish` would upload; the inter-crate dependencies resolve to the
    // packages made here). In a target dir of its own, where our crates are cleaned first:
    // packaged, they look
    // like registry crates of an unchanged version, whose old builds cargo would reuse.
    let pkg_target = workspace_root().join("target/package-verify");
    match std::fs::remove_dir_all(pkg_target.join("package")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("removing {}: {e}", pkg_target.join("package").display()));
        }
        _ => {}
    }
    remove_stale_package_sources()?;
    let crates: Vec<&str> = PUBLISHED.iter().flat_map(|c| ["-p", c]).collect();
    run(
        "cargo clean of the packaged crates' old builds",
        cargo().args(["clean", "--quiet"]).args(&crates).env("CARGO_TARGET_DIR", &pkg_target),
    )?;
    run(
        "cargo package (the six library crates and osrs)",
        cargo()
            .args(["package", "--allow-dirty"])
            .args(&crates)
            .env("CARGO_TARGET_DIR", &pkg_target),
    )?;
    let cloud = cloud::Cloud::from_env()?;
    cloud.up()?;
    let mut cmd = cargo();
    // Every test binary runs even when one fails, so one run shows every failure.
    cmd.args(["test", "--workspace", "--all-targets", "--no-fail-fast"]).args(&extra);
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
    // The conformance suite ran against the main cloud above; it runs against the commonest
    // production configuration (one store, no cache) and the oldest releases of the matrix
    // too.
    let mut targets = vec![compat::Target::SingleStore];
    for r in cloud::release::IN_CI {
        targets.push(compat::Target::Release(cloud::release::find(r)?));
    }
    for target in targets {
        let report = cloud.compat_dir().join("ci.json");
        std::fs::create_dir_all(cloud.compat_dir()).map_err(|e| e.to_string())?;
        compat::run_suite(&cloud, &target, &report)?;
    }
    eprintln!("xtask: test passed in {:.0?}", started.elapsed());
    if let Some(kib) = disk_kib("du", &["-sk"]) {
        eprintln!("xtask: target/ now holds {:.1} GiB", kib as f64 / GIB_IN_KIB);
    }
    Ok(())
}

const GIB_IN_KIB: f64 = 1024.0 * 1024.0;

/// What a fresh `cargo xtask test` writes under `target/`, measured on 2026-12-02 (5.4 GiB at
/// its peak: debug 3.1, package-verify 1.3, release 0.6), plus the cloud's venvs (1.2 GiB)
/// and a margin.
const FRESH_RUN_GIB: f64 = 8.0;

/// Says how much room the disk under `target/` has, and warns when a fresh run may not fit:
/// a full disk shows up much later, as a linker's bus error in the middle of the build.
fn check_free_space() {
    let Some(free) = disk_kib("df", &["-Pk"]) else { return };
    let free = free as f64 / GIB_IN_KIB;
    eprintln!("xtask: {free:.1} GiB free on the disk of target/");
    if free < FRESH_RUN_GIB {
        eprintln!(
            "xtask: warning: a fresh run needs about {FRESH_RUN_GIB:.0} GiB (build, packages, \
             venvs); free some space (`cargo clean` drops old builds) if the build fails"
        );
    }
}

/// KiB from `df -Pk target` (available) or `du -sk target` (used); `None` when the tool is
/// missing or prints something else (a diagnostic only: it never fails the run).
fn disk_kib(tool: &str, args: &[&str]) -> Option<u64> {
    let target = workspace_root().join("target");
    let dir = if target.exists() { target } else { workspace_root() };
    let out = Command::new(tool).args(args).arg(&dir).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let line = text.lines().last()?;
    let field = if tool == "df" { 3 } else { 0 };
    line.split_whitespace().nth(field)?.parse().ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_figures_are_read_from_df_and_du() {
        let free = disk_kib("df", &["-Pk"]).expect("df -Pk prints the available KiB");
        let used = disk_kib("du", &["-sk"]).expect("du -sk prints the used KiB");
        assert!(free > 0 && used > 0, "free {free} KiB, used {used} KiB");
        // df's fourth field is "Available", not the filesystem's size (the second).
        let size: u64 = String::from_utf8(
            Command::new("df").arg("-Pk").arg(workspace_root()).output().unwrap().stdout,
        )
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
        assert!(free < size, "available {free} KiB should be under the size {size} KiB");
    }
}
