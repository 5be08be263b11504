//! Configuration files (from the templates in `xtask/cloud/templates/`), database
//! initialisation and the service catalog.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

use super::{ADMIN_PASSWORD, Cloud, DEMO_PASSWORD, GLANCE_PASSWORD, tail};
use crate::{Result, run, workspace_root};

/// A template of `xtask/cloud/templates/`, compiled in.
pub(super) fn template(name: &str) -> &'static str {
    match name {
        "keystone.conf" => include_str!("../../cloud/templates/keystone.conf"),
        "glance-api.conf" => include_str!("../../cloud/templates/glance-api.conf"),
        "glance-api-b.conf" => include_str!("../../cloud/templates/glance-api-b.conf"),
        "sqlite_immediate_shim.py" => {
            include_str!("../../cloud/templates/sqlite_immediate_shim.py")
        }
        "keystone_wsgi_shim.py" => include_str!("../../cloud/templates/keystone_wsgi_shim.py"),
        "glance_wsgi_shim.py" => include_str!("../../cloud/templates/glance_wsgi_shim.py"),
        "nginx.conf" => include_str!("../../cloud/templates/nginx.conf"),
        "nginx-server.conf" => include_str!("../../cloud/templates/nginx-server.conf"),
        "nginx-plain.conf" => include_str!("../../cloud/templates/nginx-plain.conf"),
        "tinyproxy.conf" => include_str!("../../cloud/templates/tinyproxy.conf"),
        "clouds.yaml" => include_str!("../../cloud/templates/clouds.yaml"),
        "openrc" => include_str!("../../cloud/templates/openrc"),
        other => panic!("no template {other}"),
    }
}

/// Fills `{{name}}` placeholders; a placeholder left unfilled is an error.
pub(super) fn render(template: &str, vars: &[(&str, &str)]) -> Result<String> {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    match out.find("{{") {
        Some(i) => {
            Err(format!("template placeholder left unfilled: {}", &out[i..(i + 40).min(out.len())]))
        }
        None => Ok(out),
    }
}

impl Cloud {
    /// Writes Keystone's and Glance's configuration and the WSGI shims from the templates in
    /// `xtask/cloud/templates/`.
    pub(super) fn write_configs(&self) -> Result {
        let d = self.dir.display().to_string();
        for (conf, log, expiration, data) in [
            ("etc/keystone/keystone.conf", "keystone.log", "14400", "keystone"),
            ("etc/keystone-short/keystone.conf", "keystone-short.log", "60", "keystone"),
            ("etc/keystone-b/keystone.conf", "keystone-b.log", "14400", "keystone-b"),
        ] {
            let vars = [
                ("dir", d.as_str()),
                ("log", log),
                ("expiration", expiration),
                ("keystone_data", data),
            ];
            write(&self.path(conf), &render(template("keystone.conf"), &vars)?)?;
        }
        // Glance, and the same Glance with unified limits on (its own config dir and log).
        let shipped = self.path("venv/etc/glance/glance-api-paste.ini");
        let paste = fs::read_to_string(&shipped)
            .map_err(|e| format!("reading {}: {e}", shipped.display()))?;
        for (conf_dir, log, use_limits) in [
            ("glance", "glance-api.log", "false"),
            ("glance-limits", "glance-limits-api.log", "true"),
        ] {
            let glance = render(
                template("glance-api.conf"),
                &[
                    ("dir", &d),
                    ("conf_dir", conf_dir),
                    ("glance_log", log),
                    ("use_limits", use_limits),
                    ("cache_driver", "centralized_db"),
                    ("glance_url", &self.glance_url()),
                    ("keystone_url", &self.keystone_url()),
                    ("web_port", &self.web_port.to_string()),
                    ("glance_port", &self.glance_port.to_string()),
                    ("glance_alt_port", &self.glance_alt_port.to_string()),
                    ("glance_password", GLANCE_PASSWORD),
                ],
            )?;
            write(&self.path(&format!("etc/{conf_dir}/glance-api.conf")), &glance)?;
            // Glance's paste pipeline, with the healthcheck's disable file in our state dir.
            let paste = paste_with_healthcheck_file(
                &paste,
                &format!("{d}/run/{conf_dir}-healthcheck-disable"),
            );
            write(&self.path(&format!("etc/{conf_dir}/glance-api-paste.ini")), &paste)?;
        }
        // Cloud local-b's Glance: one store, no cache, its own Keystone.
        let glance_b = render(
            template("glance-api-b.conf"),
            &[
                ("dir", &d),
                ("glance_url", &self.glance_b_url()),
                ("keystone_url", &self.keystone_b_url()),
                ("web_port", &self.web_port.to_string()),
                ("glance_password", GLANCE_PASSWORD),
            ],
        )?;
        write(&self.path("etc/glance-b/glance-api.conf"), &glance_b)?;
        let paste_b =
            paste_with_healthcheck_file(&paste, &format!("{d}/run/glance-b-healthcheck-disable"));
        write(&self.path("etc/glance-b/glance-api-paste.ini"), &paste_b)?;

        for shim in ["sqlite_immediate_shim.py", "keystone_wsgi_shim.py", "glance_wsgi_shim.py"] {
            write(&self.path(&format!("lib/{shim}")), template(shim))?;
        }
        write(
            &self.path("www/index.html"),
            "<html><body>openstack-rs local web-download source</body></html>\n",
        )
    }

    pub(super) fn manage(&self, tool: &str, conf: &str, args: &[&str]) -> Result {
        let log = self.path(&format!("log/{tool}.log"));
        let out = Command::new(self.venv_bin(tool))
            .arg("--config-file")
            .arg(self.path(conf))
            .args(args)
            .env("PYTHONWARNINGS", "ignore")
            .output()
            .map_err(|e| format!("cannot run {tool}: {e}"))?;
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        let _ = fs::write(&log, &text);
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("{tool} {} failed:\n{}", args.join(" "), tail(&text, 25)))
        }
    }

    /// Initialises the main Keystone's database and keys, or cloud local-b's (`b`).
    pub(super) fn init_keystone(&self, b: bool) -> Result {
        let (name, url) = if b {
            ("keystone-b", self.keystone_b_url())
        } else {
            ("keystone", self.keystone_url())
        };
        let conf = format!("etc/{name}/keystone.conf");
        let conf = conf.as_str();
        let marker = self.path(&format!("data/{name}/.initialised"));
        if !marker.exists() {
            eprintln!("xtask: initialising {name}");
            self.manage("keystone-manage", conf, &["db_sync"])?;
            self.manage(
                "keystone-manage",
                conf,
                &["fernet_setup", "--keystone-user", "root", "--keystone-group", "root"],
            )?;
            self.manage(
                "keystone-manage",
                conf,
                &["credential_setup", "--keystone-user", "root", "--keystone-group", "root"],
            )?;
            sqlite_wal(
                &self.path(&format!("data/{name}/keystone.sqlite")),
                &self.venv_bin("python"),
            )?;
        }
        // bootstrap is idempotent and corrects the identity endpoint when the port changed.
        let url = format!("{url}/v3");
        let marker_text = format!("{url}\n");
        if fs::read_to_string(&marker).ok().as_deref() != Some(marker_text.as_str()) {
            self.manage(
                "keystone-manage",
                conf,
                &[
                    "bootstrap",
                    "--bootstrap-username",
                    "admin",
                    "--bootstrap-password",
                    ADMIN_PASSWORD,
                    "--bootstrap-project-name",
                    "admin",
                    "--bootstrap-role-name",
                    "admin",
                    "--bootstrap-service-name",
                    "keystone",
                    "--bootstrap-region-id",
                    "RegionOne",
                    "--bootstrap-admin-url",
                    &url,
                    "--bootstrap-public-url",
                    &url,
                    "--bootstrap-internal-url",
                    &url,
                ],
            )?;
            write(&marker, &marker_text)?;
        }
        Ok(())
    }

    /// Initialises the main Glance's database (with the standard metadefs), or cloud
    /// local-b's (`b`).
    pub(super) fn init_glance(&self, b: bool) -> Result {
        let name = if b { "glance-b" } else { "glance" };
        let conf = format!("etc/{name}/glance-api.conf");
        let marker = self.path(&format!("data/{name}/.initialised"));
        if marker.exists() {
            return Ok(());
        }
        eprintln!("xtask: initialising {name} (database + standard metadefs)");
        self.manage("glance-manage", &conf, &["db_sync"])?;
        let metadefs = self.path("venv/etc/glance/metadefs");
        self.manage(
            "glance-manage",
            &conf,
            &["db_load_metadefs", &metadefs.display().to_string()],
        )?;
        sqlite_wal(&self.path(&format!("data/{name}/glance.sqlite")), &self.venv_bin("python"))?;
        write(&marker, "ok\n")
    }

    /// Whether the catalog was made by this version of the bootstrap script (for these
    /// ports), so an already running cloud picks up a changed catalog on `cloud up`; `b`:
    /// cloud local-b's catalog, in its own Keystone.
    pub(super) fn catalog_current(&self, b: bool) -> bool {
        fs::read_to_string(self.catalog_marker(b)).ok() == Some(self.catalog_stamp(b))
    }

    fn catalog_marker(&self, b: bool) -> std::path::PathBuf {
        self.path(if b { "data/keystone-b/.catalog" } else { "data/keystone/.catalog" })
    }

    /// Keystone, Glance and RegionTwo's Glance of the main cloud, or of local-b (which has
    /// no second region: both regions' endpoints are its one Glance).
    fn catalog_urls(&self, b: bool) -> [String; 3] {
        if b {
            [self.keystone_b_url(), self.glance_b_url(), self.glance_b_url()]
        } else {
            [self.keystone_url(), self.glance_url(), self.glance_alt_url()]
        }
    }

    fn catalog_stamp(&self, b: bool) -> String {
        let script = workspace_root().join("xtask/cloud/bootstrap_catalog.py");
        let text = fs::read_to_string(script).unwrap_or_default();
        let [k, g, alt] = self.catalog_urls(b);
        format!("{k} {g} {alt}\n{text}")
    }

    pub(super) fn bootstrap_catalog(&self, b: bool) -> Result {
        let script = workspace_root().join("xtask/cloud/bootstrap_catalog.py");
        let [k, g, alt] = self.catalog_urls(b);
        let out = Command::new(self.venv_bin("python"))
            .arg(&script)
            .args([&k, &g, &alt, ADMIN_PASSWORD, GLANCE_PASSWORD, DEMO_PASSWORD])
            .env("PYTHONWARNINGS", "ignore")
            .output()
            .map_err(|e| format!("cannot run the catalog bootstrap: {e}"))?;
        if out.status.success() {
            write(&self.catalog_marker(b), &self.catalog_stamp(b))
        } else {
            Err(format!(
                "creating the Keystone catalog ({k}) failed:\n{}{}",
                tail(&String::from_utf8_lossy(&out.stdout), 10),
                tail(&String::from_utf8_lossy(&out.stderr), 20)
            ))
        }
    }

    /// `clouds.yaml` (`local`, `local-demo`, `local-tls`) and two openrc files.
    pub(super) fn write_clouds_yaml(&self) -> Result {
        let k = self.keystone_url();
        let text = render(
            template("clouds.yaml"),
            &[
                ("keystone_url", &k),
                ("admin_password", ADMIN_PASSWORD),
                ("demo_password", DEMO_PASSWORD),
                ("keystone_tls_port", &self.keystone_tls_port.to_string()),
                ("glance_tls_port", &self.glance_tls_port.to_string()),
                ("ca", &self.path("tls/ca.pem").display().to_string()),
                ("keystone_short_port", &self.keystone_short_port.to_string()),
                ("glance_limits_port", &self.glance_limits_port.to_string()),
                ("keystone_b_url", &self.keystone_b_url()),
            ],
        )?;
        write(&self.path("clouds.yaml"), &text)?;
        for (file, user, password) in
            [("admin-openrc", "admin", ADMIN_PASSWORD), ("demo-openrc", "demo", DEMO_PASSWORD)]
        {
            let vars = [
                ("keystone_url", k.as_str()),
                ("user", user),
                ("password", password),
                ("project", user),
            ];
            write(&self.path(file), &render(template("openrc"), &vars)?)?;
        }
        Ok(())
    }
}

pub(super) fn paste_with_healthcheck_file(paste: &str, disable_file: &str) -> String {
    let mut out = String::new();
    let mut in_health = false;
    for line in paste.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_health = trimmed == "[app:healthcheck]";
        }
        if in_health && trimmed.starts_with("disable_by_file_path") {
            let _ = writeln!(out, "disable_by_file_path = {disable_file}");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

pub(super) fn sqlite_wal(db: &Path, python: &Path) -> Result {
    run(
        "sqlite journal_mode=WAL",
        Command::new(python).args([
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=WAL'); c.close()",
            &db.display().to_string(),
        ]),
    )
}

pub(super) fn write(path: &Path, text: &str) -> Result {
    if fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_fills_every_placeholder_or_fails() {
        assert_eq!(render("a {{x}} b {{x}}", &[("x", "1")]).unwrap(), "a 1 b 1");
        assert!(render("a {{y}}", &[("x", "1")]).is_err());
    }
}
