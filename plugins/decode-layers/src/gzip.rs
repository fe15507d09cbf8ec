//! The `gzip` layer: gzip data, one member or several, inflated within the
//! byte budget.

use flate2::{Crc, Decompress};
use rampart_plugin_api::types::Span;
use rampart_plugin_api::{DecodeCtx, DecodeError, Decoder, Emitter, PluginInfo};

use crate::inflate::{inflate, End};
use crate::sink::Sink;

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;

/// Inflates gzip data (RFC 1952), members one after the other.
///
/// The output stops at the byte budget: a bomb keeps the bytes inflated so
/// far and reports `bytes`. A broken stream (bad header, corrupt data,
/// truncation, a CRC or size that does not match) keeps what was inflated
/// and stops with `gzip.malformed`; bytes after the last member that are not
/// another member are flagged `gzip.trailing-data`.
#[derive(Debug, Clone, Copy, Default)]
pub struct GzipDecoder;

impl Decoder for GzipDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "gzip",
            version: env!("CARGO_PKG_VERSION"),
            description: "gzip (multi-member), capped by the byte budget",
        }
    }

    fn layer(&self) -> &'static str {
        "gzip"
    }

    fn sniff(&self, value: &[u8]) -> bool {
        value.starts_with(b"\x1f\x8b\x08")
    }

    fn decode(
        &self,
        input: &[u8],
        ctx: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let mut sink = Sink::new(out);
        let result = members(input, ctx.declared, &mut sink);
        if !ctx.declared && result.is_err() && sink.len() == 0 && !sink.is_full() {
            return sink.reject();
        }
        sink.finish(result)
    }
}

fn malformed(message: &'static str, at: usize) -> DecodeError {
    DecodeError::malformed("gzip.malformed", message, at)
}

/// Inflates every member of `input`.
fn members(input: &[u8], declared: bool, sink: &mut Sink<'_, '_>) -> Result<(), DecodeError> {
    let mut pos = 0;
    let mut count = 0;
    let mut d = Decompress::new(false);
    loop {
        let rest = &input[pos.min(input.len())..];
        if count > 0 && rest.is_empty() {
            return Ok(());
        }
        if count > 0 && !rest.starts_with(b"\x1f\x8b") {
            if declared {
                let end = sink.len();
                let root = sink.out().root();
                sink.out().flag(
                    root,
                    "gzip.trailing-data",
                    10,
                    Span::new(end, end),
                    "bytes after the last gzip member",
                );
            }
            return Ok(());
        }
        if rest.is_empty() {
            return if declared {
                Ok(())
            } else {
                Err(DecodeError::NotThisFormat)
            };
        }
        let head = header_len(rest).map_err(|(m, at)| malformed(m, pos + at))?;
        let body = &rest[head..];
        let start_len = sink.len();
        let mut crc = Crc::new();
        d.reset(false);
        let used = match inflate(&mut d, body, sink, Some(&mut crc)) {
            End::Done { used } => used,
            End::Full => return Ok(()),
            End::Time(e) => return Err(e),
            End::Truncated => return Err(malformed("gzip data cut short", input.len())),
            End::Corrupt { at } => return Err(malformed("corrupt deflate data", pos + head + at)),
        };
        let at = pos + head + used;
        let Some(trailer) = body.get(used..used + 8) else {
            return Err(malformed("gzip trailer cut short", at));
        };
        let want_crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
        let want_len = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
        if want_crc != crc.sum() {
            return Err(malformed("gzip CRC does not match the data", at));
        }
        if want_len != (sink.len() - start_len) as u32 {
            return Err(malformed("gzip size does not match the data", at + 4));
        }
        pos = at + 8;
        count += 1;
        sink.tick()?;
    }
}

/// Length of the gzip member header at the start of `b`, or why it is not
/// one (message and offset).
fn header_len(b: &[u8]) -> Result<usize, (&'static str, usize)> {
    if b.len() < 10 {
        return Err(("gzip header cut short", b.len()));
    }
    if b[0] != 0x1f || b[1] != 0x8b || b[2] != 8 {
        return Err(("not a gzip member (magic or method)", 0));
    }
    let flags = b[3];
    if flags & 0xE0 != 0 {
        return Err(("reserved gzip header flags set", 3));
    }
    let mut pos = 10;
    if flags & FEXTRA != 0 {
        let Some(x) = b.get(pos..pos + 2) else {
            return Err(("gzip header cut short", b.len()));
        };
        pos += 2 + usize::from(u16::from_le_bytes([x[0], x[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let Some(nul) = b.get(pos..).and_then(|r| r.iter().position(|&c| c == 0)) else {
                return Err(("gzip header cut short", b.len()));
            };
            pos += nul + 1;
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    if pos > b.len() {
        return Err(("gzip header cut short", b.len()));
    }
    Ok(pos)
}
