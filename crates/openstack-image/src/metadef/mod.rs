//! Metadata definitions (metadefs): namespaces, objects, properties, resource types, tags.
//!
//! Every resource here goes through the resource framework (`openstack_resource::Api`);
//! every call takes the namespace first.

mod namespaces;
mod objects;
mod properties;
mod resource_types;
mod tags;

pub use namespaces::MetadefNamespace;
pub use objects::MetadefObject;
pub use properties::MetadefProperty;
pub use resource_types::{MetadefResourceType, MetadefResourceTypeAssociation};
pub use tags::{CreateMetadefTags, MetadefTag};

use openstack_resource::encode_segment;

/// `/v2/metadefs/namespaces/{ns}`.
pub(crate) fn ns_path(ns: &str) -> String {
    format!("/v2/metadefs/namespaces/{}", encode_segment(ns))
}
