//! `cached image list|queue|delete|clear`: the image cache.

use clap::Subcommand;
use serde_json::Value;

use openstack_client::image::{CacheTarget, ImageProxy};

use super::each;
use crate::output::{self, OutputOnly};
use crate::{Outcome, records};

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

pub(crate) async fn exec(img: &ImageProxy, cmd: CacheCmd) -> Outcome {
    match cmd {
        CacheCmd::List(o) => {
            let cache = img.get_image_cache().await?;
            let na = || Value::String("N/A".into());
            let mut rows: Vec<Vec<Value>> = cache
                .cached_images
                .iter()
                .map(|c| {
                    vec![
                        Value::String(c.image_id.clone()),
                        Value::String("cached".into()),
                        records::utc_time(c.extra.get("last_accessed")),
                        records::utc_time(c.extra.get("last_modified")),
                        Value::from(c.size),
                        Value::from(c.hits),
                    ]
                })
                .collect();
            rows.extend(cache.queued_images.iter().map(|id| {
                vec![
                    Value::String(id.clone()),
                    Value::String("queued".into()),
                    na(),
                    na(),
                    na(),
                    na(),
                ]
            }));
            let headers =
                ["ID", "State", "Last Accessed (UTC)", "Last Modified (UTC)", "Size", "Hits"];
            output::list(&o.out, &headers, rows)?;
        }
        CacheCmd::Queue { images } => {
            each(
                &images,
                |name| format!("Failed to queue image with name or ID '{name}'"),
                "Failed to queue {failed} of {total} images",
                |name| async move { img.queue_image(&img.find_image(name).await?).await },
            )
            .await?;
        }
        CacheCmd::Delete { images } => {
            each(
                &images,
                |name| format!("Failed to delete image with name or ID '{name}'"),
                "Failed to delete {failed} of {total} images.",
                |name| async move { img.cache_delete_image(&img.find_image(name).await?).await },
            )
            .await?;
        }
        CacheCmd::Clear { cache, queue } => {
            let target = match (cache, queue) {
                (true, false) => CacheTarget::Cache,
                (false, true) => CacheTarget::Queue,
                _ => CacheTarget::Both,
            };
            img.clear_cache().target(target).await?;
        }
    }
    Ok(())
}
