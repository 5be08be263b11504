//! The README's example, verbatim below this header (`tests/readme.rs` keeps them identical).

use futures_util::TryStreamExt;
use openstack_client::prelude::*;

#[tokio::main]
async fn main() -> openstack_client::Result<()> {
    let image = Connection::from_env()?.image(); // clouds.yaml via OS_CLOUD, or OS_* variables
    let new = image.create_image("hello").data(b"hello".to_vec()).disk_format(DiskFormat::Raw);
    let img = new.wait(WaitOptions::default()).await?; // hashed in flight, checked by Glance
    let all: Vec<Image> = image.images(&ImageQuery::new()).try_collect().await?;
    let bytes = image.download_image(&img).to_bytes().await?; // verified against os_hash_value
    println!("{} images; downloaded {} verified bytes of {}", all.len(), bytes.len(), img.id);
    image.delete_image(&img).await?;
    Ok(())
}
