//! The `Content-Type` header: one media type and its parameters.
//!
//! **`protocol.content-type-confusion`**: WAFs and frameworks choose a
//! body parser from this header, and some of them search it for a
//! substring (`json`, `xml`, `multipart`) instead of parsing it. Browsers
//! and libraries send exactly one `type/subtype`, and a `boundary` only on
//! `multipart/*`. Reported:
//! - a **second media type** after a comma (`application/json,
//!   application/xml`, what httpd makes of two Content-Type headers) (60);
//! - a **`boundary` parameter on a non-multipart type whose value is itself
//!   a media type** (`application/x-www-form-urlencoded;
//!   boundary="application/json"`), the CRS 921421/921422 bypass (60);
//! - any other `boundary` on a non-multipart type (30): meaningless there,
//!   but a sloppy client could copy it.
//!
//! A malformed header is left alone (the decoders report what they cannot
//! parse); parameters such as `type="application/xop+xml"` of
//! `multipart/related` are legitimate media types in parameters.

use crate::lex::{eq_ci, is_ows, is_tchar, trim_ows};
use crate::Sink;

const RULE: &str = "protocol.content-type-confusion";

fn token_end(v: &[u8], mut i: usize, e: usize) -> usize {
    while i < e && is_tchar(v[i]) {
        i += 1;
    }
    i
}

fn skip_ows(v: &[u8], mut i: usize, e: usize) -> usize {
    while i < e && is_ows(v[i]) {
        i += 1;
    }
    i
}

/// `type/subtype` starting at `i`: its end.
fn media_type(v: &[u8], i: usize, e: usize) -> Option<usize> {
    let t = token_end(v, i, e);
    if t == i || t >= e || v[t] != b'/' {
        return None;
    }
    let s = token_end(v, t + 1, e);
    (s > t + 1).then_some(s)
}

pub(crate) fn check(v: &[u8], sink: &mut Sink<'_>) {
    let (s, e) = trim_ows(v, 0, v.len());
    let Some(mut i) = media_type(v, s, e) else {
        return;
    };
    let multipart = eq_ci(&v[s..token_end(v, s, e)], b"multipart");
    while i < e {
        i = skip_ows(v, i, e);
        if i >= e {
            break;
        }
        match v[i] {
            b',' => {
                let j = skip_ows(v, i + 1, e);
                if media_type(v, j, e).is_some() {
                    sink.report(
                        RULE,
                        60,
                        "Content-Type holds two media types: body parsers may pick different ones",
                        j,
                        e,
                    );
                    return;
                }
                i += 1;
            }
            b';' => {
                let n0 = skip_ows(v, i + 1, e);
                let n1 = token_end(v, n0, e);
                let mut j = skip_ows(v, n1, e);
                if j >= e || v[j] != b'=' {
                    i = j.max(i + 1);
                    continue;
                }
                j = skip_ows(v, j + 1, e);
                let is_boundary = eq_ci(&v[n0..n1], b"boundary");
                // A multipart boundary may hold `,` and `/` (RFC 2046
                // bchars), quoted or not by sloppy clients.
                let (vs, ve, next) = param_value(v, j, e, multipart && is_boundary);
                if !multipart && is_boundary {
                    if v[vs..ve].contains(&b'/') {
                        sink.report(
                            RULE,
                            60,
                            "a boundary that is a media type on a non-multipart body \
                             (body-parser confusion)",
                            n0,
                            next,
                        );
                        return;
                    }
                    sink.report(
                        RULE,
                        30,
                        "a boundary parameter on a non-multipart Content-Type",
                        n0,
                        next,
                    );
                }
                i = next.max(i + 1);
            }
            _ => i += 1,
        }
    }
}

/// A parameter value at `i`: quoted string (escapes honoured) or a run up
/// to `;`, `,` (unless `bchars`) or whitespace. Returns the value's bounds
/// (without quotes) and where parsing continues.
fn param_value(v: &[u8], i: usize, e: usize, bchars: bool) -> (usize, usize, usize) {
    if i < e && v[i] == b'"' {
        let mut j = i + 1;
        while j < e {
            match v[j] {
                b'\\' => j += 2,
                b'"' => return (i + 1, j, j + 1),
                _ => j += 1,
            }
        }
        let end = e.min(j);
        return (i + 1, end, end);
    }
    let mut j = i;
    while j < e && v[j] != b';' && (bchars || v[j] != b',') && !is_ows(v[j]) {
        j += 1;
    }
    (i, j, j)
}
