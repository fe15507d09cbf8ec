//! The `bearer` decoder: `Authorization: Bearer <token>` (RFC 6750).

use rampart_plugin_api::{DecodeCtx, DecodeError, Decoder, Emitter, LimitKind, PluginInfo, Span};

use crate::{credentials, scheme};

/// Decodes `Bearer <token>`: the token becomes the value of the layer point
/// and nothing else is emitted, so that the engine sniffs it (a JWT, say).
/// Any other scheme is `NotThisFormat`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BearerDecoder;

/// `token68` of RFC 9110: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
/// Returns the offset of the first byte that breaks it.
fn token68_error(tok: &[u8]) -> Option<usize> {
    let body = tok.iter().position(|&b| b == b'=').unwrap_or(tok.len());
    if let Some(i) = tok[..body]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)))
    {
        return Some(i);
    }
    if body == 0 {
        return Some(0);
    }
    tok[body..]
        .iter()
        .position(|&b| b != b'=')
        .map(|i| body + i)
}

impl Decoder for BearerDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "bearer",
            version: env!("CARGO_PKG_VERSION"),
            description: "Authorization: Bearer tokens, handed on to be sniffed",
        }
    }

    fn layer(&self) -> &'static str {
        "bearer"
    }

    fn decode(
        &self,
        input: &[u8],
        ctx: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        if !scheme(input).eq_ignore_ascii_case(b"bearer") {
            return Err(DecodeError::NotThisFormat);
        }
        let (off, tok) = credentials(input);
        if tok.is_empty() {
            return Err(if ctx.declared {
                DecodeError::malformed("bearer.malformed", "Bearer without a token", off)
            } else {
                DecodeError::NotThisFormat
            });
        }
        if tok.len() > out.bytes_left() {
            return Err(DecodeError::Exhausted(LimitKind::Bytes));
        }
        let m = out.mark();
        out.buf().extend_from_slice(tok);
        let span = out.span_from(m)?;
        out.set_root_value(span);
        if let (Some(i), true) = (token68_error(tok), ctx.declared) {
            let root = out.root();
            let msg = "Bearer token that is not token68";
            out.flag(root, "bearer.invalid-token", 10, Span::new(i, i + 1), msg);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::token68_error;

    #[test]
    fn token68() {
        assert_eq!(token68_error(b"abc.DEF-_~+/=="), None);
        assert_eq!(token68_error(b"a b"), Some(1));
        assert_eq!(token68_error(b"ab=c"), Some(3));
        assert_eq!(token68_error(b"=="), Some(0));
    }
}
