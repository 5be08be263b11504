//! Lists: a lazy stream following next links in any of the usual formats, with a loop
//! guard, a page size and a cap on items; `find` by id or name on top.

use std::collections::{HashSet, VecDeque};

use futures_util::{Stream, StreamExt, TryStreamExt};
use http::HeaderMap;
use openstack_auth::{Error, Result, Session};
use serde_json::Value;

use crate::api::{Api, ListOptions, decode, send_json};
use crate::request::{self, PreparedRequest, Query};
use crate::resource::{Get, List};

/// The next-page link of a list response: Glance's top-level `next`, Keystone's
/// `links.next`, `<key>_links` with `rel: next`, or an RFC 8288 `Link` header.
pub(crate) fn next_link(body: &Value, list_key: &str, headers: &HeaderMap) -> Option<String> {
    if let Some(s) = body.get("next").and_then(Value::as_str) {
        return Some(s.to_string());
    }
    if let Some(s) = body.get("links").and_then(|l| l.get("next")).and_then(Value::as_str) {
        return Some(s.to_string());
    }
    for key in [format!("{list_key}_links"), "links".to_string()] {
        if let Some(arr) = body.get(&key).and_then(Value::as_array) {
            for l in arr {
                if l.get("rel").and_then(Value::as_str) == Some("next") {
                    if let Some(h) = l.get("href").and_then(Value::as_str) {
                        return Some(h.to_string());
                    }
                }
            }
        }
    }
    for v in headers.get_all(http::header::LINK) {
        let Ok(s) = v.to_str() else { continue };
        for part in s.split(',') {
            let mut pieces = part.split(';');
            let target = pieces.next().unwrap_or("").trim();
            if pieces.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=next" || p == "rel=\"next\""
            }) {
                return Some(target.trim_start_matches('<').trim_end_matches('>').to_string());
            }
        }
    }
    None
}

/// Turns a next link into what the session accepts (an absolute URL, or a path from the
/// service root), keeping the server's query parameters rather than growing the URL.
fn next_request(link: &str, base_path: &str) -> String {
    if link.starts_with("http://") || link.starts_with("https://") || link.starts_with('/') {
        return link.to_string();
    }
    // A relative link (rare): resolve against the collection.
    match link.strip_prefix('?') {
        Some(q) => format!("{base_path}?{q}"),
        None => format!("{base_path}/{link}"),
    }
}

struct Pager {
    session: Session,
    next: Option<String>,
    buffer: VecDeque<Value>,
    seen_links: HashSet<String>,
    yielded: usize,
    max_items: Option<usize>,
    /// An error to report once the items already received are out.
    pending: Option<Error>,
}

impl<R: List> Api<R> {
    /// A lazy stream over the collection, following next links page by page.
    ///
    /// The query is validated before anything is sent (the error is the stream's first
    /// item). A next link seen twice ends the stream with an error instead of looping.
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
    /// use futures_util::TryStreamExt;
    /// let projects = Api::<Project>::new(session, ());
    /// let query = Query::new().param("enabled", "true");
    /// let mut pages = std::pin::pin!(projects.list(&query, &ListOptions::default()));
    /// while let Some(p) = pages.try_next().await? {
    ///     println!("{}", p.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list(
        &self,
        query: &Query,
        opts: &ListOptions,
    ) -> impl Stream<Item = Result<R>> + Send + 'static + use<R> {
        let mut query = query.clone();
        if let (Some(n), None) = (opts.page_size, query.get("limit")) {
            query = query.limit(n);
        }
        let first = request::list::<R>(&self.parent, &query).map(|r| r.path);
        let base_path = R::base_path(&self.parent);
        let pager = Pager {
            session: self.session.clone(),
            next: None,
            buffer: VecDeque::new(),
            seen_links: HashSet::new(),
            yielded: 0,
            max_items: opts.max_items,
            pending: None,
        };
        let start = match first {
            Ok(path) => Ok((pager, path)),
            Err(e) => Err(e),
        };
        futures_util::stream::unfold(Some(start), move |state| {
            let base_path = base_path.clone();
            async move {
                let (mut pager, first_path) = match state? {
                    Ok(s) => s,
                    Err(e) => return Some((Err(e), None)),
                };
                let mut to_fetch = if first_path.is_empty() { None } else { Some(first_path) };
                loop {
                    if pager.max_items.is_some_and(|m| pager.yielded >= m) {
                        return None;
                    }
                    if let Some(v) = pager.buffer.pop_front() {
                        pager.yielded += 1;
                        let item = decode::<R>(v);
                        return Some((item, Some(Ok((pager, String::new())))));
                    }
                    if let Some(e) = pager.pending.take() {
                        return Some((Err(e), None));
                    }
                    let path = match to_fetch.take().or_else(|| pager.next.take()) {
                        Some(p) => p,
                        None => return None,
                    };
                    let req = PreparedRequest::new(http::Method::GET, path);
                    match send_json(&pager.session, R::SERVICE_TYPE, req).await {
                        Ok((headers, body)) => {
                            let mut body = body;
                            let items = match R::list_items(&mut body) {
                                Some(a) => a,
                                None => {
                                    return Some((
                                        Err(Error::decode(
                                            base_path.clone(),
                                            format!("no {:?} list in the response", R::LIST_KEY),
                                        )),
                                        None,
                                    ));
                                }
                            };
                            let empty = items.is_empty();
                            pager.buffer.extend(items);
                            if let Some(link) = next_link(&body, R::LIST_KEY, &headers) {
                                if !pager.seen_links.insert(link.clone()) {
                                    // Items of this page first, then the error; never a loop.
                                    pager.pending = Some(Error::decode(
                                        link,
                                        "pagination loop: the server sent the same next link twice",
                                    ));
                                } else if !empty {
                                    pager.next = Some(next_request(&link, &base_path));
                                }
                            }
                        }
                        Err(e) => return Some((Err(e), None)),
                    }
                }
            }
        })
    }

    /// All items (following every page) in a `Vec`.
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
    /// let enabled = projects.list_all(&Query::new().param("enabled", "true")).await?;
    /// println!("{} enabled projects", enabled.len());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The first error of the stream.
    pub async fn list_all(&self, query: &Query) -> Result<Vec<R>> {
        self.list(query, &ListOptions::default()).try_collect().await
    }

    /// Gets by id, else lists by name; several matches are an error, not a guess.
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
    /// // By id, else by name; two projects of that name are `Error::Ambiguous`.
    /// let p = Api::<Project>::new(session, ()).find("team-a").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::ResourceNotFound`] when nothing matches, [`Error::Ambiguous`] listing the ids
    /// when several do.
    pub async fn find(&self, name_or_id: &str) -> Result<R>
    where
        R: Get,
    {
        self.find_opt(name_or_id)
            .await?
            .ok_or_else(|| Error::ResourceNotFound { kind: R::KIND, name: name_or_id.into() })
    }

    /// As [`Api::find`], but `None` when nothing matches.
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
    /// match Api::<Project>::new(session, ()).find_opt("team-a").await? {
    ///     Some(p) => println!("team-a is {}", p.id),
    ///     None => println!("no team-a"),
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Ambiguous`] and request errors.
    pub async fn find_opt(&self, name_or_id: &str) -> Result<Option<R>>
    where
        R: Get,
    {
        match self.get(name_or_id).await {
            Ok(r) => return Ok(Some(r)),
            // Glance answers 400 (not 404) for an id that is not a UUID.
            Err(e) if e.is_not_found() || e.is_bad_request() => {}
            Err(e) => return Err(e),
        }
        let Some(filter) = R::NAME_FILTER else {
            return Ok(None);
        };
        let mut q = Query::new().param(filter, name_or_id);
        for (k, v) in R::find_extra_query() {
            q = q.param(*k, *v);
        }
        let matches: Vec<R> = self
            .list(&q, &ListOptions::default())
            .try_filter(|r| {
                std::future::ready(r.name() == Some(name_or_id) || r.id() == name_or_id)
            })
            .try_collect()
            .await?;
        match matches.len() {
            0 => Ok(None),
            1 => Ok(matches.into_iter().next()),
            _ => Err(Error::Ambiguous {
                kind: R::KIND,
                name: name_or_id.into(),
                matches: matches.iter().map(|r| r.id().to_string()).collect(),
            }),
        }
    }

    /// Counts the items (all pages) — a convenience over [`Api::list`].
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
    /// let n = Api::<Project>::new(session, ()).count(&Query::new()).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The first error of the stream.
    pub async fn count(&self, query: &Query) -> Result<usize> {
        let mut n = 0;
        let mut s = std::pin::pin!(self.list(query, &ListOptions::default()));
        while let Some(r) = s.next().await {
            r?;
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn next_link_formats() {
        let h = HeaderMap::new();
        assert_eq!(
            next_link(&json!({"images": [], "next": "/v2/images?marker=x"}), "images", &h)
                .as_deref(),
            Some("/v2/images?marker=x")
        );
        assert_eq!(
            next_link(&json!({"projects": [], "links": {"next": "http://k/v3/projects?marker=y", "self": "s"}}), "projects", &h).as_deref(),
            Some("http://k/v3/projects?marker=y")
        );
        assert_eq!(
            next_link(&json!({"projects": [], "links": {"next": null}}), "projects", &h),
            None
        );
        assert_eq!(
            next_link(&json!({"servers": [], "servers_links": [{"rel": "next", "href": "http://n/servers?marker=z"}]}), "servers", &h).as_deref(),
            Some("http://n/servers?marker=z")
        );
        // RFC 8288 Link headers: only rel=next, quoted or not, whatever comes first.
        let from_header = |link: &str| {
            let mut h = HeaderMap::new();
            h.insert(http::header::LINK, link.parse().unwrap());
            next_link(&json!({"things": []}), "things", &h)
        };
        assert_eq!(
            from_header(
                "<http://s/things?page=2>; rel=\"next\", <http://s/things?page=9>; rel=\"last\""
            )
            .as_deref(),
            Some("http://s/things?page=2")
        );
        assert_eq!(
            from_header(
                "<http://s/things?page=1>; rel=\"prev\", <http://s/things?page=3>; rel = next"
            )
            .as_deref(),
            Some("http://s/things?page=3")
        );
        assert_eq!(from_header("<http://s/things?page=1>; rel=prev"), None);
    }

    #[test]
    fn relative_next_links() {
        assert_eq!(next_request("/v2/images?marker=a", "/v2/images"), "/v2/images?marker=a");
        assert_eq!(next_request("?marker=a", "/v2/images"), "/v2/images?marker=a");
        assert_eq!(next_request("page2", "/v1/things"), "/v1/things/page2");
        // Absolute links are followed as they are.
        for link in ["http://g:9292/v2/images?marker=a", "https://g/v2/images?marker=a"] {
            assert_eq!(next_request(link, "/v2/images"), link);
        }
    }
}
