//! The `Resource` trait and its capability traits.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// How an update is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpdateStrategy {
    /// `PATCH` with an RFC 6902 JSON patch, with this media type (Glance:
    /// `application/openstack-images-v2.1-json-patch`).
    JsonPatch(&'static str),
    /// `PATCH` with the changed fields only (wrapped in the resource key if there is one),
    /// as Keystone, Nova and Neutron expect.
    MergePatch,
    /// `PUT` with the whole resource (wrapped in the resource key if there is one).
    Put,
}

/// A REST resource of an OpenStack service: a serde struct plus this short impl.
///
/// ```
/// use openstack_resource::{Resource, UpdateStrategy};
/// use serde::{Deserialize, Serialize};
///
/// /// A Keystone region.
/// #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// struct Region {
///     id: String,
///     #[serde(default, skip_serializing_if = "Option::is_none")]
///     description: Option<String>,
/// }
///
/// impl Resource for Region {
///     const SERVICE_TYPE: &'static str = "identity";
///     const KIND: &'static str = "region";
///     const RESOURCE_KEY: Option<&'static str> = Some("region");
///     const LIST_KEY: &'static str = "regions";
///     const UPDATE: UpdateStrategy = UpdateStrategy::MergePatch;
///     const READ_ONLY: &'static [&'static str] = &["id", "links"];
///     type Parent = ();
///     fn base_path(_: &()) -> String { "/v3/regions".into() }
///     fn id(&self) -> &str { &self.id }
/// }
/// impl openstack_resource::Get for Region {}
/// impl openstack_resource::List for Region {}
/// ```
pub trait Resource: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The catalog service type (`image`, `identity`, ...).
    const SERVICE_TYPE: &'static str;
    /// A human name for errors (`image`, `member`, ...).
    const KIND: &'static str;
    /// The key wrapping a single resource in bodies (`{"project": {...}}`), or `None` when
    /// the service sends bare objects (Glance).
    const RESOURCE_KEY: Option<&'static str>;
    /// The key of the list in list responses (`images`, `projects`).
    const LIST_KEY: &'static str;
    /// How updates are sent.
    const UPDATE: UpdateStrategy = UpdateStrategy::MergePatch;
    /// Top-level fields the server owns; never part of an update.
    const READ_ONLY: &'static [&'static str] = &[];
    /// Query parameters the list call accepts; empty means "any".
    const QUERY_PARAMETERS: &'static [&'static str] = &[];
    /// The name filter used by `find` (usually `name`), or `None` if lists cannot filter by
    /// name (then `find` only gets by id).
    const NAME_FILTER: Option<&'static str> = Some("name");

    /// What the base path needs: `()` for top-level resources, a parent id for nested ones.
    type Parent: Clone + Send + Sync + 'static;

    /// The collection path, e.g. `/v2/images` or `/v2/images/{image_id}/members`.
    fn base_path(parent: &Self::Parent) -> String;

    /// The resource's id.
    fn id(&self) -> &str;

    /// The resource's name, if it has one.
    fn name(&self) -> Option<&str> {
        None
    }

    /// The items of one list response: by default the array under [`Resource::LIST_KEY`].
    /// Override it for services that answer otherwise (Glance's metadef properties come as a
    /// map keyed by name). `None` means the response is not a list of `Self`.
    fn list_items(body: &mut serde_json::Value) -> Option<Vec<serde_json::Value>> {
        body.get_mut(Self::LIST_KEY)?.as_array_mut().map(std::mem::take)
    }

    /// Extra query parameters `find` adds when listing by name (e.g. to include hidden ones).
    fn find_extra_query() -> &'static [(&'static str, &'static str)] {
        &[]
    }
}

/// `GET {base}/{id}`.
pub trait Get: Resource {}
/// `GET {base}` with pagination.
pub trait List: Resource {}
/// `POST {base}` with a creation body.
pub trait Create: Resource {
    /// The body sent to create one (often a struct of the writable fields).
    type Create: Serialize + Send + Sync;
}
/// Update per [`Resource::UPDATE`].
pub trait Update: Resource {}
/// `DELETE {base}/{id}`.
pub trait Delete: Resource {}

/// A resource with a lifecycle status, for waiters.
pub trait HasStatus {
    /// The current status (lowercase as the server sends it).
    fn status(&self) -> &str;
    /// The server's explanation of a failure, if it gives one.
    fn failure_message(&self) -> Option<String> {
        None
    }
}
