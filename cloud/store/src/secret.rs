//! Secrets: generation and hashing. The store keeps hashes only.
//!
//! * Tokens and credentials (enrollment tokens, node credentials, API tokens)
//!   are 256-bit random values from the operating system, shown to their owner
//!   once as `rpt_` + 64 hex digits. Being high-entropy, they are stored as
//!   their SHA-256 (hex), which allows lookup by hash.
//! * Passwords are chosen by people and need a slow, salted hash: Argon2id
//!   with the `argon2` crate's default parameters, stored as a PHC string.
//!   Hashing and checking run on tokio's blocking pool.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Prefix of generated tokens, so that they are recognisable in a leak scan.
pub const TOKEN_PREFIX: &str = "rpt_";

/// A fresh random token: [`TOKEN_PREFIX`] followed by 64 hex digits (256 bits).
pub fn generate_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
    let mut out = String::with_capacity(TOKEN_PREFIX.len() + 64);
    out.push_str(TOKEN_PREFIX);
    push_hex(&mut out, &bytes);
    Ok(out)
}

/// SHA-256 of a high-entropy secret, as 64 lowercase hex digits. Not for passwords.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    push_hex(&mut out, &digest);
    out
}

/// Whether `secret` hashes to `hash` (as made by [`hash_secret`]), compared in
/// constant time.
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    let computed = hash_secret(secret);
    let (a, b) = (computed.as_bytes(), hash.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Argon2id PHC string of `password` with a random salt. CPU-heavy (tens of
/// milliseconds): call it from a blocking context, or use the store's async
/// user functions which do.
pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Password(e.to_string()))
}

/// Whether `password` matches the PHC string `phc`. A malformed `phc` is an
/// error; a wrong password is `Ok(false)`.
pub fn verify_password(password: &str, phc: &str) -> Result<bool> {
    let parsed = PasswordHash::new(phc).map_err(|e| Error::Password(e.to_string()))?;
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(e) => Err(Error::Password(e.to_string())),
    }
}

/// Runs a password hash or check on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Password(format!("hashing task failed: {e}")))?
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hash_stably() {
        let a = generate_token().expect("token");
        let b = generate_token().expect("token");
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        let h = hash_secret(&a);
        assert_eq!(h.len(), 64);
        assert!(verify_secret(&a, &h));
        assert!(!verify_secret(&b, &h));
        assert!(!verify_secret(&a, "short"));
        // Known vector: SHA-256("abc").
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn passwords_hash_with_salt() {
        let a = hash_password("correct horse").expect("hash");
        let b = hash_password("correct horse").expect("hash");
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &a).expect("verify"));
        assert!(!verify_password("wrong", &a).expect("verify"));
        assert!(verify_password("x", "not a phc string").is_err());
    }
}
