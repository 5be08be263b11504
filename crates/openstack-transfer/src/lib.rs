//! openstack-transfer
