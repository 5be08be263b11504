//! osrs flags checked by their effect on the real cloud: list filters and sorting, create and
//! set options, store choices on save/delete/import, every import method, the stores detail,
//! clearing the cache, and the global options (region, interface, CA, insecure, API version,
//! `OS_*` variables alone).

mod common;

use std::process::Command;

use common::{json, ok, osrs, osrs_command, project_id, write_file};
use openstack_client::image::{DiskFormat, ImageStatus, Visibility};
use openstack_tests::{ADMIN, DEMO, data, image, state_dir, unique};
use serde_json::Value;

/// The `ID` column of a `-f value -c ID` list, in the order printed.
fn ids(args: &[&str]) -> Vec<String> {
    let mut all = args.to_vec();
    all.extend(["-f", "value", "-c", "ID"]);
    ok(ADMIN, &all).lines().map(String::from).collect()
}

fn set(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn image_list_filters_and_sorting() {
    let admin = image(ADMIN);
    let tag = unique("clilist");
    let make = |name: &str| {
        admin.create_image(format!("{tag}-{name}")).disk_format(DiskFormat::Raw).tags([tag.clone()])
    };
    let a = make("a").data(data(1_000, 1)).visibility(Visibility::Private);
    let a = a.property("osrs_colour", "red").await.unwrap();
    let b = make("b").data(data(2_000, 2)).visibility(Visibility::Community).await.unwrap();
    let c = make("c").visibility(Visibility::Shared).await.unwrap(); // queued
    let t = ["image", "list", "--tag", tag.as_str()];
    let with = |extra: &[&str]| ids(&[&t[..], extra].concat());
    assert_eq!(set(with(&[])), set(vec![a.id.clone(), b.id.clone(), c.id.clone()]));
    assert_eq!(set(with(&["--status", "active"])), set(vec![a.id.clone(), b.id.clone()]));
    assert_eq!(with(&["--status", "queued"]), vec![c.id.clone()]);
    assert_eq!(with(&["--property", "osrs_colour=red"]), vec![a.id.clone()]);
    assert_eq!(with(&["--name", &format!("{tag}-b")]), vec![b.id.clone()]);
    assert_eq!(with(&["--private"]), vec![a.id.clone()]);
    assert_eq!(with(&["--community"]), vec![b.id.clone()]);
    assert_eq!(with(&["--shared"]), vec![c.id.clone()]);
    // Sorted on the client, as openstackclient does (its output is compared byte for byte in
    // list_order.rs, with --limit, --max-items and --marker, whose pages follow the server's
    // order); --limit and --max-items are the most shown; --marker leaves the marker out.
    let desc = with(&["--sort", "name:desc"]);
    assert_eq!(desc, [c.id.clone(), b.id.clone(), a.id.clone()]);
    assert_eq!(with(&["--sort", "name:asc"]), [a.id.clone(), b.id.clone(), c.id.clone()]);
    assert_eq!(with(&["--limit", "2"]).len(), 2);
    assert_eq!(with(&["--max-items", "1"]).len(), 1);
    let after_b = with(&["--marker", &b.id]);
    assert!(!after_b.contains(&b.id) && after_b.len() < 3, "{after_b:?}");
    // Hidden images are listed only with --hidden.
    ok(ADMIN, &["image", "set", &b.id, "--hidden"]);
    assert!(admin.get_image(&b.id).await.unwrap().os_hidden);
    assert_eq!(with(&["--hidden"]), vec![b.id.clone()]);
    assert!(!with(&[]).contains(&b.id));
    // --long adds columns.
    let long: Value =
        serde_json::from_str(&ok(ADMIN, &[&t[..], &["--long", "-f", "json"]].concat())).unwrap();
    let row = long.as_array().unwrap().iter().find(|r| r["ID"] == a.id.as_str()).unwrap();
    assert_eq!(row["Disk Format"], "raw");
    assert_eq!(row["Size"], 1_000);
    for i in [&a, &b, &c] {
        admin.delete_image(i).await.unwrap();
    }
}

#[tokio::test]
async fn create_flags_and_set_state_changes_reach_glance() {
    let admin = image(ADMIN);
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(dir.path(), "c.raw", &data(30_000, 3));
    let demo_project = project_id(DEMO).await;
    let name = unique("cliflags");
    let made = json(
        ADMIN,
        &[
            "image",
            "create",
            &name,
            "--file",
            f.to_str().unwrap(),
            "--disk-format",
            "raw",
            "--protected",
            "--min-ram",
            "128",
            "--community",
            "--project",
            &demo_project,
            "-f",
            "json",
        ],
    );
    let id = made["id"].as_str().unwrap().to_string();
    let got = admin.get_image(&id).await.unwrap();
    assert!(got.protected);
    assert_eq!(got.min_ram, 128);
    assert_eq!(got.visibility, Visibility::Community);
    assert_eq!(got.owner.as_deref(), Some(demo_project.as_str()));
    ok(ADMIN, &["image", "set", &id, "--deactivate"]);
    assert_eq!(admin.get_image(&id).await.unwrap().status, ImageStatus::Deactivated);
    ok(ADMIN, &["image", "set", &id, "--activate"]);
    assert_eq!(admin.get_image(&id).await.unwrap().status, ImageStatus::Active);
    ok(ADMIN, &["image", "set", &id, "--unprotected"]);
    ok(ADMIN, &["image", "delete", &id]);
    // --import --store: uploaded by the import path into the one store.
    let name = unique("cliimport");
    let args = ["image", "create", &name, "--file", f.to_str().unwrap(), "--disk-format", "raw"];
    let made = json(ADMIN, &[&args[..], &["--import", "--store", "slow", "-f", "json"]].concat());
    let got = admin.get_image(made["id"].as_str().unwrap()).await.unwrap();
    assert_eq!((&got.status, &got.stores[..]), (&ImageStatus::Active, &["slow".to_string()][..]));
    admin.delete_image(&got).await.unwrap();
}

#[tokio::test]
async fn store_preference_on_save_and_a_store_on_delete() {
    let admin = image(ADMIN);
    let bytes = data(40_000, 4);
    let up = admin
        .create_image(unique("clistores"))
        .data(bytes.clone())
        .disk_format(DiskFormat::Raw)
        .stores(["fast", "slow"])
        .wait(Default::default())
        .await
        .unwrap();
    // The fast copy is damaged: a save that prefers fast is caught by its checksum (exit
    // 3), one that prefers slow is fine.
    openstack_tests::alter_store_copy("fast", &up.id);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.raw");
    let save = |store: &str| {
        osrs(
            ADMIN,
            &[
                "image",
                "save",
                &up.id,
                "--file",
                out.to_str().unwrap(),
                "--store-preference",
                store,
            ],
        )
    };
    // (fast first: a good download is cached by Glance, and the cache ignores preferences.)
    assert_eq!(save("fast").status.code(), Some(3));
    assert!(!out.exists());
    let good = save("slow");
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    // Delete the data in one store only.
    ok(ADMIN, &["image", "delete", &up.id, "--store", "fast"]);
    assert_eq!(admin.get_image(&up.id).await.unwrap().stores, ["slow"]);
    admin.delete_image(&up).await.unwrap();
}

#[tokio::test]
async fn every_import_method() {
    let admin = image(ADMIN);
    let bytes = data(25_000, 5);
    let src = admin
        .create_image(unique("clisrc"))
        .data(bytes.clone())
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap();
    let wait = ["--wait", "-f", "json"];
    // copy-image into one more store, then into all.
    json(
        ADMIN,
        &[&["image", "import", &src.id, "--method", "copy-image", "--store", "cold"][..], &wait]
            .concat(),
    );
    let mut stores = admin.get_image(&src.id).await.unwrap().stores;
    stores.sort();
    assert_eq!(stores, ["cold", "fast"]);
    json(
        ADMIN,
        &[
            &[
                "image",
                "import",
                &src.id,
                "--method",
                "copy-image",
                "--all-stores",
                "--allow-failure",
            ][..],
            &wait,
        ]
        .concat(),
    );
    let mut stores = admin.get_image(&src.id).await.unwrap().stores;
    stores.sort();
    assert_eq!(stores, ["cold", "fast", "slow"]);
    // web-download from the loopback file server.
    let (www, url) = openstack_tests::www();
    let file = format!("{}.raw", unique("cliweb"));
    std::fs::write(www.join(&file), &bytes).unwrap();
    let rec = admin.create_image(unique("cliwebimg")).disk_format(DiskFormat::Raw).await.unwrap();
    let uri = format!("{url}/{file}");
    json(
        ADMIN,
        &[&["image", "import", &rec.id, "--method", "web-download", "--uri", &uri][..], &wait]
            .concat(),
    );
    assert_eq!(admin.download_image(&rec).to_bytes().await.unwrap().as_ref(), &bytes[..]);
    // glance-download from "RegionTwo" (the same Glance behind another endpoint).
    let far = admin.create_image(unique("cligd")).disk_format(DiskFormat::Raw).await.unwrap();
    let args = [
        "image",
        "import",
        &far.id,
        "--method",
        "glance-download",
        "--remote-image",
        &src.id,
        "--remote-region",
        "RegionTwo",
    ];
    json(ADMIN, &[&args[..], &wait].concat());
    assert_eq!(admin.download_image(&far).to_bytes().await.unwrap().as_ref(), &bytes[..]);
    for i in [&src, &rec, &far] {
        admin.delete_image(i).await.unwrap();
    }
    std::fs::remove_file(www.join(&file)).unwrap();
}

#[tokio::test]
async fn stores_detail_and_cached_image_clear() {
    let detail = json(ADMIN, &["image", "stores", "list", "--detail", "-f", "json"]);
    let fast = detail.as_array().unwrap().iter().find(|s| s["ID"] == "fast").expect("fast");
    let data_dir = fast["Properties"]["data_dir"].as_str().unwrap_or_default();
    assert!(data_dir.ends_with("/stores/fast/"), "{detail}");
    let plain = json(ADMIN, &["image", "stores", "list", "-f", "json"]);
    assert!(plain[0].get("Properties").is_none(), "only with --detail: {plain}");
    let admin = image(ADMIN);
    let up = admin
        .create_image(unique("cliclear"))
        .data(data(10_000, 6))
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap();
    admin.download_image(&up).to_bytes().await.unwrap(); // cached by Glance's middleware
    openstack_tests::wait_cached(&admin, &up.id).await;
    ok(ADMIN, &["cached", "image", "clear", "--cache"]);
    assert!(
        !admin.get_image_cache().await.unwrap().cached_images.iter().any(|c| c.image_id == up.id)
    );
    admin.delete_image(&up).await.unwrap();
}

#[tokio::test]
async fn global_options_pick_the_endpoint_and_the_trust() {
    // Region and interface: the catalog's URL for each, seen in --debug.
    let debug = |args: &[&str]| {
        let out = osrs(ADMIN, &[&["--debug", "--no-token-cache"][..], args].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let alt = std::env::var("OSRS_GLANCE_ALT_URL").unwrap();
    let alt_port = alt.rsplit(':').next().unwrap().to_string();
    let two = debug(&["--os-region-name", "RegionTwo", "image", "list", "--limit", "1"]);
    assert!(two.contains(&format!("127.0.0.1:{alt_port}")), "{two}");
    // RegionTwo has public and internal endpoints, no admin one.
    let internal = debug(&[
        "--os-region-name",
        "RegionTwo",
        "--os-interface",
        "internal",
        "image",
        "list",
        "--limit",
        "1",
    ]);
    assert!(internal.contains(&format!("127.0.0.1:{alt_port}")), "{internal}");
    let admin_two =
        osrs(ADMIN, &["--os-region-name", "RegionTwo", "--os-interface", "admin", "image", "list"]);
    assert_eq!(admin_two.status.code(), Some(1));
    let err = String::from_utf8_lossy(&admin_two.stderr);
    assert!(err.contains("interface admin in region RegionTwo"), "{err}");
    // An API version cap refuses what needs more, before sending (stores need 2.7).
    let capped = osrs(ADMIN, &["--os-image-api-version", "2.5", "image", "stores", "list"]);
    assert_eq!(capped.status.code(), Some(1));
    let err = String::from_utf8_lossy(&capped.stderr);
    assert!(err.contains("2.8") && err.contains("2.5"), "{err}");

    // TLS: the local-tls cloud without its CA in clouds.yaml; --os-cacert or --insecure.
    let dir = tempfile::tempdir().unwrap();
    let clouds = std::fs::read_to_string(state_dir().join("clouds.yaml")).unwrap();
    let ca = state_dir().join("tls/ca.pem");
    assert!(ca.exists(), "{}", ca.display());
    let stripped: String = clouds
        .lines()
        .filter(|l| !l.trim_start().starts_with("cacert:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let yaml = dir.path().join("clouds.yaml");
    std::fs::write(&yaml, stripped).unwrap();
    let tls = |extra: &[&str]| {
        osrs_command()
            .env("OS_CLIENT_CONFIG_FILE", &yaml)
            .args(
                [
                    &["--os-cloud", "local-tls", "--no-token-cache"][..],
                    extra,
                    &["image", "list", "--limit", "1"],
                ]
                .concat(),
            )
            .output()
            .unwrap()
    };
    assert_eq!(tls(&[]).status.code(), Some(1), "untrusted without the CA");
    assert!(tls(&["--os-cacert", ca.to_str().unwrap()]).status.success());
    assert!(tls(&["--insecure"]).status.success());
}

#[test]
fn os_variables_alone_are_a_cloud() {
    // No clouds.yaml anywhere (HOME elsewhere), no OS_CLOUD: the admin-openrc variables.
    let home = tempfile::tempdir().unwrap();
    let openrc = std::fs::read_to_string(state_dir().join("admin-openrc")).unwrap();
    let mut cmd: Command = osrs_command();
    cmd.env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("OSRS_TOKEN_CACHE_DIR", home.path().join("tokens"));
    for line in openrc.lines() {
        if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            cmd.env(k, v);
        }
    }
    let out = cmd.args(["image", "list", "--limit", "1", "-f", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(listed.is_array());
}
