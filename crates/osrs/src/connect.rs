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
    overrides(&mut cfg, g)?;
    Ok(cfg)
}

/// The far cloud of `image copy --to-cloud NAME`: its own clouds.yaml entry and region, with
/// the global options that are not about one cloud (interface, CA, verification, API version)
/// applied as to the source.
pub(crate) fn target_config(name: &str, g: &Global) -> Result<CloudConfig, Error> {
    let mut cfg = CloudConfig::from_cloud(name).map_err(|e| Error::Config(Box::new(e)))?;
    overrides(&mut cfg, g)?;
    Ok(cfg)
}

/// The global options every cloud of a command takes (all but the cloud and its region).
fn overrides(cfg: &mut CloudConfig, g: &Global) -> Result<(), Error> {
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
    Ok(())
}

/// An image proxy on `cfg`.
pub(crate) fn image(cfg: CloudConfig) -> Result<ImageProxy, Error> {
    Ok(Connection::builder().config(cfg).build()?.image())
}
