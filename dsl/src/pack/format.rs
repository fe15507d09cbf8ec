//! The byte format of a pack: a text header (the manifest, its digest and
//! the signature), an empty line, then the files' texts back to back. The
//! header is canonical: one spelling per pack, so that a parsed manifest
//! hashes to the digest it was signed under.
//!
//! ```text
//! rampart-pack 1
//! application shop
//! version 42
//! created 1764331200
//! rules 17
//! entry shop.rules
//! file 1234 <sha256 hex> common.rules
//! file 5678 <sha256 hex> shop.rules
//! digest sha256:<hex>
//! signature ed25519 <key id> <base64 signature>
//!
//! <text of common.rules><text of shop.rules>
//! ```

use std::fmt::Write as _;

use super::keys::{base64, hex, sha256, unbase64, unhex, KeyId};
use super::loader::check_name;
use super::{
    Digest, FileEntry, Manifest, Pack, PackError, PackSignature, FORMAT_VERSION, MAX_FILES,
    MAX_PACK_BYTES,
};

/// The first line of every pack.
const MAGIC: &str = "rampart-pack";
/// A header longer than this is refused.
const MAX_HEADER: usize = 4 << 20;

fn bad(why: impl Into<String>) -> PackError {
    PackError::Malformed(why.into())
}

/// Checks a manifest's fields (names, entries, application).
pub(super) fn validate(m: &Manifest) -> Result<(), PackError> {
    let app_ok = !m.application.is_empty()
        && m.application.len() <= 128
        && m.application
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !app_ok {
        return Err(bad(format!(
            "application `{}`: 1 to 128 of A-Z a-z 0-9 . _ -",
            m.application
        )));
    }
    if m.files.is_empty() {
        return Err(bad("a pack holds at least one file"));
    }
    if m.files.len() > MAX_FILES {
        return Err(bad(format!("more than {MAX_FILES} files")));
    }
    for (i, f) in m.files.iter().enumerate() {
        check_name(&f.name).map_err(|why| bad(format!("file name `{}`: {why}", f.name)))?;
        if m.files[..i].iter().any(|g| g.name == f.name) {
            return Err(bad(format!("file `{}` is listed twice", f.name)));
        }
    }
    if m.entries.is_empty() {
        return Err(bad("a pack names at least one entry file"));
    }
    for (i, e) in m.entries.iter().enumerate() {
        if !m.files.iter().any(|f| &f.name == e) {
            return Err(bad(format!("entry `{e}` is not a file of the pack")));
        }
        if m.entries[..i].contains(e) {
            return Err(bad(format!("entry `{e}` is listed twice")));
        }
    }
    Ok(())
}

/// The canonical manifest: every header line before `digest`.
pub(super) fn manifest_text(m: &Manifest) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{MAGIC} {FORMAT_VERSION}");
    let _ = writeln!(s, "application {}", m.application);
    let _ = writeln!(s, "version {}", m.version);
    let _ = writeln!(s, "created {}", m.created);
    let _ = writeln!(s, "rules {}", m.rules);
    for e in &m.entries {
        let _ = writeln!(s, "entry {e}");
    }
    for f in &m.files {
        let _ = writeln!(s, "file {} {} {}", f.len, hex(&f.sha256), f.name);
    }
    s
}

impl Pack {
    /// The pack in its byte format.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = manifest_text(&self.manifest);
        let _ = writeln!(s, "digest sha256:{}", hex(&self.digest()));
        if let Some(sig) = &self.signature {
            let _ = writeln!(s, "signature ed25519 {} {}", sig.key_id, base64(&sig.bytes));
        }
        s.push('\n');
        let mut out = s.into_bytes();
        for t in &self.texts {
            out.extend_from_slice(t.as_bytes());
        }
        out
    }

    /// Reads a pack: the header, then every file, each checked against
    /// its length and SHA-256, and the digest against the manifest. The
    /// signature is read, not verified ([`Pack::verify`]).
    pub fn parse(bytes: &[u8]) -> Result<Pack, PackError> {
        if bytes.len() > MAX_PACK_BYTES {
            return Err(bad(format!("larger than {} MiB", MAX_PACK_BYTES >> 20)));
        }
        let head_end = find_blank_line(bytes)
            .ok_or_else(|| bad("no end of header (an empty line) in the first 4 MiB"))?;
        let head =
            std::str::from_utf8(&bytes[..head_end]).map_err(|_| bad("the header is not UTF-8"))?;
        let mut lines = Lines {
            it: head.split('\n'),
            n: 0,
        };
        let (m, digest, signature) = read_header(&mut lines)?;
        validate(&m)?;
        let texts = read_files(&m, &bytes[head_end + 2..])?;
        let pack = Pack {
            manifest: m,
            texts,
            signature,
        };
        if pack.digest() != digest {
            return Err(PackError::FileMismatch(
                "the digest is not the SHA-256 of the manifest".into(),
            ));
        }
        Ok(pack)
    }
}

/// Offset of the `\n` that ends the header (the first of `\n\n`).
fn find_blank_line(b: &[u8]) -> Option<usize> {
    let lim = b.len().min(MAX_HEADER);
    b[..lim].windows(2).position(|w| w == b"\n\n")
}

struct Lines<'a> {
    it: std::str::Split<'a, char>,
    n: usize,
}

impl<'a> Lines<'a> {
    fn peek_key(&self) -> Option<&'a str> {
        self.it
            .clone()
            .next()
            .map(|l| l.split(' ').next().unwrap_or(""))
    }

    /// The value of the next line, which must start with `key `.
    fn value(&mut self, key: &str) -> Result<&'a str, PackError> {
        self.n += 1;
        let line = self.it.next().ok_or_else(|| {
            bad(format!(
                "header line {}: expected `{key}`, found the end",
                self.n
            ))
        })?;
        line.strip_prefix(key)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or_else(|| {
                bad(format!(
                    "header line {}: expected `{key} ...`, found `{}`",
                    self.n,
                    short(line)
                ))
            })
    }

    fn number(&mut self, key: &str) -> Result<u64, PackError> {
        let n = self.n + 1;
        let v = self.value(key)?;
        canonical_u64(v)
            .ok_or_else(|| bad(format!("header line {n}: `{key}` takes a decimal number")))
    }
}

fn short(s: &str) -> String {
    s.chars().take(60).collect()
}

/// A decimal number without sign or leading zeros.
fn canonical_u64(v: &str) -> Option<u64> {
    let ok =
        !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) && (v == "0" || !v.starts_with('0'));
    if ok {
        v.parse().ok()
    } else {
        None
    }
}

type Header = (Manifest, Digest, Option<PackSignature>);

fn read_header(l: &mut Lines<'_>) -> Result<Header, PackError> {
    let magic = l
        .value(MAGIC)
        .map_err(|_| bad("not a rule pack (no `rampart-pack` line)"))?;
    if magic != FORMAT_VERSION.to_string() {
        return Err(bad(format!(
            "pack format {magic}; this node reads format {FORMAT_VERSION}"
        )));
    }
    let application = l.value("application")?.to_string();
    let version = l.number("version")?;
    let created = l.number("created")?;
    let rules = l.number("rules")?;
    let rules = u32::try_from(rules).map_err(|_| bad("too many rules"))?;
    let mut entries = Vec::new();
    while l.peek_key() == Some("entry") {
        entries.push(l.value("entry")?.to_string());
    }
    let mut files = Vec::new();
    while l.peek_key() == Some("file") {
        let n = l.n + 1;
        let v = l.value("file")?;
        files.push(file_line(v).ok_or_else(|| {
            bad(format!(
                "header line {n}: expected `file LENGTH SHA256 NAME`"
            ))
        })?);
        if files.len() > MAX_FILES {
            return Err(bad(format!("more than {MAX_FILES} files")));
        }
    }
    let n = l.n + 1;
    let d = l.value("digest")?;
    let digest = d
        .strip_prefix("sha256:")
        .and_then(digest_hex)
        .ok_or_else(|| bad(format!("header line {n}: expected `digest sha256:HEX`")))?;
    let signature = match l.it.next() {
        None => None,
        Some(line) => {
            let n = l.n + 1;
            Some(signature_line(line).ok_or_else(|| {
                bad(format!(
                    "header line {n}: expected `signature ed25519 KEYID BASE64`, found `{}`",
                    short(line)
                ))
            })?)
        }
    };
    if l.it.next().is_some() {
        return Err(bad("extra lines after the signature"));
    }
    let m = Manifest {
        application,
        version,
        created,
        rules,
        entries,
        files,
    };
    Ok((m, digest, signature))
}

/// `LEN SHA256 NAME` (the name is the rest of the line).
fn file_line(v: &str) -> Option<FileEntry> {
    let mut parts = v.splitn(3, ' ');
    let len = canonical_u64(parts.next()?)?;
    let sha256 = digest_hex(parts.next()?)?;
    let name = parts.next()?.to_string();
    Some(FileEntry { name, len, sha256 })
}

/// 64 lower-case hex digits.
fn digest_hex(s: &str) -> Option<Digest> {
    if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    unhex(s)?.try_into().ok()
}

fn signature_line(line: &str) -> Option<PackSignature> {
    let rest = line.strip_prefix("signature ed25519 ")?;
    let (id, sig) = rest.split_once(' ')?;
    if id.len() != 16 || id.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let key_id = KeyId(unhex(id)?.try_into().ok()?);
    let bytes: [u8; 64] = unbase64(sig)?.try_into().ok()?;
    if base64(&bytes) != sig {
        return None;
    }
    Some(PackSignature { key_id, bytes })
}

fn read_files(m: &Manifest, mut body: &[u8]) -> Result<Vec<String>, PackError> {
    let mut texts = Vec::with_capacity(m.files.len());
    for f in &m.files {
        let len = usize::try_from(f.len).unwrap_or(usize::MAX);
        if len > body.len() {
            return Err(PackError::FileMismatch(format!(
                "`{}` is cut short ({} of {} bytes)",
                f.name,
                body.len(),
                f.len
            )));
        }
        let (data, rest) = body.split_at(len);
        body = rest;
        if sha256(data) != f.sha256 {
            return Err(PackError::FileMismatch(format!(
                "the SHA-256 of `{}` is not the manifest's",
                f.name
            )));
        }
        let text = std::str::from_utf8(data)
            .map_err(|_| PackError::FileMismatch(format!("`{}` is not UTF-8", f.name)))?;
        texts.push(text.to_string());
    }
    if !body.is_empty() {
        return Err(PackError::FileMismatch(format!(
            "{} bytes after the last file",
            body.len()
        )));
    }
    Ok(texts)
}
