//! `osrs` beside python-openstackclient on the same objects: every show and list both print,
//! compared key for key and value for value (`-f json`); and the commands that change
//! things, checked through the other tool or the SDK.

mod common;

use std::io::Write;
use std::process::Stdio;

use common::{
    json, ok, openstack_json, openstack_text, osrs, osrs_command, project_id, same_as_openstack,
    write_file,
};
use openstack_client::image::{DiskFormat, MetadefObject, Visibility};
use openstack_client::transfer::{Algorithm, digest_hex};
use openstack_tests::{ADMIN, DEMO, data, image, unique};
use serde_json::{Value, json};

#[tokio::test]
async fn images_members_tasks_stores_and_cache_print_as_openstackclient() {
    let admin = image(ADMIN);
    let img = admin
        .create_image(unique("osc"))
        .data(data(150_000, 801))
        .disk_format(DiskFormat::Raw)
        .visibility(Visibility::Shared)
        .await
        .unwrap();
    let shown = same_as_openstack(ADMIN, &["image", "show", "--human-readable", &img.id]);
    assert_eq!(shown["size"], "150K");

    // Members: added by the owner, accepted by the member (`set --accept`, the caller's own
    // project), shown and listed.
    let demo = project_id(DEMO).await;
    ok(ADMIN, &["image", "add", "project", &img.id, &demo]);
    same_as_openstack(ADMIN, &["image", "member", "get", &img.id, &demo]);
    ok(DEMO, &["image", "set", "--accept", &img.id]);
    let member = same_as_openstack(ADMIN, &["image", "member", "get", &img.id, &demo]);
    assert_eq!(member["status"], "accepted");
    ok(ADMIN, &["image", "set", "--reject", "--project", &demo, &img.id]);
    let members = same_as_openstack(ADMIN, &["image", "member", "list", &img.id]);
    assert_eq!(members[0]["Status"], "rejected");

    same_as_openstack(ADMIN, &["image", "stores", "list"]);
    same_as_openstack(ADMIN, &["image", "import", "info"]);

    // A task: stage with a (forced) progress bar, import, then the task as both print it.
    let rec = admin.create_image(unique("osctask")).disk_format(DiskFormat::Raw).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(dir.path(), "stage.raw", &data(40_000, 802));
    ok(ADMIN, &["image", "stage", &rec.id, "--file", f.to_str().unwrap(), "--progress"]);
    ok(ADMIN, &["image", "import", &rec.id, "--method", "glance-direct", "--wait"]);
    let tasks = same_as_openstack(ADMIN, &["image", "task", "list", "--sort-key", "created_at"]);
    let task_id = tasks[0]["ID"].as_str().expect("a task").to_string();
    // Equal but for `properties`: openstackclient's SDK drops the fields it does not know,
    // which osrs shows there.
    let mut task = json(ADMIN, &["image", "task", "show", &task_id, "-f", "json"]);
    let mut theirs = openstack_json(ADMIN, &["image", "task", "show", &task_id, "-f", "json"]);
    assert_eq!(theirs["properties"], json!({}));
    assert_eq!(task["properties"]["image_id"], rec.id.as_str(), "{task}");
    task["properties"] = json!({});
    theirs["properties"] = json!({});
    assert_eq!(task, theirs);
    assert_eq!(task["type"], "api_image_import");
    // --limit is the most to show (openstackclient passes it on as a page size and shows all).
    let first = json(ADMIN, &["image", "task", "list", "--limit", "2", "-f", "json"]);
    assert_eq!(first, json!(tasks.as_array().unwrap()[..2]));

    ok(ADMIN, &["cached", "image", "queue", &img.id]);
    // Glance's prefetcher moves a queued image into the cache in the background: the lists
    // are compared once it is there (the event), so both tools see the same state.
    openstack_tests::wait_cached(&admin, &img.id).await;
    // Other tests may cache their images meanwhile: this image's row is compared whole,
    // the other rows by their columns.
    let list = ["cached", "image", "list", "-f", "json"];
    let (ours, theirs) = (json(ADMIN, &list), openstack_json(ADMIN, &list));
    let row = |rows: &Value| {
        rows.as_array().unwrap().iter().find(|c| c["ID"] == img.id.as_str()).cloned()
    };
    assert!(row(&ours).is_some(), "{ours}");
    assert_eq!(row(&ours), row(&theirs), "cached image list");
    let columns = |rows: &Value| -> Vec<Vec<String>> {
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_object().unwrap().keys().cloned().collect())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    assert_eq!(columns(&ours), columns(&theirs));
    ok(ADMIN, &["cached", "image", "delete", &img.id]);
    admin.delete_image(&img).await.unwrap();
    admin.delete_image(&rec).await.unwrap();
}

#[tokio::test]
async fn metadef_commands_print_and_change_as_openstackclient() {
    let admin = image(ADMIN);
    let ns = unique("oscns");
    let m = |args: &[&str]| {
        let mut all = vec!["image", "metadef"];
        all.extend(args);
        all.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| ok(ADMIN, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let same = |args: Vec<String>| {
        same_as_openstack(ADMIN, &args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    run(m(&["namespace", "create", &ns, "--display-name", "D", "--description", "d", "--public"]));
    run(m(&["namespace", "set", &ns, "--description", "changed", "--tag", "t1", "--tag", "t2"]));
    let schema = r#"{"minimum": 1, "maximum": 10, "description": "how fast"}"#;
    let p = ["--name", "speed", "--title", "Speed", "--type", "integer", "--schema", schema];
    let mut create = m(&["property", "create"]);
    create.extend(p.iter().map(|s| s.to_string()));
    create.push(ns.clone());
    run(create);
    run(m(&[
        "property",
        "set",
        "--title",
        "Speed!",
        "--schema",
        r#"{"maximum": 20}"#,
        &ns,
        "speed",
    ]));
    run(m(&["object", "create", "--namespace", &ns, "cpu"]));
    run(m(&["object", "update", &ns, "cpu", "--name", "cpu2"]));
    run(m(&["resource", "type", "association", "create", &ns, "OS::Glance::Image"]));
    let mut with_props = MetadefObject::new("gpu");
    with_props.properties.insert("cores".into(), json!({"type": "integer", "title": "Cores"}));
    admin.create_metadef_object(ns.as_str(), &with_props).await.unwrap();

    let shown = same(m(&["namespace", "show", &ns]));
    assert_eq!(shown["description"], "changed");
    assert_eq!(shown["visibility"], "public");
    assert_eq!(shown["resource_type_associations"], json!(["OS::Glance::Image"]));
    let prop = same(m(&["property", "show", &ns, "speed"]));
    assert_eq!((prop["title"].clone(), prop["maximum"].clone()), (json!("Speed!"), json!(20)));
    assert_eq!(prop["description"], "how fast");
    same(m(&["property", "list", &ns]));
    same(m(&["object", "show", &ns, "cpu2"]));
    same(m(&["object", "list", &ns]));
    same(m(&["object", "property", "show", &ns, "gpu", "cores"]));
    same(m(&["resource", "type", "association", "list", &ns]));
    same(m(&["resource", "type", "list"]));
    let listed = same(m(&["namespace", "list", "--resource-types", "OS::Glance::Image"]));
    assert!(listed.as_array().unwrap().iter().any(|n| n["namespace"] == ns.as_str()), "{listed}");

    let tags = |admin: openstack_client::image::ImageProxy, ns: String| async move {
        use futures_util::TryStreamExt;
        let all: Vec<_> = admin
            .metadef_tags(ns.as_str(), &openstack_client::image::TagQuery::new())
            .try_collect()
            .await
            .unwrap();
        let mut names: Vec<_> = all.into_iter().map(|t| t.name).collect();
        names.sort();
        names
    };
    assert_eq!(tags(admin.clone(), ns.clone()).await, ["t1", "t2"]);
    run(m(&["namespace", "unset", &ns, "--tag", "t1"]));
    assert_eq!(tags(admin.clone(), ns.clone()).await, ["t2"]);
    run(m(&["namespace", "unset", &ns, "--all-tags"]));
    assert!(tags(admin.clone(), ns.clone()).await.is_empty());

    // A protected namespace keeps its associations unless --force, and stays protected.
    run(m(&["namespace", "set", &ns, "--protected"]));
    let refused = osrs(
        ADMIN,
        &[
            "image",
            "metadef",
            "resource",
            "type",
            "association",
            "delete",
            &ns,
            "OS::Glance::Image",
        ],
    );
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    run(m(&["resource", "type", "association", "delete", &ns, "OS::Glance::Image", "--force"]));
    assert_eq!(same(m(&["resource", "type", "association", "list", &ns])), json!([]));
    assert!(admin.get_metadef_namespace(ns.as_str()).await.unwrap().protected);
    run(m(&["namespace", "set", &ns, "--unprotected"]));

    run(m(&["property", "delete", &ns, "speed"]));
    assert_eq!(same(m(&["property", "list", &ns])), json!([]));
    run(m(&["object", "delete", &ns]));
    assert_eq!(same(m(&["object", "list", &ns])), json!([]));
    run(m(&["namespace", "delete", &ns]));
    assert!(admin.get_metadef_namespace(ns.as_str()).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn create_reads_stdin_takes_an_id_and_set_takes_shortcuts() {
    let admin = image(ADMIN);
    let bytes = data(300_000, 803);
    let md5 = digest_hex(Algorithm::Md5, &bytes);
    let create = |name: &str, extra: &[&str], stdin: Stdio| {
        let mut args = vec!["--os-cloud", ADMIN, "image", "create", name, "--disk-format", "raw"];
        args.extend(extra);
        args.extend(["-f", "json"]);
        osrs_command()
            .args(&args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let parse = |out: std::process::Output| -> Value {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };

    // A pipe, with a chosen id.
    let id = uuid_like(804);
    let mut child = create(&unique("oscpipe"), &["--id", &id], Stdio::piped());
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let piped = parse(child.wait_with_output().unwrap());
    assert_eq!((piped["id"].as_str(), piped["size"].as_u64()), (Some(id.as_str()), Some(300_000)));
    assert_eq!(piped["checksum"], md5.as_str());

    // A file redirected to stdin (seekable: retries could re-read it).
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(dir.path(), "in.raw", &bytes);
    let file = std::fs::File::open(&f).unwrap();
    let redirected =
        parse(create(&unique("oscfile"), &[], Stdio::from(file)).wait_with_output().unwrap());
    assert_eq!(redirected["checksum"], md5.as_str());

    // /dev/null on stdin is no data: a queued image, as openstackclient makes from a terminal.
    let empty = parse(create(&unique("oscnull"), &[], Stdio::null()).wait_with_output().unwrap());
    assert_eq!(empty["status"], "queued");

    // A pipe shorter than --size fails, and the half-made image is gone.
    let name = unique("oscshort");
    let mut child = create(&name, &["--size", "400000"], Stdio::piped());
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let short = child.wait_with_output().unwrap();
    assert_eq!(short.status.code(), Some(1), "{short:?}");
    let left = json(ADMIN, &["image", "list", "--name", &name, "-f", "json"]);
    assert_eq!(left, json!([]), "a failed create left {left}");

    // An id that is not a UUID is refused before anything is sent.
    let bad = osrs(ADMIN, &["image", "create", &unique("oscbadid"), "--id", "not-a-uuid"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a UUID"), "{bad:?}");

    // set's shortcuts are properties, as openstackclient sets them.
    let pid = piped["id"].as_str().unwrap();
    ok(
        ADMIN,
        &[
            "image",
            "set",
            pid,
            "--architecture",
            "x86_64",
            "--os-distro",
            "cirros",
            "--os-version",
            "0.6",
            "--instance-id",
            "abc",
        ],
    );
    let after = same_as_openstack(ADMIN, &["image", "show", pid]);
    for (k, v) in [
        ("architecture", "x86_64"),
        ("os_distro", "cirros"),
        ("os_version", "0.6"),
        ("instance_id", "abc"),
    ] {
        assert_eq!(after["properties"][k], v, "{after}");
    }
    for img in [piped["id"].as_str(), redirected["id"].as_str(), empty["id"].as_str()] {
        admin.delete_image(img.unwrap()).await.unwrap();
    }
}

/// A UUID made from a seed and the clock (unique per run).
fn uuid_like(seed: u64) -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let hex = format!("{:032x}", n ^ u128::from(seed) << 64);
    format!("{}-{}-4{}-8{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

#[tokio::test]
async fn list_sorting_and_csv_quoting_match_openstackclient_byte_for_byte() {
    let admin = image(ADMIN);
    let tag = unique("oscsort");
    let mut made = Vec::new();
    for (n, size) in [("b", 30), ("c", 4), ("a", 200)] {
        let img = admin
            .create_image(format!("{tag}-{n}"))
            .data(data(size, 805))
            .disk_format(DiskFormat::Raw)
            .tags([tag.clone()])
            .await
            .unwrap();
        made.push(img);
    }
    let list = ["image", "list", "--tag", tag.as_str(), "--long", "-c", "Name", "-c", "Size"];
    for extra in [
        &["-f", "csv", "--quote", "minimal", "--sort-column", "Name", "--sort-descending"][..],
        &["-f", "csv", "--quote", "all", "--sort-column", "Size"][..],
        &["-f", "csv", "--quote", "none", "--sort-column", "Size", "--sort-descending"][..],
        &["-f", "value", "--sort-column", "Size"][..],
        &["-f", "json", "--sort-column", "Name", "--sort-ascending"][..],
    ] {
        let args: Vec<&str> = list.iter().chain(extra).copied().collect();
        assert_eq!(ok(ADMIN, &args), openstack_text(ADMIN, &args), "{args:?}");
    }
    // Sizes sort as numbers (4 < 30 < 200), not as text.
    let args: Vec<&str> =
        list.iter().copied().chain(["-f", "value", "--sort-column", "Size"]).collect();
    let sizes: Vec<String> =
        ok(ADMIN, &args).lines().map(|l| l.rsplit(' ').next().unwrap().to_string()).collect();
    assert_eq!(sizes, ["4", "30", "200"]);
    for img in &made {
        admin.delete_image(img).await.unwrap();
    }
}

/// Raw stdout of `osrs ARGS` and `openstack ARGS`, byte for byte.
fn same_text(args: &[&str]) {
    let ours = ok(ADMIN, args);
    let theirs = openstack_text(ADMIN, args);
    assert_eq!(ours, theirs, "osrs {args:?} and openstack {args:?} differ");
}

#[tokio::test]
async fn tables_json_and_empty_lists_print_byte_for_byte_as_openstackclient() {
    // The frame (`+---+` under the header), True/False/None, sorted list cells, JSON keys in
    // column order, YAML keys sorted, and the empty line of an empty list.
    let admin = image(ADMIN);
    let rec = admin
        .create_image(unique("oscbytes"))
        .data(data(3_000, 9))
        .disk_format(DiskFormat::Raw)
        .tags(["zeta", "alpha"])
        .await
        .unwrap();
    for args in [
        &["image", "stores", "list"][..],
        &["image", "stores", "list", "-f", "json"],
        &["image", "stores", "list", "-f", "yaml"],
        &["image", "import", "info"],
        &["image", "import", "info", "-f", "json"],
        &["image", "show", &rec.id],
        &["image", "member", "list", &rec.id],
        &["image", "member", "list", &rec.id, "--print-empty"],
        &["image", "member", "list", &rec.id, "-f", "json"],
    ] {
        same_text(args);
    }
    admin.delete_image(&rec).await.unwrap();
}
