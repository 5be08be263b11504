//! Forward proxies for the proxy tests: three tinyproxy instances (from Debian's packages
//! when missing) on loopback. `proxy` forwards anything, `proxy-auth` wants a user and
//! password (407 without), `proxy-deny` refuses every tunnel and every forwarded request
//! (403).

use super::config::{render, template};
use super::install::ensure_package;
use super::{Cloud, Service, write};
use crate::Result;

/// The user and password of `proxy-auth`.
pub(super) const PROXY_USER: &str = "osrs-proxy";
pub(super) const PROXY_PASSWORD: &str = "pr0xy-secret";

pub(super) fn tinyproxy_binary() -> String {
    std::env::var("OSRS_TINYPROXY").unwrap_or_else(|_| "/usr/bin/tinyproxy".into())
}

impl Cloud {
    /// tinyproxy (installed with apt-get when missing) and the three proxies' configuration.
    pub(super) fn ensure_proxies(&self) -> Result {
        ensure_package(&tinyproxy_binary(), "tinyproxy-bin", "the proxy tests", "OSRS_TINYPROXY")?;
        let d = self.dir.display().to_string();
        let filter = self.path("etc/tinyproxy/deny-all.filter");
        write(&filter, "")?;
        for s in [Service::Proxy, Service::ProxyAuth, Service::ProxyDeny] {
            let extra = match s {
                Service::ProxyAuth => format!("BasicAuth {PROXY_USER} {PROXY_PASSWORD}"),
                // CONNECT only to port 443 (none of ours), and no forwarded URL passes the
                // (empty) filter.
                Service::ProxyDeny => format!(
                    "ConnectPort 443\nFilterDefaultDeny Yes\nFilter \"{}\"",
                    filter.display()
                ),
                _ => String::new(),
            };
            let conf = render(
                template("tinyproxy.conf"),
                &[
                    ("name", s.name()),
                    ("port", &self.port(s).to_string()),
                    ("dir", &d),
                    ("extra", &extra),
                ],
            )?;
            write(&self.path(&format!("etc/tinyproxy/{}.conf", s.name())), &conf)?;
        }
        Ok(())
    }

    /// `http://127.0.0.1:<port>` of a proxy (with the user and password for `proxy-auth`).
    pub(super) fn proxy_url(&self, s: Service) -> String {
        match s {
            Service::ProxyAuth => {
                format!("http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{}", self.port(s))
            }
            _ => format!("http://127.0.0.1:{}", self.port(s)),
        }
    }
}
