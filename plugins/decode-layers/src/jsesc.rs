//! The `jsesc` layer: JavaScript string escapes (`\u003c`, `\u{1F600}`,
//! `\x3c`, `\74`, `\n`).

use rampart_plugin_api::{DecodeCtx, DecodeError, Decoder, Emitter, PluginInfo};

use crate::sink::{Sink, TICK_EVERY};

/// Decodes the escapes of a JavaScript string literal.
///
/// `\uXXXX` (surrogate pairs joined, a lone surrogate reads U+FFFD),
/// `\u{X..}` (past U+10FFFF reads U+FFFD), `\xXX` (U+0000..U+00FF), legacy
/// octal `\0`..`\377`, the single-character escapes `\n \t \r \b \f \v \'
/// \" \\ \/`, and line continuations. Anything else after a backslash (an
/// incomplete `\u12`, `\d` of a regular expression) is kept as written.
/// Speculative, a value in which nothing was decoded is not this format.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsEscapeDecoder;

impl Decoder for JsEscapeDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "jsesc",
            version: env!("CARGO_PKG_VERSION"),
            description: "JavaScript string escapes",
        }
    }

    fn layer(&self) -> &'static str {
        "jsesc"
    }

    fn sniff(&self, value: &[u8]) -> bool {
        let mut i = 0;
        while let Some(off) = value[i..].iter().position(|&b| b == b'\\') {
            let bs = i + off;
            i = bs + 1;
            let hex_at = |k: usize| value.get(bs + k).is_some_and(u8::is_ascii_hexdigit);
            let hit = match value.get(bs + 1) {
                Some(b'u') => (2..6).all(hex_at) || (value.get(bs + 2) == Some(&b'{') && hex_at(3)),
                Some(b'x') => hex_at(2) && hex_at(3),
                _ => false,
            };
            if hit {
                return true;
            }
        }
        false
    }

    fn decode(
        &self,
        input: &[u8],
        ctx: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let mut sink = Sink::new(out);
        sink.reserve(input.len());
        let mut decoded = false;
        let mut literal = 0;
        let mut i = 0;
        let mut next_tick = TICK_EVERY;
        while let Some(off) = input[i..].iter().position(|&b| b == b'\\') {
            let bs = i + off;
            if bs >= next_tick {
                next_tick = bs + TICK_EVERY;
                if let Err(e) = sink.tick() {
                    return sink.finish(Err(e));
                }
            }
            let Some((c, end)) = escape(input, bs) else {
                // Not an escape we decode: keep the backslash and the byte
                // after it (`\\u` must not start a new escape at `u`).
                i = (bs + 2).min(input.len());
                continue;
            };
            let ok = sink.extend(&input[literal..bs]) && c.is_none_or(|c| sink.push_char(c));
            if !ok {
                return sink.finish(Ok(()));
            }
            decoded = true;
            literal = end;
            i = end;
        }
        if !ctx.declared && !decoded {
            return sink.reject();
        }
        sink.extend(&input[literal..]);
        sink.finish(Ok(()))
    }
}

fn hex(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

/// The escape at `input[bs] == b'\\'`: the character it reads (`None` for a
/// line continuation) and where it ends; `None` when it is not one we decode.
fn escape(input: &[u8], bs: usize) -> Option<(Option<char>, usize)> {
    let next = *input.get(bs + 1)?;
    let simple = match next {
        b'n' => Some('\n'),
        b't' => Some('\t'),
        b'r' => Some('\r'),
        b'b' => Some('\u{8}'),
        b'f' => Some('\u{c}'),
        b'v' => Some('\u{b}'),
        b'\'' | b'"' | b'\\' | b'/' | b'8' | b'9' => Some(next as char),
        _ => None,
    };
    if let Some(c) = simple {
        return Some((Some(c), bs + 2));
    }
    match next {
        b'u' => {
            let (unit, end) = unicode(input, bs)?;
            if (0xD800..0xDC00).contains(&unit) {
                if let Some((low, end2)) = unicode(input, end) {
                    if (0xDC00..0xE000).contains(&low) {
                        let cp = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        return Some((char::from_u32(cp), end2));
                    }
                }
            }
            Some((
                Some(char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER)),
                end,
            ))
        }
        b'x' => {
            let v = hex(*input.get(bs + 2)?)? << 4 | hex(*input.get(bs + 3)?)?;
            Some((char::from_u32(v), bs + 4))
        }
        b'0'..=b'7' => {
            // Legacy octal: up to three digits from 0-3, up to two from 4-7.
            let max = if next <= b'3' { 3 } else { 2 };
            let digits = input[bs + 1..]
                .iter()
                .take(max)
                .take_while(|b| (b'0'..=b'7').contains(*b))
                .count();
            let v = input[bs + 1..bs + 1 + digits]
                .iter()
                .fold(0u32, |v, &d| v << 3 | u32::from(d - b'0'));
            Some((char::from_u32(v), bs + 1 + digits))
        }
        b'\n' => Some((None, bs + 2)),
        b'\r' => Some((
            None,
            if input.get(bs + 2) == Some(&b'\n') {
                bs + 3
            } else {
                bs + 2
            },
        )),
        // U+2028 and U+2029 continue a line too.
        0xE2 if matches!(input.get(bs + 2..bs + 4), Some([0x80, 0xA8 | 0xA9])) => {
            Some((None, bs + 4))
        }
        _ => None,
    }
}

/// A `\uXXXX` or `\u{X..}` escape at `input[at] == b'\\'`: its value (past
/// U+10FFFF read as U+FFFD) and where it ends.
fn unicode(input: &[u8], at: usize) -> Option<(u32, usize)> {
    if input.get(at..at + 2) != Some(b"\\u") {
        return None;
    }
    if input.get(at + 2) == Some(&b'{') {
        let digits = input[at + 3..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if digits == 0 || input.get(at + 3 + digits) != Some(&b'}') {
            return None;
        }
        let v = input[at + 3..at + 3 + digits]
            .iter()
            .fold(0u32, |v, &d| (v << 4 | hex(d).unwrap_or(0)).min(0x11_0000));
        let v = if v > 0x10_FFFF { 0xFFFD } else { v };
        return Some((v, at + 4 + digits));
    }
    let d = input.get(at + 2..at + 6)?;
    d.iter()
        .try_fold(0u32, |v, &b| Some(v << 4 | hex(b)?))
        .map(|v| (v, at + 6))
}
