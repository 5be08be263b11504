//! The typed handle `Api<R>`: find/get/list/create/update/delete and waiters over a session.

use http::HeaderMap;
use openstack_auth::{Error, Result, Session};
use serde_json::Value;

use crate::request::{self, PreparedRequest};
use crate::resource::{Create, Delete, Get, Resource, Update};

/// A typed handle on one collection: `Api::<Image>::new(session, ())`.
#[derive(Debug, Clone)]
pub struct Api<R: Resource> {
    pub(crate) session: Session,
    pub(crate) parent: R::Parent,
}

/// How a list is paged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListOptions {
    /// Page size (`limit` sent to the server); `None` lets the server choose.
    pub page_size: Option<u32>,
    /// Stop after this many items in total.
    pub max_items: Option<usize>,
}

impl ListOptions {
    /// Asks for pages of `n` items (`limit`).
    ///
    /// ```
    /// let opts = openstack_resource::ListOptions::default().page_size(100).max_items(250);
    /// assert_eq!((opts.page_size, opts.max_items), (Some(100), Some(250)));
    /// ```
    #[must_use]
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n);
        self
    }

    /// Stops after `n` items in total.
    #[must_use]
    pub fn max_items(mut self, n: usize) -> Self {
        self.max_items = Some(n);
        self
    }
}

/// Sends a prepared request and decodes a JSON response (empty body → `Value::Null`).
///
/// # Errors
/// The session's errors.
pub async fn send_json(
    session: &Session,
    service_type: &str,
    req: PreparedRequest,
) -> Result<(HeaderMap, Value)> {
    let resp = session.request(service_type, req.into_http()?).await?;
    let headers = resp.headers().clone();
    let body = resp.into_body();
    let url = body.url().to_string();
    let bytes = body.bytes().await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok((headers, Value::Null));
    }
    let v = serde_json::from_slice(&bytes).map_err(|e| Error::decode(url, e))?;
    Ok((headers, v))
}

/// Decodes one resource from a body, unwrapping the resource key if the resource has one.
///
/// # Errors
/// [`Error::Decode`] when the body is not the resource.
pub fn decode<R: Resource>(v: Value) -> Result<R> {
    let inner = match R::RESOURCE_KEY {
        Some(k) => match v {
            Value::Object(mut m) if m.contains_key(k) => m.remove(k).unwrap_or(Value::Null),
            other => other,
        },
        None => v,
    };
    serde_json::from_value(inner).map_err(|e| Error::decode(format!("a {}", R::KIND), e))
}

impl<R: Resource> Api<R> {
    /// A handle on `R`'s collection under `parent` (`()` for top-level resources).
    ///
    /// ```no_run
    /// # use openstack_resource::*;
    /// # #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    /// # struct Project { #[serde(default)] id: String, name: String, #[serde(default)] enabled: bool }
    /// # impl Resource for Project {
    /// #     const SERVICE_TYPE: &'static str = "identity";
    /// #     const KIND: &'static str = "project";
    /// #     const RESOURCE_KEY: Option<&'static str> = Some("project");
    /// #     const LIST_KEY: &'static str = "projects";
    /// #     const READ_ONLY: &'static [&'static str] = &["id"];
    /// #     type Parent = ();
    /// #     fn base_path(_: &()) -> String { "/v3/projects".into() }
    /// #     fn id(&self) -> &str { &self.id }
    /// #     fn name(&self) -> Option<&str> { Some(&self.name) }
    /// # }
    /// # impl Get for Project {}
    /// # impl List for Project {}
    /// # impl Create for Project { type Create = Project; }
    /// # impl Update for Project {}
    /// # impl Delete for Project {}
    /// # async fn demo(session: openstack_auth::Session) -> openstack_auth::Result<()> {
    /// let projects: Api<Project> = Api::new(session, ());
    /// let p = projects.get("0123abcd").await?;
    /// # Ok(()) }
    /// ```
    pub fn new(session: Session, parent: R::Parent) -> Self {
        Api { session, parent }
    }

    /// The session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The parent this handle is scoped to.
    pub fn parent(&self) -> &R::Parent {
        &self.parent
    }

    /// Sends a prepared request to `R`'s service and decodes the JSON answer.
    ///
    /// # Errors
    /// The session's errors.
    pub async fn send(&self, req: PreparedRequest) -> Result<Value> {
        Ok(send_json(&self.session, R::SERVICE_TYPE, req).await?.1)
    }
}

impl<R: Get> Api<R> {
    /// Gets one by id.
    ///
    /// ```no_run
    /// # use openstack_resource::*;
    /// # #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    /// # struct Project { #[serde(default)] id: String, name: String, #[serde(default)] enabled: bool }
    /// # impl Resource for Project {
    /// #     const SERVICE_TYPE: &'static str = "identity";
    /// #     const KIND: &'static str = "project";
    /// #     const RESOURCE_KEY: Option<&'static str> = Some("project");
    /// #     const LIST_KEY: &'static str = "projects";
    /// #     const READ_ONLY: &'static [&'static str] = &["id"];
    /// #     type Parent = ();
    /// #     fn base_path(_: &()) -> String { "/v3/projects".into() }
    /// #     fn id(&self) -> &str { &self.id }
    /// #     fn name(&self) -> Option<&str> { Some(&self.name) }
    /// # }
    /// # impl Get for Project {}
    /// # impl List for Project {}
    /// # impl Create for Project { type Create = Project; }
    /// # impl Update for Project {}
    /// # impl Delete for Project {}
    /// # async fn demo(session: openstack_auth::Session) -> openstack_auth::Result<()> {
    /// let projects = Api::<Project>::new(session, ());
    /// let p = projects.get("0123abcd").await?;
    /// println!("{} is {}", p.id, p.name);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::NotFound`] when it does not exist.
    pub async fn get(&self, id: &str) -> Result<R> {
        decode(self.send(request::get::<R>(&self.parent, id)).await?)
    }

    /// Gets one by id, `None` when it does not exist.
    ///
    /// ```no_run
    /// # use openstack_resource::*;
    /// # #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    /// # struct Project { #[serde(default)] id: String, name: String, #[serde(default)] enabled: bool }
    /// # impl Resource for Project {
    /// #     const SERVICE_TYPE: &'static str = "identity";
    /// #     const KIND: &'static str = "project";
    /// #     const RESOURCE_KEY: Option<&'static str> = Some("project");
    /// #     const LIST_KEY: &'static str = "projects";
    /// #     const READ_ONLY: &'static [&'static str] = &["id"];
    /// #     type Parent = ();
    /// #     fn base_path(_: &()) -> String { "/v3/projects".into() }
    /// #     fn id(&self) -> &str { &self.id }
    /// #     fn name(&self) -> Option<&str> { Some(&self.name) }
    /// # }
    /// # impl Get for Project {}
    /// # impl List for Project {}
    /// # impl Create for Project { type Create = Project; }
    /// # impl Update for Project {}
    /// # impl Delete for Project {}
    /// # async fn demo(session: openstack_auth::Session) -> openstack_auth::Result<()> {
    /// let projects = Api::<Project>::new(session, ());
    /// if projects.get_opt("0123abcd").await?.is_none() {
    ///     println!("gone");
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Other errors than not-found.
    pub async fn get_opt(&self, id: &str) -> Result<Option<R>> {
        match self.get(id).await {
            Ok(r) => Ok(Some(r)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl<R: Create> Api<R> {
    /// Creates one.
    ///
    /// ```no_run
    /// # use openstack_resource::*;
    /// # #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    /// # struct Project { #[serde(default)] id: String, name: String, #[serde(default)] enabled: bool }
    /// # impl Resource for Project {
    /// #     const SERVICE_TYPE: &'static str = "identity";
    /// #     const KIND: &'static str = "project";
    /// #     const RESOURCE_KEY: Option<&'static str> = Some("project");
    /// #     const LIST_KEY: &'static str = "projects";
    /// #     const READ_ONLY: &'static [&'static str] = &["id"];
    /// #     type Parent = ();
    /// #     fn base_path(_: &()) -> String { "/v3/projects".into() }
    /// #     fn id(&self) -> &str { &self.id }
    /// #     fn name(&self) -> Option<&str> { Some(&self.name) }
    /// # }
    /// # impl Get for Project {}
    /// # impl List for Project {}
    /// # impl Create for Project { type Create = Project; }
    /// # impl Update for Project {}
    /// # impl Delete for Project {}
    /// # async fn demo(session: openstack_auth::Session) -> openstack_auth::Result<()> {
    /// let projects = Api::<Project>::new(session, ());
    /// let new = Project { id: String::new(), name: "team-a".into(), enabled: true };
    /// let made = projects.create(&new).await?;
    /// println!("created {}", made.id);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The server's errors (e.g. [`Error::Conflict`], [`Error::Forbidden`]).
    pub async fn create(&self, body: &R::Create) -> Result<R> {
        decode(self.send(request::create::<R>(&self.parent, body)?).await?)
    }
}

impl<R: Delete> Api<R> {
    /// Deletes one.
    ///
    /// ```no_run
    /// # use openstack_resource::*;
    /// # #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    /// # struct Project { #[serde(default)] id: String, name: String, #[serde(default)] enabled: bool }
    /// # impl Resource for Project {
    /// #     const SERVICE_TYPE: &'static str = "identity";
    /// #     const KIND: &'static str = "project";
    /// #     const RESOURCE_KEY: Option<&'static str> = Some("project");
    /// #     const LIST_KEY: &'static str = "projects";
    /// #     const READ_ONLY: &'static [&'static str] = &["id"];
    /// #     type Parent = ();
    /// #     fn base_path(_: &()) -> String { "/v3/projects".into() }
    /// #     fn id(&self) -> &str { &self.id }
    /// #     fn name(&self) -> Option<&str> { Some(&self.name) }
    /// # }
    /// # impl Get for Project {}
    /// # impl List for Project {}
    /// # impl Create for Project { type Create = Project; }
    /// # impl Update for Project {}
    /// # impl Delete for Project {}
    /// # async fn demo(session: openstack_auth::Session) -> openstack_auth::Result<()> {
    /// Api::<Project>::new(session, ()).delete("0123abcd").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::NotFound`] when it does not exist.
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.send(request::delete::<R>(&self.parent, id)).await.map(drop)
    }

    /// Deletes one; `Ok(None)` when it did not exist (`ignore_missing`). Every `_opt` of
    /// every layer answers `None` for "missing", as [`Api::get_opt`] does.
    ///
    /// ```no_run
    /// # use openstack_resource::*;
    /// # #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    /// # struct Project { #[serde(default)] id: String, name: String, #[serde(default)] enabled: bool }
    /// # impl Resource for Project {
    /// #     const SERVICE_TYPE: &'static str = "identity";
    /// #     const KIND: &'static str = "project";
    /// #     const RESOURCE_KEY: Option<&'static str> = Some("project");
    /// #     const LIST_KEY: &'static str = "projects";
    /// #     const READ_ONLY: &'static [&'static str] = &["id"];
    /// #     type Parent = ();
    /// #     fn base_path(_: &()) -> String { "/v3/projects".into() }
    /// #     fn id(&self) -> &str { &self.id }
    /// #     fn name(&self) -> Option<&str> { Some(&self.name) }
    /// # }
    /// # impl Get for Project {}
    /// # impl List for Project {}
    /// # impl Create for Project { type Create = Project; }
    /// # impl Update for Project {}
    /// # impl Delete for Project {}
    /// # async fn demo(session: openstack_auth::Session) -> openstack_auth::Result<()> {
    /// let deleted = Api::<Project>::new(session, ()).delete_opt("0123abcd").await?;
    /// println!("{}", if deleted.is_some() { "deleted" } else { "was not there" });
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Other errors than not-found.
    pub async fn delete_opt(&self, id: &str) -> Result<Option<()>> {
        match self.delete(id).await {
            Ok(()) => Ok(Some(())),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl<R: Update + Get> Api<R> {
    /// Updates `original` (as last fetched) into `changed`, sending only the difference.
    /// Returns the server's new state (`original` again when nothing changed).
    ///
    /// ```no_run
    /// # use openstack_resource::*;
    /// # #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    /// # struct Project { #[serde(default)] id: String, name: String, #[serde(default)] enabled: bool }
    /// # impl Resource for Project {
    /// #     const SERVICE_TYPE: &'static str = "identity";
    /// #     const KIND: &'static str = "project";
    /// #     const RESOURCE_KEY: Option<&'static str> = Some("project");
    /// #     const LIST_KEY: &'static str = "projects";
    /// #     const READ_ONLY: &'static [&'static str] = &["id"];
    /// #     type Parent = ();
    /// #     fn base_path(_: &()) -> String { "/v3/projects".into() }
    /// #     fn id(&self) -> &str { &self.id }
    /// #     fn name(&self) -> Option<&str> { Some(&self.name) }
    /// # }
    /// # impl Get for Project {}
    /// # impl List for Project {}
    /// # impl Create for Project { type Create = Project; }
    /// # impl Update for Project {}
    /// # impl Delete for Project {}
    /// # async fn demo(session: openstack_auth::Session) -> openstack_auth::Result<()> {
    /// let projects = Api::<Project>::new(session, ());
    /// let p = projects.find("team-a").await?;
    /// let mut changed = p.clone();
    /// changed.enabled = false;
    /// let now = projects.update(&p, &changed).await?; // sends only `enabled`
    /// assert!(!now.enabled);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when a read-only field changed; the server's errors.
    pub async fn update(&self, original: &R, changed: &R) -> Result<R> {
        match request::update::<R>(&self.parent, original, changed)? {
            None => Ok(original.clone()),
            Some(req) => {
                let v = self.send(req).await?;
                if v.is_null() { self.get(changed.id()).await } else { decode(v) }
            }
        }
    }
}
