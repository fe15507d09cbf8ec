//! The `cookie` decoder: one `Cookie` header value (RFC 6265) into one leaf
//! per cookie.

use rampart_plugin_api::text::percent_decode;
use rampart_plugin_api::{
    DecodeCtx, DecodeError, Decoder, Emitter, Key, LimitKind, PluginInfo, Span,
};

/// Decodes a `Cookie` header value: pairs separated by `;`, names trimmed,
/// values stripped of surrounding double quotes and percent-decoded (`+`
/// stays a plus). A pair without `=` is a name with an empty value;
/// duplicate names are kept. Declared only: it never sniffs.
#[derive(Debug, Clone, Copy, Default)]
pub struct CookieDecoder;

impl Decoder for CookieDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "cookie",
            version: env!("CARGO_PKG_VERSION"),
            description: "Cookie header values: one point per cookie, values percent-decoded",
        }
    }

    fn layer(&self) -> &'static str {
        "cookie"
    }

    fn decode(
        &self,
        input: &[u8],
        ctx: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let root = out.root();
        for pair in input.split(|&b| b == b';') {
            out.tick()?;
            let pair = pair.trim_ascii();
            if pair.is_empty() {
                continue;
            }
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (pair[..i].trim_ascii(), pair[i + 1..].trim_ascii()),
                None => (pair, &pair[pair.len()..]),
            };
            let value = match value
                .strip_prefix(b"\"")
                .and_then(|v| v.strip_suffix(b"\""))
            {
                Some(inner) => inner,
                None => value,
            };
            // Percent-decoding never makes a value longer.
            if value.len() > out.bytes_left() {
                return Err(DecodeError::Exhausted(LimitKind::Bytes));
            }
            let m = out.mark();
            let rep = percent_decode(value, false, out.buf());
            let span = out.span_from(m)?;
            let node = out.leaf_span(root, Key::Name(name), span)?;
            if !ctx.declared {
                continue;
            }
            let at = |o: usize| Span::new(o, o + 1);
            if let Some(o) = rep.invalid_escape {
                out.flag(
                    node,
                    "url.invalid-escape",
                    10,
                    at(o),
                    "invalid percent escape",
                );
            }
            if let Some(o) = rep.u_escape {
                out.flag(node, "url.u-escape", 20, at(o), "%u escape (IIS style)");
            }
            if let Some(o) = rep.overlong {
                out.flag(
                    node,
                    "url.overlong-utf8",
                    40,
                    at(o),
                    "overlong UTF-8 sequence",
                );
            }
            if let Some(o) = rep.nul {
                out.flag(node, "url.nul-byte", 30, at(o), "percent-encoded NUL byte");
            }
        }
        Ok(())
    }
}
