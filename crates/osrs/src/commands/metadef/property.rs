//! `image metadef property create|list|show|set|delete`.

use clap::Subcommand;
use futures_util::TryStreamExt;
use serde_json::{Map, Value};

use openstack_client::image::{ImageProxy, MetadefProperty};

use super::{NamespaceOut, text};
use crate::commands::each;
use crate::output::{self, OutputArgs};
use crate::{CliError, Outcome, records};

/// `image metadef property ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum PropertyCmd {
    /// Create a property.
    Create {
        /// Internal name of the property.
        #[arg(long, required = true)]
        name: String,
        /// Property name displayed to the user.
        #[arg(long, required = true)]
        title: String,
        /// Property type (a JSON schema type: string, integer, boolean, array, ...).
        #[arg(long = "type", required = true)]
        property_type: String,
        /// More of the property's JSON schema, e.g. '{"enum": ["a", "b"]}'.
        #[arg(long, required = true)]
        schema: String,
        /// Namespace to create the property in (name).
        namespace: String,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
    /// List the properties of a namespace.
    List(NamespaceOut),
    /// Show a property.
    Show {
        /// Namespace (name).
        namespace: String,
        /// Property name.
        property: String,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Update a property (fields not given are kept).
    Set {
        /// New internal name.
        #[arg(long)]
        name: Option<String>,
        /// New title.
        #[arg(long)]
        title: Option<String>,
        /// New type.
        #[arg(long = "type")]
        property_type: Option<String>,
        /// More of the property's JSON schema, merged in.
        #[arg(long)]
        schema: Option<String>,
        /// Namespace (name).
        namespace: String,
        /// Property to update.
        property: String,
    },
    /// Delete properties (all of the namespace's when none is named).
    Delete {
        /// Namespace (name).
        namespace: String,
        /// Properties to delete (none: every property in the namespace).
        properties: Vec<String>,
    },
}

/// `--schema` JSON: an object merged into the property.
fn schema(text: &str) -> Result<Map<String, Value>, CliError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(CliError::Usage("--schema: expected a JSON object".into())),
        Err(e) => Err(CliError::Usage(format!("--schema: not JSON: {e}"))),
    }
}

/// A property with `schema`'s fields merged in (they go into the untyped rest).
fn merged(mut p: MetadefProperty, extra: Map<String, Value>) -> Result<MetadefProperty, CliError> {
    let mut v = serde_json::to_value(&p).map_err(|e| CliError::Usage(e.to_string()))?;
    if let Value::Object(m) = &mut v {
        m.extend(extra);
    }
    let name = p.name.clone();
    p = serde_json::from_value(v).map_err(|e| CliError::Usage(format!("--schema: {e}")))?;
    if p.name.is_empty() {
        p.name = name;
    }
    Ok(p)
}

pub(crate) async fn exec(img: &ImageProxy, cmd: PropertyCmd) -> Outcome {
    match cmd {
        PropertyCmd::Create { name, title, property_type, schema: s, namespace, out } => {
            let extra = schema(&s)?;
            let p = merged(MetadefProperty::new(name, title, property_type), extra)?;
            let made = img.create_metadef_property(namespace.as_str(), &p).await?;
            output::show(&out, records::property(&made))?;
        }
        PropertyCmd::List(NamespaceOut { namespace, out }) => {
            let all: Vec<_> = img.metadef_properties(namespace.as_str()).try_collect().await?;
            let rows = all
                .iter()
                .map(|p| {
                    vec![Value::String(p.name.clone()), text(&p.title), text(&p.property_type)]
                })
                .collect();
            output::list(&out, &["name", "title", "type"], rows)?;
        }
        PropertyCmd::Show { namespace, property, out } => {
            let p = img.get_metadef_property(namespace.as_str(), property.as_str()).await?;
            output::show(&out, records::property(&p))?;
        }
        PropertyCmd::Set { name, title, property_type, schema: s, namespace, property } => {
            let extra = match &s {
                Some(s) => schema(s)?,
                None => Map::new(),
            };
            let p = img.get_metadef_property(namespace.as_str(), property.as_str()).await?;
            let mut changed = merged(p.clone(), extra)?;
            if let Some(n) = name {
                changed.name = n;
            }
            if let Some(t) = title {
                changed.title = Some(t);
            }
            if let Some(t) = property_type {
                changed.property_type = Some(t);
            }
            img.update_metadef_property(namespace.as_str(), &p, &changed).await?;
        }
        PropertyCmd::Delete { namespace, properties } => {
            if properties.is_empty() {
                img.delete_all_metadef_properties(namespace.as_str()).await?;
            } else {
                each(
                    &properties,
                    |p| {
                        format!(
                            "Failed to delete property with name or ID '{p}' from namespace \
                             '{namespace}'"
                        )
                    },
                    "{failed} of {total} properties failed to delete.",
                    |p| img.delete_metadef_property(namespace.as_str(), p),
                )
                .await?;
            }
        }
    }
    Ok(())
}
