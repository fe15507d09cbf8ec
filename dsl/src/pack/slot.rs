//! [`PackSlot`]: the compiled pack a node runs, swapped atomically.
//!
//! Requests take a snapshot ([`PackSlot::current`], one `Arc` clone under a
//! read lock held for that clone only) and evaluate against it; a request
//! in flight during a swap finishes on the pack it started with. An
//! install verifies and compiles the new pack before it takes the write
//! lock, so readers never wait for a compilation; a refused pack changes
//! nothing.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::backend::{Evaluator, RuleBackend};

use super::{Digest, KeyId, Manifest, Pack, PackError, TrustedKeys};

/// A verified, compiled pack.
pub struct ActivePack {
    pub manifest: Manifest,
    pub digest: Digest,
    /// The key that signed it.
    pub key_id: KeyId,
    pub evaluator: Arc<dyn Evaluator>,
}

impl std::fmt::Debug for ActivePack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivePack")
            .field("manifest", &self.manifest)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// What an install did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// The pack replaced `previous` (the version, `None` for the first).
    Swapped { previous: Option<u64>, version: u64 },
    /// The pack is the one in place (same version and digest).
    Unchanged { version: u64 },
}

/// The current pack of one application.
#[derive(Debug)]
pub struct PackSlot {
    trusted: TrustedKeys,
    application: Option<String>,
    current: RwLock<Option<Arc<ActivePack>>>,
    /// Serialises installs (version checks and swaps), not readers.
    installing: Mutex<()>,
    /// Why the last refused pack was refused.
    last_error: Mutex<Option<String>>,
}

impl PackSlot {
    /// A slot that accepts packs signed by `trusted`, for `application`
    /// when given.
    pub fn new(trusted: TrustedKeys, application: Option<String>) -> PackSlot {
        PackSlot {
            trusted,
            application,
            current: RwLock::new(None),
            installing: Mutex::new(()),
            last_error: Mutex::new(None),
        }
    }

    /// The pack in place, if any.
    pub fn current(&self) -> Option<Arc<ActivePack>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Why the last refused pack was refused (cleared by a good install).
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Verifies, checks and compiles a pack with `backend`, then swaps it
    /// in. Refused (and the pack in place kept) when it does not parse,
    /// is unsigned or signed by an untrusted key, was modified, is for
    /// another application, is not newer than the pack in place, or does
    /// not compile.
    pub fn install<B>(&self, bytes: &[u8], backend: &B) -> Result<Installed, PackError>
    where
        B: RuleBackend,
        B::Evaluator: 'static,
    {
        let _guard = self
            .installing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let res = self.install_locked(bytes, backend);
        let mut err = self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *err = res.as_ref().err().map(ToString::to_string);
        res
    }

    fn install_locked<B>(&self, bytes: &[u8], backend: &B) -> Result<Installed, PackError>
    where
        B: RuleBackend,
        B::Evaluator: 'static,
    {
        let pack = Pack::parse(bytes)?;
        let key_id = pack.verify(&self.trusted)?;
        if let Some(app) = &self.application {
            if &pack.manifest.application != app {
                return Err(PackError::WrongApplication {
                    expected: app.clone(),
                    found: pack.manifest.application.clone(),
                });
            }
        }
        let digest = pack.digest();
        let offered = pack.manifest.version;
        let previous = self.current().map(|p| (p.manifest.version, p.digest));
        match previous {
            Some((v, d)) if v == offered && d == digest => {
                return Ok(Installed::Unchanged { version: v })
            }
            Some((v, _)) if offered <= v => {
                return Err(PackError::NotNewer {
                    current: v,
                    offered,
                })
            }
            _ => {}
        }
        let prog = pack.compile()?;
        let eval = backend
            .compile(Arc::new(prog))
            .map_err(|e| PackError::Backend(e.0))?;
        let active = Arc::new(ActivePack {
            manifest: pack.manifest,
            digest,
            key_id,
            evaluator: Arc::new(eval),
        });
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(active);
        Ok(Installed::Swapped {
            previous: previous.map(|(v, _)| v),
            version: offered,
        })
    }
}
