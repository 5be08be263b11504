//! `image metadef namespace create|list|show|set|unset|delete`.

use clap::{Args, Subcommand};
use futures_util::TryStreamExt;
use serde_json::Value;

use openstack_client::image::{ImageProxy, MetadefNamespace, NamespaceQuery, Visibility};

use super::NamespaceOut;
use crate::commands::each;
use crate::output::{self, OutputArgs};
use crate::{Outcome, records};

/// Visibility and protection of a namespace (create and set).
#[derive(Debug, Args)]
pub(crate) struct NamespaceFields {
    /// A user-friendly name for the namespace.
    #[arg(long)]
    pub display_name: Option<String>,
    /// A description of the namespace.
    #[arg(long)]
    pub description: Option<String>,
    /// The namespace is accessible to the public.
    #[arg(long, conflicts_with = "private")]
    pub public: bool,
    /// The namespace is inaccessible to the public (default on create).
    #[arg(long)]
    pub private: bool,
    /// Prevent the namespace from being deleted.
    #[arg(long, conflicts_with = "unprotected")]
    pub protected: bool,
    /// Allow the namespace to be deleted (default on create).
    #[arg(long)]
    pub unprotected: bool,
}

/// `image metadef namespace ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum NamespaceCmd {
    /// List namespaces.
    List {
        /// Only namespaces associated with these resource types (comma-separated).
        #[arg(long, value_name = "RESOURCE_TYPES")]
        resource_types: Option<String>,
        /// Only namespaces with this visibility.
        #[arg(long, value_parser = ["public", "private"])]
        visibility: Option<String>,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Show a namespace.
    Show(NamespaceOut),
    /// Create a namespace.
    Create {
        /// New namespace name.
        namespace: String,
        /// Fields.
        #[command(flatten)]
        fields: NamespaceFields,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Set namespace fields and add tags.
    Set {
        /// Namespace to modify (name).
        namespace: String,
        /// Fields.
        #[command(flatten)]
        fields: NamespaceFields,
        /// Add a tag to the namespace (repeatable).
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
    },
    /// Remove tags from a namespace.
    Unset {
        /// Namespace to modify (name).
        namespace: String,
        /// Tag to remove (repeatable).
        #[arg(long = "tag", value_name = "TAG", required_unless_present = "all_tags")]
        tags: Vec<String>,
        /// Remove every tag.
        #[arg(long, conflicts_with = "tags")]
        all_tags: bool,
    },
    /// Delete namespaces.
    Delete {
        /// Namespaces (name).
        #[arg(required = true)]
        namespaces: Vec<String>,
    },
}

/// Applies create/set flags to a namespace.
fn apply(ns: &mut MetadefNamespace, f: NamespaceFields) {
    if let Some(d) = f.display_name {
        ns.display_name = Some(d);
    }
    if let Some(d) = f.description {
        ns.description = Some(d);
    }
    if f.public {
        ns.visibility = Some(Visibility::Public);
    } else if f.private {
        ns.visibility = Some(Visibility::Private);
    }
    if f.protected || f.unprotected {
        ns.protected = f.protected;
    }
}

pub(crate) async fn exec(img: &ImageProxy, cmd: NamespaceCmd) -> Outcome {
    match cmd {
        NamespaceCmd::List { resource_types, visibility, out } => {
            let mut q = NamespaceQuery::new();
            for r in resource_types.iter().flat_map(|r| r.split(',')) {
                q = q.resource_type(r);
            }
            if let Some(v) = visibility {
                q = q.visibility(Visibility::from(v.as_str()));
            }
            let all: Vec<_> = img.metadef_namespaces(&q).try_collect().await?;
            let rows = all.iter().map(|n| vec![Value::String(n.namespace.clone())]).collect();
            output::list(&out, &["namespace"], rows)?;
        }
        NamespaceCmd::Show(NamespaceOut { namespace, out }) => {
            let ns = img.get_metadef_namespace(namespace.as_str()).await?;
            output::show(&out, records::namespace(&ns))?;
        }
        NamespaceCmd::Create { namespace, fields, out } => {
            let mut ns = MetadefNamespace::new(namespace);
            apply(&mut ns, fields);
            let made = img.create_metadef_namespace(&ns).await?;
            output::show(&out, records::namespace(&made))?;
        }
        NamespaceCmd::Set { namespace, fields, tags } => {
            let ns = img.get_metadef_namespace(namespace.as_str()).await?;
            let mut changed = ns.clone();
            apply(&mut changed, fields);
            if changed != ns {
                img.update_metadef_namespace(&ns, &changed).await?;
            }
            if !tags.is_empty() {
                img.create_metadef_tags(ns.namespace.as_str(), tags).append(true).await?;
            }
        }
        NamespaceCmd::Unset { namespace, tags, all_tags } => {
            if all_tags {
                img.delete_all_metadef_tags(namespace.as_str()).await?;
            } else {
                let summary = "Failed to unset {failed} of {total} tags.";
                each(
                    &tags,
                    |t| format!("tag unset failed for tag {t}"),
                    summary,
                    |t| img.delete_metadef_tag(namespace.as_str(), t),
                )
                .await?;
            }
        }
        NamespaceCmd::Delete { namespaces } => {
            each(
                &namespaces,
                |n| format!("Failed to delete namespace with name or ID '{n}'"),
                "{failed} of {total} namespace failed to delete.",
                |n| img.delete_metadef_namespace(n),
            )
            .await?;
        }
    }
    Ok(())
}
