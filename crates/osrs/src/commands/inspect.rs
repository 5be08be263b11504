//! `image inspect FILE`: what an image file is, before it is uploaded (no cloud needed).

use std::path::PathBuf;

use clap::Args;
use serde_json::{Map, Value, json};

use openstack_client::diskformat::{Inspection, Outcome as CheckOutcome};
use openstack_client::image::{detected_disk_format, inspect_file};

use crate::output::{self, OutputArgs};
use crate::{CliError, Outcome};

/// `image inspect` options.
#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The image file to inspect.
    pub file: PathBuf,
    /// Output.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// Prints the file's format, virtual size, the `disk_format` to upload it with, and each
/// safety check Glance runs after an upload; fails (exit 1) when a check fails.
pub(crate) async fn exec(a: InspectArgs) -> Outcome {
    let found = inspect_file(&a.file).await?;
    output::show(&a.out, record(&a.file, &found))?;
    let failed: Vec<String> = found.failures().map(|c| c.name.to_string()).collect();
    match failed.is_empty() {
        true => Ok(()),
        false => Err(CliError::Unsafe(format!(
            "{}: fails the safety check {} (Glance would refuse it)",
            a.file.display(),
            failed.join(", ")
        ))),
    }
}

fn record(file: &std::path::Path, found: &Inspection) -> Vec<(String, Value)> {
    let checks: Map<String, Value> = found
        .checks
        .iter()
        .map(|c| {
            let text = match &c.outcome {
                CheckOutcome::Passed => "passed".to_string(),
                CheckOutcome::Failed(why) => format!("failed: {why}"),
                CheckOutcome::NotChecked(why) => format!("not checked: {why}"),
                _ => "unknown".to_string(),
            };
            (c.name.to_string(), Value::String(text))
        })
        .collect();
    let notes: Vec<Value> = found
        .malformed
        .iter()
        .map(|m| json!(format!("not {}: {}", m.format, m.reason)))
        .chain(found.trailer.map(|t| {
            json!(format!(
                "a {t} footer at the end (a fixed {t}); Glance looks only at the start and \
                 sees raw"
            ))
        }))
        .collect();
    vec![
        ("file".into(), json!(file.display().to_string())),
        ("format".into(), json!(found.format.as_str())),
        ("disk_format".into(), json!(detected_disk_format(found).as_str())),
        ("virtual_size".into(), json!(found.virtual_size)),
        ("safe".into(), json!(found.is_safe())),
        ("checks".into(), Value::Object(checks)),
        ("notes".into(), Value::Array(notes)),
    ]
}
