//! Table tests (`testdata/*.json`) and hostile inputs for the JSON decoder.

use rampart_decode_json::{register, JsonDecoder};
use rampart_plugin_api::testing::{check_table, run, Outcome};
use rampart_plugin_api::{DecodeError, Decoder, LimitKind, Limits, Registry};

const SAMPLE: &str = r#"{"user":{"name":"J\u00fcrgen","tags":["a","b\n",{"x":null}],"age":-1.5e3},
 "ok":true,"list":[[1,2],[],{}],"esc":"\ud83d\ude00\"\\","k\u0041":"v"}"#;

fn decl(input: &[u8]) -> Outcome {
    run(
        &JsonDecoder,
        input,
        Some(b"application/json"),
        true,
        Limits::default(),
    )
}

fn spec(input: &[u8]) -> Outcome {
    run(&JsonDecoder, input, None, false, Limits::default())
}

/// Bounded outcome: within the node budget, and speculative failures say
/// only "not this format" (or a limit).
fn assert_bounded(o: &Outcome, declared: bool, limits: &Limits) {
    assert!(
        o.tree.len() <= limits.max_nodes as usize + 3,
        "tree too big"
    );
    assert!(o.tree.bytes_len() <= o.state.byte_cap.max(1) * 2);
    if !declared {
        assert!(
            o.findings().is_empty(),
            "speculative decoding flagged {:?}",
            o.findings()
        );
        assert!(matches!(
            o.result,
            Ok(()) | Err(DecodeError::NotThisFormat) | Err(DecodeError::Exhausted(_))
        ));
    }
}

#[test]
fn tables() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");
    for name in ["basic", "strings", "errors", "speculative"] {
        check_table(&JsonDecoder, format!("{dir}/{name}.json"));
    }
}

#[test]
fn registers_one_decoder() {
    let mut reg = Registry::new();
    register(&mut reg).unwrap();
    assert_eq!(reg.decoders().len(), 1);
    assert_eq!(reg.decoders()[0].info.name, "json");
    assert_eq!(JsonDecoder.layer(), "json");
    assert!(JsonDecoder.media_types().contains(&"+json"));
}

#[test]
fn top_level_scalar_becomes_the_layer_value() {
    for (input, want) in [
        (&br#" "a\u0041" "#[..], &b"aA"[..]),
        (b"-12.5", b"-12.5"),
        (b"null", b"null"),
    ] {
        let o = decl(input);
        assert_eq!(o.result, Ok(()));
        assert_eq!(o.tree.value(o.layer), want);
        assert!(o.points().is_empty());
    }
}

#[test]
fn sniff_is_strict_and_cheap() {
    for yes in [&b"{}"[..], b" {\"a\":1}\n", b"[1,2]", b"\t[ ]"] {
        assert!(JsonDecoder.sniff(yes), "{yes:?}");
    }
    for no in [
        &b""[..],
        b"{",
        b"}",
        b"[",
        b"hello",
        b"\"a\"",
        b"42",
        b"{a]",
        b"[a}",
        b"null",
        b"\xef\xbb\xbf{}",
        b"some [words]",
        b"{x} and more",
    ] {
        assert!(!JsonDecoder.sniff(no), "{no:?}");
    }
}

#[test]
fn every_truncation_is_bounded() {
    let full = SAMPLE.as_bytes();
    assert_eq!(decl(full).result, Ok(()));
    assert_eq!(spec(full).result, Ok(()));
    let limits = Limits::default();
    for cut in 0..full.len() {
        let o = decl(&full[..cut]);
        assert_bounded(&o, true, &limits);
        if cut > 0 {
            assert!(
                matches!(
                    o.result,
                    Err(DecodeError::Malformed {
                        rule: "json.malformed",
                        ..
                    })
                ),
                "cut at {cut}: {:?}",
                o.result
            );
        }
        let o = spec(&full[..cut]);
        assert_bounded(&o, false, &limits);
        assert_eq!(o.result, Err(DecodeError::NotThisFormat), "cut at {cut}");
    }
}

#[test]
fn deep_nesting_stops_quickly_without_recursion() {
    for open in [&b"["[..], b"{\"a\":", b"[{\"a\":"] {
        let doc = open.repeat(100_000);
        for declared in [true, false] {
            let o = run(&JsonDecoder, &doc, None, declared, Limits::default());
            assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Nesting)));
            assert!(o.tree.len() < 200);
        }
    }
    // Exactly at the limit is fine, one more is not.
    let limits = Limits {
        max_nesting: 10,
        ..Limits::default()
    };
    let ok = format!("{}1{}", "[".repeat(10), "]".repeat(10));
    let o = run(&JsonDecoder, ok.as_bytes(), None, true, limits);
    assert_eq!(o.result, Ok(()));
    assert_eq!(o.points().len(), 1);
    let deep = format!("{}1{}", "[".repeat(11), "]".repeat(11));
    let o = run(&JsonDecoder, deep.as_bytes(), None, true, limits);
    assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Nesting)));
}

#[test]
fn one_megabyte_values() {
    let big = "x".repeat(1 << 20);
    let doc = format!("{{\"a\":\"{big}\",\"b\":1}}");
    let o = decl(doc.as_bytes());
    assert_eq!(o.result, Ok(()));
    let pts = o.points();
    assert_eq!(pts.len(), 2);
    assert_eq!(pts[0].1.len(), 1 << 20);
    // A 1 MB key, a 1 MB number, 1 MB of whitespace, 1 MB of escapes.
    let docs = [
        format!("{{\"{big}\":1}}"),
        format!("[{}]", "1".repeat(1 << 20)),
        format!("[{}1]", " ".repeat(1 << 20)),
        format!("[\"{}\"]", "\\u0041".repeat(200_000)),
    ];
    for d in &docs {
        let o = decl(d.as_bytes());
        assert_eq!(o.result, Ok(()));
        assert_eq!(o.points().len(), 1);
    }
    // A tight byte budget stops a big string without overrunning it.
    let small = Limits {
        max_bytes: 4096,
        ..Limits::default()
    };
    let o = run(&JsonDecoder, doc.as_bytes(), None, true, small);
    assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Bytes)));
    assert!(o.tree.bytes_len() <= doc.len() + 4096);
}

#[test]
fn many_members_hit_the_node_budget() {
    let doc = format!("[{}0]", "0,".repeat(50_000));
    let o = decl(doc.as_bytes());
    assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Nodes)));
    assert!(o.tree.len() <= 10_003);
}

#[test]
fn invalid_utf8_and_nul_bytes_anywhere() {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let base = SAMPLE.as_bytes();
    let limits = Limits {
        max_nodes: 64,
        max_nesting: 8,
        ..Limits::default()
    };
    for _ in 0..3000 {
        let mut doc = base.to_vec();
        for _ in 0..3 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let at = (rng as usize) % doc.len();
            doc[at] =
                [0x00, 0xff, 0xc0, b'"', b'\\', b'[', b'{', b'}', b']'][(rng >> 32) as usize % 9];
        }
        for declared in [true, false] {
            let o = run(&JsonDecoder, &doc, None, declared, limits);
            assert_bounded(&o, declared, &limits);
        }
    }
}

#[test]
fn two_kilobyte_document_decodes() {
    // Its speed is measured by `cargo bench -p rampart-core --bench decode`.
    let item = r#"{"id":12345,"name":"Widget \"deluxe\"","price":19.99,"tags":["a","b"]},"#;
    let doc = format!("[{}1]", item.repeat(2048 / item.len()));
    let o = decl(doc.as_bytes());
    assert_eq!(o.result, Ok(()));
    assert!(o.tree.len() > 100, "{} points", o.tree.len());
}

#[test]
fn findings_point_at_the_value_and_the_defect() {
    let o = decl(br#"{"a":"xy\ud800","b":"\q"}"#);
    assert_eq!(o.result, Ok(()));
    assert_eq!(o.state.findings.len(), 1);
    let f = &o.state.findings[0];
    assert_eq!(f.rule, "json.invalid-escape");
    assert_eq!(o.tree.path(f.point).to_string(), "body:json.a");
    assert_eq!((f.span.start, f.span.end), (2, 5));
    assert_eq!(f.origin, "json");

    let o = decl(b"{\"k\":[\"ok\",\"a\xffb\"]}");
    let f = &o.state.findings[0];
    assert_eq!(f.rule, "json.invalid-utf8");
    assert_eq!(o.tree.path(f.point).to_string(), "body:json.k[1]");
    assert_eq!((f.span.start, f.span.end), (1, 2));

    let o = decl(b"[1]  trailing");
    let f = &o.state.findings[0];
    assert_eq!(f.point, o.layer);
    assert_eq!((f.span.start, f.span.end), (5, 13));
}

#[test]
fn malformed_errors_name_the_offset() {
    let o = decl(br#"{"a":1,"b":x}"#);
    assert_eq!(
        o.result,
        Err(DecodeError::malformed(
            "json.malformed",
            "expected a value",
            11
        ))
    );
    let o = decl(br#"{"a":[1,2"#);
    assert!(matches!(
        o.result,
        Err(DecodeError::Malformed { offset: 9, .. })
    ));
}
