//! TLS for the tests: a private CA with a server and a client certificate, and nginx
//! terminating TLS in front of Keystone and Glance (also under a path prefix).

use std::process::Command;

use super::config::{render, template};
use super::install::ensure_package;
use super::{Cloud, write};
use crate::Result;

impl Cloud {
    /// nginx (from Debian's packages when missing), a private CA with server and client
    /// certificates, and the proxy configuration.
    pub(super) fn ensure_tls(&self) -> Result {
        ensure_package(&nginx_binary(), "nginx-light", "the TLS tests", "OSRS_NGINX")?;
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
        let d = self.dir.display().to_string();
        let t = tls.display().to_string();
        let server = |port: u16, upstream: u16| {
            render(
                template("nginx-server.conf"),
                &[
                    ("port", &port.to_string()),
                    ("upstream", &upstream.to_string()),
                    ("tls", &t),
                    ("glance_port", &self.glance_port.to_string()),
                ],
            )
        };
        let plain = render(
            template("nginx-plain.conf"),
            &[
                ("port", &self.glance_alt_port.to_string()),
                ("upstream", &self.glance_port.to_string()),
            ],
        )?;
        let servers = format!(
            "{}{}{plain}",
            server(self.keystone_tls_port, self.keystone_port)?,
            server(self.glance_tls_port, self.glance_port)?
        );
        let conf = render(template("nginx.conf"), &[("dir", &d), ("servers", &servers)])?;
        write(&self.path("etc/nginx/nginx.conf"), &conf)
    }
}

pub(super) fn nginx_binary() -> String {
    std::env::var("OSRS_NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".into())
}
