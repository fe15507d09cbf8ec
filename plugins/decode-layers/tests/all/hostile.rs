//! Hostile input: truncation at every byte, 1 MB values, deep nesting of
//! encodings, random bytes, NULs, and tiny budgets. Every outcome must be
//! bounded: no panic, the tree within the byte budget, speculative
//! failures leaving nothing behind.

use std::io::Write;
use std::time::Duration;

use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;
use rampart_decode_layers::{
    Base64Decoder, DeflateDecoder, GzipDecoder, HtmlEntityDecoder, JsEscapeDecoder, JwtDecoder,
    UrlDecoder,
};
use rampart_plugin_api::testing::{run, Outcome};
use rampart_plugin_api::{DecodeError, Decoder, Limits};

fn all() -> [&'static dyn Decoder; 7] {
    [
        &GzipDecoder,
        &DeflateDecoder,
        &JwtDecoder,
        &Base64Decoder,
        &UrlDecoder,
        &HtmlEntityDecoder,
        &JsEscapeDecoder,
    ]
}

pub(crate) fn slow() -> Limits {
    Limits {
        max_time: Duration::from_secs(30),
        max_expansion: 1 << 10,
        ..Limits::default()
    }
}

/// The invariants every run must keep.
pub(crate) fn bounded(d: &dyn Decoder, input: &[u8], declared: bool, limits: Limits) -> Outcome {
    let out = run(d, input, None, declared, limits);
    let cap = limits.byte_cap(input.len()).max(input.len());
    assert!(
        out.tree.bytes_len() <= cap + 64,
        "{}: tree past the byte cap",
        d.layer()
    );
    assert!(out.tree.len() <= limits.max_nodes as usize);
    if out.result == Err(DecodeError::NotThisFormat) {
        assert_eq!(
            out.tree.bytes_len(),
            input.len(),
            "{}: rejection left bytes",
            d.layer()
        );
        assert_eq!(out.tree.len(), 3, "{}: rejection left nodes", d.layer());
        assert!(out.state.findings.is_empty());
    }
    out
}

pub(crate) fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub(crate) fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const TEXT: &[u8] = br#"{"user":"admin","q":"<script>alert('x')</script>","n":[1,2,3]}"#;

#[test]
fn truncation_at_every_byte() {
    let jwt = b"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0NTY3ODkwIiwiYWRtaW4iOnRydWV9.".to_vec();
    let samples: [(&dyn Decoder, Vec<u8>); 7] = [
        (&GzipDecoder, [gz(TEXT), gz(b"second")].concat()),
        (&DeflateDecoder, zlib(TEXT)),
        (&JwtDecoder, jwt),
        (
            &Base64Decoder,
            b"eyJ1c2VyIjoiYWRtaW4iLCJxIjoiPHNjcmlwdD4ifQ==".to_vec(),
        ),
        (&UrlDecoder, b"%3Cscript%3E%u0041%c0%ae%00%zz%2".to_vec()),
        (
            &HtmlEntityDecoder,
            b"&lt;a&#x3C;&#60&amp&notit;&Tab;&#x110000;".to_vec(),
        ),
        (
            &JsEscapeDecoder,
            b"\\u003c\\uD83D\\uDE00\\u{1F600}\\x3c\\377\\n\\".to_vec(),
        ),
    ];
    for (d, full) in samples {
        let whole = bounded(d, &full, true, slow());
        assert_eq!(whole.result, Ok(()), "{} sample decodes", d.layer());
        let complete = whole.tree.value(whole.layer).to_vec();
        for k in 0..full.len() {
            for declared in [true, false] {
                let out = bounded(d, &full[..k], declared, slow());
                // Streams keep a prefix of what the whole input decodes to.
                let streaming = matches!(d.layer(), "gzip" | "deflate");
                if streaming && declared {
                    let v = out.tree.value(out.layer);
                    assert!(
                        complete.starts_with(v),
                        "{} cut at {k}: not a prefix",
                        d.layer()
                    );
                }
            }
        }
    }
}

#[test]
fn megabyte_values() {
    let mb = 1 << 20;
    let b64: Vec<u8> = TEXT.iter().copied().cycle().take(3 * mb / 4).collect();
    let enc = {
        // Encode by hand (no base64 crate): standard alphabet, padded.
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = Vec::with_capacity(mb + 4);
        for c in b64.chunks(3) {
            let v = c
                .iter()
                .enumerate()
                .fold(0u32, |v, (i, &b)| v | u32::from(b) << (16 - 8 * i));
            for i in 0..4 {
                s.push(if i <= c.len() {
                    A[(v >> (18 - 6 * i) & 63) as usize]
                } else {
                    b'='
                });
            }
        }
        s
    };
    let cases: Vec<(&dyn Decoder, Vec<u8>, usize)> = vec![
        (&Base64Decoder, enc, b64.len()),
        (&HtmlEntityDecoder, b"&lt;".repeat(mb / 4), mb / 4),
        (&JsEscapeDecoder, b"\\u0041".repeat(mb / 6), mb / 6),
        (&UrlDecoder, b"%41".repeat(mb / 3), mb / 3),
        (&GzipDecoder, gz(&vec![b'a'; mb]), mb),
        (&DeflateDecoder, zlib(&vec![b'a'; mb]), mb),
    ];
    for (d, input, want) in cases {
        for declared in [true, false] {
            let out = bounded(d, &input, declared, slow());
            assert_eq!(out.result, Ok(()), "{} 1 MB", d.layer());
            assert_eq!(out.tree.value(out.layer).len(), want, "{} 1 MB", d.layer());
            // Default limits (50 ms, 16x expansion): done, or stopped by a limit.
            let out = bounded(d, &input, declared, Limits::default());
            assert!(matches!(
                out.result,
                Ok(()) | Err(DecodeError::Exhausted(_))
            ));
        }
    }
    // A JWT with a 1 MB payload.
    let mut jwt = b"eyJhbGciOiJIUzI1NiJ9.".to_vec();
    jwt.extend(std::iter::repeat_n(b'e', mb));
    jwt.extend_from_slice(b".sig");
    let out = bounded(&JwtDecoder, &jwt, false, slow());
    assert_eq!(out.result, Ok(()));
}

#[test]
fn pathological_escapes_stay_linear() {
    let mb = 1 << 20;
    let cases: Vec<(&dyn Decoder, Vec<u8>)> = vec![
        (
            &HtmlEntityDecoder,
            [b"&#".as_slice(), &vec![b'0'; mb], b"60;"].concat(),
        ),
        (&HtmlEntityDecoder, b"&a".repeat(mb / 2)),
        (
            &HtmlEntityDecoder,
            [b"&".as_slice(), &vec![b'a'; mb]].concat(),
        ),
        (
            &HtmlEntityDecoder,
            b"&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".repeat(mb / 41),
        ),
        (
            &JsEscapeDecoder,
            [b"\\u{".as_slice(), &vec![b'0'; mb]].concat(),
        ),
        (&JsEscapeDecoder, b"\\u{0".repeat(mb / 4)),
        (&JsEscapeDecoder, b"\\".repeat(mb)),
        (&JsEscapeDecoder, b"\\uD800".repeat(mb / 6)),
        (&UrlDecoder, b"%".repeat(mb)),
        (&UrlDecoder, b"%u".repeat(mb / 2)),
        (&Base64Decoder, b"=".repeat(mb)),
        (&Base64Decoder, b"\n".repeat(mb)),
        (&JwtDecoder, b".".repeat(mb)),
        (&GzipDecoder, b"\x1f\x8b\x08\x1c".repeat(mb / 4)),
    ];
    for (d, input) in cases {
        for declared in [true, false] {
            // `bounded` checks what must hold for any outcome.
            bounded(d, &input, declared, slow());
        }
    }
}

#[test]
fn deep_nesting_of_encodings() {
    // 100,000 levels: one round peels one level, the engine's depth limit
    // bounds the rest.
    let n = 100_000;
    let html = [b"&".as_slice(), &b"amp;".repeat(n), b"lt;"].concat();
    let out = bounded(&HtmlEntityDecoder, &html, false, slow());
    assert!(out.tree.value(out.layer) == [b"&".as_slice(), &html[5..]].concat());
    let url = [b"%".as_slice(), &b"25".repeat(n), b"3C"].concat();
    let out = bounded(&UrlDecoder, &url, false, slow());
    assert_eq!(out.tree.value(out.layer).len(), url.len() - 2);
    let js = [b"\\".repeat(2 * n), b"u003c".to_vec()].concat();
    let out = bounded(&JsEscapeDecoder, &js, false, slow());
    assert_eq!(out.tree.value(out.layer).len(), n + 5);
    let b64 = b"WVdSdGFXND0=".repeat(n / 10);
    bounded(&Base64Decoder, &b64, true, slow());
}

#[test]
fn random_bytes_and_nuls() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut random = vec![0u8; 64 << 10];
    for b in random.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let nuls = vec![0u8; 4096];
    let mut with_nuls = b"YWRt\0aW4=&lt;\0\\x41\0%41\0".repeat(100);
    with_nuls.extend_from_slice(&nuls);
    for d in all() {
        for input in [&random, &nuls, &with_nuls] {
            for declared in [true, false] {
                bounded(d, input, declared, slow());
            }
            // Every prefix of the random data up to 300 bytes.
            for k in 0..300 {
                bounded(d, &random[k..k + 300], false, slow());
            }
        }
    }
}
