//! The command line: openstackclient's image commands, same names and flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::OutputArgs;

mod image;
mod metadef;
mod other;
pub(crate) use image::*;
pub(crate) use metadef::*;
pub(crate) use other::*;

/// osrs: the OpenStack Image service from the command line, with openstackclient's
/// `image` commands, verified and resumable transfers, and `image copy` between clouds.
#[derive(Debug, Parser)]
#[command(
    name = "osrs",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_help = "HTTP proxies: like `openstack` (which has no proxy option either), osrs reads \
                  https_proxy, http_proxy, all_proxy and no_proxy (lower case first, then \
                  HTTPS_PROXY, ...). https:// URLs go through a CONNECT tunnel; a user and \
                  password in the proxy URL are sent to the proxy and never printed."
)]
pub(crate) struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes (openstackclient's names and `OS_*` variables).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct Global {
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
    /// Do not keep the Keystone token between runs (by default a password or application
    /// credential login is kept, mode 0600, in $XDG_CACHE_HOME/osrs/tokens or
    /// ~/.cache/osrs/tokens, and reused until shortly before it expires).
    #[arg(long, env = "OSRS_NO_TOKEN_CACHE", global = true, value_parser = clap::builder::FalseyValueParser::new())]
    pub no_token_cache: bool,
    /// Log requests and responses (no secrets) to stderr.
    #[arg(long, global = true)]
    pub debug: bool,
    /// More output (repeatable).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
pub(crate) enum ImageCmd {
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
        /// Preferred store to download from (repeatable, in order of preference).
        #[arg(long = "store-preference", value_name = "STORE")]
        store_preferences: Vec<String>,
        /// Accepted for openstackclient's scripts; buffers are sized by the transfer engine.
        #[arg(long, hide = true, value_name = "BYTES")]
        chunk_size: Option<usize>,
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
        /// Accepted for openstackclient's scripts (a file's size is known).
        #[arg(long, hide = true, value_name = "SIZE")]
        size: Option<u64>,
        /// Show a progress bar (on a terminal it is shown anyway).
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

/// `KEY=VALUE`.
pub(crate) fn key_value(s: &str) -> Result<(String, String), String> {
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
