//! Image records: create, get, find, list with filters, update, tags, actions, delete.

use std::future::IntoFuture;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use openstack_image::{
    Compare, ContainerFormat, DiskFormat, Image, ImageQuery, ImageStatus, SortDir, TaskStatus,
    Visibility, WaitOptions,
};
use openstack_resource::{Error, Query};
use openstack_tests::{ADMIN, DEMO, image, unique};
use serde_json::json;

#[tokio::test]
async fn create_record_get_find_update_tags_delete() {
    let img = image(ADMIN);
    let name = unique("record");
    let created = img
        .create_image(&name)
        .disk_format(DiskFormat::Raw)
        .container_format(ContainerFormat::Bare)
        .tags(["one", "two"])
        .property("custom", "x")
        .min_ram(64)
        .await
        .unwrap();
    assert_eq!(created.status, ImageStatus::Queued);
    assert_eq!(created.name.as_deref(), Some(name.as_str()));
    assert_eq!(created.property("custom"), Some("x"));
    assert_eq!(
        created.property("owner_specified.openstack.object"),
        Some(format!("images/{name}").as_str())
    );
    assert_eq!(created.min_ram, 64);

    assert_eq!(img.get_image(&created.id).await.unwrap().id, created.id);
    assert_eq!(img.get_image(&created).await.unwrap().id, created.id);
    // Every call is a 'static future: it can be spawned (it owns a clone of the proxy).
    let spawned = tokio::spawn(img.get_image(&created));
    assert_eq!(spawned.await.unwrap().unwrap().id, created.id);
    let listed = tokio::spawn(img.images(&ImageQuery::new().name(&name)).try_collect::<Vec<_>>());
    assert_eq!(listed.await.unwrap().unwrap().len(), 1);
    assert_eq!(img.find_image(&name).await.unwrap().id, created.id);
    assert_eq!(img.find_image(&created.id).await.unwrap().id, created.id);
    assert!(img.find_image_opt(&unique("nothing")).await.unwrap().is_none());
    assert_eq!(img.get_image_opt(&created).await.unwrap().map(|i| i.id), Some(created.id.clone()));
    assert!(
        img.get_image_opt("00000000-0000-0000-0000-000000000000").await.unwrap().is_none(),
        "a missing image is None, not an error"
    );
    assert!(img.find_image(&unique("nothing")).await.unwrap_err().is_not_found());

    // Update: only what changed is sent; read-only fields are refused locally.
    let mut changed = created.image.clone();
    changed.name = Some(format!("{name}-renamed"));
    changed.properties.insert("custom_key".into(), json!("v"));
    changed.properties.remove("custom");
    changed.min_disk = 2;
    let updated = img.update_image(&created, &changed).await.unwrap();
    assert_eq!(updated.name, changed.name);
    assert_eq!(updated.property("custom_key"), Some("v"));
    assert_eq!(updated.property("custom"), None);
    assert_eq!(updated.min_disk, 2);
    let mut bad = updated.clone();
    bad.size = Some(1);
    assert!(matches!(
        img.update_image(&updated, &bad).await.unwrap_err(),
        Error::InvalidArgument(_)
    ));
    let updated =
        img.update_image_with(&updated, |i| i.visibility = Visibility::Private).await.unwrap();
    assert_eq!(updated.visibility, Visibility::Private);

    img.add_tag(&updated, "three").await.unwrap();
    img.remove_tag(&updated.id, "one").await.unwrap();
    let tags = img.get_image(&updated.id).await.unwrap().tags;
    assert!(tags.contains(&"three".to_string()) && !tags.contains(&"one".to_string()), "{tags:?}");
    assert!(img.remove_tag(&updated.id, "never-there").await.unwrap_err().is_not_found());
    assert!(matches!(img.add_tag(&updated.id, "").await.unwrap_err(), Error::InvalidArgument(_)));

    // The delete waiter waits while the image is there (the proxy sees it poll), and ends
    // once it is gone.
    let proxy = openstack_tests::faults::start(openstack_tests::faults::Fault::None).await;
    let watched = openstack_tests::faults::through(&proxy, None);
    let waiter = tokio::spawn(
        watched
            .wait_for_delete(&updated.id)
            .wait(WaitOptions::fixed(Duration::from_millis(100), Duration::from_secs(120)))
            .into_future(),
    );
    let polls = || proxy.state.seen("GET", &format!("/v2/images/{}", updated.id));
    let started = std::time::Instant::now();
    while polls() < 2 {
        assert!(started.elapsed() < Duration::from_secs(120), "the waiter never polled twice");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!waiter.is_finished(), "still waiting: the image is there");
    img.delete_image(&updated).await.unwrap();
    waiter.await.unwrap().unwrap();
    assert!(polls() >= 3, "polled while it existed, then saw it gone");
    assert!(img.delete_image_opt(&updated.id).await.unwrap().is_none());
    assert!(img.delete_image(&updated.id).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn a_name_with_two_images_is_ambiguous() {
    let img = image(ADMIN);
    let name = unique("twin");
    let a = img.create_image(&name).disk_format(DiskFormat::Raw).await.unwrap();
    let b = img.create_image(&name).disk_format(DiskFormat::Raw).await.unwrap();
    let err = img.find_image(&name).await.unwrap_err();
    match &err {
        Error::Ambiguous { matches, .. } => {
            assert!(matches.contains(&a.id) && matches.contains(&b.id))
        }
        other => panic!("expected Ambiguous, got {other:?}"),
    }
    img.delete_image(&a).await.unwrap();
    img.delete_image(&b).await.unwrap();
}

#[tokio::test]
async fn hidden_images_are_found() {
    let img = image(ADMIN);
    let name = unique("hidden");
    let h = img.create_image(&name).disk_format(DiskFormat::Raw).os_hidden(true).await.unwrap();
    assert!(h.os_hidden);
    let listed: Vec<Image> = img
        .images(&ImageQuery::from(Query::new().param("name", &name)))
        .try_collect()
        .await
        .unwrap();
    assert!(listed.is_empty(), "hidden images are not listed by default");
    assert_eq!(img.find_image(&name).await.unwrap().id, h.id);
    img.delete_image(&h).await.unwrap();
}

#[tokio::test]
async fn list_filters_and_pagination_across_pages() {
    let img = image(ADMIN);
    let tag = unique("tag");
    let mut ids = Vec::new();
    for i in 0..7 {
        let created = img
            .create_image(unique(&format!("page{i}")))
            .disk_format(DiskFormat::Raw)
            .tags([tag.clone()])
            .min_disk(i)
            .await
            .unwrap();
        ids.push(created.image.id);
    }
    // Page size 2 → 4 pages, following Glance's `next` links.
    let listed: Vec<Image> = img
        .images(&ImageQuery::new().tag(&tag).sort("created_at", SortDir::Asc).page_size(2))
        .try_collect()
        .await
        .unwrap();
    let mut got: Vec<String> = listed.iter().map(|i| i.id.clone()).collect();
    got.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(got, want);
    // Watched through a forwarding proxy: page size 2 is sent on every page (4 requests for 7
    // images), and take(3) fetches two pages of two, not four.
    let proxy = openstack_tests::faults::start(openstack_tests::faults::Fault::None).await;
    let watched = openstack_tests::faults::through(&proxy, None);
    let pages = || -> Vec<String> {
        let seen = proxy.state.requests.lock().unwrap().clone();
        seen.into_iter().filter(|r| r.starts_with("GET /v2/images?")).collect()
    };
    let all: Vec<Image> =
        watched.images(&ImageQuery::new().tag(&tag).page_size(2)).try_collect().await.unwrap();
    assert_eq!(all.len(), 7);
    let seen = pages();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(seen.iter().all(|r| r.contains("limit=2")), "{seen:?}");
    assert!(seen[1..].iter().all(|r| r.contains("marker=")), "{seen:?}");
    let capped: Vec<Image> = watched
        .images(&ImageQuery::new().tag(&tag).page_size(2))
        .take(3)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(capped.len(), 3);
    assert_eq!(pages().len(), 4 + 2, "take(3) stops after two pages");
    // Other filters.
    let queued: Vec<Image> = img
        .images(&ImageQuery::new().tag(&tag).status(ImageStatus::Queued))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(queued.len(), 7);
    let sorted: Vec<Image> = img
        .images(&ImageQuery::new().tag(&tag).sort("name", SortDir::Desc))
        .try_collect()
        .await
        .unwrap();
    let names: Vec<_> = sorted.iter().map(|i| i.name.clone().unwrap()).collect();
    let mut desc = names.clone();
    desc.sort();
    desc.reverse();
    assert_eq!(names, desc);
    let recent: Vec<Image> = img
        .images(
            &ImageQuery::new()
                .tag(&tag)
                .created_at(Compare::Gte, "2000-01-01T00:00:00Z")
                .visibility(Visibility::Shared),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(recent.len(), 7);
    // A future date matches none; disk formats filter; no image of the set is hidden.
    let none: Vec<Image> = img
        .images(&ImageQuery::new().tag(&tag).created_at(Compare::Gt, "2999-01-01T00:00:00Z"))
        .try_collect()
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
    let raw: Vec<Image> = img
        .images(&ImageQuery::new().tag(&tag).disk_format(DiskFormat::Raw))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(raw.len(), 7);
    let qcow: Vec<Image> = img
        .images(&ImageQuery::new().tag(&tag).disk_format(DiskFormat::Qcow2))
        .try_collect()
        .await
        .unwrap();
    assert!(qcow.is_empty(), "{qcow:?}");
    let hidden: Vec<Image> =
        img.images(&ImageQuery::new().tag(&tag).hidden(true)).try_collect().await.unwrap();
    assert!(hidden.is_empty(), "none of them is hidden");
    // Unknown filters fail before any request.
    let err = img
        .images(&ImageQuery::from(Query::new().param("colour", "red")))
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    for id in ids {
        img.delete_image(&id).await.unwrap();
    }
}

#[tokio::test]
async fn demo_user_sees_own_images_not_admins_private_ones() {
    let admin = image(ADMIN);
    let demo = image(DEMO);
    let private = admin
        .create_image(unique("private"))
        .visibility(Visibility::Private)
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap();
    assert!(demo.get_image(&private.id).await.unwrap_err().is_not_found());
    let mine = demo.create_image(unique("mine")).disk_format(DiskFormat::Raw).await.unwrap();
    assert_eq!(demo.get_image(&mine.id).await.unwrap().id, mine.id);
    demo.delete_image(&mine).await.unwrap();
    admin.delete_image(&private).await.unwrap();
}

#[tokio::test]
async fn bad_formats_are_refused_before_anything_is_created() {
    let img = image(ADMIN);
    let name = unique("badformat");
    let err = img.create_image(&name).disk_format("floppy").await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m.contains("floppy") && m.contains("qcow2")),
        "{err}"
    );
    let err = img.create_image(&name).container_format("crate").await.unwrap_err();
    assert!(matches!(&err, Error::InvalidArgument(m) if m.contains("crate")), "{err}");
    assert!(img.find_image_opt(&name).await.unwrap().is_none(), "nothing was created");
}

#[tokio::test]
async fn wait_for_status_reports_each_poll_and_times_out_with_the_last_state() {
    use std::sync::{Arc, Mutex};
    // The image has no data, so it stays queued: the wait must time out, however fast or
    // slow Glance answers. Every poll that got an answer is reported (the proxy counts the
    // polls; the last one may be cut by the deadline).
    let proxy = openstack_tests::faults::start(openstack_tests::faults::Fault::None).await;
    let img = openstack_tests::faults::through(&proxy, None);
    let rec = img.create_image(unique("wait")).disk_format(DiskFormat::Raw).await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let opts =
        openstack_resource::WaitOptions::fixed(Duration::from_millis(300), Duration::from_secs(3))
            .on_poll(move |status| s.lock().unwrap().push(status.to_string()));
    let before = proxy.state.seen("GET", &format!("/v2/images/{}", rec.id));
    let err = img.wait_for_status(&rec, ImageStatus::Active).wait(opts.clone()).await.unwrap_err();
    let polls = proxy.state.seen("GET", &format!("/v2/images/{}", rec.id)) - before;
    let seen = seen.lock().unwrap().clone();
    match &err {
        Error::Timeout { what, .. } if !seen.is_empty() => {
            assert!(what.contains("last status: queued"), "{what}")
        }
        Error::Timeout { what, .. } => assert!(what.contains("last status: unknown"), "{what}"),
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(polls >= 1 && (polls == seen.len() || polls == seen.len() + 1), "{polls} {seen:?}");
    assert!(seen.iter().all(|s| s == "queued"), "{seen:?}");
    // A status listed as a failure ends the wait at once.
    let err = img
        .wait_for_status(&rec, ImageStatus::Active)
        .failures([ImageStatus::Queued])
        .wait(opts.clone())
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Failed { status, .. } if status == "queued"), "{err}");
    // Reached immediately.
    let ok = img.wait_for_status(&rec.id, ImageStatus::Queued).wait(opts).await.unwrap();
    assert_eq!(ok.id, rec.id);
    img.delete_image(&rec).await.unwrap();
}

#[tokio::test]
async fn locations_are_added_and_listed() {
    let img = image(ADMIN);
    let (dir, url) = openstack_tests::www();
    let bytes = openstack_tests::data(20_000, 81);
    let file = format!("{}.raw", unique("loc"));
    std::fs::write(dir.join(&file), &bytes).unwrap();
    let rec = img.create_image(unique("loc")).disk_format(DiskFormat::Raw).await.unwrap();
    img.add_image_location(&rec, &format!("{url}/{file}")).await.unwrap();
    // Glance records the location from a background task (location_import): poll for it.
    let started = std::time::Instant::now();
    loop {
        let locations: Vec<_> = img.image_locations(&rec).try_collect().await.unwrap();
        if locations.iter().any(|l| l.url.ends_with(&file)) {
            break;
        }
        assert!(
            started.elapsed() < openstack_tests::trap::EVENT_WAIT,
            "location never appeared: {locations:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let active = img.wait_for_status(&rec, ImageStatus::Active).await.unwrap();
    assert_eq!(active.size, Some(bytes.len() as u64));
    // The image can be active while its location_import task is still finishing; a delete in
    // that window makes Glance try to cancel the task and fail with a 500 ("Operation file
    // ... does not exist, cannot cancel"): wait for the task to end first.
    let started = std::time::Instant::now();
    loop {
        let tasks: Vec<_> = img.image_tasks(&rec).try_collect().await.unwrap();
        let running: Vec<_> = tasks
            .iter()
            .filter(|t| matches!(t.status, TaskStatus::Pending | TaskStatus::Processing))
            .collect();
        if running.is_empty() {
            assert!(
                tasks.iter().all(|t| t.status == TaskStatus::Success),
                "the location import task failed: {tasks:?}"
            );
            break;
        }
        assert!(
            started.elapsed() < openstack_tests::trap::EVENT_WAIT,
            "the location import task never ended: {running:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    img.delete_image(&rec).await.unwrap();
    std::fs::remove_file(dir.join(&file)).unwrap();
}

#[tokio::test]
async fn usage_matches_glances_own_answer() {
    // Through the local cloud's second Glance, which runs with unified limits (registered in
    // Keystone by `cloud up`), so /v2/info/usage has real numbers. Limits are compared with a
    // raw GET exactly; usage moves with the tests running beside this one (the two Glances
    // share one database), so it is checked against what this test holds while it asks.
    let img = image(openstack_tests::LIMITS);
    let held = img
        .create_image(unique("usage"))
        .data(openstack_tests::data(3 << 20, 82))
        .disk_format(DiskFormat::Raw)
        .await
        .unwrap();
    let usage = img.get_usage().await.unwrap();
    let session = openstack_tests::session(openstack_tests::LIMITS);
    let req =
        http::Request::get("/v2/info/usage").body(openstack_auth::RequestBody::empty()).unwrap();
    let raw = session.request("image", req).await.unwrap();
    let body = http_body_util::BodyExt::collect(raw.into_body()).await.unwrap().to_bytes();
    let raw: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let raw = raw["usage"].as_object().expect("a usage object").clone();
    assert!(!raw.is_empty(), "Glance reports no usage: are unified limits on?");
    let keys: Vec<&String> = usage.usage.keys().collect();
    let raw_keys: Vec<&String> = raw.keys().collect();
    assert_eq!(keys, raw_keys);
    for (name, entry) in &usage.usage {
        assert_eq!(Some(entry.limit), raw[name]["limit"].as_i64(), "{name}");
    }
    assert_eq!(usage.usage["image_count_total"].limit, 100_000);
    assert!(usage.usage["image_count_total"].usage >= 1, "{usage:?}");
    assert!(usage.usage["image_size_total"].usage >= 3, "MiB held by this test: {usage:?}");
    img.delete_image(&held).await.unwrap();
}
