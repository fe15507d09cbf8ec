//! Password hashing, session tokens and request authentication.
//!
//! Passwords are stored as iterated, salted SHA-256 (`sha256i$ROUNDS$SALT$HASH`). A production
//! shop would use a memory-hard KDF; this keeps the demo's dependencies small.

use http::HeaderMap;
use sha2::{Digest, Sha256};

const ROUNDS: u32 = 5_000;

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Random bytes from the operating system. Falls back to a time-and-counter mix only if the
/// OS source fails, which on supported platforms does not happen.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if getrandom::fill(&mut buf).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut seed = Sha256::new();
        seed.update(nanos.to_le_bytes());
        seed.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        seed.update(std::process::id().to_le_bytes());
        let digest = seed.finalize();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = digest[i % digest.len()];
        }
    }
    buf
}

/// A new random session token: 32 bytes, hex encoded.
pub(crate) fn new_token() -> String {
    hex(&random_bytes::<32>())
}

fn derive(password: &str, salt: &str, rounds: u32) -> [u8; 32] {
    let mut digest: [u8; 32] = Sha256::new()
        .chain_update(salt.as_bytes())
        .chain_update(b"\0")
        .chain_update(password.as_bytes())
        .finalize()
        .into();
    for _ in 1..rounds {
        digest = Sha256::new()
            .chain_update(digest)
            .chain_update(salt.as_bytes())
            .chain_update(password.as_bytes())
            .finalize()
            .into();
    }
    digest
}

pub(crate) fn hash_password(password: &str) -> String {
    let salt = hex(&random_bytes::<16>());
    let digest = derive(password, &salt, ROUNDS);
    format!("sha256i${ROUNDS}${salt}${}", hex(&digest))
}

pub(crate) fn verify_password(password: &str, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some("sha256i"), Some(rounds), Some(salt), Some(expected), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let Ok(rounds) = rounds.parse::<u32>() else {
        return false;
    };
    if rounds == 0 || rounds > 1_000_000 {
        return false;
    }
    let actual = hex(&derive(password, salt, rounds));
    constant_time_eq(actual.as_bytes(), expected.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) const SESSION_COOKIE: &str = "session";

/// The token a request presents: `Authorization: Bearer` first, then the session cookie.
pub(crate) fn request_token(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let mut parts = value.trim().splitn(2, ' ');
        if let (Some(scheme), Some(token)) = (parts.next(), parts.next()) {
            if scheme.eq_ignore_ascii_case("bearer") && is_token(token.trim()) {
                return Some(token.trim().to_owned());
            }
        }
    }
    cookie(headers, SESSION_COOKIE).filter(|t| is_token(t))
}

/// Tokens are 64 lowercase hex digits; anything else is not looked up.
fn is_token(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The value of a cookie, from any `Cookie` header.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
}

pub(crate) fn session_cookie(token: &str) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax",
        crate::db::SESSION_SECONDS
    )
}

pub(crate) fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify() {
        let h = hash_password("s3cret-pass");
        assert!(verify_password("s3cret-pass", &h));
        assert!(!verify_password("s3cret-pasS", &h));
        assert!(!verify_password("s3cret-pass", "garbage"));
        assert!(!verify_password("x", "sha256i$0$aa$bb"));
        assert_ne!(h, hash_password("s3cret-pass"), "salted");
    }

    #[test]
    fn tokens() {
        let t = new_token();
        assert!(is_token(&t));
        assert_ne!(t, new_token());
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            format!("a=b; session={t}; c=d").parse().unwrap(),
        );
        assert_eq!(request_token(&headers), Some(t.clone()));
        headers.insert(http::header::AUTHORIZATION, "Bearer nope".parse().unwrap());
        assert_eq!(request_token(&headers), Some(t));
    }
}
