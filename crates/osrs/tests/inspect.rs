//! Knowing what is uploaded: `image inspect`, and `image create` detecting the format,
//! refusing a contradicting --disk-format or an unsafe image before any request, and
//! `--no-inspect`; `image stage` refusing what the image's import would fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{json, ok, osrs, osrs_command};
use openstack_tests::{ADMIN, image, unique};

/// A qcow2 made by qemu-img (installed by `cargo xtask cloud up`), with `extra` arguments.
fn qcow2(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let qemu = std::env::var("OSRS_QEMU_IMG").unwrap_or_else(|_| "/usr/bin/qemu-img".into());
    let out = Command::new(&qemu)
        .args(["create", "-q", "-f", "qcow2"])
        .args(extra)
        .args([name, "16M"])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{qemu}: {e} (cargo xtask cloud up installs qemu-utils)"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dir.join(name)
}

#[test]
fn inspect_prints_the_format_and_each_check_and_fails_on_an_unsafe_file() {
    let dir = tempfile::tempdir().unwrap();
    let plain = qcow2(dir.path(), "plain.qcow2", &[]);
    let backed = qcow2(dir.path(), "backed.qcow2", &["-b", "plain.qcow2", "-F", "qcow2"]);
    // No cloud needed: run without any OS_* configuration.
    let inspect = |file: &Path| {
        osrs_command()
            .env_clear()
            .args(["image", "inspect", file.to_str().unwrap(), "-f", "json"])
            .output()
            .unwrap()
    };
    let out = inspect(&plain);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["format"].as_str(), v["disk_format"].as_str()), (Some("qcow2"), Some("qcow2")));
    assert_eq!(v["virtual_size"], 16 << 20);
    assert_eq!(v["safe"], true);
    assert_eq!(v["checks"]["backing_file"], "passed");
    let out = inspect(&backed);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["safe"], false);
    assert!(v["checks"]["backing_file"].as_str().unwrap().starts_with("failed: "), "{v}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("backing_file"));
}

#[test]
fn create_refuses_a_backing_file_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    qcow2(dir.path(), "plain.qcow2", &[]);
    let backed = qcow2(dir.path(), "backed.qcow2", &["-b", "plain.qcow2", "-F", "qcow2"]);
    // A cloud that cannot be reached: any request would fail with a connection error.
    let out = osrs_command()
        .env_clear()
        .envs([
            ("OS_AUTH_URL", "http://127.0.0.1:9/v3"),
            ("OS_USERNAME", "u"),
            ("OS_PASSWORD", "p"),
            ("OS_PROJECT_NAME", "p"),
            ("OS_USER_DOMAIN_NAME", "Default"),
            ("OS_PROJECT_DOMAIN_NAME", "Default"),
        ])
        .args(["image", "create", "backed", "--file", backed.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("backing_file") && err.contains("nothing was created"), "{err}");
    assert!(!err.contains("127.0.0.1:9"), "a request was sent: {err}");
}

#[tokio::test]
async fn create_detects_the_format_refuses_a_contradiction_and_no_inspect_sends_anyway() {
    let dir = tempfile::tempdir().unwrap();
    let plain = qcow2(dir.path(), "plain.img", &[]);
    let file = plain.to_str().unwrap();
    // No --disk-format: detected (openstackclient would have said raw), and said so.
    let name = unique("detect");
    let out = osrs(ADMIN, &["image", "create", &name, "--file", file, "-f", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(made["disk_format"], "qcow2");
    assert_eq!(made["virtual_size"], 16 << 20);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("disk format qcow2 (detected from the content)"), "{err}");
    ok(ADMIN, &["image", "delete", &name]);

    // A --disk-format the content contradicts: refused, naming both, nothing created.
    let name = unique("contradicted");
    let out = osrs(ADMIN, &["image", "create", &name, "--file", file, "--disk-format", "raw"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("disk_format raw, but the content is qcow2"), "{err}");
    assert!(image(ADMIN).find_image_opt(&name).await.unwrap().is_none());

    // --no-inspect: sent as declared (Glance accepts a qcow2 labelled raw, with a warning).
    let made = json(
        ADMIN,
        &[
            "image",
            "create",
            &name,
            "--file",
            file,
            "--disk-format",
            "raw",
            "--no-inspect",
            "-f",
            "json",
        ],
    );
    assert_eq!(made["disk_format"], "raw");
    ok(ADMIN, &["image", "delete", &name]);
}

#[tokio::test]
async fn stage_refuses_what_the_import_would_fail_and_no_inspect_stages_anyway() {
    let dir = tempfile::tempdir().unwrap();
    // The backing file must exist for qemu-img to refer to it.
    qcow2(dir.path(), "plain.qcow2", &[]);
    let backed = qcow2(dir.path(), "backed.qcow2", &["-b", "plain.qcow2", "-F", "qcow2"]);
    let name = unique("stage-inspected");
    let made = json(
        ADMIN,
        &[
            "image",
            "create",
            &name,
            "--disk-format",
            "qcow2",
            "--container-format",
            "bare",
            "-f",
            "json",
        ],
    );
    let id = made["id"].as_str().unwrap().to_string();
    // A backing file: refused before a byte is staged, the image as it was.
    let out = osrs(ADMIN, &["image", "stage", &id, "--file", backed.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("backing_file"), "{err}");
    assert!(err.contains("nothing was staged"), "{err}");
    let now = image(ADMIN).get_image(id.as_str()).await.unwrap();
    assert_eq!(now.status.to_string(), "queued");
    // --no-inspect stages it all the same (Glance's import then fails).
    ok(ADMIN, &["image", "stage", &id, "--file", backed.to_str().unwrap(), "--no-inspect"]);
    let now = image(ADMIN).get_image(id.as_str()).await.unwrap();
    assert_eq!(now.status.to_string(), "uploading");
    ok(ADMIN, &["image", "delete", &id]);
}
