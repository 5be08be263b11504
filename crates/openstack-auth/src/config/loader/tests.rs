use super::*;
use crate::config::StaticEnvironment;

const CLOUDS: &str = "clouds:\n  a:\n    auth:\n      auth_url: http://k:5000/v3\n      username: alice\n      project_name: p\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionOne\n    interface: internal\n    image_endpoint_override: http://g:9292\n    image_api_version: '2'\n    image_status_code_retries: 5\n    api_timeout: 30\n    disable_vendor_agent:\n      vm_mode: hvm\n  b:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: http://k:5000/v3\n      application_credential_id: ac1\n      application_credential_secret: s3\n";
const SECURE: &str = "clouds:\n  a:\n    auth:\n      password: from-secure\n";

fn env() -> StaticEnvironment {
    StaticEnvironment::default()
        .home("/home/u")
        .cwd("/work")
        .file("/home/u/.config/openstack/clouds.yaml", CLOUDS)
        .file("/home/u/.config/openstack/secure.yaml", SECURE)
}

#[test]
fn named_cloud_from_search_path_with_secure_merge() {
    let c = ConfigLoader::new(env()).load_cloud("a").unwrap();
    assert_eq!(c.name, "a");
    assert_eq!(c.source, "/home/u/.config/openstack/clouds.yaml");
    assert_eq!(c.auth_type, AuthType::Password);
    assert_eq!(c.auth.password.as_ref().map(Secret::expose), Some("from-secure"));
    assert_eq!(c.auth.username.as_deref(), Some("alice"));
    assert_eq!(c.interface, Interface::Internal);
    assert_eq!(c.region_name.as_deref(), Some("RegionOne"));
    assert_eq!(c.endpoint_overrides.get("image").map(String::as_str), Some("http://g:9292"));
    assert_eq!(c.api_versions.get("image").map(String::as_str), Some("2"));
    assert_eq!(c.status_code_retries.get("image"), Some(&5));
    assert_eq!(c.api_timeout, Some(Duration::from_secs(30)));
    assert_eq!(c.disable_vendor_agent.get("vm_mode").map(String::as_str), Some("hvm"));
    assert!(c.verify);
}

#[test]
fn current_dir_wins_over_home_and_os_cloud_selects() {
    let e = env()
        .file("/work/clouds.yml", "clouds:\n  here:\n    auth_type: token\n    auth:\n      auth_url: http://x/v3\n      token: tok\n")
        .var("OS_CLOUD", "here");
    let c = ConfigLoader::new(e).load_default().unwrap();
    assert_eq!(c.name, "here");
    assert_eq!(c.source, "/work/clouds.yml");
    assert_eq!(c.auth_type, AuthType::Token);
}

#[test]
fn explicit_file_and_json_format() {
    let e = env()
        .var("OS_CLIENT_CONFIG_FILE", "/x/c.json")
        .var("OS_CLIENT_SECURE_FILE", "/x/s.json")
        .file("/x/c.json", r#"{"clouds": {"j": {"auth": {"auth_url": "http://k/v3", "username": "u", "project_id": 42}}}}"#)
        .file("/x/s.json", r#"{"clouds": {"j": {"auth": {"password": "pw"}}}}"#);
    let c = ConfigLoader::new(e).load_cloud("j").unwrap();
    assert_eq!(c.auth.project_id.as_deref(), Some("42"));
    assert_eq!(c.auth.password.as_ref().map(Secret::expose), Some("pw"));
}

#[test]
fn application_credential_cloud() {
    let c = ConfigLoader::new(env()).load_cloud("b").unwrap();
    assert_eq!(c.auth_type, AuthType::ApplicationCredential);
    assert_eq!(c.auth.application_credential_id.as_deref(), Some("ac1"));
}

#[test]
fn missing_cloud_names_file_and_what_exists() {
    let err = ConfigLoader::new(env()).load_cloud("nope").unwrap_err();
    assert_eq!(
        err,
        ConfigError::CloudNotFound {
            cloud: "nope".into(),
            file: "/home/u/.config/openstack/clouds.yaml".into(),
            available: "a, b".into()
        }
    );
}

#[test]
fn missing_password_names_the_key() {
    let e = StaticEnvironment::default().var("OS_CLIENT_CONFIG_FILE", "/c.yaml").file(
        "/c.yaml",
        "clouds:\n  a:\n    auth:\n      auth_url: http://k/v3\n      username: u\n",
    );
    let err = ConfigLoader::new(e).load_cloud("a").unwrap_err();
    assert_eq!(
        err,
        ConfigError::MissingKey {
            cloud: "a".into(),
            file: "/c.yaml".into(),
            key: "auth.password".into()
        }
    );
    assert!(err.to_string().contains("/c.yaml"));
}

#[test]
fn malformed_yaml_names_the_file() {
    let e = StaticEnvironment::default()
        .var("OS_CLIENT_CONFIG_FILE", "/c.yaml")
        .file("/c.yaml", "clouds: [unclosed\n");
    let err = ConfigLoader::new(e).load_cloud("a").unwrap_err();
    assert!(matches!(&err, ConfigError::Malformed { file, .. } if file == "/c.yaml"), "{err}");
}

#[test]
fn named_config_file_that_does_not_exist_is_an_error() {
    let e = StaticEnvironment::default().var("OS_CLIENT_CONFIG_FILE", "/nope.yaml");
    let err = ConfigLoader::new(e).load_cloud("a").unwrap_err();
    assert!(matches!(&err, ConfigError::Malformed { file, .. } if file == "/nope.yaml"));
}

#[test]
fn no_file_anywhere() {
    let e = StaticEnvironment::default().home("/h").cwd("/w");
    let err = ConfigLoader::new(e).load_cloud("a").unwrap_err();
    assert!(matches!(err, ConfigError::NoConfigFile { .. }));
    assert!(err.to_string().contains("/h/.config/openstack/clouds.yaml"));
}

#[test]
fn bad_values_are_typed_errors() {
    let e = StaticEnvironment::default()
        .var("OS_CLIENT_CONFIG_FILE", "/c.yaml")
        .file("/c.yaml", "clouds:\n  a:\n    interface: sideways\n    auth:\n      auth_url: http://k/v3\n      username: u\n      password: p\n");
    let err = ConfigLoader::new(e).load_cloud("a").unwrap_err();
    assert!(matches!(&err, ConfigError::InvalidValue { key, .. } if key == "interface"), "{err}");
    let e = StaticEnvironment::default()
        .var("OS_CLIENT_CONFIG_FILE", "/c.yaml")
        .file("/c.yaml", "clouds:\n  a:\n    auth_type: kerberos\n    auth: {}\n");
    let err = ConfigLoader::new(e).load_cloud("a").unwrap_err();
    assert!(matches!(&err, ConfigError::InvalidValue { key, .. } if key == "auth_type"), "{err}");
}

#[test]
fn os_variables_form_a_cloud() {
    let e = StaticEnvironment::default()
        .var("OS_AUTH_URL", "http://k:5000/v3")
        .var("OS_USERNAME", "u")
        .var("OS_PASSWORD", "p")
        .var("OS_PROJECT_NAME", "demo")
        .var("OS_USER_DOMAIN_NAME", "Default")
        .var("OS_REGION_NAME", "RegionTwo")
        .var("OS_INTERFACE", "admin")
        .var("OS_INSECURE", "true")
        .var("OS_CACERT", "/ca.pem");
    let c = ConfigLoader::new(e).load_default().unwrap();
    assert_eq!(c.name, "envvars");
    assert_eq!(c.source, "environment");
    assert_eq!(c.auth.project_name.as_deref(), Some("demo"));
    assert_eq!(c.region_name.as_deref(), Some("RegionTwo"));
    assert_eq!(c.interface, Interface::Admin);
    assert!(!c.verify);
    assert_eq!(c.cacert, Some(PathBuf::from("/ca.pem")));
}

#[test]
fn os_variables_missing_auth_url() {
    let e = StaticEnvironment::default().var("OS_USERNAME", "u").var("OS_PASSWORD", "p");
    let err = ConfigLoader::new(e).load_default().unwrap_err();
    assert_eq!(
        err,
        ConfigError::MissingKey {
            cloud: "envvars".into(),
            file: "environment".into(),
            key: "auth.auth_url".into()
        }
    );
}

#[test]
fn none_auth_needs_an_endpoint() {
    let e = StaticEnvironment::default()
        .var("OS_CLIENT_CONFIG_FILE", "/c.yaml")
        .file("/c.yaml", "clouds:\n  n:\n    auth_type: none\n    image_endpoint_override: http://g:9292\n  m:\n    auth_type: none\n");
    let c = ConfigLoader::new(e.clone()).load_cloud("n").unwrap();
    assert_eq!(c.auth_type, AuthType::None);
    let err = ConfigLoader::new(e).load_cloud("m").unwrap_err();
    assert!(matches!(err, ConfigError::MissingKey { .. }));
}

#[test]
fn debug_output_never_shows_secrets() {
    let c = ConfigLoader::new(env()).load_cloud("a").unwrap();
    let text = format!("{c:?}");
    assert!(!text.contains("from-secure"), "{text}");
}

/// Loads cloud `c` from a clouds.yaml whose only cloud is `yaml` (indented under `c:`).
fn load_one(yaml: &str) -> Result<CloudConfig, ConfigError> {
    let body: String = yaml.lines().map(|l| format!("    {l}\n")).collect();
    let e = StaticEnvironment::default()
        .var("OS_CLIENT_CONFIG_FILE", "/c.yaml")
        .file("/c.yaml", &format!("clouds:\n  c:\n{body}"));
    ConfigLoader::new(e).load_cloud("c")
}

#[test]
fn every_auth_type_spelling_we_accept_is_read() {
    let auth = "auth:\n  auth_url: http://k/v3\n  username: u\n  password: p\n  token: t\n  application_credential_id: i\n  application_credential_secret: s\n  endpoint: http://g:9292";
    for (name, want) in [
        ("password", AuthType::Password),
        ("v3password", AuthType::Password),
        ("token", AuthType::Token),
        ("v3token", AuthType::Token),
        ("v3applicationcredential", AuthType::ApplicationCredential),
        ("applicationcredential", AuthType::ApplicationCredential),
        ("none", AuthType::None),
        ("noauth", AuthType::None),
        ("admin_token", AuthType::AdminToken),
    ] {
        let c = load_one(&format!("auth_type: {name}\n{auth}"))
            .unwrap_or_else(|e| panic!("auth_type {name}: {e}"));
        assert_eq!(c.auth_type, want, "auth_type {name}");
    }
}

#[test]
fn an_application_credential_by_name_needs_its_user() {
    let base = "auth_type: v3applicationcredential\nauth:\n  auth_url: http://k/v3\n  application_credential_name: ci\n  application_credential_secret: s";
    for user in ["username: alice", "user_id: 0a1b"] {
        let c = load_one(&format!("{base}\n  {user}")).unwrap_or_else(|e| panic!("{user}: {e}"));
        assert_eq!(c.auth_type, AuthType::ApplicationCredential);
    }
    let err = load_one(base).unwrap_err();
    assert!(
        matches!(&err, ConfigError::MissingKey { key, .. } if key.contains("auth.username or auth.user_id")),
        "{err}"
    );
}

#[test]
fn an_interface_reads_back_as_its_catalog_name() {
    for i in [Interface::Public, Interface::Internal, Interface::Admin] {
        assert_eq!(Interface::parse(i.as_str()), Some(i));
        assert_eq!(Interface::parse(&format!("{}URL", i.as_str())), Some(i));
    }
    assert_eq!(Interface::Internal.as_str(), "internal");
}
