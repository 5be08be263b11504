//! `image stores list`.

use clap::Subcommand;
use futures_util::TryStreamExt;
use serde_json::Value;

use openstack_client::image::{ImageProxy, StoreQuery};

use crate::Outcome;
use crate::output::{self, OutputArgs};

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

pub(crate) async fn exec(img: &ImageProxy, cmd: StoresCmd) -> Outcome {
    match cmd {
        StoresCmd::List { detail, out } => {
            let query = if detail { StoreQuery::new().details() } else { StoreQuery::new() };
            let stores: Vec<_> = img.stores(&query).try_collect().await?;
            // openstackclient's columns: `Default` is true or absent (null), as Glance says it.
            let rows = stores
                .iter()
                .map(|s| {
                    let mut row = vec![
                        Value::String(s.id.clone()),
                        Value::String(s.description.clone()),
                        if s.default { Value::Bool(true) } else { Value::Null },
                    ];
                    if detail {
                        row.push(serde_json::to_value(&s.properties).unwrap_or(Value::Null));
                    }
                    row
                })
                .collect();
            let mut headers = vec!["ID", "Description", "Default"];
            if detail {
                headers.push("Properties");
            }
            output::list(&out, &headers, rows)?;
            Ok(())
        }
    }
}
