//! Schemas: every get_*_schema call, and the image schema checked against `Image`.

use std::collections::BTreeSet;

use openstack_image::{Image, ImageProxy};
use openstack_tests::{ADMIN, image};

#[tokio::test]
async fn every_schema_call_returns_its_schema() {
    let img: ImageProxy = image(ADMIN);
    let cases = [
        (img.get_images_schema().await.unwrap(), "images"),
        (img.get_image_schema().await.unwrap(), "image"),
        (img.get_members_schema().await.unwrap(), "members"),
        (img.get_member_schema().await.unwrap(), "member"),
        (img.get_tasks_schema().await.unwrap(), "tasks"),
        (img.get_task_schema().await.unwrap(), "task"),
        (img.get_metadef_namespace_schema().await.unwrap(), "namespace"),
        (img.get_metadef_namespaces_schema().await.unwrap(), "namespaces"),
        (img.get_metadef_resource_type_schema().await.unwrap(), "resource_type_association"),
        (img.get_metadef_resource_types_schema().await.unwrap(), "resource_type_associations"),
        (img.get_metadef_object_schema().await.unwrap(), "object"),
        (img.get_metadef_objects_schema().await.unwrap(), "objects"),
        (img.get_metadef_property_schema().await.unwrap(), "property"),
        (img.get_metadef_properties_schema().await.unwrap(), "properties"),
        (img.get_metadef_tag_schema().await.unwrap(), "tag"),
        (img.get_metadef_tags_schema().await.unwrap(), "tags"),
    ];
    for (schema, name) in cases {
        assert_eq!(schema.name, name);
        assert!(!schema.properties.is_empty(), "{name} has properties");
    }
}

#[tokio::test]
async fn image_schema_has_no_property_the_sdk_does_not_type() {
    let schema = image(ADMIN).get_image_schema().await.unwrap();
    let server: BTreeSet<&str> = schema.properties.keys().map(String::as_str).collect();
    let typed: BTreeSet<&str> = Image::typed_fields().iter().copied().collect();
    let untyped: Vec<&&str> = server.difference(&typed).collect();
    assert!(
        untyped.is_empty(),
        "the server's image schema has properties Image does not type: {untyped:?}"
    );
    // Everything else is free-form: the schema says additional properties are strings.
    assert_eq!(schema.additional_properties, Some(serde_json::json!({"type": "string"})));
    assert_eq!(
        schema.enum_values("disk_format"),
        ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
    );
}
