//! Guides: configuration, transfers, and the openstacksdk → openstack-rs call map.

#[doc = include_str!("configuration.md")]
pub mod configuration {}

#[doc = include_str!("transfers.md")]
pub mod transfers {}

#[doc = include_str!("openstacksdk.md")]
pub mod openstacksdk {}
