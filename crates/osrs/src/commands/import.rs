//! `image import` (and `image import info`) and `image stage`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::Value;

use openstack_client::image::{ImageProxy, ImportMethod, WaitOptions};

use crate::output::{self, OutputArgs, OutputOnly};
use crate::{CliError, Outcome, progress, records};

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

/// `image stage` options.
#[derive(Debug, Args)]
pub(crate) struct StageArgs {
    /// Image to stage data for (name or ID).
    pub image: String,
    /// Local file that contains the image data.
    #[arg(long)]
    pub file: PathBuf,
    /// Accepted for openstackclient's scripts (a file's size is known).
    #[arg(long, hide = true, value_name = "SIZE")]
    pub size: Option<u64>,
    /// Show a progress bar (on a terminal it is shown anyway).
    #[arg(long)]
    pub progress: bool,
    /// Stage the file without inspecting it first. By default, for a bare image, content
    /// that is not the image's disk format or that fails a check Glance runs when it imports
    /// (a qcow2 backing file, a VMDK extent naming a host file, ...) is refused before a byte
    /// is staged: Glance would take it and fail the import with "Internal Error". Not in
    /// openstackclient.
    #[arg(long)]
    pub no_inspect: bool,
}

pub(crate) async fn exec(img: &ImageProxy, a: ImportArgs) -> Outcome {
    if let Some(ImportInfoCmd::Info(o)) = a.info {
        let info = img.get_import_info().await?;
        let fields = vec![("import-methods".to_string(), Value::from(info.import_methods))];
        output::show(&o.out, fields)?;
        return Ok(());
    }
    let name = a.image.clone().ok_or_else(|| CliError::Usage("an image is required".into()))?;
    let found = img.find_image(&name).await?;
    let method = match a.method.as_str() {
        "glance-direct" => ImportMethod::GlanceDirect,
        "copy-image" => ImportMethod::CopyImage,
        "web-download" => ImportMethod::WebDownload {
            uri: a
                .uri
                .clone()
                .ok_or_else(|| CliError::Usage("--uri is required for web-download".into()))?,
        },
        _ => ImportMethod::GlanceDownload {
            remote_region: a.remote_region.clone().ok_or_else(|| {
                CliError::Usage("--remote-region is required for glance-download".into())
            })?,
            remote_image_id: a.remote_image.clone().ok_or_else(|| {
                CliError::Usage("--remote-image is required for glance-download".into())
            })?,
            remote_service_interface: a.remote_service_interface.clone(),
        },
    };
    let mut call = img.import_image(&found, method);
    if !a.stores.is_empty() {
        call = call.stores(a.stores.clone());
    }
    if a.all_stores {
        call = call.all_stores(true);
    }
    // openstackclient's default is --allow-failure (all_stores_must_succeed=False).
    call = call.all_stores_must_succeed(a.disallow_failure);
    if a.wait {
        call.wait(WaitOptions::default()).await?;
    } else {
        call.await?;
    }
    let now = img.get_image(&found.id).await?;
    output::show(&a.out, records::image(&now, false))?;
    Ok(())
}

/// `image stage`: uploads a file to the image's staging area.
pub(crate) async fn stage(img: &ImageProxy, a: StageArgs) -> Outcome {
    let StageArgs { image, file, size: _, progress, no_inspect } = a;
    let found = img.find_image(&image).await?;
    let mut stage = img
        .stage_image(&found, openstack_client::image::ImageData::from(file.as_path()))
        .inspect(!no_inspect);
    let total = std::fs::metadata(&file).map(|m| m.len()).ok();
    let bar = progress::bar("stage", total, progress);
    if let Some((_, p)) = &bar {
        stage = stage.progress(p.clone());
    }
    let staged = stage.await;
    if let Some((b, _)) = bar {
        b.finish_and_clear();
    }
    staged?;
    Ok(())
}
