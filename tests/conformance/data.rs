//! Rows: image records, paging and hidden images; the data paths (file, reader and stream
//! uploads, verified download, resume); stage and the import methods the cloud offers.

use bytes::Bytes;
use futures_util::TryStreamExt;
use openstack_image::{
    DiskFormat, Image, ImageData, ImageQuery, ImageStatus, ImportMethod, WaitOptions,
};
use openstack_tests::data;
use openstack_tests::faults::{Fault, start_to};

use crate::harness::Needs::{Api, Listed};
use crate::harness::{Check, Ctx, Failure, Table, ensure};

/// An image with `bytes`, verified by the SDK against what Glance computed.
async fn with_data(
    ctx: &Ctx,
    what: &str,
    bytes: Vec<u8>,
) -> Result<Image, crate::harness::Failure> {
    let made = ctx
        .img
        .create_image(ctx.name(what))
        .data(bytes)
        .disk_format(DiskFormat::Raw)
        .validate_checksum(true)
        .await?;
    Ok(made.image)
}

async fn cleanup(ctx: &Ctx, id: &str) -> Check {
    ctx.img.delete_image(id).await?;
    Ok(())
}

pub(crate) async fn images(ctx: &Ctx, t: &mut Table) {
    let img = &ctx.img;
    t.row(ctx, "create_image, get_image, find_image, update_image", &[], async {
        let rec = img.create_image(ctx.name("record")).disk_format(DiskFormat::Raw).await?;
        ensure(rec.status == ImageStatus::Queued, || format!("status {}", rec.status))?;
        let got = img.get_image(&rec.id).await?;
        let found = img.find_image(got.name.as_deref().unwrap_or_default()).await?;
        ensure(found.id == rec.id, || "find_image by name found another image".into())?;
        let now = img
            .update_image_with(&rec.id, |i| {
                i.min_ram = 64;
                i.properties.insert("compat".into(), "yes".into());
            })
            .await?;
        ensure(now.min_ram == 64 && now.property("compat") == Some("yes"), || {
            format!("the update did not land: {now:?}")
        })?;
        ensure(img.find_image_opt(&ctx.name("none")).await?.is_none(), || "found none".into())?;
        cleanup(ctx, &rec.id).await
    })
    .await;
    t.row(ctx, "add_tag, remove_tag", &[], async {
        let rec = img.create_image(ctx.name("tags")).disk_format(DiskFormat::Raw).await?;
        img.add_tag(&rec, "compat-a").await?;
        img.add_tag(&rec, "compat-b").await?;
        img.remove_tag(&rec, "compat-a").await?;
        let now = img.get_image(&rec).await?;
        ensure(now.tags == ["compat-b"], || format!("tags {:?}", now.tags))?;
        cleanup(ctx, &rec.id).await
    })
    .await;
    t.row(ctx, "images: filters and paging (page size 2 over 5)", &[], async {
        let tag = ctx.name("paging");
        let mut ids = Vec::new();
        for _ in 0..5 {
            let made = img.create_image(ctx.name("page")).tags([tag.as_str()]).await?;
            ids.push(made.image.id.clone());
        }
        let listed: Vec<Image> =
            img.images(&ImageQuery::new().tag(tag.as_str()).page_size(2)).try_collect().await?;
        ensure(listed.len() == 5, || format!("{} of 5 listed over pages of 2", listed.len()))?;
        for id in &ids {
            cleanup(ctx, id).await?;
        }
        Ok(())
    })
    .await;
    t.row(ctx, "hidden images (os_hidden): listed on request, found", &[Api(7)], async {
        let name = ctx.name("hidden");
        let rec = img.create_image(name.as_str()).os_hidden(true).await?;
        let shown: Vec<Image> =
            img.images(&ImageQuery::new().name(name.as_str())).try_collect().await?;
        let hidden: Vec<Image> =
            img.images(&ImageQuery::new().name(name.as_str()).hidden(true)).try_collect().await?;
        ensure(shown.is_empty() && hidden.len() == 1, || {
            format!("{} shown, {} with hidden=true", shown.len(), hidden.len())
        })?;
        let found = img.find_image(&name).await?;
        ensure(found.id == rec.id, || "find_image did not find the hidden image".into())?;
        cleanup(ctx, &rec.id).await
    })
    .await;
    t.row(ctx, "deactivate_image, reactivate_image", &[], async {
        let made = with_data(ctx, "deactivate", data(10_000, 1)).await?;
        img.deactivate_image(&made).await?;
        let off = img.get_image(&made).await?;
        img.reactivate_image(&made).await?;
        let on = img.get_image(&made).await?;
        ensure(off.status == ImageStatus::Deactivated && on.status == ImageStatus::Active, || {
            format!("{} then {}", off.status, on.status)
        })?;
        cleanup(ctx, &made.id).await
    })
    .await;
    t.row(ctx, "delete_image, wait_for_delete", &[], async {
        let rec = img.create_image(ctx.name("delete")).await?;
        img.delete_image(&rec).await?;
        img.wait_for_delete(&rec).await?;
        ensure(img.get_image_opt(&rec.id).await?.is_none(), || "still there".into())
    })
    .await;
}

pub(crate) async fn transfers(ctx: &Ctx, t: &mut Table) {
    let img = &ctx.img;
    let bytes = data(1_000_000, 11);
    t.row(ctx, "create_image with bytes, verified; download_image", &[], async {
        let made = with_data(ctx, "bytes", bytes.clone()).await?;
        let back = img.download_image(&made).await?;
        ensure(back.as_ref() == bytes.as_slice(), || "downloaded bytes differ".into())?;
        cleanup(ctx, &made.id).await
    })
    .await;
    t.row(ctx, "create_image from a file; download to a path", &[], async {
        let dir = tempfile::tempdir().map_err(|e| Failure::Wrong(e.to_string()))?;
        let src = dir.path().join("src.raw");
        std::fs::write(&src, &bytes).map_err(|e| Failure::Wrong(e.to_string()))?;
        let made = img
            .create_image(ctx.name("file"))
            .data(ImageData::from(src.as_path()))
            .disk_format(DiskFormat::Raw)
            .validate_checksum(true)
            .await?;
        let out = dir.path().join("out.raw");
        img.download_image(&made.image).to_path(out.clone()).await?;
        let got = std::fs::read(&out).unwrap_or_default();
        ensure(got == bytes, || "the file downloaded differs".into())?;
        cleanup(ctx, &made.image.id).await
    })
    .await;
    t.row(ctx, "create_image from a reader and from a stream", &[], async {
        let reader = std::io::Cursor::new(bytes.clone());
        let from_reader = img
            .create_image(ctx.name("reader"))
            .data(ImageData::reader(reader))
            .disk_format(DiskFormat::Raw)
            .validate_checksum(true)
            .await?;
        let chunks: Vec<std::io::Result<Bytes>> =
            bytes.chunks(100_000).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        let from_stream = img
            .create_image(ctx.name("stream"))
            .data(ImageData::stream(futures_util::stream::iter(chunks)))
            .disk_format(DiskFormat::Raw)
            .validate_checksum(true)
            .await?;
        for made in [from_reader, from_stream] {
            ensure(made.image.size == Some(bytes.len() as u64), || "size".into())?;
            cleanup(ctx, &made.image.id).await?;
        }
        Ok(())
    })
    .await;
    t.row(ctx, "upload_image", &[], async {
        let made = img
            .upload_image(ctx.name("upload"), bytes.clone())
            .disk_format(DiskFormat::Raw)
            .await?;
        ensure(made.image.status == ImageStatus::Active, || format!("{}", made.image.status))?;
        cleanup(ctx, &made.image.id).await
    })
    .await;
    t.row(ctx, "download resumed after a cut connection, verified", &[], async {
        let made = with_data(ctx, "resume", bytes.clone()).await?;
        let proxy = start_to(Fault::CutOnce(300_000), &ctx.glance_url).await;
        let mut cfg = openstack_tests::cloud(&ctx.cloud);
        cfg.endpoint_overrides.insert("image".into(), proxy.url.clone());
        let through = openstack_image::ImageProxy::new(
            openstack_auth::Session::new(cfg).map_err(Failure::Sdk)?,
        );
        let back = through.download_image(&made).await?;
        ensure(back.as_ref() == bytes.as_slice(), || "resumed bytes differ".into())?;
        let gets = proxy.state.count(|r| r.contains("/file"));
        ensure(gets >= 2, || format!("{gets} GET /file: the cut did not happen"))?;
        cleanup(ctx, &made.id).await
    })
    .await;
}

pub(crate) async fn imports(ctx: &Ctx, t: &mut Table) {
    let img = &ctx.img;
    let wait = WaitOptions::default().timeout(std::time::Duration::from_secs(300));
    let bytes = data(200_000, 12);
    t.row(ctx, "stage_image, import_image glance-direct, wait", &[Api(6)], async {
        let rec = img.create_image(ctx.name("direct")).disk_format(DiskFormat::Raw).await?;
        img.stage_image(&rec, bytes.clone()).await?;
        let done = img.import_image(&rec, ImportMethod::GlanceDirect).wait(wait.clone()).await?;
        ensure(done.image.status == ImageStatus::Active, || format!("{}", done.image.status))?;
        cleanup(ctx, &rec.id).await
    })
    .await;
    t.row(ctx, "import_image web-download", &[Api(6)], async {
        let (dir, url) = openstack_tests::www();
        let file = format!("{}.raw", ctx.name("web"));
        std::fs::write(dir.join(&file), &bytes).map_err(|e| Failure::Wrong(e.to_string()))?;
        let rec = img.create_image(ctx.name("web")).disk_format(DiskFormat::Raw).await?;
        let method = ImportMethod::WebDownload { uri: format!("{url}/{file}") };
        let done = img.import_image(&rec, method).wait(wait.clone()).await?;
        let _ = std::fs::remove_file(dir.join(&file));
        ensure(done.image.size == Some(bytes.len() as u64), || "size".into())?;
        cleanup(ctx, &rec.id).await
    })
    .await;
    t.row(ctx, "import_image copy-image into another store", &[Listed(8)], async {
        let stores: Vec<_> = img.stores(&openstack_image::StoreQuery::new()).try_collect().await?;
        let made = with_data(ctx, "copy", bytes.clone()).await?;
        let target = stores.iter().find(|s| !s.default).map(|s| s.id.clone());
        let Some(target) = target else {
            cleanup(ctx, &made.id).await?;
            return ensure(false, || "a multi-store cloud with one store".into());
        };
        let done = img
            .import_image(&made, ImportMethod::CopyImage)
            .store(target.as_str())
            .wait(wait.clone())
            .await?;
        ensure(done.succeeded.contains(&target), || format!("copied to {:?}", done.succeeded))?;
        cleanup(ctx, &made.id).await
    })
    .await;
    t.row(ctx, "import_image glance-download (from RegionTwo)", &[Api(6)], async {
        let info = img.get_import_info().await?;
        if !info.import_methods.iter().any(|m| m == "glance-download") {
            return Err(Failure::Note("glance-download is not offered here".into()));
        }
        // RegionTwo of the same Keystone is the main cloud's Glance: the source is made
        // there, through the catalog (without this cloud's endpoint override).
        let mut cfg = openstack_tests::cloud(&ctx.cloud);
        cfg.endpoint_overrides.remove("image");
        let remote = openstack_image::ImageProxy::new(
            openstack_auth::Session::new(cfg).map_err(Failure::Sdk)?,
        );
        let src = remote
            .create_image(ctx.name("remote"))
            .data(bytes.clone())
            .disk_format(DiskFormat::Raw)
            .await?
            .into_image();
        let rec = img.create_image(ctx.name("download")).disk_format(DiskFormat::Raw).await?;
        let method = ImportMethod::GlanceDownload {
            remote_region: "RegionTwo".into(),
            remote_image_id: src.id.clone(),
            remote_service_interface: None,
        };
        let done = img.import_image(&rec, method).wait(wait.clone()).await;
        remote.delete_image(&src).await?;
        let done = done?;
        ensure(done.image.checksum == src.checksum, || "checksums differ".into())?;
        cleanup(ctx, &rec.id).await
    })
    .await;
}
