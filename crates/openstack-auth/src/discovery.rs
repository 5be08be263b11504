//! API version discovery: the versions document at a service's root.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;

/// An API version `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    /// Major version (e.g. 2 for Glance v2).
    pub major: u32,
    /// Minor version (e.g. 18).
    pub minor: u32,
}

impl ApiVersion {
    /// `major.minor`.
    pub const fn new(major: u32, minor: u32) -> Self {
        ApiVersion { major, minor }
    }

    /// Parses `v2.18`, `2.18`, `v3`, `2`.
    pub fn parse(s: &str) -> Option<ApiVersion> {
        let s = s.trim().trim_start_matches(['v', 'V']);
        let (major, minor) = s.split_once('.').unwrap_or((s, "0"));
        Some(ApiVersion { major: major.parse().ok()?, minor: minor.parse().ok()? })
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[derive(Deserialize)]
struct VersionEntry {
    id: String,
    #[serde(default)]
    status: String,
}

/// Picks the highest `CURRENT`/`SUPPORTED`/`stable` version with the wanted major from a
/// versions document (`{"versions": [...]}` as Glance sends, or
/// `{"versions": {"values": [...]}}` as Keystone sends; also `{"version": {...}}`).
#[cfg(test)]
pub(crate) fn highest_version(doc: &Value, major: u32) -> Option<ApiVersion> {
    offered_versions(doc, major).into_iter().max()
}

/// Every `CURRENT`/`SUPPORTED`/`stable` version with the wanted major a versions document
/// lists, lowest first. Glance's list has gaps: the multi-store versions (2.8 to 2.13) only
/// when stores are configured, the cache versions (2.14, 2.16, 2.18) only with a cache.
pub(crate) fn offered_versions(doc: &Value, major: u32) -> Vec<ApiVersion> {
    let mut offered: Vec<ApiVersion> = version_entries(doc)
        .unwrap_or_default()
        .iter()
        .filter(|e| {
            let s = e.status.to_ascii_uppercase();
            s.is_empty() || s == "CURRENT" || s == "SUPPORTED" || s == "STABLE"
        })
        .filter_map(|e| ApiVersion::parse(&e.id))
        .filter(|v| v.major == major)
        .collect();
    offered.sort();
    offered.dedup();
    offered
}

fn version_entries(doc: &Value) -> Option<Vec<VersionEntry>> {
    Some(match doc.get("versions") {
        Some(Value::Array(a)) => serde_json::from_value(Value::Array(a.clone())).ok()?,
        Some(Value::Object(o)) => serde_json::from_value(o.get("values")?.clone()).ok()?,
        _ => vec![serde_json::from_value(doc.get("version")?.clone()).ok()?],
    })
}

/// Whether a failed version discovery means the service is unreachable (not merely without
/// a version document).
pub(crate) fn discovery_fatal(e: &Error) -> bool {
    matches!(
        e,
        Error::Transport { .. }
            | Error::Timeout { .. }
            | Error::IdleTimeout { .. }
            | Error::ServiceUnavailable(_)
    ) || e.status().is_some_and(|s| s.is_server_error())
}

/// The API major version a service type is used with unless configured.
pub(crate) fn default_major(service_type: &str) -> u32 {
    match service_type {
        "identity" => 3,
        "image" | "network" | "compute" => 2,
        "block-storage" | "volumev3" => 3,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn glance_versions_document() {
        let doc = json!({"versions": [
            {"id": "v2.18", "status": "CURRENT"}, {"id": "v2.17", "status": "SUPPORTED"},
            {"id": "v2.1", "status": "SUPPORTED"}, {"id": "v2.19", "status": "EXPERIMENTAL"}
        ]});
        assert_eq!(highest_version(&doc, 2), Some(ApiVersion::new(2, 18)));
        assert_eq!(highest_version(&doc, 1), None);
    }

    #[test]
    fn keystone_versions_document() {
        let doc = json!({"versions": {"values": [{"id": "v3.14", "status": "stable"}]}});
        assert_eq!(highest_version(&doc, 3), Some(ApiVersion::new(3, 14)));
        let doc = json!({"version": {"id": "v3.14", "status": "stable"}});
        assert_eq!(highest_version(&doc, 3), Some(ApiVersion::new(3, 14)));
    }

    #[test]
    fn parse_and_order() {
        assert_eq!(ApiVersion::parse("v2.9"), Some(ApiVersion::new(2, 9)));
        assert!(ApiVersion::new(2, 9) < ApiVersion::new(2, 18));
        assert_eq!(ApiVersion::parse("2"), Some(ApiVersion::new(2, 0)));
        assert_eq!(ApiVersion::parse("x"), None);
        assert_eq!(ApiVersion::new(2, 18).to_string(), "2.18");
    }
}
