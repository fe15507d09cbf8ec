//! The `json` decoder: the [`Decoder`] face of the parser.

use rampart_plugin_api::{DecodeCtx, DecodeError, Decoder, Emitter, PluginInfo, Span};

use crate::parser::Parser;
use crate::string::{is_ws, skip_ws};

/// Decodes JSON documents (RFC 8259) into request points; see the crate
/// documentation for what it emits.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonDecoder;

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl Decoder for JsonDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "json",
            version: env!("CARGO_PKG_VERSION"),
            description: "JSON documents: members, indexes, unescaped strings; iterative",
        }
    }

    fn layer(&self) -> &'static str {
        "json"
    }

    fn media_types(&self) -> &'static [&'static str] {
        &[
            "application/json",
            "+json",
            "text/json",
            "application/x-json",
            "application/jsonrequest",
        ]
    }

    /// An object or an array: the first byte that is not whitespace is `{`
    /// or `[` and the last one closes it.
    fn sniff(&self, value: &[u8]) -> bool {
        let first = value.iter().position(|&b| !is_ws(b));
        let last = value.iter().rposition(|&b| !is_ws(b));
        match (first, last) {
            (Some(f), Some(l)) if f < l => {
                matches!((value[f], value[l]), (b'{', b'}') | (b'[', b']'))
            }
            _ => false,
        }
    }

    fn decode(
        &self,
        input: &[u8],
        ctx: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let declared = ctx.declared;
        let start = if declared && input.starts_with(BOM) {
            BOM.len()
        } else {
            0
        };
        let pos = skip_ws(input, start);
        let end = match input.get(pos) {
            // Nothing but whitespace: an empty body is no defect.
            None if declared => return Ok(()),
            Some(b'{' | b'[') => Parser::new(input, pos, declared, out).document()?,
            Some(_) if declared => Parser::new(input, pos, declared, out).root_scalar()?,
            _ => return Err(DecodeError::NotThisFormat),
        };
        let rest = skip_ws(input, end);
        if rest < input.len() {
            if !declared {
                return Err(DecodeError::NotThisFormat);
            }
            let root = out.root();
            let msg = "trailing bytes after the JSON document";
            out.flag(
                root,
                "json.malformed",
                30,
                Span::new(rest, input.len()),
                msg,
            );
        }
        Ok(())
    }
}
