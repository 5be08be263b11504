//! # openstack-resource
//!
//! A generic resource framework for OpenStack services, reusable far beyond images.
//! A resource is a plain serde struct plus a short [`Resource`] impl; what can be done with
//! it is declared by capability traits ([`Get`], [`List`], [`Create`], [`Update`],
//! [`Delete`]) and checked at compile time. [`Api<R>`] is the typed handle doing the I/O
//! through an [`openstack_auth::Session`]:
//!
//! * `get`, `find` (by id, else by name; several matches are [`Error::Ambiguous`]),
//! * `list` (a lazy stream following next links in any of the usual formats, with a
//!   loop guard, a page size and a cap on items),
//! * `create`, `delete` (with `*_opt` variants for "ignore missing"),
//! * `update` (an RFC 6902 JSON patch of only what changed, a merge PATCH or a PUT),
//! * `wait_for_status` / `wait_for_delete` (backoff, progress callback, transient errors).
//!
//! Requests are built without I/O in [`requests`], so URL, query and body logic is unit
//! tested without a server. Depends only on `openstack-auth`.
//!
//! ## How to add a service
//!
//! ```no_run
//! use openstack_resource::{Api, Create, Delete, Get, List, Query, Resource, Update, UpdateStrategy};
//! use serde::{Deserialize, Serialize};
//!
//! /// A Keystone project.
//! #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
//! pub struct Project {
//!     #[serde(default, skip_serializing_if = "String::is_empty")]
//!     pub id: String,
//!     pub name: String,
//!     #[serde(default)]
//!     pub description: String,
//!     #[serde(default = "yes")]
//!     pub enabled: bool,
//!     #[serde(default, skip_serializing_if = "Option::is_none")]
//!     pub domain_id: Option<String>,
//!     #[serde(flatten)]
//!     pub extra: serde_json::Map<String, serde_json::Value>,
//! }
//! fn yes() -> bool { true }
//!
//! impl Resource for Project {
//!     const SERVICE_TYPE: &'static str = "identity";
//!     const KIND: &'static str = "project";
//!     const RESOURCE_KEY: Option<&'static str> = Some("project");
//!     const LIST_KEY: &'static str = "projects";
//!     const UPDATE: UpdateStrategy = UpdateStrategy::MergePatch;
//!     const READ_ONLY: &'static [&'static str] = &["id", "links", "domain_id", "is_domain", "parent_id"];
//!     type Parent = ();
//!     fn base_path(_: &()) -> String { "/v3/projects".into() }
//!     fn id(&self) -> &str { &self.id }
//!     fn name(&self) -> Option<&str> { Some(&self.name) }
//! }
//! impl Get for Project {}
//! impl List for Project {}
//! impl Create for Project { type Create = Project; }
//! impl Update for Project {}
//! impl Delete for Project {}
//!
//! # async fn demo(session: openstack_auth::Session) -> openstack_auth::Result<()> {
//! let projects = Api::<Project>::new(session, ());
//! let demo = projects.find("demo").await?;
//! let mut changed = demo.clone();
//! changed.description = "updated".into();
//! let demo = projects.update(&demo, &changed).await?; // PATCH {"project": {"description": ...}}
//! let all: Vec<Project> = projects.list_all(&Query::new()).await?;
//! # let _ = (demo, all); Ok(()) }
//! ```

mod api;
mod list;
mod patch;
mod request;
mod resource;
mod wait;

pub use api::{Api, ListOptions, decode, send_json};
pub use openstack_auth::{Error, Result};
pub use request::{PreparedRequest, Query, encode_segment};
pub use resource::{Create, Delete, Get, HasStatus, List, Resource, Update, UpdateStrategy};
pub use wait::{PollCallback, Polled, WaitOptions, poll_until};

/// The requests of [`Api`], built without I/O: what a verb would send, to inspect in tests or
/// to send yourself with [`send_json`].
pub mod requests {
    pub use crate::request::{create, delete, get, list, update};
}

/// The README's examples are compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
