//! openstack-resource
