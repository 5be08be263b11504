//! A download's target: the temp file beside it (removed on error, on drop, and after a
//! crash by the next download to the same path) and the rename into place.

use std::path::{Path, PathBuf};

use crate::error::TransferError;

/// Renames `tmp` onto `path`. A file already at `path` is kept open across the rename and
/// closed on another thread: freeing a large, synced file's blocks takes the filesystem a
/// while (about 0.2 s for 256 MiB on ext4 here), and the caller need not wait for that.
pub(crate) async fn replace(tmp: &Path, path: &Path) -> Result<(), TransferError> {
    let (tmp, path) = (tmp.to_path_buf(), path.to_path_buf());
    let result = tokio::task::spawn_blocking(move || {
        let old = match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => std::fs::File::open(&path).ok(),
            _ => None,
        };
        std::fs::rename(&tmp, &path).map_err(|e| TransferError::io(path.display(), e))?;
        if let Some(old) = old {
            let _ = std::thread::Builder::new().name("close-replaced".into()).spawn(|| drop(old));
        }
        Ok(())
    })
    .await;
    result.unwrap_or_else(|e| {
        Err(TransferError::Io { path: "rename".into(), source: std::io::Error::other(e) })
    })
}

/// A download's temp file, removed when dropped unless it was renamed into place. (If the
/// future is dropped while the rename itself runs on the blocking pool, either the rename
/// wins and the verified file is in place, or the removal wins and the target is untouched.)
///
/// The file is created through [`TempFile::create`], which runs on the blocking pool and so
/// can outlive a dropped future: creation and removal take one lock, so a guard dropped
/// before or during the creation still leaves no file (found by a drop at 0 ms).
pub(crate) struct TempFile {
    pub(crate) path: PathBuf,
    pub(crate) renamed: bool,
    abandoned: std::sync::Arc<std::sync::Mutex<bool>>,
}

impl TempFile {
    /// A guard for `path` (nothing is created yet).
    pub(crate) fn new(path: PathBuf) -> TempFile {
        TempFile { path, renamed: false, abandoned: Default::default() }
    }

    /// Creates the file (it must not exist), unless the guard is already gone.
    pub(crate) async fn create(&self) -> Result<std::fs::File, TransferError> {
        let (path, abandoned) = (self.path.clone(), self.abandoned.clone());
        let made = tokio::task::spawn_blocking(move || {
            let gone = abandoned.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if *gone {
                return Err(TransferError::Incomplete {
                    message: "the download was dropped".into(),
                });
            }
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| TransferError::io(path.display(), e))
        })
        .await;
        made.unwrap_or_else(|e| {
            Err(TransferError::Io { path: "create".into(), source: std::io::Error::other(e) })
        })
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.renamed {
            return;
        }
        let mut gone = self.abandoned.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *gone = true;
        // One unlink: quick enough for a destructor; the writer thread may still hold the
        // file open, which is fine (it is closed, and freed, when the thread ends).
        match std::fs::remove_file(&self.path) {
            Ok(()) => {
                tracing::debug!(path = %self.path.display(), "removed a download's temp file")
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "could not remove a download's temp file")
            }
        }
    }
}

/// Removes the temp files a killed process left beside `path` (`.name.part-<pid>-<n>` whose
/// process no longer runs): a crash leaves at most a temp file, and the next download to the
/// same path clears it. Only on Linux, where `/proc` tells whether a process runs; a file
/// whose pid is alive (or reused) is kept.
pub(crate) fn remove_stale_temp_files(path: &Path) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let (Some(name), Some(dir)) = (path.file_name(), path.parent()) else { return };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let prefix = format!(".{}.part-", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::info!(file = %entry.path().display(), pid, "removed a temp file left by a process that is gone")
                }
                Err(e) => {
                    tracing::debug!(file = %entry.path().display(), error = %e, "could not remove a stale temp file")
                }
            }
        }
    }
}

/// `dir/.name.part-<pid>-<n>` beside the target.
pub(crate) fn temp_path(path: &Path) -> Result<PathBuf, TransferError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| {
        TransferError::InvalidArgument(format!("{} names no file", path.display()))
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(TransferError::InvalidArgument(format!(
            "directory {} does not exist",
            dir.display()
        )));
    }
    let n = N.fetch_add(1, Ordering::Relaxed);
    Ok(dir.join(format!(".{}.part-{}-{n}", name.to_string_lossy(), std::process::id())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pid no process can have: above the kernel's limit.
    #[cfg(target_os = "linux")]
    fn dead_pid() -> u64 {
        let max = std::fs::read_to_string("/proc/sys/kernel/pid_max").unwrap();
        max.trim().parse::<u64>().unwrap() + 1
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn only_temp_files_of_processes_that_are_gone_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (dead, me) = (dead_pid(), std::process::id());
        let names = [
            format!(".img.part-{dead}-0"),   // left by a killed process: removed
            format!(".img.part-{dead}-17"),  // removed too
            format!(".img.part-{me}-0"),     // this process's own download: kept
            ".img.part-1-0".to_string(),     // a process that runs (pid 1): kept
            format!(".other.part-{dead}-0"), // another target's: kept
            ".img.part-x-0".to_string(),     // not a pid: kept
            "img".to_string(),               // the target itself: kept
        ];
        for n in &names {
            std::fs::write(dir.path().join(n), b"x").unwrap();
        }
        remove_stale_temp_files(&dir.path().join("img"));
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut want: Vec<String> = names[2..].to_vec();
        want.sort();
        assert_eq!(left, want);
    }

    #[test]
    fn a_temp_path_is_beside_its_target_even_a_relative_one() {
        let dir = tempfile::tempdir().unwrap();
        let t = temp_path(&dir.path().join("img")).unwrap();
        assert_eq!(t.parent(), Some(dir.path()));
        let name = t.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(&format!(".img.part-{}-", std::process::id())), "{name}");
        assert_ne!(temp_path(&dir.path().join("img")).unwrap(), t, "each call a new name");
        // A bare file name is in the current directory.
        assert_eq!(temp_path(Path::new("img")).unwrap().parent(), Some(Path::new(".")));
        let err = temp_path(&dir.path().join("missing/img")).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
