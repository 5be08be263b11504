//! Bad input, catalogued: each case is a typed error that names the problem, raised before
//! anything changes where the SDK can know (no image record, no file at the output path),
//! and otherwise the server's own refusal, typed.

use std::path::{Path, PathBuf};

use futures_util::TryStreamExt;
use openstack_auth::{ConfigError, ConfigLoader, Interface, Session, StaticEnvironment};
use openstack_image::{
    ContainerFormat, DiskFormat, ImageProxy, ImageStatus, ImportMethod, MemberStatus,
    MetadefNamespace,
};
use openstack_resource::Error;
use openstack_tests::{ADMIN, DEMO, cloud, data, image, unique};

/// Asserts `err` is `InvalidArgument` whose message contains every needle.
fn invalid(err: &Error, needles: &[&str]) {
    match err {
        Error::InvalidArgument(m) => {
            for n in needles {
                assert!(m.contains(n), "{m:?} does not name {n:?}");
            }
        }
        other => panic!("expected InvalidArgument naming {needles:?}, got {other:?}"),
    }
}

/// Asserts that no image named `name` exists (nothing half-made was left behind).
async fn nothing_named(img: &ImageProxy, name: &str) {
    assert!(img.find_image_opt(name).await.unwrap().is_none(), "an image {name:?} was left behind");
}

/// Creates a record with `build` applied, expects `InvalidArgument` naming `needles`, and
/// checks that no record was created.
async fn refused_create(
    build: impl FnOnce(openstack_image::CreateImage) -> openstack_image::CreateImage,
    needles: &[&str],
) {
    // Through a proxy that counts what reaches Glance: nothing but reads may.
    let proxy = openstack_tests::faults::start(openstack_tests::faults::Fault::None).await;
    let img = openstack_tests::faults::through(&proxy, None);
    let name = unique("bad");
    let err = build(img.create_image(&name).data(data(1024, 1)).allow_duplicates(true))
        .await
        .unwrap_err();
    invalid(&err, needles);
    let sent = proxy.state.requests.lock().unwrap().clone();
    assert!(sent.iter().all(|r| r.starts_with("GET ")), "refused, yet sent: {sent:?}");
    nothing_named(&image(ADMIN), &name).await;
}

// ---- image records -------------------------------------------------------------------

#[tokio::test]
async fn unknown_disk_format() {
    refused_create(
        |c| c.disk_format(DiskFormat::from("floppy")),
        &["disk_format", "floppy", "qcow2"],
    )
    .await;
}

#[tokio::test]
async fn unknown_container_format() {
    refused_create(
        |c| c.container_format(ContainerFormat::from("crate")),
        &["container_format", "crate"],
    )
    .await;
}

#[tokio::test]
async fn name_over_255_characters() {
    let img = image(ADMIN);
    let name = format!("{}-{}", unique("long"), "n".repeat(255));
    let err = img.create_image(&name).data(data(10, 1)).await.unwrap_err();
    invalid(&err, &["name", "at most 255"]);
    let prefix: String = name.chars().take(40).collect();
    let left: Vec<_> = img.images(&Default::default()).try_collect().await.unwrap();
    assert!(!left.iter().any(|i| i.name.as_deref().is_some_and(|n| n.starts_with(&prefix))));
}

#[tokio::test]
async fn tag_over_255_characters() {
    refused_create(|c| c.tags(["t".repeat(256)]), &["tag", "255"]).await;
}

#[tokio::test]
async fn empty_tag() {
    refused_create(|c| c.tags([""]), &["tag", "1 to 255"]).await;
}

#[tokio::test]
async fn property_in_the_reserved_os_glance_namespace() {
    refused_create(
        |c| c.property("os_glance_import_task", "x"),
        &["os_glance_import_task", "reserves"],
    )
    .await;
}

#[tokio::test]
async fn negative_min_disk() {
    refused_create(|c| c.property("min_disk", -1), &["min_disk", "negative"]).await;
}

#[tokio::test]
async fn negative_min_ram() {
    refused_create(|c| c.meta([("min_ram", -512)]), &["min_ram", "negative"]).await;
}

#[tokio::test]
async fn read_only_property() {
    refused_create(|c| c.property("checksum", "0123"), &["checksum", "read-only"]).await;
}

#[tokio::test]
async fn non_string_extra_property() {
    refused_create(|c| c.property("hw_cpu_cores", 4), &["hw_cpu_cores", "string"]).await;
}

#[tokio::test]
async fn validate_checksum_with_no_digest_to_compare() {
    refused_create(|c| c.digests(&[]).validate_checksum(true), &["validate_checksum"]).await;
}

#[tokio::test]
async fn filename_and_data_both_given() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.raw");
    std::fs::write(&f, b"x").unwrap();
    refused_create(|c| c.filename(&f), &["mutually exclusive"]).await;
}

#[tokio::test]
async fn store_the_cloud_does_not_offer() {
    refused_create(|c| c.stores(["nowhere"]), &["nowhere", "fast"]).await;
}

#[tokio::test]
async fn read_only_store() {
    refused_create(|c| c.stores(["web"]), &["web", "read-only"]).await;
}

#[tokio::test]
async fn stores_and_all_stores_together() {
    refused_create(|c| c.stores(["fast"]).all_stores(true), &["mutually exclusive"]).await;
}

#[tokio::test]
async fn too_many_tags_is_glances_413_and_leaves_no_image() {
    // Glance's image_tag_quota (128 by default): the server's refusal, typed.
    let img = image(ADMIN);
    let name = unique("quota");
    let tags: Vec<String> = (0..129).map(|i| format!("t{i}")).collect();
    let err = img.create_image(&name).tags(tags).await.unwrap_err();
    assert!(matches!(err.kind(), Error::RequestEntityTooLarge(_)), "{}", err.report());
    assert!(err.request_id().is_some(), "{err:?}");
    nothing_named(&img, &name).await;
}

#[tokio::test]
async fn changing_a_read_only_field_is_refused_before_sending() {
    let img = image(ADMIN);
    let rec = img.create_image(unique("ro")).disk_format(DiskFormat::Raw).await.unwrap();
    let mut changed = rec.image.clone();
    changed.status = ImageStatus::Active;
    let err = img.update_image(&rec, &changed).await.unwrap_err();
    invalid(&err, &["status"]);
    assert_eq!(img.get_image(&rec.id).await.unwrap().status, ImageStatus::Queued);
    img.delete_image(&rec).await.unwrap();
}

#[tokio::test]
async fn add_tag_over_255_characters() {
    let img = image(ADMIN);
    let rec = img.create_image(unique("tag")).disk_format(DiskFormat::Raw).await.unwrap();
    let err = img.add_tag(&rec, &"t".repeat(256)).await.unwrap_err();
    invalid(&err, &["255"]);
    assert!(img.get_image(&rec.id).await.unwrap().tags.is_empty());
    img.delete_image(&rec).await.unwrap();
}

// ---- source files --------------------------------------------------------------------

async fn refused_source(path: &Path, kind: Option<std::io::ErrorKind>) {
    let img = image(ADMIN);
    let name = unique("src");
    let err = img.create_image(&name).filename(path).await.unwrap_err();
    let Error::Io { path: named, source } = &err else { panic!("expected Io, got {err:?}") };
    assert_eq!(Path::new(named), path, "the error names the file");
    if let Some(kind) = kind {
        assert_eq!(source.kind(), kind, "{}", err.report());
    }
    nothing_named(&img, &name).await;
}

#[tokio::test]
async fn missing_source_file() {
    let dir = tempfile::tempdir().unwrap();
    refused_source(&dir.path().join("missing.img"), Some(std::io::ErrorKind::NotFound)).await;
}

#[tokio::test]
async fn directory_as_source_file() {
    let dir = tempfile::tempdir().unwrap();
    refused_source(dir.path(), None).await;
}

#[tokio::test]
async fn unreadable_source_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = unreadable_file(dir.path());
    refused_source(&path, Some(std::io::ErrorKind::PermissionDenied)).await;
}

/// A regular file this process cannot open: mode 000, or (for root, whom modes do not stop)
/// a write-only sysfs attribute. Fails loudly when the machine offers neither.
fn unreadable_file(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let f = dir.join("locked.img");
    std::fs::write(&f, b"secret").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&f).is_err() {
        return f;
    }
    let sys = PathBuf::from("/sys/bus/pci/rescan");
    if sys.is_file() && std::fs::File::open(&sys).is_err() {
        return sys;
    }
    panic!(
        "cannot make an unreadable regular file here (running as root without /sys/bus/pci/rescan)"
    );
}

// ---- downloads -----------------------------------------------------------------------

async fn active_image(img: &ImageProxy) -> openstack_image::Image {
    let created = img.create_image(unique("dl")).data(data(4096, 2)).disk_format(DiskFormat::Raw);
    created.await.unwrap().into_image()
}

#[tokio::test]
async fn output_directory_missing() {
    let img = image(ADMIN);
    let rec = active_image(&img).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nowhere").join("x.img");
    let err = img.download_image(&rec).to_path(&out).await.unwrap_err();
    invalid(&err, &["does not exist", "nowhere"]);
    assert!(!out.parent().unwrap().exists());
    img.delete_image(&rec).await.unwrap();
}

#[tokio::test]
async fn output_path_is_a_directory() {
    let img = image(ADMIN);
    let rec = active_image(&img).await;
    let dir = tempfile::tempdir().unwrap();
    let err = img.download_image(&rec).to_path(dir.path()).await.unwrap_err();
    assert!(matches!(err.kind(), Error::Io { .. } | Error::InvalidArgument(_)), "{err:?}");
    assert!(err.to_string().contains(&dir.path().display().to_string()), "names the path: {err}");
    assert!(dir.path().is_dir());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing written inside");
    img.delete_image(&rec).await.unwrap();
}

#[tokio::test]
async fn output_directory_read_only() {
    use std::os::unix::fs::PermissionsExt;
    let img = image(ADMIN);
    let rec = active_image(&img).await;
    let tmp = tempfile::tempdir().unwrap();
    let ro = tmp.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores modes: then use a directory no one can create files in.
    let dir = if std::fs::File::create(ro.join("probe")).is_err() {
        ro.clone()
    } else {
        PathBuf::from("/proc/self")
    };
    let out = dir.join("x.img");
    let err = img.download_image(&rec).to_path(&out).await.unwrap_err();
    let Error::Io { path, .. } = err.kind() else { panic!("expected Io, got {err:?}") };
    assert!(path.starts_with(&dir.display().to_string()), "{path}");
    assert!(!out.exists());
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    img.delete_image(&rec).await.unwrap();
}

#[tokio::test]
async fn image_still_queued_has_no_data_to_download() {
    let img = image(ADMIN);
    let rec = img.create_image(unique("nodata")).disk_format(DiskFormat::Raw).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("none.img");
    let err = img.download_image(&rec).to_path(&out).await.unwrap_err();
    // Server state, not a mistake in the call: its own kind.
    match &err {
        Error::NoData { what, reason } => {
            assert_eq!(what, &format!("image {}", rec.id));
            assert_eq!(reason, "status queued");
        }
        other => panic!("expected NoData, got {other:?}"),
    }
    assert!(err.to_string().contains("has no data yet"), "{err}");
    assert!(!out.exists());
    img.delete_image(&rec).await.unwrap();
}

#[tokio::test]
async fn deactivated_image_downloaded_by_a_non_admin() {
    let admin = image(ADMIN);
    let demo = image(DEMO);
    let up = demo
        .create_image(unique("deact"))
        .data(data(4096, 8))
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap();
    admin.deactivate_image(&up).await.unwrap();
    assert_eq!(admin.get_image(&up.id).await.unwrap().status, ImageStatus::Deactivated);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("deact.img");
    let err = demo.download_image(&up.id).to_path(&out).await.unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    assert!(!out.exists(), "a 403 never becomes file content");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no temp file either");
    // Admins still can.
    admin.download_image(&up.id).to_path(&out).await.unwrap();
    admin.reactivate_image(&up).await.unwrap();
    // Re-read: active again, and the owner downloads it once more.
    assert_eq!(admin.get_image(&up.id).await.unwrap().status, ImageStatus::Active);
    std::fs::remove_file(&out).unwrap();
    demo.download_image(&up.id).to_path(&out).await.unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), data(4096, 8));
    demo.delete_image(&up).await.unwrap();
}

// ---- import, members, metadefs -------------------------------------------------------

#[tokio::test]
async fn web_download_without_a_uri() {
    let img = image(DEMO);
    let rec = img.create_image(unique("imp")).disk_format(DiskFormat::Raw).await.unwrap();
    let err =
        img.import_image(&rec, ImportMethod::WebDownload { uri: String::new() }).await.unwrap_err();
    invalid(&err, &["uri"]);
    assert_eq!(img.get_image(&rec.id).await.unwrap().status, ImageStatus::Queued);
    img.delete_image(&rec).await.unwrap();
}

#[tokio::test]
async fn copy_image_to_a_store_the_cloud_does_not_offer() {
    let img = image(DEMO);
    let rec = img.create_image(unique("imp")).disk_format(DiskFormat::Raw).await.unwrap();
    let err =
        img.import_image(&rec, ImportMethod::CopyImage).stores(["nowhere"]).await.unwrap_err();
    invalid(&err, &["nowhere", "fast"]);
    assert_eq!(img.get_image(&rec.id).await.unwrap().status, ImageStatus::Queued);
    img.delete_image(&rec).await.unwrap();
}

#[tokio::test]
async fn invalid_member_status() {
    let img = image(ADMIN);
    let err = img
        .update_member("00000000-0000-0000-0000-000000000000", "p", MemberStatus::from("maybe"))
        .await
        .unwrap_err();
    invalid(&err, &["maybe", "pending, accepted, rejected"]);
}

#[tokio::test]
async fn metadef_namespace_without_a_name() {
    let err = image(ADMIN).create_metadef_namespace(&MetadefNamespace::new("")).await.unwrap_err();
    invalid(&err, &["needs a name"]);
}

#[tokio::test]
async fn metadef_namespace_name_too_long() {
    let img = image(ADMIN);
    let name = format!("{}-{}", unique("ns"), "n".repeat(80));
    let err = img.create_metadef_namespace(&MetadefNamespace::new(&name)).await.unwrap_err();
    invalid(&err, &["namespace", "at most 80"]);
    assert!(img.get_metadef_namespace(&name).await.unwrap_err().is_not_found());
}

// ---- configuration -------------------------------------------------------------------

fn load(yaml: &str) -> Result<openstack_auth::CloudConfig, ConfigError> {
    let env = StaticEnvironment::default()
        .var("OS_CLIENT_CONFIG_FILE", "/etc/test/clouds.yaml")
        .file("/etc/test/clouds.yaml", yaml);
    ConfigLoader::new(env).load_cloud("c")
}

#[test]
fn clouds_yaml_that_is_not_yaml() {
    let err = load("clouds:\n  c:\n    auth: [unclosed\n").unwrap_err();
    assert!(matches!(err, ConfigError::Malformed { .. }), "{err:?}");
    assert!(err.to_string().contains("/etc/test/clouds.yaml"), "{err}");
}

#[test]
fn clouds_yaml_without_auth_url() {
    let err = load("clouds:\n  c:\n    auth:\n      username: u\n      password: p\n").unwrap_err();
    assert!(
        matches!(&err, ConfigError::MissingKey { key, .. } if key.contains("auth_url")),
        "{err:?}"
    );
}

#[test]
fn clouds_yaml_with_an_unknown_auth_type() {
    let err =
        load("clouds:\n  c:\n    auth_type: kerberos\n    auth:\n      auth_url: http://k/v3\n")
            .unwrap_err();
    assert!(err.to_string().contains("kerberos") && err.to_string().contains("password"), "{err}");
}

#[test]
fn clouds_yaml_with_an_unknown_interface() {
    let yaml = "clouds:\n  c:\n    interface: sideways\n    auth:\n      auth_url: http://k/v3\n      token: t\n    auth_type: token\n";
    let err = load(yaml).unwrap_err();
    assert!(matches!(&err, ConfigError::InvalidValue { key, .. } if key == "interface"), "{err:?}");
    assert!(err.to_string().contains("sideways"), "{err}");
}

#[tokio::test]
async fn unknown_region() {
    let mut cfg = cloud(ADMIN);
    cfg.region_name = Some("RegionNine".into());
    let err = Session::new(cfg).unwrap().endpoint("image").await.unwrap_err();
    let Error::EndpointNotFound { region, available, .. } = &err else { panic!("{err:?}") };
    assert_eq!(region, "RegionNine");
    assert!(available.contains("RegionOne"), "says what exists: {available}");
}

#[tokio::test]
async fn interface_the_catalog_lacks_in_a_region() {
    let mut cfg = cloud(ADMIN);
    cfg.region_name = Some("RegionTwo".into());
    cfg.interface = Interface::Admin;
    let err = Session::new(cfg).unwrap().endpoint("image").await.unwrap_err();
    let Error::EndpointNotFound { interface, available, .. } = &err else { panic!("{err:?}") };
    assert_eq!(interface, "admin");
    assert!(available.contains("public@RegionTwo"), "{available}");
}

#[tokio::test]
async fn a_call_newer_than_the_pinned_api_version() {
    // `image_api_version: '2.5'` pins the version; import info needs 2.6.
    let mut cfg = cloud(ADMIN);
    cfg.api_versions.insert("image".into(), "2.5".into());
    let img = ImageProxy::new(Session::new(cfg).unwrap());
    let err = img.get_import_info().await.unwrap_err();
    let Error::Unsupported { needs_version, available, pinned, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((needs_version.to_string(), available.to_string()), ("2.6".into(), "2.5".into()));
    assert!(pinned, "2.5 is the configuration's pin, not the server's limit");
    assert!(err.to_string().contains("the configuration pins API version 2.5"), "{err}");
    // Older calls still work on the pinned version.
    img.get_image_schema().await.unwrap();
}
