//! # openstack-client
//!
//! One dependency for the whole SDK: connect with the `clouds.yaml` you already have, and
//! every Image service call is one method away.
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//! use openstack_client::prelude::*;
//!
//! # async fn demo() -> openstack_client::Result<()> {
//! let conn = Connection::from_cloud("mycloud")?;
//! let image = conn.image();
//! let img = image.create_image("cirros").filename("cirros.qcow2").wait(WaitOptions::default()).await?;
//! let all: Vec<Image> = image.images(&ImageQuery::new()).try_collect().await?;
//! image.download_image(&img).to_path("copy.qcow2").await?;
//! image.delete_image(&img).await?;
//! # let _ = all; Ok(()) }
//! ```
//!
//! ## Layers and features
//!
//! | feature | crate | what |
//! | --- | --- | --- |
//! | (always) | [`auth`] | config, Keystone, catalog, discovery, the HTTP session |
//! | `resource` | `resource` | the resource framework, reusable for any service |
//! | `transfer` | `transfer` | streaming bodies, digests, verified downloads |
//! | `image` (default) | `image` | Glance v2: `ImageProxy` and its resources |
//! | (always) | [`diskformat`] | disk formats and Glance's safety checks, from bytes |
//!
//! ## Errors
//!
//! Every call returns [`Result`] with one [`Error`] to match on by kind
//! (`NotFound`, `Conflict`, `Forbidden`, `Ambiguous`, `Timeout`, `Failed`,
//! `ChecksumMismatch`, `Unsupported`, `InvalidArgument`, `Transport`, `Config`, ...), with
//! helpers such as [`Error::is_not_found`] and [`Error::request_id`].
//!
//! ## Configuration
//!
//! [`Connection::from_cloud`] reads `clouds.yaml` (+ `secure.yaml`) from
//! `OS_CLIENT_CONFIG_FILE`, the current directory, `~/.config/openstack` or
//! `/etc/openstack`; [`Connection::from_env`] uses `OS_CLOUD`, else the `OS_*` variables.
//! Everything else (explicit auth, endpoint overrides, TLS, retries, timeouts, user agent)
//! goes through [`Connection::builder`].
//!
//! ## Transfers
//!
//! Uploads stream from disk with md5, sha256 and sha512 computed in flight on separate
//! threads and compared with what Glance recorded; a failed upload deletes the
//! half-created image. Downloads verify `os_hash_value` (else `checksum`), write to a
//! temporary file renamed into place only after verification, and resume a broken
//! connection with a range request. Memory stays flat in the image size.
//!
//! Before an upload the data is inspected (its first 4 MiB and last 1536 bytes): a
//! `disk_format` the content contradicts, or content failing a check Glance runs after the
//! upload (a qcow2 backing file, a VMDK extent naming a host file, ...), is refused with
//! [`Error::ImageFormat`] before anything is created; an unset `disk_format` is detected.

use std::time::Duration;

pub mod guide;

pub use openstack_auth as auth;
/// Disk image formats and Glance's safety checks, without I/O (always present: the SDK's
/// [`Error::ImageFormat`] carries an inspection).
pub use openstack_auth::diskformat;
#[cfg(feature = "image")]
pub use openstack_image as image;
#[cfg(feature = "resource")]
pub use openstack_resource as resource;
#[cfg(feature = "transfer")]
pub use openstack_transfer as transfer;

pub use openstack_auth::{CloudConfig, Error, Proxy, Result, RetryPolicy, Session};

/// The usual imports.
pub mod prelude {
    pub use crate::{Connection, Error, Result};
    #[cfg(feature = "image")]
    pub use openstack_image::{
        CacheTarget, Call, Compare, ContainerFormat, DiskFormat, IdRef, Image, ImageData,
        ImageProxy, ImageQuery, ImageStatus, ImportMethod, Items, MemberStatus, NamespaceQuery,
        SchemaName, SortDir, StoreQuery, TagQuery, TaskQuery, TaskStatus, Visibility, WaitOptions,
    };
    #[cfg(feature = "resource")]
    pub use openstack_resource::{Api, Query};
    #[cfg(feature = "transfer")]
    pub use openstack_transfer::{Algorithm, Progress, ProgressUpdate};
}

/// A connection to one cloud. Cheap to clone, `Send + Sync`: share it between tasks.
#[derive(Clone, Debug)]
pub struct Connection {
    session: Session,
    #[cfg(feature = "image")]
    image: openstack_image::ImageProxy,
}

impl Connection {
    /// Connects to a cloud of `clouds.yaml` by name. Nothing is sent until the first call.
    ///
    /// # Errors
    /// [`Error::Config`] naming the cloud, file and key at fault.
    pub fn from_cloud(name: &str) -> Result<Connection> {
        Connection::builder().cloud(name).build()
    }

    /// Connects to `OS_CLOUD`'s cloud, or to the cloud described by the `OS_*` variables.
    ///
    /// # Errors
    /// [`Error::Config`].
    pub fn from_env() -> Result<Connection> {
        Connection::builder().build()
    }

    /// A builder for everything else.
    pub fn builder() -> ConnectionBuilder {
        ConnectionBuilder::default()
    }

    /// Wraps an existing session.
    pub fn from_session(session: Session) -> Connection {
        Connection {
            #[cfg(feature = "image")]
            image: openstack_image::ImageProxy::new(session.clone()),
            session,
        }
    }

    /// The authenticated session (for raw requests or other services).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The Image service (Glance v2).
    #[cfg(feature = "image")]
    pub fn image(&self) -> openstack_image::ImageProxy {
        self.image.clone()
    }
}

/// Builds a [`Connection`]. Bad input is reported by [`ConnectionBuilder::build`].
#[derive(Debug, Default, Clone)]
#[must_use]
pub struct ConnectionBuilder {
    cloud: Option<String>,
    config: Option<CloudConfig>,
    endpoint_overrides: Vec<(String, String)>,
    region: Option<String>,
    interface: Option<openstack_auth::Interface>,
    insecure: Option<bool>,
    cacert: Option<std::path::PathBuf>,
    client_cert: Option<std::path::PathBuf>,
    client_key: Option<std::path::PathBuf>,
    retries: Option<RetryPolicy>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    send_timeout: Option<Duration>,
    response_timeout: Option<Duration>,
    user_agent: Option<String>,
    proxy: Option<openstack_auth::Proxy>,
}

impl ConnectionBuilder {
    /// Uses the named cloud of `clouds.yaml`.
    pub fn cloud(mut self, name: &str) -> Self {
        self.cloud = Some(name.into());
        self
    }
    /// Uses an explicit configuration (auth built in code).
    pub fn config(mut self, config: CloudConfig) -> Self {
        self.config = Some(config);
        self
    }
    /// Overrides a service's endpoint (e.g. `image` → `https://glance.example:9292`).
    pub fn endpoint_override(mut self, service_type: &str, url: &str) -> Self {
        self.endpoint_overrides.push((service_type.into(), url.into()));
        self
    }
    /// Picks endpoints of this region.
    pub fn region(mut self, region: &str) -> Self {
        self.region = Some(region.into());
        self
    }
    /// Picks endpoints of this interface.
    pub fn interface(mut self, interface: openstack_auth::Interface) -> Self {
        self.interface = Some(interface);
        self
    }
    /// Skips TLS verification (`insecure: true`). Only for tests.
    pub fn insecure(mut self, insecure: bool) -> Self {
        self.insecure = Some(insecure);
        self
    }
    /// Trusts this CA bundle (PEM) besides the system roots.
    pub fn cacert(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.cacert = Some(path.into());
        self
    }
    /// Presents this client certificate (PEM; its key in the same file unless
    /// [`ConnectionBuilder::client_key`] names another).
    pub fn client_cert(mut self, cert: impl Into<std::path::PathBuf>) -> Self {
        self.client_cert = Some(cert.into());
        self
    }
    /// The client certificate's key, when it is not in the certificate's file.
    pub fn client_key(mut self, key: impl Into<std::path::PathBuf>) -> Self {
        self.client_key = Some(key.into());
        self
    }
    /// Sets the retry policy.
    pub fn retries(mut self, policy: RetryPolicy) -> Self {
        self.retries = Some(policy);
        self
    }
    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = Some(t);
        self
    }
    /// Sets the idle read timeout (never a deadline on a whole transfer).
    pub fn read_timeout(mut self, t: Duration) -> Self {
        self.read_timeout = Some(t);
        self
    }
    /// Sets the idle timeout of uploads: a server that takes no bytes for this long ends the
    /// upload with `Error::IdleTimeout` (default: `api_timeout`, else 120 s).
    pub fn send_timeout(mut self, t: Duration) -> Self {
        self.send_timeout = Some(t);
        self
    }
    /// Sets the longest wait for the response after an upload's last byte (default 300 s).
    pub fn response_timeout(mut self, t: Duration) -> Self {
        self.response_timeout = Some(t);
        self
    }
    /// Sets the user agent.
    pub fn user_agent(mut self, ua: &str) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Sets the HTTP proxy; the default reads `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and
    /// `NO_PROXY` (lower case first) as curl and `openstack` do. See [`openstack_auth::Proxy`].
    ///
    /// ```no_run
    /// # fn main() -> openstack_client::Result<()> {
    /// use openstack_client::{Connection, Proxy};
    /// let conn = Connection::builder()
    ///     .cloud("mycloud")
    ///     .proxy(Proxy::url("http://proxy.corp:3128").no_proxy(".internal"))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn proxy(mut self, proxy: openstack_auth::Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Builds the connection. Nothing is sent until the first call.
    ///
    /// # Errors
    /// [`Error::Config`] for a missing or incomplete cloud; [`Error::InvalidArgument`] for
    /// unreadable TLS files or an unusable proxy URL.
    pub fn build(self) -> Result<Connection> {
        let mut config = match (self.config, self.cloud) {
            (Some(c), _) => c,
            (None, Some(name)) => CloudConfig::from_cloud(&name)?,
            (None, None) => CloudConfig::from_env()?,
        };
        for (service, url) in self.endpoint_overrides {
            config.endpoint_overrides.insert(service, url);
        }
        if let Some(r) = self.region {
            config.region_name = Some(r);
        }
        if let Some(i) = self.interface {
            config.interface = i;
        }
        if let Some(insecure) = self.insecure {
            config.verify = !insecure;
        }
        if let Some(ca) = self.cacert {
            config.cacert = Some(ca);
        }
        if let Some(cert) = self.client_cert {
            // A certificate given here does not take its key from the configuration.
            config.cert = Some(cert);
            config.key = None;
        }
        if let Some(key) = self.client_key {
            config.key = Some(key);
        }
        let mut b = Session::builder(config);
        if let Some(r) = self.retries {
            b = b.retry_policy(r);
        }
        if let Some(t) = self.connect_timeout {
            b = b.connect_timeout(t);
        }
        if let Some(t) = self.read_timeout {
            b = b.read_timeout(t);
        }
        if let Some(t) = self.send_timeout {
            b = b.send_timeout(t);
        }
        if let Some(t) = self.response_timeout {
            b = b.response_timeout(t);
        }
        if let Some(ua) = self.user_agent {
            b = b.user_agent(ua);
        }
        if let Some(p) = self.proxy {
            b = b.proxy(p);
        }
        Ok(Connection::from_session(b.build()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn connection_is_send_sync_and_clone() {
        assert_send_sync::<Connection>();
    }

    #[test]
    fn builder_reports_missing_cloud_config() {
        let cfg = CloudConfig::new(
            "c",
            openstack_auth::AuthType::Password,
            openstack_auth::AuthOptions::default(),
        );
        let err = Connection::builder().config(cfg).build().unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
        assert!(err.to_string().contains("auth.auth_url"), "{err}");
    }
}

/// The README's examples are compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
