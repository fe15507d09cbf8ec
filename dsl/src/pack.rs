//! Rule packs: versioned, signed bundles of rule sources and their
//! metadata (`spec/rule-language.md`, section 11).
//!
//! A pack carries rule files (name -> text), the files to compile
//! (*entries*), and a manifest: application, version, creation time, rule
//! count, each file's length and SHA-256. The SHA-256 of the canonical
//! manifest is the pack's *digest*; an ed25519 signature over the digest
//! binds everything. A node:
//! 1. parses the pack and checks every file against the manifest
//!    ([`Pack::parse`]);
//! 2. verifies the signature against its trusted keys ([`Pack::verify`])
//!    before any rule text reaches the compiler;
//! 3. compiles the entries ([`Pack::compile`]; includes resolve inside the
//!    pack through [`PackLoader`]) and checks the rule count;
//! 4. swaps the compiled pack in atomically ([`PackSlot`]); a refused pack
//!    leaves the last good one in place.
//!
//! ```
//! use rampart_dsl::pack::{keys, Pack, PackSlot, TrustedKeys};
//! use rampart_dsl::Interpreter;
//! let key = keys::signing_key(&[7u8; 32]);
//! let files = vec![("app.rules".to_string(),
//!     "rule no-php \"No PHP\" { when path ~ \"*.php\" then block }\n".to_string())];
//! let mut pack = Pack::build("shop", 1, 0, vec!["app.rules".into()], files).expect("valid");
//! pack.sign(&key);
//! let bytes = pack.to_bytes();
//!
//! let slot = PackSlot::new(TrustedKeys::new(vec![key.verifying_key()]), Some("shop".into()));
//! slot.install(&bytes, &Interpreter).expect("installs");
//! assert_eq!(slot.current().map(|p| p.manifest.version), Some(1));
//! ```

use std::fmt;

use crate::diag::Diagnostics;
use crate::ir::Program;

mod format;
pub mod keys;
mod loader;
mod slot;
#[cfg(test)]
mod tests;

pub use keys::{KeyId, TrustedKeys};
pub use loader::{normalize_name, PackLoader, ENTRIES_ROOT};
pub use slot::{ActivePack, Installed, PackSlot};

/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// A pack larger than this is refused before it is parsed.
pub const MAX_PACK_BYTES: usize = 64 << 20;
/// At most this many files in a pack.
pub const MAX_FILES: usize = 10_000;

/// A SHA-256 value.
pub type Digest = [u8; 32];

/// One file as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub name: String,
    pub len: u64,
    pub sha256: Digest,
}

/// What a pack says about itself. Everything here is covered by the
/// digest, and so by the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The application the rules protect (`[A-Za-z0-9._-]{1,128}`).
    pub application: String,
    /// Increases with every pack of one application; a node refuses a pack
    /// not newer than the one it runs.
    pub version: u64,
    /// Creation time, seconds since 1970-01-01 UTC.
    pub created: u64,
    /// The number of rules the entries compile to.
    pub rules: u32,
    /// The files compiled, in order; they include the others.
    pub entries: Vec<String>,
    /// Every file, in the order its text follows the header.
    pub files: Vec<FileEntry>,
}

/// An ed25519 signature and the key that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackSignature {
    pub key_id: KeyId,
    pub bytes: [u8; 64],
}

/// A rule pack: manifest, file texts and (once signed) a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pack {
    pub manifest: Manifest,
    /// File texts, in manifest order.
    pub texts: Vec<String>,
    pub signature: Option<PackSignature>,
}

/// Why a pack was refused.
#[derive(Debug, Clone)]
pub enum PackError {
    /// The bytes are not a pack of this format (with the reason).
    Malformed(String),
    /// A file's text does not match its manifest entry.
    FileMismatch(String),
    /// The pack carries no signature.
    Unsigned,
    /// The pack is signed by a key the node does not trust.
    UnknownKey(KeyId),
    /// The signature does not verify: the pack was changed after signing,
    /// or signed with another key carrying the same id.
    BadSignature(KeyId),
    /// The pack is for another application.
    WrongApplication { expected: String, found: String },
    /// The pack is not newer than the one in place.
    NotNewer { current: u64, offered: u64 },
    /// The rules do not compile; every diagnostic, with the sources.
    Compile(Box<Diagnostics>),
    /// The rules compile to another number of rules than the manifest says.
    RuleCount { manifest: u32, compiled: u32 },
    /// A back-end refused the program.
    Backend(String),
    /// A key could not be read.
    BadKey(String),
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackError::Malformed(why) => write!(f, "not a valid rule pack: {why}"),
            PackError::FileMismatch(why) => {
                write!(f, "pack content does not match its manifest: {why}")
            }
            PackError::Unsigned => f.write_str("the pack is not signed"),
            PackError::UnknownKey(id) => {
                write!(f, "the pack is signed by key {id}, which is not trusted")
            }
            PackError::BadSignature(id) => write!(
                f,
                "the signature by key {id} does not verify: the pack was modified after signing"
            ),
            PackError::WrongApplication { expected, found } => {
                write!(f, "the pack is for application `{found}`, not `{expected}`")
            }
            PackError::NotNewer { current, offered } => write!(
                f,
                "pack version {offered} is not newer than the version in place ({current})"
            ),
            PackError::Compile(d) => {
                let n = d.list.len();
                write!(
                    f,
                    "the rules do not compile ({n} problem{}):\n{}",
                    if n == 1 { "" } else { "s" },
                    d.render()
                )
            }
            PackError::RuleCount { manifest, compiled } => write!(
                f,
                "the manifest says {manifest} rules, the pack compiles to {compiled}"
            ),
            PackError::Backend(why) => write!(f, "the back-end refused the rules: {why}"),
            PackError::BadKey(why) => write!(f, "bad key: {why}"),
        }
    }
}

impl std::error::Error for PackError {}

impl Pack {
    /// Builds an unsigned pack from files (name -> text) and the entries to
    /// compile. Names are checked ([`normalize_name`]), the rules are
    /// compiled to count them; `created` is in seconds since the epoch.
    pub fn build(
        application: &str,
        version: u64,
        created: u64,
        entries: Vec<String>,
        files: Vec<(String, String)>,
    ) -> Result<Pack, PackError> {
        let mut manifest = Manifest {
            application: application.to_string(),
            version,
            created,
            rules: 0,
            entries,
            files: Vec::with_capacity(files.len()),
        };
        let mut texts = Vec::with_capacity(files.len());
        for (name, text) in files {
            manifest.files.push(FileEntry {
                name,
                len: text.len() as u64,
                sha256: keys::sha256(text.as_bytes()),
            });
            texts.push(text);
        }
        format::validate(&manifest)?;
        let mut pack = Pack {
            manifest,
            texts,
            signature: None,
        };
        let prog = pack.compile_unchecked()?;
        pack.manifest.rules = prog.rules.len() as u32;
        Ok(pack)
    }

    /// The SHA-256 of the canonical manifest: the pack's identity.
    pub fn digest(&self) -> Digest {
        keys::sha256(format::manifest_text(&self.manifest).as_bytes())
    }

    /// Signs the pack (replacing any signature).
    pub fn sign(&mut self, key: &ed25519_dalek::SigningKey) {
        self.signature = Some(keys::sign(key, &self.digest()));
    }

    /// Checks the signature against the trusted keys; returns the key
    /// that signed.
    pub fn verify(&self, trusted: &TrustedKeys) -> Result<KeyId, PackError> {
        let sig = self.signature.as_ref().ok_or(PackError::Unsigned)?;
        trusted.verify(sig, &self.digest())?;
        Ok(sig.key_id)
    }

    /// The text of a file of the pack.
    pub fn file(&self, name: &str) -> Option<&str> {
        let i = self.manifest.files.iter().position(|f| f.name == name)?;
        self.texts.get(i).map(String::as_str)
    }

    /// A loader over the pack's files.
    pub fn loader(&self) -> PackLoader<'_> {
        PackLoader::new(self)
    }

    /// Compiles the entries and checks the rule count against the
    /// manifest. Does not verify the signature: call [`Pack::verify`]
    /// first (or use [`Pack::open`]).
    pub fn compile(&self) -> Result<Program, PackError> {
        let prog = self.compile_unchecked()?;
        let compiled = prog.rules.len() as u32;
        if compiled != self.manifest.rules {
            return Err(PackError::RuleCount {
                manifest: self.manifest.rules,
                compiled,
            });
        }
        Ok(prog)
    }

    fn compile_unchecked(&self) -> Result<Program, PackError> {
        let mut l = self.loader();
        let root = match self.manifest.entries.as_slice() {
            [one] => one.clone(),
            _ => ENTRIES_ROOT.to_string(),
        };
        crate::compile(&root, &mut l).map_err(|d| PackError::Compile(Box::new(d)))
    }

    /// Everything a node does before it runs a pack: parse, verify the
    /// signature, check the application (when `application` is given),
    /// compile.
    pub fn open(
        bytes: &[u8],
        trusted: &TrustedKeys,
        application: Option<&str>,
    ) -> Result<(Pack, KeyId, Program), PackError> {
        let pack = Pack::parse(bytes)?;
        let key = pack.verify(trusted)?;
        if let Some(app) = application {
            if pack.manifest.application != app {
                return Err(PackError::WrongApplication {
                    expected: app.to_string(),
                    found: pack.manifest.application.clone(),
                });
            }
        }
        let prog = pack.compile()?;
        Ok((pack, key, prog))
    }
}

/// `2026-11-28T12:00:00Z` for seconds since the epoch (UTC).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Days to a civil date (proleptic Gregorian), after H. Hinnant.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
