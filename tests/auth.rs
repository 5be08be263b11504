//! openstack-auth against the real Keystone + Glance.

use http::Request;
use openstack_auth::{
    ApiVersion, AuthOptions, AuthType, CloudConfig, Error, Interface, RequestBody, Scope, Session,
    read_json,
};
use openstack_tests::{ADMIN, DEMO, cloud, glance_url, session, unique};
use serde_json::{Value, json};

fn get(path: &str) -> Request<RequestBody> {
    Request::get(path).body(RequestBody::empty()).unwrap()
}

async fn admin_token_ids() -> (String, String) {
    let s = session(ADMIN);
    let t = s.token().await.unwrap().unwrap();
    let Scope::Project { id, .. } = &t.scope else {
        panic!("admin cloud is project scoped, got {:?}", t.scope)
    };
    (t.user_id.clone(), id.clone())
}

#[tokio::test]
async fn password_token_catalog_and_image_list() {
    let s = session(ADMIN);
    let token = s.token().await.unwrap().expect("a token");
    assert!(matches!(&token.scope, Scope::Project { name, .. } if name == "admin"));
    assert!(token.roles.iter().any(|r| r == "admin"), "roles: {:?}", token.roles);
    let ep = s.endpoint("image").await.unwrap();
    assert_eq!(ep.root, glance_url());
    assert_eq!(ep.version, Some(ApiVersion::new(2, 18)));
    let resp = s.request("image", get("/v2/images?limit=5")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let page: Value = read_json(resp).await.unwrap();
    assert!(page["images"].is_array(), "{page}");
    assert_eq!(page["schema"], "/v2/schemas/images");
    // Requests reuse the cached token.
    let _ = s.request("image", get("/v2/images?limit=1")).await.unwrap();
    assert_eq!(s.auth_count(), 1);
}

#[tokio::test]
async fn demo_user_is_member_of_demo() {
    let s = session(DEMO);
    let token = s.token().await.unwrap().unwrap();
    assert!(matches!(&token.scope, Scope::Project { name, .. } if name == "demo"));
    assert!(token.roles.iter().any(|r| r == "member"));
    assert!(!token.roles.iter().any(|r| r == "admin"));
}

#[tokio::test]
async fn password_by_ids() {
    let (user_id, project_id) = admin_token_ids().await;
    let base = cloud(ADMIN);
    let cfg = CloudConfig::new(
        "by-id",
        AuthType::Password,
        AuthOptions {
            auth_url: base.auth.auth_url.clone(),
            user_id: Some(user_id.clone()),
            password: base.auth.password.clone(),
            project_id: Some(project_id.clone()),
            ..Default::default()
        },
    );
    let s = Session::new(cfg).unwrap();
    let t = s.token().await.unwrap().unwrap();
    assert_eq!(t.user_id, user_id);
    assert!(matches!(&t.scope, Scope::Project { id, .. } if *id == project_id));
}

#[tokio::test]
async fn wrong_password_is_unauthorized_with_keystones_message() {
    let mut cfg = cloud(DEMO);
    cfg.auth.password = Some("not-the-password".into());
    let err = Session::new(cfg).unwrap().token().await.unwrap_err();
    let Error::Unauthorized(api) = &err else { panic!("expected Unauthorized, got {err:?}") };
    assert_eq!(api.status, 401);
    assert!(api.message.contains("requires authentication"), "{}", api.message);
    assert!(api.url.ends_with("/v3/auth/tokens"));
    assert!(!err.to_string().contains("not-the-password"));
}

#[tokio::test]
async fn token_auth_and_scopes() {
    let admin = session(ADMIN);
    let existing = admin.token().await.unwrap().unwrap();
    let base = cloud(ADMIN);
    // Token auth re-scoped to the same project.
    let (_, project_id) = admin_token_ids().await;
    let cfg = CloudConfig::new(
        "token",
        AuthType::Token,
        AuthOptions {
            auth_url: base.auth.auth_url.clone(),
            token: Some(existing.value.clone()),
            project_id: Some(project_id),
            ..Default::default()
        },
    );
    let mut cfg = cfg;
    cfg.region_name = Some("RegionOne".into()); // the catalog has an image endpoint per region
    let s = Session::new(cfg).unwrap();
    let t = s.token().await.unwrap().unwrap();
    assert_eq!(t.user_id, existing.user_id);
    let resp = s.request("image", get("/v2/images?limit=1")).await.unwrap();
    assert_eq!(resp.status(), 200);

    // System scope: bootstrap gives admin the admin role on the system.
    let mut sys = base.clone();
    sys.auth.project_name = None;
    sys.auth.project_domain_name = None;
    sys.auth.system_scope = Some("all".into());
    let t = Session::new(sys).unwrap().token().await.unwrap().unwrap();
    assert_eq!(t.scope, Scope::System);

    // Domain scope: grant admin a role on the Default domain first (idempotent PUT).
    let grant = format!(
        "/v3/domains/default/users/{}/roles/{}",
        existing.user_id,
        role_id(&admin, "admin").await
    );
    admin
        .request("identity", Request::put(grant).body(RequestBody::empty()).unwrap())
        .await
        .unwrap();
    let mut dom = base.clone();
    dom.auth.project_name = None;
    dom.auth.project_domain_name = None;
    dom.auth.domain_id = Some("default".into());
    let t = Session::new(dom).unwrap().token().await.unwrap().unwrap();
    assert!(matches!(&t.scope, Scope::Domain { id, .. } if id == "default"), "{:?}", t.scope);

    // Unscoped: a token with no catalog, and a clear error when a service is needed.
    let mut unscoped = base;
    unscoped.auth.project_name = None;
    unscoped.auth.project_domain_name = None;
    let s = Session::new(unscoped).unwrap();
    assert_eq!(s.token().await.unwrap().unwrap().scope, Scope::Unscoped);
    let err = s.endpoint("image").await.unwrap_err();
    assert!(
        matches!(&err, Error::EndpointNotFound { available, .. } if available.contains("unscoped")),
        "{err}"
    );
}

async fn role_id(s: &Session, name: &str) -> String {
    let resp = s.request("identity", get(&format!("/v3/roles?name={name}"))).await.unwrap();
    let v: Value = read_json(resp).await.unwrap();
    v["roles"][0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn application_credential_by_id_and_by_name() {
    let demo = session(DEMO);
    let user_id = demo.token().await.unwrap().unwrap().user_id.clone();
    let name = unique("appcred");
    let resp = demo
        .request(
            "identity",
            Request::post(format!("/v3/users/{user_id}/application_credentials"))
                .header("content-type", "application/json")
                .body(RequestBody::json(&json!({"application_credential": {"name": name}})))
                .unwrap(),
        )
        .await
        .unwrap();
    let created: Value = read_json(resp).await.unwrap();
    let id = created["application_credential"]["id"].as_str().unwrap().to_string();
    let secret = created["application_credential"]["secret"].as_str().unwrap().to_string();
    let auth_url = cloud(DEMO).auth.auth_url;

    let by_id = CloudConfig::new(
        "ac-id",
        AuthType::ApplicationCredential,
        AuthOptions {
            auth_url: auth_url.clone(),
            application_credential_id: Some(id.clone()),
            application_credential_secret: Some(secret.clone().into()),
            ..Default::default()
        },
    );
    let mut by_id = by_id;
    by_id.region_name = Some("RegionOne".into());
    let s = Session::new(by_id).unwrap();
    let resp = s.request("image", get("/v2/images?limit=1")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        matches!(&s.token().await.unwrap().unwrap().scope, Scope::Project { name, .. } if name == "demo")
    );

    let by_name = CloudConfig::new(
        "ac-name",
        AuthType::ApplicationCredential,
        AuthOptions {
            auth_url,
            application_credential_name: Some(name),
            username: Some("demo".into()),
            user_domain_name: Some("Default".into()),
            application_credential_secret: Some(secret.into()),
            ..Default::default()
        },
    );
    let t = Session::new(by_name).unwrap().token().await.unwrap().unwrap();
    assert_eq!(t.user_id, user_id);

    let resp = demo
        .request(
            "identity",
            Request::delete(format!("/v3/users/{user_id}/application_credentials/{id}"))
                .body(RequestBody::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
}

#[tokio::test]
async fn revoked_token_is_replaced_transparently() {
    let s = session(DEMO);
    let first = s.token().await.unwrap().unwrap();
    // Revoke it with another session.
    let admin = session(ADMIN);
    let resp = admin
        .request(
            "identity",
            Request::delete("/v3/auth/tokens")
                .header("x-subject-token", first.value.expose())
                .body(RequestBody::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = s.request("image", get("/v2/images?limit=1")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(s.auth_count(), 2, "one re-authentication after the 401");
    let second = s.token().await.unwrap().unwrap();
    assert_ne!(second.value, first.value);
}

#[tokio::test]
async fn revoked_token_with_a_one_shot_body_is_not_replayed() {
    let s = session(DEMO);
    let first = s.token().await.unwrap().unwrap();
    let admin = session(ADMIN);
    admin
        .request(
            "identity",
            Request::delete("/v3/auth/tokens")
                .header("x-subject-token", first.value.expose())
                .body(RequestBody::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let body = http_body_util_full(b"{\"name\": \"never\"}");
    let err = s
        .request(
            "image",
            Request::post("/v2/images")
                .header("content-type", "application/json")
                .body(RequestBody::stream(body))
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotReplayable { .. }), "{err:?}");
    assert!(err.to_string().contains("cannot be replayed"), "{err}");
}

fn http_body_util_full(
    data: &'static [u8],
) -> impl http_body::Body<Data = bytes::Bytes, Error = std::convert::Infallible> + Send {
    OneFrame(Some(bytes::Bytes::from_static(data)))
}

struct OneFrame(Option<bytes::Bytes>);

impl http_body::Body for OneFrame {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.take().map(|b| Ok(http_body::Frame::data(b))))
    }
}

#[tokio::test]
async fn regions_interfaces_and_endpoint_override() {
    // Each region/interface has its own URL in the local catalog (all reach the one Glance),
    // so picking the wrong endpoint shows.
    let local =
        std::env::var("OSRS_GLANCE_ALT_URL").expect("OSRS_GLANCE_ALT_URL (cargo xtask cloud env)");
    for (region, interface, url) in [
        ("RegionOne", Interface::Public, glance_url()),
        ("RegionOne", Interface::Internal, format!("{}/v2", glance_url())),
        ("RegionOne", Interface::Admin, format!("{}/v2/", glance_url())),
        ("RegionTwo", Interface::Public, local.clone()),
        ("RegionTwo", Interface::Internal, format!("{local}/v2")),
    ] {
        let mut cfg = cloud(ADMIN);
        cfg.region_name = Some(region.into());
        cfg.interface = interface;
        let session = Session::new(cfg).unwrap();
        let ep = session.endpoint("image").await.unwrap();
        assert_eq!(ep.catalog_url, url, "{region} {interface:?}");
        // The version suffix is stripped and the endpoint works.
        assert_eq!(ep.root, url.trim_end_matches('/').trim_end_matches("/v2"));
        let resp = session.request("image", get("/v2/images?limit=1")).await.unwrap();
        assert_eq!(resp.status(), 200, "{region} {interface:?}");
    }
    let mut cfg = cloud(ADMIN);
    cfg.region_name = Some("RegionTwo".into());
    cfg.interface = Interface::Admin;
    let err = Session::new(cfg).unwrap().endpoint("image").await.unwrap_err();
    let Error::EndpointNotFound { available, .. } = &err else { panic!("{err:?}") };
    assert!(available.contains("public@RegionTwo"), "{available}");

    // No region: the two regions' public endpoints differ, so the choice is the caller's.
    let mut cfg = cloud(ADMIN);
    cfg.region_name = None;
    let err = Session::new(cfg).unwrap().endpoint("image").await.unwrap_err();
    let Error::Ambiguous { matches, .. } = &err else { panic!("{err:?}") };
    assert!(matches.iter().any(|m| m.starts_with(&format!("{} ", glance_url()))), "{matches:?}");
    assert!(matches.iter().any(|m| m.starts_with(&format!("{local} "))), "{matches:?}");

    // An override (with a version suffix) wins over the catalog; discovery still runs.
    let mut cfg = cloud(ADMIN);
    cfg.endpoint_overrides.insert("image".into(), format!("{}/v2/", glance_url()));
    let s = Session::new(cfg).unwrap();
    let ep = s.endpoint("image").await.unwrap();
    assert_eq!(ep.root, glance_url());
    assert_eq!(ep.version, Some(ApiVersion::new(2, 18)));
    let resp = s.request("image", get("/v2/images?limit=1")).await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn identity_endpoint_discovers_v3() {
    let s = session(ADMIN);
    let ep = s.endpoint("identity").await.unwrap();
    assert_eq!(ep.version.map(|v| v.major), Some(3));
    assert!(ep.require("anything", ApiVersion::new(3, 0)).is_ok());
    let err = ep.require("a future call", ApiVersion::new(3, 999)).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
}

#[tokio::test]
async fn api_errors_carry_status_message_and_request_id() {
    let s = session(ADMIN);
    let err = s
        .request("image", get("/v2/images/00000000-0000-0000-0000-000000000000"))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let api = err.api().unwrap();
    assert!(api.request_id.as_deref().is_some_and(|r| r.starts_with("req-")), "{api:?}");
    assert!(api.message.contains("00000000-0000-0000-0000-000000000000"), "{}", api.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_one_authentication() {
    let s = session(DEMO);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.request("image", get("/v2/images?limit=1")).await.map(|r| r.status())
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 200);
    }
    assert_eq!(s.auth_count(), 1, "one token for sixteen concurrent first requests");
}

#[tokio::test]
async fn auth_type_none_sends_no_token_to_the_endpoint_override() {
    let mut cfg = CloudConfig::new("noauth", AuthType::None, AuthOptions::default());
    cfg.endpoint_overrides.insert("image".into(), glance_url());
    let s = Session::new(cfg).unwrap();
    assert!(s.token().await.unwrap().is_none());
    // Discovery is unauthenticated and works; an API call without a token is refused by
    // this Keystone-protected Glance, which proves none was sent.
    assert_eq!(s.endpoint("image").await.unwrap().version, Some(ApiVersion::new(2, 18)));
    let err = s.request("image", get("/v2/images")).await.unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
    assert_eq!(s.auth_count(), 0);
}
