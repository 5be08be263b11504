//! Checking a value against the part of Glance's JSON schema that Glance itself enforces on
//! writes (`type`, `enum`, `maxLength`, `minimum`, `readOnly`, array `items`, and the rule
//! for additional properties), so bad input is refused before a request changes anything.
//!
//! This is not a general JSON-schema validator: it covers the keywords Glance's image and
//! metadef schemas use for writable fields, and says in one line what is wrong.

use serde_json::Value;

use crate::schemas::Schema;

/// Prefix Glance reserves for its own image properties (`os_glance_*`).
pub(crate) const RESERVED_PREFIX: &str = "os_glance";

impl Schema {
    /// Checks that `field` may be written with `value`: not read-only, of the schema's type,
    /// one of its `enum` values, within `maxLength` / `minimum`. A field the schema does not
    /// list is checked against `additionalProperties` (Glance's image schema: strings only).
    ///
    /// ```
    /// # fn demo(schema: &openstack_image::Schema) {
    /// if let Err(why) = schema.check("min_disk", &serde_json::json!(-1)) {
    ///     eprintln!("{why}");
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    /// A one-line explanation naming the field, the value and the rule it breaks.
    pub fn check(&self, field: &str, value: &Value) -> Result<(), String> {
        match self.properties.get(field) {
            Some(rule) => {
                if rule.get("readOnly").and_then(Value::as_bool) == Some(true) {
                    return Err(format!("{field} is read-only: Glance sets it"));
                }
                check_rule(field, rule, value)
            }
            None => match &self.additional_properties {
                Some(Value::Bool(false)) => {
                    Err(format!("{field} is not a property the {} schema allows", self.name))
                }
                Some(rule @ Value::Object(_)) => check_rule(field, rule, value),
                _ => Ok(()),
            },
        }
    }
}

fn check_rule(field: &str, rule: &Value, value: &Value) -> Result<(), String> {
    if let Some(types) = rule.get("type") {
        let ok = match types {
            Value::String(t) => type_matches(t, value),
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(|t| type_matches(t, value)),
            _ => true,
        };
        if !ok {
            return Err(format!("{field} must be of type {types} (got {value})"));
        }
    }
    if let Some(allowed) = rule.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            let list: Vec<String> =
                allowed.iter().filter(|v| !v.is_null()).map(|v| v.to_string()).collect();
            return Err(format!("{field} {value} is not one of {}", list.join(", ")));
        }
    }
    if let (Some(max), Value::String(s)) = (rule.get("maxLength").and_then(Value::as_u64), value) {
        let len = s.chars().count() as u64;
        if len > max {
            return Err(format!("{field} is {len} characters long; at most {max} are allowed"));
        }
    }
    if let (Some(min), Some(n)) = (rule.get("minimum").and_then(Value::as_f64), value.as_f64()) {
        if n < min {
            return Err(format!("{field} must be at least {min} (got {value})"));
        }
    }
    if let (Some(items), Value::Array(values)) = (rule.get("items"), value) {
        for v in values {
            check_rule(&format!("an item of {field}"), items, v)?;
        }
    }
    Ok(())
}

fn type_matches(t: &str, value: &Value) -> bool {
    match t {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    }
}

/// Checks image properties set at creation: Glance's schema, its reserved namespace, the
/// length of property names, and sizes that cannot be negative.
pub(crate) fn check_image_property(
    schema: &Schema,
    key: &str,
    value: &Value,
) -> Result<(), String> {
    if key.starts_with(RESERVED_PREFIX) {
        return Err(format!(
            "property {key:?} is in the {RESERVED_PREFIX}_* namespace, which Glance reserves for itself"
        ));
    }
    if key.is_empty() || key.chars().count() > 255 {
        return Err(format!("property name {key:?} must be 1 to 255 characters long"));
    }
    if matches!(key, "min_disk" | "min_ram") && value.as_i64().is_some_and(|n| n < 0) {
        return Err(format!("{key} cannot be negative (got {value})"));
    }
    schema.check(key, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn image_schema() -> Schema {
        serde_json::from_value(json!({
            "name": "image",
            "properties": {
                "name": {"type": ["null", "string"], "maxLength": 255},
                "status": {"type": "string", "readOnly": true},
                "min_disk": {"type": "integer"},
                "visibility": {"type": "string", "enum": ["public", "private"]},
                "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}},
                "size": {"type": "integer", "minimum": 0},
                "offset": {"type": "integer"},
                "ratio": {"type": "number"},
                "protected": {"type": "boolean"},
                "meta": {"type": "object"},
                "gone": {"type": "null"},
                "container_format": {"type": ["null", "string"], "enum": [null, "bare", "ovf"]}
            },
            "additionalProperties": {"type": "string"}
        }))
        .unwrap()
    }

    #[test]
    fn each_rule_names_the_field() {
        let s = image_schema();
        assert!(s.check("name", &json!("ok")).is_ok());
        assert!(s.check("name", &Value::Null).is_ok());
        assert!(s.check("name", &json!("x".repeat(256))).unwrap_err().contains("256 characters"));
        assert!(s.check("status", &json!("active")).unwrap_err().contains("read-only"));
        assert!(s.check("min_disk", &json!("2")).unwrap_err().contains("type"));
        assert!(s.check("visibility", &json!("secret")).unwrap_err().contains("not one of"));
        assert!(s.check("tags", &json!(["abc", "abcd"])).unwrap_err().contains("item of tags"));
        assert!(s.check("size", &json!(-1)).unwrap_err().contains("at least 0"));
        assert!(s.check("custom", &json!("v")).is_ok());
        assert!(s.check("custom", &json!(5)).unwrap_err().contains("custom"));
    }

    #[test]
    fn limits_are_inclusive_as_glance_s_are() {
        let s = image_schema();
        assert!(s.check("name", &json!("x".repeat(255))).is_ok());
        assert!(s.check("name", &json!("é".repeat(255))).is_ok(), "characters, not bytes");
        assert!(s.check("tags", &json!(["abc"])).is_ok());
        assert!(s.check("size", &json!(0)).is_ok());
        assert!(s.check("visibility", &json!("public")).is_ok());
        // Glance's enums of nullable fields hold null; the message lists what can be typed.
        assert!(s.check("container_format", &Value::Null).is_ok());
        let err = s.check("container_format", &json!("box")).unwrap_err();
        assert_eq!(err, r#"container_format "box" is not one of "bare", "ovf""#);
        assert!(check_image_property(&s, &"k".repeat(255), &json!("v")).is_ok());
        assert!(check_image_property(&s, "min_disk", &json!(0)).is_ok());
        assert!(check_image_property(&s, "min_ram", &json!(-1)).unwrap_err().contains("negative"));
        // Only min_disk and min_ram have that rule of their own.
        assert!(check_image_property(&s, "offset", &json!(-1)).is_ok());
    }

    #[test]
    fn each_json_type_is_told_apart() {
        let s = image_schema();
        for (field, good, bad) in [
            ("min_disk", json!(2), json!(2.5)),
            ("ratio", json!(1.5), json!("1.5")),
            ("protected", json!(true), json!("yes")),
            ("tags", json!(["a"]), json!("a")),
            ("meta", json!({}), json!([])),
            ("gone", Value::Null, json!(0)),
            ("name", json!("n"), json!(5)),
        ] {
            assert!(s.check(field, &good).is_ok(), "{field} {good}");
            let err = s.check(field, &bad).unwrap_err();
            assert!(err.contains(field) && err.contains("type"), "{field} {bad}: {err}");
        }
    }

    #[test]
    fn a_schema_without_additional_properties_refuses_other_fields() {
        let s: Schema = serde_json::from_value(json!({
            "name": "namespace",
            "properties": {"display_name": {"type": "string"}},
            "additionalProperties": false
        }))
        .unwrap();
        assert!(s.check("display_name", &json!("d")).is_ok());
        let err = s.check("color", &json!("red")).unwrap_err();
        assert_eq!(err, "color is not a property the namespace schema allows");
    }

    #[test]
    fn image_properties_reserved_names_and_negative_sizes() {
        let s = image_schema();
        assert!(
            check_image_property(&s, "os_glance_x", &json!("v")).unwrap_err().contains("reserves")
        );
        assert!(check_image_property(&s, "min_disk", &json!(-1)).unwrap_err().contains("negative"));
        assert!(check_image_property(&s, &"k".repeat(256), &json!("v")).is_err());
        assert!(check_image_property(&s, "", &json!("v")).is_err());
        assert!(check_image_property(&s, "hw_disk_bus", &json!("scsi")).is_ok());
    }
}
