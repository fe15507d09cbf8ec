//! Checks of one header, run at its `header["name"]` point.
//!
//! Every header:
//! - **CR, LF or NUL in the value** (70, `protocol.header-control`): the
//!   value as the adapter saw it. A line break inside a value is header
//!   injection or an obsolete line fold (which no current client emits);
//!   the proxy rejects both, other adapters may pass them on. Other control
//!   bytes (HTAB excepted) score 30: forbidden by RFC 9110 but harmless to
//!   most parsers. Percent-encoded `%0d%0a` in a header value is not looked
//!   at: a `Referer` quoting a textarea form legitimately holds it.
//! - **invalid name** (60, `protocol.header-name`): a name with a space,
//!   colon, slash or other non-token byte (`Transfer-Encoding : chunked`),
//!   or `Content_Length` / `Transfer_Encoding` spelled with an underscore,
//!   which CGI-style servers map onto the real header. HTTP libraries
//!   refuse to send such names. HTTP/2 pseudo-headers (`:authority`...) are
//!   accepted in case an adapter passes them.
//!
//! By name (each function documents its own rule).

use rampart_plugin_api::types::Source;
use rampart_plugin_api::Tree;

use crate::config::PolicyConfig;
use crate::lex::{capped, eq_ci, is_ows, is_tchar, trim_ows, CommaList};
use crate::{cookie, ctype, host, leaf_source, Sink};

pub(crate) fn check(
    name: &[u8],
    value: &[u8],
    tree: &Tree,
    policy: &PolicyConfig,
    sink: &mut Sink<'_>,
) {
    control_bytes(value, sink);
    header_name(name, sink);
    let v = capped(value);
    match name.len() {
        4 if eq_ci(name, b"host") => host::check(v, sink),
        5 if eq_ci(name, b"range") => range(v, policy.max_ranges, sink),
        6 if eq_ci(name, b"cookie") => cookie::check(v, sink),
        6 if eq_ci(name, b"expect") => expect(v, sink),
        7 if eq_ci(name, b"upgrade") => upgrade(v, sink),
        10 if eq_ci(name, b"connection") => connection(v, sink),
        12 if eq_ci(name, b"content-type") => ctype::check(v, sink),
        12 if eq_ci(name, b"max-forwards") => max_forwards(tree, sink),
        13 if eq_ci(name, b"request-range") => range(v, policy.max_ranges, sink),
        14 if eq_ci(name, b"content-length") => content_length(v, sink),
        16 if eq_ci(name, b"proxy-connection") => connection(v, sink),
        17 if eq_ci(name, b"transfer-encoding") => transfer_encoding(v, sink),
        _ => {}
    }
}

fn control_bytes(value: &[u8], sink: &mut Sink<'_>) {
    let v = capped(value);
    let Some(first) = v
        .iter()
        .position(|&b| (b < 0x20 && b != b'\t') || b == 0x7f)
    else {
        return;
    };
    let strong = v[first..]
        .iter()
        .position(|&b| matches!(b, b'\r' | b'\n' | 0));
    match strong {
        Some(i) => sink.report(
            "protocol.header-control",
            70,
            "CR, LF or NUL inside a header value (header injection or line folding)",
            first + i,
            value.len(),
        ),
        None => sink.report(
            "protocol.header-control",
            30,
            "a control character inside a header value",
            first,
            value.len(),
        ),
    }
}

const PSEUDO: [&[u8]; 5] = [
    b":authority",
    b":method",
    b":path",
    b":protocol",
    b":scheme",
];

fn header_name(name: &[u8], sink: &mut Sink<'_>) {
    if PSEUDO.iter().any(|p| eq_ci(p, name)) {
        return;
    }
    if eq_ci(name, b"content_length") || eq_ci(name, b"transfer_encoding") {
        sink.report_request(
            "protocol.header-name",
            60,
            "a framing header spelled with an underscore, read as the real one by CGI-style servers",
        );
    } else if name.is_empty() || !capped(name).iter().all(|&b| is_tchar(b)) {
        sink.report_request(
            "protocol.header-name",
            60,
            "a header name with a space or a character that is not allowed in names",
        );
    }
}

/// **`Content-Length` not a plain decimal** (70, `protocol.cl-invalid`):
/// clients write the length as digits, nothing else. Signs, hex, spaces
/// inside, lists (`5, 5`), an empty value or more than 18 digits are parsed
/// differently by different servers: a desync.
fn content_length(v: &[u8], sink: &mut Sink<'_>) {
    let (s, e) = trim_ows(v, 0, v.len());
    let digits = &v[s..e];
    if !digits.is_empty() && digits.len() <= 18 && digits.iter().all(u8::is_ascii_digit) {
        return;
    }
    sink.report(
        "protocol.cl-invalid",
        70,
        "Content-Length is not a plain decimal number (request smuggling)",
        0,
        v.len(),
    );
}

/// **`Transfer-Encoding` other than `chunked`** (60, `protocol.te-invalid`):
/// browsers and libraries that stream a body send exactly `chunked` (in
/// any case). Lists (`gzip, chunked`, `chunked, identity`), look-alikes
/// (`xchunked`, `chunked\t`), a leading space (what an obsolete line fold
/// leaves) or `identity` are the TE.TE obfuscations that make one of two
/// servers ignore the header. Trailing spaces are tolerated.
fn transfer_encoding(v: &[u8], sink: &mut Sink<'_>) {
    let mut e = v.len();
    while e > 0 && v[e - 1] == b' ' {
        e -= 1;
    }
    if eq_ci(&v[..e], b"chunked") {
        return;
    }
    sink.report(
        "protocol.te-invalid",
        60,
        "Transfer-Encoding is not exactly \"chunked\" (request smuggling obfuscation)",
        0,
        v.len(),
    );
}

/// Headers that must reach the application: naming one in `Connection`
/// makes an HTTP/1.1 proxy delete it on the way.
const END_TO_END: [&[u8]; 20] = [
    b"authorization",
    b"cf-connecting-ip",
    b"content-length",
    b"content-type",
    b"cookie",
    b"forwarded",
    b"host",
    b"transfer-encoding",
    b"true-client-ip",
    b"x-client-ip",
    b"x-forwarded-for",
    b"x-forwarded-host",
    b"x-forwarded-port",
    b"x-forwarded-prefix",
    b"x-forwarded-proto",
    b"x-forwarded-server",
    b"x-original-url",
    b"x-real-ip",
    b"x-rewrite-url",
    b"x-user-ip",
];

/// Connection options clients send (sorted): the hop-by-hop headers of
/// RFC 9110, `keep-alive`, `persist` (old Netscape-era clients).
const HOP_BY_HOP: [&[u8]; 10] = [
    b"close",
    b"http2-settings",
    b"keep-alive",
    b"persist",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"te",
    b"trailer",
    b"trailers",
    b"upgrade",
];

/// **`Connection` naming an end-to-end header** (`protocol.connection-hop`):
/// clients list `keep-alive`, `close`, `upgrade`, `TE` or `HTTP2-Settings`.
/// Listing `X-Forwarded-For`, `Authorization`, `Cookie`, `Content-Length`...
/// (50) asks the proxy in front of the application to strip it: the
/// hop-by-hop abuse that removes the client-IP header an allow-list relies
/// on, or a framing header. Any other header name there (`User-Agent`,
/// `X-Foo`) scores 20: odd, and a probe for the same trick.
fn connection(v: &[u8], sink: &mut Sink<'_>) {
    let mut buf = [0u8; 24];
    for (s, e) in CommaList::new(v).take(64) {
        let tok = &v[s..e];
        if tok.is_empty() {
            continue;
        }
        let low = &mut buf[..tok.len().min(24)];
        low.copy_from_slice(&tok[..low.len()]);
        low.make_ascii_lowercase();
        let whole = tok.len() <= 24;
        if whole && END_TO_END.binary_search(&&*low).is_ok() {
            let msg = format!(
                "Connection asks proxies to drop the end-to-end header {:?}",
                String::from_utf8_lossy(tok)
            );
            sink.report("protocol.connection-hop", 50, msg, s, e);
            return;
        }
        if !(whole && HOP_BY_HOP.binary_search(&&*low).is_ok()) {
            let msg = format!(
                "Connection names {:?}, not a hop-by-hop option",
                String::from_utf8_lossy(&tok[..tok.len().min(64)])
            );
            sink.report("protocol.connection-hop", 20, msg, s, e);
        }
    }
}

/// **Too many ranges** (60 above `max_ranges`, 16 by default,
/// `protocol.range-many`): players and download managers ask for one
/// range, PDF viewers for a handful; hundreds of (overlapping) ranges are
/// the CVE-2011-3192 memory exhaustion ("Apache Killer").
fn range(v: &[u8], max: usize, sink: &mut Sink<'_>) {
    let spec = match v.iter().position(|&b| b == b'=') {
        Some(i) => &v[i + 1..],
        None => v,
    };
    let n = CommaList::new(spec)
        .filter(|&(s, e)| e > s)
        .take(max + 1)
        .count();
    if n > max {
        let msg = format!("more than {max} byte ranges in one request (range-request DoS)");
        sink.report("protocol.range-many", 60, msg, 0, v.len());
    }
}

/// **`Expect` other than `100-continue`** (30, `protocol.expect-invalid`):
/// `100-continue` is the only expectation defined and the only one curl,
/// .NET and Java send; anything else is a probe (servers answer 417).
fn expect(v: &[u8], sink: &mut Sink<'_>) {
    let (s, e) = trim_ows(v, 0, v.len());
    if !eq_ci(&v[s..e], b"100-continue") {
        sink.report(
            "protocol.expect-invalid",
            30,
            "an Expect header other than 100-continue",
            0,
            v.len(),
        );
    }
}

/// **`Max-Forwards` outside TRACE and OPTIONS** (10,
/// `protocol.max-forwards`): the header only has meaning for those two;
/// on other methods it is seen from proxy-chain probing tools. Clients
/// of odd proxies may send it, hence the low score.
fn max_forwards(tree: &Tree, sink: &mut Sink<'_>) {
    let method = leaf_source(tree, Source::Method).map(|m| tree.value(m));
    if matches!(method, Some(b"TRACE" | b"OPTIONS" | b"TRACK")) {
        return;
    }
    sink.report(
        "protocol.max-forwards",
        10,
        "Max-Forwards on a method other than TRACE or OPTIONS",
        0,
        0,
    );
}

/// **`Upgrade: h2c`** (20, `protocol.h2c-upgrade`): `curl --http2` on an
/// `http://` URL sends it, so it cannot block; through a reverse proxy that
/// forwards the upgrade it opens an HTTP/2 tunnel past the proxy's rules
/// (h2c smuggling).
fn upgrade(v: &[u8], sink: &mut Sink<'_>) {
    for (s, e) in CommaList::new(v).take(64) {
        let tok = &v[s..e];
        let tok = match tok.iter().position(|&b| b == b'/' || is_ows(b)) {
            Some(i) => &tok[..i],
            None => tok,
        };
        if eq_ci(tok, b"h2c") {
            sink.report(
                "protocol.h2c-upgrade",
                20,
                "an upgrade to cleartext HTTP/2 (h2c), which can tunnel past a reverse proxy",
                s,
                e,
            );
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_to_end_table_is_sorted() {
        assert!(END_TO_END.windows(2).all(|w| w[0] < w[1]));
        assert!(HOP_BY_HOP.windows(2).all(|w| w[0] < w[1]));
        assert!(END_TO_END.iter().all(|h| h.len() <= 24));
    }
}
