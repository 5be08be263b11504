//! openstack-image
