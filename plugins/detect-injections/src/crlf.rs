//! CRLF injection: header injection and HTTP response splitting.
//!
//! The engine has already percent-decoded the value (twice when it was
//! double-encoded) and decoded `\u000d` escapes, so a break here is a CR or
//! LF byte, a Unicode character that truncates to one (`嘍` is U+560D), or
//! a literal `\r\n` escape (see the `lines` module). What follows a break
//! decides:
//!
//! - a status line `HTTP/1.1 200` (`crlf.response-splitting`: 80, 60 in
//!   the body, where a pasted response in a ticket is possible);
//! - a header field `Name: value` (`crlf.header-injection`: 70). Header
//!   names are in two sorted tables: names that prose never starts a line
//!   with (`Set-Cookie`, `Content-Length`, `X-Forwarded-For`...) count
//!   wherever the value sits; names that are also ordinary words
//!   (`Location`, `Host`, `Link`...) count with a URL value anywhere, and
//!   with a one-token value (`evil.com`, `a=b`) outside the body. Any other
//!   header-shaped line (`crlf.header-like`) counts in headers, cookies and
//!   the path (60) and in the query (40), never in the body, where
//!   textareas hold `Note: ...` lines, nor in text decoded from a document
//!   (JSON, base64...) wherever it sits;
//! - an HTML document after an empty line (`crlf.response-body`: 60, 30 in
//!   the body);
//! - a request line `GET /a.html HTTP/1.1` (`crlf.request-smuggling`: 70,
//!   60 in the body): a second request smuggled into the first, for a
//!   server or proxy that forwards the value. The request line counts after
//!   a break, and also before one (`xGET /a HTTP/1.1` CRLF at the start of
//!   a body that a desynchronised back end reads as the next request). A
//!   request line with no line break around it starts nothing and is not
//!   reported (developers paste them into forms).
//!
//! A literal `\r\n` escape scores at most 40: only an application that
//! unescapes the value would be hurt, and code snippets are full of them.
//! A CR or LF in the path (`crlf.path`: 50) or in a parameter, cookie or
//! form field name (`crlf.key`: 50, 70 with a header after it) is reported
//! too: neither ever holds one.

use rampart_plugin_api::types::Seg;
use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo};

use crate::lines::{breaks, header_at, line_at, Break, Kind};
use crate::util::{
    head, in_table, own_key, place, skip_blank, starts_ci, under_layer, Place, Reporter,
};

const NAME: &str = "crlf";

/// The CRLF-injection detector (plugin `crlf`, class [`Class::Crlf`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct CrlfDetector;

impl Detector for CrlfDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "CRLF injection: header injection and HTTP response splitting",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Crlf]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let mut at = place(ctx);
        if at != Place::Body && decoded_document(ctx) {
            // Text decoded from a document (JSON in a cookie, base64 in a
            // header) is free text like a body's.
            at = Place::Body;
        }
        let mut rep = Reporter::new(out, ctx, Class::Crlf, NAME, value.len());
        let s = head(value);
        let mut path_break = None;
        let mut first = true;
        breaks(s, |br| {
            if first {
                first = false;
                if br.kind != Kind::Escaped && request_line(&s[..br.start], false) {
                    let score = if at == Place::Body { 60 } else { 70 };
                    rep.report(
                        "crlf.request-smuggling",
                        score,
                        || "an HTTP request line ended by a line break",
                        0,
                        br.end,
                    );
                }
            }
            if br.kind == Kind::Real && path_break.is_none() {
                path_break = Some(br);
            }
            line(s, br, at, &mut rep);
            true
        });
        if let (Place::Path, Some(br)) = (at, path_break) {
            rep.report(
                "crlf.path",
                50,
                || "line break in the request path",
                br.start,
                br.end,
            );
        }
        let names = match at {
            Place::Query | Place::Cookie | Place::Header => true,
            Place::Body => under_layer(ctx, "form"),
            _ => false,
        };
        if names {
            if let Some(key) = own_key(ctx) {
                key_check(head(key), &mut rep);
            }
        }
    }
}

/// Header names that ordinary text does not start a line with.
const STRICT: &[&str] = &[
    "access-control-allow-credentials",
    "access-control-allow-headers",
    "access-control-allow-methods",
    "access-control-allow-origin",
    "access-control-expose-headers",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-length",
    "content-security-policy",
    "content-type",
    "keep-alive",
    "last-modified",
    "proxy-authorization",
    "refresh",
    "remote-addr",
    "set-cookie",
    "set-cookie2",
    "strict-transport-security",
    "transfer-encoding",
    "www-authenticate",
    "x-content-type-options",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-frame-options",
    "x-original-url",
    "x-real-ip",
    "x-rewrite-url",
    "x-xss-protection",
];

/// Header names that are also ordinary words at the start of a line.
const WORDS: &[&str] = &[
    "authorization",
    "connection",
    "content-language",
    "content-location",
    "cookie",
    "etag",
    "expires",
    "host",
    "link",
    "location",
    "pragma",
    "server",
    "upgrade",
    "vary",
];

/// Elements that open an injected response body.
const BODY_TAGS: &[&[u8]] = &[
    b"<!doctype",
    b"<body",
    b"<head",
    b"<html",
    b"<iframe",
    b"<meta",
    b"<script",
    b"<svg",
    b"<title",
];

/// Scores of the line after one break.
fn line(s: &[u8], br: Break, at: Place, rep: &mut Reporter<'_>) {
    let i = skip_blank(s, br.end);
    let text = line_at(s, i, 4096);
    let end = i + text.len();
    let body = at == Place::Body;
    if status_line(text) {
        let score = match (br.kind, body) {
            (Kind::Escaped, _) => 40,
            (_, true) => 60,
            (_, false) => 80,
        };
        rep.report(
            "crlf.response-splitting",
            score,
            || "a line break followed by an HTTP status line",
            br.start,
            end,
        );
        return;
    }
    if request_line(text, true) {
        let score = match (br.kind, body) {
            (Kind::Escaped, _) => 40,
            (_, true) => 60,
            (_, false) => 70,
        };
        rep.report(
            "crlf.request-smuggling",
            score,
            || "a line break followed by an HTTP request line",
            br.start,
            end,
        );
        return;
    }
    if br.blank && BODY_TAGS.iter().any(|t| starts_ci(s, i, t)) {
        let score = if body || br.kind == Kind::Escaped {
            30
        } else {
            60
        };
        rep.report(
            "crlf.response-body",
            score,
            || "an empty line followed by an HTML document",
            br.start,
            end,
        );
    }
    let Some((n0, n1, v)) = header_at(s, i) else {
        return;
    };
    let name = &s[n0..n1];
    let val = s.get(skip_blank(s, v)..end).unwrap_or_default();
    let strict = in_table(STRICT, name) && strict_value(name, val);
    let word = !strict && in_table(WORDS, name);
    let score = match br.kind {
        Kind::Real | Kind::Lookalike if strict => 70,
        Kind::Real | Kind::Lookalike if word && (url_like(val) || (!body && token(val))) => 70,
        Kind::Escaped if strict => 40,
        Kind::Escaped if word && !body && token(val) => 40,
        _ => 0,
    };
    if score > 0 {
        let lookalike = br.kind == Kind::Lookalike;
        rep.report(
            "crlf.header-injection",
            score,
            || {
                format!(
                    "a line break{} followed by the header {}",
                    if lookalike {
                        " (a character that truncates to CR/LF)"
                    } else {
                        ""
                    },
                    String::from_utf8_lossy(name)
                )
            },
            br.start,
            end,
        );
        return;
    }
    if br.kind != Kind::Real || val.is_empty() {
        return;
    }
    let score = match at {
        Place::Header | Place::Cookie | Place::Path | Place::Other => 60,
        Place::Query => 40,
        Place::Body => 0,
    };
    rep.report(
        "crlf.header-like",
        score,
        || {
            format!(
                "a line break followed by a header-shaped line ({}:)",
                String::from_utf8_lossy(name)
            )
        },
        br.start,
        end,
    );
}

/// `HTTP/1.1 200`, `HTTP/2 404`, `HTTP/1.0 302 Found`.
fn status_line(t: &[u8]) -> bool {
    if !starts_ci(t, 0, b"http/") {
        return false;
    }
    let mut k = 5;
    let v0 = k;
    while t.get(k).is_some_and(|b| b.is_ascii_digit() || *b == b'.') {
        k += 1;
    }
    if k == v0 || !t[v0].is_ascii_digit() {
        return false;
    }
    let c = skip_blank(t, k);
    c > k
        && t.get(c..c + 3)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && !t.get(c + 3).is_some_and(u8::is_ascii_digit)
}

/// Methods a smuggled request line uses (upper case).
const METHODS: &[&str] = &[
    "CONNECT",
    "COPY",
    "DELETE",
    "GET",
    "HEAD",
    "LOCK",
    "MKCOL",
    "MOVE",
    "OPTIONS",
    "PATCH",
    "POST",
    "PROPFIND",
    "PROPPATCH",
    "PUT",
    "TRACE",
    "TRACK",
    "UNLOCK",
];

/// The line `t` ends with an HTTP request line, `METHOD SP target SP
/// HTTP/d[.d]`. With `whole`, the method must start the line (after
/// blanks) and be a word of its own; otherwise it may be glued to what
/// precedes it in upper case (`barGET`), the end of a smuggled chunk.
fn request_line(t: &[u8], whole: bool) -> bool {
    let t = t.trim_ascii_end();
    // The version: `HTTP/` and a digit, an optional `.digit`.
    let mut e = t.len();
    if e >= 2 && t[e - 1].is_ascii_digit() && t[e - 2] == b'.' {
        e -= 2;
    }
    if e < 6 || !t[e - 1].is_ascii_digit() || !starts_ci(t, e - 6, b"http/") {
        return false;
    }
    let v = e - 6;
    let blank = |b: u8| b == b' ' || b == b'\t';
    // The target: one token between blanks.
    let mut te = v;
    while te > 0 && blank(t[te - 1]) {
        te -= 1;
    }
    if te == v {
        return false;
    }
    let mut ts = te;
    while ts > 0 && !blank(t[ts - 1]) {
        ts -= 1;
    }
    if ts == te || !matches!(t[ts], b'/' | b'*') && !t[ts].is_ascii_alphanumeric() {
        return false;
    }
    // The method.
    let mut me = ts;
    while me > 0 && blank(t[me - 1]) {
        me -= 1;
    }
    if me == ts {
        return false;
    }
    let mut ms = me;
    while ms > 0 && t[ms - 1].is_ascii_alphabetic() && me - ms < 32 {
        ms -= 1;
    }
    let word = &t[ms..me];
    if whole && !t[..ms].iter().all(|&b| blank(b)) {
        return false;
    }
    // The method as a word of its own, in any case (`get / http/1.1`).
    if METHODS
        .iter()
        .any(|m| word.eq_ignore_ascii_case(m.as_bytes()))
    {
        return true;
    }
    // Glued to what precedes it: an upper-case method ending the word.
    !whole && METHODS.iter().any(|m| word.ends_with(m.as_bytes()))
}

/// A strict header name whose value has a shape prose would not give it.
fn strict_value(name: &[u8], val: &[u8]) -> bool {
    if name.eq_ignore_ascii_case(b"content-length") {
        return val.first().is_some_and(u8::is_ascii_digit);
    }
    if name.eq_ignore_ascii_case(b"content-type") {
        return val.contains(&b'/');
    }
    if name.eq_ignore_ascii_case(b"refresh") {
        return val.first().is_some_and(u8::is_ascii_digit) || url_like(val);
    }
    true
}

/// A value that starts like a URL or a path (`http://`, `//host`, `/x`) or
/// a host name (`www.example.com`).
fn url_like(v: &[u8]) -> bool {
    if v.starts_with(b"/") || starts_ci(v, 0, b"http:") || starts_ci(v, 0, b"https:") {
        return true;
    }
    // One word holding a dot: a host name.
    let word = v.iter().take_while(|b| !b.is_ascii_whitespace()).count();
    word == v.len() && v.len() > 3 && v.contains(&b'.') && v[0].is_ascii_alphanumeric()
}

/// The point was decoded from a document or an encoding that carries
/// free text (JSON, XML, multipart, base64, gzip...), not just unescaped
/// (`url`, `jsesc`, `html`) or split into parameters (`form`, `cookie`).
fn decoded_document(ctx: &DetectCtx<'_>) -> bool {
    let tree = ctx.tree;
    let mut id = ctx.point;
    for _ in 0..64 {
        if id.index() >= tree.len() {
            return false;
        }
        let node = tree.node(id);
        match node.seg {
            Seg::Layer(l) if !matches!(l, "url" | "jsesc" | "html" | "form" | "cookie") => {
                return true
            }
            Seg::Root | Seg::Source(_) => return false,
            _ => {}
        }
        match node.parent() {
            Some(p) => id = p,
            None => return false,
        }
    }
    false
}

/// A header value of one token (`evil.com`, `a=b`, `close`), or a
/// credential (`Basic dXNlcg==`): what injected headers carry, unlike
/// `Host: Jane Doe` in a note.
fn token(v: &[u8]) -> bool {
    let v = v.trim_ascii();
    if v.is_empty() {
        return false;
    }
    if !v.contains(&b' ') {
        return true;
    }
    let words = v.split(|&b| b == b' ').filter(|w| !w.is_empty()).count();
    words == 2
        && [&b"basic "[..], b"bearer ", b"digest "]
            .iter()
            .any(|p| starts_ci(v, 0, p))
}

/// A line break in a parameter, cookie or header name.
fn key_check(key: &[u8], rep: &mut Reporter<'_>) {
    if !key.iter().any(|&b| b == b'\r' || b == b'\n') {
        return;
    }
    let mut header = false;
    breaks(key, |br| {
        if br.kind == Kind::Real {
            let i = skip_blank(key, br.end);
            if let Some((n0, n1, _)) = header_at(key, i) {
                header |= in_table(STRICT, &key[n0..n1]) || in_table(WORDS, &key[n0..n1]);
            }
        }
        true
    });
    let score = if header { 70 } else { 50 };
    rep.report(
        "crlf.key",
        score,
        || {
            if header {
                "a parameter name holds a line break and a header"
            } else {
                "a parameter name holds a line break"
            }
        },
        0,
        0,
    );
}
