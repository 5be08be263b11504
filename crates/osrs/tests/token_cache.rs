//! The token cache: a second run uses the kept token (no login), the files are private and
//! hold no password, and a kept token that is revoked, expired or unreadable costs only a new
//! login. Each test has its own cache directory (`OSRS_TOKEN_CACHE_DIR`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use openstack_tests::{ADMIN, DEMO, cloud};
use serde_json::Value;

/// `osrs --debug --os-cloud CLOUD image list --limit 1` with the cache in `dir`.
fn run(dir: &Path, cloud_name: &str, extra: &[&str]) -> Output {
    cloud(cloud_name); // fails loudly without the local cloud
    let out = Command::new(env!("CARGO_BIN_EXE_osrs"))
        .args(["--debug", "--os-cloud", cloud_name])
        .args(extra)
        .args(["image", "list", "--limit", "1", "-f", "value"])
        .env("OSRS_TOKEN_CACHE_DIR", dir)
        .env_remove("OSRS_NO_TOKEN_CACHE")
        .output()
        .expect("osrs runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Whether the run logged in to Keystone (the SDK's `openstack.auth` span).
fn logged_in(out: &Output) -> bool {
    String::from_utf8_lossy(&out.stderr).contains("openstack.auth")
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

fn only_entry(dir: &Path) -> PathBuf {
    let all = entries(dir);
    assert_eq!(all.len(), 1, "{all:?}");
    all.into_iter().next().unwrap()
}

#[test]
fn a_second_run_uses_the_kept_token_and_the_file_is_private() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tokens");
    let first = run(&dir, ADMIN, &[]);
    assert!(logged_in(&first), "the first run logs in");
    let file = only_entry(&dir);
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    let password = cloud(ADMIN).auth.password.clone().expect("a password");
    assert!(!text.contains(password.expose()), "the password is not kept");
    let kept: Value = serde_json::from_str(&text).unwrap();
    let token = kept["value"].as_str().unwrap();
    assert!(
        !String::from_utf8_lossy(&first.stderr).contains(token),
        "the token is never logged, even with --debug"
    );
    let second = run(&dir, ADMIN, &[]);
    assert!(!logged_in(&second), "{}", String::from_utf8_lossy(&second.stderr));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        text,
        "an unchanged token is not rewritten"
    );

    // Another identity gets its own entry; --no-token-cache keeps nothing.
    run(&dir, DEMO, &[]);
    assert_eq!(entries(&dir).len(), 2);
    let off = tmp.path().join("off");
    assert!(logged_in(&run(&off, ADMIN, &["--no-token-cache"])));
    assert!(entries(&off).is_empty());
}

#[test]
fn a_revoked_expired_or_unreadable_kept_token_costs_one_login() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tokens");
    run(&dir, ADMIN, &[]);
    let file = only_entry(&dir);
    let good: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();

    // Keystone does not know this token: Glance answers 401, the SDK logs in again, the
    // command succeeds and the new token is kept.
    let mut revoked = good.clone();
    revoked["value"] = "gAAAAABnot-a-token-keystone-knows".into();
    std::fs::write(&file, revoked.to_string()).unwrap();
    let out = run(&dir, ADMIN, &[]);
    assert!(logged_in(&out));
    let now: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_ne!(now["value"], revoked["value"]);

    // An expired one is not even tried.
    let mut expired = now.clone();
    expired["expires_at"] = serde_json::json!({"secs_since_epoch": 1, "nanos_since_epoch": 0});
    std::fs::write(&file, expired.to_string()).unwrap();
    let out = run(&dir, ADMIN, &[]);
    assert!(logged_in(&out));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("status=401"), "not tried");

    // Garbage is ignored and replaced.
    std::fs::write(&file, "not json").unwrap();
    assert!(logged_in(&run(&dir, ADMIN, &[])));
    let replaced: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(replaced["value"].is_string());
    assert!(!logged_in(&run(&dir, ADMIN, &[])), "and used from then on");
}
