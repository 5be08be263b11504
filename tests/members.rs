//! Image sharing across the two projects of the local cloud.

use futures_util::TryStreamExt;
use openstack_image::{DiskFormat, Image, ImageQuery, MemberStatus, Visibility};
use openstack_tests::{ADMIN, DEMO, data, image, session, unique};

async fn demo_project_id() -> String {
    let t = session(DEMO).token().await.unwrap().unwrap();
    match &t.scope {
        openstack_auth::Scope::Project { id, .. } => id.clone(),
        other => panic!("demo is project scoped, got {other:?}"),
    }
}

#[tokio::test]
async fn share_accept_download_reject_remove() {
    let admin = image(ADMIN);
    let demo = image(DEMO);
    let demo_id = demo_project_id().await;
    let bytes = data(64_000, 21);
    let img = admin
        .create_image(unique("shared"))
        .data(bytes.clone())
        .disk_format(DiskFormat::Raw)
        .visibility(Visibility::Private)
        .await
        .unwrap();
    // private → shared, then share with demo.
    let img = admin.update_image_with(&img, |i| i.visibility = Visibility::Shared).await.unwrap();
    let member = admin.add_member(&img, &demo_id).await.unwrap();
    assert_eq!(member.status, MemberStatus::Pending);
    assert_eq!(admin.get_member(&img, &demo_id).await.unwrap().member_id, demo_id);
    assert_eq!(admin.find_member(&img, &demo_id).await.unwrap().image_id, img.id);
    assert!(admin.find_member_opt(&img, "nobody").await.unwrap().is_none());
    // A missing member is the same kind whichever call looks: the server's 404.
    let by_get = admin.get_member(&img, "nobody").await.unwrap_err();
    let by_find = admin.find_member(&img, "nobody").await.unwrap_err();
    assert!(matches!(by_get, openstack_auth::Error::NotFound(_)), "{by_get:?}");
    assert!(matches!(by_find, openstack_auth::Error::NotFound(_)), "{by_find:?}");
    assert_eq!(admin.members(&img).try_collect::<Vec<_>>().await.unwrap().len(), 1);

    // Pending: not in demo's default list.
    let listed: Vec<Image> = demo.images(&ImageQuery::new()).try_collect().await.unwrap();
    assert!(!listed.iter().any(|i| i.id == img.id));
    let accepted = demo.update_member(&img, &demo_id, MemberStatus::Accepted).await.unwrap();
    assert_eq!(accepted.status, MemberStatus::Accepted);
    let listed: Vec<Image> = demo.images(&ImageQuery::new()).try_collect().await.unwrap();
    assert!(listed.iter().any(|i| i.id == img.id), "accepted image is listed");
    assert_eq!(demo.download_image(&img.id).to_bytes().await.unwrap().as_ref(), &bytes[..]);

    let rejected = demo.update_member(&img.id, &demo_id, MemberStatus::Rejected).await.unwrap();
    assert_eq!(rejected.status, MemberStatus::Rejected);
    let listed: Vec<Image> = demo.images(&ImageQuery::new()).try_collect().await.unwrap();
    assert!(!listed.iter().any(|i| i.id == img.id));

    admin.remove_member(&img, &demo_id).await.unwrap();
    assert!(admin.remove_member_opt(&img, &demo_id).await.unwrap().is_none());
    assert!(admin.remove_member(&img, &demo_id).await.unwrap_err().is_not_found());
    assert!(demo.get_image(&img.id).await.unwrap_err().is_not_found());
    admin.delete_image(&img).await.unwrap();
}

#[tokio::test]
async fn a_member_on_a_public_image_is_refused_by_the_server() {
    let admin = image(ADMIN);
    let img = admin
        .create_image(unique("public"))
        .disk_format(DiskFormat::Raw)
        .visibility(Visibility::Public)
        .await
        .unwrap();
    let err = admin.add_member(&img, &demo_project_id().await).await.unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    assert!(!err.api().unwrap().message.is_empty());
    admin.delete_image(&img).await.unwrap();
}
