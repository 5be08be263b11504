//! Metadata definitions (metadefs): namespaces, objects, properties, resource types, tags.

use std::collections::BTreeMap;

use http::Method;
use openstack_auth::{Error, Result};
use openstack_resource::{
    Api, Create, Delete, Get, List, PreparedRequest, Query, Resource, Update, UpdateStrategy,
    decode, encode_segment,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::proxy::{IdRef, ImageProxy, decode_err, decode_field};
use crate::types::Visibility;

/// A metadef namespace.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
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
impl IdRef for MetadefNamespace {
    fn id_ref(&self) -> &str {
        &self.namespace
    }
}

/// A metadef object (a named group of properties in a namespace).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
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
        format!("/v2/metadefs/namespaces/{}/objects", encode_segment(ns))
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
impl IdRef for MetadefObject {
    fn id_ref(&self) -> &str {
        &self.name
    }
}

/// A metadef property: a JSON-schema fragment with a name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
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

impl IdRef for MetadefProperty {
    fn id_ref(&self) -> &str {
        &self.name
    }
}

/// A resource type (e.g. `OS::Glance::Image`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MetadefResourceType {
    /// Name.
    pub name: String,
    /// Creation time.
    #[serde(default)]
    pub created_at: String,
    /// Last update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// An association of a namespace with a resource type.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
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
}

impl IdRef for MetadefResourceTypeAssociation {
    fn id_ref(&self) -> &str {
        &self.name
    }
}

/// A metadef tag.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MetadefTag {
    /// Name.
    pub name: String,
    /// Creation time.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_at: String,
    /// Last update.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub updated_at: String,
}

impl IdRef for MetadefTag {
    fn id_ref(&self) -> &str {
        &self.name
    }
}

fn ns_path(ns: &str) -> String {
    format!("/v2/metadefs/namespaces/{}", encode_segment(ns))
}

impl ImageProxy {
    fn namespaces_api(&self) -> Api<MetadefNamespace> {
        Api::new(self.session.clone(), ())
    }

    fn objects_api(&self, ns: &str) -> Api<MetadefObject> {
        Api::new(self.session.clone(), ns.to_string())
    }

    // ---- namespaces -------------------------------------------------------------------------

    /// `create_metadef_namespace(**attrs)`.
    ///
    /// # Errors
    /// [`Error::Conflict`] for a duplicate; [`Error::Forbidden`] for non-admins.
    pub async fn create_metadef_namespace(
        &self,
        namespace: &MetadefNamespace,
    ) -> Result<MetadefNamespace> {
        if namespace.namespace.is_empty() {
            return Err(Error::InvalidArgument(
                "a metadef namespace needs a name (namespace)".into(),
            ));
        }
        self.namespaces_api().create(namespace).await
    }

    /// `delete_metadef_namespace(metadef_namespace, ignore_missing)`.
    ///
    /// # Errors
    /// [`Error::NotFound`] unless `ignore_missing`.
    pub async fn delete_metadef_namespace(
        &self,
        namespace: impl IdRef,
        ignore_missing: bool,
    ) -> Result<bool> {
        let api = self.namespaces_api();
        if ignore_missing {
            api.delete_opt(namespace.id_ref()).await
        } else {
            api.delete(namespace.id_ref()).await.map(|()| true)
        }
    }

    /// `get_metadef_namespace(metadef_namespace)`.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn get_metadef_namespace(&self, namespace: impl IdRef) -> Result<MetadefNamespace> {
        self.namespaces_api().get(namespace.id_ref()).await
    }

    /// `metadef_namespaces(**query)` (filters `visibility`, `resource_types`, sorting).
    ///
    /// # Errors
    /// Server errors.
    pub async fn metadef_namespaces(&self, query: &Query) -> Result<Vec<MetadefNamespace>> {
        self.namespaces_api().list_all(query).await
    }

    /// `update_metadef_namespace(metadef_namespace, **attrs)`: sends `changed` (a modified
    /// copy of `original`) with PUT, as Glance requires.
    ///
    /// # Errors
    /// Server errors.
    pub async fn update_metadef_namespace(
        &self,
        original: &MetadefNamespace,
        changed: &MetadefNamespace,
    ) -> Result<MetadefNamespace> {
        // Renaming changes the id: address the original name.
        let mut body =
            serde_json::to_value(changed).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        if let Value::Object(m) = &mut body {
            for k in MetadefNamespace::READ_ONLY {
                m.remove(*k);
            }
        }
        let req = PreparedRequest::new(Method::PUT, ns_path(&original.namespace)).with_json(body);
        decode(self.send(req).await?)
    }

    // ---- objects ----------------------------------------------------------------------------

    /// `create_metadef_object(namespace, **attrs)`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn create_metadef_object(
        &self,
        namespace: impl IdRef,
        object: &MetadefObject,
    ) -> Result<MetadefObject> {
        self.objects_api(namespace.id_ref()).create(object).await
    }

    /// `get_metadef_object(metadef_object, namespace)`.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn get_metadef_object(
        &self,
        object: impl IdRef,
        namespace: impl IdRef,
    ) -> Result<MetadefObject> {
        self.objects_api(namespace.id_ref()).get(object.id_ref()).await
    }

    /// `metadef_objects(namespace)`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn metadef_objects(&self, namespace: impl IdRef) -> Result<Vec<MetadefObject>> {
        self.objects_api(namespace.id_ref()).list_all(&Query::new()).await
    }

    /// `update_metadef_object(metadef_object, namespace, **attrs)`: PUT of `changed`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn update_metadef_object(
        &self,
        original: &MetadefObject,
        changed: &MetadefObject,
        namespace: impl IdRef,
    ) -> Result<MetadefObject> {
        let mut body =
            serde_json::to_value(changed).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        if let Value::Object(m) = &mut body {
            for k in MetadefObject::READ_ONLY {
                m.remove(*k);
            }
        }
        let path =
            format!("{}/objects/{}", ns_path(namespace.id_ref()), encode_segment(&original.name));
        decode(self.send(PreparedRequest::new(Method::PUT, path).with_json(body)).await?)
    }

    /// `delete_metadef_object(metadef_object, namespace)`.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn delete_metadef_object(
        &self,
        object: impl IdRef,
        namespace: impl IdRef,
    ) -> Result<()> {
        self.objects_api(namespace.id_ref()).delete(object.id_ref()).await
    }

    /// `delete_all_metadef_objects(namespace)`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn delete_all_metadef_objects(&self, namespace: impl IdRef) -> Result<()> {
        let path = format!("{}/objects", ns_path(namespace.id_ref()));
        self.send(PreparedRequest::new(Method::DELETE, path)).await.map(drop)
    }

    // ---- properties -------------------------------------------------------------------------

    /// `create_metadef_property(metadef_namespace, **attrs)`.
    ///
    /// # Errors
    /// Server errors (400 for an invalid schema fragment).
    pub async fn create_metadef_property(
        &self,
        namespace: impl IdRef,
        property: &MetadefProperty,
    ) -> Result<MetadefProperty> {
        let path = format!("{}/properties", ns_path(namespace.id_ref()));
        let body =
            serde_json::to_value(property).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let v = self.send(PreparedRequest::new(Method::POST, &path).with_json(body)).await?;
        serde_json::from_value(v).map_err(|e| decode_err(&path, e))
    }

    /// `update_metadef_property(metadef_property, metadef_namespace, **attrs)`: PUT of
    /// `property` at `name` (which may differ, to rename).
    ///
    /// # Errors
    /// Server errors.
    pub async fn update_metadef_property(
        &self,
        name: impl IdRef,
        namespace: impl IdRef,
        property: &MetadefProperty,
    ) -> Result<MetadefProperty> {
        let path =
            format!("{}/properties/{}", ns_path(namespace.id_ref()), encode_segment(name.id_ref()));
        let body =
            serde_json::to_value(property).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let v = self.send(PreparedRequest::new(Method::PUT, &path).with_json(body)).await?;
        serde_json::from_value(v).map_err(|e| decode_err(&path, e))
    }

    /// `delete_metadef_property(metadef_property, metadef_namespace, ignore_missing)`.
    ///
    /// # Errors
    /// [`Error::NotFound`] unless `ignore_missing`.
    pub async fn delete_metadef_property(
        &self,
        name: impl IdRef,
        namespace: impl IdRef,
        ignore_missing: bool,
    ) -> Result<bool> {
        let path =
            format!("{}/properties/{}", ns_path(namespace.id_ref()), encode_segment(name.id_ref()));
        match self.send(PreparedRequest::new(Method::DELETE, path)).await {
            Ok(_) => Ok(true),
            Err(e) if ignore_missing && e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `get_metadef_property(metadef_property, metadef_namespace)`.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn get_metadef_property(
        &self,
        name: impl IdRef,
        namespace: impl IdRef,
    ) -> Result<MetadefProperty> {
        let path =
            format!("{}/properties/{}", ns_path(namespace.id_ref()), encode_segment(name.id_ref()));
        let v = self.send(PreparedRequest::new(Method::GET, &path)).await?;
        serde_json::from_value(v).map_err(|e| decode_err(&path, e))
    }

    /// `metadef_properties(metadef_namespace)`: all properties of a namespace.
    ///
    /// # Errors
    /// Server errors.
    pub async fn metadef_properties(&self, namespace: impl IdRef) -> Result<Vec<MetadefProperty>> {
        let path = format!("{}/properties", ns_path(namespace.id_ref()));
        let v = self.send(PreparedRequest::new(Method::GET, &path)).await?;
        // Glance answers a map keyed by name.
        let map: BTreeMap<String, Value> = decode_field(v, "properties", &path)?;
        map.into_iter()
            .map(|(name, mut body)| {
                if let Value::Object(m) = &mut body {
                    m.insert("name".into(), Value::String(name));
                }
                serde_json::from_value(body).map_err(|e| decode_err(&path, e))
            })
            .collect()
    }

    /// `delete_all_metadef_properties(metadef_namespace)`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn delete_all_metadef_properties(&self, namespace: impl IdRef) -> Result<()> {
        let path = format!("{}/properties", ns_path(namespace.id_ref()));
        self.send(PreparedRequest::new(Method::DELETE, path)).await.map(drop)
    }

    // ---- resource types ---------------------------------------------------------------------

    /// `metadef_resource_types()`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn metadef_resource_types(&self) -> Result<Vec<MetadefResourceType>> {
        let path = "/v2/metadefs/resource_types";
        let v = self.send(PreparedRequest::new(Method::GET, path)).await?;
        decode_field(v, "resource_types", path)
    }

    /// `create_metadef_resource_type_association(metadef_namespace, **attrs)`.
    ///
    /// # Errors
    /// Server errors (409 when already associated).
    pub async fn create_metadef_resource_type_association(
        &self,
        namespace: impl IdRef,
        association: &MetadefResourceTypeAssociation,
    ) -> Result<MetadefResourceTypeAssociation> {
        let path = format!("{}/resource_types", ns_path(namespace.id_ref()));
        let body =
            serde_json::to_value(association).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let v = self.send(PreparedRequest::new(Method::POST, &path).with_json(body)).await?;
        serde_json::from_value(v).map_err(|e| decode_err(&path, e))
    }

    /// `delete_metadef_resource_type_association(metadef_resource_type, metadef_namespace,
    /// ignore_missing)`.
    ///
    /// # Errors
    /// [`Error::NotFound`] unless `ignore_missing`.
    pub async fn delete_metadef_resource_type_association(
        &self,
        resource_type: impl IdRef,
        namespace: impl IdRef,
        ignore_missing: bool,
    ) -> Result<bool> {
        let path = format!(
            "{}/resource_types/{}",
            ns_path(namespace.id_ref()),
            encode_segment(resource_type.id_ref())
        );
        match self.send(PreparedRequest::new(Method::DELETE, path)).await {
            Ok(_) => Ok(true),
            Err(e) if ignore_missing && e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `metadef_resource_type_associations(metadef_namespace)`.
    ///
    /// # Errors
    /// Server errors.
    pub async fn metadef_resource_type_associations(
        &self,
        namespace: impl IdRef,
    ) -> Result<Vec<MetadefResourceTypeAssociation>> {
        let path = format!("{}/resource_types", ns_path(namespace.id_ref()));
        let v = self.send(PreparedRequest::new(Method::GET, &path)).await?;
        decode_field(v, "resource_type_associations", &path)
    }

    // ---- tags -------------------------------------------------------------------------------

    /// Creates one tag in a namespace.
    ///
    /// # Errors
    /// Server errors (409 for a duplicate).
    pub async fn create_metadef_tag(
        &self,
        namespace: impl IdRef,
        name: &str,
    ) -> Result<MetadefTag> {
        let path = format!("{}/tags/{}", ns_path(namespace.id_ref()), encode_segment(name));
        let v = self.send(PreparedRequest::new(Method::POST, &path)).await?;
        serde_json::from_value(v).map_err(|e| decode_err(&path, e))
    }

    /// Creates several tags; with `append == false` they replace the namespace's tags.
    ///
    /// # Errors
    /// Server errors.
    pub async fn create_metadef_tags(
        &self,
        namespace: impl IdRef,
        names: &[&str],
        append: bool,
    ) -> Result<Vec<MetadefTag>> {
        let path = format!("{}/tags", ns_path(namespace.id_ref()));
        let body =
            json!({ "tags": names.iter().map(|n| json!({ "name": n })).collect::<Vec<_>>() });
        let mut req = PreparedRequest::new(Method::POST, &path).with_json(body);
        if append {
            req = req.with_header("x-openstack-append", "True");
        }
        let v = self.send(req).await?;
        decode_field(v, "tags", &path)
    }

    /// Gets one tag.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn get_metadef_tag(&self, namespace: impl IdRef, name: &str) -> Result<MetadefTag> {
        let path = format!("{}/tags/{}", ns_path(namespace.id_ref()), encode_segment(name));
        let v = self.send(PreparedRequest::new(Method::GET, &path)).await?;
        serde_json::from_value(v).map_err(|e| decode_err(&path, e))
    }

    /// Lists a namespace's tags.
    ///
    /// # Errors
    /// Server errors.
    pub async fn metadef_tags(&self, namespace: impl IdRef) -> Result<Vec<MetadefTag>> {
        let path = format!("{}/tags", ns_path(namespace.id_ref()));
        let v = self.send(PreparedRequest::new(Method::GET, &path)).await?;
        decode_field(v, "tags", &path)
    }

    /// Renames a tag.
    ///
    /// # Errors
    /// Server errors.
    pub async fn update_metadef_tag(
        &self,
        namespace: impl IdRef,
        name: &str,
        new_name: &str,
    ) -> Result<MetadefTag> {
        let path = format!("{}/tags/{}", ns_path(namespace.id_ref()), encode_segment(name));
        let v = self
            .send(PreparedRequest::new(Method::PUT, &path).with_json(json!({ "name": new_name })))
            .await?;
        serde_json::from_value(v).map_err(|e| decode_err(&path, e))
    }

    /// Deletes a tag.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn delete_metadef_tag(&self, namespace: impl IdRef, name: &str) -> Result<()> {
        let path = format!("{}/tags/{}", ns_path(namespace.id_ref()), encode_segment(name));
        self.send(PreparedRequest::new(Method::DELETE, path)).await.map(drop)
    }

    /// Deletes all tags of a namespace.
    ///
    /// # Errors
    /// Server errors.
    pub async fn delete_all_metadef_tags(&self, namespace: impl IdRef) -> Result<()> {
        let path = format!("{}/tags", ns_path(namespace.id_ref()));
        self.send(PreparedRequest::new(Method::DELETE, path)).await.map(drop)
    }

    /// `wait_for_delete(res)` for a metadef namespace.
    ///
    /// # Errors
    /// [`Error::Timeout`].
    pub async fn wait_for_metadef_namespace_delete(
        &self,
        namespace: impl IdRef,
        opts: &openstack_resource::WaitOptions,
    ) -> Result<()> {
        self.namespaces_api().wait_for_delete(namespace.id_ref(), opts).await
    }
}
