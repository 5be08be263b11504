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
//! ```no_run
//! # async fn demo() -> openstack_auth::Result<()> {
//! use futures_util::TryStreamExt;
//! use openstack_auth::{CloudConfig, Session};
//! use openstack_image::{DiskFormat, ImageProxy};
//! use openstack_resource::Query;
//!
//! let image = ImageProxy::new(Session::new(CloudConfig::from_cloud("mycloud")?)?);
//! let img = image.create_image("cirros").filename("cirros.qcow2").disk_format(DiskFormat::Qcow2).wait(true).await?;
//! let active: Vec<_> = image.images(&Query::new().param("status", "active")).try_collect().await?;
//! image.download_image(&img).to_path("copy.qcow2").await?; // verified, atomic
//! image.delete_image(&img, None, false).await?;
//! # let _ = active; Ok(()) }
//! ```

pub mod create;
pub mod data;
pub mod import;
pub mod metadef;
pub mod proxy;
pub mod types;

pub use create::CreateImage;
pub use data::{DownloadImage, DownloadOutcome, ImageData};
pub use import::{ImportImage, ImportMethod, ImportOutcome};
pub use metadef::{
    MetadefNamespace, MetadefObject, MetadefProperty, MetadefResourceType,
    MetadefResourceTypeAssociation, MetadefTag,
};
pub use openstack_transfer::Algorithm;
pub use proxy::{IdRef, ImageProxy};
pub use types::{
    CacheTarget, CachedImage, ContainerFormat, DiskFormat, IMAGE_TYPED_FIELDS, Image, ImageCache,
    ImageCreate, ImageStatus, ImportInfo, Location, Member, MemberStatus, Schema, Store, Task,
    TaskStatus, Usage, UsageEntry, Visibility,
};
