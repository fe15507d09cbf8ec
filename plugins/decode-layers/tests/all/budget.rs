//! Byte budgets smaller than the output: every decoder stops exactly at
//! the cap, keeps what fits, and reports the `bytes` limit.

use flate2::{Compress, Compression, FlushCompress};
use rampart_decode_layers::{
    Base64Decoder, DeflateDecoder, GzipDecoder, HtmlEntityDecoder, JsEscapeDecoder, JwtDecoder,
    UrlDecoder,
};
use rampart_plugin_api::testing::run;
use rampart_plugin_api::{DecodeError, Decoder, LimitKind, Limits};

use crate::bombs::step;
use crate::hostile::{bounded, gz, slow, zlib};

#[test]
fn small_budget_cuts_exactly() {
    // A small cap: 64 KiB floor, minus the input already in the tree.
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut c = Compress::new(Compression::fast(), true);
    let z = step(&mut c, &data, FlushCompress::Finish);
    let limits = Limits {
        max_bytes: 64 << 10,
        ..Limits::default()
    };
    let out = run(&DeflateDecoder, &z, None, true, limits);
    assert_eq!(out.result, Err(DecodeError::Exhausted(LimitKind::Bytes)));
    let value = out.tree.value(out.layer);
    assert_eq!(value.len(), (64 << 10) - z.len());
    assert_eq!(value, &data[..value.len()]);
}

#[test]
fn tiny_byte_budget() {
    // The body is in the tree: a cap just above the input leaves a few bytes.
    let inputs: [(&dyn Decoder, Vec<u8>); 7] = [
        (&GzipDecoder, gz(&vec![b'x'; 10_000])),
        (&DeflateDecoder, zlib(&vec![b'x'; 10_000])),
        (
            &JwtDecoder,
            b"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.".to_vec(),
        ),
        (&Base64Decoder, b"YWRtaW4gYWRtaW4gYWRtaW4gYWRtaW4=".to_vec()),
        (&UrlDecoder, b"%41%42%43%44%45%46%47%48".to_vec()),
        (&HtmlEntityDecoder, b"&lt;&lt;&lt;&lt;&lt;&lt;&lt;".to_vec()),
        (&JsEscapeDecoder, b"\\x41\\x42\\x43\\x44\\x45\\x46".to_vec()),
    ];
    for (d, input) in inputs {
        for room in [0usize, 1, 2, 3, 5, 7] {
            let limits = Limits {
                max_bytes: (input.len() + room) as u32,
                ..slow()
            };
            for declared in [true, false] {
                let out = bounded(d, &input, declared, limits);
                let layer = d.layer();
                assert!(
                    out.tree.bytes_len() <= input.len() + room,
                    "{layer} room {room}"
                );
                if d.layer() != "jwt" {
                    assert!(out.tree.value(out.layer).len() <= room);
                }
                assert!(
                    matches!(
                        out.result,
                        Ok(()) | Err(DecodeError::Exhausted(LimitKind::Bytes))
                    ),
                    "{layer} room {room}: {:?}",
                    out.result
                );
            }
        }
    }
}
