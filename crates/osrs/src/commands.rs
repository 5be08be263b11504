//! The commands: parse → SDK call → output.

use futures_util::{StreamExt, TryStreamExt};
use serde_json::Value;

use openstack_client::image::{
    CacheTarget, ContainerFormat, DiskFormat, Image, ImageProxy, ImageQuery, ImageStatus,
    ImportMethod, MemberStatus, SortDir, Visibility, WaitOptions,
};
use openstack_client::resource::Query;
use openstack_client::transfer::Algorithm;

use crate::cli::{
    AddCmd, CacheCmd, CachedCmd, Cli, Command, CreateArgs, ImageCmd, ImportArgs, ImportInfoCmd,
    ListArgs, MemberCmd, RemoveCmd, SetArgs, StoresCmd, TaskCmd, VisibilityArgs,
};
use crate::{Failure, Outcome, connect, output, progress, records};

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Outcome {
    let cfg = connect::config(&cli.global)?;
    let img = connect::image(cfg)?;
    match cli.command {
        Command::Image(cmd) => image(&img, &cli.global, *cmd).await,
        Command::Cached { what: CachedCmd::Image(cmd) } => cached(&img, cmd).await,
        Command::Completion { .. } => Ok(()),
    }
}

async fn image(img: &ImageProxy, global: &crate::cli::Global, cmd: ImageCmd) -> Outcome {
    match cmd {
        ImageCmd::List(args) => list(img, args).await,
        ImageCmd::Show { image, human_readable, out } => {
            let found = img.find_image(&image).await?;
            output::show(&out, records::image(&found, human_readable))?;
            Ok(())
        }
        ImageCmd::Create(args) => create(img, args).await,
        ImageCmd::Set(args) => set(img, args).await,
        ImageCmd::Unset { image, tags, properties } => {
            let found = img.find_image(&image).await?;
            for t in &tags {
                img.remove_tag(&found, t).await?;
            }
            if !properties.is_empty() {
                let missing: Vec<&String> =
                    properties.iter().filter(|p| found.property(p).is_none()).collect();
                if !missing.is_empty() {
                    return Err(Failure::Usage(format!(
                        "image {} has no property {missing:?}",
                        found.id
                    )));
                }
                img.update_image_with(&found.id, move |i| {
                    for p in &properties {
                        i.properties.remove(p);
                    }
                })
                .await?;
            }
            Ok(())
        }
        ImageCmd::Delete { images, store } => {
            let mut failed = Vec::new();
            for name in &images {
                let result = async {
                    let found = img.find_image(name).await?;
                    match &store {
                        Some(s) => img.delete_image(&found).store(s.as_str()).await,
                        None => img.delete_image(&found).await,
                    }
                }
                .await;
                if let Err(e) = result {
                    eprintln!("osrs: failed to delete image {name}: {}", e.report());
                    failed.push(name.clone());
                }
            }
            if failed.is_empty() {
                Ok(())
            } else {
                Err(Failure::Usage(format!(
                    "{} of {} images failed to delete",
                    failed.len(),
                    images.len()
                )))
            }
        }
        ImageCmd::Save { image, file, progress } => save(img, &image, file, progress).await,
        ImageCmd::Add { what: AddCmd::Project { image, project, out } } => {
            let found = img.find_image(&image).await?;
            let member = img.add_member(&found, project.as_str()).await?;
            output::show(&out, records::fields(&member))?;
            Ok(())
        }
        ImageCmd::Remove { what: RemoveCmd::Project { image, project } } => {
            let found = img.find_image(&image).await?;
            img.remove_member(&found, project.as_str()).await?;
            Ok(())
        }
        ImageCmd::Member { what: MemberCmd::List { image, out } } => {
            let found = img.find_image(&image).await?;
            let members: Vec<_> = img.members(&found).try_collect().await?;
            let rows = members
                .iter()
                .map(|m| {
                    vec![
                        Value::String(m.image_id.clone()),
                        Value::String(m.member_id.clone()),
                        Value::String(m.status.to_string()),
                    ]
                })
                .collect();
            output::list(&out, &["Image ID", "Member ID", "Status"], rows)?;
            Ok(())
        }
        ImageCmd::Import(args) => import(img, args).await,
        ImageCmd::Stage { image, file, progress: _ } => {
            let found = img.find_image(&image).await?;
            img.stage_image(&found, openstack_client::image::ImageData::from(file.as_path()))
                .await?;
            Ok(())
        }
        ImageCmd::Task { what } => tasks(img, what).await,
        ImageCmd::Stores { what: StoresCmd::List { detail, out } } => {
            let stores: Vec<_> = img.stores().details(detail).into_stream().try_collect().await?;
            let rows = stores
                .iter()
                .map(|s| {
                    vec![
                        Value::String(s.id.clone()),
                        Value::String(s.description.clone()),
                        Value::Bool(s.default),
                        Value::Bool(s.read_only),
                    ]
                })
                .collect();
            output::list(&out, &["ID", "Description", "Default", "Read Only"], rows)?;
            Ok(())
        }
        ImageCmd::Copy(args) => crate::copy::copy(img, global, args).await,
        ImageCmd::Metadef { what } => crate::metadef::metadef(img, what).await,
    }
}

/// `--checksum-algorithm` values (`none` alone: nothing).
fn checksum_algorithms(names: &[String]) -> Result<Vec<Algorithm>, Failure> {
    if names.iter().any(|n| n == "none") {
        if names.len() > 1 {
            return Err(Failure::Usage(
                "--checksum-algorithm none cannot be combined with another algorithm".into(),
            ));
        }
        return Ok(Vec::new());
    }
    let mut algorithms = Vec::new();
    for n in names {
        let a: Algorithm =
            n.parse().map_err(|_| Failure::Usage(format!("unknown checksum algorithm {n:?}")))?;
        if !algorithms.contains(&a) {
            algorithms.push(a);
        }
    }
    Ok(algorithms)
}

fn visibility(v: &VisibilityArgs) -> Option<Visibility> {
    if v.public {
        Some(Visibility::Public)
    } else if v.private {
        Some(Visibility::Private)
    } else if v.community {
        Some(Visibility::Community)
    } else if v.shared {
        Some(Visibility::Shared)
    } else {
        None
    }
}

async fn list(img: &ImageProxy, a: ListArgs) -> Outcome {
    let mut q = ImageQuery::new();
    if a.public {
        q = q.visibility(Visibility::Public);
    } else if a.private {
        q = q.visibility(Visibility::Private);
    } else if a.community {
        q = q.visibility(Visibility::Community);
    } else if a.shared {
        q = q.visibility(Visibility::Shared);
    } else if a.all {
        q = q.all_visibilities();
    }
    if let Some(n) = &a.name {
        q = q.name(n.as_str());
    }
    if let Some(s) = &a.status {
        q = q.status(ImageStatus::from(s.as_str()));
    }
    if let Some(m) = &a.member_status {
        q = q.member_status(MemberStatus::from(m.as_str()));
    }
    if let Some(p) = &a.project {
        q = q.owner(p.as_str());
    }
    for t in &a.tags {
        q = q.tag(t.as_str());
    }
    if a.hidden {
        q = q.hidden(true);
    }
    if let Some(sort) = &a.sort {
        for part in sort.split(',').filter(|p| !p.is_empty()) {
            let (key, dir) = part.split_once(':').unwrap_or((part, "asc"));
            let dir = match dir {
                "asc" => SortDir::Asc,
                "desc" => SortDir::Desc,
                other => {
                    return Err(Failure::Usage(format!(
                        "--sort {part}: direction {other:?} is not asc or desc"
                    )));
                }
            };
            q = q.sort(key, dir);
        }
    }
    if let Some(m) = &a.marker {
        q = q.marker(m.as_str());
    }
    // Few large pages (Glance caps a page at api_limit_max, 1000 by default).
    q = q.page_size(a.limit.map_or(1000, |l| l.clamp(1, 1000)) as u32);
    let stream = img.images(&q);
    let mut images: Vec<Image> = match a.limit {
        Some(n) => stream.take(n).try_collect().await?,
        None => stream.try_collect().await?,
    };
    // Properties are filtered here, as openstackclient does.
    images.retain(|i| a.properties.iter().all(|(k, v)| i.property(k) == Some(v.as_str())));
    let rows = images.iter().map(|i| records::image_row(i, a.long)).collect();
    output::list(&a.out, &records::image_headers(a.long), rows)?;
    Ok(())
}

async fn create(img: &ImageProxy, a: CreateArgs) -> Outcome {
    let mut c = img.create_image(a.name.as_str()).allow_duplicates(true);
    if let Some(f) = &a.disk_format {
        c = c.disk_format(DiskFormat::from(f.as_str()));
    } else if a.file.is_none() {
        c = c.disk_format(DiskFormat::Raw);
    }
    if let Some(f) = &a.container_format {
        c = c.container_format(ContainerFormat::from(f.as_str()));
    }
    if let Some(n) = a.min_disk {
        c = c.min_disk(n);
    }
    if let Some(n) = a.min_ram {
        c = c.min_ram(n);
    }
    if a.protected {
        c = c.protected(true);
    }
    if let Some(v) = visibility(&a.visibility) {
        c = c.visibility(v);
    }
    for (k, v) in &a.properties {
        c = c.property(k.as_str(), v.as_str());
    }
    if !a.tags.is_empty() {
        c = c.tags(a.tags.clone());
    }
    if a.use_import || !a.stores.is_empty() {
        c = c.use_import(true).wait(WaitOptions::default());
    }
    if !a.stores.is_empty() {
        c = c.stores(a.stores.clone());
    }
    let mut bar = None;
    if let Some(f) = &a.file {
        let algorithms = checksum_algorithms(&a.checksum_algorithms)?;
        c = c.filename(f).validate_checksum(!algorithms.is_empty()).digests(&algorithms);
        let size = std::fs::metadata(f).map(|m| m.len()).ok();
        if let Some((b, p)) = progress::bar("upload", size, a.progress) {
            c = c.progress(p);
            bar = Some(b);
        }
    }
    let created = c.await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    output::show(&a.out, records::image(&created?, false))?;
    Ok(())
}

async fn set(img: &ImageProxy, a: SetArgs) -> Outcome {
    let found = img.find_image(&a.image).await?;
    if a.deactivate {
        img.deactivate_image(&found).await?;
    }
    if a.activate {
        img.reactivate_image(&found).await?;
    }
    for t in &a.tags {
        img.add_tag(&found, t).await?;
    }
    let vis = visibility(&a.visibility);
    let changes = a.name.is_some()
        || a.min_disk.is_some()
        || a.min_ram.is_some()
        || a.disk_format.is_some()
        || a.container_format.is_some()
        || a.protected
        || a.unprotected
        || vis.is_some()
        || !a.properties.is_empty()
        || a.hidden
        || a.unhidden;
    if changes {
        img.update_image_with(&found.id, move |i| {
            if let Some(n) = a.name {
                i.name = Some(n);
            }
            if let Some(n) = a.min_disk {
                i.min_disk = n;
            }
            if let Some(n) = a.min_ram {
                i.min_ram = n;
            }
            if let Some(f) = a.disk_format {
                i.disk_format = Some(DiskFormat::from(f.as_str()));
            }
            if let Some(f) = a.container_format {
                i.container_format = Some(ContainerFormat::from(f.as_str()));
            }
            if a.protected || a.unprotected {
                i.protected = a.protected;
            }
            if let Some(v) = vis {
                i.visibility = v;
            }
            if a.hidden || a.unhidden {
                i.os_hidden = a.hidden;
            }
            for (k, v) in a.properties {
                i.properties.insert(k, Value::String(v));
            }
        })
        .await?;
    }
    Ok(())
}

async fn save(
    img: &ImageProxy,
    image: &str,
    file: Option<std::path::PathBuf>,
    forced: bool,
) -> Outcome {
    let found = img.find_image(image).await?;
    let mut d = img.download_image(&found);
    let bar = progress::bar("download", found.size, forced);
    if let Some((_, p)) = &bar {
        d = d.progress(p.clone());
    }
    let result = match &file {
        Some(path) => d.to_path(path).await.map(|_| ()),
        // Verified as it goes; a mismatch at the end exits non-zero (the reader must not
        // trust what it got).
        None => d.to_writer(&mut tokio::io::stdout()).await.map(|_| ()),
    };
    if let Some((b, _)) = bar {
        b.finish_and_clear();
    }
    result?;
    Ok(())
}

async fn import(img: &ImageProxy, a: ImportArgs) -> Outcome {
    if let Some(ImportInfoCmd::Info(o)) = a.info {
        let info = img.get_import_info().await?;
        let stores: Vec<_> = img.stores().into_stream().try_collect().await?;
        let fields = vec![
            ("import-methods".to_string(), Value::from(info.import_methods.clone())),
            (
                "stores".to_string(),
                Value::from(stores.iter().map(|s| s.id.clone()).collect::<Vec<_>>()),
            ),
        ];
        output::show(&o.out, fields)?;
        return Ok(());
    }
    let name = a.image.clone().ok_or_else(|| "an image is required".to_string())?;
    let found = img.find_image(&name).await?;
    let method = match a.method.as_str() {
        "glance-direct" => ImportMethod::GlanceDirect,
        "copy-image" => ImportMethod::CopyImage,
        "web-download" => ImportMethod::WebDownload {
            uri: a.uri.clone().ok_or_else(|| "--uri is required for web-download".to_string())?,
        },
        _ => ImportMethod::GlanceDownload {
            remote_region: a
                .remote_region
                .clone()
                .ok_or_else(|| "--remote-region is required for glance-download".to_string())?,
            remote_image_id: a
                .remote_image
                .clone()
                .ok_or_else(|| "--remote-image is required for glance-download".to_string())?,
            remote_service_interface: a.remote_service_interface.clone(),
        },
    };
    let mut call = img.import_image(&found, method);
    if !a.stores.is_empty() {
        call = call.stores(a.stores.clone());
    }
    if a.all_stores {
        call = call.all_stores(true);
    }
    call = call.all_stores_must_succeed(!a.allow_failure);
    if a.wait {
        call.wait(WaitOptions::default()).await?;
    } else {
        call.await?;
    }
    let now = img.get_image(&found.id).await?;
    output::show(&a.out, records::image(&now, false))?;
    Ok(())
}

async fn tasks(img: &ImageProxy, cmd: TaskCmd) -> Outcome {
    match cmd {
        TaskCmd::List { task_type, status, out } => {
            let mut q = Query::new();
            if let Some(t) = task_type {
                q = q.param("type", t);
            }
            if let Some(s) = status {
                q = q.param("status", s);
            }
            let tasks: Vec<_> = img.tasks(&q).try_collect().await?;
            let rows = tasks
                .iter()
                .map(|t| {
                    vec![
                        Value::String(t.id.clone()),
                        Value::String(t.task_type.clone()),
                        Value::String(t.status.to_string()),
                        t.owner.clone().map_or(Value::Null, Value::String),
                    ]
                })
                .collect();
            output::list(&out, &["ID", "Type", "Status", "Owner"], rows)?;
        }
        TaskCmd::Show { task, out } => {
            let t = img.get_task(task.as_str()).await?;
            output::show(&out, records::fields(&t))?;
        }
    }
    Ok(())
}

async fn cached(img: &ImageProxy, cmd: CacheCmd) -> Outcome {
    match cmd {
        CacheCmd::List(o) => {
            let cache = img.get_image_cache().await?;
            let mut rows: Vec<Vec<Value>> = cache
                .cached_images
                .iter()
                .map(|c| {
                    vec![
                        Value::String(c.image_id.clone()),
                        Value::String("cached".into()),
                        Value::from(c.hits),
                        Value::from(c.size),
                    ]
                })
                .collect();
            rows.extend(cache.queued_images.iter().map(|id| {
                vec![
                    Value::String(id.clone()),
                    Value::String("queued".into()),
                    Value::Null,
                    Value::Null,
                ]
            }));
            output::list(&o.out, &["ID", "State", "Hits", "Size"], rows)?;
        }
        CacheCmd::Queue { images } => {
            for name in images {
                let found = img.find_image(&name).await?;
                img.queue_image(&found).await?;
            }
        }
        CacheCmd::Delete { images } => {
            for name in images {
                let found = img.find_image(&name).await?;
                img.cache_delete_image(&found).await?;
            }
        }
        CacheCmd::Clear { cache, queue } => {
            let target = match (cache, queue) {
                (true, false) => CacheTarget::Cache,
                (false, true) => CacheTarget::Queue,
                _ => CacheTarget::Both,
            };
            img.clear_cache(target).await?;
        }
    }
    Ok(())
}
