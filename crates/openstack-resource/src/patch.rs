//! RFC 6902 JSON patches computed from two states of a resource.

use serde_json::{Map, Value, json};

use openstack_auth::{Error, Result};

/// Escapes a key for a JSON pointer (`~` → `~0`, `/` → `~1`).
pub(crate) fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The operations turning `old` into `new`.
///
/// Objects are compared key by key (recursively); any other change replaces the value
/// (arrays included, as Glance expects for `tags`). Keys in `read_only` (top level) are never
/// part of the patch: changing one is an error, so the server never sees a field the caller
/// did not mean to send.
///
/// # Errors
/// [`Error::InvalidArgument`] naming a read-only field the caller changed.
pub(crate) fn diff(old: &Value, new: &Value, read_only: &[&str]) -> Result<Vec<Value>> {
    let mut ops = Vec::new();
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            for key in read_only {
                if o.get(*key) != n.get(*key) {
                    return Err(Error::InvalidArgument(format!(
                        "field {key:?} is read-only and cannot be updated"
                    )));
                }
            }
            diff_objects("", o, n, read_only, &mut ops);
        }
        _ if old != new => ops.push(json!({"op": "replace", "path": "", "value": new})),
        _ => {}
    }
    Ok(ops)
}

fn diff_objects(
    prefix: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    skip: &[&str],
    ops: &mut Vec<Value>,
) {
    let top = prefix.is_empty();
    for (key, old_value) in old {
        if top && skip.contains(&key.as_str()) {
            continue;
        }
        let path = format!("{prefix}/{}", escape_pointer(key));
        match new.get(key) {
            None => ops.push(json!({"op": "remove", "path": path})),
            Some(new_value) if new_value == old_value => {}
            Some(Value::Object(n)) if old_value.is_object() => {
                diff_objects(&path, old_value.as_object().expect("checked"), n, &[], ops);
            }
            Some(new_value) => ops.push(json!({"op": "replace", "path": path, "value": new_value})),
        }
    }
    for (key, new_value) in new {
        if top && skip.contains(&key.as_str()) {
            continue;
        }
        if !old.contains_key(key) {
            let path = format!("{prefix}/{}", escape_pointer(key));
            ops.push(json!({"op": "add", "path": path, "value": new_value}));
        }
    }
}

/// The changed top-level fields of `new` (for PATCH-merge style updates).
/// Removed fields are sent as `null`.
///
/// # Errors
/// As [`diff`].
pub(crate) fn merge_changes(
    old: &Value,
    new: &Value,
    read_only: &[&str],
) -> Result<Map<String, Value>> {
    let (Value::Object(o), Value::Object(n)) = (old, new) else {
        return Err(Error::InvalidArgument("resources must serialise to JSON objects".into()));
    };
    let mut out = Map::new();
    for (k, v) in n {
        if o.get(k) != Some(v) {
            if read_only.contains(&k.as_str()) {
                return Err(Error::InvalidArgument(format!(
                    "field {k:?} is read-only and cannot be updated"
                )));
            }
            out.insert(k.clone(), v.clone());
        }
    }
    for k in o.keys() {
        if !n.contains_key(k) && !read_only.contains(&k.as_str()) {
            out.insert(k.clone(), Value::Null);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn additions_removals_replacements() {
        let old = json!({"id": "1", "name": "a", "tags": ["x"], "gone": 1, "same": true});
        let new = json!({"id": "1", "name": "b", "tags": ["x", "y"], "added": "v", "same": true});
        let ops = diff(&old, &new, &["id"]).unwrap();
        assert_eq!(
            ops,
            vec![
                json!({"op": "remove", "path": "/gone"}),
                json!({"op": "replace", "path": "/name", "value": "b"}),
                json!({"op": "replace", "path": "/tags", "value": ["x", "y"]}),
                json!({"op": "add", "path": "/added", "value": "v"}),
            ]
        );
    }

    #[test]
    fn nested_objects_and_escaped_keys() {
        let old = json!({"props": {"a/b": 1, "c~d": {"deep": 1}}});
        let new = json!({"props": {"a/b": 2, "c~d": {"deep": 1, "more": 2}}});
        let ops = diff(&old, &new, &[]).unwrap();
        assert_eq!(
            ops,
            vec![
                json!({"op": "replace", "path": "/props/a~1b", "value": 2}),
                json!({"op": "add", "path": "/props/c~0d/more", "value": 2}),
            ]
        );
    }

    #[test]
    fn untouched_read_only_fields_never_appear_and_touched_ones_are_refused() {
        let old = json!({"id": "1", "stores": "fast,slow", "os_glance_x": "y", "k": "v"});
        let new = json!({"id": "1", "stores": "fast,slow", "os_glance_x": "y", "k": "w"});
        let ops = diff(&old, &new, &["id", "stores"]).unwrap();
        assert_eq!(ops, vec![json!({"op": "replace", "path": "/k", "value": "w"})]);
        let changed = json!({"id": "1", "stores": "fast", "k": "v", "os_glance_x": "y"});
        let err = diff(&old, &changed, &["id", "stores"]).unwrap_err();
        assert!(err.to_string().contains("\"stores\" is read-only"), "{err}");
    }

    #[test]
    fn no_change_no_ops() {
        let v = json!({"a": [1, 2], "b": {"c": null}});
        assert!(diff(&v, &v, &[]).unwrap().is_empty());
    }

    #[test]
    fn a_value_that_is_not_an_object_is_replaced_whole_or_left() {
        assert!(diff(&json!([1, 2]), &json!([1, 2]), &[]).unwrap().is_empty());
        assert_eq!(
            diff(&json!("a"), &json!(["a"]), &[]).unwrap(),
            vec![json!({"op": "replace", "path": "", "value": ["a"]})]
        );
    }

    #[test]
    fn a_field_that_becomes_an_object_or_stops_being_one_is_replaced() {
        let old = json!({"a": 1, "b": {"c": 1}});
        let new = json!({"a": {"x": 1}, "b": 2});
        assert_eq!(
            diff(&old, &new, &[]).unwrap(),
            vec![
                json!({"op": "replace", "path": "/a", "value": {"x": 1}}),
                json!({"op": "replace", "path": "/b", "value": 2}),
            ]
        );
    }

    #[test]
    fn merge_changes_sends_only_what_changed() {
        let old = json!({"id": "1", "name": "a", "description": "d", "enabled": true});
        let new = json!({"id": "1", "name": "b", "enabled": true});
        let m = merge_changes(&old, &new, &["id"]).unwrap();
        assert_eq!(Value::Object(m), json!({"name": "b", "description": null}));
    }
}
