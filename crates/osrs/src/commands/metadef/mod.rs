//! `image metadef ...`: namespaces, objects, properties, resource types; records shaped as
//! openstackclient shows them.

use clap::{Args, Subcommand};
use serde_json::Value;

use openstack_client::image::ImageProxy;

use crate::Outcome;
use crate::output::OutputArgs;

mod namespace;
mod object;
mod property;
mod resource_type;

use namespace::NamespaceCmd;
use object::ObjectCmd;
use property::PropertyCmd;
use resource_type::ResourceTypeCmd;

/// `image metadef ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum MetadefCmd {
    /// Namespaces.
    #[command(subcommand)]
    Namespace(NamespaceCmd),
    /// Objects of a namespace.
    #[command(subcommand)]
    Object(ObjectCmd),
    /// Properties of a namespace.
    #[command(subcommand)]
    Property(PropertyCmd),
    /// Resource types and their associations with namespaces.
    #[command(name = "resource")]
    Resource {
        /// `type list`, `type association create|delete|list`.
        #[command(subcommand)]
        what: ResourceCmd,
    },
}

/// A namespace and the output options: what the metadef shows and lists take.
#[derive(Debug, Args)]
pub(crate) struct NamespaceOut {
    /// Namespace (name).
    pub namespace: String,
    /// Output.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `image metadef resource ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ResourceCmd {
    /// Resource types.
    #[command(subcommand)]
    Type(ResourceTypeCmd),
}

pub(crate) async fn exec(img: &ImageProxy, cmd: MetadefCmd) -> Outcome {
    match cmd {
        MetadefCmd::Namespace(c) => namespace::exec(img, c).await,
        MetadefCmd::Object(c) => object::exec(img, c).await,
        MetadefCmd::Property(c) => property::exec(img, c).await,
        MetadefCmd::Resource { what: ResourceCmd::Type(c) } => resource_type::exec(img, c).await,
    }
}

/// An optional text as a cell (absent: null).
pub(super) fn text(v: &Option<String>) -> Value {
    v.clone().map_or(Value::Null, Value::String)
}
