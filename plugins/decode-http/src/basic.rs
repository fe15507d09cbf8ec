//! The `basic` decoder: `Authorization: Basic <base64>` (RFC 7617).

use rampart_plugin_api::{
    DecodeCtx, DecodeError, Decoder, Emitter, Key, LimitKind, PluginInfo, Span,
};

use crate::{credentials, scheme};

/// Decodes `Basic <base64 of user:password>` into the leaves `user` and
/// `password` (split at the first colon). The scheme compares
/// case-insensitively; any other scheme is `NotThisFormat`. Standard
/// base64, padding optional.
#[derive(Debug, Clone, Copy, Default)]
pub struct BasicDecoder;

fn sextet(b: u8) -> Option<u32> {
    let v = match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Appends the standard base64 (padding optional) `src` decoded to `dst`;
/// on error, the offset of the first byte in the way.
pub(crate) fn base64_into(src: &[u8], dst: &mut Vec<u8>) -> Result<(), usize> {
    let pad = src.iter().rev().take_while(|&&b| b == b'=').count();
    let data = &src[..src.len() - pad];
    let padded_ok = pad == 0 || (pad <= 2 && src.len().is_multiple_of(4));
    if data.len() % 4 == 1 || !padded_ok {
        return Err(data.len());
    }
    dst.reserve(data.len() / 4 * 3 + 2);
    let mut acc = 0u32;
    let mut n = 0;
    for (i, &b) in data.iter().enumerate() {
        acc = acc << 6 | sextet(b).ok_or(i)?;
        n += 1;
        if n == 4 {
            dst.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        2 => dst.push((acc >> 4) as u8),
        3 => dst.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    Ok(())
}

impl Decoder for BasicDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "basic",
            version: env!("CARGO_PKG_VERSION"),
            description: "Authorization: Basic credentials into user and password",
        }
    }

    fn layer(&self) -> &'static str {
        "basic"
    }

    fn decode(
        &self,
        input: &[u8],
        ctx: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        if !scheme(input).eq_ignore_ascii_case(b"basic") {
            return Err(DecodeError::NotThisFormat);
        }
        let fail = |msg: &'static str, at: usize| {
            if ctx.declared {
                DecodeError::malformed("basic.malformed", msg, at)
            } else {
                DecodeError::NotThisFormat
            }
        };
        let (off, creds) = credentials(input);
        if creds.is_empty() {
            return Err(fail("Basic without credentials", off));
        }
        if creds.len() > out.bytes_left() {
            return Err(DecodeError::Exhausted(LimitKind::Bytes));
        }
        let m = out.mark();
        if let Err(at) = base64_into(creds, out.buf()) {
            out.buf().truncate(m as usize);
            return Err(fail("credentials are not base64", off + at));
        }
        let (s, e) = out.span_from(m)?;
        let colon = out.buf()[s as usize..e as usize]
            .iter()
            .position(|&b| b == b':');
        let root = out.root();
        match colon {
            Some(c) => {
                let c = s + c as u32;
                out.leaf_span(root, Key::Name(b"user"), (s, c))?;
                out.leaf_span(root, Key::Name(b"password"), (c + 1, e))?;
            }
            None => {
                let user = out.leaf_span(root, Key::Name(b"user"), (s, e))?;
                if ctx.declared {
                    let msg = "Basic credentials without a colon";
                    out.flag(user, "basic.no-colon", 10, Span::default(), msg);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::base64_into;

    fn b64(s: &str) -> Result<Vec<u8>, usize> {
        let mut v = Vec::new();
        base64_into(s.as_bytes(), &mut v).map(|()| v)
    }

    #[test]
    fn base64_with_and_without_padding() {
        assert_eq!(b64("Ym9iOnB3").unwrap(), b"bob:pw");
        assert_eq!(b64("YQ==").unwrap(), b"a");
        assert_eq!(b64("YQ").unwrap(), b"a");
        assert_eq!(b64("YWI").unwrap(), b"ab");
        assert_eq!(b64("YWI=").unwrap(), b"ab");
        assert_eq!(b64("").unwrap(), b"");
        assert_eq!(b64("Y"), Err(1));
        assert_eq!(b64("YQ="), Err(2));
        assert_eq!(b64("YQ==="), Err(2));
        assert_eq!(b64("Y!Q="), Err(1));
        assert_eq!(b64("Ym9i-_"), Err(4));
    }
}
