//! Records as openstackclient shows them: the same field names and JSON keys.

use serde::Serialize;
use serde_json::{Map, Value};

use openstack_client::image::{
    Image, MetadefNamespace, MetadefObject, MetadefProperty, MetadefResourceTypeAssociation,
};

/// The fields `openstack image show` keeps at the top level; everything else but `tags`
/// goes under `properties`.
const IMAGE_TOP: [&str; 17] = [
    "checksum",
    "container_format",
    "created_at",
    "disk_format",
    "file",
    "id",
    "min_disk",
    "min_ram",
    "name",
    "owner",
    "protected",
    "schema",
    "size",
    "status",
    "updated_at",
    "virtual_size",
    "visibility",
];

/// Fields of the SDK's image that are not image properties in openstackclient's sense.
const NOT_PROPERTIES: [&str; 2] = ["self", "tags"];

/// Any serialisable record as an ordered field list (keys sorted, nulls dropped).
pub fn fields<T: Serialize>(record: &T) -> Vec<(String, Value)> {
    let mut map = match serde_json::to_value(record) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    map.retain(|_, v| !v.is_null());
    let mut out: Vec<(String, Value)> = map.into_iter().collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A JSON object's fields, sorted by key.
pub fn sorted(map: Map<String, Value>) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = map.into_iter().collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// `record` as a JSON object.
fn object_of<T: Serialize>(record: &T) -> Map<String, Value> {
    match serde_json::to_value(record) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// A metadef namespace as `openstack image metadef namespace show` prints it: its own fields,
/// the names of its resource types and of its properties.
pub(crate) fn namespace(ns: &MetadefNamespace) -> Vec<(String, Value)> {
    const SHOWN: [&str; 10] = [
        "created_at",
        "description",
        "display_name",
        "namespace",
        "owner",
        "protected",
        "tags",
        "schema",
        "updated_at",
        "visibility",
    ];
    let mut m = object_of(ns);
    m.retain(|k, v| SHOWN.contains(&k.as_str()) && !v.is_null());
    if !ns.resource_type_associations.is_empty() {
        let names = ns.resource_type_associations.iter().map(|r| Value::String(r.name.clone()));
        m.insert("resource_type_associations".into(), Value::Array(names.collect()));
    }
    if !ns.properties.is_empty() {
        let names = ns.properties.keys().map(|k| Value::String(k.clone()));
        m.insert("properties".into(), Value::Array(names.collect()));
    }
    sorted(m)
}

/// A metadef object as `openstack image metadef object show` prints it (fixed fields, in
/// openstackclient's order, absent ones null).
pub(crate) fn object(o: &MetadefObject, namespace: &str) -> Vec<(String, Value)> {
    let mut m = object_of(o);
    m.insert("namespace_name".into(), Value::String(namespace.to_string()));
    ["created_at", "description", "name", "namespace_name", "properties", "required", "updated_at"]
        .iter()
        .map(|k| (k.to_string(), m.remove(*k).unwrap_or(Value::Null)))
        .collect()
}

/// A metadef property as `openstack image metadef property show` prints it.
pub(crate) fn property(p: &MetadefProperty, namespace: &str) -> Vec<(String, Value)> {
    let mut m = object_of(p);
    m.insert("namespace_name".into(), Value::String(namespace.to_string()));
    m.retain(|_, v| !v.is_null());
    sorted(m)
}

/// A resource type association as openstackclient prints it.
pub(crate) fn association(
    a: &MetadefResourceTypeAssociation,
    namespace: &str,
) -> Vec<(String, Value)> {
    let mut m = object_of(a);
    m.insert("namespace_name".into(), Value::String(namespace.to_string()));
    sorted(m)
}

/// An image as `openstack image show` prints it.
pub(crate) fn image(img: &Image, human_readable: bool) -> Vec<(String, Value)> {
    let Value::Object(all) = serde_json::to_value(img).unwrap_or(Value::Null) else {
        return Vec::new();
    };
    let mut top = Map::new();
    let mut properties = Map::new();
    for (k, v) in all {
        if v.is_null() {
            continue;
        }
        if IMAGE_TOP.contains(&k.as_str()) {
            top.insert(k, v);
        } else if !NOT_PROPERTIES.contains(&k.as_str()) {
            properties.insert(k, v);
        }
    }
    if human_readable {
        if let Some(size) = img.size {
            top.insert("size".into(), Value::String(human_size(size)));
        }
    }
    top.insert("tags".into(), Value::Array(img.tags.iter().cloned().map(Value::String).collect()));
    if !properties.is_empty() {
        top.insert("properties".into(), Value::Object(properties));
    }
    let mut out: Vec<(String, Value)> = top.into_iter().collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// `1.2G`-style sizes, as openstackclient's `--human-readable`.
pub fn human_size(bytes: u64) -> String {
    let units = ["", "K", "M", "G", "T", "P"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < units.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}")
    } else {
        let text = format!("{v:.1}");
        format!("{}{}", text.trim_end_matches(".0"), units[unit])
    }
}

/// The `image list` row for `columns`.
pub(crate) fn image_row(img: &Image, long: bool) -> Vec<Value> {
    let s = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
    let mut row = vec![Value::String(img.id.clone()), s(&img.name)];
    if long {
        row.extend([
            Value::String(img.disk_format.as_ref().map(|f| f.to_string()).unwrap_or_default()),
            Value::String(img.container_format.as_ref().map(|f| f.to_string()).unwrap_or_default()),
            img.size.map_or(Value::Null, Value::from),
            s(&img.checksum),
            Value::String(img.status.to_string()),
            Value::String(img.visibility.to_string()),
            Value::Bool(img.protected),
            s(&img.owner),
            s(&img.os_hash_algo),
            s(&img.os_hash_value),
            Value::Array(img.tags.iter().cloned().map(Value::String).collect()),
        ]);
    } else {
        row.push(Value::String(img.status.to_string()));
    }
    row
}

/// The `image list` headers.
pub fn image_headers(long: bool) -> Vec<&'static str> {
    if long {
        vec![
            "ID",
            "Name",
            "Disk Format",
            "Container Format",
            "Size",
            "Checksum",
            "Status",
            "Visibility",
            "Protected",
            "Project",
            "Hash Algorithm",
            "Hash Value",
            "Tags",
        ]
    } else {
        vec!["ID", "Name", "Status"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_openstackclient() {
        assert_eq!(human_size(512), "512");
        assert_eq!(human_size(1024), "1K");
        assert_eq!(human_size(1536), "1.5K");
        assert_eq!(human_size(1 << 30), "1G");
    }
}
