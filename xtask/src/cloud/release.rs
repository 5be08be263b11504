//! `cloud up --glance <release>`: another Glance release beside the main cloud.
//!
//! Each release has its own venv (Glance from PyPI, pinned by that release's
//! upper-constraints, kept in `xtask/cloud/releases/`), state dir (`release-<series>/`:
//! config, SQLite database, stores, logs), port and `clouds.yaml`, whose `local` and
//! `local-demo` clouds authenticate with the main (current) Keystone and reach this Glance
//! through `image_endpoint_override`. Several releases run at once beside the main cloud.
//! The configuration is the main Glance's (three file stores, an HTTP store, the image
//! cache, every import method), rendered from the same template; what an old release needs
//! differently is a field of [`Release`].
//!
//! On SQLite the older releases conflict with themselves under concurrent requests: up to
//! 2025.1 their database sessions stay open for as long as a request or a cache fetch runs,
//! so they run with deferred transactions (`OSRS_SQLITE_DEFERRED`: no BEGIN IMMEDIATE shim,
//! which made such a session block every other request into a 500); and the tests run
//! against the releases one at a time (`cargo xtask compat` does). Production databases have
//! no single writer.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use super::config::{paste_with_healthcheck_file, render, template};
use super::{ADMIN_PASSWORD, Cloud, DEMO_PASSWORD, GLANCE_PASSWORD, Service, tail, write};
use crate::{Result, workspace_root};

/// A Glance release the SDK is tested against.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Release {
    /// The OpenStack series, e.g. `2024.1`.
    pub(crate) series: &'static str,
    /// Glance's version on PyPI.
    pub(crate) glance: &'static str,
    /// The process's name (`glance-<series>`): pid file, server log, `cloud status`.
    pub(super) name: &'static str,
    /// Its port on 127.0.0.1, unless `port_var` says otherwise.
    pub(super) port: u16,
    /// The variable that moves it.
    pub(super) port_var: &'static str,
    /// `image_cache_driver`: `centralized_db` arrived in 2024.1 and is the only one left in
    /// later releases; older releases have `sqlite`.
    cache_driver: &'static str,
    /// Whether SQLite transactions take the write lock up front (the main cloud's shim).
    /// Up to 2025.1 a request's or a cache fetch's session stays open, and holding the lock
    /// turned later requests into 500s; 2026.1 needs it (deferred, an import task's write
    /// met the request's and failed at once).
    pub(super) immediate_sqlite: bool,
}

/// The releases of the matrix, oldest first. The main cloud is the current release (33.x).
pub(crate) const RELEASES: [Release; 4] = [
    Release {
        series: "2023.1",
        glance: "26.1.0",
        name: "glance-2023.1",
        port: 9311,
        port_var: "OSRS_GLANCE_2023_1_PORT",
        cache_driver: "sqlite",
        immediate_sqlite: false,
    },
    Release {
        series: "2024.1",
        glance: "28.2.0",
        name: "glance-2024.1",
        port: 9312,
        port_var: "OSRS_GLANCE_2024_1_PORT",
        cache_driver: "centralized_db",
        immediate_sqlite: false,
    },
    Release {
        series: "2025.1",
        glance: "30.2.0",
        name: "glance-2025.1",
        port: 9313,
        port_var: "OSRS_GLANCE_2025_1_PORT",
        cache_driver: "centralized_db",
        immediate_sqlite: false,
    },
    Release {
        series: "2026.1",
        glance: "32.0.0",
        name: "glance-2026.1",
        port: 9314,
        port_var: "OSRS_GLANCE_2026_1_PORT",
        cache_driver: "centralized_db",
        immediate_sqlite: true,
    },
];

/// The releases `cargo xtask test` runs the conformance suite against: the matrix's oldest,
/// and the oldest SLURP release still maintained upstream.
pub(crate) const IN_CI: [&str; 2] = ["2023.1", "2024.1"];

/// The release named by its series (`2024.1`), its Glance version (`28.2.0`) or major (`28`).
pub(crate) fn find(name: &str) -> Result<&'static Release> {
    RELEASES
        .iter()
        .find(|r| {
            r.series == name
                || r.glance == name
                || r.glance.split('.').next() == Some(name.trim_end_matches(".x"))
        })
        .ok_or_else(|| {
            let known: Vec<String> =
                RELEASES.iter().map(|r| format!("{} (Glance {})", r.series, r.glance)).collect();
            format!("no Glance release {name:?} in the matrix; known: {}", known.join(", "))
        })
}

impl Release {
    pub(super) fn port(&self) -> u16 {
        std::env::var(self.port_var).ok().and_then(|v| v.parse().ok()).unwrap_or(self.port)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    fn constraints(&self) -> PathBuf {
        workspace_root().join(format!("xtask/cloud/releases/{}-upper-constraints.txt", self.series))
    }
}

impl Cloud {
    /// The release's state dir.
    pub(super) fn release_dir(&self, r: &Release) -> PathBuf {
        self.path(&format!("release-{}", r.series))
    }

    pub(super) fn release_bin(&self, r: &Release, name: &str) -> PathBuf {
        self.release_dir(r).join("venv/bin").join(name)
    }

    /// `cloud up --glance <release>`: the main cloud (for its Keystone), then this release's
    /// Glance, installed, configured and initialised on first use.
    pub(crate) fn release_up(&self, r: &'static Release) -> Result {
        self.up()?;
        let dir = self.release_dir(r);
        for sub in [
            "etc/glance",
            "data/glance/stores/fast",
            "data/glance/stores/slow",
            "data/glance/stores/cold",
            "data/glance/staging",
            "data/glance/tasks",
            "data/glance/cache",
            "data/glance/locks",
            "log",
        ] {
            fs::create_dir_all(dir.join(sub)).map_err(|e| format!("creating {sub}: {e}"))?;
        }
        let fresh_venv = self.ensure_release_venv(r)?;
        if fresh_venv && self.running_pid(Service::Release(r)).is_some() {
            self.stop(Service::Release(r))?;
        }
        let before = fs::read_to_string(dir.join("etc/glance/glance-api.conf")).unwrap_or_default();
        self.write_release_config(r)?;
        let after = fs::read_to_string(dir.join("etc/glance/glance-api.conf")).unwrap_or_default();
        if before != after && self.running_pid(Service::Release(r)).is_some() {
            eprintln!("xtask: {} configuration changed; restarting it", r.name);
            self.stop(Service::Release(r))?;
        }
        self.init_release_db(r)?;
        self.start(Service::Release(r))?;
        self.write_release_clouds_yaml(r)?;
        eprintln!(
            "xtask: Glance {} ({}) up at {}; clouds in {}",
            r.glance,
            r.series,
            r.url(),
            dir.join("clouds.yaml").display()
        );
        Ok(())
    }

    /// The release's venv, rebuilt when its pins changed; `true` when it was (re)built.
    fn ensure_release_venv(&self, r: &Release) -> Result<bool> {
        let venv = self.release_dir(r).join("venv");
        let stamp = venv.join(".osrs-installed");
        let constraints = fs::read_to_string(r.constraints())
            .map_err(|e| format!("reading {}: {e}", r.constraints().display()))?;
        let wanted = format!("glance=={}\n{constraints}", r.glance);
        if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
            return Ok(false);
        }
        eprintln!(
            "xtask: creating the venv of Glance {} ({}) from its upper-constraints (a minute \
             or two)",
            r.glance, r.series
        );
        // gunicorn serves it as it serves the main Glance, at the version the release pins.
        let glance = format!("glance=={}", r.glance);
        let log = self.release_dir(r).join("log/pip.log");
        super::install::build_venv(&venv, &r.constraints(), &[glance.as_str(), "gunicorn"], &log)?;
        write(&stamp, &wanted)?;
        Ok(true)
    }

    fn write_release_config(&self, r: &Release) -> Result {
        let dir = self.release_dir(r);
        let d = dir.display().to_string();
        let conf = render(
            template("glance-api.conf"),
            &[
                ("dir", &d),
                ("conf_dir", "glance"),
                ("glance_log", "glance-api.log"),
                ("use_limits", "false"),
                ("cache_driver", r.cache_driver),
                ("glance_url", &r.url()),
                ("keystone_url", &self.keystone_url()),
                ("web_port", &self.web_port.to_string()),
                ("glance_port", &r.port().to_string()),
                ("glance_alt_port", &self.glance_alt_port.to_string()),
                ("glance_password", GLANCE_PASSWORD),
            ],
        )?;
        write(&dir.join("etc/glance/glance-api.conf"), &conf)?;
        let shipped = dir.join("venv/etc/glance/glance-api-paste.ini");
        let paste = fs::read_to_string(&shipped)
            .map_err(|e| format!("reading {}: {e}", shipped.display()))?;
        let paste = paste_with_healthcheck_file(&paste, &format!("{d}/healthcheck-disable"));
        write(&dir.join("etc/glance/glance-api-paste.ini"), &paste)
    }

    fn init_release_db(&self, r: &Release) -> Result {
        let dir = self.release_dir(r);
        let marker = dir.join("data/glance/.initialised");
        if marker.exists() {
            return Ok(());
        }
        eprintln!("xtask: initialising Glance {} (database + standard metadefs)", r.glance);
        let conf = dir.join("etc/glance/glance-api.conf");
        let metadefs = dir.join("venv/etc/glance/metadefs").display().to_string();
        for args in [vec!["db_sync"], vec!["db_load_metadefs", metadefs.as_str()]] {
            let out = Command::new(self.release_bin(r, "glance-manage"))
                .arg("--config-file")
                .arg(&conf)
                .args(&args)
                .env("PYTHONWARNINGS", "ignore")
                .output()
                .map_err(|e| format!("cannot run glance-manage: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "glance-manage {} of Glance {} failed:\n{}",
                    args.join(" "),
                    r.glance,
                    tail(&String::from_utf8_lossy(&out.stderr), 25)
                ));
            }
        }
        super::config::sqlite_wal(
            &dir.join("data/glance/glance.sqlite"),
            &self.release_bin(r, "python"),
        )?;
        write(&marker, "ok\n")
    }

    /// `local` and `local-demo`: the main Keystone's users, this release's Glance.
    fn write_release_clouds_yaml(&self, r: &Release) -> Result {
        let mut text = format!(
            "# Written by `cargo xtask cloud up --glance {}`: Glance {} beside the local cloud.\n\
             clouds:\n",
            r.series, r.glance
        );
        for (cloud, user, password) in
            [("local", "admin", ADMIN_PASSWORD), ("local-demo", "demo", DEMO_PASSWORD)]
        {
            text.push_str(&format!(
                "  {cloud}:\n    auth:\n      auth_url: {}/v3\n      username: {user}\n      \
                 password: {password}\n      project_name: {user}\n      user_domain_name: \
                 Default\n      project_domain_name: Default\n    region_name: RegionOne\n    \
                 interface: public\n    identity_api_version: 3\n    image_endpoint_override: \
                 {}\n",
                self.keystone_url(),
                r.url()
            ));
        }
        write(&self.release_dir(r).join("clouds.yaml"), &text)
    }

    /// The environment of the main cloud, pointed at this release's Glance.
    pub(crate) fn release_env_vars(&self, r: &Release) -> Vec<(&'static str, String)> {
        let mut vars = self.env_vars();
        for (k, v) in &mut vars {
            match *k {
                "OS_CLIENT_CONFIG_FILE" => {
                    *v = self.release_dir(r).join("clouds.yaml").display().to_string();
                }
                "OSRS_GLANCE_URL" => *v = r.url(),
                _ => {}
            }
        }
        vars.push(("OSRS_COMPAT_LABEL", format!("{} ({})", r.glance, r.series)));
        // openstackclient (the osrs comparison tests' reference) lives in the main venv.
        vars.push(("OSRS_OPENSTACK", self.venv_bin("openstack").display().to_string()));
        vars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_are_found_by_series_version_or_major() {
        assert_eq!(find("2024.1").unwrap().glance, "28.2.0");
        assert_eq!(find("28.2.0").unwrap().series, "2024.1");
        assert_eq!(find("30").unwrap().series, "2025.1");
        assert_eq!(find("32.x").unwrap().series, "2026.1");
        assert!(find("2019.1").unwrap_err().contains("2024.1 (Glance 28.2.0)"));
        assert!(IN_CI.iter().all(|r| find(r).is_ok()));
        assert_eq!(IN_CI[0], RELEASES[0].series, "CI runs the matrix's oldest release");
        for r in &RELEASES {
            assert!(r.constraints().exists(), "{} has no constraints file", r.series);
            assert_eq!(r.name, format!("glance-{}", r.series));
        }
    }
}
