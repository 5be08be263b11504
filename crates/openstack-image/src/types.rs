//! Glance v2 resources: plain serde data, no I/O.

use std::collections::BTreeMap;

use openstack_resource::{Create, Delete, Get, HasStatus, List, Resource, Update, UpdateStrategy};
use serde::{Deserialize, Serialize};

pub(crate) use crate::enums::{
    ContainerFormat, DiskFormat, ImageStatus, MemberStatus, TaskStatus, Visibility,
};
use serde_json::Value;

/// `"a,b"` ⇄ `["a", "b"]` for Glance's comma-separated fields.
mod csv {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.join(","))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        Ok(s.map(|s| {
            s.split(',').map(str::trim).filter(|p| !p.is_empty()).map(String::from).collect()
        })
        .unwrap_or_default())
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One location of an image's data (admin/service only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// The data's URL.
    pub url: String,
    /// Store-specific metadata (e.g. `store`).
    #[serde(default)]
    pub metadata: BTreeMap<String, Value>,
    /// Fields this SDK does not know yet (kept, and sent back as they came).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// A Glance image: every field of the v2 image schema, plus free-form properties.
///
/// Fields the server always returns are not `Option`. Unknown properties land in
/// [`Image::properties`] and round-trip; the `os_glance_*` import fields and `stores` are
/// typed. Build a modified copy and pass both to `update_image`: only what changed is sent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Image {
    /// Id (UUID).
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Status.
    #[serde(default)]
    pub status: ImageStatus,
    /// Visibility.
    #[serde(default)]
    pub visibility: Visibility,
    /// Protected from deletion.
    #[serde(default)]
    pub protected: bool,
    /// Hidden from default lists.
    #[serde(default)]
    pub os_hidden: bool,
    /// Owning project.
    #[serde(default)]
    pub owner: Option<String>,
    /// MD5 of the data (legacy).
    #[serde(default)]
    pub checksum: Option<String>,
    /// Algorithm of `os_hash_value` (e.g. `sha512`).
    #[serde(default)]
    pub os_hash_algo: Option<String>,
    /// Secure hash of the data.
    #[serde(default)]
    pub os_hash_value: Option<String>,
    /// Data size in bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// Virtual disk size.
    #[serde(default)]
    pub virtual_size: Option<u64>,
    /// Container format.
    #[serde(default)]
    pub container_format: Option<ContainerFormat>,
    /// Disk format.
    #[serde(default)]
    pub disk_format: Option<DiskFormat>,
    /// Creation time (ISO 8601).
    #[serde(default)]
    pub created_at: String,
    /// Last update (ISO 8601).
    #[serde(default)]
    pub updated_at: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The data's URL when the server shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_url: Option<String>,
    /// Minimum RAM (MiB).
    #[serde(default)]
    pub min_ram: u64,
    /// Minimum disk (GiB).
    #[serde(default)]
    pub min_disk: u64,
    /// Link to itself.
    #[serde(rename = "self", default)]
    pub self_link: String,
    /// Link to its data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Link to its schema.
    #[serde(default)]
    pub schema: String,
    /// Stores holding the data (multi-store clouds).
    #[serde(default, with = "csv", skip_serializing_if = "Vec::is_empty")]
    pub stores: Vec<String>,
    /// Locations (when the server shows them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    /// Stores an import is still copying to.
    #[serde(default, with = "csv", skip_serializing_if = "Vec::is_empty")]
    pub os_glance_importing_to_stores: Vec<String>,
    /// Stores an import failed for.
    #[serde(default, with = "csv", skip_serializing_if = "Vec::is_empty")]
    pub os_glance_failed_import: Vec<String>,
    /// The import task's id, while/after importing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_glance_import_task: Option<String>,
    /// Free-form properties (strings in Glance), round-tripped.
    #[serde(flatten)]
    pub properties: BTreeMap<String, Value>,
}

/// Every property of Glance's image schema that [`Image`] types as a field (the rest of an
/// image's properties are free-form strings in [`Image::properties`]).
pub(crate) const IMAGE_TYPED_FIELDS: &[&str] = &[
    "id",
    "name",
    "status",
    "visibility",
    "protected",
    "os_hidden",
    "owner",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "size",
    "virtual_size",
    "container_format",
    "disk_format",
    "created_at",
    "updated_at",
    "tags",
    "direct_url",
    "min_ram",
    "min_disk",
    "self",
    "file",
    "schema",
    "stores",
    "locations",
];

/// Fields Glance owns; never part of an update.
pub(crate) const IMAGE_READ_ONLY: &[&str] = &[
    "id",
    "status",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "size",
    "virtual_size",
    "created_at",
    "updated_at",
    "direct_url",
    "self",
    "file",
    "schema",
    "stores",
    "locations",
    "os_glance_importing_to_stores",
    "os_glance_failed_import",
    "os_glance_import_task",
];

/// Query parameters of `GET /v2/images`.
pub(crate) const IMAGE_QUERY: &[&str] = &[
    "name",
    "id",
    "status",
    "visibility",
    "owner",
    "member_status",
    "tag",
    "size_min",
    "size_max",
    "created_at",
    "updated_at",
    "sort_key",
    "sort_dir",
    "sort",
    "os_hidden",
    "protected",
    "container_format",
    "disk_format",
    "checksum",
    "os_hash_value",
];

impl Resource for Image {
    const SERVICE_TYPE: &'static str = "image";
    const KIND: &'static str = "image";
    const RESOURCE_KEY: Option<&'static str> = None;
    const LIST_KEY: &'static str = "images";
    const UPDATE: UpdateStrategy =
        UpdateStrategy::JsonPatch("application/openstack-images-v2.1-json-patch");
    const READ_ONLY: &'static [&'static str] = IMAGE_READ_ONLY;
    const QUERY_PARAMETERS: &'static [&'static str] = IMAGE_QUERY;
    type Parent = ();
    fn base_path(_: &()) -> String {
        "/v2/images".into()
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    fn find_extra_query() -> &'static [(&'static str, &'static str)] {
        // `find` also finds hidden images, as openstacksdk does.
        &[]
    }
}
impl Get for Image {}
impl List for Image {}
impl Update for Image {}
impl Delete for Image {}
impl Create for Image {
    type Create = ImageCreate;
}

impl HasStatus for Image {
    fn status(&self) -> &str {
        self.status.as_str()
    }
    fn failure_message(&self) -> Option<String> {
        (!self.os_glance_failed_import.is_empty()).then(|| {
            format!("import failed for stores: {}", self.os_glance_failed_import.join(", "))
        })
    }
}

impl Image {
    /// The top-level keys this SDK decodes into typed fields; every other key of Glance's
    /// image body lands in [`Image::properties`].
    pub fn typed_fields() -> &'static [&'static str] {
        IMAGE_TYPED_FIELDS
    }

    /// A free-form property as a string.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties.get(key).and_then(Value::as_str)
    }
}

/// The body of `POST /v2/images`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct ImageCreate {
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A chosen id (UUID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Disk format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_format: Option<DiskFormat>,
    /// Container format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_format: Option<ContainerFormat>,
    /// Visibility.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    /// Protected.
    #[serde(skip_serializing_if = "is_false")]
    pub protected: bool,
    /// Hidden.
    #[serde(skip_serializing_if = "is_false")]
    pub os_hidden: bool,
    /// Minimum RAM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_ram: Option<u64>,
    /// Minimum disk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_disk: Option<u64>,
    /// Tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Free-form properties.
    #[serde(flatten)]
    pub properties: BTreeMap<String, Value>,
}

crate::id_ref::id_ref!(Image => id);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({"name": "probe", "disk_format": "raw", "container_format": "bare", "visibility": "shared",
            "size": 12, "virtual_size": null, "status": "active", "checksum": "c", "protected": false,
            "min_ram": 0, "min_disk": 0, "owner": "o", "os_hidden": false, "os_hash_algo": "sha512",
            "os_hash_value": "h", "id": "5cfaff86", "created_at": "t1", "updated_at": "t2", "tags": ["a"],
            "self": "/v2/images/5cfaff86", "file": "/v2/images/5cfaff86/file", "schema": "/v2/schemas/image",
            "stores": "fast,slow", "os_glance_failed_import": "", "custom": "x", "hw_disk_bus": "scsi"})
    }

    #[test]
    fn image_decodes_typed_and_keeps_properties() {
        let img: Image = serde_json::from_value(sample()).unwrap();
        assert_eq!(img.status, ImageStatus::Active);
        assert_eq!(img.disk_format, Some(DiskFormat::Raw));
        assert_eq!(img.stores, vec!["fast", "slow"]);
        assert!(img.os_glance_failed_import.is_empty());
        assert_eq!(img.property("custom"), Some("x"));
        assert_eq!(img.self_link, "/v2/images/5cfaff86");
    }

    #[test]
    fn unknown_enum_values_round_trip() {
        let mut v = sample();
        v["status"] = json!("frozen");
        v["disk_format"] = json!("vhdz");
        let img: Image = serde_json::from_value(v).unwrap();
        assert_eq!(img.status, ImageStatus::Unknown("frozen".into()));
        let back = serde_json::to_value(&img).unwrap();
        assert_eq!(back["status"], "frozen");
        assert_eq!(back["disk_format"], "vhdz");
        assert_eq!(back["custom"], "x");
        assert_eq!(back["stores"], "fast,slow");
    }

    #[test]
    fn image_patch_touches_only_what_changed() {
        let img: Image = serde_json::from_value(sample()).unwrap();
        let mut changed = img.clone();
        changed.name = Some("renamed".into());
        changed.properties.insert("custom_key".into(), json!("v"));
        changed.properties.remove("hw_disk_bus");
        changed.tags.push("b".into());
        let req =
            openstack_resource::requests::update::<Image>(&(), &img, &changed).unwrap().unwrap();
        assert_eq!(req.method, http::Method::PATCH);
        assert_eq!(req.headers["content-type"], "application/openstack-images-v2.1-json-patch");
        assert_eq!(
            req.json.unwrap(),
            json!([
                {"op": "remove", "path": "/hw_disk_bus"},
                {"op": "replace", "path": "/name", "value": "renamed"},
                {"op": "replace", "path": "/tags", "value": ["a", "b"]},
                {"op": "add", "path": "/custom_key", "value": "v"},
            ])
        );
    }
}
