//! Metadefs: namespaces, objects, properties, resource types and tags.

use futures_util::TryStreamExt;
use openstack_image::{
    MetadefNamespace, MetadefObject, MetadefProperty, MetadefResourceType,
    MetadefResourceTypeAssociation, MetadefTag, Visibility,
};
use openstack_resource::Error;
use openstack_tests::{ADMIN, DEMO, image, unique};
use serde_json::json;

fn namespace(name: &str) -> MetadefNamespace {
    let mut ns = MetadefNamespace::new(name);
    ns.display_name = Some("SDK test".into());
    ns.description = Some("created by the openstack-rs tests".into());
    ns.visibility = Some(Visibility::Public);
    ns
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
    let listed: Vec<MetadefNamespace> = img
        .metadef_namespaces(&openstack_image::NamespaceQuery::new().visibility(Visibility::Public))
        .try_collect()
        .await
        .unwrap();
    assert!(listed.iter().any(|n| n.namespace == ns_name));
    assert!(listed.len() > 30, "the standard namespaces are loaded: {}", listed.len());

    // Objects.
    let mut obj = MetadefObject::new("obj1");
    obj.description = Some("an object".into());
    obj.properties = [("speed".to_string(), json!({"type": "integer", "title": "Speed"}))].into();
    let created = img.create_metadef_object(&ns, &obj).await.unwrap();
    assert_eq!(created.name, "obj1");
    let got = img.get_metadef_object(&ns_name, "obj1").await.unwrap();
    let mut changed = got.clone();
    changed.description = Some("changed object".into());
    let updated = img.update_metadef_object(&ns_name, &got, &changed).await.unwrap();
    assert_eq!(updated.description.as_deref(), Some("changed object"));
    img.create_metadef_object(&ns_name, &MetadefObject::new("obj2")).await.unwrap();
    // A rename is addressed by the old name.
    let obj2 = img.get_metadef_object(&ns_name, "obj2").await.unwrap();
    let mut renamed = obj2.clone();
    renamed.name = "obj3".into();
    assert_eq!(img.update_metadef_object(&ns_name, &obj2, &renamed).await.unwrap().name, "obj3");
    let objects: Vec<MetadefObject> = img.metadef_objects(&ns_name).try_collect().await.unwrap();
    let mut names: Vec<_> = objects.iter().map(|o| o.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["obj1", "obj3"]);
    img.delete_metadef_object(&ns_name, "obj1").await.unwrap();
    assert!(img.get_metadef_object(&ns_name, "obj1").await.unwrap_err().is_not_found());
    img.delete_all_metadef_objects(&ns_name).await.unwrap();
    assert!(img.delete_metadef_object_opt(&ns_name, "obj3").await.unwrap().is_none());
    let objects: Vec<MetadefObject> = img.metadef_objects(&ns_name).try_collect().await.unwrap();
    assert!(objects.is_empty());

    // Properties.
    let mut prop = MetadefProperty::new("hw_speed", "Speed", "integer");
    prop.description = Some("how fast".into());
    prop.extra = [("minimum".to_string(), json!(1))].into();
    let created = img.create_metadef_property(&ns_name, &prop).await.unwrap();
    assert_eq!(created.name, "hw_speed");
    assert_eq!(
        img.get_metadef_property(&ns_name, "hw_speed").await.unwrap().extra.get("minimum"),
        Some(&json!(1))
    );
    let mut changed = created.clone();
    changed.title = Some("Velocity".into());
    let updated = img.update_metadef_property(&ns_name, &created, &changed).await.unwrap();
    assert_eq!(updated.title.as_deref(), Some("Velocity"));
    img.create_metadef_property(&ns_name, &MetadefProperty::new("p2", "P2", "string"))
        .await
        .unwrap();
    let props: Vec<MetadefProperty> = img.metadef_properties(&ns_name).try_collect().await.unwrap();
    assert_eq!(props.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["hw_speed", "p2"]);
    assert_eq!(props[0].title.as_deref(), Some("Velocity"));
    img.delete_metadef_property(&ns_name, "p2").await.unwrap();
    assert!(img.delete_metadef_property_opt(&ns_name, "p2").await.unwrap().is_none());
    img.delete_all_metadef_properties(&ns_name).await.unwrap();
    let props: Vec<MetadefProperty> = img.metadef_properties(&ns_name).try_collect().await.unwrap();
    assert!(props.is_empty());

    // Resource types.
    let types: Vec<MetadefResourceType> = img.metadef_resource_types().try_collect().await.unwrap();
    assert!(types.iter().any(|t| t.name == "OS::Glance::Image"));
    let assoc = img
        .create_metadef_resource_type_association(&ns_name, &{
            let mut a = MetadefResourceTypeAssociation::new("OS::Glance::Image");
            a.prefix = Some("sdk_".into());
            a
        })
        .await
        .unwrap();
    assert_eq!(assoc.prefix.as_deref(), Some("sdk_"));
    let assocs: Vec<MetadefResourceTypeAssociation> =
        img.metadef_resource_type_associations(&ns_name).try_collect().await.unwrap();
    assert_eq!(assocs.len(), 1);
    img.delete_metadef_resource_type_association(&ns_name, "OS::Glance::Image").await.unwrap();
    assert!(
        img.delete_metadef_resource_type_association_opt(&ns_name, "OS::Glance::Image")
            .await
            .unwrap()
            .is_none()
    );

    // Tags.
    img.create_metadef_tag(&ns_name, "t1").await.unwrap();
    let many = img.create_metadef_tags(&ns_name, ["t2", "t3"]).append(true).await.unwrap();
    assert_eq!(many.len(), 2);
    let tags = |img: &openstack_image::ImageProxy| {
        let all = img.metadef_tags(&ns_name, &openstack_image::TagQuery::new());
        async move { all.try_collect::<Vec<MetadefTag>>().await.unwrap().len() }
    };
    assert_eq!(tags(&img).await, 3);
    assert_eq!(img.get_metadef_tag(&ns_name, "t1").await.unwrap().name, "t1");
    assert_eq!(img.update_metadef_tag(&ns_name, "t1", "t1b").await.unwrap().name, "t1b");
    img.delete_metadef_tag(&ns_name, "t1b").await.unwrap();
    assert!(img.delete_metadef_tag_opt(&ns_name, "t1b").await.unwrap().is_none());
    assert_eq!(tags(&img).await, 2);
    let replaced = img.create_metadef_tags(&ns_name, ["only"]).await.unwrap();
    assert_eq!(replaced.len(), 1);
    assert_eq!(tags(&img).await, 1);
    img.delete_all_metadef_tags(&ns_name).await.unwrap();
    assert_eq!(tags(&img).await, 0);

    // Renaming the namespace itself (PUT at the old name).
    let current = img.get_metadef_namespace(&ns_name).await.unwrap();
    let mut renamed = current.clone();
    let new_name = format!("{ns_name}_renamed");
    renamed.namespace = new_name.clone();
    assert_eq!(img.update_metadef_namespace(&current, &renamed).await.unwrap().namespace, new_name);
    assert!(img.get_metadef_namespace(&ns_name).await.unwrap_err().is_not_found());

    img.delete_metadef_namespace(&new_name).await.unwrap();
    img.wait_for_metadef_namespace_delete(&new_name).await.unwrap();
    assert!(img.delete_metadef_namespace_opt(&new_name).await.unwrap().is_none());
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
        image(DEMO).create_metadef_namespace(&MetadefNamespace::new("")).await.unwrap_err(),
        Error::InvalidArgument(_)
    ));
}
