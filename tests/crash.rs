//! Crash consistency: a process killed with SIGKILL in the middle of a download to a path
//! leaves the target as it was and at most a temp file, which the next download to the same
//! path removes.

use std::time::{Duration, Instant};

use openstack_tests::{MemorySource, data, expected};
use openstack_transfer::{Download, DownloadOptions};

fn temp_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".part-"))
        .collect()
}

#[tokio::test]
async fn sigkill_mid_download_leaves_the_target_and_the_next_download_clears_the_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("image.raw");
    std::fs::write(&target, b"the old image").unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_osrs-stall-download"))
        .arg(&target)
        .spawn()
        .unwrap();
    // Wait until the child is mid-body: its temp file holds the first bytes.
    let started = Instant::now();
    loop {
        let written: u64 = temp_files(dir.path())
            .iter()
            .map(|n| std::fs::metadata(dir.path().join(n)).map_or(0, |m| m.len()))
            .sum();
        if written > 0 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the child ended before it was killed");
        assert!(
            started.elapsed() < openstack_tests::trap::EVENT_WAIT,
            "the child never started writing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL: no destructor runs
    child.wait().unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"the old image", "the target is as it was");
    let left = temp_files(dir.path());
    assert_eq!(left.len(), 1, "only the dead process's temp file remains: {left:?}");
    assert!(left[0].contains(&format!(".part-{}-", child.id())), "{left:?}");

    // The next download to the same path replaces the target and clears the dead temp file.
    let object = bytes::Bytes::from(data(2 << 20, 78));
    let source = MemorySource { data: object.clone(), stall_at: None };
    Download::new(source, expected(&object), &DownloadOptions::default())
        .to_path(&target)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), object.to_vec());
    assert!(temp_files(dir.path()).is_empty(), "{:?}", temp_files(dir.path()));
}
