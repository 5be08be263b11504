//! `ImageQuery`: the typed filters, sorting and paging of `GET /v2/images`.

use std::fmt;

use openstack_resource::Query;

use crate::types::{ContainerFormat, DiskFormat, ImageStatus, MemberStatus, Visibility};

/// A comparison operator of Glance's date and size filters (`created_at=gte:...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compare {
    /// `gt:` later / larger than.
    Gt,
    /// `gte:` at or after.
    Gte,
    /// `lt:` earlier / smaller than.
    Lt,
    /// `lte:` at or before.
    Lte,
    /// `eq:` equal.
    Eq,
    /// `neq:` not equal.
    Neq,
}

impl Compare {
    /// The operator's wire form (`gte`).
    pub fn as_str(self) -> &'static str {
        match self {
            Compare::Gt => "gt",
            Compare::Gte => "gte",
            Compare::Lt => "lt",
            Compare::Lte => "lte",
            Compare::Eq => "eq",
            Compare::Neq => "neq",
        }
    }
}

/// A sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SortDir {
    /// Ascending.
    Asc,
    /// Descending (Glance's default).
    #[default]
    Desc,
}

impl fmt::Display for SortDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SortDir::Asc => "asc",
            SortDir::Desc => "desc",
        })
    }
}

/// Filters, sorting and page size for [`crate::ImageProxy::images`].
///
/// ```
/// use openstack_image::{Compare, ImageQuery, ImageStatus, SortDir};
/// let q = ImageQuery::new()
///     .status(ImageStatus::Active)
///     .tag("golden")
///     .created_at(Compare::Gte, "2026-01-01T00:00:00Z")
///     .sort("name", SortDir::Asc)
///     .page_size(100);
/// assert_eq!(
///     q.to_query().to_query_string(),
///     "?status=active&tag=golden&created_at=gte%3A2026-01-01T00%3A00%3A00Z&limit=100&sort=name%3Aasc"
/// );
/// ```
///
/// Anything not covered here goes through [`ImageQuery::param`] (checked against the
/// parameters Glance accepts before anything is sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct ImageQuery {
    filters: Query,
    sort: Vec<(String, SortDir)>,
    page_size: Option<u32>,
}

impl ImageQuery {
    /// Every image the caller can see (Glance's default: no hidden images).
    pub fn new() -> Self {
        ImageQuery::default()
    }

    /// `name=`: exact name.
    pub fn name(self, name: impl Into<String>) -> Self {
        self.param("name", name.into())
    }

    /// `id=`: exact id.
    pub fn id(self, id: impl Into<String>) -> Self {
        self.param("id", id.into())
    }

    /// `status=`.
    pub fn status(self, status: ImageStatus) -> Self {
        self.param("status", status)
    }

    /// `visibility=` (`public`, `private`, `shared`, `community`).
    pub fn visibility(self, visibility: Visibility) -> Self {
        self.param("visibility", visibility)
    }

    /// `visibility=all`: every image the caller may see, community ones included.
    pub fn all_visibilities(self) -> Self {
        self.param("visibility", "all")
    }

    /// `owner=`: the owning project.
    pub fn owner(self, project_id: impl Into<String>) -> Self {
        self.param("owner", project_id.into())
    }

    /// `member_status=`: for images shared with the caller.
    pub fn member_status(self, status: MemberStatus) -> Self {
        self.param("member_status", status)
    }

    /// `tag=`: repeatable; an image must have every tag given.
    pub fn tag(self, tag: impl Into<String>) -> Self {
        self.param("tag", tag.into())
    }

    /// `protected=`.
    pub fn protected(mut self, protected: bool) -> Self {
        self.filters = self.filters.param("protected", protected);
        self
    }

    /// `os_hidden=`: `true` lists only hidden images.
    pub fn hidden(mut self, hidden: bool) -> Self {
        self.filters = self.filters.param("os_hidden", hidden);
        self
    }

    /// `disk_format=`.
    pub fn disk_format(self, format: DiskFormat) -> Self {
        self.param("disk_format", format)
    }

    /// `container_format=`.
    pub fn container_format(self, format: ContainerFormat) -> Self {
        self.param("container_format", format)
    }

    /// `size_min=`: at least this many bytes.
    pub fn size_min(self, bytes: u64) -> Self {
        self.param("size_min", bytes)
    }

    /// `size_max=`: at most this many bytes.
    pub fn size_max(self, bytes: u64) -> Self {
        self.param("size_max", bytes)
    }

    /// `created_at=<op>:<time>` (ISO 8601, e.g. `2026-01-01T00:00:00Z`).
    pub fn created_at(self, op: Compare, time: impl fmt::Display) -> Self {
        self.param("created_at", format!("{}:{time}", op.as_str()))
    }

    /// `updated_at=<op>:<time>`.
    pub fn updated_at(self, op: Compare, time: impl fmt::Display) -> Self {
        self.param("updated_at", format!("{}:{time}", op.as_str()))
    }

    /// Sort by `key` (repeatable: later keys break ties), sent as
    /// `sort=key:dir,key2:dir2`.
    pub fn sort(mut self, key: impl Into<String>, dir: SortDir) -> Self {
        self.sort.push((key.into(), dir));
        self
    }

    /// How many images each page asks for (`limit`); the stream still yields them all.
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n);
        self
    }

    /// `marker=`: start after this image id.
    pub fn marker(self, image_id: impl Into<String>) -> Self {
        self.param("marker", image_id.into())
    }

    /// Any other query parameter Glance accepts (the escape hatch). An unknown key fails
    /// when the list starts, before anything is sent.
    pub fn param(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.filters = self.filters.param(key, value);
        self
    }

    /// The page size, if set.
    pub fn get_page_size(&self) -> Option<u32> {
        self.page_size
    }

    /// The raw query this sends: the filters, one `limit` (the page size: `page_size` when
    /// set, which replaces a `limit` given through [`ImageQuery::param`] or a raw `Query`;
    /// else that `limit`), and `sort`.
    pub fn to_query(&self) -> Query {
        let mut q = self.filters.clone();
        if let Some(n) = self.page_size {
            let rest = q.pairs().iter().filter(|(k, _)| k != "limit");
            q = rest.fold(Query::new(), |q, (k, v)| q.param(k.as_str(), v)).limit(n);
        }
        if !self.sort.is_empty() {
            let keys: Vec<String> = self.sort.iter().map(|(k, d)| format!("{k}:{d}")).collect();
            q = q.param("sort", keys.join(","));
        }
        q
    }
}

impl From<Query> for ImageQuery {
    /// A raw query as an `ImageQuery` (the escape hatch for code that builds queries).
    fn from(filters: Query) -> Self {
        ImageQuery { filters, ..ImageQuery::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_limit_is_sent_and_page_size_wins() {
        let limits = |q: &ImageQuery| {
            q.to_query().pairs().iter().filter(|(k, _)| k == "limit").cloned().collect::<Vec<_>>()
        };
        let raw = ImageQuery::from(Query::new().param("name", "x").limit(5));
        assert_eq!(limits(&raw), [("limit".to_string(), "5".to_string())]);
        let both = raw.clone().page_size(2);
        assert_eq!(limits(&both), [("limit".to_string(), "2".to_string())]);
        assert_eq!(both.to_query().get("name"), Some("x"), "the other filters stay");
        let via_param = ImageQuery::new().param("limit", 7).page_size(3);
        assert_eq!(limits(&via_param), [("limit".to_string(), "3".to_string())]);
    }

    #[test]
    fn every_filter_has_its_wire_form() {
        let q = ImageQuery::new()
            .name("a b")
            .id("i")
            .visibility(Visibility::Community)
            .owner("p")
            .member_status(MemberStatus::Accepted)
            .tag("t1")
            .tag("t2")
            .protected(true)
            .hidden(false)
            .disk_format(DiskFormat::Qcow2)
            .container_format(ContainerFormat::Bare)
            .size_min(1)
            .size_max(2)
            .updated_at(Compare::Lt, "2026-02-01T00:00:00Z")
            .marker("m")
            .sort("name", SortDir::Asc)
            .sort("created_at", SortDir::Desc);
        assert_eq!(
            q.to_query().pairs(),
            [
                ("name", "a b"),
                ("id", "i"),
                ("visibility", "community"),
                ("owner", "p"),
                ("member_status", "accepted"),
                ("tag", "t1"),
                ("tag", "t2"),
                ("protected", "true"),
                ("os_hidden", "false"),
                ("disk_format", "qcow2"),
                ("container_format", "bare"),
                ("size_min", "1"),
                ("size_max", "2"),
                ("updated_at", "lt:2026-02-01T00:00:00Z"),
                ("marker", "m"),
                ("sort", "name:asc,created_at:desc"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }

    #[test]
    fn raw_queries_convert() {
        let q: ImageQuery = Query::new().param("status", "active").into();
        assert_eq!(q.to_query().to_query_string(), "?status=active");
        assert_eq!(ImageQuery::new().all_visibilities().to_query().get("visibility"), Some("all"));
    }
}
