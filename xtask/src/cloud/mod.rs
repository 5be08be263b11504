//! `cargo xtask cloud ...`: a real Keystone 30 + Glance 33 on 127.0.0.1, from PyPI.
//!
//! Everything lives in one state dir (`OSRS_CLOUD_DIR`, default `~/.cache/openstack-rs/cloud`):
//! `venv/`, `etc/{keystone,glance}/`, `lib/` (WSGI shims), `data/`, `www/`, `log/`, `run/`,
//! `clouds.yaml`. Each step is idempotent: `up` on a healthy cloud only re-checks health.

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use crate::Result;

mod config;
mod install;
pub(crate) use install::ensure_bench_tools;
mod process;
mod proxy;
pub(crate) mod release;
mod service;
mod tls;

use config::write;
use process::tail;
use service::Service;

const ADMIN_PASSWORD: &str = "admin-secret";
const DEMO_PASSWORD: &str = "demo-secret";
const GLANCE_PASSWORD: &str = "glance-service-secret";
const SERVER_PINS: &[&str] = &[
    "glance==33.0.0",
    "glance-store==5.7.0",
    "keystone==30.0.0",
    "keystonemiddleware==13.0.1",
    "gunicorn==27.0.1",
    // The reference `openstack` command line, for osrs's comparison test.
    "python-openstackclient==10.5.0",
];

/// The main cloud's Glance version (from its pin).
pub(crate) fn glance_version() -> &'static str {
    SERVER_PINS.iter().find_map(|p| p.strip_prefix("glance==")).unwrap_or("?")
}

/// The local cloud's layout and ports.
pub(crate) struct Cloud {
    dir: PathBuf,
    keystone_port: u16,
    glance_port: u16,
    web_port: u16,
    keystone_tls_port: u16,
    keystone_short_port: u16,
    glance_tls_port: u16,
    glance_alt_port: u16,
    glance_limits_port: u16,
    keystone_b_port: u16,
    glance_b_port: u16,
    proxy_port: u16,
    proxy_auth_port: u16,
    proxy_deny_port: u16,
}

/// The machine's `no_proxy` (lower case first, as curl reads it) with loopback added.
fn loopback_no_proxy() -> String {
    let current =
        std::env::var("no_proxy").or_else(|_| std::env::var("NO_PROXY")).unwrap_or_default();
    let mut entries: Vec<&str> =
        current.split(',').map(str::trim).filter(|e| !e.is_empty()).collect();
    for e in ["127.0.0.1", "localhost"] {
        if !entries.contains(&e) {
            entries.push(e);
        }
    }
    entries.join(",")
}

/// `export K=V` lines for a shell.
pub(crate) fn exports(vars: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (k, v) in vars {
        let _ = writeln!(out, "export {k}='{v}'");
    }
    out
}

fn port_from_env(var: &str, default: u16) -> Result<u16> {
    match std::env::var(var) {
        Ok(v) => v.parse().map_err(|_| format!("{var}={v:?} is not a port number (1-65535)")),
        Err(_) => Ok(default),
    }
}

impl Cloud {
    /// Reads the state dir and ports from the environment.
    pub(crate) fn from_env() -> Result<Cloud> {
        let dir = match std::env::var_os("OSRS_CLOUD_DIR") {
            Some(d) => PathBuf::from(d),
            None => {
                let cache = std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                    .ok_or("neither OSRS_CLOUD_DIR, XDG_CACHE_HOME nor HOME is set")?;
                cache.join("openstack-rs").join("cloud")
            }
        };
        let dir = if dir.is_absolute() {
            dir
        } else {
            std::env::current_dir().map_err(|e| e.to_string())?.join(dir)
        };
        Ok(Cloud {
            dir,
            keystone_port: port_from_env("OSRS_KEYSTONE_PORT", 5000)?,
            glance_port: port_from_env("OSRS_GLANCE_PORT", 9292)?,
            web_port: port_from_env("OSRS_WEB_PORT", 8089)?,
            keystone_tls_port: port_from_env("OSRS_KEYSTONE_TLS_PORT", 5443)?,
            keystone_short_port: port_from_env("OSRS_KEYSTONE_SHORT_PORT", 5001)?,
            glance_tls_port: port_from_env("OSRS_GLANCE_TLS_PORT", 9443)?,
            glance_alt_port: port_from_env("OSRS_GLANCE_ALT_PORT", 9294)?,
            glance_limits_port: port_from_env("OSRS_GLANCE_LIMITS_PORT", 9295)?,
            keystone_b_port: port_from_env("OSRS_KEYSTONE_B_PORT", 5002)?,
            glance_b_port: port_from_env("OSRS_GLANCE_B_PORT", 9296)?,
            proxy_port: port_from_env("OSRS_PROXY_PORT", 8888)?,
            proxy_auth_port: port_from_env("OSRS_PROXY_AUTH_PORT", 8889)?,
            proxy_deny_port: port_from_env("OSRS_PROXY_DENY_PORT", 8890)?,
        })
    }

    fn port(&self, s: Service) -> u16 {
        match s {
            Service::Keystone => self.keystone_port,
            Service::Glance => self.glance_port,
            Service::Web => self.web_port,
            Service::Tls => self.keystone_tls_port,
            Service::KeystoneShort => self.keystone_short_port,
            Service::GlanceLimits => self.glance_limits_port,
            Service::KeystoneB => self.keystone_b_port,
            Service::GlanceB => self.glance_b_port,
            Service::Proxy => self.proxy_port,
            Service::ProxyAuth => self.proxy_auth_port,
            Service::ProxyDeny => self.proxy_deny_port,
            Service::Release(r) => r.port(),
        }
    }

    /// Where `cargo xtask compat` keeps the conformance reports.
    pub(crate) fn compat_dir(&self) -> PathBuf {
        self.path("compat")
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// The server venv's Python (has `requests`), for reference measurements.
    pub(crate) fn venv_python(&self) -> PathBuf {
        self.venv_bin("python")
    }

    fn venv_bin(&self, name: &str) -> PathBuf {
        self.dir.join("venv").join("bin").join(name)
    }

    fn pid_file(&self, s: Service) -> PathBuf {
        self.dir.join("run").join(format!("{}.pid", s.name()))
    }

    fn server_log(&self, s: Service) -> PathBuf {
        self.dir.join("log").join(format!("{}-server.log", s.name()))
    }

    fn keystone_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.keystone_port)
    }

    fn glance_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.glance_port)
    }

    fn keystone_b_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.keystone_b_port)
    }

    fn glance_b_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.glance_b_port)
    }

    /// Glance behind nginx on another port: RegionTwo's distinct catalog URL.
    fn glance_alt_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.glance_alt_port)
    }

    /// Environment variables that point the SDK and the integration tests at this cloud.
    pub(crate) fn env_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("OS_CLIENT_CONFIG_FILE", self.path("clouds.yaml").display().to_string()),
            ("OS_CLOUD", "local".into()),
            ("OSRS_CLOUD_WWW_DIR", self.path("www").display().to_string()),
            ("OSRS_CLOUD_WWW_URL", format!("http://127.0.0.1:{}", self.web_port)),
            ("OSRS_GLANCE_URL", self.glance_url()),
            ("OSRS_CLOUD_TLS_DIR", self.path("tls").display().to_string()),
            ("OSRS_KEYSTONE_TLS_URL", format!("https://127.0.0.1:{}", self.keystone_tls_port)),
            ("OSRS_GLANCE_TLS_URL", format!("https://127.0.0.1:{}", self.glance_tls_port)),
            ("OSRS_GLANCE_ALT_URL", self.glance_alt_url()),
            ("OSRS_GLANCE_B_URL", self.glance_b_url()),
            ("OSRS_PROXY_URL", self.proxy_url(Service::Proxy)),
            ("OSRS_PROXY_AUTH_URL", self.proxy_url(Service::ProxyAuth)),
            ("OSRS_PROXY_DENY_URL", self.proxy_url(Service::ProxyDeny)),
            ("OSRS_PROXY_LOG", self.path("log/proxy.log").display().to_string()),
            // The SDK honours HTTP proxies from the environment: a machine with one set (for
            // apt and pip) must still reach the local cloud directly.
            ("no_proxy", loopback_no_proxy()),
            ("NO_PROXY", loopback_no_proxy()),
        ]
    }

    /// `export K=V` lines for a shell.
    pub(crate) fn env_exports(&self) -> String {
        exports(&self.env_vars())
    }

    /// `cloud up`: install, configure, initialise and start whatever is missing.
    pub(crate) fn up(&self) -> Result {
        let started = Instant::now();
        if !self.venv_current() && Service::ALL.iter().any(|&s| self.running_pid(s).is_some()) {
            eprintln!("xtask: the server venv's pins changed: stopping the cloud to rebuild it");
            self.down()?;
        }
        if Service::ALL.iter().all(|&s| self.running_pid(s).is_some() && self.healthy(s)) {
            // A running cloud picks up changed templates: configs are rewritten and the
            // services whose configuration changed are restarted.
            let before = self.config_snapshot();
            self.write_configs()?;
            self.ensure_tls()?;
            self.ensure_proxies()?;
            install::ensure_disk_tools()?;
            let after = self.config_snapshot();
            let services = [
                Service::Keystone,
                Service::KeystoneShort,
                Service::Glance,
                Service::Tls,
                Service::GlanceLimits,
                Service::KeystoneB,
                Service::GlanceB,
                Service::Proxy,
                Service::ProxyAuth,
                Service::ProxyDeny,
            ];
            for (i, s) in services.into_iter().enumerate() {
                if before[i] != after[i] {
                    eprintln!("xtask: {} configuration changed; restarting it", s.name());
                    self.stop(s)?;
                    self.start(s)?;
                }
            }
            for b in [false, true] {
                if !self.catalog_current(b) {
                    self.bootstrap_catalog(b)?;
                }
            }
            self.write_clouds_yaml()?;
            eprintln!(
                "xtask: local cloud already up ({:.1?}); state in {}",
                started.elapsed(),
                self.dir.display()
            );
            return Ok(());
        }
        for sub in [
            "etc/keystone",
            "etc/keystone-short",
            "etc/glance-limits",
            "etc/glance",
            "lib",
            "data/keystone",
            "data/glance/stores/fast",
            "data/glance/stores/slow",
            "data/glance/stores/cold",
            "data/glance/staging",
            "data/glance/tasks",
            "data/glance/cache",
            "data/glance/locks",
            "etc/keystone-b",
            "etc/glance-b",
            "data/keystone-b",
            "data/glance-b/images",
            "data/glance-b/staging",
            "data/glance-b/locks",
            "www",
            "log",
            "run",
            "run/nginx",
            "tls",
            "etc/nginx",
            "etc/tinyproxy",
        ] {
            fs::create_dir_all(self.path(sub)).map_err(|e| format!("creating {sub}: {e}"))?;
        }
        self.ensure_venv()?;
        self.write_configs()?;
        self.init_keystone(false)?;
        self.init_glance(false)?;
        self.init_keystone(true)?;
        self.init_glance(true)?;
        self.start(Service::Keystone)?;
        self.bootstrap_catalog(false)?;
        self.start(Service::Glance)?;
        self.start(Service::Web)?;
        self.ensure_tls()?;
        self.start(Service::Tls)?;
        self.start(Service::KeystoneShort)?;
        self.start(Service::GlanceLimits)?;
        self.start(Service::KeystoneB)?;
        self.bootstrap_catalog(true)?;
        self.start(Service::GlanceB)?;
        self.ensure_proxies()?;
        install::ensure_disk_tools()?;
        for s in [Service::Proxy, Service::ProxyAuth, Service::ProxyDeny] {
            self.start(s)?;
        }
        self.write_clouds_yaml()?;
        eprintln!(
            "xtask: local cloud up in {:.1?}: keystone {}/v3, glance {}, web {}; state in {}",
            started.elapsed(),
            self.keystone_url(),
            self.glance_url(),
            self.web_port,
            self.dir.display()
        );
        Ok(())
    }

    /// `cloud down`: stops our own processes (by saved pid, checked against the state dir),
    /// the other Glance releases first.
    pub(crate) fn down(&self) -> Result {
        for r in &release::RELEASES {
            self.stop(Service::Release(r))?;
        }
        for s in [
            Service::ProxyDeny,
            Service::ProxyAuth,
            Service::Proxy,
            Service::GlanceB,
            Service::KeystoneB,
            Service::GlanceLimits,
            Service::KeystoneShort,
            Service::Tls,
            Service::Web,
            Service::Glance,
            Service::Keystone,
        ] {
            self.stop(s)?;
        }
        Ok(())
    }

    /// `cloud status`.
    pub(crate) fn status(&self) -> Result {
        println!("state dir: {}", self.dir.display());
        let mut all = true;
        for s in Service::ALL {
            let pid = self.running_pid(s);
            let healthy = self.healthy(s);
            all &= pid.is_some() && healthy;
            println!(
                "{:<14} 127.0.0.1:{:<5} {:<14} {}",
                s.name(),
                self.port(s),
                pid.map_or("not running".to_string(), |p| format!("pid {p}")),
                if healthy { "answers" } else { "no answer" }
            );
        }
        for r in &release::RELEASES {
            if let Some(pid) = self.running_pid(Service::Release(r)) {
                let s = Service::Release(r);
                let answers = if self.healthy(s) { "answers" } else { "no answer" };
                println!("{:<14} 127.0.0.1:{:<5} pid {pid:<10} {answers}", r.name, r.port());
            }
        }
        println!("clouds.yaml: {}", self.path("clouds.yaml").display());
        if all {
            Ok(())
        } else {
            Err("the local cloud is not (fully) up; run `cargo xtask cloud up`".into())
        }
    }

    /// `cloud purge`: deletes the images and metadef namespaces that tests and benchmarks
    /// left behind (names starting with `osrs-`/`osrs_`), through the venv's openstacksdk.
    pub(crate) fn purge(&self) -> Result {
        let python = self.venv_python();
        if !python.exists() {
            return Err(format!(
                "no venv at {}: run `cargo xtask cloud up` first",
                python.display()
            ));
        }
        let script = crate::workspace_root().join("xtask/cloud/purge.py");
        let status = Command::new(&python)
            .arg(&script)
            .envs(self.env_vars())
            .status()
            .map_err(|e| format!("running {}: {e}", python.display()))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} failed ({status}); is the cloud up? (`cargo xtask cloud status`)",
                script.display()
            ))
        }
    }

    /// `cloud restart [glance|keystone]`: stop and start again (both when none is named);
    /// returns once the restarted servers answer.
    /// The configuration files of keystone, keystone-short, glance, nginx, glance-limits,
    /// keystone-b, glance-b and the three proxies, in that order.
    fn config_snapshot(&self) -> [String; 10] {
        [
            "etc/keystone/keystone.conf",
            "etc/keystone-short/keystone.conf",
            "etc/glance/glance-api.conf",
            "etc/nginx/nginx.conf",
            "etc/glance-limits/glance-api.conf",
            "etc/keystone-b/keystone.conf",
            "etc/glance-b/glance-api.conf",
            "etc/tinyproxy/proxy.conf",
            "etc/tinyproxy/proxy-auth.conf",
            "etc/tinyproxy/proxy-deny.conf",
        ]
        .map(|f| fs::read_to_string(self.path(f)).unwrap_or_default())
    }

    /// `cloud restart [glance|keystone] [--hard]`: `--hard` kills with SIGKILL (a crash)
    /// instead of a graceful stop that lets in-flight requests finish.
    pub(crate) fn restart(&self, args: &[&str]) -> Result {
        let hard = args.contains(&"--hard");
        let which = args.iter().find(|a| !a.starts_with("--")).copied();
        let services = match which {
            None => vec![Service::Keystone, Service::Glance],
            Some("glance") => vec![Service::Glance],
            Some("keystone") => vec![Service::Keystone],
            Some(other) => return Err(format!("cannot restart {other:?}: glance or keystone")),
        };
        let started = Instant::now();
        for s in services {
            if hard {
                self.kill(s)?;
            } else {
                self.stop(s)?;
            }
            self.start(s)?;
            eprintln!("xtask: restarted {} ({:.1?})", s.name(), started.elapsed());
        }
        Ok(())
    }

    /// `cloud logs [name]`.
    pub(crate) fn logs(&self, which: Option<&str>) -> Result {
        let mut files: Vec<PathBuf> = fs::read_dir(self.path("log"))
            .map_err(|e| format!("no logs in {}: {e}", self.path("log").display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                which.is_none_or(|w| p.file_name().is_some_and(|n| n.to_string_lossy().contains(w)))
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(format!("no log matches {which:?}"));
        }
        for f in files {
            let text = fs::read_to_string(&f).unwrap_or_default();
            println!("==> {} <==\n{}", f.display(), tail(&text, 40));
        }
        Ok(())
    }
}
