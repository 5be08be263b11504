//! `image list --sort`, as openstackclient does it: on the client, over every image listed,
//! each key compared as Python's `str()` of the value (so `None` sorts as "None" and sizes
//! as text), the last key first with a stable sort (osc_lib's `sort_items`).

use serde_json::Value;

use crate::CliError;
use crate::output::python_str as py_str;

/// openstacksdk's attribute names for the Glance fields they rename.
fn glance_key(key: &str) -> &str {
    match key {
        "is_protected" => "protected",
        "is_hidden" => "os_hidden",
        "hash_algo" => "os_hash_algo",
        "hash_value" => "os_hash_value",
        "owner_id" => "owner",
        other => other,
    }
}

/// Python's `str()` of a field, as openstackclient compares it (`None` when missing).
fn python_str(v: Option<&Value>) -> String {
    v.map_or_else(|| "None".into(), py_str)
}

/// The keys and directions of `sort` (`name:asc,size:desc`), checked as osc_lib checks them.
fn parse(sort: &str) -> Result<Vec<(String, bool)>, CliError> {
    let mut keys = Vec::new();
    for part in sort.trim().split(',') {
        let (key, descending) = match part.split_once(':') {
            None => (part, false),
            Some(("", _)) => {
                return Err(CliError::Usage("'<empty string>'' is not a valid sort key".into()));
            }
            Some((key, "asc")) => (key, false),
            Some((key, "desc")) => (key, true),
            Some((key, dir)) => {
                let dir = if dir.is_empty() { "<empty string>" } else { dir };
                return Err(CliError::Usage(format!(
                    "'{dir}' is not a valid sort direction for sort key {key}, use 'asc' or \
                     'desc' instead"
                )));
            }
        };
        keys.push((glance_key(key).to_string(), descending));
    }
    Ok(keys)
}

/// Sorts `rows` by `sort`, reading each row's fields from `json(row)` (the image as Glance
/// sent it).
///
/// # Errors
/// A bad direction, or a key an image lacks ("Resource doesn't have field KEY").
pub(crate) fn sort_items<T>(
    rows: &mut [T],
    sort: &str,
    json: impl Fn(&T) -> &Value,
) -> Result<(), CliError> {
    for (key, descending) in parse(sort)?.into_iter().rev() {
        if !known(&key) && rows.iter().any(|r| json(r).get(&key).is_none()) {
            return Err(CliError::Usage(format!("Resource doesn't have field {key}")));
        }
        // A stable sort; `reverse=True` in Python keeps equal items in their order too.
        rows.sort_by(|a, b| {
            let (a, b) = (python_str(json(a).get(&key)), python_str(json(b).get(&key)));
            if descending { b.cmp(&a) } else { a.cmp(&b) }
        });
    }
    Ok(())
}

/// Fields every image has in openstacksdk even when Glance leaves them out (they read None).
fn known(key: &str) -> bool {
    matches!(
        key,
        "id" | "name"
            | "status"
            | "visibility"
            | "protected"
            | "os_hidden"
            | "checksum"
            | "os_hash_algo"
            | "os_hash_value"
            | "owner"
            | "size"
            | "virtual_size"
            | "min_disk"
            | "min_ram"
            | "container_format"
            | "disk_format"
            | "created_at"
            | "updated_at"
            | "tags"
            | "file"
            | "schema"
            | "direct_url"
            | "locations"
            | "stores"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(rows: &[Value]) -> Vec<&str> {
        rows.iter().map(|r| r["name"].as_str().unwrap_or("-")).collect()
    }

    #[test]
    fn default_name_sort_is_textual_with_none_as_text() {
        let mut rows = vec![
            json!({"name": "b", "size": 30}),
            json!({"name": null, "size": 4}),
            json!({"name": "Z", "size": 200}),
            json!({"name": "a", "size": 200}),
        ];
        sort_items(&mut rows, "name:asc", |r| r).unwrap();
        assert_eq!(names(&rows), ["-", "Z", "a", "b"]); // "None" < "Z" < "a"
        // Sizes compare as text, as in openstackclient: "200" < "30" < "4".
        sort_items(&mut rows, "size", |r| r).unwrap();
        assert_eq!(
            rows.iter().map(|r| r["size"].as_u64().unwrap()).collect::<Vec<_>>(),
            [200, 200, 30, 4]
        );
    }

    #[test]
    fn several_keys_are_stable_and_directions_checked() {
        let mut rows = vec![
            json!({"name": "x", "status": "active"}),
            json!({"name": "y", "status": "queued"}),
            json!({"name": "z", "status": "active"}),
        ];
        sort_items(&mut rows, "status:desc,name:desc", |r| r).unwrap();
        assert_eq!(names(&rows), ["y", "z", "x"]);
        sort_items(&mut rows, "is_protected,name", |r| r).unwrap();
        assert_eq!(names(&rows), ["x", "y", "z"]);
        for (bad, says) in [
            ("name:up", "'up' is not a valid sort direction for sort key name"),
            ("name:", "'<empty string>' is not a valid sort direction"),
            (":asc", "is not a valid sort key"),
            ("colour", "Resource doesn't have field colour"),
        ] {
            match sort_items(&mut rows, bad, |r| r) {
                Err(CliError::Usage(m)) => assert!(m.contains(says), "{bad}: {m}"),
                other => panic!("{bad}: {:?}", other.is_ok()),
            }
        }
    }
}
