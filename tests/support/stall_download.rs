//! A child process for the crash test: downloads a 4 MiB object to the path given, from a
//! source that stops after 1 MiB, so it hangs mid-body until the parent kills it.

use openstack_tests::{MemorySource, data, expected};
use openstack_transfer::{Download, DownloadOptions};

#[tokio::main]
async fn main() {
    let target = std::env::args().nth(1).expect("a target path");
    let object = bytes::Bytes::from(data(4 << 20, 77));
    let source = MemorySource { data: object.clone(), stall_at: Some(1 << 20) };
    let result =
        Download::new(source, expected(&object), &DownloadOptions::default()).to_path(target).await;
    eprintln!("the stalled download ended, which it never should: {result:?}");
    std::process::exit(3);
}
