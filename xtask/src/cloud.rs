//! `cargo xtask cloud ...`: a real Keystone 30 + Glance 33 on 127.0.0.1, from PyPI.
//!
//! Everything lives in one state dir (`OSRS_CLOUD_DIR`, default `~/.cache/openstack-rs/cloud`):
//! `venv/`, `etc/{keystone,glance}/`, `lib/` (WSGI shims), `data/`, `www/`, `log/`, `run/`,
//! `clouds.yaml`. Each step is idempotent: `up` on a healthy cloud only re-checks health.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::http::{get_status, port_in_use};
use crate::{Result, run, workspace_root};

const ADMIN_PASSWORD: &str = "admin-secret";
const DEMO_PASSWORD: &str = "demo-secret";
const GLANCE_PASSWORD: &str = "glance-service-secret";
const SERVER_PINS: &[&str] = &[
    "glance==33.0.0",
    "glance-store==5.7.0",
    "keystone==30.0.0",
    "keystonemiddleware==13.0.1",
    "gunicorn==27.0.1",
];

/// One server process of the local cloud.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Service {
    Keystone,
    Glance,
    Web,
    /// nginx terminating TLS in front of Keystone and Glance.
    Tls,
}

impl Service {
    const ALL: [Service; 4] = [Service::Keystone, Service::Glance, Service::Web, Service::Tls];

    fn name(self) -> &'static str {
        match self {
            Service::Keystone => "keystone",
            Service::Glance => "glance",
            Service::Web => "web",
            Service::Tls => "nginx",
        }
    }

    fn port_var(self) -> &'static str {
        match self {
            Service::Keystone => "OSRS_KEYSTONE_PORT",
            Service::Glance => "OSRS_GLANCE_PORT",
            Service::Web => "OSRS_WEB_PORT",
            Service::Tls => "OSRS_KEYSTONE_TLS_PORT",
        }
    }

    fn health_path(self) -> &'static str {
        match self {
            Service::Keystone => "/v3",
            Service::Glance => "/healthcheck",
            Service::Web | Service::Tls => "/",
        }
    }
}

/// The local cloud's layout and ports.
pub(crate) struct Cloud {
    dir: PathBuf,
    keystone_port: u16,
    glance_port: u16,
    web_port: u16,
    keystone_tls_port: u16,
    glance_tls_port: u16,
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
            glance_tls_port: port_from_env("OSRS_GLANCE_TLS_PORT", 9443)?,
        })
    }

    fn port(&self, s: Service) -> u16 {
        match s {
            Service::Keystone => self.keystone_port,
            Service::Glance => self.glance_port,
            Service::Web => self.web_port,
            Service::Tls => self.keystone_tls_port,
        }
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
        ]
    }

    /// `export K=V` lines for a shell.
    pub(crate) fn env_exports(&self) -> String {
        let mut out = String::new();
        for (k, v) in self.env_vars() {
            let _ = writeln!(out, "export {k}='{v}'");
        }
        out
    }

    /// The pid of our own running process for `s`, if any (checked against `/proc`).
    fn running_pid(&self, s: Service) -> Option<u32> {
        let pid: u32 = fs::read_to_string(self.pid_file(s)).ok()?.trim().parse().ok()?;
        // Only a process started in this state dir counts: never signal a stranger. (gunicorn
        // rewrites its command line, so the working directory is what we recognise it by.)
        let cwd = fs::read_link(format!("/proc/{pid}/cwd")).ok()?;
        (cwd == self.dir && !is_zombie(pid)).then_some(pid)
    }

    fn healthy(&self, s: Service) -> bool {
        match s {
            // Plain HTTP to a TLS port: any HTTP answer (nginx says 400) means it listens.
            Service::Tls => get_status(self.port(s), "/").is_some(),
            _ => get_status(self.port(s), s.health_path())
                .is_some_and(|code| code < 400 || code == 300),
        }
    }

    /// `cloud up`: install, configure, initialise and start whatever is missing.
    pub(crate) fn up(&self) -> Result {
        let started = Instant::now();
        if Service::ALL.iter().all(|&s| self.running_pid(s).is_some() && self.healthy(s)) {
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
            "www",
            "log",
            "run",
            "run/nginx",
            "tls",
            "etc/nginx",
        ] {
            fs::create_dir_all(self.path(sub)).map_err(|e| format!("creating {sub}: {e}"))?;
        }
        self.ensure_venv()?;
        self.write_configs()?;
        self.init_keystone()?;
        self.init_glance()?;
        self.start(Service::Keystone)?;
        self.bootstrap_catalog()?;
        self.start(Service::Glance)?;
        self.start(Service::Web)?;
        self.ensure_tls()?;
        self.start(Service::Tls)?;
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

    fn ensure_venv(&self) -> Result {
        let constraints = workspace_root().join("xtask/cloud/constraints.txt");
        let pins = fs::read_to_string(&constraints)
            .map_err(|e| format!("reading {}: {e}", constraints.display()))?;
        let stamp_wanted = format!("{}\n{pins}", SERVER_PINS.join(" "));
        let stamp = self.path("venv/.osrs-installed");
        if fs::read_to_string(&stamp).ok().as_deref() == Some(stamp_wanted.as_str()) {
            return Ok(());
        }
        let python = std::env::var("OSRS_PYTHON").unwrap_or_else(|_| "python3".into());
        let version = Command::new(&python)
            .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
            .output()
            .map_err(|e| {
                format!("cannot run {python} ({e}); install Python >= 3.11 or set OSRS_PYTHON")
            })?;
        let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
        let minor: u32 = version.strip_prefix("3.").and_then(|m| m.parse().ok()).unwrap_or(0);
        if minor < 11 {
            return Err(format!(
                "{python} is Python {version:?}; Glance 33 needs >= 3.11 (set OSRS_PYTHON)"
            ));
        }
        let venv = self.path("venv");
        if venv.exists() {
            fs::remove_dir_all(&venv).map_err(|e| format!("removing stale venv: {e}"))?;
        }
        eprintln!("xtask: creating the server venv with {python} {version} (about a minute)");
        let out = Command::new(&python)
            .args(["-m", "venv"])
            .arg(&venv)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "`{python} -m venv` failed (on Debian: apt-get install python3-venv):\n{}",
                tail(&String::from_utf8_lossy(&out.stderr), 20)
            ));
        }
        let log = self.path("log/pip.log");
        let log_file = fs::File::create(&log).map_err(|e| e.to_string())?;
        let status = Command::new(self.venv_bin("pip"))
            .args(["install", "--no-input", "--progress-bar", "off", "-c"])
            .arg(&constraints)
            .args(SERVER_PINS)
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .status()
            .map_err(|e| format!("cannot run pip: {e}"))?;
        if !status.success() {
            let text = fs::read_to_string(&log).unwrap_or_default();
            return Err(format!(
                "pip install failed ({status}); last lines of {}:\n{}",
                log.display(),
                tail(&text, 30)
            ));
        }
        fs::write(&stamp, stamp_wanted).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// A second venv with openstacksdk (for the comparison benchmark only), from the same
    /// constraints. Returns its Python.
    pub(crate) fn ensure_sdk_venv(&self) -> Result<PathBuf> {
        let venv = self.path("sdk-venv");
        let python = venv.join("bin").join("python");
        let stamp = venv.join(".osrs-installed");
        if stamp.exists() {
            return Ok(python);
        }
        eprintln!("xtask: creating the openstacksdk venv for the comparison (about 20 s)");
        let _ = fs::remove_dir_all(&venv);
        let base = std::env::var("OSRS_PYTHON").unwrap_or_else(|_| "python3".into());
        run("python -m venv (openstacksdk)", Command::new(&base).args(["-m", "venv"]).arg(&venv))?;
        let constraints = workspace_root().join("xtask/cloud/constraints.txt");
        let out = Command::new(venv.join("bin").join("pip"))
            .args(["install", "--no-input", "--progress-bar", "off", "-c"])
            .arg(&constraints)
            .arg("openstacksdk==4.22.0")
            .output()
            .map_err(|e| format!("cannot run pip: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "pip install openstacksdk failed:\n{}",
                tail(&String::from_utf8_lossy(&out.stderr), 30)
            ));
        }
        write(&stamp, "openstacksdk==4.22.0\n")?;
        Ok(python)
    }

    fn write_configs(&self) -> Result {
        let d = self.dir.display().to_string();
        let keystone = format!(
            "[DEFAULT]\nlog_file = {d}/log/keystone.log\n\n\
             [database]\nconnection = sqlite:///{d}/data/keystone/keystone.sqlite?timeout=60\n\n\
             [token]\nprovider = fernet\nexpiration = 14400\n\n\
             [fernet_tokens]\nkey_repository = {d}/data/keystone/fernet-keys\n\n\
             [fernet_receipts]\nkey_repository = {d}/data/keystone/fernet-keys\n\n\
             [credential]\nkey_repository = {d}/data/keystone/credential-keys\n"
        );
        write(&self.path("etc/keystone/keystone.conf"), &keystone)?;

        let (k, g, w) = (self.keystone_url(), self.glance_url(), self.web_port);
        let glance_port = self.glance_port;
        let glance = format!(
            "[DEFAULT]\n\
             log_file = {d}/log/glance-api.log\n\
             enabled_backends = fast:file, slow:file, cold:file, web:http\n\
             enabled_import_methods = [glance-direct,web-download,copy-image,glance-download]\n\
             worker_self_reference_url = {g}\n\
             public_endpoint = {g}\n\
             image_cache_dir = {d}/data/glance/cache\n\
             image_cache_driver = centralized_db\n\
             image_cache_max_size = 10737418240\n\
             show_image_direct_url = true\n\
             hashing_algorithm = sha512\n\
             use_keystone_limits = false\n\n\
             [database]\nconnection = sqlite:///{d}/data/glance/glance.sqlite?timeout=60\n\n\
             [glance_store]\ndefault_backend = fast\n\n\
             [fast]\nfilesystem_store_datadir = {d}/data/glance/stores/fast/\nstore_description = Fast file store\nweight = 100\n\n\
             [slow]\nfilesystem_store_datadir = {d}/data/glance/stores/slow/\nstore_description = Slow file store\nweight = 50\n\n\
             [cold]\nfilesystem_store_datadir = {d}/data/glance/stores/cold/\nstore_description = Cold file store\nweight = 10\n\n\
             [web]\nstore_description = Read-only HTTP store (locations only)\n\n\
             [os_glance_staging_store]\nfilesystem_store_datadir = {d}/data/glance/staging/\n\n\
             [os_glance_tasks_store]\nfilesystem_store_datadir = {d}/data/glance/tasks/\n\n\
             [import_filtering_opts]\nallowed_schemes = [http,https]\nallowed_hosts = [127.0.0.1]\n\
             allowed_ports = [80,443,{w},{glance_port}]\n\n\
             [keystone_authtoken]\nwww_authenticate_uri = {k}\nauth_url = {k}\nauth_type = password\n\
             username = glance\npassword = {GLANCE_PASSWORD}\nproject_name = service\n\
             user_domain_name = Default\nproject_domain_name = Default\nregion_name = RegionOne\n\n\
             [oslo_limit]\nauth_url = {k}\nauth_type = password\nusername = glance\npassword = {GLANCE_PASSWORD}\n\
             user_domain_name = Default\nsystem_scope = all\nendpoint_service_type = image\n\
             endpoint_region_name = RegionOne\nendpoint_interface = public\n\n\
             [paste_deploy]\nflavor = keystone+cachemanagement\nconfig_file = {d}/etc/glance/glance-api-paste.ini\n\n\
             [oslo_concurrency]\nlock_path = {d}/data/glance/locks\n\n\
             [wsgi]\npython_interpreter = {d}/venv/bin/python\ntask_pool_threads = 16\n"
        );
        write(&self.path("etc/glance/glance-api.conf"), &glance)?;

        // Glance's paste pipeline, with the healthcheck's disable file moved into our state dir.
        let shipped = self.path("venv/etc/glance/glance-api-paste.ini");
        let paste = fs::read_to_string(&shipped)
            .map_err(|e| format!("reading {}: {e}", shipped.display()))?;
        let paste =
            paste_with_healthcheck_file(&paste, &format!("{d}/run/glance-healthcheck-disable"));
        write(&self.path("etc/glance/glance-api-paste.ini"), &paste)?;

        write(
            &self.path("lib/sqlite_immediate_shim.py"),
            "\"\"\"Make SQLite transactions take the write lock up front (BEGIN IMMEDIATE).\n\n\
             oslo.db (which already drives BEGIN itself for SQLite) opens deferred transactions; a read-then-write transaction that meets another\n\
             writer then fails at once with 'database is locked'. Concurrent tests need this.\n\"\"\"\n\
             from sqlalchemy import event\nfrom sqlalchemy.engine import Engine\n\n\n\
             @event.listens_for(Engine, \"before_cursor_execute\", retval=True)\n\
             def _immediate(conn, cursor, statement, parameters, context, executemany):\n\
             \x20   if conn.dialect.name == \"sqlite\" and statement.strip().upper() == \"BEGIN\":\n\
             \x20       statement = \"BEGIN IMMEDIATE\"\n\
             \x20   return statement, parameters\n",
        )?;
        write(
            &self.path("lib/keystone_wsgi_shim.py"),
            "import sys\n\n# keystone parses sys.argv with oslo.config; gunicorn's arguments would kill the worker.\n\
             sys.argv = sys.argv[:1]\n\nimport sqlite_immediate_shim  # noqa: E402,F401\n\
             from keystone.wsgi.api import application  # noqa: E402,F401\n",
        )?;
        write(
            &self.path("lib/glance_wsgi_shim.py"),
            "import sqlite_immediate_shim  # noqa: F401\nfrom glance.wsgi.api import application  # noqa: F401\n",
        )?;
        write(
            &self.path("www/index.html"),
            "<html><body>openstack-rs local web-download source</body></html>\n",
        )?;
        Ok(())
    }

    fn manage(&self, tool: &str, conf: &str, args: &[&str]) -> Result {
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

    fn init_keystone(&self) -> Result {
        let conf = "etc/keystone/keystone.conf";
        let marker = self.path("data/keystone/.initialised");
        if !marker.exists() {
            eprintln!("xtask: initialising keystone");
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
            sqlite_wal(&self.path("data/keystone/keystone.sqlite"), &self.venv_bin("python"))?;
        }
        // bootstrap is idempotent and corrects the identity endpoint when the port changed.
        let url = format!("{}/v3", self.keystone_url());
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

    fn init_glance(&self) -> Result {
        let conf = "etc/glance/glance-api.conf";
        let marker = self.path("data/glance/.initialised");
        if marker.exists() {
            return Ok(());
        }
        eprintln!("xtask: initialising glance (database + standard metadefs)");
        self.manage("glance-manage", conf, &["db_sync"])?;
        let metadefs = self.path("venv/etc/glance/metadefs");
        self.manage("glance-manage", conf, &["db_load_metadefs", &metadefs.display().to_string()])?;
        sqlite_wal(&self.path("data/glance/glance.sqlite"), &self.venv_bin("python"))?;
        write(&marker, "ok\n")
    }

    fn bootstrap_catalog(&self) -> Result {
        let script = workspace_root().join("xtask/cloud/bootstrap_catalog.py");
        let out = Command::new(self.venv_bin("python"))
            .arg(&script)
            .args([
                &self.keystone_url(),
                &self.glance_url(),
                ADMIN_PASSWORD,
                GLANCE_PASSWORD,
                DEMO_PASSWORD,
            ])
            .env("PYTHONWARNINGS", "ignore")
            .output()
            .map_err(|e| format!("cannot run the catalog bootstrap: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "creating the Keystone catalog failed:\n{}{}",
                tail(&String::from_utf8_lossy(&out.stdout), 10),
                tail(&String::from_utf8_lossy(&out.stderr), 20)
            ))
        }
    }

    fn command(&self, s: Service) -> Command {
        let d = &self.dir;
        let bind = format!("127.0.0.1:{}", self.port(s));
        let gunicorn = |workers: &str, threads: &str, timeout: &str, shim: &str| {
            let mut c = Command::new(self.venv_bin("gunicorn"));
            c.args([
                "--bind",
                &bind,
                "--workers",
                workers,
                "--worker-class",
                "gthread",
                "--threads",
                threads,
            ])
            .args([
                "--timeout",
                timeout,
                "--graceful-timeout",
                "30",
                "--keep-alive",
                "75",
                "--no-control-socket",
            ])
            .arg("--pythonpath")
            .arg(d.join("lib"))
            .arg(format!("{shim}:application"));
            c
        };
        let mut cmd = match s {
            Service::Keystone => {
                // One thread per worker: under concurrent requests, Keystone 30 with several
                // threads in one worker was seen to mix role lists between requests (an
                // application credential created with another request's `service` role).
                let mut c = gunicorn("2", "1", "120", "keystone_wsgi_shim");
                c.env("OS_KEYSTONE_CONFIG_DIR", d.join("etc/keystone"));
                c
            }
            Service::Glance => {
                let mut c = gunicorn("1", "8", "600", "glance_wsgi_shim");
                c.env("OS_GLANCE_CONFIG_DIR", d.join("etc/glance"));
                c
            }
            Service::Tls => {
                let mut c = Command::new(nginx_binary());
                c.arg("-c").arg(d.join("etc/nginx/nginx.conf")).arg("-p").arg(d.join("run/nginx"));
                c
            }
            Service::Web => {
                let mut c = Command::new(self.venv_bin("python"));
                c.args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
                    .arg(d.join("www"))
                    .arg(self.port(s).to_string());
                c
            }
        };
        cmd.env("PYTHONWARNINGS", "ignore").env("PYTHONUNBUFFERED", "1");
        cmd
    }

    fn start(&self, s: Service) -> Result {
        if self.running_pid(s).is_some() {
            if self.healthy(s) {
                return Ok(());
            }
            // Ours but not answering: restart it.
            self.stop(s)?;
        }
        let port = self.port(s);
        if port_in_use(port) {
            return Err(format!(
                "port {port} on 127.0.0.1 (for {}) is already in use by another process; \
                 stop it or choose another port with {}=<port>",
                s.name(),
                s.port_var()
            ));
        }
        let log_path = self.server_log(s);
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("opening {}: {e}", log_path.display()))?;
        let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
        let mut cmd = self.command(s);
        cmd.current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        // Own process group: a Ctrl-C in the terminal that ran `cloud up` does not stop the servers.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd.spawn().map_err(|e| format!("starting {}: {e}", s.name()))?;
        write(&self.pid_file(s), &format!("{}\n", child.id()))?;
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if self.healthy(s) {
                eprintln!("xtask: {} answers on 127.0.0.1:{port}", s.name());
                return Ok(());
            }
            if let Ok(Some(status)) = child.try_wait() {
                let _ = fs::remove_file(self.pid_file(s));
                return Err(format!(
                    "{} exited during start-up ({status}); end of {}:\n{}",
                    s.name(),
                    log_path.display(),
                    log_tail_since(&log_path, log_start, 40)
                ));
            }
            if Instant::now() > deadline {
                let _ = self.stop(s);
                return Err(format!(
                    "{} did not answer GET {} on 127.0.0.1:{port} within 90 s; end of {}:\n{}",
                    s.name(),
                    s.health_path(),
                    log_path.display(),
                    log_tail_since(&log_path, log_start, 40)
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn stop(&self, s: Service) -> Result {
        let Some(pid) = self.running_pid(s) else {
            let _ = fs::remove_file(self.pid_file(s));
            return Ok(());
        };
        let signal = |sig: &str| {
            Command::new("kill").args([sig, &pid.to_string()]).stderr(Stdio::null()).status()
        };
        let _ = signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(40);
        while Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid) {
            if Instant::now() > deadline {
                let _ = signal("-KILL");
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = fs::remove_file(self.pid_file(s));
        eprintln!("xtask: stopped {} (pid {pid})", s.name());
        Ok(())
    }

    /// `cloud down`: stops our own processes (by saved pid, checked against the state dir).
    pub(crate) fn down(&self) -> Result {
        for s in [Service::Tls, Service::Web, Service::Glance, Service::Keystone] {
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
                "{:<9} 127.0.0.1:{:<5} {:<14} {}",
                s.name(),
                self.port(s),
                pid.map_or("not running".to_string(), |p| format!("pid {p}")),
                if healthy { "answers" } else { "no answer" }
            );
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

    /// nginx (from Debian's packages when missing), a private CA with server and client
    /// certificates, and the proxy configuration.
    fn ensure_tls(&self) -> Result {
        if !Path::new(&nginx_binary()).exists() {
            eprintln!("xtask: installing nginx (apt-get) for the TLS tests");
            let _ = Command::new("apt-get").args(["update", "-qq"]).status();
            let out = Command::new("apt-get")
                .args(["install", "-y", "-qq", "--no-install-recommends", "nginx-light"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .output()
                .map_err(|e| format!("cannot run apt-get to install nginx: {e}"))?;
            if !out.status.success() || !Path::new(&nginx_binary()).exists() {
                return Err(format!(
                    "installing nginx failed (the TLS tests need it; install nginx by hand):\n{}",
                    tail(&String::from_utf8_lossy(&out.stderr), 20)
                ));
            }
        }
        let tls = self.path("tls");
        if !tls.join("client.pem").exists() {
            eprintln!("xtask: generating a private CA, a server and a client certificate");
            let openssl = |args: &[&str]| -> Result {
                let out = Command::new("openssl")
                    .args(args)
                    .current_dir(&tls)
                    .output()
                    .map_err(|e| format!("cannot run openssl: {e}"))?;
                if out.status.success() {
                    Ok(())
                } else {
                    Err(format!(
                        "openssl {} failed:\n{}",
                        args.join(" "),
                        String::from_utf8_lossy(&out.stderr)
                    ))
                }
            };
            openssl(&[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "3650",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-subj",
                "/CN=openstack-rs test CA",
            ])?;
            write(
                &tls.join("server.ext"),
                "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
            )?;
            write(&tls.join("client.ext"), "extendedKeyUsage=clientAuth\n")?;
            for (name, cn) in [("server", "127.0.0.1"), ("client", "openstack-rs test client")] {
                openssl(&[
                    "req",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.csr"),
                    "-subj",
                    &format!("/CN={cn}"),
                ])?;
                openssl(&[
                    "x509",
                    "-req",
                    "-in",
                    &format!("{name}.csr"),
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-days",
                    "3650",
                    "-out",
                    &format!("{name}.pem"),
                    "-extfile",
                    &format!("{name}.ext"),
                ])?;
            }
        }
        let d = self.dir.display();
        let t = tls.display();
        // Each TLS server proxies its service at `/`, and Glance also under `/image/` (a
        // path-prefixed endpoint, as many clouds publish behind one HTTPS front).
        let server = |port: u16, upstream: u16| {
            let proxy = "proxy_http_version 1.1;\n      proxy_set_header Host $http_host;\n      \
                         proxy_set_header Connection \"\";\n";
            format!(
                "  server {{\n    listen 127.0.0.1:{port} ssl;\n    ssl_certificate {t}/server.pem;\n    \
                 ssl_certificate_key {t}/server.key;\n    ssl_client_certificate {t}/ca.pem;\n    \
                 ssl_verify_client optional;\n    location = /client-cert {{\n      default_type text/plain;\n      \
                 return 200 \"$ssl_client_verify $ssl_client_s_dn\";\n    }}\n    location / {{\n      \
                 proxy_pass http://127.0.0.1:{upstream};\n      {proxy}    }}\n    location /image/ {{\n      \
                 proxy_pass http://127.0.0.1:{glance}/;\n      {proxy}    }}\n  }}\n",
                glance = self.glance_port
            )
        };
        let conf = format!(
            "daemon off;\nworker_processes 1;\npid {d}/run/nginx/nginx.pid;\nerror_log {d}/log/nginx-error.log;\n\
             events {{ worker_connections 512; }}\nhttp {{\n  access_log {d}/log/nginx-access.log;\n  \
             client_max_body_size 0;\n  proxy_request_buffering off;\n  proxy_buffering off;\n  \
             proxy_read_timeout 600s;\n  client_body_temp_path {d}/run/nginx/body;\n  proxy_temp_path {d}/run/nginx/proxy;\n  \
             fastcgi_temp_path {d}/run/nginx/fastcgi;\n  uwsgi_temp_path {d}/run/nginx/uwsgi;\n  scgi_temp_path {d}/run/nginx/scgi;\n{}{}}}\n",
            server(self.keystone_tls_port, self.keystone_port),
            server(self.glance_tls_port, self.glance_port)
        );
        write(&self.path("etc/nginx/nginx.conf"), &conf)
    }

    fn write_clouds_yaml(&self) -> Result {
        let k = self.keystone_url();
        let cloud = |name: &str, user: &str, pw: &str, project: &str| {
            format!(
                "  {name}:\n    auth:\n      auth_url: {k}/v3\n      username: {user}\n      password: {pw}\n      \
                 project_name: {project}\n      user_domain_name: Default\n      project_domain_name: Default\n    \
                 region_name: RegionOne\n    interface: public\n    identity_api_version: 3\n"
            )
        };
        let tls = format!(
            "  local-tls:\n    auth:\n      auth_url: https://127.0.0.1:{}/v3\n      username: admin\n      \
             password: {ADMIN_PASSWORD}\n      project_name: admin\n      user_domain_name: Default\n      \
             project_domain_name: Default\n    region_name: RegionOne\n    interface: public\n    \
             cacert: {}\n    image_endpoint_override: https://127.0.0.1:{}\n",
            self.keystone_tls_port,
            self.path("tls/ca.pem").display(),
            self.glance_tls_port
        );
        let text = format!(
            "# Written by `cargo xtask cloud up`: the local test cloud.\nclouds:\n{}{}{tls}",
            cloud("local", "admin", ADMIN_PASSWORD, "admin"),
            cloud("local-demo", "demo", DEMO_PASSWORD, "demo")
        );
        write(&self.path("clouds.yaml"), &text)?;
        let openrc = |user: &str, pw: &str, project: &str| {
            format!(
                "export OS_AUTH_URL={k}/v3\nexport OS_USERNAME={user}\nexport OS_PASSWORD={pw}\n\
                 export OS_PROJECT_NAME={project}\nexport OS_USER_DOMAIN_NAME=Default\n\
                 export OS_PROJECT_DOMAIN_NAME=Default\nexport OS_REGION_NAME=RegionOne\nexport OS_INTERFACE=public\n"
            )
        };
        write(&self.path("admin-openrc"), &openrc("admin", ADMIN_PASSWORD, "admin"))?;
        write(&self.path("demo-openrc"), &openrc("demo", DEMO_PASSWORD, "demo"))
    }
}

fn nginx_binary() -> String {
    std::env::var("OSRS_NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".into())
}

fn paste_with_healthcheck_file(paste: &str, disable_file: &str) -> String {
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

fn is_zombie(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(true)
}

fn sqlite_wal(db: &Path, python: &Path) -> Result {
    run(
        "sqlite journal_mode=WAL",
        Command::new(python).args([
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=WAL'); c.close()",
            &db.display().to_string(),
        ]),
    )
}

fn write(path: &Path, text: &str) -> Result {
    if fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let mut out = all[all.len().saturating_sub(lines)..].join("\n");
    out.push('\n');
    out
}

fn log_tail_since(path: &Path, offset: u64, lines: usize) -> String {
    let bytes = fs::read(path).unwrap_or_default();
    let start = usize::try_from(offset).unwrap_or(0).min(bytes.len());
    tail(&String::from_utf8_lossy(&bytes[start..]), lines)
}
