//! Metadata definitions: browse the catalog of properties, create a namespace of your own.

use futures_util::{StreamExt, TryStreamExt};
use openstack_client::image::{MetadefNamespace, MetadefProperty};
use openstack_client::prelude::*;

#[tokio::main]
async fn main() -> openstack_client::Result<()> {
    let image = Connection::from_env()?.image();
    let q = NamespaceQuery::new().resource_type("OS::Glance::Image");
    let first: Vec<MetadefNamespace> = image.metadef_namespaces(&q).take(5).try_collect().await?;
    for ns in &first {
        println!("{:<40} {}", ns.namespace, ns.display_name.as_deref().unwrap_or(""));
    }
    let mut ns = MetadefNamespace::new("Example::Namespace");
    ns.display_name = Some("Example".into());
    let ns = image.create_metadef_namespace(&ns).await?;
    let prop = MetadefProperty::new("example_speed", "Speed", "integer");
    image.create_metadef_property(&ns, &prop).await?;
    let props: Vec<MetadefProperty> = image.metadef_properties(&ns).try_collect().await?;
    println!("{} has {} properties", ns.namespace, props.len());
    image.delete_metadef_namespace(&ns).await?;
    Ok(())
}
