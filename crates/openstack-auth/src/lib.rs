//! # openstack-auth
//!
//! The layer every request of this SDK goes through: cloud configuration
//! ([`config`]: `clouds.yaml`, `secure.yaml`, `OS_*`), Keystone v3 authentication
//! ([`identity`]), the service catalog, version discovery ([`discovery`]) and the
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

pub mod body;
pub mod config;
pub mod discovery;
pub mod error;
pub mod identity;
pub mod secret;
pub mod session;
mod tls;
mod transport;

pub use body::{RequestBody, ResponseBody};
pub use config::{AuthOptions, AuthType, CloudConfig, Interface};
pub use discovery::ApiVersion;
pub use error::{ApiError, BoxError, Cleanup, CleanupOutcome, ConfigError, Error, Result};
pub use identity::{Catalog, Scope, Token};
pub use secret::Secret;
pub use session::{RetryPolicy, ServiceEndpoint, Session, SessionBuilder, read_json};
