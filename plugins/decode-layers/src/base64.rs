//! The `base64` layer: standard and URL-safe base64, padding optional.

use rampart_plugin_api::text::printable_ratio;
use rampart_plugin_api::{DecodeCtx, DecodeError, Decoder, Emitter, PluginInfo};

use crate::b64::{Stop, B64, STD, URL};
use crate::sink::Sink;

/// Input bytes decoded between two time checks.
const CHUNK: usize = 4096;

/// Decoded bytes that start like this are a known format, even when they are
/// not text: gzip, zlib, PDF, PNG, ZIP.
const MAGIC: &[&[u8]] = &[
    b"\x1f\x8b",
    b"\x78\x01",
    b"\x78\x5e",
    b"\x78\x9c",
    b"\x78\xda",
    b"%PDF",
    b"\x89PNG\r\n\x1a\n",
    b"PK\x03\x04",
];

/// Decodes base64 (`YWRtaW4=` reads `admin`).
///
/// Declared, whitespace (MIME line breaks) is skipped and an invalid
/// character stops decoding with `base64.malformed`, keeping what was
/// decoded. Speculative, the value must be base64 from end to end in one
/// alphabet, and the decoded bytes must be plausible: UTF-8 text that is at
/// least 90% printable, or a known binary format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Base64Decoder;

impl Decoder for Base64Decoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "base64",
            version: env!("CARGO_PKG_VERSION"),
            description: "base64 (standard and URL-safe alphabets, padding optional)",
        }
    }

    fn layer(&self) -> &'static str {
        "base64"
    }

    fn sniff(&self, value: &[u8]) -> bool {
        looks_like_base64(value)
    }

    fn decode(
        &self,
        input: &[u8],
        ctx: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let declared = ctx.declared;
        let (data, base) = if declared {
            (input, 0)
        } else {
            let lead = input.len() - input.trim_ascii_start().len();
            (input.trim_ascii(), lead)
        };
        // Form decoding made every `+` of the base64 a space: read them back
        // (one for one, so offsets are unchanged).
        let unmangled;
        let data = if !declared && spaces_for_plus(data) {
            unmangled = data
                .iter()
                .map(|&b| if b == b' ' { b'+' } else { b })
                .collect::<Vec<u8>>();
            &unmangled[..]
        } else {
            data
        };
        let mut sink = Sink::new(out);
        sink.reserve(data.len() / 4 * 3 + 3);
        let mut st = B64::default();
        let mut stop = None;
        for (k, chunk) in data.chunks(CHUNK).enumerate() {
            if let Err(s) = st.feed(chunk, base + k * CHUNK, declared, &mut sink) {
                stop = Some(s);
                break;
            }
            if let Err(e) = sink.tick() {
                return sink.finish(Err(e));
            }
        }
        match stop {
            None => stop = st.finish(&mut sink).err(),
            // Keep the bytes of the partial quantum before the bad character.
            // (cut at the budget, the sink knows it is full).
            Some(Stop::Invalid(_)) if declared => {
                let _ = st.finish(&mut sink);
            }
            _ => {}
        }
        if stop == Some(Stop::Full) {
            sink.set_full();
        }
        if !declared {
            let bad = matches!(stop, Some(Stop::Invalid(_) | Stop::Truncated));
            if bad || st.alphabets == STD | URL {
                return sink.reject();
            }
            // With the budget spent before a byte was written there is
            // nothing to judge: report the limit.
            let cut = sink.is_full();
            let empty = sink.len() == 0;
            if (empty && !cut) || (!empty && !plausible(sink.written(), cut)) {
                return sink.reject();
            }
        }
        let result = match stop {
            Some(Stop::Invalid(at)) => Err(DecodeError::malformed(
                "base64.malformed",
                "a character that is not base64 (or data after the padding)",
                at,
            )),
            Some(Stop::Truncated) => Err(DecodeError::malformed(
                "base64.malformed",
                "base64 that ends with a lone character",
                base + data.len(),
            )),
            Some(Stop::Full) | None => Ok(()),
        };
        sink.finish(result)
    }
}

/// Decoded bytes worth keeping from a speculative decoding: a known binary
/// format, or valid UTF-8 text (a character cut at the byte budget allowed)
/// that is at least 90% printable.
fn plausible(bytes: &[u8], cut: bool) -> bool {
    if MAGIC.iter().any(|m| bytes.starts_with(m)) {
        return true;
    }
    let valid = match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => cut && e.error_len().is_none(),
    };
    valid && printable_ratio(bytes) >= 0.9
}

/// The sniff: at least 8 characters of one base64 alphabet (up to two `=`
/// at the end, a length that can be decoded), both lower and upper case
/// (a leading capital does not count), and some sign that this is not a
/// word: a digit, `+`, `/` or padding, or else case changes as frequent as
/// in random base64 (`HelloWorld` and `my-product-name` are words).
///
/// A value of a form (`application/x-www-form-urlencoded`, the query) had
/// each `+` turned into a space: single spaces between base64 characters
/// are read as `+` when nothing else in the value is out of the alphabet.
pub(crate) fn looks_like_base64(value: &[u8]) -> bool {
    let v = value.trim_ascii();
    base64_shape(v, false) || (spaces_for_plus(v) && base64_shape(v, true))
}

/// True when `v` holds single spaces, none at either end, and no other
/// whitespace: what form decoding leaves of base64 with `+` in it.
fn spaces_for_plus(v: &[u8]) -> bool {
    let (Some(&first), Some(&last)) = (v.first(), v.last()) else {
        return false;
    };
    if first == b' ' || last == b' ' || !v.contains(&b' ') {
        return false;
    }
    !v.windows(2).any(|w| w == b"  ") && !v.iter().any(|&b| matches!(b, b'\t' | b'\n' | b'\r'))
}

fn base64_shape(v: &[u8], space_is_plus: bool) -> bool {
    if v.len() < 8 {
        return false;
    }
    let body = v
        .strip_suffix(b"==")
        .or_else(|| v.strip_suffix(b"="))
        .unwrap_or(v);
    let padded = body.len() < v.len();
    if (padded && !v.len().is_multiple_of(4)) || body.len() % 4 == 1 {
        return false;
    }
    let (mut upper, mut lower, mut digit, mut std, mut url) = (false, false, false, false, false);
    let mut prev_lower = false;
    let mut rises = 0usize;
    for (i, &b) in body.iter().enumerate() {
        let is_lower = b.is_ascii_lowercase();
        match b {
            b'A'..=b'Z' => {
                upper |= i > 0;
                rises += usize::from(prev_lower);
            }
            b'a'..=b'z' => lower = true,
            b'0'..=b'9' => digit = true,
            b'+' | b'/' => std = true,
            b' ' if space_is_plus => std = true,
            b'-' | b'_' => url = true,
            _ => return false,
        }
        prev_lower = is_lower;
    }
    if (std && url) || !upper || !lower {
        return false;
    }
    digit || std || padded || rises >= 2 || rises * 4 >= body.len()
}
