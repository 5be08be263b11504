//! Rows: members, tasks, schemas (with the drift check), import info, usage, stores, the
//! image cache, locations, and the error kinds.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::TryStreamExt;
use openstack_auth::Error;
use openstack_image::{
    DiskFormat, Image, ImageQuery, ImageStatus, MemberStatus, StoreQuery, TaskQuery, TaskStatus,
    WaitOptions,
};
use openstack_tests::data;

use crate::harness::Needs::{Api, Listed};
use crate::harness::{Check, Ctx, Failure, Table, ensure};

/// A project id nobody has: Glance takes any string as a member.
const MEMBER: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";

fn wait() -> WaitOptions {
    WaitOptions::default().timeout(Duration::from_secs(300))
}

async fn active(ctx: &Ctx, what: &str) -> Result<Image, Failure> {
    let made = ctx
        .img
        .create_image(ctx.name(what))
        .data(data(20_000, 21))
        .disk_format(DiskFormat::Raw)
        .await?;
    Ok(made.image)
}

pub(crate) async fn members_and_tasks(ctx: &Ctx, t: &mut Table) {
    let img = &ctx.img;
    t.row(
        ctx,
        "add_member, members, get_member, find_member, update_member, remove_member",
        &[],
        async {
            let rec = img
                .create_image(ctx.name("members"))
                .visibility(openstack_image::Visibility::Shared)
                .await?;
            let added = img.add_member(&rec, MEMBER).await?;
            ensure(added.status == MemberStatus::Pending, || format!("{}", added.status))?;
            let all: Vec<_> = img.members(&rec).try_collect().await?;
            ensure(all.len() == 1, || format!("{} members", all.len()))?;
            img.get_member(&rec, MEMBER).await?;
            img.find_member(&rec, MEMBER).await?;
            // Only the member may accept; the owner gets 403 (the kind is the check).
            match img.update_member(&rec, MEMBER, MemberStatus::Accepted).await {
                Err(e) if matches!(e.kind(), Error::Forbidden(_) | Error::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
                Ok(m) => ensure(m.status == MemberStatus::Accepted, || "not accepted".into())?,
            }
            img.remove_member(&rec, MEMBER).await?;
            ensure(img.get_member_opt(&rec, MEMBER).await?.is_none(), || "still a member".into())?;
            img.delete_image(&rec).await?;
            Ok(())
        },
    )
    .await;
    t.row(ctx, "create_task, get_task, wait_for_task, tasks", &[], async {
        let (dir, url) = openstack_tests::www();
        let file = format!("{}.raw", ctx.name("task"));
        std::fs::write(dir.join(&file), data(10_000, 22))
            .map_err(|e| Failure::Wrong(e.to_string()))?;
        let name = ctx.name("task");
        let input = serde_json::json!({
            "import_from": format!("{url}/{file}"),
            "import_from_format": "raw",
            "image_properties": {"name": name, "disk_format": "raw", "container_format": "bare"}
        });
        let task = img.create_task("import", input).await?;
        img.get_task(&task.id).await?;
        let done = img.wait_for_task(&task).wait(wait()).await?;
        let _ = std::fs::remove_file(dir.join(&file));
        ensure(done.status == TaskStatus::Success, || format!("{}", done.status))?;
        let listed: Vec<_> = img.tasks(&TaskQuery::new().task_type("import")).try_collect().await?;
        ensure(listed.iter().any(|t| t.id == task.id), || "the task is not listed".into())?;
        let made = img.find_image(&name).await?;
        img.delete_image(&made).await?;
        Ok(())
    })
    .await;
    t.row(ctx, "image_tasks (an image's import tasks)", &[Api(12)], async {
        let made = active(ctx, "imagetasks").await?;
        let tasks: Vec<_> = img.image_tasks(&made).try_collect().await?;
        let _ = tasks;
        img.delete_image(&made).await?;
        Ok(())
    })
    .await;
}

pub(crate) async fn schemas_and_info(ctx: &Ctx, t: &mut Table) {
    let img = &ctx.img;
    t.row(ctx, "the 16 get_*_schema calls", &[], async {
        let schemas = [
            img.get_images_schema().await?,
            img.get_image_schema().await?,
            img.get_members_schema().await?,
            img.get_member_schema().await?,
            img.get_tasks_schema().await?,
            img.get_task_schema().await?,
            img.get_metadef_namespace_schema().await?,
            img.get_metadef_namespaces_schema().await?,
            img.get_metadef_resource_type_schema().await?,
            img.get_metadef_resource_types_schema().await?,
            img.get_metadef_object_schema().await?,
            img.get_metadef_objects_schema().await?,
            img.get_metadef_property_schema().await?,
            img.get_metadef_properties_schema().await?,
            img.get_metadef_tag_schema().await?,
            img.get_metadef_tags_schema().await?,
        ];
        let empty: Vec<&str> =
            schemas.iter().filter(|s| s.properties.is_empty()).map(|s| s.name.as_str()).collect();
        ensure(empty.is_empty(), || format!("schemas without properties: {empty:?}"))
    })
    .await;
    t.row(ctx, "schema drift: every image property is typed", &[], async {
        let schema = img.get_image_schema().await?;
        let server: BTreeSet<&str> = schema.properties.keys().map(String::as_str).collect();
        let typed: BTreeSet<&str> = Image::typed_fields().iter().copied().collect();
        let untyped: Vec<&&str> = server.difference(&typed).collect();
        ensure(untyped.is_empty(), || format!("untyped image properties: {untyped:?}"))
    })
    .await;
    t.row(ctx, "get_import_info", &[Api(6)], async {
        let info = img.get_import_info().await?;
        ensure(info.import_methods.iter().any(|m| m == "glance-direct"), || {
            format!("methods {:?}", info.import_methods)
        })
    })
    .await;
    t.row(ctx, "get_usage (quota usage)", &[], async {
        img.get_usage().await?;
        Ok(())
    })
    .await;
}

pub(crate) async fn stores_cache_locations(ctx: &Ctx, t: &mut Table) {
    let img = &ctx.img;
    t.row(ctx, "stores", &[Listed(8)], async {
        let stores: Vec<_> = img.stores(&StoreQuery::new()).try_collect().await?;
        ensure(stores.iter().any(|s| s.default), || "no default store".into())
    })
    .await;
    t.row(ctx, "stores with details", &[Listed(8), Api(15)], async {
        let stores: Vec<_> = img.stores(&StoreQuery::new().details()).try_collect().await?;
        ensure(!stores.is_empty(), || "no stores".into())
    })
    .await;
    t.row(ctx, "delete_image from one store", &[Listed(8)], async {
        let stores: Vec<_> = img.stores(&StoreQuery::new()).try_collect().await?;
        let made = active(ctx, "storedelete").await?;
        let store = stores.iter().find(|s| s.default).map(|s| s.id.clone()).unwrap_or_default();
        // The image's only copy: Glance refuses to delete the last location (409).
        let refused = img.delete_image(&made).store(store.as_str()).await;
        img.delete_image(&made).await?;
        match refused {
            Err(e) if matches!(e.kind(), Error::Conflict(_) | Error::Forbidden(_)) => Ok(()),
            Err(e) => Err(e.into()),
            Ok(()) => Ok(()),
        }
    })
    .await;
    t.row(
        ctx,
        "queue_image, get_image_cache, cache_delete_image, clear_cache",
        &[Listed(14)],
        async {
            let made = active(ctx, "cache").await?;
            img.queue_image(&made).await?;
            // While Glance caches it (at once, in the background) the image is in neither
            // list: wait until it is cached (deleting it before would kill Glance 33's cache
            // worker thread, see README).
            openstack_tests::wait_cached(img, &made.id).await;
            let cached = |c: &openstack_image::ImageCache| {
                c.cached_images.iter().any(|c| c.image_id == made.id)
            };
            img.cache_delete_image(&made).await?;
            let gone = !cached(&img.get_image_cache().await?);
            img.clear_cache().await?;
            img.delete_image(&made).await?;
            ensure(gone, || "cache_delete_image left the image cached".into())
        },
    )
    .await;
    t.row(ctx, "add_image_location, image_locations", &[Api(17)], async {
        let (dir, url) = openstack_tests::www();
        let file = format!("{}.raw", ctx.name("loc"));
        std::fs::write(dir.join(&file), data(20_000, 23))
            .map_err(|e| Failure::Wrong(e.to_string()))?;
        let rec = img.create_image(ctx.name("loc")).disk_format(DiskFormat::Raw).await?;
        img.add_image_location(&rec, &format!("{url}/{file}")).await?;
        let now = img.wait_for_status(&rec, ImageStatus::Active).wait(wait()).await?;
        let locations: Result<Vec<_>, Error> = img.image_locations(&rec).try_collect().await;
        img.delete_image(&rec).await?;
        let _ = std::fs::remove_file(dir.join(&file));
        ensure(now.size == Some(20_000), || format!("size {:?}", now.size))?;
        match locations {
            Ok(l) => ensure(l.iter().any(|l| l.url.ends_with(&file)), || format!("{l:?}")),
            // Glance 30 (2025.1) lets only service users (an X-Service-Token) read them.
            Err(e) if matches!(e.kind(), Error::Forbidden(_)) => {
                Err(Failure::Note("image_locations: 403, service users only".into()))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await;
}

/// `result` must be the error `kind` says.
fn kind_is(
    result: Result<impl std::fmt::Debug, Error>,
    want: &str,
    ok: fn(&Error) -> bool,
) -> Check {
    match result {
        Err(e) if ok(e.kind()) => Ok(()),
        Err(e) => Err(Failure::Wrong(format!("expected {want}, got {}", e.report()))),
        Ok(v) => Err(Failure::Wrong(format!("expected {want}, got {v:?}"))),
    }
}

pub(crate) async fn errors(ctx: &Ctx, t: &mut Table) {
    let img = &ctx.img;
    t.row(ctx, "errors: 404, 409, 403, 400 by kind", &[], async {
        let missing = img.get_image("3f2d6bd0-5c2a-4b3e-9a55-000000000404").await;
        kind_is(missing, "NotFound", |e| matches!(e, Error::NotFound(_)))?;
        let rec = img.create_image(ctx.name("errors")).disk_format(DiskFormat::Raw).await?;
        let twice = img.create_image(ctx.name("errors")).id(rec.id.as_str()).await;
        kind_is(twice.map(|c| c.image.id), "Conflict", |e| matches!(e, Error::Conflict(_)))?;
        img.update_image_with(&rec.id, |i| i.protected = true).await?;
        let protected = img.delete_image(&rec).await;
        img.update_image_with(&rec.id, |i| i.protected = false).await?;
        kind_is(protected, "Forbidden", |e| matches!(e, Error::Forbidden(_)))?;
        let bad: Result<Vec<Image>, Error> =
            img.images(&ImageQuery::new().param("sort_key", "no_such_key")).try_collect().await;
        img.delete_image(&rec).await?;
        kind_is(bad, "BadRequest", |e| matches!(e, Error::BadRequest(_)))
    })
    .await;
}
