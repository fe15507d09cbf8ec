//! The `url` layer: one more round of percent-decoding, for values that still
//! hold escapes after the first (double encoding: `%253C` -> `%3C` -> `<`).

use rampart_plugin_api::text::{percent_decode, PctReport};
use rampart_plugin_api::types::Span;
use rampart_plugin_api::{DecodeCtx, DecodeError, Decoder, Emitter, PluginInfo};

use crate::sink::Sink;

/// Percent-decodes a value once more (`+` stays a plus), and flags it:
/// `url.double-encoding` whenever something was decoded, and what the
/// decoding noticed: `url.invalid-escape`, `url.u-escape` (IIS `%uXXXX`),
/// `url.overlong-utf8` (normalised), `url.nul-byte`, `url.invalid-utf8`.
///
/// The layer is only sniffed, so it flags in speculative mode too: a value
/// that decodes is double encoded, which is the finding.
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlDecoder;

impl Decoder for UrlDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "url",
            version: env!("CARGO_PKG_VERSION"),
            description: "a second round of percent-decoding (double encoding), flagged",
        }
    }

    fn layer(&self) -> &'static str {
        "url"
    }

    fn sniff(&self, value: &[u8]) -> bool {
        let mut i = 0;
        while let Some(off) = value[i..].iter().position(|&b| b == b'%') {
            let p = i + off;
            i = p + 1;
            let hex_at = |k: usize| value.get(p + k).is_some_and(u8::is_ascii_hexdigit);
            let u = matches!(value.get(p + 1), Some(b'u' | b'U')) && (2..6).all(hex_at);
            if (hex_at(1) && hex_at(2)) || u {
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
        // Percent-decoding never grows a value: decoding at most `room`
        // input bytes keeps the output within the budget.
        let room = sink.room();
        let take = input.len().min(room);
        if take < input.len() {
            sink.set_full();
        }
        sink.tick()?;
        let rep = percent_decode(&input[..take], false, sink.buf());
        if !rep.decoded_any && !ctx.declared && !sink.is_full() {
            return sink.reject();
        }
        if sink.len() > room {
            // Cannot happen (decoding shrinks), but never keep more than allowed.
            let keep = sink.buf().len() - (sink.len() - room);
            sink.buf().truncate(keep);
            sink.set_full();
        }
        if rep.decoded_any {
            flag_all(&mut sink, input, &rep);
        }
        sink.finish(Ok(()))
    }
}

/// Flags what the decoding noticed. Spans are in the decoded value; an
/// escape position in the input is mapped to where its output landed.
fn flag_all(sink: &mut Sink<'_, '_>, input: &[u8], rep: &PctReport) {
    let len = sink.len();
    let out = sink.out();
    let node = out.root();
    let whole = Span::new(0, len);
    out.flag(
        node,
        "url.double-encoding",
        20,
        whole,
        "percent-encoded twice",
    );
    if let Some(at) = rep.invalid_escape {
        let o = output_offset(input, at).min(len);
        let span = Span::new(o, (o + 1).min(len));
        out.flag(
            node,
            "url.invalid-escape",
            10,
            span,
            "`%` not followed by two hex digits",
        );
    }
    if let Some(at) = rep.u_escape {
        let o = output_offset(input, at).min(len);
        out.flag(
            node,
            "url.u-escape",
            30,
            Span::new(o, len.min(o + 1)),
            "IIS-style %u escape",
        );
    }
    if let Some(o) = rep.overlong {
        let span = Span::new(o.min(len), (o + 1).min(len));
        out.flag(
            node,
            "url.overlong-utf8",
            40,
            span,
            "overlong UTF-8 sequence",
        );
    }
    if let Some(o) = rep.nul {
        let span = Span::new(o.min(len), (o + 1).min(len));
        out.flag(node, "url.nul-byte", 30, span, "encoded NUL byte");
    }
    if rep.invalid_utf8 {
        out.flag(
            node,
            "url.invalid-utf8",
            10,
            whole,
            "decodes to invalid UTF-8",
        );
    }
}

/// Where the byte at input offset `at` lands in the decoded output (before
/// overlong repair, which only shortens).
fn output_offset(input: &[u8], at: usize) -> usize {
    let hex = |b: Option<&u8>| b.is_some_and(u8::is_ascii_hexdigit);
    let (mut i, mut o) = (0, 0);
    while i < at.min(input.len()) {
        if input[i] == b'%' && hex(input.get(i + 1)) && hex(input.get(i + 2)) {
            i += 3;
            o += 1;
        } else if input[i] == b'%'
            && matches!(input.get(i + 1), Some(b'u' | b'U'))
            && (2..6).all(|k| hex(input.get(i + k)))
        {
            // A %uXXXX escape writes one to three bytes; count its UTF-8 length.
            let cp = input[i + 2..i + 6]
                .iter()
                .fold(0u32, |v, &d| v << 4 | (d as char).to_digit(16).unwrap_or(0));
            o += char::from_u32(cp).map_or(3, char::len_utf8);
            i += 6;
        } else {
            i += 1;
            o += 1;
        }
    }
    o
}
