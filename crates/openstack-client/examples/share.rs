//! Sharing an image between two projects: the owner shares, the member accepts.
//!
//! ```sh
//! cargo run --example share -- <owner-cloud> <member-cloud>   # e.g. local local-demo
//! ```

use openstack_client::auth::Scope;
use openstack_client::prelude::*;

#[tokio::main]
async fn main() -> openstack_client::Result<()> {
    let mut args = std::env::args().skip(1);
    let owner = Connection::from_cloud(&args.next().unwrap_or_else(|| "local".into()))?;
    let member = Connection::from_cloud(&args.next().unwrap_or_else(|| "local-demo".into()))?;
    let token = member.session().token().await?.expect("a token");
    let Scope::Project { id: project, name } = &token.scope else {
        return Err(Error::InvalidArgument("the member cloud must be project scoped".into()));
    };
    let img = owner
        .image()
        .create_image("shared-example")
        .data(b"shared bytes".to_vec())
        .disk_format(DiskFormat::Raw)
        .visibility(Visibility::Shared)
        .await?;
    owner.image().add_member(&img, project.as_str()).await?;
    println!("shared {} with project {name}", img.id);
    member.image().update_member(&img, project.as_str(), MemberStatus::Accepted).await?;
    let data = member.image().download_image(&img.id).to_bytes().await?;
    println!("the member downloaded {} verified bytes", data.len());
    owner.image().remove_member(&img, project.as_str()).await?;
    owner.image().delete_image(&img).await?;
    Ok(())
}
