//! `image list|create|set` options, with the flags create and set share written once.

use std::path::PathBuf;

use clap::Args;

use super::key_value;
use crate::output::OutputArgs;

/// `image list` options.
/// openstackclient's disk format choices (`DISK_CHOICES`): anything else is refused by the
/// parser with this list, never sent to Glance.
const DISK_FORMATS: [&str; 11] =
    ["ami", "ari", "aki", "vhd", "vmdk", "raw", "qcow2", "vhdx", "vdi", "iso", "ploop"];
/// openstackclient's container format choices (`CONTAINER_CHOICES`).
const CONTAINER_FORMATS: [&str; 7] = ["ami", "ari", "aki", "bare", "docker", "ova", "ovf"];
/// Glance's image statuses.
const IMAGE_STATUSES: [&str; 9] = [
    "queued",
    "saving",
    "uploading",
    "importing",
    "active",
    "deactivated",
    "killed",
    "deleted",
    "pending_delete",
];

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// List only public images.
    #[arg(long, group = "vis")]
    pub public: bool,
    /// List only private images.
    #[arg(long, group = "vis")]
    pub private: bool,
    /// List only community images.
    #[arg(long, group = "vis")]
    pub community: bool,
    /// List only shared images.
    #[arg(long, group = "vis")]
    pub shared: bool,
    /// List all images.
    #[arg(long, group = "vis")]
    pub all: bool,
    /// Filter by property (repeatable).
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    /// Filter by name.
    #[arg(long)]
    pub name: Option<String>,
    /// Filter by status.
    #[arg(long, value_parser = IMAGE_STATUSES)]
    pub status: Option<String>,
    /// Filter by member status.
    #[arg(long, value_parser = ["accepted", "pending", "rejected", "all"])]
    pub member_status: Option<String>,
    /// Filter by project (owner), name or ID (names are resolved through Keystone).
    #[arg(long)]
    pub project: Option<String>,
    /// Domain the project belongs to (name or ID), when project names collide.
    #[arg(long, value_name = "PROJECT_DOMAIN", requires = "project")]
    pub project_domain: Option<String>,
    /// Filter by tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// List hidden images.
    #[arg(long)]
    pub hidden: bool,
    /// List additional fields.
    #[arg(long)]
    pub long: bool,
    /// Sort output by keys and directions (asc or desc), on the client as openstackclient
    /// does (default: name:asc); several keys separated by commas.
    #[arg(long, value_name = "KEY[:DIRECTION]")]
    pub sort: Option<String>,
    /// The most images to list: one page of this many (openstackclient's page size).
    #[arg(long, value_name = "LIMIT")]
    pub limit: Option<usize>,
    /// The most images to list in total, over as many pages as needed.
    #[arg(long, value_name = "MAX_ITEMS")]
    pub max_items: Option<usize>,
    /// The last image (ID) of the previous page.
    #[arg(long, value_name = "IMAGE")]
    pub marker: Option<String>,
    /// Images per request (default: 1000, as many as Glance allows; openstackclient
    /// accepts this flag and ignores it).
    #[arg(long, hide = true, value_name = "SIZE")]
    pub page_size: Option<u32>,
    /// Output.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// Visibility flags shared by create and set.
#[derive(Debug, Args)]
pub(crate) struct VisibilityArgs {
    /// Image is accessible to everyone.
    #[arg(long, group = "visibility")]
    pub public: bool,
    /// Image is inaccessible to others (default).
    #[arg(long, group = "visibility")]
    pub private: bool,
    /// Image is accessible to all projects that accept it.
    #[arg(long, group = "visibility")]
    pub community: bool,
    /// Image can be shared with other projects.
    #[arg(long, group = "visibility")]
    pub shared: bool,
}

/// The fields `image create` and `image set` both take.
#[derive(Debug, Args)]
pub(crate) struct ImageFields {
    /// Image disk format (create's default: raw, or from the file's extension).
    #[arg(long, value_parser = DISK_FORMATS)]
    pub disk_format: Option<String>,
    /// Image container format (create's default: bare).
    #[arg(long, value_parser = CONTAINER_FORMATS)]
    pub container_format: Option<String>,
    /// Minimum disk size needed to boot the image, in gigabytes.
    #[arg(long)]
    pub min_disk: Option<u64>,
    /// Minimum RAM size needed to boot the image, in megabytes.
    #[arg(long)]
    pub min_ram: Option<u64>,
    /// Prevent the image from being deleted.
    #[arg(long, conflicts_with = "unprotected")]
    pub protected: bool,
    /// Allow the image to be deleted (create's default).
    #[arg(long)]
    pub unprotected: bool,
    /// Visibility.
    #[command(flatten)]
    pub visibility: VisibilityArgs,
    /// Set a property on the image (repeatable).
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    /// Set a tag on the image (repeatable; set adds to the image's tags).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Owner project of the image (name or ID; names are resolved through Keystone).
    #[arg(long, value_name = "PROJECT")]
    pub project: Option<String>,
    /// Domain the project belongs to (name or ID), when project names collide.
    #[arg(long, value_name = "PROJECT_DOMAIN", requires = "project")]
    pub project_domain: Option<String>,
}

/// `image create` options.
#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// New image name.
    pub name: String,
    /// Upload image data from this local file (without it, data piped or redirected to
    /// stdin is uploaded; a terminal or /dev/null on stdin creates an image without data).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Size of the data on stdin, in bytes (announced and enforced).
    #[arg(long, value_name = "SIZE")]
    pub size: Option<u64>,
    /// The new image's ID (a UUID; default: a random one).
    #[arg(long)]
    pub id: Option<String>,
    /// Fields.
    #[command(flatten)]
    pub fields: ImageFields,
    /// Upload through the interoperable import (stage + glance-direct).
    #[arg(long = "import")]
    pub use_import: bool,
    /// Store to upload the image to (repeatable; implies --import).
    #[arg(long = "store", value_name = "STORE")]
    pub stores: Vec<String>,
    /// Show a progress bar (on a terminal it is shown anyway).
    #[arg(long)]
    pub progress: bool,
    /// Digest computed while the data uploads and compared with the one Glance reports
    /// (repeatable; not in openstackclient, which verifies nothing): md5 (Glance's `checksum`,
    /// reported by every Glance; the default), sha512 (`os_hash_value`, unless the cloud
    /// hashes with another algorithm), sha256; `none` verifies nothing. A mismatch, or a
    /// digest Glance does not report, fails the command and deletes the image.
    #[arg(
        long = "checksum-algorithm",
        value_name = "ALGORITHM",
        default_value = "md5",
        value_parser = ["md5", "sha256", "sha512", "none"]
    )]
    pub checksum_algorithms: Vec<String>,
    /// Output.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `image set` options.
#[derive(Debug, Args)]
pub(crate) struct SetArgs {
    /// Image to modify (name or ID).
    pub image: String,
    /// New image name.
    #[arg(long)]
    pub name: Option<String>,
    /// Fields.
    #[command(flatten)]
    pub fields: ImageFields,
    /// Hide the image from default lists.
    #[arg(long, conflicts_with = "unhidden")]
    pub hidden: bool,
    /// Show the image in default lists.
    #[arg(long)]
    pub unhidden: bool,
    /// Deactivate the image.
    #[arg(long, conflicts_with = "activate")]
    pub deactivate: bool,
    /// Activate (reactivate) the image.
    #[arg(long)]
    pub activate: bool,
    /// Accept the image's share, for --project or your own project.
    #[arg(long, group = "membership")]
    pub accept: bool,
    /// Reject the image's share, for --project or your own project.
    #[arg(long, group = "membership")]
    pub reject: bool,
    /// Reset the image's share to pending, for --project or your own project.
    #[arg(long, group = "membership")]
    pub pending: bool,
    /// Operating system architecture (property `architecture`).
    #[arg(long)]
    pub architecture: Option<String>,
    /// Operating system distribution name (property `os_distro`).
    #[arg(long)]
    pub os_distro: Option<String>,
    /// Operating system distribution version (property `os_version`).
    #[arg(long)]
    pub os_version: Option<String>,
    /// ID of the kernel image used to boot this disk image (property `kernel_id`).
    #[arg(long)]
    pub kernel_id: Option<String>,
    /// ID of the ramdisk image used to boot this disk image (property `ramdisk_id`).
    #[arg(long)]
    pub ramdisk_id: Option<String>,
    /// ID of the server the image was made from (property `instance_id`).
    #[arg(long, alias = "instance-uuid")]
    pub instance_id: Option<String>,
}
