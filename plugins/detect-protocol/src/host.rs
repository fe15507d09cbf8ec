//! The `Host` header: `host[:port]`, nothing else (RFC 9110 section 7.2).
//!
//! **`protocol.host-invalid`** (60): browsers and libraries derive Host
//! from the URL they were given: a name, an IPv4 address or a bracketed
//! IPv6 literal, and a numeric port. What they never send:
//! - **userinfo** (`user@host`, `good.com@evil.com`): routing and
//!   absolute-URL building disagree on which side of `@` is the host;
//! - **a path, query or fragment** (`host/x`, `host?x`, `host\x`): the
//!   host-header injection that poisons password-reset links and caches;
//! - **other characters** (spaces, quotes, `<`, controls, a non-numeric
//!   port): header injection and cache-key tricks.
//!
//! Raw non-ASCII bytes (an internationalised name not converted to
//! punycode) score 30: a misconfigured client could send it. An empty Host
//! is valid (a target without authority) and is not reported.

use crate::lex::trim_ows;
use crate::Sink;

const RULE: &str = "protocol.host-invalid";

/// RFC 3986 `unreserved` / `sub-delims` / `%` (pct-encoded): what a
/// reg-name may hold.
fn reg_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(&b)
}

pub(crate) fn check(v: &[u8], sink: &mut Sink<'_>) {
    let (s, e) = trim_ows(v, 0, v.len());
    if s == e {
        return;
    }
    let mut i = s;
    if v[i] == b'[' {
        match v[i..e].iter().position(|&b| b == b']') {
            Some(j) => {
                let lit = &v[i + 1..i + j];
                if lit.is_empty()
                    || !lit
                        .iter()
                        .all(|&b| b.is_ascii_hexdigit() || b":.vV%-_~".contains(&b))
                {
                    return bad(v, i, e, sink);
                }
                i += j + 1;
            }
            None => return bad(v, i, e, sink),
        }
    } else {
        while i < e && v[i] != b':' {
            if !reg_name_byte(v[i]) {
                return bad(v, i, e, sink);
            }
            i += 1;
        }
    }
    if i < e {
        if v[i] != b':' {
            return bad(v, i, e, sink);
        }
        let port = &v[i + 1..e];
        if port.len() > 5 || !port.iter().all(u8::is_ascii_digit) {
            bad(v, i, e, sink);
        }
    }
}

/// Reports the worst thing found from `at` on.
fn bad(v: &[u8], at: usize, e: usize, sink: &mut Sink<'_>) {
    let rest = &v[at..e];
    if let Some(j) = rest.iter().position(|&b| b == b'@') {
        sink.report(
            RULE,
            60,
            "the Host header carries userinfo (user@host)",
            at + j,
            e,
        );
    } else if let Some(j) = rest.iter().position(|&b| b"/\\?#".contains(&b)) {
        sink.report(
            RULE,
            60,
            "the Host header carries a path, query or fragment (host-header injection)",
            at + j,
            e,
        );
    } else if let Some(j) = rest
        .iter()
        .position(|&b| b < 0x80 && !reg_name_byte(b) && !b"[]:".contains(&b))
    {
        sink.report(
            RULE,
            60,
            "a character that cannot be part of a host name",
            at + j,
            e,
        );
    } else if rest.iter().any(|&b| b >= 0x80) {
        let j = rest.iter().position(|&b| b >= 0x80).unwrap_or(0);
        sink.report(
            RULE,
            30,
            "raw non-ASCII bytes in the Host header (not punycode)",
            at + j,
            e,
        );
    } else {
        sink.report(
            RULE,
            60,
            "the Host header is not host[:port] (bad port or brackets)",
            at,
            e,
        );
    }
}
