//! Project names to ids, through Keystone, wherever a command takes a project (as
//! openstackclient does). Glance takes any string as a member or owner, so a name sent as an
//! id would share an image with nobody: a name is never sent.

use openstack_client::Error;
use openstack_client::auth::Session;
use openstack_client::resource::{Api, Get, List, Query, Resource, UpdateStrategy};
use serde::{Deserialize, Serialize};

use crate::CliError;

/// A Keystone project: what osrs reads of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Project {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    domain_id: Option<String>,
}

impl Resource for Project {
    const SERVICE_TYPE: &'static str = "identity";
    const KIND: &'static str = "project";
    const RESOURCE_KEY: Option<&'static str> = Some("project");
    const LIST_KEY: &'static str = "projects";
    const UPDATE: UpdateStrategy = UpdateStrategy::MergePatch;
    type Parent = ();
    fn base_path(_: &()) -> String {
        "/v3/projects".into()
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
}
impl Get for Project {}
impl List for Project {}

/// A Keystone domain (for `--project-domain`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Domain {
    id: String,
    #[serde(default)]
    name: String,
}

impl Resource for Domain {
    const SERVICE_TYPE: &'static str = "identity";
    const KIND: &'static str = "domain";
    const RESOURCE_KEY: Option<&'static str> = Some("domain");
    const LIST_KEY: &'static str = "domains";
    const UPDATE: UpdateStrategy = UpdateStrategy::MergePatch;
    type Parent = ();
    fn base_path(_: &()) -> String {
        "/v3/domains".into()
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
}
impl Get for Domain {}
impl List for Domain {}

/// Whether `s` has the shape of a Keystone id (32 hex digits, or a UUID with dashes).
fn looks_like_id(s: &str) -> bool {
    let hex = s.replace('-', "");
    hex.len() == 32
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && (s.len() == 32 || s.len() == 36)
}

/// What to do when Keystone will not say (403): use an id-shaped value as it is, refuse a
/// name with the reason.
fn when_forbidden(value: &str, what: &str, e: Error) -> Result<String, CliError> {
    if looks_like_id(value) {
        tracing::info!("Keystone refuses to look up {what} {value:?} ({e}); using it as an id");
        Ok(value.to_string())
    } else {
        Err(CliError::Usage(format!(
            "cannot resolve {what} {value:?} to an id: Keystone does not let you read {what}s \
             ({}); give the {what}'s id instead",
            e.status().map_or_else(|| e.to_string(), |s| s.to_string())
        )))
    }
}

/// The id of the project `value` names (an id or a name), in `domain` (a name or id) when
/// given.
///
/// # Errors
/// A name matching no project, or several (use `--project-domain`), or one Keystone does not
/// let the caller resolve.
pub(crate) async fn project_id(
    session: &Session,
    value: &str,
    domain: Option<&str>,
) -> Result<String, CliError> {
    let projects = Api::<Project>::new(session.clone(), ());
    let domain_id = match domain {
        None => None,
        Some(d) => match Api::<Domain>::new(session.clone(), ()).find(d).await {
            Ok(found) => Some(found.id),
            Err(e) if e.is_forbidden() => Some(when_forbidden(d, "domain", e)?),
            Err(e) if e.is_not_found() => {
                return Err(CliError::Usage(format!("--project-domain: no domain {d:?}")));
            }
            Err(e) => return Err(e.into()),
        },
    };
    // By id first (Keystone answers 404 for an unknown id, 403 for one the caller may not read).
    match projects.get_opt(value).await {
        Ok(Some(p)) if domain_id.is_none() || p.domain_id == domain_id => return Ok(p.id),
        Ok(_) => {}
        Err(e) if e.is_forbidden() => return when_forbidden(value, "project", e),
        Err(e) => return Err(e.into()),
    }
    let mut q = Query::new().param("name", value);
    if let Some(d) = &domain_id {
        q = q.param("domain_id", d.as_str());
    }
    let found = match projects.list_all(&q).await {
        Ok(found) => found,
        Err(e) if e.is_forbidden() => return when_forbidden(value, "project", e),
        Err(e) => return Err(e.into()),
    };
    let mut named: Vec<Project> = found.into_iter().filter(|p| p.name == value).collect();
    match named.len() {
        1 => Ok(named.remove(0).id),
        0 => Err(CliError::Usage(match domain {
            Some(d) => format!("no project named or with id {value:?} in domain {d:?}"),
            None => format!("no project named or with id {value:?}"),
        })),
        _ => Err(CliError::Usage(format!(
            "project name {value:?} is ambiguous: {} projects ({}); give --project-domain or \
             the project's id",
            named.len(),
            named
                .iter()
                .map(|p| format!("{} in domain {}", p.id, p.domain_id.as_deref().unwrap_or("?")))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::looks_like_id;

    #[test]
    fn id_shapes() {
        assert!(looks_like_id("0123456789abcdef0123456789ABCDEF"));
        assert!(looks_like_id("01234567-89ab-cdef-0123-456789abcdef"));
        for not in
            ["demo", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdeg", ""]
        {
            assert!(!looks_like_id(not), "{not}");
        }
    }
}
