//! Tasks: list, get, the legacy import task, waiting for success and failure.

use std::time::Duration;

use futures_util::TryStreamExt;
use openstack_image::{Task, TaskStatus, WaitOptions};
use openstack_resource::Error;
use openstack_tests::{ADMIN, data, image, unique, www};
use serde_json::json;

#[tokio::test]
async fn legacy_import_task_succeeds_and_is_listed() {
    let img = image(ADMIN);
    let (dir, url) = www();
    let file = format!("{}.raw", unique("task"));
    let bytes = data(30_000, 31);
    std::fs::write(dir.join(&file), &bytes).unwrap();
    let name = unique("taskimg");
    let task = img
        .create_task(
            "import",
            json!({
                "import_from": format!("{url}/{file}"),
                "import_from_format": "raw",
                "image_properties": {"name": name, "disk_format": "raw", "container_format": "bare"}
            }),
        )
        .await
        .unwrap();
    assert_eq!(task.task_type, "import");
    let done = img
        .wait_for_task(&task)
        .wait(WaitOptions::fixed(Duration::from_millis(500), Duration::from_secs(120)))
        .await
        .unwrap();
    assert_eq!(done.status, TaskStatus::Success);
    let image_id = done
        .result
        .as_ref()
        .and_then(|r| r["image_id"].as_str())
        .expect("result names the image")
        .to_string();
    // The task made the image it names, with the file's bytes.
    let made = img.get_image(&image_id).await.unwrap();
    assert_eq!(made.name.as_deref(), Some(name.as_str()));
    assert_eq!(made.status, openstack_image::ImageStatus::Active);
    assert_eq!(made.size, Some(bytes.len() as u64));
    assert_eq!(img.download_image(&made).to_bytes().await.unwrap().as_ref(), &bytes[..]);
    assert_eq!(img.get_task(&task.id).await.unwrap().id, task.id);
    let listed: Vec<Task> = img
        .tasks(&openstack_image::TaskQuery::new().task_type("import"))
        .try_collect()
        .await
        .unwrap();
    assert!(listed.iter().any(|t| t.id == task.id));
    img.delete_image_opt(&image_id).await.unwrap();
    std::fs::remove_file(dir.join(&file)).unwrap();
}

#[tokio::test]
async fn a_failing_task_is_failed_with_its_message() {
    let img = image(ADMIN);
    let (_, url) = www();
    let name = unique("failimg");
    let task = img
        .create_task(
            "import",
            json!({
                "import_from": format!("{url}/{}.raw", unique("missing")),
                "import_from_format": "raw",
                "image_properties": {"name": name, "disk_format": "raw", "container_format": "bare"}
            }),
        )
        .await
        .unwrap();
    let err = img
        .wait_for_task(&task)
        .wait(WaitOptions::fixed(Duration::from_millis(500), Duration::from_secs(120)))
        .await
        .unwrap_err();
    // What the error names is what Glance recorded on the task, verbatim.
    let recorded = img.get_task(&task.id).await.unwrap();
    assert_eq!(recorded.status, TaskStatus::Failure);
    match &err {
        Error::Failed { what, status, message } => {
            assert!(what.contains(&task.id), "names the task: {what}");
            assert_eq!(status, "failure");
            assert!(!message.is_empty());
            assert_eq!(message, &recorded.message, "the task's own message");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    // Nothing usable was made; whatever record the task left is removed.
    if let Some(left) = img.find_image_opt(&name).await.unwrap() {
        assert_ne!(left.status, openstack_image::ImageStatus::Active, "{left:?}");
        img.delete_image_opt(&left).await.unwrap();
    }
}

#[tokio::test]
async fn unknown_task_is_not_found_and_waiting_times_out() {
    let img = image(ADMIN);
    assert!(img.get_task("00000000-0000-0000-0000-000000000000").await.unwrap_err().is_not_found());
    // With no failure statuses and a tiny wait, the waiter gives up with the last status.
    let (_, url) = www();
    let task = img
        .create_task(
            "import",
            json!({"import_from": format!("{url}/{}.raw", unique("never")), "import_from_format": "raw",
                   "image_properties": {"name": unique("t"), "disk_format": "raw", "container_format": "bare"}}),
        )
        .await
        .unwrap();
    let result = img
        .wait_for_task(&task)
        .status(TaskStatus::Success)
        .failures([])
        .wait(WaitOptions::fixed(Duration::from_millis(100), Duration::from_millis(150)))
        .await;
    match result {
        Err(Error::Timeout { what, .. }) => assert!(what.contains("last status"), "{what}"),
        other => panic!("expected Timeout, got {other:?}"),
    }
}
