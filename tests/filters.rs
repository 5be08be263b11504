//! `ImageQuery` filters against a set of images that tells them apart: different statuses,
//! visibilities, owners, sizes, container formats, protection, membership and update times.
//! Each filter must select exactly the images it names, and a sort must come back sorted.

use futures_util::TryStreamExt;
use openstack_image::{
    Compare, ContainerFormat, DiskFormat, Image, ImageProxy, ImageQuery, ImageStatus, MemberStatus,
    SortDir, Visibility,
};
use openstack_tests::{ADMIN, DEMO, data, image, unique};

async fn project_of(img: &ImageProxy) -> String {
    let token = img.session().token().await.unwrap().expect("a token");
    match &token.scope {
        openstack_auth::Scope::Project { id, .. } => id.clone(),
        other => panic!("not project-scoped: {other:?}"),
    }
}

/// The ids `query` lists, sorted.
async fn ids(img: &ImageProxy, query: ImageQuery) -> Vec<String> {
    let listed: Vec<Image> = img.images(&query).try_collect().await.unwrap();
    let mut ids: Vec<String> = listed.into_iter().map(|i| i.id).collect();
    ids.sort();
    ids
}

fn sorted(of: &[&Image]) -> Vec<String> {
    let mut ids: Vec<String> = of.iter().map(|i| i.id.clone()).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn each_filter_selects_exactly_its_images() {
    let (admin, demo) = (image(ADMIN), image(DEMO));
    let tag = unique("filters");
    let make = |img: &ImageProxy, name: &str| {
        img.create_image(unique(name)).disk_format(DiskFormat::Raw).tags([tag.clone()])
    };
    // small: active, 10 kB, private, bare. large: active, 50 kB, shared, ovf.
    // record: queued, community, protected. demo's: active, 20 kB, private. large is shared
    // with the demo project (membership pending).
    let small =
        make(&admin, "small").data(data(10_000, 1)).visibility(Visibility::Private).await.unwrap();
    let large = make(&admin, "large")
        .data(data(50_000, 2))
        .container_format(ContainerFormat::Ovf)
        .visibility(Visibility::Shared)
        .await
        .unwrap();
    let record =
        make(&admin, "record").visibility(Visibility::Community).protected(true).await.unwrap();
    let theirs = make(&demo, "theirs").data(data(20_000, 3)).visibility(Visibility::Private);
    let theirs = theirs.await.unwrap();
    let (admin_project, demo_project) = (project_of(&admin).await, project_of(&demo).await);
    admin.add_member(&large, &demo_project).await.unwrap();
    let q = || ImageQuery::new().tag(&tag);

    // By id, status, owner, size, container format, protection.
    assert_eq!(ids(&admin, q().id(&small.id)).await, sorted(&[&small]));
    assert_eq!(
        ids(&admin, q().owner(&admin_project).status(ImageStatus::Active)).await,
        sorted(&[&small, &large])
    );
    assert_eq!(ids(&admin, q().status(ImageStatus::Queued)).await, sorted(&[&record]));
    assert_eq!(ids(&admin, q().owner(&admin_project)).await, sorted(&[&small, &large, &record]));
    assert_eq!(ids(&admin, q().size_min(15_000).size_max(30_000)).await, sorted(&[&theirs]));
    assert_eq!(ids(&admin, q().size_min(40_000)).await, sorted(&[&large]));
    assert_eq!(ids(&admin, q().container_format(ContainerFormat::Ovf)).await, sorted(&[&large]));
    assert_eq!(ids(&admin, q().protected(true)).await, sorted(&[&record]));
    assert_eq!(
        ids(&admin, q().owner(&admin_project).protected(false)).await,
        sorted(&[&small, &large])
    );
    // Visibility, and the member's view of a shared image by membership status.
    assert_eq!(ids(&admin, q().visibility(Visibility::Community)).await, sorted(&[&record]));
    assert_eq!(ids(&admin, q().visibility(Visibility::Private)).await, sorted(&[&small, &theirs]));
    assert_eq!(ids(&demo, q().visibility(Visibility::Private)).await, sorted(&[&theirs]));
    assert_eq!(ids(&admin, q().owner(&demo_project)).await, sorted(&[&theirs]));
    let shared = |status| q().visibility(Visibility::Shared).member_status(status);
    assert_eq!(ids(&demo, shared(MemberStatus::Pending)).await, sorted(&[&large]));
    assert_eq!(ids(&demo, shared(MemberStatus::Accepted)).await, Vec::<String>::new());
    demo.update_member(&large, &demo_project, MemberStatus::Accepted).await.unwrap();
    assert_eq!(ids(&demo, shared(MemberStatus::Accepted)).await, sorted(&[&large]));
    assert_eq!(ids(&demo, shared(MemberStatus::Pending)).await, Vec::<String>::new());
    // And back to pending.
    let back = demo.update_member(&large, &demo_project, MemberStatus::Pending).await.unwrap();
    assert_eq!(back.status, MemberStatus::Pending);
    assert_eq!(ids(&demo, shared(MemberStatus::Pending)).await, sorted(&[&large]));
    assert_eq!(ids(&admin, q().all_visibilities()).await.len(), 4);

    // updated_at: the image changed last is at or after its own update time; before it,
    // it is not.
    let changed = admin.update_image_with(&large.id, |i| i.min_ram = 64).await.unwrap();
    let at = changed.updated_at.clone();
    assert!(ids(&admin, q().updated_at(Compare::Gte, &at)).await.contains(&large.id));
    assert!(!ids(&admin, q().updated_at(Compare::Lt, &at)).await.contains(&large.id));

    // Sorted by created_at, oldest first, as Glance sends it (not re-sorted here); a
    // marker starts after that image.
    let listed: Vec<Image> = admin
        .images(&q().owner(&admin_project).sort("created_at", SortDir::Asc))
        .try_collect()
        .await
        .unwrap();
    let times: Vec<&str> = listed.iter().map(|i| i.created_at.as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let after_first: Vec<Image> = admin
        .images(&q().owner(&admin_project).sort("created_at", SortDir::Asc).marker(&listed[0].id))
        .try_collect()
        .await
        .unwrap();
    let rest: Vec<&String> = after_first.iter().map(|i| &i.id).collect();
    let want: Vec<&String> = listed[1..].iter().map(|i| &i.id).collect();
    assert_eq!(rest, want);

    admin.update_image_with(&record.id, |i| i.protected = false).await.unwrap();
    for (img, i) in [(&admin, &small), (&admin, &large), (&admin, &record), (&demo, &theirs)] {
        img.delete_image(i).await.unwrap();
    }
}
