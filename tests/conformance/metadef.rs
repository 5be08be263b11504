//! Rows: metadata definitions (namespaces, objects, properties, resource types and their
//! associations, tags), in one namespace made for the run and deleted at its end.

use futures_util::TryStreamExt;
use openstack_image::{
    MetadefNamespace, MetadefObject, MetadefProperty, MetadefResourceTypeAssociation,
    NamespaceQuery, TagQuery,
};

use crate::harness::{Ctx, Table, ensure};

pub(crate) async fn metadefs(ctx: &Ctx, t: &mut Table) {
    let img = &ctx.img;
    let ns = ctx.name("ns");
    let ns = ns.as_str();
    t.row(ctx, "metadef namespaces: create, get, update, list", &[], async {
        let made = img.create_metadef_namespace(&MetadefNamespace::new(ns)).await?;
        let got = img.get_metadef_namespace(ns).await?;
        let mut changed = got.clone();
        changed.description = Some("conformance".into());
        let now = img.update_metadef_namespace(&got, &changed).await?;
        ensure(now.description.as_deref() == Some("conformance"), || "not updated".into())?;
        let all: Vec<_> = img.metadef_namespaces(&NamespaceQuery::new()).try_collect().await?;
        ensure(all.iter().any(|n| n.namespace == made.namespace), || "not listed".into())
    })
    .await;
    t.row(ctx, "metadef objects: create, get, update, list, delete", &[], async {
        img.create_metadef_object(ns, &MetadefObject::new("obj")).await?;
        let got = img.get_metadef_object(ns, "obj").await?;
        let mut changed = got.clone();
        changed.description = Some("conformance".into());
        img.update_metadef_object(ns, &got, &changed).await?;
        let all: Vec<_> = img.metadef_objects(ns).try_collect().await?;
        ensure(all.len() == 1, || format!("{} objects", all.len()))?;
        img.delete_metadef_object(ns, "obj").await?;
        Ok(())
    })
    .await;
    t.row(ctx, "metadef properties: create, get, update, list, delete", &[], async {
        let p = MetadefProperty::new("prop", "Prop", "string");
        img.create_metadef_property(ns, &p).await?;
        let got = img.get_metadef_property(ns, "prop").await?;
        let mut changed = got.clone();
        changed.title = Some("Property".into());
        img.update_metadef_property(ns, &got, &changed).await?;
        let all: Vec<_> = img.metadef_properties(ns).try_collect().await?;
        ensure(all.len() == 1, || format!("{} properties", all.len()))?;
        img.delete_metadef_property(ns, "prop").await?;
        Ok(())
    })
    .await;
    t.row(ctx, "metadef resource types and associations", &[], async {
        let types: Vec<_> = img.metadef_resource_types().try_collect().await?;
        ensure(types.iter().any(|r| r.name == "OS::Glance::Image"), || {
            "no OS::Glance::Image".into()
        })?;
        let a = MetadefResourceTypeAssociation::new("OS::Glance::Image");
        img.create_metadef_resource_type_association(ns, &a).await?;
        let all: Vec<_> = img.metadef_resource_type_associations(ns).try_collect().await?;
        ensure(all.len() == 1, || format!("{} associations", all.len()))?;
        img.delete_metadef_resource_type_association(ns, "OS::Glance::Image").await?;
        Ok(())
    })
    .await;
    t.row(ctx, "metadef tags: create, get, update, list, delete", &[], async {
        img.create_metadef_tag(ns, "tag-a").await?;
        img.get_metadef_tag(ns, "tag-a").await?;
        img.update_metadef_tag(ns, "tag-a", "tag-b").await?;
        let all: Vec<_> = img.metadef_tags(ns, &TagQuery::new()).try_collect().await?;
        ensure(all.iter().map(|t| t.name.as_str()).eq(["tag-b"]), || "tags".into())?;
        img.delete_metadef_tag(ns, "tag-b").await?;
        Ok(())
    })
    .await;
    t.row(ctx, "delete_metadef_namespace", &[], async {
        img.delete_metadef_namespace(ns).await?;
        ensure(img.get_metadef_namespace_opt(ns).await?.is_none(), || "still there".into())
    })
    .await;
}
