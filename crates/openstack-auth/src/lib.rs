//! openstack-auth
