//! Data-format tests (`is_int`, `is_uuid`, ...): small hand-written
//! recognisers over bytes, no regular expressions.

pub fn is_int(v: &[u8]) -> bool {
    let d = v
        .strip_prefix(b"-")
        .or_else(|| v.strip_prefix(b"+"))
        .unwrap_or(v);
    !d.is_empty() && d.len() <= 20 && d.iter().all(u8::is_ascii_digit)
}

pub fn is_number(v: &[u8]) -> bool {
    parse_num(v).is_some()
}

/// A decimal number: optional sign, digits, optional fraction and exponent.
pub fn parse_num(v: &[u8]) -> Option<f64> {
    if v.is_empty() || v.len() > 64 {
        return None;
    }
    let ok = v
        .iter()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    if !ok || !v.iter().any(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v)
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
}

pub fn is_hex(v: &[u8]) -> bool {
    !v.is_empty() && v.iter().all(u8::is_ascii_hexdigit)
}

pub fn is_uuid(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

pub fn is_alnum(v: &[u8]) -> bool {
    !v.is_empty() && v.iter().all(u8::is_ascii_alphanumeric)
}

pub fn is_ascii(v: &[u8]) -> bool {
    v.is_ascii()
}

/// A pragmatic address check: `local@domain`, local part of printable
/// non-space characters, a domain of at least two dot-separated labels.
pub fn is_email(v: &[u8]) -> bool {
    let Some(at) = v.iter().rposition(|&b| b == b'@') else {
        return false;
    };
    let (local, domain) = (&v[..at], &v[at + 1..]);
    if local.is_empty() || local.len() > 64 || domain.len() > 253 {
        return false;
    }
    let local_ok = local
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b))
        && !local.starts_with(b".")
        && !local.ends_with(b".");
    local_ok && is_domain(domain) && domain.contains(&b'.')
}

fn is_domain(d: &[u8]) -> bool {
    !d.is_empty()
        && d.split(|&b| b == b'.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with(b"-")
                && !l.ends_with(b"-")
        })
}

fn b64_char(b: u8, url: bool) -> bool {
    b.is_ascii_alphanumeric()
        || if url {
            b == b'-' || b == b'_'
        } else {
            b == b'+' || b == b'/'
        }
}

/// Standard or URL-safe base64, padding optional, at least 4 characters.
pub fn is_base64(v: &[u8]) -> bool {
    let body = v
        .strip_suffix(b"==")
        .or_else(|| v.strip_suffix(b"="))
        .unwrap_or(v);
    if v.len() < 4 || body.len() % 4 == 1 {
        return false;
    }
    if v.len() != body.len() && !v.len().is_multiple_of(4) {
        return false;
    }
    body.iter().all(|&b| b64_char(b, false)) || body.iter().all(|&b| b64_char(b, true))
}

pub fn is_ipv4(v: &[u8]) -> bool {
    let mut n = 0;
    for part in v.split(|&b| b == b'.') {
        n += 1;
        if part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
            return false;
        }
        if part.len() > 1 && part[0] == b'0' {
            return false;
        }
        let val: u32 = part.iter().fold(0, |a, &b| a * 10 + u32::from(b - b'0'));
        if val > 255 {
            return false;
        }
    }
    n == 4
}

pub fn is_ipv6(v: &[u8]) -> bool {
    std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse::<std::net::Ipv6Addr>().ok())
        .is_some()
}

pub fn is_ip(v: &[u8]) -> bool {
    is_ipv4(v) || is_ipv6(v)
}

/// Three base64url parts separated by dots, the first decoding to a JSON
/// object (it starts with `eyJ`, the encoding of `{"`).
pub fn is_jwt(v: &[u8]) -> bool {
    let mut parts = v.split(|&b| b == b'.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let url = |x: &[u8]| x.iter().all(|&b| b64_char(b, true));
    h.starts_with(b"eyJ") && !p.is_empty() && url(h) && url(p) && url(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(is_int(b"42") && is_int(b"-7") && !is_int(b"4a") && !is_int(b""));
        assert!(is_number(b"3.5e2") && !is_number(b"e") && !is_number(b"1x"));
        assert!(is_uuid(b"123e4567-e89b-12d3-a456-426614174000"));
        assert!(!is_uuid(b"123e4567e89b12d3a456426614174000"));
        assert!(is_email(b"bob@example.com") && !is_email(b"bob@localhost") && !is_email(b"@x.y"));
        assert!(is_base64(b"aGVsbG8=") && is_base64(b"aGVsbG8") && !is_base64(b"abc"));
        assert!(!is_base64(b"not base64!"));
        assert!(is_hex(b"deadBEEF") && !is_hex(b"xyz"));
        assert!(is_ipv4(b"10.0.0.1") && !is_ipv4(b"256.1.1.1") && !is_ipv4(b"01.1.1.1"));
        assert!(is_ip(b"::1") && is_ip(b"2001:db8::1") && !is_ip(b"1.2.3"));
        assert!(is_jwt(b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_-x"));
        assert!(!is_jwt(b"a.b.c"));
    }
}
