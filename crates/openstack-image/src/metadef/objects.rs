//! Metadef objects: named groups of properties in a namespace.

use std::collections::BTreeMap;

use openstack_resource::{Create, Delete, Get, List, Query, Resource, Update, UpdateStrategy};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ns_path;
use crate::call::{Call, Items};
use crate::id_ref::{IdRef, id_ref};
use crate::proxy::ImageProxy;

/// A metadef object (a named group of properties in a namespace).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MetadefObject {
    /// Name (its id within the namespace).
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Required property names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<String>,
    /// Property definitions (JSON schema fragments).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, Value>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_at: String,
    /// Last update.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub updated_at: String,
    /// Other fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl MetadefObject {
    /// An object to create, with this name.
    pub fn new(name: impl Into<String>) -> Self {
        MetadefObject { name: name.into(), ..Default::default() }
    }
}

impl Resource for MetadefObject {
    const SERVICE_TYPE: &'static str = "image";
    const KIND: &'static str = "metadef object";
    const RESOURCE_KEY: Option<&'static str> = None;
    const LIST_KEY: &'static str = "objects";
    const UPDATE: UpdateStrategy = UpdateStrategy::Put;
    const READ_ONLY: &'static [&'static str] = &["created_at", "updated_at", "self", "schema"];
    const NAME_FILTER: Option<&'static str> = None;
    type Parent = String;
    fn base_path(ns: &String) -> String {
        format!("{}/objects", ns_path(ns))
    }
    fn id(&self) -> &str {
        &self.name
    }
    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
}
impl Get for MetadefObject {}
impl List for MetadefObject {}
impl Update for MetadefObject {}
impl Delete for MetadefObject {}
impl Create for MetadefObject {
    type Create = MetadefObject;
}
id_ref!(MetadefObject => name);

impl ImageProxy {
    /// `create_metadef_object(namespace, **attrs)`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use openstack_image::MetadefObject;
    /// let obj = image.create_metadef_object("OS::Example", &MetadefObject::new("cpu")).await?;
    /// # let _ = obj; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn create_metadef_object(
        &self,
        namespace: impl IdRef,
        object: &MetadefObject,
    ) -> Call<MetadefObject> {
        self.create_one::<MetadefObject>(namespace.id_ref().to_string(), object.clone())
    }

    /// `get_metadef_object(metadef_object, namespace)`, namespace first.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let obj = image.get_metadef_object("OS::Example", "cpu").await?;
    /// # let _ = obj; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::NotFound`].
    pub fn get_metadef_object(
        &self,
        namespace: impl IdRef,
        object: impl IdRef,
    ) -> Call<MetadefObject> {
        self.get_one::<MetadefObject>(namespace.id_ref().to_string(), object)
    }

    /// [`ImageProxy::get_metadef_object`], `None` when the namespace has no such object (or
    /// there is no such namespace).
    ///
    /// # Errors
    /// As [`ImageProxy::get_metadef_object`], but for not-found.
    pub fn get_metadef_object_opt(
        &self,
        namespace: impl IdRef,
        object: impl IdRef,
    ) -> Call<Option<MetadefObject>> {
        self.get_one_opt::<MetadefObject>(namespace.id_ref().to_string(), object)
    }

    /// `metadef_objects(namespace)`: a stream.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use futures_util::TryStreamExt;
    /// let objects: Vec<_> = image.metadef_objects("OS::Example").try_collect().await?;
    /// # let _ = objects; Ok(()) }
    /// ```
    pub fn metadef_objects(&self, namespace: impl IdRef) -> Items<MetadefObject> {
        self.list_all::<MetadefObject>(namespace.id_ref().to_string(), &Query::new())
    }

    /// `update_metadef_object(metadef_object, namespace, **attrs)`, namespace first: PUT of
    /// `changed` (possibly renamed) at `original`'s name; nothing when nothing changed.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let obj = image.get_metadef_object("OS::Example", "cpu").await?;
    /// let mut changed = obj.clone();
    /// changed.description = Some("CPU features".into());
    /// image.update_metadef_object("OS::Example", &obj, &changed).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn update_metadef_object(
        &self,
        namespace: impl IdRef,
        original: &MetadefObject,
        changed: &MetadefObject,
    ) -> Call<MetadefObject> {
        self.update_one::<MetadefObject>(namespace.id_ref().to_string(), original, changed)
    }

    /// `delete_metadef_object(metadef_object, namespace)`, namespace first.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.delete_metadef_object("OS::Example", "cpu").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::NotFound`].
    pub fn delete_metadef_object(&self, namespace: impl IdRef, object: impl IdRef) -> Call<()> {
        self.delete_one::<MetadefObject>(namespace.id_ref().to_string(), object)
    }

    /// As [`ImageProxy::delete_metadef_object`], `None` when it did not exist.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.delete_metadef_object_opt("OS::Example", "cpu").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Errors other than not-found.
    pub fn delete_metadef_object_opt(
        &self,
        namespace: impl IdRef,
        object: impl IdRef,
    ) -> Call<Option<()>> {
        self.delete_one_opt::<MetadefObject>(namespace.id_ref().to_string(), object)
    }
}
