//! The `html` layer: HTML character references (`&lt;`, `&#60;`, `&#x3c`).

use rampart_plugin_api::{DecodeCtx, DecodeError, Decoder, Emitter, PluginInfo};

use crate::html_names::{lookup, MAX_LEGACY, MAX_NAME};
use crate::sink::{Sink, TICK_EVERY};

/// Decodes HTML character references the way a browser reads them in text.
///
/// Named references are case-sensitive; the legacy ones (`&lt`, `&amp`,
/// `&copy`, the Latin-1 set) are also decoded without `;`, and as a prefix
/// (`&notit;` reads `¬it;`). Numeric references take any number of leading
/// zeros and an optional `;`; zero, surrogates and values past U+10FFFF read
/// U+FFFD and `&#128;`..`&#159;` read as windows-1252, as in HTML5.
/// Speculative, a value in which nothing was decoded is not this format.
#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlEntityDecoder;

impl Decoder for HtmlEntityDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "html",
            version: env!("CARGO_PKG_VERSION"),
            description: "HTML character references (named, decimal, hex)",
        }
    }

    fn layer(&self) -> &'static str {
        "html"
    }

    fn sniff(&self, value: &[u8]) -> bool {
        looks_like_html_refs(value)
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
        while let Some(off) = input[i..].iter().position(|&b| b == b'&') {
            let amp = i + off;
            i = amp + 1;
            if amp >= next_tick {
                next_tick = amp + TICK_EVERY;
                if let Err(e) = sink.tick() {
                    return sink.finish(Err(e));
                }
            }
            let Some((c, end)) = reference(input, amp) else {
                continue;
            };
            if !sink.extend(&input[literal..amp]) || !sink.push_char(c) {
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

/// The character of the reference at `input[amp] == b'&'` and where the
/// reference ends, or `None` when there is no reference there.
fn reference(input: &[u8], amp: usize) -> Option<(char, usize)> {
    let rest = &input[amp + 1..];
    match rest.first()? {
        b'#' => numeric(rest, amp + 1),
        b if b.is_ascii_alphabetic() => {
            let run = rest
                .iter()
                .take(MAX_NAME + 1)
                .take_while(|b| b.is_ascii_alphanumeric());
            let len = run.count();
            let name = &rest[..len];
            if rest.get(len) == Some(&b';') {
                if let Some((c, _)) = lookup(name) {
                    return Some((c, amp + 1 + len + 1));
                }
            }
            // The longest legacy name that starts the run, as browsers do.
            (2..=len.min(MAX_LEGACY))
                .rev()
                .find_map(|n| match lookup(&name[..n]) {
                    Some((c, true)) => Some((c, amp + 1 + n)),
                    _ => None,
                })
        }
        _ => None,
    }
}

/// A numeric reference: `rest` starts with `#` at offset `at` of the input.
fn numeric(rest: &[u8], at: usize) -> Option<(char, usize)> {
    let (radix, skip) = match rest.get(1) {
        Some(b'x' | b'X') => (16, 2),
        _ => (10, 1),
    };
    let digits = rest[skip..]
        .iter()
        .take_while(|b| (**b as char).is_digit(radix))
        .count();
    if digits == 0 {
        return None;
    }
    let mut value: u32 = 0;
    for &b in &rest[skip..skip + digits] {
        let d = (b as char).to_digit(radix).unwrap_or(0);
        // Saturate past the last code point: the value only needs to be
        // known to be out of range.
        value = value.saturating_mul(radix).saturating_add(d).min(0x11_0000);
    }
    let mut end = at + skip + digits;
    if rest.get(skip + digits) == Some(&b';') {
        end += 1;
    }
    Some((numeric_char(value), end))
}

/// The character a numeric reference reads, as HTML5 maps it.
fn numeric_char(value: u32) -> char {
    if (0x80..=0x9F).contains(&value) {
        return WINDOWS_1252[(value - 0x80) as usize];
    }
    match value {
        0 => char::REPLACEMENT_CHARACTER,
        v => char::from_u32(v).unwrap_or(char::REPLACEMENT_CHARACTER),
    }
}

/// What `&#128;`..`&#159;` read in HTML5 (windows-1252; the five holes keep
/// their C1 code point).
const WINDOWS_1252: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{2C6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}', '\u{8F}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}', '\u{17E}', '\u{178}',
];

/// The sniff: `&#` anywhere, or `&` and a letter with a `;` within the next
/// 32 bytes. Linear: the search for `;` never goes back.
fn looks_like_html_refs(value: &[u8]) -> bool {
    let mut next_semi = 0usize;
    let mut i = 0;
    while let Some(off) = value[i..].iter().position(|&b| b == b'&') {
        let amp = i + off;
        i = amp + 1;
        match value.get(amp + 1) {
            Some(b'#') => return true,
            Some(b) if b.is_ascii_alphabetic() => {
                if next_semi <= amp {
                    match value[amp + 1..].iter().position(|&b| b == b';') {
                        Some(p) => next_semi = amp + 1 + p,
                        None => return false,
                    }
                }
                if next_semi - amp <= 32 {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}
