//! The loopback data server as its own process, for comparisons with other clients:
//! prints `http://127.0.0.1:<port>` and serves until its standard input closes.

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let addr = rt.block_on(openstack_benches::serve());
    println!("http://{addr}");
    // Serve until the parent closes our stdin.
    let mut sink = String::new();
    while std::io::stdin().read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {}
}
