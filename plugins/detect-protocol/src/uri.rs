//! The raw request-target, at the `uri` point.
//!
//! - **raw control bytes or spaces** (70, `protocol.uri-control`): they
//!   cannot be part of a request line; clients percent-encode them. Seen
//!   raw, they split the request line for a downstream parser. Raw non-ASCII
//!   bytes are not reported: some clients send UTF-8 paths unencoded.
//! - **CR, LF or NUL percent-encoded in the path** (50,
//!   `protocol.path-control`): no link a browser follows has a line break
//!   in a path segment; it is response splitting through redirects, or the
//!   nginx + PHP-FPM `PATH_INFO` injection (CVE-2019-11043). Double and
//!   triple encodings (`%250a`, `%25%30%41`) score 50 when a header line
//!   (`Name:`) follows the break, 30 otherwise: a page whose path quotes
//!   the text `%0A` is sent as `%250A`. The query is not looked at: a GET
//!   form with a textarea sends `%0D%0A` there.
//! - **a backslash in the path** (20, `protocol.uri-backslash`): raw (browsers
//!   turn `\` into `/` before sending, scripts and traversal probes do not),
//!   or `%5C` next to `..`. A lone `%5C` is not reported: paths carry
//!   encoded `DOMAIN\user` names.
//! - **a fragment** (20, `protocol.uri-fragment`): browsers and libraries
//!   strip `#...` before sending; hand-made requests and some tools keep it.
//! - **overlong** (30 above `max_uri_length`, 8 KiB, `protocol.uri-long`):
//!   real URLs stay well below (browsers cap around 2-64 KiB, servers at
//!   8 KiB); overflow and buffer probes do not.
//! - **`unix:...|` in the target** (60, `protocol.uri-unix-socket`): the
//!   Apache mod_proxy socket syntax, the CVE-2021-40438 SSRF.
//! - **absolute-form naming another host than `Host`** (20,
//!   `protocol.uri-host-mismatch`): clients speaking to a forward proxy
//!   send absolute-form with the same host in both; a difference makes
//!   routing (by the target) and the application (by Host) disagree. The
//!   port is ignored (`example.com` and `example.com:80` match).

use rampart_plugin_api::types::Source;
use rampart_plugin_api::Tree;

use crate::config::PolicyConfig;
use crate::lex::{capped, eq_ci, find_ci, hex, is_tchar, trim_ows, Pct, INSPECT_CAP};
use crate::{Sink, MAX_HEADERS};

pub(crate) fn check(value: &[u8], tree: &Tree, policy: &PolicyConfig, sink: &mut Sink<'_>) {
    let len = value.len();
    if len > policy.max_uri_length {
        let msg = format!(
            "a request-target of {len} bytes (more than {})",
            policy.max_uri_length
        );
        sink.report("protocol.uri-long", 30, msg, policy.max_uri_length, len);
    }
    let v = capped(value);
    if let Some(i) = v.iter().position(|&b| b <= b' ' || b == 0x7f) {
        sink.report(
            "protocol.uri-control",
            70,
            "a raw control character or space in the request-target",
            i,
            len,
        );
    }
    if let Some(i) = v.iter().position(|&b| b == b'#') {
        sink.report(
            "protocol.uri-fragment",
            20,
            "a fragment (#) sent on the wire: clients strip it",
            i,
            len,
        );
    }
    let (path_start, authority) = split_target(v);
    let path_end = path_start
        + v[path_start..]
            .iter()
            .position(|&b| b == b'?' || b == b'#')
            .unwrap_or(v.len() - path_start);
    let path = &v[path_start..path_end];
    backslash(path, path_start, sink);
    encoded_controls(path, path_start, sink);
    if let Some((s, e)) = authority {
        host_mismatch(v, s, e, tree, sink);
    }
    if unix_socket(v) {
        sink.report(
            "protocol.uri-unix-socket",
            60,
            "a unix:socket|url proxy target in the request-target (CVE-2021-40438)",
            0,
            len,
        );
    }
}

/// `unix:` followed, without whitespace, by `|`, once percent-decoded:
/// the mod_proxy socket syntax (`unix:/path|http://backend/`) that
/// CVE-2021-40438 lets a client choose. It belongs in server
/// configuration, never in a URL a client builds.
fn unix_socket(v: &[u8]) -> bool {
    // The decoded `|` is a raw `|` or `%7c`: without either, no socket
    // target can be there (one pass instead of decoding the whole target).
    let bar = v.contains(&b'|')
        || v.windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'7' && (w[2] | 0x20) == b'c');
    if !bar {
        return false;
    }
    let mut last = [0u8; 5];
    let mut armed = false;
    for b in Pct::new(v.iter().copied()) {
        last.copy_within(1.., 0);
        last[4] = b.to_ascii_lowercase();
        if &last == b"unix:" {
            armed = true;
        } else if armed && b == b'|' {
            return true;
        } else if matches!(b, b' ' | b'+' | b'\t' | b'&' | b'=') {
            armed = false;
        }
    }
    false
}

/// Where the path starts, and the authority of an absolute-form target.
fn split_target(v: &[u8]) -> (usize, Option<(usize, usize)>) {
    if v.first() != Some(&b'/') {
        let scheme = v
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b"+-.".contains(&b)))
            .unwrap_or(v.len());
        if scheme > 0 && v[0].is_ascii_alphabetic() && v[scheme..].starts_with(b"://") {
            let a = scheme + 3;
            let end = a + v[a..]
                .iter()
                .position(|&b| b"/?#".contains(&b))
                .unwrap_or(v.len() - a);
            return (end, Some((a, end)));
        }
    }
    (0, None)
}

fn backslash(path: &[u8], off: usize, sink: &mut Sink<'_>) {
    let raw = path.iter().position(|&b| b == b'\\');
    let enc = dotted_encoded_backslash(path);
    let at = match (raw, enc) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => return,
    };
    sink.report(
        "protocol.uri-backslash",
        20,
        "a backslash in the path (browsers send /)",
        off + at,
        off + at + 1,
    );
}

/// `%5C` next to `..` (`..%5c`, `%5c..`): a traversal written for
/// Windows servers. A lone `%5C` is left alone: paths carry encoded
/// `DOMAIN\\user` names and file names legitimately.
fn dotted_encoded_backslash(path: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = find_ci(&path[from..], b"%5c") {
        let at = from + i;
        let before =
            path[..at].ends_with(b"..") || (at >= 6 && eq_ci(&path[at - 6..at], b"%2e%2e"));
        let after = path[at + 3..].starts_with(b"..");
        if before || after {
            return Some(at);
        }
        from = at + 3;
    }
    None
}

/// Rounds of percent-decoding looked through.
const ROUNDS: usize = 3;

fn encoded_controls(path: &[u8], off: usize, sink: &mut Sink<'_>) {
    if !path.contains(&b'%') {
        return;
    }
    // Round one, with an exact span.
    let mut i = 0;
    while i + 2 < path.len() {
        if path[i] == b'%' {
            if let (Some(h), Some(l)) = (hex(path[i + 1]), hex(path[i + 2])) {
                if matches!(h << 4 | l, b'\r' | b'\n' | 0) {
                    return report_path_control(50, off + i, off + i + 3, sink);
                }
                i += 3;
                continue;
            }
        }
        i += 1;
    }
    // Deeper rounds: the span is the path.
    let bytes = || path.iter().copied();
    let mut found = scan_controls(Pct::new(Pct::new(bytes())));
    if ROUNDS >= 3 && found != Some(true) {
        found = found.max(scan_controls(Pct::new(Pct::new(Pct::new(bytes())))));
    }
    match found {
        Some(true) => report_path_control(50, off, off + path.len(), sink),
        Some(false) => report_path_control(30, off, off + path.len(), sink),
        None => {}
    }
}

/// Looks for CR, LF or NUL in a decoded stream: `Some(true)` when one is
/// followed by a header line (`Name:` after the line breaks), the shape of
/// response splitting; `Some(false)` for a bare one (a path that quotes a
/// literal `%0A` text, encoded once more by the browser, decodes to it too).
fn scan_controls(it: impl Iterator<Item = u8>) -> Option<bool> {
    let mut found = None;
    // 0: outside; 1: after a control; 2: in a name after a control.
    let mut state = 0u8;
    for b in it.take(INSPECT_CAP) {
        let ctl = matches!(b, b'\r' | b'\n' | 0);
        state = match (state, ctl) {
            (_, true) => {
                found = Some(false);
                1
            }
            (1, false) if b == b' ' || b == b'\t' => 1,
            (1 | 2, false) if is_tchar(b) => 2,
            (2, false) if b == b':' => return Some(true),
            _ => 0,
        };
    }
    found
}

fn report_path_control(score: u8, s: usize, e: usize, sink: &mut Sink<'_>) {
    let msg = if score >= 50 {
        "an encoded CR, LF or NUL in the path (response splitting, PATH_INFO injection)"
    } else {
        "a double-encoded CR, LF or NUL in the path"
    };
    sink.report("protocol.path-control", score, msg, s, e);
}

/// The host part of `host[:port]` or `[v6]:port`, lower-cased comparison
/// is left to the caller; a trailing dot is dropped.
fn host_of(a: &[u8]) -> &[u8] {
    let a = match a.iter().rposition(|&b| b == b'@') {
        Some(i) => &a[i + 1..],
        None => a,
    };
    let h = if a.first() == Some(&b'[') {
        match a.iter().position(|&b| b == b']') {
            Some(i) => &a[..=i],
            None => a,
        }
    } else {
        match a.iter().position(|&b| b == b':') {
            Some(i) => &a[..i],
            None => a,
        }
    };
    h.strip_suffix(b".").unwrap_or(h)
}

fn host_mismatch(v: &[u8], s: usize, e: usize, tree: &Tree, sink: &mut Sink<'_>) {
    let Some(hdr) = tree.source(Source::Header) else {
        return;
    };
    let Some(host) = tree.children(hdr).take(MAX_HEADERS).find(|&id| {
        tree.key(tree.node(id).seg)
            .is_some_and(|k| eq_ci(k, b"host"))
    }) else {
        return;
    };
    let hv = tree.value(host);
    let (hs, he) = trim_ows(hv, 0, hv.len());
    let target_host = host_of(&v[s..e]);
    if !eq_ci(host_of(&hv[hs..he]), target_host) {
        sink.report(
            "protocol.uri-host-mismatch",
            20,
            "the absolute-form target names another host than the Host header",
            s,
            e,
        );
    }
}
