//! The server processes of the local cloud, by name.

/// One server process of the local cloud.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Service {
    Keystone,
    Glance,
    Web,
    /// nginx terminating TLS in front of Keystone and Glance.
    Tls,
    /// A second Keystone on the same database and keys whose tokens live one minute (the
    /// token-expiry tests authenticate there; Glance validates them like any other).
    KeystoneShort,
    /// A second Glance on the same database and stores with unified limits on (every image
    /// create asks Keystone, 1.8 s each, so the main Glance keeps them off): the quota usage
    /// tests use it, through the `local-limits` cloud.
    GlanceLimits,
    /// The Keystone of cloud `local-b`: a second, separate cloud (its own database, keys,
    /// users and catalog), for copies between clouds that really differ.
    KeystoneB,
    /// The Glance of cloud `local-b`: its own database and one file store, no image cache
    /// (the commonest production setup).
    GlanceB,
    /// tinyproxy forwarding anything (the proxy tests).
    Proxy,
    /// tinyproxy asking for a user and password.
    ProxyAuth,
    /// tinyproxy refusing every tunnel and forwarded request.
    ProxyDeny,
    /// Another Glance release (`cloud up --glance <release>`), not started by `cloud up`.
    Release(&'static super::release::Release),
}

impl Service {
    pub(super) const ALL: [Service; 11] = [
        Service::Keystone,
        Service::Glance,
        Service::Web,
        Service::Tls,
        Service::KeystoneShort,
        Service::GlanceLimits,
        Service::KeystoneB,
        Service::GlanceB,
        Service::Proxy,
        Service::ProxyAuth,
        Service::ProxyDeny,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Service::Keystone => "keystone",
            Service::Glance => "glance",
            Service::Web => "web",
            Service::Tls => "nginx",
            Service::KeystoneShort => "keystone-short",
            Service::GlanceLimits => "glance-limits",
            Service::KeystoneB => "keystone-b",
            Service::GlanceB => "glance-b",
            Service::Proxy => "proxy",
            Service::ProxyAuth => "proxy-auth",
            Service::ProxyDeny => "proxy-deny",
            Service::Release(r) => r.name,
        }
    }

    pub(super) fn port_var(self) -> &'static str {
        match self {
            Service::Keystone => "OSRS_KEYSTONE_PORT",
            Service::Glance => "OSRS_GLANCE_PORT",
            Service::Web => "OSRS_WEB_PORT",
            Service::Tls => "OSRS_KEYSTONE_TLS_PORT",
            Service::KeystoneShort => "OSRS_KEYSTONE_SHORT_PORT",
            Service::GlanceLimits => "OSRS_GLANCE_LIMITS_PORT",
            Service::KeystoneB => "OSRS_KEYSTONE_B_PORT",
            Service::GlanceB => "OSRS_GLANCE_B_PORT",
            Service::Proxy => "OSRS_PROXY_PORT",
            Service::ProxyAuth => "OSRS_PROXY_AUTH_PORT",
            Service::ProxyDeny => "OSRS_PROXY_DENY_PORT",
            Service::Release(r) => r.port_var,
        }
    }

    pub(super) fn health_path(self) -> &'static str {
        match self {
            Service::Keystone | Service::KeystoneShort | Service::KeystoneB => "/v3",
            Service::Glance | Service::GlanceLimits | Service::GlanceB | Service::Release(_) => {
                "/healthcheck"
            }
            Service::Web | Service::Tls => "/",
            Service::Proxy | Service::ProxyAuth | Service::ProxyDeny => "/",
        }
    }
}
