//! The typed handle `Api<R>`: find/get/list/create/update/delete and waiters over a session.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{Stream, StreamExt, TryStreamExt};
use http::HeaderMap;
use openstack_auth::{Error, Result, Session};
use serde_json::Value;

use crate::request::{self, PreparedRequest, Query};
use crate::resource::{Create, Delete, Get, HasStatus, List, Resource, Update};

/// A typed handle on one collection: `Api::<Image>::new(session, ())`.
#[derive(Debug, Clone)]
pub struct Api<R: Resource> {
    session: Session,
    parent: R::Parent,
}

/// How a list is paged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Page size (`limit` sent to the server); `None` lets the server choose.
    pub page_size: Option<u32>,
    /// Stop after this many items in total.
    pub max_items: Option<usize>,
}

/// A waiter's progress callback, called with the status after each poll.
pub type PollCallback = Arc<dyn Fn(&str) + Send + Sync>;

/// How a waiter polls: one set of options for every waiter of the SDK.
///
/// ```
/// use std::time::Duration;
/// use openstack_resource::WaitOptions;
/// let opts = WaitOptions::default().interval(Duration::from_secs(1)).timeout(Duration::from_secs(600));
/// assert_eq!(opts.timeout, Duration::from_secs(600));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct WaitOptions {
    /// First interval between polls (default 2 s).
    pub interval: Duration,
    /// Growth factor of the interval (default 1.5).
    pub backoff: f64,
    /// Longest interval (default 15 s).
    pub max_interval: Duration,
    /// Give up after this long (default 120 s); never unbounded.
    pub timeout: Duration,
    /// Transient errors (transport, 5xx) tolerated while polling (default 3).
    pub transient_errors: u32,
    /// Called with the status after each poll.
    pub on_poll: Option<PollCallback>,
}

impl std::fmt::Debug for WaitOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitOptions")
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            interval: Duration::from_secs(2),
            backoff: 1.5,
            max_interval: Duration::from_secs(15),
            timeout: Duration::from_secs(120),
            transient_errors: 3,
            on_poll: None,
        }
    }
}

impl WaitOptions {
    /// Polls every `interval` (no growth) for at most `timeout`: openstacksdk's
    /// `interval` / `wait` parameters.
    pub fn fixed(interval: Duration, timeout: Duration) -> Self {
        WaitOptions::default()
            .interval(interval)
            .backoff(1.0)
            .max_interval(interval)
            .timeout(timeout)
    }

    /// The first interval between polls.
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self.max_interval = self.max_interval.max(interval);
        self
    }

    /// How much the interval grows after each poll (1.0: fixed).
    #[must_use]
    pub fn backoff(mut self, factor: f64) -> Self {
        self.backoff = factor.max(1.0);
        self
    }

    /// The longest interval.
    #[must_use]
    pub fn max_interval(mut self, max: Duration) -> Self {
        self.max_interval = max;
        self
    }

    /// How long to wait in all.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many transient errors (transport, 5xx) polling tolerates.
    #[must_use]
    pub fn transient_errors(mut self, n: u32) -> Self {
        self.transient_errors = n;
        self
    }

    /// Sets the progress callback, called with the status after each poll.
    #[must_use]
    pub fn on_poll(mut self, f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_poll = Some(Arc::new(f));
        self
    }
}

fn is_transient(e: &Error) -> bool {
    match e {
        Error::Transport { .. } | Error::ServiceUnavailable(_) => true,
        Error::Http(a) => a.status.is_server_error(),
        _ => false,
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

impl<R: Resource> Api<R> {
    /// A handle on `R`'s collection under `parent` (`()` for top-level resources).
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
    /// # Errors
    /// [`Error::NotFound`] when it does not exist.
    pub async fn get(&self, id: &str) -> Result<R> {
        decode(self.send(request::get::<R>(&self.parent, id)).await?)
    }

    /// Gets one by id, `None` when it does not exist.
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

    /// Polls until the resource reaches `status`; fails early on a `failures` status.
    ///
    /// # Errors
    /// [`Error::Timeout`] (with the last status seen), [`Error::Failed`] (with the server's
    /// message), or a non-transient error while polling.
    pub async fn wait_for_status(
        &self,
        id: &str,
        status: &str,
        failures: &[&str],
        opts: &WaitOptions,
    ) -> Result<R>
    where
        R: HasStatus,
    {
        let started = Instant::now();
        let mut interval = opts.interval;
        let mut transient_left = opts.transient_errors;
        let mut last = String::from("unknown");
        loop {
            match self.get(id).await {
                Ok(r) => {
                    let s = r.status().to_string();
                    if let Some(f) = &opts.on_poll {
                        f(&s);
                    }
                    if s.eq_ignore_ascii_case(status) {
                        return Ok(r);
                    }
                    if failures.iter().any(|f| f.eq_ignore_ascii_case(&s)) {
                        return Err(Error::Failed {
                            what: format!("{} {id}", R::KIND),
                            status: s,
                            message: r.failure_message().unwrap_or_default(),
                        });
                    }
                    last = s;
                }
                Err(e) if is_transient(&e) && transient_left > 0 => {
                    transient_left -= 1;
                    tracing::debug!(error = %e, "transient error while waiting; polling again");
                }
                Err(e) => return Err(e),
            }
            if started.elapsed() + interval > opts.timeout {
                return Err(Error::Timeout {
                    what: format!("{} {id} to become {status} (last status: {last})", R::KIND),
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(interval).await;
            interval = interval.mul_f64(opts.backoff.max(1.0)).min(opts.max_interval);
        }
    }

    /// Polls until a get answers 404.
    ///
    /// # Errors
    /// [`Error::Timeout`] when it still exists after the timeout.
    pub async fn wait_for_delete(&self, id: &str, opts: &WaitOptions) -> Result<()> {
        let started = Instant::now();
        let mut interval = opts.interval;
        let mut transient_left = opts.transient_errors;
        loop {
            match self.get(id).await {
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) if is_transient(&e) && transient_left > 0 => transient_left -= 1,
                Err(e) => return Err(e),
                Ok(_) => {}
            }
            if started.elapsed() + interval > opts.timeout {
                return Err(Error::Timeout {
                    what: format!("{} {id} to be deleted", R::KIND),
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(interval).await;
            interval = interval.mul_f64(opts.backoff.max(1.0)).min(opts.max_interval);
        }
    }
}

impl<R: List> Api<R> {
    /// A lazy stream over the collection, following next links page by page.
    ///
    /// The query is validated before anything is sent (the error is the stream's first
    /// item). A next link seen twice ends the stream with an error instead of looping.
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
    /// # Errors
    /// The first error of the stream.
    pub async fn list_all(&self, query: &Query) -> Result<Vec<R>> {
        self.list(query, &ListOptions::default()).try_collect().await
    }

    /// Gets by id, else lists by name; several matches are an error, not a guess.
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

impl<R: Create> Api<R> {
    /// Creates one.
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
    /// # Errors
    /// [`Error::NotFound`] when it does not exist.
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.send(request::delete::<R>(&self.parent, id)).await.map(drop)
    }

    /// Deletes one; `Ok(false)` when it did not exist (`ignore_missing`).
    ///
    /// # Errors
    /// Other errors than not-found.
    pub async fn delete_opt(&self, id: &str) -> Result<bool> {
        match self.delete(id).await {
            Ok(()) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }
}

impl<R: Update + Get> Api<R> {
    /// Updates `original` (as last fetched) into `changed`, sending only the difference.
    /// Returns the server's new state (`original` again when nothing changed).
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
        let mut h = HeaderMap::new();
        h.insert(
            http::header::LINK,
            "<http://s/things?page=2>; rel=\"next\", <http://s/things?page=9>; rel=\"last\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&json!({"things": []}), "things", &h).as_deref(),
            Some("http://s/things?page=2")
        );
    }

    #[test]
    fn relative_next_links() {
        assert_eq!(next_request("/v2/images?marker=a", "/v2/images"), "/v2/images?marker=a");
        assert_eq!(next_request("?marker=a", "/v2/images"), "/v2/images?marker=a");
    }
}
