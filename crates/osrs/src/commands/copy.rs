//! `image copy IMAGE --to-cloud OTHER`: one cloud's image streamed into another (or the
//! same) cloud with no temporary file.
//!
//! The download is verified against the source's `os_hash_value` as it streams (the one
//! hash computed here); the upload computes none. At the far end Glance hashes what it
//! stored, and the copy is kept only when its md5 `checksum` (and its `os_hash_value`, when
//! both clouds use the same algorithm) equal the source's. Any
//! failure (including a mismatch found by either side) deletes the half-made copy.

use clap::Args;
use futures_util::TryStreamExt;
use serde_json::Value;

use openstack_client::Error;
use openstack_client::image::{Algorithm, Image, ImageData, ImageProxy, ImageStatus};

use crate::cli::Global;
use crate::output::OutputArgs;
use crate::token_cache::TokenCache;
use crate::{CliError, Outcome, connect, output, progress, records};

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
    /// Connections reading parts of the source image at once (as `image save --parallel`;
    /// the upload is one stream: Glance takes one PUT).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: Option<u16>,
    /// Output.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// Properties that describe a copy's own data or Glance's bookkeeping, not the image: they
/// are not carried over (Glance and the SDK set them for the copy).
fn carried(key: &str) -> bool {
    !(key.starts_with("os_glance")
        || key.starts_with("owner_specified.openstack.")
        || matches!(key, "os_hash_algo" | "os_hash_value" | "stores" | "direct_url" | "locations"))
}

pub(crate) async fn exec(source: &ImageProxy, global: &Global, a: CopyArgs) -> Outcome {
    let src = source.find_image(&a.image).await?;
    if src.status != ImageStatus::Active {
        return Err(CliError::Usage(format!(
            "image {} is {}: only active images can be copied",
            src.id, src.status
        )));
    }
    let (Some(size), Some(_)) = (src.size, &src.os_hash_value) else {
        return Err(CliError::Usage(format!(
            "image {} has no size or os_hash_value to verify a copy against",
            src.id
        )));
    };
    let target_cfg = connect::target_config(&a.to_cloud, global)?;
    let mut cache = TokenCache::for_config(&target_cfg, global.no_token_cache);
    let target = connect::image(target_cfg)?;
    if let Some(c) = &mut cache {
        c.load(target.session()).await;
    }
    let outcome = copy_into(source, &src, size, &target, a).await;
    if let Some(c) = &cache {
        c.store(target.session()).await;
    }
    outcome
}

/// The copy itself, once both ends are known.
async fn copy_into(
    source: &ImageProxy,
    src: &Image,
    size: u64,
    target: &ImageProxy,
    a: CopyArgs,
) -> Outcome {
    let mut create = target
        .create_image(a.name.clone().unwrap_or_else(|| src.name.clone().unwrap_or_default()))
        .allow_duplicates(true)
        .digests(&[])
        .min_disk(src.min_disk)
        .min_ram(src.min_ram)
        .tags(src.tags.clone());
    if let Some(f) = &src.disk_format {
        create = create.disk_format(f.clone());
    }
    if let Some(f) = &src.container_format {
        create = create.container_format(f.clone());
    }
    for (k, v) in src.properties.iter().filter(|(k, _)| carried(k)) {
        create = create.property(k.as_str(), v.clone());
    }
    if !a.stores.is_empty() {
        create = create.stores(a.stores.clone());
    }
    // The copy is faithful: the source's disk format as it is (the far Glance inspects it).
    create = create.inspect(false);
    let mut download = source.download_image(src);
    if let Some(n) = a.parallel {
        download = download.connections(usize::from(n));
    }
    let bar = progress::bar("copy", Some(size), a.progress);
    if let Some((_, p)) = &bar {
        download = download.progress(p.clone());
    }
    // A download failure (a checksum mismatch, a server gone) fails the upload as itself,
    // not as the upload it broke: the SDK carries it through the upload.
    let stream = download.into_stream().map_err(std::io::Error::from);
    let made = create.data(ImageData::sized_stream(stream, size)).await;
    if let Some((b, _)) = bar {
        b.finish_and_clear();
    }
    let made = match made {
        Ok(m) => m,
        Err(e) => {
            if let Some(c) = e.cleanup() {
                eprintln!("osrs: copy failed; {c}");
            }
            return Err(e.into());
        }
    };
    verify(target, src, &made).await?;
    let mut fields = records::image(&made, false);
    fields.push(("source".into(), Value::String(src.id.clone())));
    fields.sort_by(|x, y| x.0.cmp(&y.0));
    output::show(&a.out, fields)?;
    Ok(())
}

/// The copy's digests, computed by the far Glance, must be the source's: the md5 `checksum`
/// every Glance reports, and `os_hash_value` when both clouds hash with the same algorithm.
/// Otherwise the copy is deleted and the mismatch reported; a copy with nothing to compare
/// is not kept either.
async fn verify(target: &ImageProxy, src: &Image, made: &Image) -> Outcome {
    let mut pairs = vec![(Algorithm::Md5, &src.checksum, &made.checksum)];
    if made.os_hash_algo == src.os_hash_algo {
        if let Some(a) = src.os_hash_algo.as_deref().and_then(|a| a.parse::<Algorithm>().ok()) {
            pairs.push((a, &src.os_hash_value, &made.os_hash_value));
        }
    }
    let mut compared = false;
    for (algorithm, expected, actual) in pairs {
        let (Some(expected), Some(actual)) = (expected, actual) else { continue };
        if !expected.eq_ignore_ascii_case(actual) {
            let _ = target.delete_image_opt(&made.id).await;
            let (expected, actual) = (expected.clone(), actual.clone());
            return Err(Error::ChecksumMismatch { algorithm, expected, actual }.into());
        }
        compared = true;
    }
    if compared {
        return Ok(());
    }
    let _ = target.delete_image_opt(&made.id).await;
    Err(CliError::Usage(format!(
        "the copy {} was deleted: neither cloud reports a digest both can be compared by \
         (md5 checksum: {:?} and {:?}; os_hash_algo: {:?} and {:?})",
        made.id, src.checksum, made.checksum, src.os_hash_algo, made.os_hash_algo
    )))
}
