use super::*;

#[test]
fn short_lived_tokens_are_refreshed_a_quarter_before_expiry() {
    let body = br#"{"token": {"issued_at": "2026-11-29T10:00:00.000000Z", "expires_at": "2026-11-29T10:01:00.000000Z", "user": {"id": "u"}, "roles": []}}"#;
    let t = Token::parse("u", "tok", body).unwrap();
    assert_eq!(t.refresh_margin(Duration::from_secs(120)), Duration::from_secs(15));
    let body = br#"{"token": {"issued_at": "2026-11-29T10:00:00Z", "expires_at": "2026-11-29T14:00:00Z", "user": {"id": "u"}, "roles": []}}"#;
    let t = Token::parse("u", "tok", body).unwrap();
    assert_eq!(t.refresh_margin(Duration::from_secs(120)), Duration::from_secs(120));
}

#[test]
fn a_token_survives_serde_with_its_secret_scope_and_catalog() {
    let body = br#"{"token": {"issued_at": "2026-11-29T10:00:00Z", "expires_at": "2026-11-29T11:00:00.5Z",
        "user": {"id": "u"}, "project": {"id": "p", "name": "demo"}, "roles": [{"id": "r", "name": "member"}],
        "catalog": [{"type": "image", "name": "glance", "endpoints": [{"interface": "public", "region_id": "RegionOne", "url": "http://g:9292"}]}]}}"#;
    let t = Token::parse("u", "gAAAA-secret", body).unwrap();
    let text = serde_json::to_string(&t).unwrap();
    assert!(text.contains("gAAAA-secret"), "the token itself is kept: {text}");
    let back: Token = serde_json::from_str(&text).unwrap();
    assert_eq!(back.value.expose(), "gAAAA-secret");
    assert_eq!((back.issued_at, back.expires_at), (t.issued_at, t.expires_at));
    assert_eq!(back.scope, Scope::Project { id: "p".into(), name: "demo".into() });
    assert_eq!(back.roles, ["member"]);
    assert_eq!(back.catalog, t.catalog);
    assert_eq!(back.catalog.endpoint("image", Interface::Public).unwrap(), "http://g:9292");
    assert_eq!(format!("{back:?}").matches("gAAAA").count(), 0, "Debug still hides it");
}

use crate::config::CloudConfig;

fn cfg(auth_type: AuthType, auth: AuthOptions) -> CloudConfig {
    CloudConfig::new("t", auth_type, auth)
}

#[test]
fn strips_version_suffixes_only() {
    assert_eq!(strip_version_suffix("http://k:5000/v3/"), "http://k:5000");
    assert_eq!(strip_version_suffix("http://k/identity/v3"), "http://k/identity");
    assert_eq!(strip_version_suffix("http://g:9292/v2.1"), "http://g:9292");
    assert_eq!(strip_version_suffix("http://g:9292"), "http://g:9292");
    assert_eq!(strip_version_suffix("http://g/image"), "http://g/image");
    assert_eq!(strip_version_suffix("http://g/v"), "http://g/v");
}

#[test]
fn password_by_name_with_project_scope() {
    let body = token_request_body(&cfg(
        AuthType::Password,
        AuthOptions {
            username: Some("u".into()),
            password: Some("p".into()),
            user_domain_name: Some("Default".into()),
            project_name: Some("demo".into()),
            project_domain_id: Some("default".into()),
            ..Default::default()
        },
    ))
    .unwrap();
    assert_eq!(
        body,
        json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {"name": "u", "domain": {"name": "Default"}, "password": "p"}}},
            "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}
        }})
    );
}

#[test]
fn password_by_id_with_domain_and_system_scope() {
    let mut a = AuthOptions {
        user_id: Some("uid".into()),
        password: Some("p".into()),
        domain_id: Some("default".into()),
        ..Default::default()
    };
    let body = token_request_body(&cfg(AuthType::Password, a.clone())).unwrap();
    assert_eq!(body["auth"]["identity"]["password"]["user"], json!({"id": "uid", "password": "p"}));
    assert_eq!(body["auth"]["scope"], json!({"domain": {"id": "default"}}));
    a.system_scope = Some("all".into());
    let body = token_request_body(&cfg(AuthType::Password, a)).unwrap();
    assert_eq!(body["auth"]["scope"], json!({"system": {"all": true}}));
}

#[test]
fn token_and_application_credential_bodies() {
    let body = token_request_body(&cfg(
        AuthType::Token,
        AuthOptions {
            token: Some("tok".into()),
            project_id: Some("pid".into()),
            ..Default::default()
        },
    ))
    .unwrap();
    assert_eq!(body["auth"]["identity"], json!({"methods": ["token"], "token": {"id": "tok"}}));
    assert_eq!(body["auth"]["scope"], json!({"project": {"id": "pid"}}));
    let body = token_request_body(&cfg(
        AuthType::ApplicationCredential,
        AuthOptions {
            application_credential_name: Some("ac".into()),
            username: Some("u".into()),
            application_credential_secret: Some("s".into()),
            project_id: Some("ignored".into()),
            ..Default::default()
        },
    ))
    .unwrap();
    assert_eq!(
        body,
        json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {
            "name": "ac", "user": {"name": "u", "domain": {"id": "default"}}, "secret": "s"}}}})
    );
}

#[test]
fn parses_keystone_timestamps() {
    let t = parse_rfc3339("2026-11-27T08:17:31.250000Z").unwrap();
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap();
    assert_eq!(secs.as_secs(), 1_795_767_451);
    assert_eq!(secs.subsec_millis(), 250);
    assert_eq!(parse_rfc3339("1970-01-01T00:00:00+01:00"), None);
    assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(SystemTime::UNIX_EPOCH));
    assert_eq!(parse_rfc3339("garbage"), None);
}

fn catalog() -> Catalog {
    let ep = |i: &str, r: &str, u: &str| CatalogEndpoint {
        interface: i.into(),
        region_id: Some(r.into()),
        url: u.into(),
    };
    Catalog {
        services: vec![
            CatalogService {
                service_type: "image".into(),
                name: Some("glance".into()),
                endpoints: vec![
                    ep("public", "RegionOne", "http://g1"),
                    ep("public", "RegionTwo", "http://g2"),
                    ep("internal", "RegionOne", "http://gi"),
                ],
            },
            CatalogService {
                service_type: "volumev3".into(),
                name: None,
                endpoints: vec![ep("public", "RegionOne", "http://c")],
            },
        ],
    }
}

#[test]
fn catalog_picks_by_interface_region_and_alias() {
    let c = catalog();
    assert_eq!(c.endpoint_in("image", Interface::Public, "RegionTwo").unwrap(), "http://g2");
    assert_eq!(c.endpoint("image", Interface::Internal).unwrap(), "http://gi");
    assert_eq!(c.endpoint("block-storage", Interface::Public).unwrap(), "http://c");
}

#[test]
fn catalog_errors_list_what_exists() {
    let c = catalog();
    let err = c.endpoint("image", Interface::Public).unwrap_err();
    assert!(matches!(&err, Error::Ambiguous { matches, .. } if matches.len() == 2), "{err}");
    let err = c.endpoint_in("image", Interface::Admin, "RegionOne").unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::EndpointNotFound { .. }));
    assert!(text.contains("internal@RegionOne http://gi"), "{text}");
}
