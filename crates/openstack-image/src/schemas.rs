//! Schemas: `GET /v2/schemas/...`, one call per schema Glance serves.

use http::Method;
use openstack_resource::PreparedRequest;

use crate::call::{Built, Call, json};
use crate::proxy::ImageProxy;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A schema Glance serves under `/v2/schemas/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SchemaName {
    /// `/v2/schemas/images`.
    Images,
    /// `/v2/schemas/image`.
    Image,
    /// `/v2/schemas/members`.
    Members,
    /// `/v2/schemas/member`.
    Member,
    /// `/v2/schemas/tasks`.
    Tasks,
    /// `/v2/schemas/task`.
    Task,
    /// `/v2/schemas/metadefs/namespace`.
    MetadefNamespace,
    /// `/v2/schemas/metadefs/namespaces`.
    MetadefNamespaces,
    /// `/v2/schemas/metadefs/resource_type`.
    MetadefResourceType,
    /// `/v2/schemas/metadefs/resource_types`.
    MetadefResourceTypes,
    /// `/v2/schemas/metadefs/object`.
    MetadefObject,
    /// `/v2/schemas/metadefs/objects`.
    MetadefObjects,
    /// `/v2/schemas/metadefs/property`.
    MetadefProperty,
    /// `/v2/schemas/metadefs/properties`.
    MetadefProperties,
    /// `/v2/schemas/metadefs/tag`.
    MetadefTag,
    /// `/v2/schemas/metadefs/tags`.
    MetadefTags,
    /// Any other schema path below `/v2/schemas/` (e.g. a newer one).
    Other(String),
}

impl SchemaName {
    /// The path below `/v2/schemas/`.
    pub fn path(&self) -> &str {
        match self {
            SchemaName::Images => "images",
            SchemaName::Image => "image",
            SchemaName::Members => "members",
            SchemaName::Member => "member",
            SchemaName::Tasks => "tasks",
            SchemaName::Task => "task",
            SchemaName::MetadefNamespace => "metadefs/namespace",
            SchemaName::MetadefNamespaces => "metadefs/namespaces",
            SchemaName::MetadefResourceType => "metadefs/resource_type",
            SchemaName::MetadefResourceTypes => "metadefs/resource_types",
            SchemaName::MetadefObject => "metadefs/object",
            SchemaName::MetadefObjects => "metadefs/objects",
            SchemaName::MetadefProperty => "metadefs/property",
            SchemaName::MetadefProperties => "metadefs/properties",
            SchemaName::MetadefTag => "metadefs/tag",
            SchemaName::MetadefTags => "metadefs/tags",
            SchemaName::Other(p) => p,
        }
    }
}

/// A JSON schema served by Glance (`/v2/schemas/...`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Schema {
    /// The schema's name (`image`, `images`, `metadef_namespace`, ...).
    #[serde(default)]
    pub name: String,
    /// Its properties (JSON schema).
    #[serde(default)]
    pub properties: BTreeMap<String, Value>,
    /// Its additional-properties rule, if any.
    #[serde(default, rename = "additionalProperties", skip_serializing_if = "Option::is_none")]
    pub additional_properties: Option<Value>,
    /// Everything else (links, required, definitions, ...).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Schema {
    /// The `enum` values of a property, if it has one (nulls skipped).
    pub fn enum_values(&self, property: &str) -> Vec<String> {
        self.properties
            .get(property)
            .and_then(|p| p.get("enum"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
            .unwrap_or_default()
    }
}

/// `GET /v2/schemas/{name}` (the name's `/` separates path segments, as Glance expects).
pub(crate) fn schema_request(name: &SchemaName) -> Built {
    let path = name
        .path()
        .split('/')
        .map(openstack_resource::encode_segment)
        .collect::<Vec<_>>()
        .join("/");
    Built::new("get_schema", PreparedRequest::new(Method::GET, format!("/v2/schemas/{path}")))
}

impl ImageProxy {
    /// Any schema under `/v2/schemas/`; the 16 openstacksdk names below are shims over it.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use openstack_image::SchemaName;
    /// let schema = image.get_schema(SchemaName::Image).await?;
    /// println!("disk formats: {:?}", schema.enum_values("disk_format"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::NotFound`] for an unknown schema.
    pub fn get_schema(&self, name: SchemaName) -> Call<Schema> {
        self.call(Ok(schema_request(&name)), json("get_schema"))
    }

    /// `get_images_schema()`: `GET /v2/schemas/images`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let schema = image.get_images_schema().await?;
    /// # let _ = schema; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_images_schema(&self) -> Call<Schema> {
        self.get_schema(SchemaName::Images)
    }

    /// `get_image_schema()`: `GET /v2/schemas/image`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let schema = image.get_image_schema().await?;
    /// # let _ = schema; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_image_schema(&self) -> Call<Schema> {
        self.get_schema(SchemaName::Image)
    }

    /// `get_members_schema()`: `GET /v2/schemas/members`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let schema = image.get_members_schema().await?;
    /// # let _ = schema; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_members_schema(&self) -> Call<Schema> {
        self.get_schema(SchemaName::Members)
    }

    /// `get_member_schema()`: `GET /v2/schemas/member`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let schema = image.get_member_schema().await?;
    /// # let _ = schema; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_member_schema(&self) -> Call<Schema> {
        self.get_schema(SchemaName::Member)
    }

    /// `get_tasks_schema()`: `GET /v2/schemas/tasks`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let schema = image.get_tasks_schema().await?;
    /// # let _ = schema; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_tasks_schema(&self) -> Call<Schema> {
        self.get_schema(SchemaName::Tasks)
    }

    /// `get_task_schema()`: `GET /v2/schemas/task`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let schema = image.get_task_schema().await?;
    /// # let _ = schema; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_task_schema(&self) -> Call<Schema> {
        self.get_schema(SchemaName::Task)
    }

    /// `get_metadef_namespace_schema()`: `GET /v2/schemas/metadefs/namespace`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let schema = image.get_metadef_namespace_schema().await?;
    /// # let _ = schema; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_metadef_namespace_schema(&self) -> Call<Schema> {
        self.get_schema(SchemaName::MetadefNamespace)
    }

    /// `get_metadef_namespaces_schema()`: `GET /v2/schemas/metadefs/namespaces`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let schema = image.get_metadef_namespaces_schema().await?;
    /// # let _ = schema; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_metadef_namespaces_schema(&self) -> Call<Schema> {
        self.get_schema(SchemaName::MetadefNamespaces)
    }

    /// `get_metadef_resource_type_schema()`: `GET /v2/schemas/metadefs/resource_type`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let schema = image.get_metadef_resource_type_schema().await?;
    /// # let _ = schema; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_metadef_resource_type_schema(&self) -> Call<Schema> {
        self.get_schema(SchemaName::MetadefResourceType)
    }

    /// `get_metadef_resource_types_schema()`: `GET /v2/schemas/metadefs/resource_types`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let schema = image.get_metadef_resource_types_schema().await?;
    /// # let _ = schema; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_metadef_resource_types_schema(&self) -> Call<Schema> {
        self.get_schema(SchemaName::MetadefResourceTypes)
    }

    /// `get_metadef_object_schema()`: `GET /v2/schemas/metadefs/object`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let schema = image.get_metadef_object_schema().await?;
    /// # let _ = schema; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_metadef_object_schema(&self) -> Call<Schema> {
        self.get_schema(SchemaName::MetadefObject)
    }

    /// `get_metadef_objects_schema()`: `GET /v2/schemas/metadefs/objects`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let schema = image.get_metadef_objects_schema().await?;
    /// # let _ = schema; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_metadef_objects_schema(&self) -> Call<Schema> {
        self.get_schema(SchemaName::MetadefObjects)
    }

    /// `get_metadef_property_schema()`: `GET /v2/schemas/metadefs/property`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let schema = image.get_metadef_property_schema().await?;
    /// # let _ = schema; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_metadef_property_schema(&self) -> Call<Schema> {
        self.get_schema(SchemaName::MetadefProperty)
    }

    /// `get_metadef_properties_schema()`: `GET /v2/schemas/metadefs/properties`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let schema = image.get_metadef_properties_schema().await?;
    /// # let _ = schema; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_metadef_properties_schema(&self) -> Call<Schema> {
        self.get_schema(SchemaName::MetadefProperties)
    }

    /// `get_metadef_tag_schema()`: `GET /v2/schemas/metadefs/tag`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let schema = image.get_metadef_tag_schema().await?;
    /// # let _ = schema; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_metadef_tag_schema(&self) -> Call<Schema> {
        self.get_schema(SchemaName::MetadefTag)
    }

    /// `get_metadef_tags_schema()`: `GET /v2/schemas/metadefs/tags`.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let schema = image.get_metadef_tags_schema().await?;
    /// # let _ = schema; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_metadef_tags_schema(&self) -> Call<Schema> {
        self.get_schema(SchemaName::MetadefTags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_paths() {
        assert_eq!(
            schema_request(&SchemaName::MetadefResourceTypes).http.path,
            "/v2/schemas/metadefs/resource_types"
        );
        assert_eq!(
            schema_request(&SchemaName::Other("x y/z".into())).http.path,
            "/v2/schemas/x%20y/z"
        );
    }
}
