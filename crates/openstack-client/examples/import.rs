//! Interoperable import: stage + glance-direct, web-download, copy-image to all stores.
//!
//! ```sh
//! OS_CLOUD=mycloud cargo run --example import -- http://server/path/disk.raw
//! ```

use futures_util::TryStreamExt;
use openstack_client::image::Store;
use openstack_client::prelude::*;

#[tokio::main]
async fn main() -> openstack_client::Result<()> {
    let conn = Connection::from_env()?;
    let image = conn.image();
    let info = image.get_import_info().await?;
    println!("Import methods: {}", info.import_methods.join(", "));
    let stores: Vec<Store> = image.stores(&StoreQuery::new()).try_collect().await?;
    for s in stores {
        println!(
            "store {:<6} {}{}",
            s.id,
            s.description,
            if s.default { " (default)" } else { "" }
        );
    }

    // 1. stage + glance-direct.
    let img = image.create_image("import-example").disk_format(DiskFormat::Raw).await?;
    image.stage_image(&img, vec![42u8; 1 << 20]).await?;
    let outcome = image
        .import_image(&img, ImportMethod::GlanceDirect)
        .wait(WaitOptions::default().timeout(std::time::Duration::from_secs(300)))
        .await?;
    println!("glance-direct: {} in stores {:?}", outcome.image.status, outcome.succeeded);

    // 2. copy-image to every store, reporting each store's outcome.
    let outcome = image
        .import_image(&img, ImportMethod::CopyImage)
        .all_stores(true)
        .all_stores_must_succeed(false)
        .wait(WaitOptions::default().timeout(std::time::Duration::from_secs(300)))
        .await?;
    println!("copy-image: succeeded {:?}, failed {:?}", outcome.succeeded, outcome.failed);

    // 3. web-download, when a URL is given.
    if let Some(uri) = std::env::args().nth(1) {
        let web = image.create_image("web-download-example").disk_format(DiskFormat::Raw).await?;
        match image
            .import_image(&web, ImportMethod::WebDownload { uri })
            .wait(WaitOptions::default().timeout(std::time::Duration::from_secs(300)))
            .await
        {
            Ok(o) => println!("web-download: {}", o.image.status),
            Err(e) => println!("web-download refused: {e}"),
        }
        image.delete_image_opt(&web).await?;
    }
    image.delete_image(&img).await?;
    Ok(())
}
