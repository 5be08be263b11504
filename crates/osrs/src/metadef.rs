//! `image metadef ...`.

use futures_util::TryStreamExt;
use serde_json::Value;

use openstack_client::image::{ImageProxy, MetadefNamespace, Visibility};
use openstack_client::resource::Query;

use crate::cli::{MetadefCmd, NamespaceCmd, ObjectCmd, PropertyCmd, ResourceCmd, ResourceTypeCmd};
use crate::{Outcome, output, records};

pub async fn metadef(img: &ImageProxy, cmd: MetadefCmd) -> Outcome {
    match cmd {
        MetadefCmd::Namespace(NamespaceCmd::List(o)) => {
            let all: Vec<_> = img.metadef_namespaces(&Query::new()).try_collect().await?;
            let rows = all.iter().map(|n| vec![Value::String(n.namespace.clone())]).collect();
            output::list(&o.out, &["namespace"], rows)?;
        }
        MetadefCmd::Namespace(NamespaceCmd::Show { namespace, out }) => {
            let ns = img.get_metadef_namespace(namespace.as_str()).await?;
            output::show(&out, records::fields(&ns))?;
        }
        MetadefCmd::Namespace(NamespaceCmd::Create {
            namespace,
            display_name,
            description,
            public,
            private: _,
            protected,
            out,
        }) => {
            let mut ns = MetadefNamespace::new(namespace);
            ns.display_name = display_name;
            ns.description = description;
            ns.visibility = Some(if public { Visibility::Public } else { Visibility::Private });
            ns.protected = protected;
            let made = img.create_metadef_namespace(&ns).await?;
            output::show(&out, records::fields(&made))?;
        }
        MetadefCmd::Namespace(NamespaceCmd::Delete { namespaces }) => {
            for ns in namespaces {
                img.delete_metadef_namespace(ns.as_str()).await?;
            }
        }
        MetadefCmd::Object(ObjectCmd::List { namespace, out }) => {
            let all: Vec<_> = img.metadef_objects(namespace.as_str()).try_collect().await?;
            let rows = all
                .iter()
                .map(|o| {
                    vec![
                        Value::String(o.name.clone()),
                        o.description.clone().map_or(Value::Null, Value::String),
                    ]
                })
                .collect();
            output::list(&out, &["name", "description"], rows)?;
        }
        MetadefCmd::Object(ObjectCmd::Show { namespace, object, out }) => {
            let o = img.get_metadef_object(namespace.as_str(), object.as_str()).await?;
            output::show(&out, records::fields(&o))?;
        }
        MetadefCmd::Property(PropertyCmd::List { namespace, out }) => {
            let all: Vec<_> = img.metadef_properties(namespace.as_str()).try_collect().await?;
            let rows = all
                .iter()
                .map(|p| {
                    vec![
                        Value::String(p.name.clone()),
                        p.title.clone().map_or(Value::Null, Value::String),
                    ]
                })
                .collect();
            output::list(&out, &["name", "title"], rows)?;
        }
        MetadefCmd::Property(PropertyCmd::Show { namespace, property, out }) => {
            let p = img.get_metadef_property(namespace.as_str(), property.as_str()).await?;
            output::show(&out, records::fields(&p))?;
        }
        MetadefCmd::Resource { what: ResourceCmd::Type(ResourceTypeCmd::List(o)) } => {
            let all: Vec<_> = img.metadef_resource_types().try_collect().await?;
            let rows = all.iter().map(|r| vec![Value::String(r.name.clone())]).collect();
            output::list(&o.out, &["Name"], rows)?;
        }
    }
    Ok(())
}
