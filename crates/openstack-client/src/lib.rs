//! openstack-client
