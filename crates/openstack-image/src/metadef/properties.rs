//! Metadef properties: JSON-schema fragments with a name, in a namespace.

use std::collections::BTreeMap;

use openstack_resource::{Create, Delete, Get, List, Query, Resource, Update, UpdateStrategy};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ns_path;
use crate::call::{Call, Items};
use crate::id_ref::{IdRef, id_ref};
use crate::proxy::ImageProxy;

/// A metadef property: a JSON-schema fragment with a name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MetadefProperty {
    /// Name (its id within the namespace).
    pub name: String,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// JSON type (`string`, `integer`, `boolean`, `array`, ...).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub property_type: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Other schema keywords (`enum`, `default`, `minimum`, `items`, ...).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl MetadefProperty {
    /// A property to create: name, title and JSON type (Glance requires all three).
    pub fn new(
        name: impl Into<String>,
        title: impl Into<String>,
        json_type: impl Into<String>,
    ) -> Self {
        MetadefProperty {
            name: name.into(),
            title: Some(title.into()),
            property_type: Some(json_type.into()),
            ..Default::default()
        }
    }
}

impl Resource for MetadefProperty {
    const SERVICE_TYPE: &'static str = "image";
    const KIND: &'static str = "metadef property";
    const RESOURCE_KEY: Option<&'static str> = None;
    const LIST_KEY: &'static str = "properties";
    const UPDATE: UpdateStrategy = UpdateStrategy::Put;
    const NAME_FILTER: Option<&'static str> = None;
    type Parent = String;
    fn base_path(ns: &String) -> String {
        format!("{}/properties", ns_path(ns))
    }
    fn id(&self) -> &str {
        &self.name
    }
    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
    /// Glance answers a map keyed by name; each item gets its name back.
    fn list_items(body: &mut Value) -> Option<Vec<Value>> {
        let map = body.get_mut(Self::LIST_KEY)?.as_object_mut()?;
        Some(
            std::mem::take(map)
                .into_iter()
                .map(|(name, mut v)| {
                    if let Value::Object(m) = &mut v {
                        m.insert("name".into(), Value::String(name));
                    }
                    v
                })
                .collect(),
        )
    }
}
impl Get for MetadefProperty {}
impl List for MetadefProperty {}
impl Update for MetadefProperty {}
impl Delete for MetadefProperty {}
impl Create for MetadefProperty {
    type Create = MetadefProperty;
}
id_ref!(MetadefProperty => name);

impl ImageProxy {
    /// `create_metadef_property(metadef_namespace, **attrs)`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use openstack_image::MetadefProperty;
    /// let p = MetadefProperty::new("hw_cpu_cores", "CPU cores", "integer");
    /// let p = image.create_metadef_property("OS::Example", &p).await?;
    /// # let _ = p; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors (400 for an invalid schema fragment).
    pub fn create_metadef_property(
        &self,
        namespace: impl IdRef,
        property: &MetadefProperty,
    ) -> Call<MetadefProperty> {
        self.create_one::<MetadefProperty>(namespace.id_ref().to_string(), property.clone())
    }

    /// `update_metadef_property(metadef_property, metadef_namespace, **attrs)`, namespace
    /// first: PUT of `changed` (possibly renamed) at `original`'s name.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let p = image.get_metadef_property("OS::Example", "hw_cpu_cores").await?;
    /// let mut changed = p.clone();
    /// changed.description = Some("cores per socket".into());
    /// image.update_metadef_property("OS::Example", &p, &changed).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn update_metadef_property(
        &self,
        namespace: impl IdRef,
        original: &MetadefProperty,
        changed: &MetadefProperty,
    ) -> Call<MetadefProperty> {
        self.update_one::<MetadefProperty>(namespace.id_ref().to_string(), original, changed)
    }

    /// `delete_metadef_property(metadef_property, metadef_namespace, ignore_missing=False)`,
    /// namespace first.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.delete_metadef_property("OS::Example", "hw_cpu_cores").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::NotFound`].
    pub fn delete_metadef_property(&self, namespace: impl IdRef, property: impl IdRef) -> Call<()> {
        self.delete_one::<MetadefProperty>(namespace.id_ref().to_string(), property)
    }

    /// `delete_metadef_property(.., ignore_missing=True)`: `None` when it did not exist.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.delete_metadef_property_opt("OS::Example", "hw_cpu_cores").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Errors other than not-found.
    pub fn delete_metadef_property_opt(
        &self,
        namespace: impl IdRef,
        property: impl IdRef,
    ) -> Call<Option<()>> {
        self.delete_one_opt::<MetadefProperty>(namespace.id_ref().to_string(), property)
    }

    /// `get_metadef_property(metadef_property, metadef_namespace)`, namespace first.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let p = image.get_metadef_property("OS::Example", "hw_cpu_cores").await?;
    /// # let _ = p; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::NotFound`].
    pub fn get_metadef_property(
        &self,
        namespace: impl IdRef,
        property: impl IdRef,
    ) -> Call<MetadefProperty> {
        let api = self.api::<MetadefProperty>(namespace.id_ref().to_string());
        let id = property.id_ref().to_string();
        Call::new(async move {
            let mut p = api.get(&id).await?;
            if p.name.is_empty() {
                p.name = id;
            }
            Ok(p)
        })
    }

    /// [`ImageProxy::get_metadef_property`], `None` when the namespace has no such property
    /// (or there is no such namespace).
    ///
    /// # Errors
    /// As [`ImageProxy::get_metadef_property`], but for not-found.
    pub fn get_metadef_property_opt(
        &self,
        namespace: impl IdRef,
        property: impl IdRef,
    ) -> Call<Option<MetadefProperty>> {
        let got = self.get_metadef_property(namespace, property);
        Call::new(async move {
            match got.await {
                Ok(p) => Ok(Some(p)),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    /// `metadef_properties(metadef_namespace)`: all properties of a namespace, as a stream.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use futures_util::TryStreamExt;
    /// let props: Vec<_> = image.metadef_properties("OS::Example").try_collect().await?;
    /// # let _ = props; Ok(()) }
    /// ```
    pub fn metadef_properties(&self, namespace: impl IdRef) -> Items<MetadefProperty> {
        self.list_all::<MetadefProperty>(namespace.id_ref().to_string(), &Query::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_map_of_properties_becomes_named_items() {
        let mut body = json!({"properties": {"a": {"title": "A", "type": "string"}, "b": {"title": "B", "type": "integer"}}});
        let items = MetadefProperty::list_items(&mut body).unwrap();
        let props: Vec<MetadefProperty> =
            items.into_iter().map(|v| serde_json::from_value(v).unwrap()).collect();
        assert_eq!(props.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(props[1].property_type.as_deref(), Some("integer"));
    }
}
