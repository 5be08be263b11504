//! `image task list|show`.

use clap::Subcommand;
use futures_util::{StreamExt, TryStreamExt};
use serde_json::Value;

use openstack_client::image::{ImageProxy, SortDir, TaskQuery, TaskStatus};

use crate::output::{self, OutputArgs};
use crate::{Outcome, records};

/// `image task ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum TaskCmd {
    /// List tasks.
    List {
        /// Sort by this key (Glance sorts tasks by one; default created_at).
        #[arg(long, value_name = "KEY", value_parser = [
            "created_at", "expires_at", "id", "status", "type", "updated_at"])]
        sort_key: Option<String>,
        /// Sort direction (default desc).
        #[arg(long, value_name = "DIR", value_parser = ["asc", "desc"])]
        sort_dir: Option<String>,
        /// Maximum number of tasks to display.
        #[arg(long, value_name = "NUM")]
        limit: Option<usize>,
        /// The last task (ID) of the previous page.
        #[arg(long, value_name = "TASK")]
        marker: Option<String>,
        /// Filter by type.
        #[arg(long = "type", value_parser = ["import", "api_image_import", "location_import"])]
        task_type: Option<String>,
        /// Filter by status.
        #[arg(long, value_parser = ["pending", "processing", "success", "failure"])]
        status: Option<String>,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Display task details.
    Show {
        /// Task ID.
        task: String,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
}

pub(crate) async fn exec(img: &ImageProxy, cmd: TaskCmd) -> Outcome {
    match cmd {
        TaskCmd::List { sort_key, sort_dir, limit, marker, task_type, status, out } => {
            let mut q = TaskQuery::new();
            if let Some(t) = task_type {
                q = q.task_type(t);
            }
            if let Some(s) = status {
                q = q.status(TaskStatus::from(s.as_str()));
            }
            if let Some(m) = marker {
                q = q.marker(m);
            }
            if let Some(n) = limit {
                q = q.page_size(n.clamp(1, 1000) as u32);
            }
            if sort_key.is_some() || sort_dir.is_some() {
                let dir = match sort_dir.as_deref() {
                    Some("asc") => SortDir::Asc,
                    _ => SortDir::Desc,
                };
                q = q.sort(sort_key.unwrap_or_else(|| "created_at".into()), dir);
            }
            let stream = img.tasks(&q);
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
