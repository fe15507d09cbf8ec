//! Inflating deflate data (raw or zlib-wrapped) into a [`Sink`], one bounded
//! chunk at a time, so that a bomb stops at the byte budget.

use flate2::{Crc, Decompress, FlushDecompress, Status};
use rampart_plugin_api::DecodeError;

use crate::sink::Sink;

/// Output bytes inflated per step (between two budget checks).
const CHUNK: usize = 16 * 1024;

/// How an inflation ended.
#[derive(Debug)]
pub(crate) enum End {
    /// The stream ended after `used` input bytes (a zlib trailer included).
    Done { used: usize },
    /// The input ended before the stream did.
    Truncated,
    /// The data is corrupt at about this input offset.
    Corrupt { at: usize },
    /// The byte budget is spent and there was more to inflate.
    Full,
    /// The time budget is spent.
    Time(DecodeError),
}

/// Inflates `input` into the sink with `d`, a fresh or reset decompressor
/// (which decides whether a zlib header and trailer are expected). The
/// output is fed to `crc` when given.
pub(crate) fn inflate(
    d: &mut Decompress,
    input: &[u8],
    sink: &mut Sink<'_, '_>,
    mut crc: Option<&mut Crc>,
) -> End {
    let first = d.total_in();
    let consumed = |d: &Decompress| usize::try_from(d.total_in() - first).unwrap_or(usize::MAX);
    let mut chunk = [0u8; CHUNK];
    loop {
        let room = sink.room();
        // With no room left, inflate one byte to learn whether there is more.
        let want = if room == 0 { 1 } else { room.min(CHUNK) };
        let pos = consumed(d);
        let before = d.total_out();
        let rest = input.get(pos..).unwrap_or_default();
        let status = d.decompress(rest, &mut chunk[..want], FlushDecompress::None);
        let produced = usize::try_from(d.total_out() - before)
            .unwrap_or(0)
            .min(want);
        let used = consumed(d);
        if produced > 0 {
            if room == 0 {
                sink.set_full();
                return End::Full;
            }
            if let Some(c) = crc.as_deref_mut() {
                c.update(&chunk[..produced]);
            }
            sink.extend(&chunk[..produced]);
        }
        // Bytes inflated before an error are kept.
        let Ok(status) = status else {
            return End::Corrupt { at: used };
        };
        if status == Status::StreamEnd {
            return End::Done { used };
        }
        if produced == 0 && used == pos {
            return End::Truncated;
        }
        if let Err(e) = sink.tick() {
            return End::Time(e);
        }
    }
}

/// True when `b` starts with a zlib header for deflate (`CM` 8, a window of
/// at most 32 KiB, the check bits right, no preset dictionary).
pub(crate) fn zlib_header(b: &[u8]) -> bool {
    match b {
        [cmf, flg, ..] => {
            cmf & 0x0F == 8
                && cmf >> 4 <= 7
                && flg & 0x20 == 0
                && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}
