//! `cargo xtask bench ...`: criterion, the throughput targets, peak RSS, the Python
//! reference, the stack against openstacksdk, and osrs against openstack and curl.

use std::process::Command;

use crate::{Result, cargo, cloud, run, workspace_root};

/// `--features openssl` for the benchmark crate when `OSRS_BENCH_OPENSSL=1`.
fn bench_features() -> Vec<&'static str> {
    if std::env::var("OSRS_BENCH_OPENSSL").is_ok_and(|v| v == "1") {
        vec!["--features", "openssl"]
    } else {
        Vec::new()
    }
}

pub(crate) fn bench(extra: &[&str]) -> Result {
    match extra {
        ["reference"] => return reference_comparison(),
        ["rss"] => return rss(),
        ["stack"] => return stack_comparison(),
        ["targets"] => return targets(),
        ["cli"] => return cli_bench(),
        ["proxy"] => return proxy_bench(),
        ["wan"] => return wan_bench(),
        ["sink"] => return sink_bench(),
        _ => {}
    }
    let mut cmd = cargo();
    cmd.args(["bench", "-p", "openstack-benches"]).args(bench_features()).args(extra);
    run("cargo bench -p openstack-benches (hashing, loopback upload/download)", &mut cmd)?;
    targets()?;
    rss()?;
    reference_comparison()?;
    stack_comparison()?;
    sink_bench()
}

/// `bench cli`: osrs beside `openstack` and curl on the local cloud (benches/cli_bench.py):
/// image list (2,001 images), show, create --file and save (cache miss and hit; also the
/// SDK's own verified download, `sdk_save`, to compare osrs with) of
/// OSRS_CLI_MIB (default 1024) MiB, OSRS_CLI_ROUNDS (default 3) interleaved rounds.
fn cli_bench() -> Result {
    let cloud = cloud::Cloud::from_env()?;
    cloud.up()?;
    run(
        "building osrs (release)",
        cargo().args(["build", "--quiet", "--release", "-p", "openstack-image-cli"]),
    )?;
    build_bench_bin("sdk_save")?;
    let osrs = workspace_root().join("target/release/osrs");
    let sdk_save = workspace_root().join("target/release/sdk_save");
    let openstack = cloud.venv_python().with_file_name("openstack");
    let rounds = std::env::var("OSRS_CLI_ROUNDS").unwrap_or_else(|_| "3".into());
    let mib = std::env::var("OSRS_CLI_MIB").unwrap_or_else(|_| "1024".into());
    let mut cmd = Command::new(cloud.venv_python());
    cmd.arg(workspace_root().join("benches/cli_bench.py"))
        .arg(&osrs)
        .arg(&openstack)
        .arg(&sdk_save)
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
        stdout_of(cmd)?.trim().parse().map_err(|e| format!("bad output: {e}"))
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
/// Runs `cmd` to its end; its stdout, or an error with its stderr.
fn stdout_of(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "{:?} failed: {}",
            cmd.get_program(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `bench wan`: a verified download over a long, thin link (benches/wan_bench.py): the SDK's
/// `to_path` with 1, 2, 4 and 8 connections beside curl and `aria2c -x N -s N`, through
/// `slowlink` (OSRS_WAN_RTT_MS, default 50; OSRS_WAN_CAP_MIB per connection, default 16),
/// an image of OSRS_WAN_MIB (default 1024) MiB.
fn wan_bench() -> Result {
    let cloud = cloud::Cloud::from_env()?;
    cloud.up()?;
    cloud::ensure_bench_tools()?;
    build_bench_bin("sdk_save")?;
    build_bench_bin("slowlink")?;
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let mut cmd = Command::new(cloud.venv_python());
    cmd.arg(workspace_root().join("benches/wan_bench.py"))
        .arg(workspace_root().join("target/release/sdk_save"))
        .arg(workspace_root().join("target/release/slowlink"))
        .args(["local", &var("OSRS_WAN_MIB", "1024"), &var("OSRS_WAN_RTT_MS", "50")])
        .args([&var("OSRS_WAN_CAP_MIB", "16"), "1", "2", "4", "8"])
        .env("PYTHONWARNINGS", "ignore")
        .envs(cloud.env_vars());
    run("wan bench (sdk to_path vs curl vs aria2c over a slow link)", &mut cmd)
}

/// `bench sink`: what writing the file costs a verified download on a cache hit
/// (benches/sink_bench.py): curl to /dev/null and to a file, the SDK's `into_stream` and
/// `to_path`, interleaved; OSRS_SINK_MIB (default 1024) MiB, OSRS_SINK_ROUNDS (default 5).
fn sink_bench() -> Result {
    let cloud = cloud::Cloud::from_env()?;
    cloud.up()?;
    cloud::ensure_bench_tools()?;
    build_bench_bin("sdk_save")?;
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let mut cmd = Command::new(cloud.venv_python());
    cmd.arg(workspace_root().join("benches/sink_bench.py"))
        .arg(workspace_root().join("target/release/sdk_save"))
        .args(["local", &var("OSRS_SINK_MIB", "1024"), &var("OSRS_SINK_ROUNDS", "5")])
        .env("PYTHONWARNINGS", "ignore")
        .envs(cloud.env_vars());
    run("sink bench (to_path vs into_stream vs curl, cache hit)", &mut cmd)
}

/// Builds one binary of the benchmark crate (release).
/// `bench proxy`: a verified upload and download of OSRS_PROXY_MIB (default 1024) MiB
/// through tinyproxy and direct, interleaved, OSRS_PROXY_ROUNDS (default 3) rounds, over
/// https (CONNECT) and http (forwarded); prints the proxied/direct ratios.
fn proxy_bench() -> Result {
    let cloud = cloud::Cloud::from_env()?;
    cloud.up()?;
    build_bench_bin("proxy")?;
    let mib = std::env::var("OSRS_PROXY_MIB").unwrap_or_else(|_| "1024".into());
    let rounds = std::env::var("OSRS_PROXY_ROUNDS").unwrap_or_else(|_| "3".into());
    let mut cmd = Command::new(workspace_root().join("target/release/proxy"));
    cmd.args([&mib, &rounds]).envs(cloud.env_vars());
    run("proxy bench (tinyproxy vs direct)", &mut cmd)
}

fn build_bench_bin(name: &str) -> Result {
    run(
        &format!("building {name} (release)"),
        cargo().args(["build", "--quiet", "--release", "-p", "openstack-benches", "--bin", name]),
    )
}

fn stack_comparison() -> Result {
    let cloud = cloud::Cloud::from_env()?;
    cloud.up()?;
    let sdk_python = cloud.ensure_sdk_venv()?;
    build_bench_bin("stack")?;
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
        let text = stdout_of(cmd)?;
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
