//! osrs behind an HTTP proxy: the same variables as `openstack` (https_proxy, no_proxy, ...),
//! through the tinyproxy instances `cargo xtask cloud up` starts.

mod common;

use std::process::{Command, Output};

use common::osrs_command;

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run with `cargo xtask test`"))
}

/// `osrs --os-cloud local-tls image list --limit 1` with exactly these proxy variables, and a
/// token cache of its own (so Keystone is asked too).
fn list_via(vars: &[(&str, String)], cache: &str) -> Output {
    openstack_tests::cloud("local-tls"); // fails loudly without the local cloud
    let mut cmd: Command = osrs_command();
    for v in ["http_proxy", "https_proxy", "all_proxy", "no_proxy"] {
        cmd.env_remove(v).env_remove(v.to_uppercase());
    }
    let tokens = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(cache);
    let _ = std::fs::remove_dir_all(&tokens);
    cmd.env("OSRS_TOKEN_CACHE_DIR", tokens)
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .args(["--os-cloud", "local-tls", "image", "list", "--limit", "1", "-f", "value"])
        .output()
        .expect("osrs runs")
}

#[test]
fn honours_https_proxy_and_no_proxy_like_openstack() {
    let deny = var("OSRS_PROXY_DENY_URL");
    let out = list_via(&[("HTTPS_PROXY", deny.clone())], "proxy-deny");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "went around the refusing proxy: {stderr}");
    assert!(
        stderr.contains(&format!("proxy {deny} refused to open a tunnel"))
            && stderr.contains("403"),
        "{stderr}"
    );

    let out = list_via(
        &[("HTTPS_PROXY", deny), ("no_proxy", "localhost,127.0.0.1".into())],
        "proxy-bypass",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn sends_the_proxy_credentials_and_never_prints_them() {
    let with_password = var("OSRS_PROXY_AUTH_URL");
    let out = list_via(&[("https_proxy", with_password.clone())], "proxy-auth");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let wrong = with_password.replace("pr0xy-secret", "wrong-secret");
    let out = list_via(&[("https_proxy", wrong)], "proxy-auth-wrong");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("rejected the user and password"), "{stderr}");
    assert!(stderr.contains("osrs-proxy:***@") && !stderr.contains("wrong-secret"), "{stderr}");
}

#[test]
fn an_unusable_proxy_variable_is_refused_naming_it() {
    let out = list_via(&[("https_proxy", "socks5://127.0.0.1:1080".into())], "proxy-socks");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("https_proxy=") && stderr.contains("SOCKS"), "{stderr}");
}
