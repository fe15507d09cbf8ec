//! The cloud's pack signing key: from the configuration, or from
//! `DATA/cloud.key` (a hex seed readable by its owner only), created on the
//! first start.

use std::io::Write as _;
use std::path::Path;

use ed25519_dalek::SigningKey;
use rampart_dsl::pack::keys;
use tracing::{info, warn};

use crate::config::CloudConfig;
use crate::error::{Error, Result};

/// The file under the data folder that holds the seed.
pub const KEY_FILE: &str = "cloud.key";
/// The file under the data folder that holds the public key (hex), for
/// operators who configure nodes with pack keys by hand.
pub const PUB_FILE: &str = "cloud.pub";

pub(crate) fn load_or_create(cfg: &CloudConfig) -> Result<SigningKey> {
    if let Some(text) = &cfg.signing_key {
        // The error says what is wrong with the text, never the text.
        return keys::read_signing_key(text).map_err(|e| Error::Key(format!("signing_key: {e}")));
    }
    let path = cfg.data_dir.join(KEY_FILE);
    let key = match std::fs::read_to_string(&path) {
        Ok(text) => {
            check_private(&path);
            keys::read_signing_key(&text)
                .map_err(|e| Error::Key(format!("{}: {e}", path.display())))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(&path)?,
        Err(source) => {
            return Err(Error::Io {
                what: format!("cannot read {}", path.display()),
                source,
            })
        }
    };
    let public = keys::hex(key.verifying_key().as_bytes());
    let pub_path = cfg.data_dir.join(PUB_FILE);
    if std::fs::read_to_string(&pub_path)
        .ok()
        .as_deref()
        .map(str::trim)
        != Some(public.as_str())
    {
        if let Err(e) = std::fs::write(&pub_path, format!("{public}\n")) {
            warn!(path = %pub_path.display(), error = %e, "cannot write the public pack key");
        }
    }
    Ok(key)
}

/// Creates a new key file (never replacing one: two replicas starting on
/// one data folder at once end up with the same key).
fn create(path: &Path) -> Result<SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| Error::Key(format!("no randomness: {e}")))?;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    match o.open(path) {
        Ok(mut f) => {
            let io = |source| Error::Io {
                what: format!("cannot write {}", path.display()),
                source,
            };
            f.write_all(format!("{}\n", keys::hex(&seed)).as_bytes())
                .map_err(io)?;
            f.sync_all().map_err(io)?;
            let key = keys::signing_key(&seed);
            info!(
                path = %path.display(),
                key_id = %keys::KeyId::of(&key.verifying_key()),
                "new pack signing key created"
            );
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                what: format!("cannot read {}", path.display()),
                source,
            })?;
            keys::read_signing_key(&text)
                .map_err(|e| Error::Key(format!("{}: {e}", path.display())))
        }
        Err(source) => Err(Error::Io {
            what: format!("cannot create {}", path.display()),
            source,
        }),
    }
}

/// Warns when the key file is readable by others than its owner.
fn check_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path) {
            if m.permissions().mode() & 0o077 != 0 {
                warn!(
                    path = %path.display(),
                    "the pack signing key is readable by others than its owner: chmod 600 it"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
