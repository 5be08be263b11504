//! `image metadef resource type list` and `... type association create|delete|list`.

use clap::Subcommand;
use futures_util::TryStreamExt;
use serde_json::Value;

use openstack_client::image::{ImageProxy, MetadefResourceTypeAssociation};

use super::NamespaceOut;
use crate::commands::each;
use crate::output::{self, OutputArgs, OutputOnly};
use crate::{Outcome, records};

/// `image metadef resource type ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ResourceTypeCmd {
    /// List resource types.
    List(OutputOnly),
    /// Associations of resource types with a namespace.
    #[command(subcommand)]
    Association(AssociationCmd),
}

/// `image metadef resource type association ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum AssociationCmd {
    /// Associate a resource type with a namespace.
    Create {
        /// Namespace (name).
        namespace: String,
        /// Resource type, e.g. OS::Glance::Image.
        name: String,
        /// Where the properties go, for resource types with more than one target.
        #[arg(long)]
        properties_target: Option<String>,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Remove resource type associations from a namespace.
    Delete {
        /// Namespace (name).
        namespace: String,
        /// Resource types.
        #[arg(required = true)]
        names: Vec<String>,
        /// Also when the namespace is protected (unprotected for the delete, then protected
        /// again).
        #[arg(long)]
        force: bool,
    },
    /// List the resource types associated with a namespace.
    List(NamespaceOut),
}

pub(crate) async fn exec(img: &ImageProxy, cmd: ResourceTypeCmd) -> Outcome {
    match cmd {
        ResourceTypeCmd::List(o) => {
            let all: Vec<_> = img.metadef_resource_types().try_collect().await?;
            let rows = all.iter().map(|r| vec![Value::String(r.name.clone())]).collect();
            output::list(&o.out, &["Name"], rows)?;
        }
        ResourceTypeCmd::Association(AssociationCmd::Create {
            namespace,
            name,
            properties_target,
            out,
        }) => {
            let mut a = MetadefResourceTypeAssociation::new(name);
            a.properties_target = properties_target;
            let made = img.create_metadef_resource_type_association(namespace.as_str(), &a).await?;
            output::show(&out, records::association(&made, &namespace))?;
        }
        ResourceTypeCmd::Association(AssociationCmd::Delete { namespace, names, force }) => {
            let ns = img.get_metadef_namespace(namespace.as_str()).await?;
            let unprotect = force && ns.protected;
            if unprotect {
                let mut open = ns.clone();
                open.protected = false;
                img.update_metadef_namespace(&ns, &open).await?;
            }
            let result = each(
                &names,
                |n| format!("Failed to delete resource type with name or ID '{n}'"),
                "{failed} of {total} resource type failed to delete.",
                |n| img.delete_metadef_resource_type_association(namespace.as_str(), n),
            )
            .await;
            if unprotect {
                // Protected again whatever happened to the deletes.
                let now = img.get_metadef_namespace(namespace.as_str()).await?;
                let mut closed = now.clone();
                closed.protected = true;
                img.update_metadef_namespace(&now, &closed).await?;
            }
            result?;
        }
        ResourceTypeCmd::Association(AssociationCmd::List(NamespaceOut { namespace, out })) => {
            let all: Vec<_> =
                img.metadef_resource_type_associations(namespace.as_str()).try_collect().await?;
            let rows = all.iter().map(|r| vec![Value::String(r.name.clone())]).collect();
            output::list(&out, &["Name"], rows)?;
        }
    }
    Ok(())
}
