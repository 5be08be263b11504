//! The command line: openstackclient's image commands, same names and flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::OutputArgs;

mod metadef;
mod other;
pub use metadef::*;
pub use other::*;

/// osrs: the OpenStack Image service from the command line, with openstackclient's
/// `image` commands, verified and resumable transfers, and `image copy` between clouds.
#[derive(Debug, Parser)]
#[command(name = "osrs", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes (openstackclient's names and `OS_*` variables).
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Cloud name in clouds.yaml.
    #[arg(long = "os-cloud", env = "OS_CLOUD", global = true, value_name = "NAME")]
    pub os_cloud: Option<String>,
    /// Region name.
    #[arg(long = "os-region-name", env = "OS_REGION_NAME", global = true, value_name = "REGION")]
    pub os_region_name: Option<String>,
    /// Interface: public, internal or admin.
    #[arg(long = "os-interface", env = "OS_INTERFACE", global = true, value_name = "INTERFACE")]
    pub os_interface: Option<String>,
    /// CA bundle to verify the servers' certificates with.
    #[arg(long = "os-cacert", env = "OS_CACERT", global = true, value_name = "FILE")]
    pub os_cacert: Option<PathBuf>,
    /// Do not verify the servers' certificates.
    #[arg(long, global = true)]
    pub insecure: bool,
    /// Image API version: `2` or a pinned `2.N` (newer calls are refused before sending).
    #[arg(
        long = "os-image-api-version",
        env = "OS_IMAGE_API_VERSION",
        global = true,
        value_name = "VERSION"
    )]
    pub os_image_api_version: Option<String>,
    /// Log requests and responses (no secrets) to stderr.
    #[arg(long, global = true)]
    pub debug: bool,
    /// More output (repeatable).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Images.
    #[command(subcommand)]
    Image(Box<ImageCmd>),
    /// The image cache (`cached image list|queue|delete|clear`).
    Cached {
        /// What to do with the cache.
        #[command(subcommand)]
        what: CachedCmd,
    },
    /// Shell completions: `osrs completion bash > /etc/bash_completion.d/osrs`.
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `image ...`.
#[derive(Debug, Subcommand)]
pub enum ImageCmd {
    /// List available images.
    List(ListArgs),
    /// Display image details.
    Show {
        /// Image to display (name or ID).
        image: String,
        /// Print the size in a human-friendly format.
        #[arg(long)]
        human_readable: bool,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Create an image (and upload its data, hashed in flight and verified).
    Create(CreateArgs),
    /// Set image properties.
    Set(SetArgs),
    /// Unset image tags and properties.
    Unset {
        /// Image to modify (name or ID).
        image: String,
        /// Tag to remove (repeatable).
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        /// Property to remove (repeatable).
        #[arg(long = "property", value_name = "KEY")]
        properties: Vec<String>,
    },
    /// Delete images.
    Delete {
        /// Images to delete (name or ID).
        #[arg(required = true)]
        images: Vec<String>,
        /// Only delete the image's data in this store.
        #[arg(long)]
        store: Option<String>,
    },
    /// Save an image locally: verified, atomic, resumed after a broken connection.
    Save {
        /// Image to save (name or ID).
        image: String,
        /// Downloaded image save filename (default: stdout, still verified).
        #[arg(long)]
        file: Option<PathBuf>,
        /// Show a progress bar (on a terminal it is shown anyway).
        #[arg(long)]
        progress: bool,
    },
    /// Associate a project with an image.
    #[command(name = "add")]
    Add {
        /// What to add.
        #[command(subcommand)]
        what: AddCmd,
    },
    /// Disassociate a project from an image.
    #[command(name = "remove")]
    Remove {
        /// What to remove.
        #[command(subcommand)]
        what: RemoveCmd,
    },
    /// Image members.
    Member {
        /// What to do with members.
        #[command(subcommand)]
        what: MemberCmd,
    },
    /// Import data into an image (glance-direct, web-download, glance-download, copy-image),
    /// or, as `image import info`, show the import methods and stores on offer.
    Import(ImportArgs),
    /// Stage data for an image (for a later glance-direct import).
    Stage {
        /// Image to stage data for (name or ID).
        image: String,
        /// Local file that contains the image data.
        #[arg(long)]
        file: PathBuf,
        /// Accepted for openstackclient's scripts; staging shows no bar (create and save do).
        #[arg(long)]
        progress: bool,
    },
    /// Tasks.
    Task {
        /// What to do with tasks.
        #[command(subcommand)]
        what: TaskCmd,
    },
    /// Stores.
    Stores {
        /// What to do with stores.
        #[command(subcommand)]
        what: StoresCmd,
    },
    /// Copy an image into another cloud (or within one): streamed, hashed once in flight,
    /// verified at the far end; a failure deletes the half-made copy.
    Copy(CopyArgs),
    /// Metadata definitions.
    Metadef {
        /// What to do with metadefs.
        #[command(subcommand)]
        what: MetadefCmd,
    },
}

/// `image list` options.
#[derive(Debug, Args)]
pub struct ListArgs {
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
    #[arg(long)]
    pub status: Option<String>,
    /// Filter by member status (accepted, pending, rejected, all).
    #[arg(long)]
    pub member_status: Option<String>,
    /// Filter by project (owner) ID.
    #[arg(long)]
    pub project: Option<String>,
    /// Filter by tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// List hidden images.
    #[arg(long)]
    pub hidden: bool,
    /// List additional fields.
    #[arg(long)]
    pub long: bool,
    /// Sort by keys and directions, e.g. `name:asc,size:desc`.
    #[arg(long, value_name = "KEY[:DIRECTION]")]
    pub sort: Option<String>,
    /// Maximum number of images to display.
    #[arg(long, value_name = "NUM-IMAGES")]
    pub limit: Option<usize>,
    /// The last image (ID) of the previous page.
    #[arg(long, value_name = "IMAGE")]
    pub marker: Option<String>,
    /// Output.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// Visibility flags shared by create and set.
#[derive(Debug, Args)]
pub struct VisibilityArgs {
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

/// `image create` options.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// New image name.
    pub name: String,
    /// Upload image data from this local file.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Image disk format (default: raw, or from the file's extension).
    #[arg(long)]
    pub disk_format: Option<String>,
    /// Image container format (default: bare).
    #[arg(long)]
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
    /// Allow the image to be deleted (default).
    #[arg(long)]
    pub unprotected: bool,
    /// Visibility.
    #[command(flatten)]
    pub visibility: VisibilityArgs,
    /// Set a property on the image (repeatable).
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    /// Set a tag on the image (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
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
pub struct SetArgs {
    /// Image to modify (name or ID).
    pub image: String,
    /// New image name.
    #[arg(long)]
    pub name: Option<String>,
    /// Minimum disk size, in gigabytes.
    #[arg(long)]
    pub min_disk: Option<u64>,
    /// Minimum RAM size, in megabytes.
    #[arg(long)]
    pub min_ram: Option<u64>,
    /// Image disk format.
    #[arg(long)]
    pub disk_format: Option<String>,
    /// Image container format.
    #[arg(long)]
    pub container_format: Option<String>,
    /// Prevent the image from being deleted.
    #[arg(long, conflicts_with = "unprotected")]
    pub protected: bool,
    /// Allow the image to be deleted.
    #[arg(long)]
    pub unprotected: bool,
    /// Visibility.
    #[command(flatten)]
    pub visibility: VisibilityArgs,
    /// Set a property (repeatable).
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    /// Add a tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
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
}

/// `KEY=VALUE`.
fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn openstackclient_lines_parse() {
        for line in [
            "osrs image list --long --public --property os_distro=ubuntu --limit 5 -f json",
            "osrs image create cirros --file c.img --disk-format qcow2 --property a=b --tag t --public",
            "osrs image set img --name n --protected --property k=v --tag t --deactivate",
            "osrs image unset img --tag t --property k",
            "osrs image save img --file out.img",
            "osrs image add project img proj",
            "osrs image remove project img proj",
            "osrs image member list img -f value",
            "osrs image import img --method web-download --uri http://x/y --store fast --wait",
            "osrs image import info -f json",
            "osrs image stage img --file f",
            "osrs image task list --type import",
            "osrs image stores list --detail",
            "osrs image copy img --to-cloud other --name copy",
            "osrs image metadef namespace list",
            "osrs image metadef resource type list",
            "osrs cached image list",
            "osrs cached image clear --queue",
            "osrs --os-cloud local image show img -c id -c name",
        ] {
            let args: Vec<&str> = line.split_whitespace().collect();
            if let Err(e) = Cli::try_parse_from(&args) {
                panic!("{line}: {e}");
            }
        }
        assert!(Cli::try_parse_from(["osrs", "image", "list", "--public", "--private"]).is_err());
        assert!(
            Cli::try_parse_from(["osrs", "image", "create", "x", "--property", "novalue"]).is_err()
        );
    }
}
