//! Metadef resource types and their associations with namespaces.

use openstack_resource::{Create, Delete, List, Query, Resource};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

use super::ns_path;
use crate::call::{Call, Items};
use crate::id_ref::{IdRef, id_ref};
use crate::proxy::ImageProxy;

/// A resource type (e.g. `OS::Glance::Image`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MetadefResourceType {
    /// Name.
    pub name: String,
    /// Creation time.
    #[serde(default)]
    pub created_at: String,
    /// Last update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Resource for MetadefResourceType {
    const SERVICE_TYPE: &'static str = "image";
    const KIND: &'static str = "metadef resource type";
    const RESOURCE_KEY: Option<&'static str> = None;
    const LIST_KEY: &'static str = "resource_types";
    const NAME_FILTER: Option<&'static str> = None;
    type Parent = ();
    fn base_path(_: &()) -> String {
        "/v2/metadefs/resource_types".into()
    }
    fn id(&self) -> &str {
        &self.name
    }
}
impl List for MetadefResourceType {}
id_ref!(MetadefResourceType => name);

/// An association of a namespace with a resource type.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MetadefResourceTypeAssociation {
    /// The resource type's name.
    pub name: String,
    /// Prefix for property names on that resource type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Where the properties go on the resource (e.g. `image`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties_target: Option<String>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_at: String,
    /// Last update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl MetadefResourceTypeAssociation {
    /// An association with this resource type, to create.
    pub fn new(resource_type: impl Into<String>) -> Self {
        MetadefResourceTypeAssociation { name: resource_type.into(), ..Default::default() }
    }
}

impl Resource for MetadefResourceTypeAssociation {
    const SERVICE_TYPE: &'static str = "image";
    const KIND: &'static str = "metadef resource type association";
    const RESOURCE_KEY: Option<&'static str> = None;
    const LIST_KEY: &'static str = "resource_type_associations";
    const NAME_FILTER: Option<&'static str> = None;
    type Parent = String;
    fn base_path(ns: &String) -> String {
        format!("{}/resource_types", ns_path(ns))
    }
    fn id(&self) -> &str {
        &self.name
    }
}
impl List for MetadefResourceTypeAssociation {}
impl Delete for MetadefResourceTypeAssociation {}
impl Create for MetadefResourceTypeAssociation {
    type Create = MetadefResourceTypeAssociation;
}
id_ref!(MetadefResourceTypeAssociation => name);

impl ImageProxy {
    /// `metadef_resource_types()`: a stream.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use futures_util::TryStreamExt;
    /// let types: Vec<_> = image.metadef_resource_types().try_collect().await?;
    /// # let _ = types; Ok(()) }
    /// ```
    pub fn metadef_resource_types(&self) -> Items<MetadefResourceType> {
        self.list_all::<MetadefResourceType>((), &Query::new())
    }

    /// `create_metadef_resource_type_association(metadef_namespace, **attrs)`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use openstack_image::MetadefResourceTypeAssociation as Assoc;
    /// image.create_metadef_resource_type_association("OS::Example", &Assoc::new("OS::Glance::Image")).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors (409 when already associated).
    pub fn create_metadef_resource_type_association(
        &self,
        namespace: impl IdRef,
        association: &MetadefResourceTypeAssociation,
    ) -> Call<MetadefResourceTypeAssociation> {
        self.create_one::<MetadefResourceTypeAssociation>(
            namespace.id_ref().to_string(),
            association.clone(),
        )
    }

    /// `delete_metadef_resource_type_association(metadef_resource_type, metadef_namespace,
    /// ignore_missing=False)`, namespace first.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.delete_metadef_resource_type_association("OS::Example", "OS::Glance::Image").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::NotFound`].
    pub fn delete_metadef_resource_type_association(
        &self,
        namespace: impl IdRef,
        resource_type: impl IdRef,
    ) -> Call<()> {
        self.delete_one::<MetadefResourceTypeAssociation>(
            namespace.id_ref().to_string(),
            resource_type,
        )
    }

    /// As [`ImageProxy::delete_metadef_resource_type_association`], `None` when there was
    /// no such association.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.delete_metadef_resource_type_association_opt("OS::Example", "OS::Glance::Image").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Errors other than not-found.
    pub fn delete_metadef_resource_type_association_opt(
        &self,
        namespace: impl IdRef,
        resource_type: impl IdRef,
    ) -> Call<Option<()>> {
        self.delete_one_opt::<MetadefResourceTypeAssociation>(
            namespace.id_ref().to_string(),
            resource_type,
        )
    }

    /// `metadef_resource_type_associations(metadef_namespace)`: a stream.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use futures_util::TryStreamExt;
    /// let assocs: Vec<_> = image.metadef_resource_type_associations("OS::Example").try_collect().await?;
    /// # let _ = assocs; Ok(()) }
    /// ```
    pub fn metadef_resource_type_associations(
        &self,
        namespace: impl IdRef,
    ) -> Items<MetadefResourceTypeAssociation> {
        self.list_all::<MetadefResourceTypeAssociation>(
            namespace.id_ref().to_string(),
            &Query::new(),
        )
    }
}
