//! `image list` prints what `openstack image list` prints, byte for byte: sorted on the
//! client by `name:asc` unless `--sort` says otherwise (an image without a name sorts as
//! "None", sizes as text), `--limit` and `--max-items`, in every output format.

mod common;

use common::{ok, openstack_text};
use openstack_client::image::DiskFormat;
use openstack_tests::{ADMIN, data, image, unique};

#[tokio::test]
async fn image_list_prints_and_orders_as_openstackclient() {
    let admin = image(ADMIN);
    let tag = unique("oscorder");
    let mut made = Vec::new();
    // Created in an order that is neither the name order nor its reverse.
    for (n, (name, size)) in [("b", 30), ("Z", 200), ("a", 4), ("b", 1000)].into_iter().enumerate()
    {
        let img = admin
            .create_image(format!("{name}-{tag}"))
            .data(data(size, 900 + n as u64))
            .disk_format(DiskFormat::Raw)
            .tags([tag.clone()])
            .allow_duplicates(true)
            .await
            .unwrap();
        made.push(img.image.id);
    }
    // And one without a name or data (the SDK insists on a name: a plain POST).
    let body = serde_json::json!({"disk_format": "raw", "container_format": "bare", "tags": [tag]});
    let req = http::Request::post("/v2/images")
        .header("content-type", "application/json")
        .body(openstack_client::auth::RequestBody::json(&body))
        .unwrap();
    let resp = admin.session().request("image", req).await.unwrap();
    let created: serde_json::Value =
        serde_json::from_slice(&resp.into_body().bytes().await.unwrap()).unwrap();
    made.push(created["id"].as_str().unwrap().to_string());
    let base = ["image", "list", "--tag", tag.as_str()];
    for extra in [
        &[][..],
        &["--long"][..],
        &["-f", "json"][..],
        &["-f", "yaml"][..],
        &["-f", "csv"][..],
        &["-f", "value"][..],
        &["--long", "-f", "value", "-c", "Name", "-c", "Size"][..],
        &["--sort", "size:desc,name", "--long", "-f", "value", "-c", "Name", "-c", "Size"][..],
        &["--sort", "size", "--long", "-f", "value", "-c", "Name", "-c", "Size"][..],
        &["--sort", "name:desc,size:asc", "--long", "-f", "csv"][..],
        &["--max-items", "3", "-f", "value"][..],
        &["--limit", "2", "-f", "value"][..],
        &["--marker", made[1].as_str(), "-f", "value"][..],
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        assert_eq!(ok(ADMIN, &args), openstack_text(ADMIN, &args), "{args:?}");
    }
    // The default order is by name, not the server's (newest first).
    let names: Vec<String> = ok(ADMIN, &[&base[..], &["-f", "value", "-c", "Name"]].concat())
        .lines()
        .map(str::to_string)
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_ne!(names.first().map(String::as_str), Some(format!("b-{tag}").as_str()));
    for id in &made {
        admin.delete_image(id.as_str()).await.unwrap();
    }
}
