//! The `deflate` layer: zlib-wrapped or raw deflate data, inflated within the
//! byte budget.

use flate2::Decompress;
use rampart_plugin_api::types::Span;
use rampart_plugin_api::{DecodeCtx, DecodeError, Decoder, Emitter, PluginInfo};

use crate::inflate::{inflate, zlib_header, End};
use crate::sink::Sink;

/// Inflates `Content-Encoding: deflate` data: zlib-wrapped (RFC 1950) as the
/// standard says, or raw deflate (RFC 1951) as many servers send it.
///
/// Declared, data with a zlib header that fails at once is tried again as
/// raw deflate. Speculative, only zlib-wrapped data is accepted (raw deflate
/// has no signature). The output stops at the byte budget; corrupt or cut
/// data keeps what was inflated and stops with `deflate.malformed`; bytes
/// after the end of the stream are flagged `deflate.trailing-data`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeflateDecoder;

impl Decoder for DeflateDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "deflate",
            version: env!("CARGO_PKG_VERSION"),
            description: "deflate (zlib-wrapped or raw), capped by the byte budget",
        }
    }

    fn layer(&self) -> &'static str {
        "deflate"
    }

    fn sniff(&self, value: &[u8]) -> bool {
        looks_like_zlib(value)
    }

    fn decode(
        &self,
        input: &[u8],
        ctx: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let zlib = zlib_header(input);
        let mut sink = Sink::new(out);
        if !ctx.declared && !zlib {
            return sink.reject();
        }
        if input.is_empty() {
            return sink.finish(Ok(()));
        }
        let mut d = Decompress::new(zlib);
        let mut end = inflate(&mut d, input, &mut sink, None);
        let failed = matches!(end, End::Corrupt { .. } | End::Truncated);
        if zlib && ctx.declared && failed && sink.len() == 0 {
            // A raw stream whose first bytes happen to read as a zlib header.
            d.reset(false);
            end = inflate(&mut d, input, &mut sink, None);
        }
        let result = match end {
            End::Done { used } => {
                if used < input.len() && ctx.declared {
                    let at = sink.len();
                    let root = sink.out().root();
                    sink.out().flag(
                        root,
                        "deflate.trailing-data",
                        10,
                        Span::new(at, at),
                        "bytes after the end of the deflate stream",
                    );
                }
                Ok(())
            }
            End::Full => Ok(()),
            End::Time(e) => Err(e),
            End::Truncated => Err(DecodeError::malformed(
                "deflate.malformed",
                "deflate data cut short",
                input.len(),
            )),
            End::Corrupt { at } => Err(DecodeError::malformed(
                "deflate.malformed",
                "corrupt deflate data",
                at,
            )),
        };
        if !ctx.declared && result.is_err() && sink.len() == 0 && !sink.is_full() {
            return sink.reject();
        }
        sink.finish(result)
    }
}

/// The sniff: a zlib header for deflate, at least the 8 bytes of an empty
/// stream, and a byte in the first 32 that is not printable ASCII (compressed
/// data has them; text that happens to start like a header does not).
fn looks_like_zlib(value: &[u8]) -> bool {
    value.len() >= 8
        && zlib_header(value)
        && value[2..value.len().min(32)]
            .iter()
            .any(|&b| !(0x20..0x7F).contains(&b) && !matches!(b, b'\t' | b'\n' | b'\r'))
}
