//! `image metadef object create|list|show|update|delete|property show`.

use clap::Subcommand;
use futures_util::TryStreamExt;
use serde_json::{Map, Value};

use openstack_client::image::{ImageProxy, MetadefObject};

use super::{NamespaceOut, text};
use crate::commands::each;
use crate::output::{self, OutputArgs};
use crate::{CliError, Outcome, records};

/// `image metadef object ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ObjectCmd {
    /// Create an object.
    Create {
        /// Namespace to create the object in (name).
        #[arg(long, required = true)]
        namespace: String,
        /// New object name.
        name: String,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
    /// List the objects of a namespace.
    List(NamespaceOut),
    /// Show an object.
    Show {
        /// Namespace of the object (name).
        namespace: String,
        /// Object name.
        object: String,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Rename an object.
    Update {
        /// Namespace of the object (name).
        namespace: String,
        /// Object to update.
        object: String,
        /// New name of the object.
        #[arg(long)]
        name: Option<String>,
    },
    /// Delete objects (all of the namespace's when none is named).
    Delete {
        /// Namespace of the objects (name).
        namespace: String,
        /// Objects to delete (none: every object in the namespace).
        objects: Vec<String>,
    },
    /// A property inside an object.
    Property {
        /// `show`.
        #[command(subcommand)]
        what: ObjectPropertyCmd,
    },
}

/// `image metadef object property show`.
#[derive(Debug, Subcommand)]
pub(crate) enum ObjectPropertyCmd {
    /// Show one property of an object.
    Show {
        /// Namespace (name).
        namespace: String,
        /// Object name.
        object: String,
        /// Property name.
        property: String,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
}

pub(crate) async fn exec(img: &ImageProxy, cmd: ObjectCmd) -> Outcome {
    match cmd {
        ObjectCmd::Create { namespace, name, out } => {
            let o =
                img.create_metadef_object(namespace.as_str(), &MetadefObject::new(name)).await?;
            output::show(&out, records::object(&o, &namespace))?;
        }
        ObjectCmd::List(NamespaceOut { namespace, out }) => {
            let all: Vec<_> = img.metadef_objects(namespace.as_str()).try_collect().await?;
            let rows = all
                .iter()
                .map(|o| vec![Value::String(o.name.clone()), text(&o.description)])
                .collect();
            output::list(&out, &["name", "description"], rows)?;
        }
        ObjectCmd::Show { namespace, object, out } => {
            let o = img.get_metadef_object(namespace.as_str(), object.as_str()).await?;
            output::show(&out, records::object(&o, &namespace))?;
        }
        ObjectCmd::Update { namespace, object, name } => {
            let o = img.get_metadef_object(namespace.as_str(), object.as_str()).await?;
            let mut changed = o.clone();
            if let Some(n) = name {
                changed.name = n;
            }
            img.update_metadef_object(namespace.as_str(), &o, &changed).await?;
        }
        ObjectCmd::Delete { namespace, objects } => {
            if objects.is_empty() {
                img.delete_all_metadef_objects(namespace.as_str()).await?;
            } else {
                each(
                    &objects,
                    |o| format!("Failed to delete object with name or ID '{o}'"),
                    "{failed} of {total} object failed to delete.",
                    |o| img.delete_metadef_object(namespace.as_str(), o),
                )
                .await?;
            }
        }
        ObjectCmd::Property {
            what: ObjectPropertyCmd::Show { namespace, object, property, out },
        } => {
            let o = img.get_metadef_object(namespace.as_str(), object.as_str()).await?;
            let Some(Value::Object(p)) = o.properties.get(&property) else {
                return Err(CliError::Usage(format!(
                    "property {property} not found in object {object}"
                )));
            };
            let mut p: Map<String, Value> = p.clone();
            p.insert("name".into(), Value::String(property));
            output::show(&out, records::sorted(p))?;
        }
    }
    Ok(())
}
