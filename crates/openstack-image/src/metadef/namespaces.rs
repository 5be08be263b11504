//! Metadef namespaces.

use std::collections::BTreeMap;

use http::Method;
use openstack_auth::Error;
use openstack_resource::{
    Create, Delete, Get, List, PreparedRequest, Resource, Update, UpdateStrategy,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{MetadefResourceTypeAssociation, ns_path};
use crate::call::{Built, Call, Items, unit};
use crate::id_ref::{IdRef, id_ref};
use crate::list_query::NamespaceQuery;
use crate::proxy::ImageProxy;
use crate::types::Visibility;
use crate::wait::WaitForDelete;

/// The longest namespace name Glance stores (its schema's `maxLength`).
const NAMESPACE_MAX: usize = 80;

/// A metadef namespace.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MetadefNamespace {
    /// The namespace (its unique name, used as id).
    pub namespace: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Visibility (`public` or `private`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    /// Protected from deletion.
    #[serde(default)]
    pub protected: bool,
    /// Owner project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_at: String,
    /// Last update.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub updated_at: String,
    /// Resource types it applies to (read-only here).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_type_associations: Vec<MetadefResourceTypeAssociation>,
    /// Its properties (read-only here; use the property calls).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, Value>,
    /// Its objects (read-only here).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<Value>,
    /// Its tags (read-only here).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Value>,
    /// Other fields (`self`, `schema`, ...).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl MetadefNamespace {
    /// A namespace to create, with this name.
    pub fn new(namespace: impl Into<String>) -> Self {
        MetadefNamespace { namespace: namespace.into(), ..Default::default() }
    }
}

impl Resource for MetadefNamespace {
    const SERVICE_TYPE: &'static str = "image";
    const KIND: &'static str = "metadef namespace";
    const RESOURCE_KEY: Option<&'static str> = None;
    const LIST_KEY: &'static str = "namespaces";
    const UPDATE: UpdateStrategy = UpdateStrategy::Put;
    const READ_ONLY: &'static [&'static str] = &[
        "created_at",
        "updated_at",
        "self",
        "schema",
        "resource_type_associations",
        "properties",
        "objects",
        "tags",
    ];
    const QUERY_PARAMETERS: &'static [&'static str] =
        &["visibility", "resource_types", "sort_key", "sort_dir"];
    const NAME_FILTER: Option<&'static str> = None;
    type Parent = ();
    fn base_path(_: &()) -> String {
        "/v2/metadefs/namespaces".into()
    }
    fn id(&self) -> &str {
        &self.namespace
    }
    fn name(&self) -> Option<&str> {
        Some(&self.namespace)
    }
}
impl Get for MetadefNamespace {}
impl List for MetadefNamespace {}
impl Update for MetadefNamespace {}
impl Delete for MetadefNamespace {}
impl Create for MetadefNamespace {
    type Create = MetadefNamespace;
}
id_ref!(MetadefNamespace => namespace);

/// `DELETE /v2/metadefs/namespaces/{ns}/{what}`: all objects, properties or tags.
pub(crate) fn delete_all_request(what: &'static str, ns: &str, children: &str) -> Built {
    Built::new(what, PreparedRequest::new(Method::DELETE, format!("{}/{children}", ns_path(ns))))
}

impl ImageProxy {
    /// `create_metadef_namespace(**attrs)`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use openstack_image::MetadefNamespace;
    /// let ns = image.create_metadef_namespace(&MetadefNamespace::new("OS::Example")).await?;
    /// # let _ = ns; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] without a name or with one over 80 characters (nothing
    /// sent); [`Error::Conflict`] for a
    /// duplicate; [`Error::Forbidden`] for non-admins.
    pub fn create_metadef_namespace(&self, namespace: &MetadefNamespace) -> Call<MetadefNamespace> {
        let api = self.api::<MetadefNamespace>(());
        let ns = namespace.clone();
        Call::new(async move {
            if ns.namespace.is_empty() {
                return Err(Error::InvalidArgument(
                    "a metadef namespace needs a name (namespace)".into(),
                ));
            }
            let len = ns.namespace.chars().count();
            if len > NAMESPACE_MAX {
                return Err(Error::InvalidArgument(format!(
                    "namespace {:?} is {len} characters long; at most {NAMESPACE_MAX} are allowed",
                    ns.namespace
                )));
            }
            api.create(&ns).await
        })
    }

    /// `delete_metadef_namespace(metadef_namespace, ignore_missing=False)`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.delete_metadef_namespace("OS::Example").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub fn delete_metadef_namespace(&self, namespace: impl IdRef) -> Call<()> {
        self.delete_one::<MetadefNamespace>((), namespace)
    }

    /// `delete_metadef_namespace(metadef_namespace, ignore_missing=True)`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.delete_metadef_namespace_opt("OS::Example").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Errors other than not-found.
    pub fn delete_metadef_namespace_opt(&self, namespace: impl IdRef) -> Call<Option<()>> {
        self.delete_one_opt::<MetadefNamespace>((), namespace)
    }

    /// `get_metadef_namespace(metadef_namespace)`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let ns = image.get_metadef_namespace("OS::Compute::Hypervisor").await?;
    /// # let _ = ns; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub fn get_metadef_namespace(&self, namespace: impl IdRef) -> Call<MetadefNamespace> {
        self.get_one::<MetadefNamespace>((), namespace)
    }

    /// [`ImageProxy::get_metadef_namespace`], `None` when there is no such namespace.
    ///
    /// # Errors
    /// As [`ImageProxy::get_metadef_namespace`], but for not-found.
    pub fn get_metadef_namespace_opt(
        &self,
        namespace: impl IdRef,
    ) -> Call<Option<MetadefNamespace>> {
        self.get_one_opt::<MetadefNamespace>((), namespace)
    }

    /// `metadef_namespaces(**query)` (resource types, visibility, sorting, paging): a lazy
    /// stream.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use futures_util::TryStreamExt;
    /// use openstack_image::NamespaceQuery;
    /// let q = NamespaceQuery::new().resource_type("OS::Glance::Image");
    /// let all: Vec<_> = image.metadef_namespaces(&q).try_collect().await?;
    /// # let _ = all; Ok(()) }
    /// ```
    pub fn metadef_namespaces(&self, query: &NamespaceQuery) -> Items<MetadefNamespace> {
        self.list_all::<MetadefNamespace>((), &query.to_query())
    }

    /// `update_metadef_namespace(metadef_namespace, **attrs)`: sends `changed` (a modified
    /// copy of `original`, possibly renamed) with PUT, as Glance requires; nothing when
    /// nothing changed.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let ns = image.get_metadef_namespace("OS::Example").await?;
    /// let mut changed = ns.clone();
    /// changed.description = Some("updated".into());
    /// image.update_metadef_namespace(&ns, &changed).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn update_metadef_namespace(
        &self,
        original: &MetadefNamespace,
        changed: &MetadefNamespace,
    ) -> Call<MetadefNamespace> {
        self.update_one::<MetadefNamespace>((), original, changed)
    }

    /// `wait_for_delete(res)` for a metadef namespace.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.wait_for_metadef_namespace_delete("OS::Example").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Timeout`].
    pub fn wait_for_metadef_namespace_delete(
        &self,
        namespace: impl IdRef,
    ) -> WaitForDelete<MetadefNamespace> {
        WaitForDelete::new(self.api(()), namespace.id_ref())
    }

    /// `delete_all_metadef_objects(namespace)`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.delete_all_metadef_objects("OS::Example").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn delete_all_metadef_objects(&self, namespace: impl IdRef) -> Call<()> {
        let b = delete_all_request("delete_all_metadef_objects", namespace.id_ref(), "objects");
        self.call(Ok(b), unit)
    }

    /// `delete_all_metadef_properties(metadef_namespace)`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.delete_all_metadef_properties("OS::Example").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn delete_all_metadef_properties(&self, namespace: impl IdRef) -> Call<()> {
        let b =
            delete_all_request("delete_all_metadef_properties", namespace.id_ref(), "properties");
        self.call(Ok(b), unit)
    }

    /// Deletes all tags of a namespace.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.delete_all_metadef_tags("OS::Example").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn delete_all_metadef_tags(&self, namespace: impl IdRef) -> Call<()> {
        self.call(
            Ok(delete_all_request("delete_all_metadef_tags", namespace.id_ref(), "tags")),
            unit,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_paths_escape_colons_and_slashes() {
        let b = delete_all_request("x", "OS::A/B", "tags");
        assert_eq!(b.http.path, "/v2/metadefs/namespaces/OS%3A%3AA%2FB/tags");
    }

    #[test]
    fn put_update_sends_nothing_when_nothing_changed_and_renames_by_the_old_name() {
        let mut ns: MetadefNamespace = serde_json::from_value(serde_json::json!({
            "namespace": "old", "created_at": "t", "updated_at": "t", "self": "/x", "schema": "/s",
            "visibility": "private", "protected": false, "owner": "o"
        }))
        .unwrap();
        assert!(
            openstack_resource::requests::update::<MetadefNamespace>(&(), &ns, &ns)
                .unwrap()
                .is_none()
        );
        let original = ns.clone();
        ns.namespace = "new name".into();
        let r = openstack_resource::requests::update::<MetadefNamespace>(&(), &original, &ns)
            .unwrap()
            .unwrap();
        assert_eq!(r.path, "/v2/metadefs/namespaces/old");
        assert_eq!(r.json.unwrap()["namespace"], "new name");
    }
}
