//! The commands: parse → SDK call → output.

use futures_util::{StreamExt, TryStreamExt};
use serde_json::Value;

use openstack_client::image::{
    CacheTarget, Image, ImageProxy, ImageQuery, ImageStatus, ImportMethod, MemberStatus,
    Visibility, WaitOptions,
};
use openstack_client::resource::Query;

use crate::cli::{
    AddCmd, CacheCmd, CachedCmd, Cli, Command, ImageCmd, ImportArgs, ImportInfoCmd, ListArgs,
    MemberCmd, RemoveCmd, StoresCmd, TaskCmd,
};
use crate::projects::project_id;
use crate::token_cache::TokenCache;
use crate::{Failure, Outcome, connect, output, progress, records};

/// Runs a parsed command line.
pub(crate) async fn run(cli: Cli) -> Outcome {
    let cfg = connect::config(&cli.global)?;
    let mut cache = TokenCache::for_config(&cfg, cli.global.no_token_cache);
    let img = connect::image(cfg)?;
    if let Some(c) = &mut cache {
        c.load(img.session()).await;
    }
    let outcome = match cli.command {
        Command::Image(cmd) => image(&img, &cli.global, *cmd).await,
        Command::Cached { what: CachedCmd::Image(cmd) } => cached(&img, cmd).await,
        Command::Completion { .. } => Ok(()),
    };
    if let Some(c) = &cache {
        c.store(img.session()).await;
    }
    outcome
}

async fn image(img: &ImageProxy, global: &crate::cli::Global, cmd: ImageCmd) -> Outcome {
    match cmd {
        ImageCmd::List(args) => list(img, args).await,
        ImageCmd::Show { image, human_readable, out } => {
            let found = img.find_image(&image).await?;
            output::show(&out, records::image(&found, human_readable))?;
            Ok(())
        }
        ImageCmd::Create(args) => crate::create::create(img, args).await,
        ImageCmd::Set(args) => crate::create::set(img, args).await,
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
            each_image(&images, "delete", "Failed to delete {failed} of {total} images.", |name| {
                let store = store.clone();
                async move {
                    let found = img.find_image(&name).await?;
                    match store {
                        Some(s) => img.delete_image(&found).store(s.as_str()).await,
                        None => img.delete_image(&found).await,
                    }
                }
            })
            .await
        }
        ImageCmd::Save { image, file, store_preferences, chunk_size: _, progress } => {
            save(img, &image, file, &store_preferences, progress).await
        }
        ImageCmd::Add { what: AddCmd::Project { image, project, project_domain, out } } => {
            let project = project_id(img.session(), &project, project_domain.as_deref()).await?;
            let found = img.find_image(&image).await?;
            let member = img.add_member(&found, project.as_str()).await?;
            output::show(&out, records::member(&member))?;
            Ok(())
        }
        ImageCmd::Remove { what: RemoveCmd::Project { image, project, project_domain } } => {
            let project = project_id(img.session(), &project, project_domain.as_deref()).await?;
            let found = img.find_image(&image).await?;
            img.remove_member(&found, project.as_str()).await?;
            Ok(())
        }
        ImageCmd::Member { what: MemberCmd::Get { image, project, project_domain, out } } => {
            let project = project_id(img.session(), &project, project_domain.as_deref()).await?;
            let found = img.find_image(&image).await?;
            let member = img.get_member(&found, project.as_str()).await?;
            output::show(&out, records::member(&member))?;
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
        ImageCmd::Stage { image, file, size: _, progress } => {
            let found = img.find_image(&image).await?;
            let mut stage =
                img.stage_image(&found, openstack_client::image::ImageData::from(file.as_path()));
            let total = std::fs::metadata(&file).map(|m| m.len()).ok();
            let bar = progress::bar("stage", total, progress);
            if let Some((_, p)) = &bar {
                stage = stage.progress(p.clone());
            }
            let staged = stage.await;
            if let Some((b, _)) = bar {
                b.finish_and_clear();
            }
            staged?;
            Ok(())
        }
        ImageCmd::Task { what } => tasks(img, what).await,
        ImageCmd::Stores { what: StoresCmd::List { detail, out } } => {
            let stores: Vec<_> = img.stores().details(detail).into_stream().try_collect().await?;
            // openstackclient's columns: `Default` is true or absent (null), as Glance says it.
            let rows = stores
                .iter()
                .map(|s| {
                    let mut row = vec![
                        Value::String(s.id.clone()),
                        Value::String(s.description.clone()),
                        if s.default { Value::Bool(true) } else { Value::Null },
                    ];
                    if detail {
                        row.push(serde_json::to_value(&s.properties).unwrap_or(Value::Null));
                    }
                    row
                })
                .collect();
            let mut headers = vec!["ID", "Description", "Default"];
            if detail {
                headers.push("Properties");
            }
            output::list(&out, &headers, rows)?;
            Ok(())
        }
        ImageCmd::Copy(args) => crate::copy::copy(img, global, args).await,
        ImageCmd::Metadef { what } => crate::metadef::metadef(img, what).await,
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
        q = q.owner(project_id(img.session(), p, a.project_domain.as_deref()).await?);
    }
    for t in &a.tags {
        q = q.tag(t.as_str());
    }
    if a.hidden {
        q = q.hidden(true);
    }
    if let Some(m) = &a.marker {
        q = q.marker(m.as_str());
    }
    // Few large pages (Glance caps a page at api_limit_max, 1000 by default).
    let page = a.page_size.map_or(1000, |p| p.clamp(1, 1000) as usize);
    q = q.page_size(a.limit.map_or(page, |l| l.clamp(1, page)) as u32);
    let stream = img.images(&q);
    // --limit: one page of that many (openstackclient turns paging off); --max-items: at
    // most that many over every page.
    let most = match (a.limit, a.max_items) {
        (Some(l), Some(m)) => Some(l.min(m)),
        (l, m) => l.or(m),
    };
    let mut images: Vec<Image> = match most {
        Some(n) => stream.take(n).try_collect().await?,
        None => stream.try_collect().await?,
    };
    // Properties are filtered here, as openstackclient does.
    images.retain(|i| a.properties.iter().all(|(k, v)| i.property(k) == Some(v.as_str())));
    // Sorted here too, over every image listed (openstackclient sends no sort to Glance).
    let mut keyed: Vec<(Value, Image)> =
        images.into_iter().map(|i| (serde_json::to_value(&i).unwrap_or(Value::Null), i)).collect();
    crate::sort::sort_items(&mut keyed, a.sort.as_deref().unwrap_or("name:asc"), |(v, _)| v)?;
    let rows = keyed.iter().map(|(_, i)| records::image_row(i, a.long)).collect();
    output::list(&a.out, &records::image_headers(a.long), rows)?;
    Ok(())
}

async fn save(
    img: &ImageProxy,
    image: &str,
    file: Option<std::path::PathBuf>,
    stores: &[String],
    forced: bool,
) -> Outcome {
    let found = img.find_image(image).await?;
    let mut d = img.download_image(&found);
    for s in stores {
        d = d.prefer(s.as_str());
    }
    let bar = progress::bar("download", found.size, forced);
    if let Some((_, p)) = &bar {
        d = d.progress(p.clone());
    }
    let result = match &file {
        Some(path) => d.to_path(path).await.map(|_| ()),
        // Verified as it goes; a mismatch at the end exits non-zero (the reader must not
        // trust what it got).
        None => d.to_writer(tokio::io::stdout()).await.map(|_| ()),
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
        let fields = vec![("import-methods".to_string(), Value::from(info.import_methods))];
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
    // openstackclient's default is --allow-failure (all_stores_must_succeed=False).
    call = call.all_stores_must_succeed(a.disallow_failure);
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
        TaskCmd::List { sort_key, sort_dir, limit, marker, task_type, status, out } => {
            let mut q = Query::new();
            for (key, value) in [
                ("sort_key", sort_key),
                ("sort_dir", sort_dir),
                ("marker", marker),
                ("type", task_type),
                ("status", status),
            ] {
                if let Some(v) = value {
                    q = q.param(key, v);
                }
            }
            if let Some(n) = limit {
                q = q.param("limit", n.clamp(1, 1000).to_string());
            }
            let stream = img.tasks(&q.into());
            let tasks: Vec<_> = match limit {
                Some(n) => stream.take(n).try_collect().await?,
                None => stream.try_collect().await?,
            };
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
            output::show(&out, records::task(&t))?;
        }
    }
    Ok(())
}

async fn cached(img: &ImageProxy, cmd: CacheCmd) -> Outcome {
    match cmd {
        CacheCmd::List(o) => {
            let cache = img.get_image_cache().await?;
            let na = || Value::String("N/A".into());
            let mut rows: Vec<Vec<Value>> = cache
                .cached_images
                .iter()
                .map(|c| {
                    vec![
                        Value::String(c.image_id.clone()),
                        Value::String("cached".into()),
                        records::utc_time(c.extra.get("last_accessed")),
                        records::utc_time(c.extra.get("last_modified")),
                        Value::from(c.size),
                        Value::from(c.hits),
                    ]
                })
                .collect();
            rows.extend(cache.queued_images.iter().map(|id| {
                vec![
                    Value::String(id.clone()),
                    Value::String("queued".into()),
                    na(),
                    na(),
                    na(),
                    na(),
                ]
            }));
            let headers =
                ["ID", "State", "Last Accessed (UTC)", "Last Modified (UTC)", "Size", "Hits"];
            output::list(&o.out, &headers, rows)?;
        }
        CacheCmd::Queue { images } => {
            each_image(
                &images,
                "queue",
                "Failed to queue {failed} of {total} images",
                |name| async move { img.queue_image(&img.find_image(&name).await?).await },
            )
            .await?;
        }
        CacheCmd::Delete { images } => {
            let summary = "Failed to delete {failed} of {total} images.";
            each_image(&images, "delete", summary, |name| async move {
                img.cache_delete_image(&img.find_image(&name).await?).await
            })
            .await?;
        }
        CacheCmd::Clear { cache, queue } => {
            let target = match (cache, queue) {
                (true, false) => CacheTarget::Cache,
                (false, true) => CacheTarget::Queue,
                _ => CacheTarget::Both,
            };
            img.clear_cache().target(target).await?;
        }
    }
    Ok(())
}

/// Runs `action` on every image named, going on past failures as openstackclient does: each
/// failure is reported when it happens ("Failed to VERB image with name or ID 'X': ..."),
/// and the command then fails with `summary` (`{failed}` and `{total}` filled in).
async fn each_image<F, Fut>(names: &[String], verb: &str, summary: &str, mut action: F) -> Outcome
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = openstack_client::Result<()>>,
{
    let mut failed = 0;
    for name in names {
        if let Err(e) = action(name.clone()).await {
            eprintln!("osrs: Failed to {verb} image with name or ID '{name}': {}", e.report());
            failed += 1;
        }
    }
    if failed == 0 {
        return Ok(());
    }
    let summary = summary
        .replace("{failed}", &failed.to_string())
        .replace("{total}", &names.len().to_string());
    Err(Failure::Partial { summary })
}
