//! # openstack-auth
//!
//! The layer every request of this SDK goes through: cloud configuration
//! ([`CloudConfig`], [`ConfigLoader`]: `clouds.yaml`, `secure.yaml`, `OS_*`), Keystone v3
//! authentication ([`Token`]), the service [`Catalog`], version discovery ([`ApiVersion`]) and the
//! authenticated HTTP [`Session`] (hyper + rustls, retries, token refresh, error mapping).
//!
//! It depends on no other crate of this workspace; `openstack-resource`,
//! `openstack-image` and the `openstack-client` facade build on it.
//!
//! ```no_run
//! # async fn demo() -> openstack_auth::Result<()> {
//! use openstack_auth::{CloudConfig, Session};
//!
//! let session = Session::new(CloudConfig::from_cloud("mycloud")?)?;
//! let glance = session.endpoint("image").await?;
//! println!("Glance at {} speaks up to v{:?}", glance.root, glance.version);
//! let resp = session
//!     .request("image", http::Request::get("/v2/images?limit=1").body(Default::default())?)
//!     .await?;
//! let page: serde_json::Value = openstack_auth::read_json(resp).await?;
//! # let _ = page; Ok(()) }
//! ```
//!
//! Secrets ([`Secret`]) never appear in `Debug` output or logs; the token header is marked
//! sensitive.

mod body;
mod config;
mod connect;
mod discovery;
mod error;
mod identity;
#[cfg(feature = "test-util")]
mod mock;
mod proxy;
mod retry;
mod secret;
mod session;
mod tls;
mod transport;

pub use body::{BodyFactory, Replayer, RequestBody, ResponseBody, StreamBody};
pub use config::{
    AuthOptions, AuthType, CloudConfig, ConfigLoader, Environment, Interface, StaticEnvironment,
    SystemEnvironment,
};
pub use discovery::ApiVersion;
pub use error::{ApiError, BoxError, Cleanup, CleanupOutcome, ConfigError, Error, Result};
pub use identity::{Catalog, CatalogEndpoint, CatalogService, Scope, Token};
#[cfg(feature = "test-util")]
pub use mock::{MockAnswer, MockHttp, RecordedRequest};
pub use openstack_diskformat as diskformat;
/// The digest algorithm named by [`Error::ChecksumMismatch`] (from `openstack-transfer`).
pub use openstack_transfer::Algorithm;
pub use proxy::Proxy;
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use session::{ServiceEndpoint, Session, SessionBuilder, read_json};

/// The README's examples are compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
