//! Commands over several images go on past a failure and say how many failed, in
//! openstackclient's words (its `image delete` and `cached image queue|delete`).

mod common;

use std::process::Command;

use common::osrs;
use openstack_client::image::DiskFormat;
use openstack_tests::{ADMIN, image, state_dir, unique};

fn openstack(args: &[&str]) -> std::process::Output {
    Command::new(state_dir().join("venv/bin/openstack"))
        .args(["--os-cloud", ADMIN])
        .args(args)
        .env("PYTHONWARNINGS", "ignore")
        .output()
        .expect("openstack runs")
}

#[tokio::test]
async fn delete_goes_on_past_a_failure_and_counts_the_failures_as_openstack() {
    let img = image(ADMIN);
    let make = |protected: bool| {
        img.create_image(unique("many")).disk_format(DiskFormat::Raw).protected(protected)
    };
    let (locked_a, locked_b) = (make(true).await.unwrap(), make(true).await.unwrap());
    let (free_a, free_b) = (make(false).await.unwrap(), make(false).await.unwrap());
    // The protected one first: the one after it is still deleted.
    let ours = osrs(ADMIN, &["image", "delete", &locked_a.id, &free_a.id]);
    let theirs = openstack(&["image", "delete", &locked_b.id, &free_b.id]);
    for (out, locked) in [(&ours, &locked_a), (&theirs, &locked_b)] {
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("Failed to delete 1 of 2 images."), "{err}");
        let line = format!("Failed to delete image with name or ID '{}'", locked.id);
        assert!(err.contains(&line), "{err}");
    }
    for free in [&free_a, &free_b] {
        assert!(img.get_image_opt(&free.id).await.unwrap().is_none(), "{} is still there", free.id);
    }
    // A name that matches nothing is one more failure, and the rest goes on (openstackclient
    // 10.5 stops there with "Multi Backend support not enabled.", a bug osrs does not copy).
    let missing = unique("no-such-image");
    let free_c = make(false).await.unwrap();
    let out = osrs(ADMIN, &["image", "delete", &missing, &free_c.id]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Failed to delete 1 of 2 images."), "{err}");
    assert!(img.get_image_opt(&free_c.id).await.unwrap().is_none());

    // Queueing for the cache: the same rule and counting (a missing image, then one Glance
    // refuses because it has no data: both tried, both reported).
    let out = osrs(ADMIN, &["cached", "image", "queue", &missing, &locked_a.id]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("Failed to queue image with name or ID '{}'", locked_a.id)));
    assert!(err.contains("Failed to queue 2 of 2 images"), "{err}");
    for locked in [&locked_a, &locked_b] {
        img.update_image_with(locked, |i| i.protected = false).await.unwrap();
        img.delete_image(locked).await.unwrap();
    }
}
