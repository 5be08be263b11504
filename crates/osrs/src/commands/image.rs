//! `image list|show|unset|delete|save`, and the `image` command tree: each subcommand is
//! dispatched to the module that owns it.

use std::path::PathBuf;

use futures_util::{StreamExt, TryStreamExt};
use serde_json::Value;

use clap::{Args, Subcommand};
use openstack_client::image::{
    Image, ImageProxy, ImageQuery, ImageStatus, MemberStatus, Visibility,
};

use super::create::{CreateArgs, SetArgs};
use super::import::{ImportArgs, StageArgs};
use super::member::{self, MemberCmd};
use super::{copy, each, metadef, store, task};
use crate::cli::{Global, key_value};
use crate::output::{self, OutputArgs};
use crate::projects::project_id;
use crate::{CliError, Outcome, progress, records};

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
    /// Inspect a local image file as an upload would (format, virtual size, Glance's safety
    /// checks), without a cloud; exit 1 when a check fails. Not in openstackclient.
    Inspect(super::inspect::InspectArgs),
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
        /// Connections fetching parts of the image at once (default: 1 under 256 MiB; from
        /// there 4 if its first 4 MiB arrive slower than 64 MiB/s, else 1). They help where
        /// one stream is held below the link (a distant region, a per-connection cap); the
        /// file is verified against the image's digest all the same, at most N parts (24 MiB
        /// in all) are held in memory, and each connection asks for its next part on a second
        /// socket a round trip before the current one ends. Not in openstackclient.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
        parallel: Option<u16>,
    },
    /// Associate a project with an image.
    #[command(name = "add")]
    Add {
        /// What to add.
        #[command(subcommand)]
        what: member::AddCmd,
    },
    /// Disassociate a project from an image.
    #[command(name = "remove")]
    Remove {
        /// What to remove.
        #[command(subcommand)]
        what: member::RemoveCmd,
    },
    /// Image members.
    Member {
        /// What to do with members.
        #[command(subcommand)]
        what: member::MemberSub,
    },
    /// Import data into an image (glance-direct, web-download, glance-download, copy-image),
    /// or, as `image import info`, show the import methods and stores on offer.
    Import(ImportArgs),
    /// Stage data for an image (for a later glance-direct import).
    Stage(StageArgs),
    /// Tasks.
    Task {
        /// What to do with tasks.
        #[command(subcommand)]
        what: task::TaskCmd,
    },
    /// Stores.
    Stores {
        /// What to do with stores.
        #[command(subcommand)]
        what: store::StoresCmd,
    },
    /// Copy an image into another cloud (or within one): streamed, hashed once in flight,
    /// verified at the far end; a failure deletes the half-made copy.
    Copy(copy::CopyArgs),
    /// Metadata definitions.
    Metadef {
        /// What to do with metadefs.
        #[command(subcommand)]
        what: metadef::MetadefCmd,
    },
}

/// `image list` options.
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

/// Runs an `image ...` command.
pub(crate) async fn exec(img: &ImageProxy, global: &Global, cmd: ImageCmd) -> Outcome {
    match cmd {
        ImageCmd::List(args) => list(img, args).await,
        ImageCmd::Show { image, human_readable, out } => {
            let found = img.find_image(&image).await?;
            output::show(&out, records::image(&found, human_readable))
        }
        ImageCmd::Create(args) => super::create::create(img, args).await,
        ImageCmd::Inspect(args) => super::inspect::exec(args).await,
        ImageCmd::Set(args) => super::create::set(img, args).await,
        ImageCmd::Unset { image, tags, properties } => unset(img, &image, &tags, &properties).await,
        ImageCmd::Delete { images, store } => {
            each(
                &images,
                |name| format!("Failed to delete image with name or ID '{name}'"),
                "Failed to delete {failed} of {total} images.",
                |name| {
                    let store = store.clone();
                    async move {
                        let found = img.find_image(name).await?;
                        match store {
                            Some(s) => img.delete_image(&found).store(s.as_str()).await,
                            None => img.delete_image(&found).await,
                        }
                    }
                },
            )
            .await
        }
        ImageCmd::Save { image, file, store_preferences, chunk_size: _, progress, parallel } => {
            save(img, &image, file, &store_preferences, progress, parallel).await
        }
        ImageCmd::Add { what } => member::exec(img, MemberCmd::Add(what)).await,
        ImageCmd::Remove { what } => member::exec(img, MemberCmd::Remove(what)).await,
        ImageCmd::Member { what } => member::exec(img, MemberCmd::Member(what)).await,
        ImageCmd::Import(args) => super::import::exec(img, args).await,
        ImageCmd::Stage(args) => super::import::stage(img, args).await,
        ImageCmd::Task { what } => task::exec(img, what).await,
        ImageCmd::Stores { what } => store::exec(img, what).await,
        ImageCmd::Copy(args) => copy::exec(img, global, args).await,
        ImageCmd::Metadef { what } => metadef::exec(img, what).await,
    }
}

/// `image unset`: as openstackclient, every tag and property is tried, each failure is
/// reported, and the counts fail the command at the end.
async fn unset(img: &ImageProxy, image: &str, tags: &[String], properties: &[String]) -> Outcome {
    let found = img.find_image(image).await?;
    let mut tags_failed = 0;
    for t in tags {
        if let Err(e) = img.remove_tag(&found, t).await {
            eprintln!("osrs: tag unset failed, '{t}' is a nonexistent tag: {}", CliError::Api(e));
            tags_failed += 1;
        }
    }
    let (present, missing): (Vec<&String>, Vec<&String>) =
        properties.iter().partition(|p| found.property(p).is_some());
    for p in &missing {
        eprintln!("osrs: property unset failed, '{p}' is a nonexistent property");
    }
    if !present.is_empty() {
        let present: Vec<String> = present.into_iter().cloned().collect();
        img.update_image_with(&found.id, move |i| {
            for p in &present {
                i.properties.remove(p);
            }
        })
        .await?;
    }
    let tags_text = format!("Failed to unset {tags_failed} of {} tags", tags.len());
    let props_text =
        format!("Failed to unset {} of {} properties.", missing.len(), properties.len());
    let summary = match (tags_failed, missing.len()) {
        (0, 0) => return Ok(()),
        // openstackclient's text, its missing space included.
        (_, 1..) if tags_failed > 0 => format!("{tags_text},{props_text}"),
        (_, 0) => format!("{tags_text}."),
        _ => props_text,
    };
    let (failed, total) = (tags_failed + missing.len(), tags.len() + properties.len());
    Err(CliError::Partial { failed, total, summary })
}

async fn list(img: &ImageProxy, a: ListArgs) -> Outcome {
    let mut q = ImageQuery::new();
    if a.public {
        q = q.visibility(Visibility::Public);
    } else if a.private {
        q = q.visibility(Visibility::Private);
    } else if a.community {
        q = q.visibility(Visibility::Community);
    } else if a.shared {
        q = q.visibility(Visibility::Shared);
    } else if a.all {
        q = q.all_visibilities();
    }
    if let Some(n) = &a.name {
        q = q.name(n.as_str());
    }
    if let Some(s) = &a.status {
        q = q.status(ImageStatus::from(s.as_str()));
    }
    if let Some(m) = &a.member_status {
        q = q.member_status(MemberStatus::from(m.as_str()));
    }
    if let Some(p) = &a.project {
        q = q.owner(project_id(img.session(), p, a.project_domain.as_deref()).await?);
    }
    for t in &a.tags {
        q = q.tag(t.as_str());
    }
    if a.hidden {
        q = q.hidden(true);
    }
    if let Some(m) = &a.marker {
        q = q.marker(m.as_str());
    }
    // Few large pages (Glance caps a page at api_limit_max, 1000 by default).
    let page = a.page_size.map_or(1000, |p| p.clamp(1, 1000) as usize);
    q = q.page_size(a.limit.map_or(page, |l| l.clamp(1, page)) as u32);
    let stream = img.images(&q);
    // --limit: one page of that many (openstackclient turns paging off); --max-items: at
    // most that many over every page.
    let most = match (a.limit, a.max_items) {
        (Some(l), Some(m)) => Some(l.min(m)),
        (l, m) => l.or(m),
    };
    let mut images: Vec<Image> = match most {
        Some(n) => stream.take(n).try_collect().await?,
        None => stream.try_collect().await?,
    };
    // Properties are filtered here, as openstackclient does.
    images.retain(|i| a.properties.iter().all(|(k, v)| i.property(k) == Some(v.as_str())));
    // Sorted here too, over every image listed (openstackclient sends no sort to Glance).
    let mut keyed: Vec<(Value, Image)> =
        images.into_iter().map(|i| (serde_json::to_value(&i).unwrap_or(Value::Null), i)).collect();
    crate::sort::sort_items(&mut keyed, a.sort.as_deref().unwrap_or("name:asc"), |(v, _)| v)?;
    let rows = keyed.iter().map(|(_, i)| records::image_row(i, a.long)).collect();
    output::list(&a.out, &records::image_headers(a.long), rows)?;
    Ok(())
}

async fn save(
    img: &ImageProxy,
    image: &str,
    file: Option<std::path::PathBuf>,
    stores: &[String],
    forced: bool,
    parallel: Option<u16>,
) -> Outcome {
    let found = img.find_image(image).await?;
    let mut d = img.download_image(&found);
    if let Some(n) = parallel {
        d = d.connections(usize::from(n));
    }
    for s in stores {
        d = d.prefer(s.as_str());
    }
    let bar = progress::bar("download", found.size, forced);
    if let Some((_, p)) = &bar {
        d = d.progress(p.clone());
    }
    let result = match &file {
        Some(path) => d.to_path(path).await.map(|_| ()),
        // Verified as it goes; a mismatch at the end exits non-zero (the reader must not
        // trust what it got).
        None => d.to_writer(tokio::io::stdout()).await.map(|_| ()),
    };
    if let Some((b, _)) = bar {
        b.finish_and_clear();
    }
    result?;
    Ok(())
}
