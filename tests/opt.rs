//! Every `_opt` call: `Some` for what exists, `None` for what does not, the same answer at
//! every layer (`Api::get_opt`/`delete_opt` included).

use futures_util::TryStreamExt;
use openstack_image::{
    DiskFormat, ImportMethod, MetadefNamespace, MetadefObject, MetadefProperty, Task, WaitOptions,
};
use openstack_tests::{ADMIN, DEMO, data, image, unique};

const NONE: &str = "00000000-0000-0000-0000-000000000000";

#[tokio::test]
async fn member_task_and_tag_opts() {
    let img = image(ADMIN);
    let demo_project = match &image(DEMO).session().token().await.unwrap().unwrap().scope {
        openstack_auth::Scope::Project { id, .. } => id.clone(),
        other => panic!("{other:?}"),
    };
    let rec = img.create_image(unique("opt")).disk_format(DiskFormat::Raw).tags(["kept"]);
    let rec = rec.await.unwrap();
    assert!(img.get_member_opt(&rec, &demo_project).await.unwrap().is_none());
    img.add_member(&rec, &demo_project).await.unwrap();
    let m = img.get_member_opt(&rec, &demo_project).await.unwrap().expect("a member now");
    assert_eq!(m.member_id, demo_project);
    // Tags: removing one the image has, then one it does not have.
    assert_eq!(img.remove_tag_opt(&rec, "kept").await.unwrap(), Some(()));
    assert_eq!(img.remove_tag_opt(&rec, "kept").await.unwrap(), None);
    assert!(img.get_image(&rec.id).await.unwrap().tags.is_empty());
    // Tasks: the import's task, and one that does not exist.
    img.stage_image(&rec, data(10_000, 1)).await.unwrap();
    img.import_image(&rec, ImportMethod::GlanceDirect).wait(WaitOptions::default()).await.unwrap();
    let tasks: Vec<Task> = img.image_tasks(&rec.id).try_collect().await.unwrap();
    let task = img.get_task_opt(&tasks[0].id).await.unwrap().expect("the import task");
    assert_eq!(task.id, tasks[0].id);
    assert!(img.get_task_opt(NONE).await.unwrap().is_none());
    img.delete_image(&rec).await.unwrap();
}

#[tokio::test]
async fn metadef_opts() {
    let img = image(ADMIN);
    let ns = unique("optns").replace('-', "_");
    assert!(img.get_metadef_namespace_opt(ns.as_str()).await.unwrap().is_none());
    img.create_metadef_namespace(&MetadefNamespace::new(&ns)).await.unwrap();
    let got = img.get_metadef_namespace_opt(ns.as_str()).await.unwrap().expect("made");
    assert_eq!(got.namespace, ns);
    assert!(img.get_metadef_object_opt(ns.as_str(), "obj").await.unwrap().is_none());
    img.create_metadef_object(ns.as_str(), &MetadefObject::new("obj")).await.unwrap();
    assert!(img.get_metadef_object_opt(ns.as_str(), "obj").await.unwrap().is_some());
    assert!(img.get_metadef_property_opt(ns.as_str(), "prop").await.unwrap().is_none());
    let prop = MetadefProperty::new("prop", "A property", "string");
    img.create_metadef_property(ns.as_str(), &prop).await.unwrap();
    let p = img.get_metadef_property_opt(ns.as_str(), "prop").await.unwrap().expect("made");
    assert_eq!(p.name, "prop");
    assert!(img.get_metadef_tag_opt(ns.as_str(), "t").await.unwrap().is_none());
    img.create_metadef_tag(ns.as_str(), "t").await.unwrap();
    assert!(img.get_metadef_tag_opt(ns.as_str(), "t").await.unwrap().is_some());
    // Inside a namespace that does not exist: None as well.
    assert!(img.get_metadef_object_opt("osrs_no_such_ns", "obj").await.unwrap().is_none());
    assert_eq!(img.delete_metadef_namespace_opt(ns.as_str()).await.unwrap(), Some(()));
    assert_eq!(img.delete_metadef_namespace_opt(ns.as_str()).await.unwrap(), None);
}
