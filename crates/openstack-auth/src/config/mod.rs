//! Cloud configuration as openstacksdk users already write it.
//!
//! * `clouds.yaml` (or `.yml`, `.json`) from `OS_CLIENT_CONFIG_FILE`, else the current
//!   directory, `~/.config/openstack`, `/etc/openstack`; `secure.yaml` likewise (or
//!   `OS_CLIENT_SECURE_FILE`), deep-merged over it.
//! * The cloud is chosen by name, or by `OS_CLOUD`.
//! * Without a named cloud, the `OS_*` variables form a cloud of their own.
//!
//! The environment and the filesystem are reached through [`Environment`], so tests inject
//! both and loading is deterministic.
//!
//! ```
//! use openstack_auth::{ConfigLoader, StaticEnvironment};
//!
//! let env = StaticEnvironment::default()
//!     .var("OS_CLIENT_CONFIG_FILE", "/c/clouds.yaml")
//!     .file("/c/clouds.yaml", "clouds:\n  mine:\n    auth:\n      auth_url: https://keystone.example/v3\n      username: u\n      password: p\n      project_name: demo\n");
//! let cloud = ConfigLoader::new(env).load_cloud("mine").unwrap();
//! assert_eq!(cloud.auth.username.as_deref(), Some("u"));
//! ```

mod env;
mod loader;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub use env::{Environment, StaticEnvironment, SystemEnvironment};
pub use loader::ConfigLoader;

use crate::error::ConfigError;
use crate::secret::Secret;

/// How to authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthType {
    /// Keystone v3 password (`password`, `v3password`).
    Password,
    /// An existing Keystone token (`token`, `v3token`).
    Token,
    /// An application credential (`v3applicationcredential`, `applicationcredential`).
    ApplicationCredential,
    /// No authentication; requires an endpoint override (`none`, `noauth`).
    None,
    /// A static admin token sent as-is, with an endpoint override (`admin_token`).
    AdminToken,
}

impl AuthType {
    fn parse(s: &str) -> Option<AuthType> {
        Some(match s {
            "password" | "v3password" => AuthType::Password,
            "token" | "v3token" => AuthType::Token,
            "v3applicationcredential" | "applicationcredential" => AuthType::ApplicationCredential,
            "none" | "noauth" => AuthType::None,
            "admin_token" => AuthType::AdminToken,
            _ => return None,
        })
    }
}

/// Which endpoint of the catalog to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Interface {
    /// The public endpoint (default).
    #[default]
    Public,
    /// The internal endpoint.
    Internal,
    /// The admin endpoint.
    Admin,
}

impl Interface {
    /// The name used in the catalog.
    pub fn as_str(self) -> &'static str {
        match self {
            Interface::Public => "public",
            Interface::Internal => "internal",
            Interface::Admin => "admin",
        }
    }

    /// Parses `public`/`publicURL`, `internal`/`internalURL`, `admin`/`adminURL`.
    pub fn parse(s: &str) -> Option<Interface> {
        Some(match s.trim_end_matches("URL") {
            "public" => Interface::Public,
            "internal" => Interface::Internal,
            "admin" => Interface::Admin,
            _ => return None,
        })
    }
}

/// The `auth:` section of a cloud.
///
/// Build one with `AuthOptions { username: Some(..), ..Default::default() }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthOptions {
    /// Keystone URL (with or without `/v3`).
    pub auth_url: Option<String>,
    /// User name.
    pub username: Option<String>,
    /// User id.
    pub user_id: Option<String>,
    /// Password.
    pub password: Option<Secret>,
    /// Project name (project scope).
    pub project_name: Option<String>,
    /// Project id (project scope).
    pub project_id: Option<String>,
    /// The project's domain name.
    pub project_domain_name: Option<String>,
    /// The project's domain id.
    pub project_domain_id: Option<String>,
    /// The user's domain name.
    pub user_domain_name: Option<String>,
    /// The user's domain id.
    pub user_domain_id: Option<String>,
    /// Domain name (domain scope).
    pub domain_name: Option<String>,
    /// Domain id (domain scope).
    pub domain_id: Option<String>,
    /// System scope (`all`).
    pub system_scope: Option<String>,
    /// An existing token (`token` auth type) or the admin token.
    pub token: Option<Secret>,
    /// Application credential id.
    pub application_credential_id: Option<String>,
    /// Application credential name (needs the user).
    pub application_credential_name: Option<String>,
    /// Application credential secret.
    pub application_credential_secret: Option<Secret>,
    /// Endpoint for the `none` / `admin_token` auth types.
    pub endpoint: Option<String>,
}

/// One cloud's configuration, resolved from files and environment.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CloudConfig {
    /// The cloud's name (`envvars` for one made of `OS_*` variables).
    pub name: String,
    /// Where it came from: a file path, or `environment`.
    pub source: String,
    /// How to authenticate.
    pub auth_type: AuthType,
    /// The `auth:` section.
    pub auth: AuthOptions,
    /// Region to pick endpoints from.
    pub region_name: Option<String>,
    /// Interface to pick endpoints from.
    pub interface: Interface,
    /// Whether to verify TLS certificates (default true).
    pub verify: bool,
    /// Extra CA bundle (PEM).
    pub cacert: Option<PathBuf>,
    /// Client certificate (PEM).
    pub cert: Option<PathBuf>,
    /// Client key (PEM).
    pub key: Option<PathBuf>,
    /// Timeout for connecting and for each read (never a deadline on a whole transfer).
    pub api_timeout: Option<Duration>,
    /// `<service>_endpoint_override` by service type (e.g. `image`).
    pub endpoint_overrides: BTreeMap<String, String>,
    /// `<service>_api_version` by service type: the major version to use; with a minor
    /// (`'2.5'`) also the highest version used, so newer calls are refused before sending.
    pub api_versions: BTreeMap<String, String>,
    /// `<service>_status_code_retries` by service type.
    pub status_code_retries: BTreeMap<String, u32>,
    /// `disable_vendor_agent`: image properties telling the cloud not to expect a vendor
    /// agent (set by some vendors' profiles; empty elsewhere).
    pub disable_vendor_agent: BTreeMap<String, String>,
}

impl CloudConfig {
    /// A cloud built in code (no file): password auth against `auth_url`.
    pub fn new(name: impl Into<String>, auth_type: AuthType, auth: AuthOptions) -> CloudConfig {
        CloudConfig {
            name: name.into(),
            source: "code".into(),
            auth_type,
            auth,
            region_name: None,
            interface: Interface::Public,
            verify: true,
            cacert: None,
            cert: None,
            key: None,
            api_timeout: None,
            endpoint_overrides: BTreeMap::new(),
            api_versions: BTreeMap::new(),
            status_code_retries: BTreeMap::new(),
            disable_vendor_agent: BTreeMap::new(),
        }
    }

    /// A cloud without authentication (`auth_type: none`) whose `service_type` is at
    /// `endpoint`: a standalone Glance with `auth_strategy = noauth`, or a test double such as
    /// `MockHttp` (feature `test-util`; no Keystone is asked anything).
    ///
    /// ```
    /// let cfg = openstack_auth::CloudConfig::without_auth("image", "http://127.0.0.1:9292");
    /// assert!(cfg.validate().is_ok());
    /// ```
    pub fn without_auth(service_type: &str, endpoint: &str) -> CloudConfig {
        let mut cfg = CloudConfig::new("without-auth", AuthType::None, AuthOptions::default());
        cfg.endpoint_overrides.insert(service_type.into(), endpoint.into());
        cfg
    }

    /// Loads the named cloud with the real environment and filesystem.
    ///
    /// # Errors
    /// [`ConfigError`] (inside [`crate::Error::Config`]) naming the cloud, file and key.
    pub fn from_cloud(name: &str) -> Result<CloudConfig, ConfigError> {
        ConfigLoader::new(SystemEnvironment).load_cloud(name)
    }

    /// Loads `OS_CLOUD`'s cloud, or the cloud made of `OS_*` variables.
    ///
    /// # Errors
    /// As [`CloudConfig::from_cloud`].
    pub fn from_env() -> Result<CloudConfig, ConfigError> {
        ConfigLoader::new(SystemEnvironment).load_default()
    }

    fn missing(&self, key: &str) -> ConfigError {
        ConfigError::MissingKey {
            cloud: self.name.clone(),
            file: self.source.clone(),
            key: key.into(),
        }
    }

    /// Checks that the auth type has what it needs; called before any request.
    ///
    /// # Errors
    /// [`ConfigError::MissingKey`] naming the first missing key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let a = &self.auth;
        match self.auth_type {
            AuthType::Password => {
                if a.auth_url.is_none() {
                    return Err(self.missing("auth.auth_url"));
                }
                if a.username.is_none() && a.user_id.is_none() {
                    return Err(self.missing("auth.username (or auth.user_id)"));
                }
                if a.password.is_none() {
                    return Err(self.missing("auth.password"));
                }
            }
            AuthType::Token => {
                if a.auth_url.is_none() {
                    return Err(self.missing("auth.auth_url"));
                }
                if a.token.is_none() {
                    return Err(self.missing("auth.token"));
                }
            }
            AuthType::ApplicationCredential => {
                if a.auth_url.is_none() {
                    return Err(self.missing("auth.auth_url"));
                }
                if a.application_credential_secret.is_none() {
                    return Err(self.missing("auth.application_credential_secret"));
                }
                if a.application_credential_id.is_none() {
                    if a.application_credential_name.is_none() {
                        return Err(self.missing("auth.application_credential_id (or _name)"));
                    }
                    if a.username.is_none() && a.user_id.is_none() {
                        return Err(self.missing("auth.username or auth.user_id (needed with application_credential_name)"));
                    }
                }
            }
            AuthType::None | AuthType::AdminToken => {
                if self.auth_type == AuthType::AdminToken && a.token.is_none() {
                    return Err(self.missing("auth.token"));
                }
                if a.endpoint.is_none() && self.endpoint_overrides.is_empty() {
                    return Err(self.missing("auth.endpoint (or <service>_endpoint_override)"));
                }
            }
        }
        Ok(())
    }
}
