//! The resource framework reused for a second service: Keystone projects and regions,
//! defined here in a few lines each and driven against the real Keystone.

use futures_util::TryStreamExt;
use openstack_resource::{
    Api, Create, Delete, Error, Get, List, ListOptions, Query, Resource, Update, UpdateStrategy,
};
use openstack_tests::{ADMIN, session, unique};
use serde::{Deserialize, Serialize};

/// A Keystone project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Project {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    id: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    domain_id: Option<String>,
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

fn yes() -> bool {
    true
}

impl Resource for Project {
    const SERVICE_TYPE: &'static str = "identity";
    const KIND: &'static str = "project";
    const RESOURCE_KEY: Option<&'static str> = Some("project");
    const LIST_KEY: &'static str = "projects";
    const UPDATE: UpdateStrategy = UpdateStrategy::MergePatch;
    const READ_ONLY: &'static [&'static str] =
        &["id", "links", "domain_id", "is_domain", "parent_id", "options"];
    type Parent = ();
    fn base_path(_: &()) -> String {
        "/v3/projects".into()
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
}
impl Get for Project {}
impl List for Project {}
impl Create for Project {
    type Create = Project;
}
impl Update for Project {}
impl Delete for Project {}

/// A Keystone region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Region {
    id: String,
    #[serde(default)]
    description: String,
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

impl Resource for Region {
    const SERVICE_TYPE: &'static str = "identity";
    const KIND: &'static str = "region";
    const RESOURCE_KEY: Option<&'static str> = Some("region");
    const LIST_KEY: &'static str = "regions";
    const READ_ONLY: &'static [&'static str] = &["id", "links", "parent_region_id"];
    const NAME_FILTER: Option<&'static str> = None;
    type Parent = ();
    fn base_path(_: &()) -> String {
        "/v3/regions".into()
    }
    fn id(&self) -> &str {
        &self.id
    }
}
impl Get for Region {}
impl List for Region {}

fn new_project(name: &str) -> Project {
    Project {
        id: String::new(),
        name: name.into(),
        description: "created by the openstack-rs tests".into(),
        enabled: true,
        domain_id: Some("default".into()),
        extra: Default::default(),
    }
}

#[tokio::test]
async fn keystone_projects_crud_find_and_update() {
    let projects = Api::<Project>::new(session(ADMIN), ());
    let name = unique("project");
    let created = projects.create(&new_project(&name)).await.unwrap();
    assert_eq!(created.name, name);
    assert!(!created.id.is_empty());

    let got = projects.get(&created.id).await.unwrap();
    assert_eq!(got.id, created.id);
    assert_eq!(projects.find(&name).await.unwrap().id, created.id);
    assert_eq!(projects.find(&created.id).await.unwrap().id, created.id);
    assert!(projects.find_opt(&unique("absent")).await.unwrap().is_none());

    let mut changed = got.clone();
    changed.description = "changed".into();
    changed.extra.insert("custom_key".into(), "v".into());
    let updated = projects.update(&got, &changed).await.unwrap();
    assert_eq!(updated.description, "changed");
    assert_eq!(updated.extra.get("custom_key").and_then(|v| v.as_str()), Some("v"));

    // Changing a read-only field is refused before anything is sent.
    let mut bad = updated.clone();
    bad.domain_id = Some("other".into());
    let err = projects.update(&updated, &bad).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");

    // Disable, then delete; a second delete is NotFound, or false with ignore-missing.
    let mut disabled = updated.clone();
    disabled.enabled = false;
    let disabled = projects.update(&updated, &disabled).await.unwrap();
    assert!(!disabled.enabled);
    // The delete waiter waits while the project exists (it says so on every poll), and
    // ends once it is gone.
    let polls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = polls.clone();
    let opts = openstack_resource::WaitOptions::fixed(
        std::time::Duration::from_millis(100),
        std::time::Duration::from_secs(120),
    )
    .on_poll(move |state| {
        assert_eq!(state, "exists");
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    let waiter = {
        let (projects, id) = (projects.clone(), created.id.clone());
        tokio::spawn(async move { projects.wait_for_delete(&id, &opts).await })
    };
    let started = std::time::Instant::now();
    while polls.load(std::sync::atomic::Ordering::SeqCst) < 2 {
        assert!(started.elapsed() < std::time::Duration::from_secs(120), "never polled twice");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!waiter.is_finished(), "still waiting while the project exists");
    projects.delete(&created.id).await.unwrap();
    waiter.await.unwrap().unwrap();
    assert!(projects.delete(&created.id).await.unwrap_err().is_not_found());
    assert!(projects.delete_opt(&created.id).await.unwrap().is_none());
}

#[tokio::test]
async fn keystone_find_by_duplicate_name_is_ambiguous() {
    let projects = Api::<Project>::new(session(ADMIN), ());
    // Project names are unique per domain, so make a second domain for the twin.
    let name = unique("twin");
    let a = projects.create(&new_project(&name)).await.unwrap();
    let domain_id = create_domain(&unique("dom")).await;
    let mut twin = new_project(&name);
    twin.domain_id = Some(domain_id.clone());
    let b = projects.create(&twin).await.unwrap();
    let err = projects.find(&name).await.unwrap_err();
    match &err {
        Error::Ambiguous { matches, .. } => {
            assert!(matches.contains(&a.id) && matches.contains(&b.id), "{matches:?}");
        }
        other => panic!("expected Ambiguous, got {other:?}"),
    }
    projects.delete(&a.id).await.unwrap();
    projects.delete(&b.id).await.unwrap();
    delete_domain(&domain_id).await;
}

async fn create_domain(name: &str) -> String {
    let s = session(ADMIN);
    let req = openstack_resource::PreparedRequest::new(http::Method::POST, "/v3/domains")
        .with_json(serde_json::json!({"domain": {"name": name, "enabled": true}}));
    let (_, v) = openstack_resource::send_json(&s, "identity", req).await.unwrap();
    v["domain"]["id"].as_str().unwrap().to_string()
}

async fn delete_domain(id: &str) {
    let s = session(ADMIN);
    let req =
        openstack_resource::PreparedRequest::new(http::Method::PATCH, format!("/v3/domains/{id}"))
            .with_json(serde_json::json!({"domain": {"enabled": false}}));
    openstack_resource::send_json(&s, "identity", req).await.unwrap();
    let req =
        openstack_resource::PreparedRequest::new(http::Method::DELETE, format!("/v3/domains/{id}"));
    openstack_resource::send_json(&s, "identity", req).await.unwrap();
}

#[tokio::test]
async fn keystone_regions_list_and_get() {
    let regions = Api::<Region>::new(session(ADMIN), ());
    let all = regions.list_all(&Query::new()).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert!(ids.contains(&"RegionOne") && ids.contains(&"RegionTwo"), "{ids:?}");
    let two = regions.get("RegionTwo").await.unwrap();
    assert!(two.description.contains("Second region"), "{two:?}");
    // Regions cannot be filtered by name: find is get-by-id only.
    assert_eq!(regions.find("RegionOne").await.unwrap().id, "RegionOne");
    assert!(regions.find("RegionNowhere").await.unwrap_err().is_not_found());
    // max_items caps the stream.
    let one: Vec<Region> = regions
        .list(&Query::new(), &ListOptions::default().max_items(1))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
}
