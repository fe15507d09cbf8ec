//! The `jwt` layer: a JSON Web Token taken apart into its header and payload.

use rampart_plugin_api::types::Span;
use rampart_plugin_api::{DecodeCtx, DecodeError, Decoder, Emitter, Key, LimitKind, PluginInfo};

use crate::b64::{is_b64_char, Stop, B64};
use crate::sink::Sink;

/// Input bytes decoded between two time checks.
const CHUNK: usize = 4096;

/// Takes a JWS compact token (`header.payload.signature`, base64url) apart.
///
/// Emits two leaves, `header` and `payload`, holding the decoded JSON text
/// and declared `application/json` so that the engine decodes them as JSON
/// (`header.authorization:bearer:jwt.payload:json.sub`). The signature is
/// ignored. A header whose `alg` is `none` (any case, escapes and whitespace
/// seen through) is flagged `jwt.alg-none`: an unsigned token, a known way
/// to forge one. Speculative, the header must decode to a JSON object.
#[derive(Debug, Clone, Copy, Default)]
pub struct JwtDecoder;

impl Decoder for JwtDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "jwt",
            version: env!("CARGO_PKG_VERSION"),
            description: "JSON Web Tokens: header and payload as JSON, alg none flagged",
        }
    }

    fn layer(&self) -> &'static str {
        "jwt"
    }

    fn sniff(&self, value: &[u8]) -> bool {
        value.starts_with(b"eyJ")
            && value.iter().filter(|&&b| b == b'.').count() == 2
            && value
                .iter()
                .all(|&b| b == b'.' || (is_b64_char(b) && b != b'+' && b != b'/'))
    }

    fn decode(
        &self,
        input: &[u8],
        ctx: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let token = input.trim_ascii();
        let lead = input.len() - input.trim_ascii_start().len();
        let start = out.mark() as usize;
        let fail = |out: &mut Emitter<'_>, message: &'static str, at: usize| {
            out.buf().truncate(start);
            if ctx.declared {
                Err(DecodeError::malformed("jwt.malformed", message, lead + at))
            } else {
                Err(DecodeError::NotThisFormat)
            }
        };
        let mut parts = token.splitn(4, |&b| b == b'.');
        let (Some(h), Some(p), Some(_sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return fail(out, "a JWT has three parts separated by dots", token.len());
        };
        let (head, head_full) = match segment(h, out) {
            Ok(r) => r,
            Err(Some(e)) => {
                out.buf().truncate(start);
                return Err(e);
            }
            Err(None) => return fail(out, "the JWT header is not base64url", 0),
        };
        if head_full {
            // Nothing useful fits: a cut header is not worth a point.
            out.buf().truncate(start);
            return Err(DecodeError::Exhausted(LimitKind::Bytes));
        }
        let head_text = &out.buf()[head.0 as usize..head.1 as usize];
        let is_object = std::str::from_utf8(head_text).is_ok()
            && head_text.trim_ascii_start().first() == Some(&b'{');
        if !ctx.declared && !is_object {
            return fail(out, "the JWT header is not JSON", 0);
        }
        let alg_none = alg_none(head_text);
        let (payload, payload_full) = match segment(p, out) {
            Ok(r) => r,
            Err(Some(e)) => {
                out.buf().truncate(start);
                return Err(e);
            }
            Err(None) => return fail(out, "the JWT payload is not base64url", h.len() + 1),
        };
        let root = out.root();
        out.make_container(root);
        let header = out.leaf_span(root, Key::Name(b"header"), head)?;
        out.hint(header, b"application/json")?;
        if let Some((from, to)) = alg_none {
            let span = Span::new(from, to);
            out.flag(
                header,
                "jwt.alg-none",
                50,
                span,
                "JWT header with alg none (unsigned)",
            );
        }
        let body = out.leaf_span(root, Key::Name(b"payload"), payload)?;
        out.hint(body, b"application/json")?;
        if payload_full {
            return Err(DecodeError::Exhausted(LimitKind::Bytes));
        }
        Ok(())
    }
}

/// Decodes one base64url segment into the tree's buffer: its span and
/// whether it was cut at the byte budget; `Err(None)` when it is not base64.
fn segment(seg: &[u8], out: &mut Emitter<'_>) -> Result<((u32, u32), bool), Option<DecodeError>> {
    let mut sink = Sink::new(out);
    let mut st = B64::default();
    let mut stop = None;
    for chunk in seg.chunks(CHUNK) {
        if let Err(s) = st.feed(chunk, 0, false, &mut sink) {
            stop = Some(s);
            break;
        }
        sink.tick().map_err(Some)?;
    }
    if stop.is_none() {
        stop = st.finish(&mut sink).err();
    }
    match stop {
        Some(Stop::Invalid(_) | Stop::Truncated) => Err(None),
        Some(Stop::Full) => {
            sink.set_full();
            sink.close().map_err(Some)
        }
        None => sink.close().map_err(Some),
    }
}

/// Where `"alg": "none"` is in a JSON header (key and value compared
/// without regard to case, with JSON escapes decoded), as a byte range.
fn alg_none(json: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while let Some(off) = json
        .get(i..)
        .and_then(|r| r.iter().position(|&b| b == b'"'))
    {
        let q = i + off;
        let (end, key) = string(json, q);
        i = end;
        if !key.is("alg") {
            continue;
        }
        let colon = skip_space(json, end);
        if json.get(colon) != Some(&b':') {
            continue;
        }
        let v = skip_space(json, colon + 1);
        if json.get(v) != Some(&b'"') {
            continue;
        }
        let (vend, value) = string(json, v);
        if value.is("none") {
            return Some((q, vend));
        }
        i = vend;
    }
    None
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// The first bytes of a decoded JSON string, enough to compare it with a
/// short word.
#[derive(Debug, Default)]
struct Short {
    bytes: [u8; 8],
    len: usize,
    /// Longer than `bytes`, or an escape that is not ASCII.
    other: bool,
    /// The closing quote was seen.
    closed: bool,
}

impl Short {
    fn push(&mut self, b: u8) {
        match self.bytes.get_mut(self.len) {
            Some(slot) => {
                *slot = b;
                self.len += 1;
            }
            None => self.other = true,
        }
    }

    fn is(&self, word: &str) -> bool {
        self.closed && !self.other && self.bytes[..self.len].eq_ignore_ascii_case(word.as_bytes())
    }
}

/// The JSON string starting at `b[q] == b'"'`: where it ends (after the
/// closing quote, or the end of input) and its first decoded bytes.
fn string(b: &[u8], q: usize) -> (usize, Short) {
    let (end, s) = string_inner(b, q);
    (end.min(b.len()), s)
}

fn string_inner(b: &[u8], q: usize) -> (usize, Short) {
    let mut s = Short::default();
    let mut i = q + 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                s.closed = true;
                return (i + 1, s);
            }
            b'\\' => {
                let e = b.get(i + 1).copied().unwrap_or(0);
                i += 2;
                match e {
                    b'u' => {
                        let v = b.get(i..i + 4).and_then(|d| {
                            d.iter()
                                .try_fold(0u32, |v, &h| Some(v << 4 | (h as char).to_digit(16)?))
                        });
                        match v {
                            Some(v) if v < 0x80 => {
                                s.push(v as u8);
                                i += 4;
                            }
                            _ => s.other = true,
                        }
                    }
                    b'"' | b'\\' | b'/' => s.push(e),
                    _ => s.other = true,
                }
            }
            _ => {
                s.push(c);
                i += 1;
            }
        }
    }
    (i, s)
}
