//! The request method: a token, and one that some real client sends.
//!
//! Why each case scores what it does:
//! - **invalid characters** (70, `protocol.method-invalid`): a method is an
//!   HTTP token; no client library can even emit `G<T` or an empty method.
//!   What arrives is a hand-written request, a desync probe (a smuggled
//!   request whose line was glued to the previous body), or a parser test.
//! - **unknown but well-formed** (30, `protocol.method-unknown`): the IANA
//!   registry, WebDAV/CalDAV/DeltaV and the cache `PURGE` cover what browsers,
//!   `curl -X`, WebDAV mounts, version-control clients and CDN purge tools
//!   send. Anything else is a scanner's `TEST`/`FOO` probe or a custom API
//!   verb: suspicious, not blocking (add custom verbs with `extra_methods`).
//!   Methods are case-sensitive: `get` is unknown.
//! - **`TRACE` / `TRACK`** (40 by default, `trace_score`): only debugging
//!   tools send them, and they are the cross-site-tracing vector. Some
//!   monitoring probes do send TRACE, so the default stays below 50.
//! - **not in `allowed_methods`** (60, `protocol.method-disallowed`): the
//!   operator listed what the application takes.

use crate::config::PolicyConfig;
use crate::lex::{capped, is_tchar};

/// Methods real clients send, sorted (byte order) for binary search: RFC
/// 9110 and 5789, the IANA method registry (WebDAV, CalDAV, DeltaV,
/// binding, ordered collections, redirect refs), `QUERY`, `PRI` (the HTTP/2
/// preface) and `PURGE` (Varnish, Squid, Fastly, nginx cache purge).
const KNOWN: [&[u8]; 40] = [
    b"ACL",
    b"BASELINE-CONTROL",
    b"BIND",
    b"CHECKIN",
    b"CHECKOUT",
    b"CONNECT",
    b"COPY",
    b"DELETE",
    b"GET",
    b"HEAD",
    b"LABEL",
    b"LINK",
    b"LOCK",
    b"MERGE",
    b"MKACTIVITY",
    b"MKCALENDAR",
    b"MKCOL",
    b"MKREDIRECTREF",
    b"MKWORKSPACE",
    b"MOVE",
    b"OPTIONS",
    b"ORDERPATCH",
    b"PATCH",
    b"POST",
    b"PRI",
    b"PROPFIND",
    b"PROPPATCH",
    b"PURGE",
    b"PUT",
    b"QUERY",
    b"REBIND",
    b"REPORT",
    b"SEARCH",
    b"UNBIND",
    b"UNCHECKOUT",
    b"UNLINK",
    b"UNLOCK",
    b"UPDATE",
    b"UPDATEREDIRECTREF",
    b"VERSION-CONTROL",
];

/// What is wrong with a method, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Fine,
    /// Empty, or a byte that is not a `tchar` at this offset.
    Invalid(usize),
    Unknown,
    Trace,
    Disallowed,
}

pub(crate) fn is_known(m: &[u8]) -> bool {
    KNOWN.binary_search(&m).is_ok()
}

pub(crate) fn check(m: &[u8], policy: &PolicyConfig) -> Verdict {
    if m.is_empty() {
        return Verdict::Invalid(0);
    }
    if let Some(i) = capped(m).iter().position(|&b| !is_tchar(b)) {
        return Verdict::Invalid(i);
    }
    if let Some(allowed) = policy.method_allowed(m) {
        return if allowed {
            Verdict::Fine
        } else {
            Verdict::Disallowed
        };
    }
    if m == b"TRACE" || m == b"TRACK" {
        Verdict::Trace
    } else if is_known(m) || policy.is_extra_method(m) {
        Verdict::Fine
    } else {
        Verdict::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(KNOWN.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn verdicts() {
        let p = PolicyConfig::default();
        assert_eq!(check(b"GET", &p), Verdict::Fine);
        assert_eq!(check(b"PROPFIND", &p), Verdict::Fine);
        assert_eq!(check(b"get", &p), Verdict::Unknown);
        assert_eq!(check(b"FOO", &p), Verdict::Unknown);
        assert_eq!(check(b"TRACK", &p), Verdict::Trace);
        assert_eq!(check(b"", &p), Verdict::Invalid(0));
        assert_eq!(check(b"GE T", &p), Verdict::Invalid(2));
        assert_eq!(check(b"G\0", &p), Verdict::Invalid(1));
    }
}
