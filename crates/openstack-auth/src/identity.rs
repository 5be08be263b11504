//! Keystone v3: building the `POST /v3/auth/tokens` body, parsing the token and its catalog.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::{AuthOptions, AuthType, CloudConfig, Interface};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The root of a Keystone URL: `auth_url` without a trailing `/v3` (or `/v2.0`) and `/`.
pub(crate) fn identity_root(auth_url: &str) -> String {
    strip_version_suffix(auth_url)
}

/// Removes a trailing `/vN` or `/vN.M` path segment and trailing slashes.
pub(crate) fn strip_version_suffix(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    if let Some((head, last)) = trimmed.rsplit_once('/') {
        let is_version = last.strip_prefix('v').is_some_and(|v| {
            !v.is_empty()
                && v.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        });
        if is_version && head.contains("://") && !head.ends_with('/') {
            return head.to_string();
        }
    }
    trimmed.to_string()
}

fn named(id: &Option<String>, name: &Option<String>) -> Option<Value> {
    match (id, name) {
        (Some(id), _) => Some(json!({ "id": id })),
        (None, Some(name)) => Some(json!({ "name": name })),
        _ => None,
    }
}

fn user(a: &AuthOptions) -> Value {
    let mut user = serde_json::Map::new();
    if let Some(id) = &a.user_id {
        user.insert("id".into(), json!(id));
    } else if let Some(name) = &a.username {
        user.insert("name".into(), json!(name));
        let domain = named(&a.user_domain_id, &a.user_domain_name)
            .or_else(|| named(&a.domain_id, &a.domain_name))
            .unwrap_or_else(|| json!({ "id": "default" }));
        user.insert("domain".into(), domain);
    }
    Value::Object(user)
}

/// The scope to ask for, derived from the configuration.
fn scope(a: &AuthOptions) -> Option<Value> {
    if let Some(system) = &a.system_scope {
        return Some(json!({ "system": { system.as_str(): true } }));
    }
    if let Some(id) = &a.project_id {
        return Some(json!({ "project": { "id": id } }));
    }
    if let Some(name) = &a.project_name {
        let domain = named(&a.project_domain_id, &a.project_domain_name)
            .or_else(|| named(&a.domain_id, &a.domain_name))
            .unwrap_or_else(|| json!({ "id": "default" }));
        return Some(json!({ "project": { "name": name, "domain": domain } }));
    }
    named(&a.domain_id, &a.domain_name).map(|d| json!({ "domain": d }))
}

/// The JSON body of `POST /v3/auth/tokens` for this cloud's auth type.
///
/// # Errors
/// [`Error::InvalidArgument`] for auth types that do not talk to Keystone.
pub(crate) fn token_request_body(cfg: &CloudConfig) -> Result<Value> {
    let a = &cfg.auth;
    let secret =
        |s: &Option<Secret>| s.as_ref().map(|s| s.expose().to_string()).unwrap_or_default();
    let identity = match cfg.auth_type {
        AuthType::Password => json!({
            "methods": ["password"],
            "password": { "user": { "password": secret(&a.password) } }
        }),
        AuthType::Token => json!({
            "methods": ["token"],
            "token": { "id": secret(&a.token) }
        }),
        AuthType::ApplicationCredential => {
            let mut cred = serde_json::Map::new();
            if let Some(id) = &a.application_credential_id {
                cred.insert("id".into(), json!(id));
            } else {
                cred.insert("name".into(), json!(a.application_credential_name));
                cred.insert("user".into(), user(a));
            }
            cred.insert("secret".into(), json!(secret(&a.application_credential_secret)));
            json!({ "methods": ["application_credential"], "application_credential": cred })
        }
        AuthType::None | AuthType::AdminToken => {
            return Err(Error::InvalidArgument(format!(
                "auth type {:?} does not request Keystone tokens",
                cfg.auth_type
            )));
        }
    };
    let mut identity = identity;
    if cfg.auth_type == AuthType::Password {
        let mut u = user(a);
        u["password"] = json!(secret(&a.password));
        identity["password"]["user"] = u;
    }
    let mut auth = json!({ "identity": identity });
    // An application credential carries its own scope.
    if cfg.auth_type != AuthType::ApplicationCredential {
        if let Some(scope) = scope(a) {
            auth["scope"] = scope;
        }
    }
    Ok(json!({ "auth": auth }))
}

/// One endpoint of a catalog entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CatalogEndpoint {
    /// `public`, `internal` or `admin`.
    pub interface: String,
    /// The region id (Keystone also sends the same value as the legacy `region`).
    #[serde(default)]
    pub region_id: Option<String>,
    /// The URL.
    pub url: String,
}

/// One service of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CatalogService {
    /// The service type, e.g. `image`.
    #[serde(rename = "type")]
    pub service_type: String,
    /// The service name, e.g. `glance`.
    #[serde(default)]
    pub name: Option<String>,
    /// Its endpoints.
    #[serde(default)]
    pub endpoints: Vec<CatalogEndpoint>,
}

/// The service catalog of a token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Catalog {
    /// All services.
    pub services: Vec<CatalogService>,
}

/// Official aliases of service types (from the OpenStack service-types authority).
fn aliases(service_type: &str) -> &'static [&'static str] {
    match service_type {
        "image" => &["image"],
        "identity" => &["identity"],
        "compute" => &["compute"],
        "block-storage" | "volumev3" | "volumev2" | "volume" | "block-store" => {
            &["block-storage", "volumev3", "volumev2", "volume", "block-store"]
        }
        "network" => &["network"],
        "object-store" => &["object-store"],
        "placement" => &["placement"],
        "load-balancer" => &["load-balancer"],
        "dns" => &["dns"],
        "key-manager" => &["key-manager"],
        "orchestration" => &["orchestration"],
        "shared-file-system" | "sharev2" | "share" => &["shared-file-system", "sharev2", "share"],
        "baremetal" => &["baremetal"],
        _ => &[],
    }
}

impl Catalog {
    /// The URL for a service type and interface, in any region (several regions with
    /// different URLs are [`Error::Ambiguous`]).
    ///
    /// # Errors
    /// [`Error::EndpointNotFound`] listing what the catalog has when nothing matches,
    /// [`Error::Ambiguous`] when several endpoints match equally.
    pub fn endpoint(&self, service_type: &str, interface: Interface) -> Result<String> {
        self.find_endpoint(service_type, interface, None)
    }

    /// The URL for a service type and interface in one region.
    ///
    /// # Errors
    /// As [`Catalog::endpoint`].
    pub fn endpoint_in(
        &self,
        service_type: &str,
        interface: Interface,
        region: &str,
    ) -> Result<String> {
        self.find_endpoint(service_type, interface, Some(region))
    }

    pub(crate) fn find_endpoint(
        &self,
        service_type: &str,
        interface: Interface,
        region: Option<&str>,
    ) -> Result<String> {
        let types = aliases(service_type);
        let candidates: Vec<&CatalogEndpoint> = self
            .services
            .iter()
            .filter(|s| s.service_type == service_type || types.contains(&s.service_type.as_str()))
            .flat_map(|s| s.endpoints.iter())
            .filter(|e| Interface::parse(&e.interface) == Some(interface))
            .filter(|e| region.is_none_or(|r| e.region_id.as_deref() == Some(r)))
            .collect();
        let mut urls: Vec<&str> = candidates.iter().map(|e| e.url.as_str()).collect();
        urls.dedup();
        match urls.as_slice() {
            [one] => Ok((*one).to_string()),
            [] => Err(Error::EndpointNotFound {
                service_type: service_type.into(),
                interface: interface.as_str().into(),
                region: region.unwrap_or("any").into(),
                available: self.describe(),
            }),
            many => Err(Error::Ambiguous {
                kind: "endpoint",
                name: format!("{service_type} {} (set region_name)", interface.as_str()),
                matches: candidates
                    .iter()
                    .zip(many)
                    .map(|(e, u)| {
                        format!("{} in {}", u, e.region_id.as_deref().unwrap_or("no region"))
                    })
                    .collect(),
            }),
        }
    }

    /// A one-line summary: `image: public@RegionOne http://…, …; identity: …`.
    pub fn describe(&self) -> String {
        if self.services.is_empty() {
            return "nothing (is the token unscoped? set a project, domain or system scope)".into();
        }
        self.services
            .iter()
            .map(|s| {
                let eps: Vec<String> = s
                    .endpoints
                    .iter()
                    .map(|e| {
                        format!(
                            "{}@{} {}",
                            e.interface,
                            e.region_id.as_deref().unwrap_or("-"),
                            e.url
                        )
                    })
                    .collect();
                format!("{}: {}", s.service_type, eps.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What a token is scoped to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Scope {
    /// A project.
    Project {
        /// Project id.
        id: String,
        /// Project name.
        name: String,
    },
    /// A domain.
    Domain {
        /// Domain id.
        id: String,
        /// Domain name.
        name: String,
    },
    /// The system.
    System,
    /// No scope: the token cannot be used with services.
    Unscoped,
}

/// A Keystone token with its catalog.
///
/// It serializes (serde) with the token itself in clear, so that a command line can keep it
/// between runs ([`Session::set_token`](crate::Session::set_token) puts it back): keep what
/// it serializes to as private as a password.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Token {
    /// The token (`X-Subject-Token`).
    #[serde(with = "in_clear")]
    pub value: Secret,
    /// When it was issued (when it was received, if Keystone did not say).
    pub issued_at: SystemTime,
    /// When it expires.
    pub expires_at: SystemTime,
    /// The user's id.
    pub user_id: String,
    /// What it is scoped to.
    pub scope: Scope,
    /// Role names.
    pub roles: Vec<String>,
    /// The service catalog.
    pub catalog: Catalog,
}

#[derive(Deserialize)]
struct TokenBody {
    token: TokenInner,
}

#[derive(Deserialize)]
struct Named {
    id: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct TokenInner {
    expires_at: String,
    #[serde(default)]
    issued_at: Option<String>,
    user: Named,
    #[serde(default)]
    project: Option<Named>,
    #[serde(default)]
    domain: Option<Named>,
    #[serde(default)]
    system: Option<Value>,
    #[serde(default)]
    roles: Vec<Named>,
    #[serde(default)]
    catalog: Vec<CatalogService>,
}

impl Token {
    /// Parses a token response (`X-Subject-Token` header value and JSON body).
    ///
    /// # Errors
    /// [`Error::Decode`] when the body is not a Keystone v3 token.
    pub fn parse(url: &str, subject_token: &str, body: &[u8]) -> Result<Token> {
        let parsed: TokenBody = serde_json::from_slice(body).map_err(|e| Error::decode(url, e))?;
        let t = parsed.token;
        let expires_at = parse_rfc3339(&t.expires_at)
            .ok_or_else(|| Error::decode(url, format!("bad expires_at {:?}", t.expires_at)))?;
        let scope = if let Some(p) = t.project {
            Scope::Project { id: p.id, name: p.name }
        } else if let Some(d) = t.domain {
            Scope::Domain { id: d.id, name: d.name }
        } else if t.system.is_some() {
            Scope::System
        } else {
            Scope::Unscoped
        };
        let issued_at = t
            .issued_at
            .as_deref()
            .and_then(parse_rfc3339)
            .unwrap_or_else(SystemTime::now)
            .min(expires_at);
        Ok(Token {
            value: Secret::new(subject_token),
            issued_at,
            expires_at,
            user_id: t.user.id,
            scope,
            roles: t.roles.into_iter().map(|r| r.name).collect(),
            catalog: Catalog { services: t.catalog },
        })
    }

    /// Whether the token is still valid for at least `margin`.
    pub fn valid_for(&self, margin: Duration) -> bool {
        SystemTime::now() + margin < self.expires_at
    }

    /// How long before expiry this token should be replaced: `at_most`, but never more than a
    /// quarter of its lifetime (a cloud issuing one-minute tokens gets 15 s, not "always").
    pub fn refresh_margin(&self, at_most: Duration) -> Duration {
        let lifetime = self.expires_at.duration_since(self.issued_at).unwrap_or_default();
        at_most.min(lifetime / 4)
    }
}

/// A [`Secret`] written and read in clear, for [`Token`]'s serde form only.
mod in_clear {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::secret::Secret;

    pub(super) fn serialize<S: Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(secret.expose())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

/// Parses `2026-11-27T08:17:31.000000Z` (UTC, optional fraction, `Z` or `+00:00`).
pub(crate) fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let (date, time) = s.split_once(['T', ' '])?;
    let mut d = date.splitn(3, '-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    let (clock, offset_secs) = if let Some(c) = time.strip_suffix('Z') {
        (c, 0i64)
    } else if let Some(pos) = time.rfind(['+', '-']) {
        let (c, off) = time.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (h, m) = off[1..].split_once(':').unwrap_or((&off[1..3.min(off.len())], "0"));
        (c, sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60))
    } else {
        (time, 0)
    };
    let mut c = clock.splitn(3, ':');
    let hour: i64 = c.next()?.parse().ok()?;
    let minute: i64 = c.next()?.parse().ok()?;
    let sec_str = c.next().unwrap_or("0");
    let (whole, frac) = sec_str.split_once('.').unwrap_or((sec_str, ""));
    let second: i64 = whole.parse().ok()?;
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().take(9).collect();
        digits.parse::<u32>().ok()? * 10u32.pow(9 - digits.len() as u32)
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    let secs = u64::try_from(secs).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::new(secs, nanos))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;
