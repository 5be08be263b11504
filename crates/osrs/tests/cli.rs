//! `osrs` run as a user runs it: the built binary against the local cloud, every command
//! group, every output format, bad arguments, a 403 on save, a checksum mismatch, a copy
//! between two clouds, and `osrs image show -f json` beside `openstack image show -f json`.

mod common;

use std::process::Command;

use common::{json, ok, osrs, osrs_command, osrs_command_env, project_id, write_file};
use openstack_tests::{ADMIN, DEMO, data, image, unique};
use serde_json::Value;

#[test]
fn help_and_bad_arguments() {
    let out = osrs_command().args(["help", "image", "create"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--file", "--disk-format", "--container-format", "--property", "--tag", "--import"]
    {
        assert!(help.contains(flag), "help lacks {flag}: {help}");
    }
    let out = osrs_command().args(["image", "list", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "bad arguments exit 2");
    let out =
        osrs_command().args(["image", "create", "x", "--property", "novalue"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("KEY=VALUE"));
    // A typo in a closed set of values is refused by the parser, with the valid values,
    // before anything is sent (no cloud is configured for these).
    for (args, valid) in [
        (&["image", "create", "x", "--disk-format", "qcow3"][..], "qcow2"),
        (&["image", "set", "x", "--container-format", "bear"][..], "bare"),
        (&["image", "list", "--status", "actve"][..], "active"),
        (&["image", "list", "--member-status", "acepted"][..], "accepted"),
        (&["image", "import", "x", "--method", "glance_direct"][..], "glance-direct"),
        (&["image", "create", "x", "--checksum-algorithm", "sha1"][..], "sha512"),
    ] {
        let out = osrs_command().args(args).env_remove("OS_CLOUD").output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("possible values") && err.contains(valid), "{args:?}: {err}");
    }
    let out = osrs_command().args(["completion", "bash"]).output().unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("osrs"));
}

#[test]
fn create_show_list_set_unset_save_delete_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = data(300_000, 701);
    let file = write_file(dir.path(), "disk.raw", &bytes);
    let name = unique("cli");
    let tag = unique("clitag");
    let made = json(
        ADMIN,
        &[
            "image",
            "create",
            &name,
            "--file",
            file.to_str().unwrap(),
            "--disk-format",
            "raw",
            "--property",
            "osrs_cli=yes",
            "--tag",
            &tag,
            "--min-disk",
            "1",
            "-f",
            "json",
        ],
    );
    let id = made["id"].as_str().unwrap().to_string();
    assert_eq!(made["status"], "active");
    assert_eq!(made["size"], 300_000);
    assert_eq!(
        made["checksum"],
        openstack_client::transfer::digest_hex(openstack_client::transfer::Algorithm::Md5, &bytes)
    );
    assert_eq!(made["properties"]["osrs_cli"], "yes");
    assert_eq!(made["tags"], serde_json::json!([tag]));
    // Both digests openstacksdk writes and compares for deduplication (openstackclient
    // writes both keys empty).
    use openstack_client::transfer::{Algorithm, digest_hex};
    let props = &made["properties"];
    assert_eq!(props["owner_specified.openstack.md5"], digest_hex(Algorithm::Md5, &bytes));
    assert_eq!(props["owner_specified.openstack.sha256"], digest_hex(Algorithm::Sha256, &bytes));

    // A table fits the width asked for (long values wrap), with --max-width or $COLUMNS.
    let narrow = ok(ADMIN, &["image", "show", &id, "--max-width", "60"]);
    assert!(narrow.lines().all(|l| l.chars().count() <= 60), "{narrow}");
    assert!(narrow.lines().any(|l| l.chars().count() > 50), "{narrow}");
    let fit = osrs_command()
        .args(["--os-cloud", ADMIN, "image", "show", &id, "--fit-width"])
        .env("COLUMNS", "70")
        .output()
        .unwrap();
    assert!(fit.status.success(), "{}", String::from_utf8_lossy(&fit.stderr));
    let fit = String::from_utf8(fit.stdout).unwrap();
    assert!(fit.contains("| status") && fit.lines().count() > 10, "{fit}");
    assert!(fit.lines().all(|l| l.chars().count() <= 70), "{fit}");
    assert!(fit.lines().any(|l| l.chars().count() > 60), "the table uses the width: {fit}");
    let wide = ok(ADMIN, &["image", "show", &id]);
    assert!(wide.lines().any(|l| l.chars().count() > 100), "unlimited by default: {wide}");

    // show in every format, and -c.
    let shown = json(ADMIN, &["image", "show", &id, "-f", "json"]);
    assert_eq!(shown["name"], name.as_str());
    let table = ok(ADMIN, &["image", "show", &name]);
    assert!(table.contains("| name") && table.contains(&name), "{table}");
    let yaml = ok(ADMIN, &["image", "show", &id, "-f", "yaml"]);
    assert!(yaml.contains(&format!("id: {id}")), "{yaml}");
    let value = ok(ADMIN, &["image", "show", &id, "-f", "value", "-c", "status", "-c", "name"]);
    assert_eq!(value, format!("{name}\nactive\n"));
    let shell =
        ok(ADMIN, &["image", "show", &id, "-f", "shell", "-c", "status", "--prefix", "img_"]);
    assert_eq!(shell, "img_status=\"active\"\n");
    let csv = ok(ADMIN, &["image", "show", &id, "-f", "csv", "-c", "id", "-c", "min_disk"]);
    assert_eq!(csv, format!("\"id\",\"min_disk\"\n\"{id}\",1\n"));
    let human =
        json(ADMIN, &["image", "show", &id, "--human-readable", "-f", "json", "-c", "size"]);
    assert_eq!(human["size"], "300K");

    // list with filters, long, formats.
    let listed = json(ADMIN, &["image", "list", "--tag", &tag, "-f", "json"]);
    assert_eq!(listed, serde_json::json!([{"ID": id, "Name": name, "Status": "active"}]));
    let long = json(ADMIN, &["image", "list", "--tag", &tag, "--long", "-f", "json"]);
    assert_eq!(long[0]["Disk Format"], "raw");
    assert_eq!(long[0]["Size"], 300_000);
    let by_prop =
        ok(ADMIN, &["image", "list", "--tag", &tag, "--property", "osrs_cli=no", "-f", "value"]);
    assert_eq!(by_prop, "", "property filter");
    let none = ["image", "list", "--tag", &tag, "--property", "osrs_cli=no"];
    assert_eq!(ok(ADMIN, &none), "\n", "an empty table is an empty line, as in openstackclient");
    let empty = ok(ADMIN, &[&none[..], &["--print-empty"]].concat());
    assert!(empty.contains("| ID | Name | Status |"), "{empty}");
    let csv = ok(ADMIN, &["image", "list", "--tag", &tag, "-f", "csv", "-c", "ID"]);
    assert_eq!(csv, format!("\"ID\"\n\"{id}\"\n"));
    let unknown = osrs(ADMIN, &["image", "list", "-c", "Nope"]);
    assert_eq!(unknown.status.code(), Some(1));

    // set / unset.
    ok(
        ADMIN,
        &[
            "image",
            "set",
            &id,
            "--name",
            &format!("{name}-2"),
            "--property",
            "k2=v2",
            "--tag",
            "t2",
        ],
    );
    let after = json(ADMIN, &["image", "show", &id, "-f", "json"]);
    assert_eq!(after["name"], format!("{name}-2"));
    assert_eq!(after["properties"]["k2"], "v2");
    ok(ADMIN, &["image", "unset", &id, "--property", "k2", "--tag", "t2"]);
    let after = json(ADMIN, &["image", "show", &id, "-f", "json"]);
    assert!(after["properties"].get("k2").is_none());
    assert_eq!(after["tags"], serde_json::json!([tag]));

    // save to a file and to stdout, verified.
    let out = dir.path().join("saved.raw");
    ok(ADMIN, &["image", "save", &id, "--file", out.to_str().unwrap()]);
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    let piped = osrs(ADMIN, &["image", "save", &id]);
    assert!(piped.status.success());
    assert_eq!(piped.stdout, bytes, "stdout carries the image, verified");

    ok(ADMIN, &["image", "delete", &id]);
    let gone = osrs(ADMIN, &["image", "show", &id]);
    assert_eq!(gone.status.code(), Some(1));
    let err = String::from_utf8_lossy(&gone.stderr);
    assert!(err.contains("no image"), "{err}");
}

#[tokio::test]
async fn a_403_on_save_is_an_error_not_file_content() {
    let admin = image(ADMIN);
    let demo = image(DEMO);
    let up = demo
        .create_image(unique("cli403"))
        .data(data(4096, 702))
        .disk_format(openstack_client::image::DiskFormat::Raw)
        .await
        .unwrap();
    admin.deactivate_image(&up).await.unwrap();
    assert_eq!(admin.get_image(&up.id).await.unwrap().status.to_string(), "deactivated");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.img");
    let run = osrs(DEMO, &["image", "save", &up.id, "--file", out.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("forbidden") && err.contains("request id"), "{err}");
    assert!(!out.exists(), "no file");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no temp file");
    let piped = osrs(DEMO, &["image", "save", &up.id]);
    assert_eq!(piped.status.code(), Some(1));
    assert!(piped.stdout.is_empty(), "the error body never reaches stdout");
    admin.reactivate_image(&up).await.unwrap();
    // Active again: the same save now works and writes the image.
    assert_eq!(admin.get_image(&up.id).await.unwrap().status.to_string(), "active");
    ok(DEMO, &["image", "save", &up.id, "--file", out.to_str().unwrap()]);
    assert_eq!(std::fs::read(&out).unwrap(), data(4096, 702));
    demo.delete_image(&up).await.unwrap();
}

#[tokio::test]
async fn a_checksum_mismatch_exits_3_and_leaves_no_file() {
    let admin = image(ADMIN);
    let up = admin
        .create_image(unique("climismatch"))
        .data(data(50_000, 703))
        .disk_format(openstack_client::image::DiskFormat::Raw)
        .await
        .unwrap();
    openstack_tests::alter_store_copy("fast", &up.id);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bad.img");
    let run = osrs(ADMIN, &["image", "save", &up.id, "--file", out.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(3), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stderr).contains("checksum mismatch"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    admin.delete_image(&up).await.unwrap();
}

#[tokio::test]
async fn members_tasks_stores_import_info_metadefs_and_cache() {
    let admin = image(ADMIN);
    let up = admin
        .create_image(unique("climember"))
        .disk_format(openstack_client::image::DiskFormat::Raw)
        .visibility(openstack_client::image::Visibility::Shared)
        .await
        .unwrap();
    let demo_project = project_id(DEMO).await;
    let added = json(ADMIN, &["image", "add", "project", &up.id, &demo_project, "-f", "json"]);
    assert_eq!(added["member_id"], demo_project.as_str());
    assert_eq!(added["status"], "pending");
    let members = json(ADMIN, &["image", "member", "list", &up.id, "-f", "json"]);
    assert_eq!(members[0]["Member ID"], demo_project.as_str());
    ok(ADMIN, &["image", "remove", "project", &up.id, &demo_project]);
    assert_eq!(
        json(ADMIN, &["image", "member", "list", &up.id, "-f", "json"]),
        serde_json::json!([])
    );

    let info = json(ADMIN, &["image", "import", "info", "-f", "json"]);
    let methods: Vec<&str> =
        info["import-methods"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(methods.contains(&"glance-direct") && methods.contains(&"web-download"), "{info}");
    let stores = json(ADMIN, &["image", "stores", "list", "-f", "json"]);
    assert!(stores.as_array().unwrap().iter().any(|s| s["ID"] == "fast"), "{stores}");

    // stage + import (glance-direct), then the import task is listed and shown.
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(dir.path(), "stage.raw", &data(20_000, 704));
    ok(ADMIN, &["image", "stage", &up.id, "--file", f.to_str().unwrap()]);
    let imported = json(
        ADMIN,
        &["image", "import", &up.id, "--method", "glance-direct", "--wait", "-f", "json"],
    );
    assert_eq!(imported["status"], "active");
    assert_eq!(imported["size"], 20_000);
    // The import's own task (Glance knows it by image): listed, and shown tied to the image.
    let theirs: Vec<openstack_client::image::Task> =
        futures_util::TryStreamExt::try_collect(admin.image_tasks(&up.id)).await.unwrap();
    assert_eq!(theirs.len(), 1, "one import task for the image: {theirs:?}");
    let task_id = theirs[0].id.clone();
    let tasks = json(ADMIN, &["image", "task", "list", "-f", "json"]);
    assert!(tasks.as_array().unwrap().iter().any(|t| t["ID"] == task_id.as_str()), "{tasks}");
    let task = json(ADMIN, &["image", "task", "show", &task_id, "-f", "json"]);
    assert_eq!(task["id"], task_id.as_str());
    assert_eq!(task["type"], "api_image_import");
    assert_eq!(task["properties"]["image_id"], up.id.as_str(), "{task}");

    let namespaces = ok(ADMIN, &["image", "metadef", "namespace", "list", "-f", "value"]);
    assert!(namespaces.lines().any(|l| l == "OS::Compute::Hypervisor"), "{namespaces}");
    let ns = json(
        ADMIN,
        &["image", "metadef", "namespace", "show", "OS::Compute::Hypervisor", "-f", "json"],
    );
    assert_eq!(ns["namespace"], "OS::Compute::Hypervisor");
    let props = ok(
        ADMIN,
        &[
            "image",
            "metadef",
            "property",
            "list",
            "OS::Compute::Hypervisor",
            "-f",
            "value",
            "-c",
            "name",
        ],
    );
    assert!(props.lines().any(|l| l == "hypervisor_type"), "{props}");
    let types = ok(ADMIN, &["image", "metadef", "resource", "type", "list", "-f", "value"]);
    assert!(types.lines().any(|l| l == "OS::Glance::Image"), "{types}");
    let ns_name = unique("clins");
    ok(ADMIN, &["image", "metadef", "namespace", "create", &ns_name, "--description", "cli"]);
    ok(ADMIN, &["image", "metadef", "namespace", "delete", &ns_name]);

    ok(ADMIN, &["cached", "image", "queue", &up.id]);
    // Glance's cache worker takes it from the queue (it is in neither list while it is being
    // cached): the list is read once it is cached.
    openstack_tests::wait_cached(&admin, &up.id).await;
    let cache = json(ADMIN, &["cached", "image", "list", "-f", "json"]);
    assert!(cache.as_array().unwrap().iter().any(|c| c["ID"] == up.id.as_str()), "{cache}");
    ok(ADMIN, &["cached", "image", "delete", &up.id]);
    admin.delete_image(&up).await.unwrap();
}

#[tokio::test]
async fn copy_into_another_project_is_verified_and_carries_properties() {
    let admin = image(ADMIN);
    let demo = image(DEMO);
    let bytes = data(1_200_000, 705);
    let src = admin
        .create_image(unique("clicopy"))
        .data(bytes.clone())
        .disk_format(openstack_client::image::DiskFormat::Raw)
        .property("os_distro", "cirros")
        .tags(["copied"])
        .min_ram(64)
        .await
        .unwrap();
    let name = unique("clicopied");
    let made =
        json(ADMIN, &["image", "copy", &src.id, "--to-cloud", DEMO, "--name", &name, "-f", "json"]);
    let id = made["id"].as_str().unwrap().to_string();
    let copy = demo.get_image(&id).await.unwrap();
    assert_eq!(copy.owner, Some(project_id(DEMO).await));
    assert_eq!(copy.os_hash_value, src.os_hash_value, "verified at the far end");
    assert_eq!(copy.property("os_distro"), Some("cirros"));
    assert_eq!(copy.tags, ["copied"]);
    assert_eq!(copy.min_ram, 64);
    assert_eq!(demo.download_image(&id).to_bytes().await.unwrap().as_ref(), &bytes[..]);
    demo.delete_image(&id).await.unwrap();

    // A source whose stored bytes went bad (a fresh one: Glance's cache holds the first
    // source's good bytes now): the copy fails and leaves nothing behind.
    admin.delete_image(&src).await.unwrap();
    let src = admin
        .create_image(unique("clicopy"))
        .data(bytes.clone())
        .disk_format(openstack_client::image::DiskFormat::Raw)
        .await
        .unwrap();
    openstack_tests::alter_store_copy("fast", &src.id);
    let name = unique("clicopybad");
    let run = osrs(ADMIN, &["image", "copy", &src.id, "--to-cloud", DEMO, "--name", &name]);
    assert_eq!(run.status.code(), Some(3), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(demo.find_image_opt(&name).await.unwrap().is_none(), "the half-made copy is deleted");
    admin.delete_image(&src).await.unwrap();
}

/// The same images through `openstack image show|list -f json` (python-openstackclient, pinned
/// in the cloud's venv) and `osrs image show -f json`: the same keys and values.
#[tokio::test]
async fn image_show_and_list_json_match_openstackclient() {
    let openstack = openstack_tests::openstack_bin();
    assert!(
        openstack.exists(),
        "{} is missing: `cargo xtask cloud up` installs it",
        openstack.display()
    );
    let admin = image(ADMIN);
    let queued = admin
        .create_image(unique("cliosc"))
        .disk_format(openstack_client::image::DiskFormat::Raw)
        .await
        .unwrap();
    let tag = unique("clionlist");
    let active = admin
        .create_image(unique("cliosc"))
        .data(data(10_000, 706))
        .disk_format(openstack_client::image::DiskFormat::Raw)
        .property("os_distro", "cirros")
        .tags(["a".to_string(), tag.clone()])
        .await
        .unwrap();
    // `image list` (short and --long) by tag.
    for long in [false, true] {
        let mut args = vec!["image", "list", "--tag", tag.as_str(), "-f", "json"];
        if long {
            args.push("--long");
        }
        let theirs =
            Command::new(&openstack).args(["--os-cloud", ADMIN]).args(&args).output().unwrap();
        assert!(theirs.status.success(), "{}", String::from_utf8_lossy(&theirs.stderr));
        let theirs: Value = serde_json::from_slice(&theirs.stdout).unwrap();
        assert_eq!(json(ADMIN, &args), theirs, "image list (long: {long})");
    }
    for img in [&queued, &active] {
        let theirs = Command::new(&openstack)
            .args(["--os-cloud", ADMIN, "image", "show", "-f", "json", &img.id])
            .output()
            .unwrap();
        assert!(theirs.status.success(), "{}", String::from_utf8_lossy(&theirs.stderr));
        let theirs: Value = serde_json::from_slice(&theirs.stdout).unwrap();
        let ours = json(ADMIN, &["image", "show", "-f", "json", &img.id]);
        assert_eq!(ours, theirs, "osrs and openstack differ for {}", img.id);
    }
    admin.delete_image(&queued).await.unwrap();
    admin.delete_image(&active).await.unwrap();
}

/// Runs `osrs --os-cloud local ARGS` on a terminal (a pseudo-terminal made by util-linux
/// `script`), stdout to `stdout_file`; returns what reached the terminal (stderr) and
/// whether it succeeded.
fn on_a_terminal(args: &[&str], stdout_file: &std::path::Path) -> (bool, String) {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut line = vec![quote(env!("CARGO_BIN_EXE_osrs")), "--os-cloud".into(), quote(ADMIN)];
    line.extend(args.iter().map(|a| quote(a)));
    let line = format!("{} > {}", line.join(" "), quote(stdout_file.to_str().unwrap()));
    let out = osrs_command_env(Command::new("script"))
        .args(["-qec", &line, "/dev/null"])
        .output()
        .expect("util-linux script runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test]
async fn progress_bars_are_drawn_on_stderr_for_create_save_and_copy() {
    let admin = image(ADMIN);
    let dir = tempfile::tempdir().unwrap();
    let bytes = data(3 << 20, 707);
    let f = write_file(dir.path(), "bar.raw", &bytes);
    let name = unique("clibar");
    let made = dir.path().join("made.json");
    let args = ["image", "create", &name, "--file", f.to_str().unwrap(), "--disk-format", "raw"];
    let (ok_, tty) = on_a_terminal(&[&args[..], &["--progress", "-f", "json"]].concat(), &made);
    assert!(ok_, "{tty}");
    assert!(tty.contains("upload [") && tty.contains("3.00 MiB"), "no upload bar: {tty:?}");
    let made: Value = serde_json::from_slice(&std::fs::read(&made).unwrap()).unwrap();
    let id = made["id"].as_str().unwrap().to_string();
    assert!(!tty.contains(&id), "the JSON went to stdout, not to the terminal");

    let out = dir.path().join("saved.raw");
    let save = ["image", "save", &id, "--file", out.to_str().unwrap(), "--progress"];
    let (ok_, tty) = on_a_terminal(&save, &dir.path().join("save.out"));
    assert!(ok_, "{tty}");
    assert!(tty.contains("download [") && tty.contains("3.00 MiB"), "no download bar: {tty:?}");
    assert_eq!(std::fs::read(&out).unwrap(), bytes);

    let copy_name = unique("clibarcopy");
    let copy = ["image", "copy", &id, "--to-cloud", DEMO, "--name", &copy_name, "--progress"];
    let (ok_, tty) = on_a_terminal(&copy, &dir.path().join("copy.out"));
    assert!(ok_, "{tty}");
    assert!(tty.contains("copy [") && tty.contains("3.00 MiB"), "no copy bar: {tty:?}");
    let copied = image(DEMO).find_image(&copy_name).await.unwrap();
    assert_eq!(copied.size, Some(bytes.len() as u64));
    image(DEMO).delete_image(&copied).await.unwrap();
    admin.delete_image(&id).await.unwrap();
}
