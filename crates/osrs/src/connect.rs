//! From the global options (and `OS_*`) to an image proxy.

use openstack_client::auth::{CloudConfig, Interface};
use openstack_client::image::ImageProxy;
use openstack_client::{Connection, Error};

use crate::cli::Global;

/// The cloud the global options name: `--os-cloud`/`OS_CLOUD` from clouds.yaml, else the
/// `OS_*` variables; then the region, interface, CA, verification and API version given.
pub(crate) fn config(g: &Global) -> Result<CloudConfig, Error> {
    let mut cfg = match &g.os_cloud {
        Some(name) => CloudConfig::from_cloud(name),
        None => CloudConfig::from_env(),
    }
    .map_err(|e| Error::Config(Box::new(e)))?;
    if let Some(r) = &g.os_region_name {
        cfg.region_name = Some(r.clone());
    }
    if let Some(i) = &g.os_interface {
        cfg.interface = Interface::parse(i).ok_or_else(|| {
            Error::InvalidArgument(format!("--os-interface {i:?}: use public, internal or admin"))
        })?;
    }
    if let Some(c) = &g.os_cacert {
        cfg.cacert = Some(c.clone());
    }
    if g.insecure {
        cfg.verify = false;
    }
    if let Some(v) = &g.os_image_api_version {
        cfg.api_versions.insert("image".into(), v.clone());
    }
    Ok(cfg)
}

/// An image proxy on `cfg`.
pub(crate) fn image(cfg: CloudConfig) -> Result<ImageProxy, Error> {
    Ok(Connection::builder().config(cfg).build()?.image())
}
