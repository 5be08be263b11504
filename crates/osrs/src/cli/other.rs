//! The command line, continued: members, import, tasks, stores, copy, metadefs, cache.

use clap::{Args, Subcommand};

use crate::output::OutputArgs;

/// `cached image ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum CachedCmd {
    /// Cached images.
    #[command(subcommand)]
    Image(CacheCmd),
}

/// The cache commands.
#[derive(Debug, Subcommand)]
pub(crate) enum CacheCmd {
    /// List cached and queued images.
    List(OutputOnly),
    /// Queue images for caching.
    Queue {
        /// Images (name or ID).
        #[arg(required = true)]
        images: Vec<String>,
    },
    /// Delete images from the cache.
    Delete {
        /// Images (name or ID).
        #[arg(required = true)]
        images: Vec<String>,
    },
    /// Clear the cache (both cached and queued, unless one is given).
    Clear {
        /// Only the cached images.
        #[arg(long, conflicts_with = "queue")]
        cache: bool,
        /// Only the queue.
        #[arg(long)]
        queue: bool,
    },
}

/// Just the output options.
#[derive(Debug, Args)]
pub(crate) struct OutputOnly {
    /// Output.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `image add project`.
#[derive(Debug, Subcommand)]
pub(crate) enum AddCmd {
    /// Associate a project with an image.
    Project {
        /// Image to share (name or ID).
        image: String,
        /// Project to associate with the image (name or ID).
        project: String,
        /// Domain the project belongs to (name or ID), when project names collide.
        #[arg(long, value_name = "PROJECT_DOMAIN")]
        project_domain: Option<String>,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
}

/// `image remove project`.
#[derive(Debug, Subcommand)]
pub(crate) enum RemoveCmd {
    /// Disassociate a project from an image.
    Project {
        /// Image to unshare (name or ID).
        image: String,
        /// Project to disassociate (name or ID).
        project: String,
        /// Domain the project belongs to (name or ID), when project names collide.
        #[arg(long, value_name = "PROJECT_DOMAIN")]
        project_domain: Option<String>,
    },
}

/// `image member ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum MemberCmd {
    /// Show a project associated with an image.
    Get {
        /// Image (name or ID).
        image: String,
        /// Project (name or ID).
        project: String,
        /// Domain the project belongs to (name or ID), when project names collide.
        #[arg(long, value_name = "PROJECT_DOMAIN")]
        project_domain: Option<String>,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
    /// List projects associated with an image.
    List {
        /// Image (name or ID).
        image: String,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
}

/// `image import` options; `image import info` shows what the cloud offers.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct ImportArgs {
    /// `info`: the import methods and stores on offer.
    #[command(subcommand)]
    pub info: Option<ImportInfoCmd>,
    /// Image to import data into (name or ID).
    #[arg(required = true)]
    pub image: Option<String>,
    /// Import method.
    #[arg(long, default_value = "glance-direct", value_parser = [
        "glance-direct", "web-download", "glance-download", "copy-image"])]
    pub method: String,
    /// URI to download the data from (web-download).
    #[arg(long)]
    pub uri: Option<String>,
    /// Image in the remote region (glance-download).
    #[arg(long)]
    pub remote_image: Option<String>,
    /// The remote region (glance-download).
    #[arg(long)]
    pub remote_region: Option<String>,
    /// The remote service interface (glance-download).
    #[arg(long)]
    pub remote_service_interface: Option<String>,
    /// Store to import into (repeatable).
    #[arg(long = "store", value_name = "STORE")]
    pub stores: Vec<String>,
    /// Import into every store.
    #[arg(long, conflicts_with = "stores")]
    pub all_stores: bool,
    /// Succeed when some stores fail (default, as in openstackclient).
    #[arg(long, conflicts_with = "disallow_failure")]
    pub allow_failure: bool,
    /// Fail (and revert) when any store fails.
    #[arg(long)]
    pub disallow_failure: bool,
    /// Wait for the import to end (default: return once accepted).
    #[arg(long)]
    pub wait: bool,
    /// Output.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `image import info`.
#[derive(Debug, Subcommand)]
pub(crate) enum ImportInfoCmd {
    /// Show the import methods and stores on offer.
    Info(OutputOnly),
}

/// `image task ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum TaskCmd {
    /// List tasks.
    List {
        /// Sort by these keys (created_at, expires_at, id, status, type, updated_at;
        /// comma-separated; default created_at).
        #[arg(long, value_name = "KEY[,KEY]")]
        sort_key: Option<String>,
        /// Sort directions (asc or desc), one per --sort-key key.
        #[arg(long, value_name = "DIR[,DIR]")]
        sort_dir: Option<String>,
        /// Maximum number of tasks to display.
        #[arg(long, value_name = "NUM")]
        limit: Option<usize>,
        /// The last task (ID) of the previous page.
        #[arg(long, value_name = "TASK")]
        marker: Option<String>,
        /// Filter by type.
        #[arg(long = "type", value_parser = ["import", "api_image_import", "location_import"])]
        task_type: Option<String>,
        /// Filter by status.
        #[arg(long, value_parser = ["pending", "processing", "success", "failure"])]
        status: Option<String>,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Display task details.
    Show {
        /// Task ID.
        task: String,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
}

/// `image stores ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum StoresCmd {
    /// List the stores.
    List {
        /// With each store's details (admin).
        #[arg(long)]
        detail: bool,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
}

/// `image copy` options.
#[derive(Debug, Args)]
pub(crate) struct CopyArgs {
    /// Image to copy (name or ID).
    pub image: String,
    /// The cloud (clouds.yaml) to copy into; the same cloud copies within it.
    #[arg(long, value_name = "CLOUD")]
    pub to_cloud: String,
    /// Name of the copy (default: the source's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Store to put the copy in (repeatable).
    #[arg(long = "store", value_name = "STORE")]
    pub stores: Vec<String>,
    /// Show a progress bar (on a terminal it is shown anyway).
    #[arg(long)]
    pub progress: bool,
    /// Output.
    #[command(flatten)]
    pub out: OutputArgs,
}
