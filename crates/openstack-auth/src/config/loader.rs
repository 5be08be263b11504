//! Loading a cloud: the search paths, `clouds.yaml` + `secure.yaml` merged, the `OS_*`
//! variables, and the checks that name the file and key at fault.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

use super::{AuthOptions, AuthType, CloudConfig, Environment, Interface};
use crate::error::ConfigError;
use crate::secret::Secret;

/// Loads a [`CloudConfig`] from an [`Environment`].
#[derive(Debug, Clone)]
pub struct ConfigLoader<E> {
    env: E,
}

const CONFIG_NAMES: [&str; 3] = ["clouds.yaml", "clouds.yml", "clouds.json"];
const SECURE_NAMES: [&str; 3] = ["secure.yaml", "secure.yml", "secure.json"];

impl<E: Environment> ConfigLoader<E> {
    /// A loader reading from `env`.
    pub fn new(env: E) -> Self {
        ConfigLoader { env }
    }

    fn search_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        if let Some(cwd) = self.env.current_dir() {
            dirs.push(cwd);
        }
        if let Some(home) = self.env.home_dir() {
            dirs.push(home.join(".config").join("openstack"));
        }
        dirs.push(PathBuf::from("/etc/openstack"));
        dirs
    }

    fn read(&self, path: &Path) -> Result<Option<Value>, ConfigError> {
        let malformed =
            |message: String| ConfigError::Malformed { file: path.display().to_string(), message };
        let Some(text) = self.env.read_file(path).map_err(|e| malformed(e.to_string()))? else {
            return Ok(None);
        };
        let value: Value = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| malformed(e.to_string()))?
        } else {
            serde_yaml_ng::from_str(&text).map_err(|e| malformed(e.to_string()))?
        };
        Ok(Some(value))
    }

    /// Finds the first existing file: the named one (which must exist), else the search path.
    fn find(&self, var: &str, names: &[&str]) -> Result<Option<(PathBuf, Value)>, ConfigError> {
        if let Some(explicit) = self.env.var(var) {
            let path = PathBuf::from(&explicit);
            return match self.read(&path)? {
                Some(v) => Ok(Some((path, v))),
                None => Err(ConfigError::Malformed {
                    file: explicit,
                    message: format!("file named by {var} does not exist"),
                }),
            };
        }
        for dir in self.search_dirs() {
            for name in names {
                let path = dir.join(name);
                if let Some(v) = self.read(&path)? {
                    return Ok(Some((path, v)));
                }
            }
        }
        Ok(None)
    }

    /// Loads the named cloud.
    ///
    /// ```
    /// use openstack_auth::{ConfigLoader, StaticEnvironment};
    /// let env = StaticEnvironment::default().home("/home/u").file(
    ///     "/home/u/.config/openstack/clouds.yaml",
    ///     "clouds:\n  mine:\n    auth:\n      auth_url: https://keystone.example:5000/v3\n      \
    ///      username: u\n      password: p\n      project_name: demo\n    region_name: RegionOne\n",
    /// );
    /// let cfg = ConfigLoader::new(env).load_cloud("mine")?;
    /// assert_eq!(cfg.region_name.as_deref(), Some("RegionOne"));
    /// assert!(cfg.validate().is_ok());
    /// # Ok::<(), openstack_auth::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`ConfigError`] naming the cloud, the file and the key at fault.
    pub fn load_cloud(&self, cloud: &str) -> Result<CloudConfig, ConfigError> {
        self.load(Some(cloud))
    }

    /// Loads `OS_CLOUD`'s cloud, or else the cloud made of the `OS_*` variables.
    ///
    /// ```
    /// use openstack_auth::{ConfigLoader, StaticEnvironment};
    /// let env = StaticEnvironment::default()
    ///     .var("OS_AUTH_URL", "https://keystone.example:5000/v3")
    ///     .var("OS_USERNAME", "u")
    ///     .var("OS_PASSWORD", "p")
    ///     .var("OS_PROJECT_NAME", "demo");
    /// let cfg = ConfigLoader::new(env).load_default()?;
    /// assert_eq!(cfg.auth.username.as_deref(), Some("u"));
    /// # Ok::<(), openstack_auth::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// As [`ConfigLoader::load_cloud`].
    pub fn load_default(&self) -> Result<CloudConfig, ConfigError> {
        self.load(None)
    }

    fn load(&self, cloud: Option<&str>) -> Result<CloudConfig, ConfigError> {
        let name = cloud.map(str::to_string).or_else(|| self.env.var("OS_CLOUD"));
        let Some(name) = name else {
            return self.os_vars_cloud();
        };
        let Some((path, mut clouds)) = self.find("OS_CLIENT_CONFIG_FILE", &CONFIG_NAMES)? else {
            return Err(ConfigError::NoConfigFile {
                searched: self
                    .search_dirs()
                    .iter()
                    .map(|d| d.join("clouds.yaml").display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let file = path.display().to_string();
        if let Some((_, secure)) = self.find("OS_CLIENT_SECURE_FILE", &SECURE_NAMES)? {
            deep_merge(&mut clouds, secure);
        }
        let all = clouds.get("clouds").and_then(Value::as_object).ok_or_else(|| {
            ConfigError::Malformed {
                file: file.clone(),
                message: "no top-level `clouds:` mapping".into(),
            }
        })?;
        let Some(entry) = all.get(&name) else {
            return Err(ConfigError::CloudNotFound {
                cloud: name,
                file,
                available: all.keys().cloned().collect::<Vec<_>>().join(", "),
            });
        };
        let entry = entry.as_object().ok_or_else(|| ConfigError::InvalidValue {
            cloud: name.clone(),
            file: file.clone(),
            key: name.clone(),
            message: "a cloud must be a mapping".into(),
        })?;
        let cfg = parse_cloud(&name, &file, entry)?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn os_vars_cloud(&self) -> Result<CloudConfig, ConfigError> {
        let mut auth = Map::new();
        let mut top = Map::new();
        let var = |k: &str| self.env.var(k).map(Value::String);
        for key in [
            "auth_url",
            "username",
            "user_id",
            "password",
            "project_name",
            "project_id",
            "project_domain_name",
            "project_domain_id",
            "user_domain_name",
            "user_domain_id",
            "domain_name",
            "domain_id",
            "system_scope",
            "token",
            "application_credential_id",
            "application_credential_name",
            "application_credential_secret",
            "endpoint",
        ] {
            if let Some(v) = var(&format!("OS_{}", key.to_ascii_uppercase())) {
                auth.insert(key.into(), v);
            }
        }
        // The usual aliases.
        if !auth.contains_key("project_name") {
            if let Some(v) = var("OS_TENANT_NAME") {
                auth.insert("project_name".into(), v);
            }
        }
        if !auth.contains_key("project_id") {
            if let Some(v) = var("OS_TENANT_ID") {
                auth.insert("project_id".into(), v);
            }
        }
        for (key, name) in [
            ("OS_AUTH_TYPE", "auth_type"),
            ("OS_REGION_NAME", "region_name"),
            ("OS_INTERFACE", "interface"),
            ("OS_CACERT", "cacert"),
            ("OS_CERT", "cert"),
            ("OS_KEY", "key"),
            ("OS_API_TIMEOUT", "api_timeout"),
            ("OS_IMAGE_API_VERSION", "image_api_version"),
            ("OS_IMAGE_ENDPOINT_OVERRIDE", "image_endpoint_override"),
        ] {
            if let Some(v) = var(key) {
                top.insert(name.into(), v);
            }
        }
        if let Some(v) = self.env.var("OS_INSECURE") {
            top.insert("verify".into(), Value::Bool(!is_true(&v)));
        }
        if auth.is_empty() && top.is_empty() {
            return Err(ConfigError::NoConfigFile {
                searched: "OS_CLOUD and OS_* variables (none set)".into(),
            });
        }
        top.insert("auth".into(), Value::Object(auth));
        let cfg = parse_cloud("envvars", "environment", &top)?;
        cfg.validate()?;
        Ok(cfg)
    }
}

fn is_true(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
}

/// Merges `over` into `base`: mappings key by key, everything else replaced.
fn deep_merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_cloud(
    name: &str,
    file: &str,
    entry: &Map<String, Value>,
) -> Result<CloudConfig, ConfigError> {
    let invalid = |key: &str, message: &str| ConfigError::InvalidValue {
        cloud: name.into(),
        file: file.into(),
        key: key.into(),
        message: message.into(),
    };
    let string = |key: &str| -> Result<Option<String>, ConfigError> {
        match entry.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => scalar(v).map(Some).ok_or_else(|| invalid(key, "expected a string")),
        }
    };
    let empty = Map::new();
    let auth_map = match entry.get("auth") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => return Err(invalid("auth", "expected a mapping")),
    };
    let auth_string = |key: &str| -> Result<Option<String>, ConfigError> {
        match auth_map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => scalar(v)
                .map(Some)
                .ok_or_else(|| invalid(&format!("auth.{key}"), "expected a string")),
        }
    };
    let auth = AuthOptions {
        auth_url: auth_string("auth_url")?,
        username: auth_string("username")?,
        user_id: auth_string("user_id")?,
        password: auth_string("password")?.map(Secret::from),
        project_name: auth_string("project_name")?.or(auth_string("tenant_name")?),
        project_id: auth_string("project_id")?.or(auth_string("tenant_id")?),
        project_domain_name: auth_string("project_domain_name")?,
        project_domain_id: auth_string("project_domain_id")?,
        user_domain_name: auth_string("user_domain_name")?,
        user_domain_id: auth_string("user_domain_id")?,
        domain_name: auth_string("domain_name")?,
        domain_id: auth_string("domain_id")?,
        system_scope: auth_string("system_scope")?,
        token: auth_string("token")?.map(Secret::from),
        application_credential_id: auth_string("application_credential_id")?,
        application_credential_name: auth_string("application_credential_name")?,
        application_credential_secret: auth_string("application_credential_secret")?
            .map(Secret::from),
        endpoint: auth_string("endpoint")?,
    };
    let auth_type = match string("auth_type")? {
        Some(t) => AuthType::parse(&t).ok_or_else(|| {
            invalid(
                "auth_type",
                &format!("unknown auth type {t:?} (supported: password, token, v3applicationcredential, none, admin_token)"),
            )
        })?,
        None if auth.application_credential_secret.is_some() => AuthType::ApplicationCredential,
        None if auth.password.is_none() && auth.token.is_some() => AuthType::Token,
        None => AuthType::Password,
    };
    let interface = match string("interface")?.or(string("endpoint_type")?) {
        Some(i) => Interface::parse(&i).ok_or_else(|| {
            invalid("interface", &format!("{i:?} is not public, internal or admin"))
        })?,
        None => Interface::Public,
    };
    let verify = match entry.get("verify") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => {
            !matches!(s.to_ascii_lowercase().as_str(), "false" | "no" | "0" | "off")
        }
        Some(_) => return Err(invalid("verify", "expected true or false")),
    };
    let insecure = match entry.get("insecure") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => is_true(s),
        _ => false,
    };
    let api_timeout = match entry.get("api_timeout") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let secs = match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.parse::<f64>().ok(),
                _ => None,
            }
            .filter(|s| *s > 0.0 && s.is_finite())
            .ok_or_else(|| invalid("api_timeout", "expected a positive number of seconds"))?;
            Some(Duration::from_secs_f64(secs))
        }
    };
    let mut endpoint_overrides = BTreeMap::new();
    let mut api_versions = BTreeMap::new();
    let mut status_code_retries = BTreeMap::new();
    for (key, value) in entry {
        if let Some(service) = key.strip_suffix("_endpoint_override") {
            let v = scalar(value).ok_or_else(|| invalid(key, "expected a URL"))?;
            endpoint_overrides.insert(service.replace('_', "-"), v);
        } else if let Some(service) = key.strip_suffix("_api_version") {
            let v = scalar(value).ok_or_else(|| invalid(key, "expected a version"))?;
            api_versions.insert(service.replace('_', "-"), v);
        } else if let Some(service) = key.strip_suffix("_status_code_retries") {
            let v = scalar(value)
                .and_then(|s| s.parse::<u32>().ok())
                .ok_or_else(|| invalid(key, "expected a non-negative integer"))?;
            status_code_retries.insert(service.replace('_', "-"), v);
        }
    }
    let disable_vendor_agent = match entry.get("disable_vendor_agent") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(m)) => {
            m.iter().filter_map(|(k, v)| scalar(v).map(|v| (k.clone(), v))).collect()
        }
        Some(_) => {
            return Err(invalid("disable_vendor_agent", "expected a mapping of image properties"));
        }
    };
    Ok(CloudConfig {
        name: name.into(),
        source: file.into(),
        auth_type,
        auth,
        region_name: string("region_name")?,
        interface,
        verify: verify && !insecure,
        cacert: string("cacert")?.map(PathBuf::from),
        cert: string("cert")?.map(PathBuf::from),
        key: string("key")?.map(PathBuf::from),
        api_timeout,
        endpoint_overrides,
        api_versions,
        status_code_retries,
        disable_vendor_agent,
    })
}

#[cfg(test)]
mod tests;
