//! Metadata definitions: browse the catalog of properties, create a namespace of your own.

use openstack_client::image::{MetadefNamespace, MetadefProperty};
use openstack_client::prelude::*;

#[tokio::main]
async fn main() -> openstack_client::Result<()> {
    let image = Connection::from_env()?.image();
    for ns in image
        .metadef_namespaces(&Query::new().param("resource_types", "OS::Glance::Image"))
        .await?
        .iter()
        .take(5)
    {
        println!("{:<40} {}", ns.namespace, ns.display_name.as_deref().unwrap_or(""));
    }
    let ns = image
        .create_metadef_namespace(&MetadefNamespace {
            namespace: "Example::Namespace".into(),
            display_name: Some("Example".into()),
            ..Default::default()
        })
        .await?;
    let prop = MetadefProperty {
        name: "example_speed".into(),
        title: Some("Speed".into()),
        property_type: Some("integer".into()),
        ..Default::default()
    };
    image.create_metadef_property(&ns, &prop).await?;
    println!("{} has {} properties", ns.namespace, image.metadef_properties(&ns).await?.len());
    image.delete_metadef_namespace(&ns, false).await?;
    Ok(())
}
