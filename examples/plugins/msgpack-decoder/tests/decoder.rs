//! Table tests (`testdata/*.json`) and hostile inputs for the MessagePack
//! decoder, through the `Decoder` trait as the engine calls it.

use msgpack_decoder::{MsgpackDecoder, MALFORMED, NAME};
use rampart_plugin_api::testing::{check_table, run, Outcome};
use rampart_plugin_api::{DecodeError, Decoder, LimitKind, Limits};

fn decl(input: &[u8]) -> Outcome {
    decl_with(input, Limits::default())
}

fn decl_with(input: &[u8], limits: Limits) -> Outcome {
    run(
        &MsgpackDecoder,
        input,
        Some(b"application/msgpack"),
        true,
        limits,
    )
}

#[test]
fn tables() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");
    for name in ["basic", "keys", "ext", "errors"] {
        check_table(&MsgpackDecoder, format!("{dir}/{name}.json"));
    }
}

#[test]
fn describes_itself_and_never_sniffs() {
    let d = MsgpackDecoder;
    assert_eq!(d.info().name, NAME);
    assert_eq!(d.layer(), "msgpack");
    assert_eq!(
        d.media_types(),
        [
            "application/msgpack",
            "application/x-msgpack",
            "application/vnd.msgpack"
        ]
    );
    for v in [&b"\x81\xa1a\x01"[..], b"", b"hello", b"\x90", b"{\"a\":1}"] {
        assert!(!d.sniff(v));
    }
    assert_eq!(
        msgpack_decoder::rampart_plugin_abi_version(),
        rampart_plugin_api::abi::ABI_VERSION
    );
    assert!(!msgpack_decoder::rampart_plugin_manifest().is_null());
}

/// A small encoder for the tests: enough MessagePack to build documents.
mod enc {
    pub fn str(s: &str) -> Vec<u8> {
        let mut v = Vec::new();
        if s.len() < 32 {
            v.push(0xa0 | s.len() as u8);
        } else {
            v.push(0xdb);
            v.extend_from_slice(&(s.len() as u32).to_be_bytes());
        }
        v.extend_from_slice(s.as_bytes());
        v
    }

    pub fn map(n: usize) -> Vec<u8> {
        let mut v = vec![0xdf];
        v.extend_from_slice(&(n as u32).to_be_bytes());
        v
    }

    pub fn array(n: usize) -> Vec<u8> {
        let mut v = vec![0xdd];
        v.extend_from_slice(&(n as u32).to_be_bytes());
        v
    }
}

/// A document with every kind of value, nested.
fn sample() -> Vec<u8> {
    let mut v = enc::map(6);
    v.extend(enc::str("user"));
    v.extend(enc::map(3));
    v.extend(enc::str("name"));
    v.extend(enc::str("J\u{fc}rgen"));
    v.extend(enc::str("tags"));
    v.extend(enc::array(4));
    v.extend(enc::str("a"));
    v.extend([0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]); // 1.5
    v.extend([0xc0, 0xc3]);
    v.extend([0xcd, 0x01, 0x00]); // key 256
    v.extend([0xd2, 0xff, 0xff, 0xff, 0xfe]); // -2
    v.extend(enc::str("bin"));
    v.extend([0xc4, 0x03, 0x00, 0x01, 0x02]);
    v.extend(enc::str("when"));
    v.extend([0xd6, 0xff, 0x65, 0x53, 0xf1, 0x00]);
    v.extend(enc::str("ext"));
    v.extend([0xc7, 0x02, 0x05, b'h', b'i']);
    v.extend([0xca, 0x3f, 0xc0, 0, 0]); // key 1.5f32: positional
    v.extend(enc::array(2));
    v.extend([0x80, 0x90]);
    v.extend(enc::str("s"));
    v.extend(enc::str(&"long text ".repeat(5)));
    v
}

#[test]
fn the_sample_decodes_completely() {
    let o = decl(&sample());
    assert_eq!(o.result, Ok(()));
    let paths: Vec<String> = o.points().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "body:msgpack.user.name",
            "body:msgpack.user.tags[0]",
            "body:msgpack.user.tags[1]",
            "body:msgpack.user.tags[2]",
            "body:msgpack.user.tags[3]",
            "body:msgpack.user[\"256\"]",
            "body:msgpack.bin",
            "body:msgpack.when",
            "body:msgpack.ext[\"@ext5\"]",
            "body:msgpack.s",
        ]
    );
    assert_eq!(o.findings(), ["msgpack.complex-key"]);
}

#[test]
fn truncation_at_every_byte_keeps_a_prefix_of_the_points() {
    let full = sample();
    let all = decl(&full).points();
    for end in 1..full.len() {
        let o = decl(&full[..end]);
        match &o.result {
            Err(DecodeError::Malformed { rule, offset, .. }) => {
                assert_eq!(*rule, MALFORMED);
                assert!(*offset <= end, "offset {offset} past the input ({end})");
            }
            other => panic!("prefix of {end} bytes: {other:?}"),
        }
        let got = o.points();
        assert!(
            all.starts_with(&got),
            "prefix of {end} bytes gave {got:?}, not a prefix of the full points"
        );
    }
}

#[test]
fn deep_nesting_stops_at_the_limit_without_recursion() {
    for open in [0x91u8, 0x81] {
        let mut input = Vec::new();
        for _ in 0..100_000 {
            input.push(open);
            if open == 0x81 {
                input.extend(enc::str("k"));
            }
        }
        input.push(0xc0);
        let o = decl(&input);
        assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Nesting)));
        assert_eq!(o.state.exhausted, Some(LimitKind::Nesting));
        // Containers only, up to the limit.
        assert!(o.points().is_empty());
        assert!(o.tree.len() <= 2 + 64 + 1);

        let limits = Limits {
            max_nesting: 4096,
            ..Limits::default()
        };
        let o = decl_with(&input, limits);
        assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Nesting)));
    }
}

#[test]
fn nesting_limit_counts_the_top_level_and_key_containers() {
    let limits = |n| Limits {
        max_nesting: n,
        ..Limits::default()
    };
    // [[[1]]]: three levels.
    let three = [0x91, 0x91, 0x91, 0x01];
    assert_eq!(decl_with(&three, limits(3)).result, Ok(()));
    assert_eq!(
        decl_with(&three, limits(2)).result,
        Err(DecodeError::Exhausted(LimitKind::Nesting))
    );
    // {[[1]]: 2}: a two-level array as the key of a top-level map.
    let key = [0x81, 0x91, 0x91, 0x01, 0x02];
    assert_eq!(decl_with(&key, limits(3)).result, Ok(()));
    assert_eq!(
        decl_with(&key, limits(2)).result,
        Err(DecodeError::Exhausted(LimitKind::Nesting))
    );
    // 100,000 nested arrays inside a map key.
    let mut deep = vec![0x81];
    deep.extend(std::iter::repeat_n(0x91, 100_000));
    deep.extend([0xc0, 0xc0]);
    assert_eq!(
        decl(&deep).result,
        Err(DecodeError::Exhausted(LimitKind::Nesting))
    );
}

#[test]
fn huge_claimed_lengths_are_refused_at_once() {
    let cases: &[&[u8]] = &[
        &[0xdd, 0xff, 0xff, 0xff, 0xff],
        &[0xdf, 0xff, 0xff, 0xff, 0xff],
        &[0xdb, 0xff, 0xff, 0xff, 0xff],
        &[0xc6, 0xff, 0xff, 0xff, 0xff],
        &[0xc9, 0xff, 0xff, 0xff, 0xff, 0x01],
        &[0xdc, 0xff, 0xff],
        &[0xde, 0xff, 0xff],
        &[0x91, 0xdd, 0xff, 0xff, 0xff, 0xff],
        &[0x81, 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0],
        &[0x9f],
        &[0x8f, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01],
    ];
    for input in cases {
        let o = decl(input);
        assert!(
            matches!(
                o.result,
                Err(DecodeError::Malformed {
                    rule: MALFORMED,
                    ..
                })
            ),
            "{input:02x?}: {:?}",
            o.result
        );
        assert!(o.tree.len() <= 4, "{input:02x?}");
        assert!(o.tree.bytes_len() <= 2 * input.len() + 16, "{input:02x?}");
    }
    // A claim that fits is fine: 100,000 nils.
    let mut many = enc::array(100_000);
    many.extend(std::iter::repeat_n(0xc0, 100_000));
    let limits = Limits {
        max_nodes: 200_000,
        ..Limits::default()
    };
    let o = decl_with(&many, limits);
    assert_eq!(o.result, Ok(()));
    assert_eq!(o.points().len(), 100_000);
}

#[test]
fn node_and_byte_budgets_stop_decoding() {
    let mut many = enc::array(50_000);
    many.extend(std::iter::repeat_n(0x01, 50_000));
    let o = decl(&many);
    assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Nodes)));
    assert!(o.tree.len() <= Limits::default().max_nodes as usize + 3);

    // Strings that add up to more than the byte cap (8 MiB, and the tree
    // already holds the raw body).
    let s = "x".repeat(1 << 20);
    let mut big = enc::array(6);
    for _ in 0..6 {
        big.extend(enc::str(&s));
    }
    let o = decl(&big);
    assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Bytes)));
    assert!(o.tree.bytes_len() <= o.state.byte_cap);
}

/// A small deterministic generator, for random inputs without a
/// dependency.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn random_bytes_never_panic_and_stay_bounded() {
    let limits = Limits::default();
    for seed in 0..2_000 {
        let input = noise(seed, (seed % 300) as usize);
        for declared in [true, false] {
            let o = run(&MsgpackDecoder, &input, None, declared, limits);
            assert!(o.tree.len() <= limits.max_nodes as usize + 3);
            if !declared {
                assert!(o.findings().is_empty(), "speculative decoding flagged");
                assert!(matches!(
                    o.result,
                    Ok(()) | Err(DecodeError::NotThisFormat) | Err(DecodeError::Exhausted(_))
                ));
            }
        }
    }
    // Random bytes behind valid heads of every kind.
    for head in 0x80..=0xffu8 {
        for seed in 0..20 {
            let mut input = vec![head];
            input.extend(noise(seed + u64::from(head) * 100, 64));
            let _ = decl(&input);
        }
    }
}
