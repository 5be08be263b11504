//! `image metadef ...`: openstackclient's metadef commands, same names, arguments and flags.

use clap::{Args, Subcommand};

use super::OutputOnly;
use crate::output::OutputArgs;

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
        /// Only namespaces with this visibility (public or private).
        #[arg(long)]
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

/// `image metadef resource ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ResourceCmd {
    /// Resource types.
    #[command(subcommand)]
    Type(ResourceTypeCmd),
}

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
