//! Typed queries for the lists Glance filters besides images: tasks, metadef namespaces and
//! metadef tags (`sort_key`/`sort_dir`, `limit`, `marker`, and each list's own filters).
//! Members, metadef properties, objects' properties, resource types and their associations
//! take no query at all in Glance's API; stores take none either, and [`StoreQuery`] only
//! chooses between the list and its details.

use openstack_resource::Query;

use crate::enums::{TaskStatus, Visibility};
use crate::query::SortDir;

/// Sorting and paging shared by these lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Paging {
    filters: Query,
    sort: Option<(String, SortDir)>,
    page_size: Option<u32>,
}

impl Paging {
    fn to_query(&self) -> Query {
        let mut q = self.filters.clone();
        if let Some(n) = self.page_size {
            let rest = q.pairs().iter().filter(|(k, _)| k != "limit");
            q = rest.fold(Query::new(), |q, (k, v)| q.param(k.as_str(), v)).limit(n);
        }
        if let Some((key, dir)) = &self.sort {
            q = q.param("sort_key", key).param("sort_dir", dir);
        }
        q
    }
}

/// The methods every one of these queries has.
macro_rules! paged_query {
    ($ty:ident, $what:literal) => {
        impl $ty {
            /// Everything (Glance's default order and page size).
            pub fn new() -> Self {
                Self::default()
            }

            #[doc = concat!("Sorts by `key` (`sort_key`, `sort_dir`), e.g. `created_at`; ", $what, " sort by one key.")]
            pub fn sort(mut self, key: impl Into<String>, dir: SortDir) -> Self {
                self.paging.sort = Some((key.into(), dir));
                self
            }

            /// How many each page asks for (`limit`); the stream still yields them all.
            pub fn page_size(mut self, n: u32) -> Self {
                self.paging.page_size = Some(n);
                self
            }

            /// `marker=`: start after this one.
            pub fn marker(mut self, marker: impl Into<String>) -> Self {
                self.paging.filters = self.paging.filters.param("marker", marker.into());
                self
            }

            /// Any other parameter (the escape hatch); one Glance does not take for this
            /// list fails when the list starts, before anything is sent.
            pub fn param(mut self, key: impl Into<String>, value: impl ToString) -> Self {
                self.paging.filters = self.paging.filters.param(key, value);
                self
            }
        }
    };
}

/// `to_query` and `From<Query>` for the queries without filters of their own.
macro_rules! plain_query {
    ($ty:ident) => {
        impl $ty {
            /// The raw query this sends (one `limit`: the page size when set).
            pub fn to_query(&self) -> Query {
                self.paging.to_query()
            }
        }

        impl From<Query> for $ty {
            /// A raw query (the escape hatch for code that builds queries).
            fn from(filters: Query) -> Self {
                $ty { paging: Paging { filters, ..Paging::default() } }
            }
        }
    };
}

/// Filters, sorting and paging for [`crate::ImageProxy::tasks`].
///
/// ```
/// use openstack_image::{SortDir, TaskQuery, TaskStatus};
/// let q = TaskQuery::new().task_type("api_image_import").status(TaskStatus::Failure)
///     .sort("created_at", SortDir::Desc).page_size(20);
/// assert_eq!(
///     q.to_query().to_query_string(),
///     "?type=api_image_import&status=failure&limit=20&sort_key=created_at&sort_dir=desc"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct TaskQuery {
    paging: Paging,
}

paged_query!(TaskQuery, "tasks");
plain_query!(TaskQuery);

impl TaskQuery {
    /// Tasks of this type (`import`, `api_image_import`, ...).
    pub fn task_type(self, task_type: impl Into<String>) -> Self {
        self.param("type", task_type.into())
    }

    /// Tasks in this status.
    pub fn status(self, status: TaskStatus) -> Self {
        self.param("status", status.as_str())
    }
}

/// Filters, sorting and paging for [`crate::ImageProxy::metadef_namespaces`].
///
/// ```
/// use openstack_image::{NamespaceQuery, SortDir, Visibility};
/// let q = NamespaceQuery::new()
///     .resource_type("OS::Glance::Image")
///     .resource_type("OS::Nova::Flavor")
///     .visibility(Visibility::Public)
///     .sort("namespace", SortDir::Asc);
/// assert_eq!(
///     q.to_query().to_query_string(),
///     "?visibility=public&sort_key=namespace&sort_dir=asc&resource_types=OS%3A%3AGlance%3A%3AImage%2COS%3A%3ANova%3A%3AFlavor"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct NamespaceQuery {
    paging: Paging,
    resource_types: Vec<String>,
}

paged_query!(NamespaceQuery, "namespaces");

impl NamespaceQuery {
    /// Namespaces associated with this resource type (repeatable: any of them).
    pub fn resource_type(mut self, resource_type: impl Into<String>) -> Self {
        self.resource_types.push(resource_type.into());
        self
    }

    /// Namespaces of this visibility (`public` or `private`).
    pub fn visibility(self, visibility: Visibility) -> Self {
        self.param("visibility", visibility.as_str())
    }

    /// The raw query this sends.
    pub fn to_query(&self) -> Query {
        let mut q = self.paging.to_query();
        if !self.resource_types.is_empty() {
            q = q.param("resource_types", self.resource_types.join(","));
        }
        q
    }
}

impl From<Query> for NamespaceQuery {
    /// A raw query (the escape hatch for code that builds queries).
    fn from(filters: Query) -> Self {
        NamespaceQuery { paging: Paging { filters, ..Paging::default() }, ..Default::default() }
    }
}

/// Sorting and paging for [`crate::ImageProxy::metadef_tags`].
///
/// ```
/// use openstack_image::{SortDir, TagQuery};
/// let q = TagQuery::new().sort("name", SortDir::Asc).page_size(50);
/// assert_eq!(q.to_query().to_query_string(), "?limit=50&sort_key=name&sort_dir=asc");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct TagQuery {
    paging: Paging,
}

paged_query!(TagQuery, "tags");
plain_query!(TagQuery);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_limit_and_raw_queries_convert() {
        let q = TaskQuery::from(Query::new().param("status", "success").limit(5)).page_size(2);
        let limits: Vec<_> =
            q.to_query().pairs().iter().filter(|(k, _)| k == "limit").cloned().collect();
        assert_eq!(limits, [("limit".to_string(), "2".to_string())]);
        assert_eq!(q.to_query().get("status"), Some("success"));
        let ns = NamespaceQuery::from(Query::new().param("visibility", "private"));
        assert_eq!(ns.to_query().to_query_string(), "?visibility=private");
        assert_eq!(TagQuery::new().marker("t").to_query().to_query_string(), "?marker=t");
    }
}

/// What [`crate::ImageProxy::stores`] lists: the stores (Glance takes no filters there), or,
/// with [`StoreQuery::details`], each store's type, weight and properties
/// (`/v2/info/stores/detail`, API 2.15, admin by default). openstacksdk's `stores(details,
/// **query)` sends its query nowhere Glance reads it.
///
/// ```
/// use openstack_image::StoreQuery;
/// assert_ne!(StoreQuery::new(), StoreQuery::new().details());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct StoreQuery {
    details: bool,
}

impl StoreQuery {
    /// The stores, as every user may list them.
    pub fn new() -> Self {
        Self::default()
    }

    /// Each store's details too (API 2.15; admin by default).
    pub fn details(mut self) -> Self {
        self.details = true;
        self
    }

    pub(crate) fn wants_details(&self) -> bool {
        self.details
    }
}
