//! Decompression bombs, built here without ever holding the inflated data:
//! a deflate block that inflates to 1 MiB of zeros is compressed once and
//! repeated (it only refers back to zeros, so it is valid after any run of
//! zeros), giving a single stream of 10 GiB from about 10 MB.

use std::time::Duration;

use flate2::{Compress, Compression, FlushCompress, Status};
use rampart_decode_layers::{DeflateDecoder, GzipDecoder};
use rampart_plugin_api::testing::run;
use rampart_plugin_api::{DecodeError, Decoder, LimitKind, Limits};

const MIB: usize = 1 << 20;
/// Inflated size of the bombs: 10 GiB.
const INFLATED: usize = 10 << 30;

/// Compresses `input` with `flush`, returning every byte produced.
pub(crate) fn step(c: &mut Compress, mut input: &[u8], flush: FlushCompress) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 << 10);
    loop {
        if out.capacity() - out.len() < 4096 {
            out.reserve(64 << 10);
        }
        let before = c.total_in();
        let status = c.compress_vec(input, &mut out, flush).unwrap();
        input = &input[(c.total_in() - before) as usize..];
        let room_left = out.len() < out.capacity();
        match flush {
            FlushCompress::Finish if status == Status::StreamEnd => return out,
            FlushCompress::Finish => {}
            _ if input.is_empty() && room_left => return out,
            _ => {}
        }
    }
}

/// A raw deflate stream of `INFLATED` zeros: (first block, repeated block,
/// count of repeats, final block).
fn zero_stream() -> Vec<u8> {
    let zeros = vec![0u8; MIB];
    let mut c = Compress::new(Compression::best(), false);
    let first = step(&mut c, &zeros, FlushCompress::Sync);
    let again = step(&mut c, &zeros, FlushCompress::Sync);
    let last = step(&mut c, &[], FlushCompress::Finish);
    let repeats = INFLATED / MIB - 1;
    let mut s = Vec::with_capacity(first.len() + again.len() * repeats + last.len());
    s.extend_from_slice(&first);
    for _ in 0..repeats {
        s.extend_from_slice(&again);
    }
    s.extend_from_slice(&last);
    s
}

/// Limits leaving exactly 8 MiB of room after the input (the body itself
/// is in the tree), and time enough for an unoptimised test build.
fn roomy(input_len: usize) -> Limits {
    Limits {
        max_bytes: (input_len + 8 * MIB) as u32,
        max_expansion: 1 << 10,
        max_time: Duration::from_secs(30),
        ..Limits::default()
    }
}

fn assert_stops_at_cap(d: &dyn Decoder, bomb: &[u8]) {
    for declared in [true, false] {
        let out = run(d, bomb, None, declared, roomy(bomb.len()));
        assert_eq!(
            out.result,
            Err(DecodeError::Exhausted(LimitKind::Bytes)),
            "{}",
            d.layer()
        );
        let value = out.tree.value(out.layer);
        assert_eq!(
            value.len(),
            8 * MIB,
            "{}: keeps exactly what fits",
            d.layer()
        );
        assert!(value.iter().all(|&b| b == 0));
        assert_eq!(out.tree.bytes_len(), bomb.len() + 8 * MIB);

        // Default limits: the body alone is past the 8 MiB cap, nothing
        // may be added, and the decoder stops at once.
        let out = run(d, bomb, None, declared, Limits::default());
        assert!(matches!(out.result, Err(DecodeError::Exhausted(_))));
        assert_eq!(out.tree.bytes_len(), bomb.len());
    }
}

#[test]
fn gzip_bomb_single_member() {
    let mut bomb = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03".to_vec();
    bomb.extend_from_slice(&zero_stream());
    bomb.extend_from_slice(&[0; 8]); // never reached
    assert!(
        bomb.len() < 16 * MIB,
        "a 10 GiB bomb of {} bytes",
        bomb.len()
    );
    assert!(GzipDecoder.sniff(&bomb));
    assert_stops_at_cap(&GzipDecoder, &bomb);
}

#[test]
fn gzip_bomb_many_members() {
    // One complete member of 1 MiB of zeros, repeated 10,240 times.
    let zeros = vec![0u8; MIB];
    let mut c = Compress::new(Compression::best(), false);
    let body = step(&mut c, &zeros, FlushCompress::Finish);
    let crc = {
        let mut crc = flate2::Crc::new();
        crc.update(&zeros);
        crc.sum()
    };
    let mut member = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03".to_vec();
    member.extend_from_slice(&body);
    member.extend_from_slice(&crc.to_le_bytes());
    member.extend_from_slice(&(MIB as u32).to_le_bytes());
    let bomb = member.repeat(INFLATED / MIB);
    assert_stops_at_cap(&GzipDecoder, &bomb);
}

#[test]
fn deflate_bombs_zlib_and_raw() {
    let stream = zero_stream();
    let mut zlib = b"\x78\xda".to_vec();
    zlib.extend_from_slice(&stream);
    assert!(DeflateDecoder.sniff(&zlib));
    assert_stops_at_cap(&DeflateDecoder, &zlib);

    // Raw deflate is only accepted declared.
    let out = run(&DeflateDecoder, &stream, None, true, roomy(stream.len()));
    assert_eq!(out.result, Err(DecodeError::Exhausted(LimitKind::Bytes)));
    assert_eq!(out.tree.value(out.layer).len(), 8 * MIB);
}
