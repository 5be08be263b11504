//! Project names where a command takes a project: resolved through Keystone as
//! openstackclient resolves them (`find_project_id_sdk`), never sent to Glance as an id
//! (Glance takes any string: a membership for "demo" shares the image with nobody).

mod common;

use common::{json, ok, openstack_json, openstack_text, osrs, project_id, same_as_openstack};
use openstack_client::image::{DiskFormat, Visibility};
use openstack_tests::{ADMIN, DEMO, image, unique};

async fn shared_image(cloud: &str, prefix: &str) -> openstack_client::image::Image {
    image(cloud)
        .create_image(unique(prefix))
        .disk_format(DiskFormat::Raw)
        .visibility(Visibility::Shared)
        .await
        .unwrap()
        .into_image()
}

fn member_ids(cloud: &str, image: &str) -> Vec<String> {
    let rows = json(cloud, &["image", "member", "list", image, "-f", "json"]);
    rows.as_array().unwrap().iter().map(|r| r["Member ID"].as_str().unwrap().to_string()).collect()
}

fn fails(cloud: &str, args: &[&str]) -> String {
    let out = osrs(cloud, args);
    assert!(
        !out.status.success(),
        "osrs {args:?} succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn add_get_and_remove_project_by_name_as_openstackclient() {
    let demo = project_id(DEMO).await;
    let (ours, theirs) = (shared_image(ADMIN, "pname").await, shared_image(ADMIN, "pname").await);
    let added = json(ADMIN, &["image", "add", "project", &ours.id, "demo", "-f", "json"]);
    openstack_text(ADMIN, &["image", "add", "project", &theirs.id, "demo"]);
    assert_eq!(added["member_id"], demo.as_str(), "{added}");
    assert_eq!(member_ids(ADMIN, &ours.id), vec![demo.clone()]);
    assert_eq!(member_ids(ADMIN, &theirs.id), vec![demo.clone()], "openstack resolved it the same");

    // By name in `member get` (openstackclient sends the name there and fails; osrs resolves),
    // with --project-domain, and as an id.
    let got = json(ADMIN, &["image", "member", "get", &ours.id, "demo", "-f", "json"]);
    assert_eq!(got["member_id"], demo.as_str());
    let by_id = same_as_openstack(ADMIN, &["image", "member", "get", &ours.id, &demo]);
    assert_eq!(got, by_id);
    let args = ["image", "member", "get", &ours.id, "demo", "--project-domain", "Default"];
    assert_eq!(json(ADMIN, &[&args[..], &["-f", "json"]].concat()), by_id);

    // `set --accept --project NAME` as the owner is refused by Glance for both tools; the
    // member accepts for itself by name.
    ok(DEMO, &["image", "set", "--accept", &ours.id]);
    let got = json(ADMIN, &["image", "member", "get", &ours.id, "demo", "-f", "json"]);
    assert_eq!(got["status"], "accepted");

    ok(ADMIN, &["image", "remove", "project", &ours.id, "demo"]);
    openstack_text(ADMIN, &["image", "remove", "project", &theirs.id, "demo"]);
    assert!(member_ids(ADMIN, &ours.id).is_empty());
    assert!(member_ids(ADMIN, &theirs.id).is_empty());
    for i in [ours, theirs] {
        image(ADMIN).delete_image(&i).await.unwrap();
    }
}

#[tokio::test]
async fn an_unknown_project_is_refused_and_nothing_is_shared() {
    let img = shared_image(ADMIN, "punknown").await;
    let missing = unique("no-such-project");
    let err = fails(ADMIN, &["image", "add", "project", &img.id, &missing]);
    assert!(err.contains(&format!("no project named or with id \"{missing}\"")), "{err}");
    assert!(member_ids(ADMIN, &img.id).is_empty(), "a member was created for a name");
    let err = fails(ADMIN, &["image", "list", "--project", &missing]);
    assert!(err.contains("no project named"), "{err}");
    image(ADMIN).delete_image(&img).await.unwrap();
}

#[tokio::test]
async fn owner_filters_and_create_take_names() {
    let demo = project_id(DEMO).await;
    let name = unique("powner");
    let out = json(ADMIN, &["image", "create", &name, "--project", "demo", "-f", "json"]);
    assert_eq!(out["owner"], demo.as_str(), "{out}");
    let listed = same_as_openstack(ADMIN, &["image", "list", "--project", "demo", "--name", &name]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    // Set the owner back by name, then by name in another domain: refused, nothing changed.
    ok(ADMIN, &["image", "set", "--project", "admin", &name]);
    let admin = project_id(ADMIN).await;
    let shown = openstack_json(ADMIN, &["image", "show", &name, "-f", "json"]);
    assert_eq!(shown["owner"], admin.as_str());
    let err =
        fails(ADMIN, &["image", "set", "--project", "demo", "--project-domain", "nodomain", &name]);
    assert!(err.contains("no domain \"nodomain\""), "{err}");
    image(ADMIN).delete_image(shown["id"].as_str().unwrap()).await.unwrap();
}

#[tokio::test]
async fn an_ambiguous_name_needs_the_domain() {
    let domain = unique("pdom");
    let pname = unique("pdup");
    openstack_text(ADMIN, &["domain", "create", &domain]);
    let in_default = openstack_json(ADMIN, &["project", "create", &pname, "-f", "json"]);
    let in_other =
        openstack_json(ADMIN, &["project", "create", "--domain", &domain, &pname, "-f", "json"]);
    let img = shared_image(ADMIN, "pambiguous").await;

    let err = fails(ADMIN, &["image", "add", "project", &img.id, &pname]);
    assert!(err.contains("ambiguous") && err.contains("--project-domain"), "{err}");
    assert!(member_ids(ADMIN, &img.id).is_empty());
    let args = ["image", "add", "project", &img.id, &pname, "--project-domain", &domain];
    let added = json(ADMIN, &[&args[..], &["-f", "json"]].concat());
    assert_eq!(added["member_id"], in_other["id"], "{added}");
    // openstackclient picks the same one.
    let theirs = shared_image(ADMIN, "pambiguous").await;
    openstack_text(
        ADMIN,
        &["image", "add", "project", &theirs.id, &pname, "--project-domain", &domain],
    );
    assert_eq!(member_ids(ADMIN, &theirs.id), member_ids(ADMIN, &img.id));

    for i in [img, theirs] {
        image(ADMIN).delete_image(&i).await.unwrap();
    }
    openstack_text(ADMIN, &["project", "delete", in_default["id"].as_str().unwrap()]);
    openstack_text(ADMIN, &["project", "delete", in_other["id"].as_str().unwrap()]);
    openstack_text(ADMIN, &["domain", "set", "--disable", &domain]);
    openstack_text(ADMIN, &["domain", "delete", &domain]);
}

/// A member of `demo` may not read other projects in Keystone: a name is refused with that
/// reason (openstackclient sends it to Glance as it is), an id is used as an id.
#[tokio::test]
async fn without_keystone_read_access_only_ids_are_taken() {
    let admin = project_id(ADMIN).await;
    let img = shared_image(DEMO, "pforbidden").await;
    let err = fails(DEMO, &["image", "add", "project", &img.id, "admin"]);
    assert!(
        err.contains("cannot resolve project \"admin\"") && err.contains("give the project's id"),
        "{err}"
    );
    assert!(member_ids(DEMO, &img.id).is_empty());
    let added = json(DEMO, &["image", "add", "project", &img.id, &admin, "-f", "json"]);
    assert_eq!(added["member_id"], admin.as_str());
    image(DEMO).delete_image(&img).await.unwrap();
}
