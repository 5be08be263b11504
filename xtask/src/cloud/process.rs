//! The server processes: their command lines, start with a health wait, stop, and whether
//! one of ours is running.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::tls::nginx_binary;
use super::{Cloud, Service, write};
use crate::Result;
use crate::http::{get_status, port_free_within};

impl Cloud {
    /// The pid of our own running process for `s`, if any (checked against `/proc`).
    pub(super) fn running_pid(&self, s: Service) -> Option<u32> {
        let pid: u32 = fs::read_to_string(self.pid_file(s)).ok()?.trim().parse().ok()?;
        // Only a process started in this state dir counts: never signal a stranger. (gunicorn
        // rewrites its command line, so the working directory is what we recognise it by.)
        let cwd = fs::read_link(format!("/proc/{pid}/cwd")).ok()?;
        (cwd == self.dir && !is_zombie(pid)).then_some(pid)
    }

    pub(super) fn healthy(&self, s: Service) -> bool {
        match s {
            // Plain HTTP to a TLS port: any HTTP answer (nginx says 400) means it listens.
            Service::Tls | Service::Proxy | Service::ProxyAuth | Service::ProxyDeny => {
                get_status(self.port(s), "/").is_some()
            }
            _ => get_status(self.port(s), s.health_path())
                .is_some_and(|code| code < 400 || code == 300),
        }
    }

    pub(super) fn command(&self, s: Service) -> Command {
        let d = &self.dir;
        let bind = format!("127.0.0.1:{}", self.port(s));
        // `modern`: the main venv's gunicorn (27) has a control socket we do not use; the
        // older releases' gunicorns do not know the option.
        let gunicorn_of = |bin: std::path::PathBuf, modern: bool, sizes: [&str; 3], shim: &str| {
            let [workers, threads, timeout] = sizes;
            let mut c = Command::new(bin);
            c.args(["--bind", &bind, "--workers", workers, "--worker-class", "gthread"])
                .args(["--threads", threads, "--timeout", timeout, "--graceful-timeout", "30"])
                .args(["--keep-alive", "75"]);
            if modern {
                c.arg("--no-control-socket");
            }
            c.arg("--pythonpath").arg(d.join("lib")).arg(format!("{shim}:application"));
            c
        };
        let gunicorn = |workers: &str, threads: &str, timeout: &str, shim: &str| {
            gunicorn_of(self.venv_bin("gunicorn"), true, [workers, threads, timeout], shim)
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
            Service::KeystoneShort => {
                let mut c = gunicorn("1", "1", "120", "keystone_wsgi_shim");
                c.env("OS_KEYSTONE_CONFIG_DIR", d.join("etc/keystone-short"));
                c
            }
            Service::Glance => {
                let mut c = gunicorn("1", "8", "600", "glance_wsgi_shim");
                c.env("OS_GLANCE_CONFIG_DIR", d.join("etc/glance"));
                c
            }
            Service::GlanceLimits => {
                let mut c = gunicorn("1", "4", "600", "glance_wsgi_shim");
                c.env("OS_GLANCE_CONFIG_DIR", d.join("etc/glance-limits"));
                c
            }
            Service::KeystoneB => {
                let mut c = gunicorn("1", "1", "120", "keystone_wsgi_shim");
                c.env("OS_KEYSTONE_CONFIG_DIR", d.join("etc/keystone-b"));
                c
            }
            Service::GlanceB => {
                let mut c = gunicorn("1", "4", "600", "glance_wsgi_shim");
                c.env("OS_GLANCE_CONFIG_DIR", d.join("etc/glance-b"));
                c
            }
            Service::Release(r) => {
                let bin = self.release_bin(r, "gunicorn");
                let mut c = gunicorn_of(bin, false, ["1", "4", "600"], "glance_wsgi_shim");
                c.env("OS_GLANCE_CONFIG_DIR", self.release_dir(r).join("etc/glance"));
                if !r.immediate_sqlite {
                    c.env("OSRS_SQLITE_DEFERRED", "1");
                }
                c
            }
            Service::Tls => {
                let mut c = Command::new(nginx_binary());
                c.arg("-c").arg(d.join("etc/nginx/nginx.conf")).arg("-p").arg(d.join("run/nginx"));
                c
            }
            Service::Proxy | Service::ProxyAuth | Service::ProxyDeny => {
                let mut c = Command::new(super::proxy::tinyproxy_binary());
                c.arg("-d").arg("-c").arg(d.join(format!("etc/tinyproxy/{}.conf", s.name())));
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

    pub(super) fn start(&self, s: Service) -> Result {
        if self.running_pid(s).is_some() {
            if self.healthy(s) {
                return Ok(());
            }
            // Ours but not answering: restart it.
            self.stop(s)?;
        }
        let port = self.port(s);
        // A server of ours killed a moment ago may still hold its socket for a few seconds.
        if !port_free_within(port, Duration::from_secs(15)) {
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

    /// Kills a service and everything it started with SIGKILL (its process group), as a
    /// crash or an OOM kill would: no graceful shutdown, in-flight requests cut.
    pub(super) fn kill(&self, s: Service) -> Result {
        let Some(pid) = self.running_pid(s) else {
            let _ = fs::remove_file(self.pid_file(s));
            return Ok(());
        };
        // Started with process_group(0): the group id is the pid.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid) {
            if Instant::now() > deadline {
                return Err(format!("{} (pid {pid}) survived SIGKILL", s.name()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = fs::remove_file(self.pid_file(s));
        eprintln!("xtask: killed {} (pid {pid} and its process group)", s.name());
        Ok(())
    }

    pub(super) fn stop(&self, s: Service) -> Result {
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
}

pub(super) fn is_zombie(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(true)
}

pub(super) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let mut out = all[all.len().saturating_sub(lines)..].join("\n");
    out.push('\n');
    out
}

pub(super) fn log_tail_since(path: &Path, offset: u64, lines: usize) -> String {
    let bytes = fs::read(path).unwrap_or_default();
    let start = usize::try_from(offset).unwrap_or(0).min(bytes.len());
    tail(&String::from_utf8_lossy(&bytes[start..]), lines)
}
