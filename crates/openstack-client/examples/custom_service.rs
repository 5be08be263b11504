//! A second OpenStack service with the resource framework: Keystone projects in a few lines.

use futures_util::TryStreamExt;
use openstack_client::prelude::*;
use openstack_client::resource::{
    Create, Delete, Get, List, ListOptions, Resource, Update, UpdateStrategy,
};
use serde::{Deserialize, Serialize};

/// A Keystone project: a serde struct...
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Project {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    id: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

/// ...and one short impl.
impl Resource for Project {
    const SERVICE_TYPE: &'static str = "identity";
    const KIND: &'static str = "project";
    const RESOURCE_KEY: Option<&'static str> = Some("project");
    const LIST_KEY: &'static str = "projects";
    const UPDATE: UpdateStrategy = UpdateStrategy::MergePatch;
    const READ_ONLY: &'static [&'static str] =
        &["id", "links", "domain_id", "is_domain", "parent_id"];
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

#[tokio::main]
async fn main() -> openstack_client::Result<()> {
    let conn = Connection::from_env()?;
    let projects = Api::<Project>::new(conn.session().clone(), ());
    let all: Vec<Project> =
        projects.list(&Query::new(), &ListOptions::default()).try_collect().await?;
    for p in &all {
        println!("{} {}", p.id, p.name);
    }
    let created = projects
        .create(&Project {
            id: String::new(),
            name: "custom-service-example".into(),
            description: String::new(),
            extra: Default::default(),
        })
        .await?;
    let mut changed = created.clone();
    changed.description = "updated through the resource framework".into();
    let updated = projects.update(&created, &changed).await?;
    println!("{}: {}", updated.name, updated.description);
    projects.delete(&updated.id).await?;
    Ok(())
}
