//! Metadefs: namespaces, objects, properties, resource types and tags.

use openstack_image::{
    MetadefNamespace, MetadefObject, MetadefProperty, MetadefResourceTypeAssociation, Visibility,
};
use openstack_resource::{Error, Query};
use openstack_tests::{ADMIN, DEMO, image, unique};
use serde_json::json;

fn namespace(name: &str) -> MetadefNamespace {
    MetadefNamespace {
        namespace: name.into(),
        display_name: Some("SDK test".into()),
        description: Some("created by the openstack-rs tests".into()),
        visibility: Some(Visibility::Public),
        ..Default::default()
    }
}

#[tokio::test]
async fn namespace_object_property_tag_lifecycle() {
    let img = image(ADMIN);
    let ns_name = unique("ns").replace('-', "_");
    let ns = img.create_metadef_namespace(&namespace(&ns_name)).await.unwrap();
    assert_eq!(ns.namespace, ns_name);
    // Duplicate → Conflict with the server's message.
    let err = img.create_metadef_namespace(&namespace(&ns_name)).await.unwrap_err();
    assert!(err.is_conflict() && !err.api().unwrap().message.is_empty(), "{err:?}");
    let got = img.get_metadef_namespace(&ns_name).await.unwrap();
    let mut changed = got.clone();
    changed.description = Some("changed".into());
    let updated = img.update_metadef_namespace(&got, &changed).await.unwrap();
    assert_eq!(updated.description.as_deref(), Some("changed"));
    let listed = img.metadef_namespaces(&Query::new().param("visibility", "public")).await.unwrap();
    assert!(listed.iter().any(|n| n.namespace == ns_name));
    assert!(listed.len() > 30, "the standard namespaces are loaded: {}", listed.len());

    // Objects.
    let obj = MetadefObject {
        name: "obj1".into(),
        description: Some("an object".into()),
        properties: [("speed".to_string(), json!({"type": "integer", "title": "Speed"}))].into(),
        ..Default::default()
    };
    let created = img.create_metadef_object(&ns, &obj).await.unwrap();
    assert_eq!(created.name, "obj1");
    let got = img.get_metadef_object("obj1", &ns_name).await.unwrap();
    let mut changed = got.clone();
    changed.description = Some("changed object".into());
    let updated = img.update_metadef_object(&got, &changed, &ns_name).await.unwrap();
    assert_eq!(updated.description.as_deref(), Some("changed object"));
    img.create_metadef_object(
        &ns_name,
        &MetadefObject { name: "obj2".into(), ..Default::default() },
    )
    .await
    .unwrap();
    assert_eq!(img.metadef_objects(&ns_name).await.unwrap().len(), 2);
    img.delete_metadef_object("obj1", &ns_name).await.unwrap();
    assert!(img.get_metadef_object("obj1", &ns_name).await.unwrap_err().is_not_found());
    img.delete_all_metadef_objects(&ns_name).await.unwrap();
    assert!(img.metadef_objects(&ns_name).await.unwrap().is_empty());

    // Properties.
    let prop = MetadefProperty {
        name: "hw_speed".into(),
        title: Some("Speed".into()),
        property_type: Some("integer".into()),
        description: Some("how fast".into()),
        extra: [("minimum".to_string(), json!(1))].into(),
    };
    let created = img.create_metadef_property(&ns_name, &prop).await.unwrap();
    assert_eq!(created.name, "hw_speed");
    assert_eq!(
        img.get_metadef_property("hw_speed", &ns_name).await.unwrap().extra.get("minimum"),
        Some(&json!(1))
    );
    let mut changed = created.clone();
    changed.title = Some("Velocity".into());
    let updated = img.update_metadef_property("hw_speed", &ns_name, &changed).await.unwrap();
    assert_eq!(updated.title.as_deref(), Some("Velocity"));
    img.create_metadef_property(
        &ns_name,
        &MetadefProperty {
            name: "p2".into(),
            title: Some("P2".into()),
            property_type: Some("string".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let props = img.metadef_properties(&ns_name).await.unwrap();
    assert_eq!(props.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["hw_speed", "p2"]);
    assert!(img.delete_metadef_property("p2", &ns_name, false).await.unwrap());
    assert!(!img.delete_metadef_property("p2", &ns_name, true).await.unwrap());
    img.delete_all_metadef_properties(&ns_name).await.unwrap();
    assert!(img.metadef_properties(&ns_name).await.unwrap().is_empty());

    // Resource types.
    let types = img.metadef_resource_types().await.unwrap();
    assert!(types.iter().any(|t| t.name == "OS::Glance::Image"));
    let assoc = img
        .create_metadef_resource_type_association(
            &ns_name,
            &MetadefResourceTypeAssociation {
                name: "OS::Glance::Image".into(),
                prefix: Some("sdk_".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(assoc.prefix.as_deref(), Some("sdk_"));
    let assocs = img.metadef_resource_type_associations(&ns_name).await.unwrap();
    assert_eq!(assocs.len(), 1);
    assert!(
        img.delete_metadef_resource_type_association("OS::Glance::Image", &ns_name, false)
            .await
            .unwrap()
    );
    assert!(
        !img.delete_metadef_resource_type_association("OS::Glance::Image", &ns_name, true)
            .await
            .unwrap()
    );

    // Tags.
    img.create_metadef_tag(&ns_name, "t1").await.unwrap();
    let many = img.create_metadef_tags(&ns_name, &["t2", "t3"], true).await.unwrap();
    assert_eq!(many.len(), 2);
    assert_eq!(img.metadef_tags(&ns_name).await.unwrap().len(), 3);
    assert_eq!(img.get_metadef_tag(&ns_name, "t1").await.unwrap().name, "t1");
    assert_eq!(img.update_metadef_tag(&ns_name, "t1", "t1b").await.unwrap().name, "t1b");
    img.delete_metadef_tag(&ns_name, "t1b").await.unwrap();
    assert_eq!(img.metadef_tags(&ns_name).await.unwrap().len(), 2);
    let replaced = img.create_metadef_tags(&ns_name, &["only"], false).await.unwrap();
    assert_eq!(replaced.len(), 1);
    assert_eq!(img.metadef_tags(&ns_name).await.unwrap().len(), 1);
    img.delete_all_metadef_tags(&ns_name).await.unwrap();
    assert!(img.metadef_tags(&ns_name).await.unwrap().is_empty());

    assert!(img.delete_metadef_namespace(&ns_name, false).await.unwrap());
    img.wait_for_metadef_namespace_delete(&ns_name, &openstack_resource::WaitOptions::default())
        .await
        .unwrap();
    assert!(!img.delete_metadef_namespace(&ns_name, true).await.unwrap());
}

#[tokio::test]
async fn non_admins_cannot_create_namespaces() {
    let err =
        image(DEMO).create_metadef_namespace(&namespace(&unique("nsdemo"))).await.unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    // But they can read the public ones.
    let ns = image(DEMO).get_metadef_namespace("OS::Compute::Hypervisor").await.unwrap();
    assert!(ns.protected);
    assert!(matches!(
        image(DEMO).create_metadef_namespace(&MetadefNamespace::default()).await.unwrap_err(),
        Error::InvalidArgument(_)
    ));
}
