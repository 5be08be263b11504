//! Configuration errors: which cloud, which file, which key.

/// A configuration problem: which cloud, which file, which key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No clouds.yaml was found and none was named.
    #[error(
        "no clouds.yaml found (searched {searched}); set OS_CLIENT_CONFIG_FILE or use OS_* variables"
    )]
    NoConfigFile {
        /// The places that were searched.
        searched: String,
    },
    /// A file could not be read or parsed.
    #[error("cannot read {file}: {message}")]
    Malformed {
        /// The file.
        file: String,
        /// What was wrong.
        message: String,
    },
    /// The named cloud is not in the file.
    #[error("cloud {cloud:?} not found in {file} (it has: {available})")]
    CloudNotFound {
        /// The cloud asked for.
        cloud: String,
        /// The file searched.
        file: String,
        /// The clouds the file has.
        available: String,
    },
    /// A required key is missing.
    #[error("cloud {cloud:?} in {file}: missing {key}")]
    MissingKey {
        /// The cloud.
        cloud: String,
        /// Where the cloud came from (a file, or `environment`).
        file: String,
        /// The missing key (e.g. `auth.auth_url`).
        key: String,
    },
    /// A key has a value that cannot be used.
    #[error("cloud {cloud:?} in {file}: {key}: {message}")]
    InvalidValue {
        /// The cloud.
        cloud: String,
        /// Where the cloud came from.
        file: String,
        /// The key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}
