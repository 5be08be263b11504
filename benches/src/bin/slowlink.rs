//! A long, thin link in front of a server (`openstack_tests::link`): `cargo xtask bench wan`
//! puts it between the tools and Glance.
//!
//! Usage: `slowlink <upstream host:port> <rtt ms> <cap MiB/s per connection>`; prints
//! `listening <addr>` and relays until killed.

use std::time::Duration;

use openstack_tests::link::{LinkSpec, start};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [upstream, rtt, cap] = &args[..] else {
        panic!("usage: slowlink <upstream host:port> <rtt ms> <cap MiB/s>");
    };
    let upstream = upstream.parse().expect("upstream host:port");
    let rtt = Duration::from_millis(rtt.parse().expect("rtt in ms"));
    let spec = LinkSpec::wan(rtt, cap.parse().expect("cap in MiB/s"));
    let rt = openstack_benches::runtime();
    rt.block_on(async {
        let link = start(upstream, spec).await;
        println!("listening {}", link.addr);
        std::future::pending::<()>().await;
    });
}
