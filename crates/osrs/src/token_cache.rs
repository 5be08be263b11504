//! Tokens kept between runs, so a command does not pay for a new Keystone token (and for
//! Glance checking that new token with Keystone) every time: about half a second per command
//! on the local cloud.
//!
//! One file per identity (auth URL, user, scope; never the password) under
//! `$OSRS_TOKEN_CACHE_DIR`, else `$XDG_CACHE_HOME/osrs/tokens`, else `~/.cache/osrs/tokens`:
//! the directory mode 0700, the files 0600, written atomically. Only password and application
//! credential logins are kept. A token close to expiry is not used; one Keystone has revoked
//! costs a 401 and a new login. Turned off by `--no-token-cache` or `OSRS_NO_TOKEN_CACHE=1`.
//! The cache never fails a command: a file that cannot be read or written is ignored.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;
use std::time::Duration;

use openstack_client::Session;
use openstack_client::auth::{AuthType, CloudConfig, Token};
use openstack_client::transfer::{Algorithm, digest_hex};

/// A kept token is used only when it stays valid at least this long.
const MIN_LEFT: Duration = Duration::from_secs(60);

/// The cache entry for one cloud configuration.
pub(crate) struct TokenCache {
    path: PathBuf,
    loaded: Option<String>,
}

impl TokenCache {
    /// The entry for `cfg`; `None` when caching is off or the login kind is not kept.
    pub(crate) fn for_config(cfg: &CloudConfig, off: bool) -> Option<TokenCache> {
        if off || !matches!(cfg.auth_type, AuthType::Password | AuthType::ApplicationCredential) {
            return None;
        }
        let dir = dir()?;
        let a = &cfg.auth;
        let identity = serde_json::json!([
            format!("{:?}", cfg.auth_type),
            a.auth_url,
            a.user_id,
            a.username,
            a.user_domain_id,
            a.user_domain_name,
            a.project_id,
            a.project_name,
            a.project_domain_id,
            a.project_domain_name,
            a.domain_id,
            a.domain_name,
            a.system_scope,
            a.application_credential_id,
            a.application_credential_name,
        ]);
        let key = digest_hex(Algorithm::Sha256, identity.to_string().as_bytes());
        Some(TokenCache { path: dir.join(format!("{}.json", &key[..32])), loaded: None })
    }

    /// Gives the session the kept token, when there is one with time left.
    pub(crate) async fn load(&mut self, session: &Session) {
        let Ok(text) = std::fs::read(&self.path) else { return };
        let Ok(token) = serde_json::from_slice::<Token>(&text) else {
            tracing::debug!(path = %self.path.display(), "unreadable token cache entry; ignored");
            return;
        };
        if !token.valid_for(MIN_LEFT) {
            return;
        }
        self.loaded = Some(token.value.expose().to_string());
        session.set_token(token).await;
    }

    /// Keeps the session's token when it is a new one.
    pub(crate) async fn store(&self, session: &Session) {
        let Some(token) = session.current_token().await else { return };
        if self.loaded.as_deref() == Some(token.value.expose()) {
            return;
        }
        if let Err(e) = self.write(&token) {
            tracing::debug!(path = %self.path.display(), error = %e, "token cache not written");
        }
    }

    fn write(&self, token: &Token) -> std::io::Result<()> {
        let dir = self.path.parent().expect("a file in a directory");
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        let tmp = dir.join(format!(".{}.tmp", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        let written = serde_json::to_vec(token)
            .map_err(std::io::Error::other)
            .and_then(|bytes| f.write_all(&bytes));
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &self.path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(())
    }
}

fn dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("OSRS_TOKEN_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("osrs/tokens")))
        .or_else(|| env("HOME").map(|h| h.join(".cache/osrs/tokens")))
}
