//! # openstack-image
//!
//! The OpenStack Image service (Glance) v2: typed resources ([`Image`], [`Member`],
//! [`Task`], [`Schema`], [`Store`], [`ImportInfo`], the metadef types, the cache) and
//! [`ImageProxy`], whose methods mirror Python openstacksdk's image proxy one-to-one in
//! snake_case, with what that proxy lacks: uploads hashed in flight and verified against
//! the server, cleanup of half-created images, downloads verified by `os_hash_value` and
//! written atomically, resumable after a broken connection, and imports whose errors are
//! never swallowed.
//!
//! Built on `openstack-auth` (session), `openstack-resource` (find/list/patch/waiters) and
//! `openstack-transfer` (streaming bodies and digests).
//!
//! Every call has one shape: required ids positional (parent first), options as setters
//! on a `#[must_use]` builder you `.await`, `_opt` variants where "missing is fine", and a
//! stream for every collection. Every future is `'static` (it owns a clone of the proxy).
//!
//! ```no_run
//! # async fn demo() -> openstack_auth::Result<()> {
//! use futures_util::TryStreamExt;
//! use openstack_auth::{CloudConfig, Session};
//! use openstack_image::{DiskFormat, ImageProxy, ImageQuery, ImageStatus, WaitOptions};
//!
//! let image = ImageProxy::new(Session::new(CloudConfig::from_cloud("mycloud")?)?);
//! let img = image
//!     .create_image("cirros")
//!     .filename("cirros.qcow2")
//!     .disk_format(DiskFormat::Qcow2)
//!     .wait(WaitOptions::default())
//!     .await?;
//! let active: Vec<_> =
//!     image.images(&ImageQuery::new().status(ImageStatus::Active)).try_collect().await?;
//! image.download_image(&img).to_path("copy.qcow2").await?; // verified, atomic
//! image.delete_image(&img).await?;
//! # let _ = active; Ok(()) }
//! ```

mod cache;
mod call;
mod check;
mod create;
mod download;
mod enums;
mod error;
mod id_ref;
mod images;
mod import;
mod import_wait;
mod info;
mod inspect;
mod list_query;
mod members;
mod metadef;
mod proxy;
mod query;
mod schemas;
mod tasks;
mod types;
mod upload;
mod wait;

pub use cache::{CacheTarget, CachedImage, ClearCache, ImageCache};
pub use call::{Call, Items};
pub use create::{CreateImage, CreatedImage};
pub use download::{
    AUTO_CONNECTIONS, AUTO_CONNECTIONS_BELOW, AUTO_CONNECTIONS_FROM, DownloadImage,
    DownloadOutcome, DownloadStream,
};
pub use enums::{ContainerFormat, DiskFormat, ImageStatus, MemberStatus, TaskStatus, Visibility};
pub use id_ref::IdRef;
pub use images::DeleteImage;
pub use import::{Accepted, ImportImage, ImportMethod, ImportOutcome, Waited};
pub use import_wait::WaitForImport;
pub use info::{AddImageLocation, ImportInfo, Store, Usage, UsageEntry};
pub use inspect::{detected_disk_format, glance_verdict, inspect_file};
pub use list_query::{NamespaceQuery, StoreQuery, TagQuery, TaskQuery};
pub use members::Member;
pub use metadef::{
    CreateMetadefTags, MetadefNamespace, MetadefObject, MetadefProperty, MetadefResourceType,
    MetadefResourceTypeAssociation, MetadefTag,
};
pub use openstack_auth::{
    ApiError, Cleanup, CleanupOutcome, CloudConfig, Error, Result, Session, SessionBuilder,
};
pub use openstack_diskformat as diskformat;
pub use openstack_resource::WaitOptions;
pub use openstack_transfer::Algorithm;
pub use proxy::ImageProxy;
pub use query::{Compare, ImageQuery, SortDir};
pub use schemas::{Schema, SchemaName};
pub use tasks::Task;
pub use types::{Image, ImageCreate, Location};
pub use upload::{ImageData, StageImage};
pub use wait::{WaitForDelete, WaitForStatus, WireStatus};

#[cfg(test)]
pub(crate) use proxy::test_proxy;

/// The README's examples are compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
