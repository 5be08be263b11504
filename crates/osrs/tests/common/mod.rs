//! What the black-box tests share: running the built `osrs` and python-openstackclient's
//! `openstack` against the local cloud.

#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use openstack_tests::image;
use serde_json::Value;

/// The built `osrs`, keeping its tokens in this build's temporary directory (never in the
/// user's own `~/.cache/osrs`).
pub(crate) fn osrs_command() -> Command {
    osrs_command_env(Command::new(env!("CARGO_BIN_EXE_osrs")))
}

/// `cmd` (osrs, or a command that runs it) with the environment osrs runs with in tests.
pub(crate) fn osrs_command_env(mut cmd: Command) -> Command {
    cmd.env("OSRS_TOKEN_CACHE_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("osrs-tokens"));
    cmd
}

pub(crate) fn osrs(cloud: &str, args: &[&str]) -> Output {
    openstack_tests::cloud(cloud); // fails loudly without the local cloud
    osrs_command().arg("--os-cloud").arg(cloud).args(args).output().expect("osrs runs")
}

/// Runs and expects success; returns stdout.
pub(crate) fn ok(cloud: &str, args: &[&str]) -> String {
    let out = osrs(cloud, args);
    assert!(
        out.status.success(),
        "osrs {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub(crate) fn json(cloud: &str, args: &[&str]) -> Value {
    let text = ok(cloud, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text}"))
}

pub(crate) async fn project_id(cloud: &str) -> String {
    let token = image(cloud).session().token().await.unwrap().expect("a token");
    match &token.scope {
        openstack_client::auth::Scope::Project { id, .. } => id.clone(),
        other => panic!("{cloud} is not project-scoped: {other:?}"),
    }
}

pub(crate) fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// `openstack` (python-openstackclient, pinned, installed in the cloud's venv by
/// `cargo xtask cloud up`) with `--os-cloud cloud` and `args`; expects success and JSON.
pub(crate) fn openstack_json(cloud: &str, args: &[&str]) -> Value {
    let out = openstack_text(cloud, args);
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("openstack {args:?}: not JSON ({e}): {out}"))
}

/// `openstack` with `--os-cloud cloud` and `args`; expects success; returns stdout.
pub(crate) fn openstack_text(cloud: &str, args: &[&str]) -> String {
    let bin = openstack_tests::openstack_bin();
    assert!(bin.exists(), "{} is missing: `cargo xtask cloud up` installs it", bin.display());
    let out = Command::new(&bin)
        .args(["--os-cloud", cloud])
        .args(args)
        .env("PYTHONWARNINGS", "ignore")
        .output()
        .expect("openstack runs");
    assert!(
        out.status.success(),
        "openstack {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `osrs ARGS -f json` and `openstack ARGS -f json` print the same keys and values.
pub(crate) fn same_as_openstack(cloud: &str, args: &[&str]) -> Value {
    let mut with_format = args.to_vec();
    with_format.extend(["-f", "json"]);
    let theirs = openstack_json(cloud, &with_format);
    let ours = json(cloud, &with_format);
    assert_eq!(
        ours, theirs,
        "osrs and openstack differ for {args:?}\nosrs:      {ours}\nopenstack: {theirs}"
    );
    ours
}
