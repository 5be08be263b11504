//! `cargo xtask test --under-load`: the suite with two CPU-burning processes beside it, so
//! a test that depends on the machine's speed shows up here rather than on someone else's
//! machine.

use std::process::{Child, Command, Stdio};

/// Burning processes, killed when dropped.
pub(crate) struct Load {
    burners: Vec<Child>,
}

impl Load {
    /// Starts `n` processes that each keep one core busy (this binary's `burn` command).
    pub(crate) fn start(n: usize) -> crate::Result<Load> {
        let me = std::env::current_exe().map_err(|e| format!("the xtask binary: {e}"))?;
        let mut burners = Vec::new();
        for _ in 0..n {
            let child = Command::new(&me)
                .arg("burn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .map_err(|e| format!("starting a CPU burner: {e}"))?;
            burners.push(child);
        }
        eprintln!("xtask: {n} CPU-burning processes run beside the tests");
        Ok(Load { burners })
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        for child in &mut self.burners {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The `burn` command: spins until its parent (the xtask) is gone.
pub(crate) fn burn() -> crate::Result {
    let parent = std::os::unix::process::parent_id();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    loop {
        for _ in 0..50_000_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        std::hint::black_box(x);
        if std::os::unix::process::parent_id() != parent {
            return Ok(());
        }
    }
}
