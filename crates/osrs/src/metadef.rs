//! `image metadef ...`: namespaces, objects, properties, resource types; records shaped as
//! openstackclient shows them.

use futures_util::TryStreamExt;
use serde_json::{Map, Value};

use openstack_client::image::{
    ImageProxy, MetadefNamespace, MetadefObject, MetadefProperty, MetadefResourceTypeAssociation,
    Visibility,
};
use openstack_client::resource::Query;

use crate::cli::{
    AssociationCmd, MetadefCmd, NamespaceCmd, NamespaceFields, NamespaceOut, ObjectCmd,
    ObjectPropertyCmd, PropertyCmd, ResourceCmd, ResourceTypeCmd,
};
use crate::{Failure, Outcome, output, records};

pub(crate) async fn metadef(img: &ImageProxy, cmd: MetadefCmd) -> Outcome {
    match cmd {
        MetadefCmd::Namespace(c) => namespace(img, c).await,
        MetadefCmd::Object(c) => object(img, c).await,
        MetadefCmd::Property(c) => property(img, c).await,
        MetadefCmd::Resource { what: ResourceCmd::Type(c) } => resource_type(img, c).await,
    }
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

async fn namespace(img: &ImageProxy, cmd: NamespaceCmd) -> Outcome {
    match cmd {
        NamespaceCmd::List { resource_types, visibility, out } => {
            let mut q = Query::new();
            if let Some(r) = resource_types {
                q = q.param("resource_types", r);
            }
            if let Some(v) = visibility {
                q = q.param("visibility", v);
            }
            let all: Vec<_> = img.metadef_namespaces(&q.into()).try_collect().await?;
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
                each("remove tag", &tags, |t| img.delete_metadef_tag(namespace.as_str(), t))
                    .await?;
            }
        }
        NamespaceCmd::Delete { namespaces } => {
            each("delete namespace", &namespaces, |n| img.delete_metadef_namespace(n)).await?;
        }
    }
    Ok(())
}

async fn object(img: &ImageProxy, cmd: ObjectCmd) -> Outcome {
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
                each("delete object", &objects, |o| {
                    img.delete_metadef_object(namespace.as_str(), o)
                })
                .await?;
            }
        }
        ObjectCmd::Property {
            what: ObjectPropertyCmd::Show { namespace, object, property, out },
        } => {
            let o = img.get_metadef_object(namespace.as_str(), object.as_str()).await?;
            let Some(Value::Object(p)) = o.properties.get(&property) else {
                return Err(Failure::Usage(format!(
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

/// `--schema` JSON: an object merged into the property.
fn schema(text: &str) -> Result<Map<String, Value>, Failure> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Failure::Usage("--schema: expected a JSON object".into())),
        Err(e) => Err(Failure::Usage(format!("--schema: not JSON: {e}"))),
    }
}

/// A property with `schema`'s fields merged in (they go into the untyped rest).
fn merged(mut p: MetadefProperty, extra: Map<String, Value>) -> Result<MetadefProperty, Failure> {
    let mut v = serde_json::to_value(&p).map_err(|e| Failure::Usage(e.to_string()))?;
    if let Value::Object(m) = &mut v {
        m.extend(extra);
    }
    let name = p.name.clone();
    p = serde_json::from_value(v).map_err(|e| Failure::Usage(format!("--schema: {e}")))?;
    if p.name.is_empty() {
        p.name = name;
    }
    Ok(p)
}

async fn property(img: &ImageProxy, cmd: PropertyCmd) -> Outcome {
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
                each("delete property", &properties, |p| {
                    img.delete_metadef_property(namespace.as_str(), p)
                })
                .await?;
            }
        }
    }
    Ok(())
}

async fn resource_type(img: &ImageProxy, cmd: ResourceTypeCmd) -> Outcome {
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
            let result = each("delete resource type association", &names, |n| {
                img.delete_metadef_resource_type_association(namespace.as_str(), n)
            })
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

/// Runs `call` for each name, reporting each failure; fails when any did.
async fn each<'a, F, Fut, T>(what: &str, names: &'a [String], call: F) -> Outcome
where
    F: Fn(&'a str) -> Fut,
    Fut: std::future::IntoFuture<Output = openstack_client::Result<T>>,
{
    let mut failed = 0;
    for n in names {
        if let Err(e) = call(n.as_str()).await {
            eprintln!("osrs: failed to {what} {n}: {}", e.report());
            failed += 1;
        }
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure::Usage(format!("{failed} of {} failed ({what})", names.len())))
    }
}

fn text(v: &Option<String>) -> Value {
    v.clone().map_or(Value::Null, Value::String)
}
