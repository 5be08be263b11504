//! Where configuration comes from: the process's environment and filesystem, or a static
//! one injected by tests.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where configuration comes from: environment variables and files.
pub trait Environment {
    /// An environment variable.
    fn var(&self, key: &str) -> Option<String>;
    /// A file's contents; `Ok(None)` when it does not exist.
    fn read_file(&self, path: &Path) -> std::io::Result<Option<String>>;
    /// The user's home directory.
    fn home_dir(&self) -> Option<PathBuf>;
    /// The current directory.
    fn current_dir(&self) -> Option<PathBuf>;
}

/// The real process environment and filesystem.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemEnvironment;

impl Environment for SystemEnvironment {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
    fn read_file(&self, path: &Path) -> std::io::Result<Option<String>> {
        match std::fs::read_to_string(path) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
    fn home_dir(&self) -> Option<PathBuf> {
        std::env::var_os("HOME").map(PathBuf::from)
    }
    fn current_dir(&self) -> Option<PathBuf> {
        std::env::current_dir().ok()
    }
}

/// An injected environment for deterministic tests: variables and files in memory.
#[derive(Debug, Clone, Default)]
pub struct StaticEnvironment {
    vars: HashMap<String, String>,
    files: HashMap<PathBuf, String>,
    home: Option<PathBuf>,
    cwd: Option<PathBuf>,
}

impl StaticEnvironment {
    /// Adds a variable.
    #[must_use]
    pub fn var(mut self, key: &str, value: &str) -> Self {
        self.vars.insert(key.into(), value.into());
        self
    }
    /// Adds a file.
    #[must_use]
    pub fn file(mut self, path: impl Into<PathBuf>, contents: &str) -> Self {
        self.files.insert(path.into(), contents.into());
        self
    }
    /// Sets the home directory.
    #[must_use]
    pub fn home(mut self, path: impl Into<PathBuf>) -> Self {
        self.home = Some(path.into());
        self
    }
    /// Sets the current directory.
    #[must_use]
    pub fn cwd(mut self, path: impl Into<PathBuf>) -> Self {
        self.cwd = Some(path.into());
        self
    }
}

impl Environment for StaticEnvironment {
    fn var(&self, key: &str) -> Option<String> {
        self.vars.get(key).cloned().filter(|v| !v.is_empty())
    }
    fn read_file(&self, path: &Path) -> std::io::Result<Option<String>> {
        Ok(self.files.get(path).cloned())
    }
    fn home_dir(&self) -> Option<PathBuf> {
        self.home.clone()
    }
    fn current_dir(&self) -> Option<PathBuf> {
        self.cwd.clone()
    }
}
