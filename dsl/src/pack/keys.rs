//! Keys, signatures and digests of rule packs.
//!
//! Keys are raw ed25519 keys: a 32-byte secret seed and a 32-byte public
//! key, stored as text in hex (64 digits) or base64 (44 characters with
//! padding, 43 without). A key's *id* is the first 8 bytes of the SHA-256
//! of its public key, written in hex: it names the signer in a pack.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

use super::{Digest, PackError, PackSignature};

/// What a pack signature signs: this context, then the 32-byte digest.
pub const SIGNING_CONTEXT: &[u8] = b"rampart rule pack v1\n";

/// The id of a public key: the first 8 bytes of its SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    pub fn of(key: &VerifyingKey) -> KeyId {
        let h = sha256(key.as_bytes());
        let mut id = [0u8; 8];
        id.copy_from_slice(&h[..8]);
        KeyId(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

/// The public keys a node accepts packs from.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: Vec<(KeyId, VerifyingKey)>,
}

impl TrustedKeys {
    pub fn new(keys: Vec<VerifyingKey>) -> TrustedKeys {
        TrustedKeys {
            keys: keys.into_iter().map(|k| (KeyId::of(&k), k)).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn ids(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.keys.iter().map(|(id, _)| *id)
    }

    /// Verifies `sig` over `digest` with the trusted key it names.
    pub fn verify(&self, sig: &PackSignature, digest: &Digest) -> Result<(), PackError> {
        let mut named = self
            .keys
            .iter()
            .filter(|(id, _)| *id == sig.key_id)
            .peekable();
        if named.peek().is_none() {
            return Err(PackError::UnknownKey(sig.key_id));
        }
        let signature = Signature::from_bytes(&sig.bytes);
        let msg = message(digest);
        // Two trusted keys could share an id (8 bytes): try each.
        if named.any(|(_, k)| k.verify_strict(&msg, &signature).is_ok()) {
            Ok(())
        } else {
            Err(PackError::BadSignature(sig.key_id))
        }
    }
}

fn message(digest: &Digest) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNING_CONTEXT.len() + digest.len());
    m.extend_from_slice(SIGNING_CONTEXT);
    m.extend_from_slice(digest);
    m
}

/// Signs a digest.
pub fn sign(key: &SigningKey, digest: &Digest) -> PackSignature {
    PackSignature {
        key_id: KeyId::of(&key.verifying_key()),
        bytes: key.sign(&message(digest)).to_bytes(),
    }
}

/// The signing key of a 32-byte seed.
pub fn signing_key(seed: &[u8; 32]) -> SigningKey {
    SigningKey::from_bytes(seed)
}

/// Reads a secret key (a 32-byte seed) written in hex or base64.
pub fn read_signing_key(text: &str) -> Result<SigningKey, PackError> {
    Ok(signing_key(&key_bytes(text, "secret key")?))
}

/// Reads a public key written in hex or base64.
pub fn read_verifying_key(text: &str) -> Result<VerifyingKey, PackError> {
    let b = key_bytes(text, "public key")?;
    VerifyingKey::from_bytes(&b)
        .map_err(|_| PackError::BadKey("not a valid ed25519 public key".into()))
}

fn key_bytes(text: &str, what: &str) -> Result<[u8; 32], PackError> {
    let t = text.trim();
    let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        unhex(t)
    } else {
        unbase64(t)
    };
    bytes
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .ok_or_else(|| {
            PackError::BadKey(format!(
                "a {what} is 32 bytes written in hex (64 digits) or base64 (44 characters)"
            ))
        })
}

/// SHA-256 of bytes.
pub fn sha256(data: &[u8]) -> Digest {
    Sha256::digest(data).into()
}

/// Lower-case hex.
pub fn hex(data: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(data.len() * 2);
    for b in data {
        s.push(char::from(D[usize::from(b >> 4)]));
        s.push(char::from(D[usize::from(b & 15)]));
    }
    s
}

/// Decodes hex (either case); `None` for anything else.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|p| {
            let hi = char::from(p[0]).to_digit(16)?;
            let lo = char::from(p[1]).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(c.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(c.get(2).copied().unwrap_or(0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Decodes standard base64, padding optional; `None` for anything else.
pub fn unbase64(s: &str) -> Option<Vec<u8>> {
    let t = s.trim_end_matches('=');
    if s.len() - t.len() > 2 || t.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(t.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in t.bytes() {
        let v = B64.iter().position(|&c| c == b)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits of a canonical encoding are zero.
    (acc == 0).then_some(out)
}
