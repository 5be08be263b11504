//! `image add project`, `image remove project`, `image member get|list`: sharing an image
//! with projects, named or by ID (names resolved through Keystone).

use clap::Subcommand;
use futures_util::TryStreamExt;
use serde_json::Value;

use openstack_client::image::ImageProxy;

use crate::output::{self, OutputArgs};
use crate::projects::project_id;
use crate::{Outcome, records};

/// The member commands, as `image` subcommands.
#[derive(Debug)]
pub(crate) enum MemberCmd {
    /// `image add project`.
    Add(AddCmd),
    /// `image remove project`.
    Remove(RemoveCmd),
    /// `image member get|list`.
    Member(MemberSub),
}

/// `image add project`.
#[derive(Debug, Subcommand)]
pub(crate) enum AddCmd {
    /// Associate a project with an image.
    Project {
        /// Image to share (name or ID).
        image: String,
        /// Project to associate with the image (name or ID).
        project: String,
        /// Domain the project belongs to (name or ID), when project names collide.
        #[arg(long, value_name = "PROJECT_DOMAIN")]
        project_domain: Option<String>,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
}

/// `image remove project`.
#[derive(Debug, Subcommand)]
pub(crate) enum RemoveCmd {
    /// Disassociate a project from an image.
    Project {
        /// Image to unshare (name or ID).
        image: String,
        /// Project to disassociate (name or ID).
        project: String,
        /// Domain the project belongs to (name or ID), when project names collide.
        #[arg(long, value_name = "PROJECT_DOMAIN")]
        project_domain: Option<String>,
    },
}

/// `image member ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum MemberSub {
    /// Show a project associated with an image.
    Get {
        /// Image (name or ID).
        image: String,
        /// Project (name or ID).
        project: String,
        /// Domain the project belongs to (name or ID), when project names collide.
        #[arg(long, value_name = "PROJECT_DOMAIN")]
        project_domain: Option<String>,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
    /// List projects associated with an image.
    List {
        /// Image (name or ID).
        image: String,
        /// Output.
        #[command(flatten)]
        out: OutputArgs,
    },
}

pub(crate) async fn exec(img: &ImageProxy, cmd: MemberCmd) -> Outcome {
    match cmd {
        MemberCmd::Add(AddCmd::Project { image, project, project_domain, out }) => {
            let project = project_id(img.session(), &project, project_domain.as_deref()).await?;
            let found = img.find_image(&image).await?;
            let member = img.add_member(&found, project.as_str()).await?;
            output::show(&out, records::member(&member))?;
            Ok(())
        }
        MemberCmd::Remove(RemoveCmd::Project { image, project, project_domain }) => {
            let project = project_id(img.session(), &project, project_domain.as_deref()).await?;
            let found = img.find_image(&image).await?;
            img.remove_member(&found, project.as_str()).await?;
            Ok(())
        }
        MemberCmd::Member(MemberSub::Get { image, project, project_domain, out }) => {
            let project = project_id(img.session(), &project, project_domain.as_deref()).await?;
            let found = img.find_image(&image).await?;
            let member = img.get_member(&found, project.as_str()).await?;
            output::show(&out, records::member(&member))?;
            Ok(())
        }
        MemberCmd::Member(MemberSub::List { image, out }) => {
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
    }
}
