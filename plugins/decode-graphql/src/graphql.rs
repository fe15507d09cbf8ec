//! The `graphql` decoder: the [`Decoder`] face of the parser, and the sniff.

use rampart_plugin_api::{DecodeCtx, DecodeError, Decoder, Emitter, PluginInfo};

use crate::lexer::{is_name_start, scan_name, skip_ignored};
use crate::parser::Parser;

/// Decodes executable GraphQL documents into request points; see the crate
/// documentation for what it emits.
#[derive(Debug, Clone, Copy, Default)]
pub struct GraphqlDecoder;

fn is_ignored(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b',')
}

/// After an operation keyword (and the ignored bytes after it) at `i`: `{`,
/// `(` or `@`, or a name followed by one of them.
fn operation_follows(v: &[u8], i: usize) -> bool {
    match v.get(i) {
        Some(b'{' | b'(' | b'@') => true,
        Some(&b) if is_name_start(b) => {
            let j = skip_ignored(v, scan_name(v, i));
            matches!(v.get(j), Some(b'{' | b'(' | b'@'))
        }
        _ => false,
    }
}

/// After `fragment` at `i`: `Name on Type` then `{` or `@`.
fn fragment_follows(v: &[u8], i: usize) -> bool {
    let name_end = scan_name(v, i);
    let on = skip_ignored(v, name_end);
    let on_end = scan_name(v, on);
    if name_end == i || &v[on..on_end] != b"on" {
        return false;
    }
    let ty = skip_ignored(v, on_end);
    let ty_end = scan_name(v, ty);
    ty_end > ty && matches!(v.get(skip_ignored(v, ty_end)), Some(b'{' | b'@'))
}

impl Decoder for GraphqlDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "graphql",
            version: env!("CARGO_PKG_VERSION"),
            description: "GraphQL documents: operations, fields, arguments, variables, fragments",
        }
    }

    fn layer(&self) -> &'static str {
        "graphql"
    }

    fn media_types(&self) -> &'static [&'static str] {
        &["application/graphql"]
    }

    /// A selection set (`{` then a name) or an operation or fragment
    /// keyword followed by what the grammar allows after it, ending with `}`.
    fn sniff(&self, value: &[u8]) -> bool {
        if value
            .iter()
            .rposition(|&b| !is_ignored(b))
            .map(|e| value[e])
            != Some(b'}')
        {
            return false;
        }
        let i = skip_ignored(value, 0);
        match value.get(i) {
            Some(b'{') => value
                .get(skip_ignored(value, i + 1))
                .is_some_and(|&b| is_name_start(b)),
            Some(&b) if is_name_start(b) => {
                let end = scan_name(value, i);
                let after = skip_ignored(value, end);
                if !value
                    .get(end)
                    .is_some_and(|&b| is_ignored(b) || matches!(b, b'{' | b'(' | b'#'))
                {
                    return false;
                }
                match &value[i..end] {
                    b"query" | b"mutation" | b"subscription" => operation_follows(value, after),
                    b"fragment" => after > end && fragment_follows(value, after),
                    _ => false,
                }
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
        Parser::new(input, ctx.declared, out).run()
    }
}
