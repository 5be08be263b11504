//! Records as openstackclient shows them: the same field names and JSON keys.

use serde::Serialize;
use serde_json::{Map, Value};

use openstack_client::image::{
    Image, Member, MetadefNamespace, MetadefObject, MetadefProperty,
    MetadefResourceTypeAssociation, Task,
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

/// A JSON object's fields, sorted by key.
pub(crate) fn sorted(map: Map<String, Value>) -> Vec<(String, Value)> {
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
/// its tags and the names of its resource types.
pub(crate) fn namespace(ns: &MetadefNamespace) -> Vec<(String, Value)> {
    const SHOWN: [&str; 9] = [
        "created_at",
        "description",
        "display_name",
        "namespace",
        "owner",
        "protected",
        "tags",
        "updated_at",
        "visibility",
    ];
    let mut m = object_of(ns);
    m.retain(|k, v| SHOWN.contains(&k.as_str()) && !v.is_null());
    if !ns.resource_type_associations.is_empty() {
        let names = ns.resource_type_associations.iter().map(|r| Value::String(r.name.clone()));
        m.insert("resource_type_associations".into(), Value::Array(names.collect()));
    }
    sorted(m)
}

/// A task as `openstack image task show` prints it: its fields (the owner as `owner_id`), and
/// the rest under `properties` (`image_id`, `request_id`, `user_id`; openstackclient means to
/// show them there, but its SDK drops them, so it prints `{}`).
pub(crate) fn task(t: &Task) -> Vec<(String, Value)> {
    const SHOWN: [&str; 9] = [
        "created_at",
        "expires_at",
        "id",
        "input",
        "message",
        "result",
        "status",
        "type",
        "updated_at",
    ];
    let mut all = object_of(t);
    let mut m = Map::new();
    for k in SHOWN {
        m.insert(k.to_string(), all.remove(k).unwrap_or(Value::Null));
    }
    m.insert("owner_id".into(), all.remove("owner").unwrap_or(Value::Null));
    all.retain(|k, _| !["self", "schema"].contains(&k.as_str()));
    m.insert("properties".into(), Value::Object(all));
    sorted(m)
}

/// A metadef object as `openstack image metadef object show` prints it (fixed fields, in
/// openstackclient's order; no properties `{}`, none required `[]`).
pub(crate) fn object(o: &MetadefObject, namespace: &str) -> Vec<(String, Value)> {
    let mut m = object_of(o);
    m.insert("namespace_name".into(), Value::String(namespace.to_string()));
    m.entry("properties").or_insert_with(|| Value::Object(Map::new()));
    m.entry("required").or_insert_with(|| Value::Array(Vec::new()));
    ["created_at", "description", "name", "namespace_name", "properties", "required", "updated_at"]
        .iter()
        .map(|k| (k.to_string(), m.remove(*k).unwrap_or(Value::Null)))
        .collect()
}

/// A metadef property as `openstack image metadef property show` prints it.
pub(crate) fn property(p: &MetadefProperty) -> Vec<(String, Value)> {
    let mut m = object_of(p);
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

/// An image member as `openstack image member get` / `image add project` print it.
pub(crate) fn member(m: &Member) -> Vec<(String, Value)> {
    let s = |v: &str| Value::String(v.to_string());
    vec![
        ("created_at".into(), s(&m.created_at)),
        ("image_id".into(), s(&m.image_id)),
        ("member_id".into(), s(&m.member_id)),
        ("schema".into(), s(&m.schema)),
        ("status".into(), s(m.status.as_str())),
        ("updated_at".into(), s(&m.updated_at)),
    ]
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

/// `1.2G`-style sizes, as openstackclient's `--human-readable` prints them: powers of 1000,
/// one decimal, trailing zeros dropped.
pub(crate) fn human_size(bytes: u64) -> String {
    let units = ["", "K", "M", "G", "T", "P", "E"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < units.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    let text = format!("{v:.1}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{}", units[unit])
}

/// Seconds since the epoch (Glance's cache times) as openstackclient prints them: ISO 8601
/// in UTC without a zone, microseconds only when there are any.
pub(crate) fn utc_time(epoch: Option<&Value>) -> Value {
    let Some(secs) = epoch.and_then(Value::as_f64).filter(|s| *s >= 0.0) else {
        return Value::Null;
    };
    // As Python's datetime.utcfromtimestamp (openstackclient's): the fraction of the float
    // rounded half-even to microseconds (rounding secs × 10⁶ instead differs in the last
    // digit for about one value in eight).
    let whole = secs.trunc();
    let micros = ((secs - whole) * 1e6).round_ties_even() as u64;
    let at = std::time::UNIX_EPOCH
        + std::time::Duration::from_secs(whole as u64)
        + std::time::Duration::from_micros(micros);
    let text = humantime::format_rfc3339_micros(at).to_string();
    let text = text.trim_end_matches('Z');
    Value::String(text.strip_suffix(".000000").unwrap_or(text).to_string())
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
pub(crate) fn image_headers(long: bool) -> Vec<&'static str> {
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
        assert_eq!(human_size(0), "0");
        assert_eq!(human_size(512), "512");
        assert_eq!(human_size(120), "120");
        assert_eq!(human_size(1024), "1K");
        assert_eq!(human_size(1536), "1.5K");
        assert_eq!(human_size(150_000), "150K");
        assert_eq!(human_size(999_999), "1000K");
        assert_eq!(human_size(1 << 30), "1.1G");
    }

    #[test]
    fn cache_times_read_like_openstackclient() {
        let t = |v: f64| utc_time(Some(&Value::from(v)));
        assert_eq!(t(1_764_414_958.670_999), "2025-11-29T11:15:58.670999");
        assert_eq!(t(0.0), "1970-01-01T00:00:00");
        // Python's rounding (datetime.utcfromtimestamp), not secs × 10⁶ rounded: these two
        // differ (Glance 26's sqlite cache driver gives such floats).
        assert_eq!(t(1_796_207_285.788_723_5), "2026-12-02T10:28:05.788723");
        assert_eq!(t(1_796_207_285.028_347_5), "2026-12-02T10:28:05.028347");
        assert_eq!(t(1_796_207_285.999_999_5), "2026-12-02T10:28:06");
        assert_eq!(utc_time(None), Value::Null);
    }
}
