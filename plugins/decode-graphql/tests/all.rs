//! Table tests (`testdata/*.json`) and hostile inputs for the GraphQL decoder.

use rampart_decode_graphql::{register, GraphqlDecoder};
use rampart_plugin_api::testing::{check_table, run, Outcome};
use rampart_plugin_api::{DecodeError, Decoder, LimitKind, Limits, Registry};

const SAMPLE: &str = r#"query Q($id: ID! = 4, $f: [In!] = [{a: "x"}]) @live {
  u: user(id: $id, s: "a\"\u00e9", b: """ blk """) @include(if: true) {
    ...P
    ... on Admin { level(min: -1.5e3, tags: [A, B]) }
    friends { __typename }
  }
}
fragment P on User { name }"#;

fn decl(input: &[u8]) -> Outcome {
    run(
        &GraphqlDecoder,
        input,
        Some(b"application/graphql"),
        true,
        Limits::default(),
    )
}

fn spec(input: &[u8]) -> Outcome {
    run(&GraphqlDecoder, input, None, false, Limits::default())
}

fn assert_bounded(o: &Outcome, declared: bool, limits: &Limits) {
    assert!(
        o.tree.len() <= limits.max_nodes as usize + 3,
        "tree too big"
    );
    if declared {
        assert!(!matches!(o.result, Err(DecodeError::NotThisFormat)));
    } else {
        assert!(o.findings().iter().all(|f| f == "graphql.introspection"));
        assert!(matches!(
            o.result,
            Ok(()) | Err(DecodeError::NotThisFormat) | Err(DecodeError::Exhausted(_))
        ));
    }
}

#[test]
fn tables() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");
    for name in ["basic", "errors", "speculative"] {
        check_table(&GraphqlDecoder, format!("{dir}/{name}.json"));
    }
}

#[test]
fn registers_one_decoder() {
    let mut reg = Registry::new();
    register(&mut reg).unwrap();
    assert_eq!(reg.decoders().len(), 1);
    assert_eq!(reg.decoders()[0].info.name, "graphql");
    assert_eq!(GraphqlDecoder.layer(), "graphql");
    assert_eq!(GraphqlDecoder.media_types(), ["application/graphql"]);
}

#[test]
fn sample_decodes_in_both_modes() {
    let o = decl(SAMPLE.as_bytes());
    assert_eq!(o.result, Ok(()));
    assert_eq!(spec(SAMPLE.as_bytes()).result, Ok(()));
    assert!(GraphqlDecoder.sniff(SAMPLE.as_bytes()));
    let pts = o.points();
    let get = |p: &str| pts.iter().find(|(k, _)| k == p).map(|(_, v)| v.as_str());
    assert_eq!(
        get(r#"body:graphql.query["$f"]["@default"][0].a"#),
        Some("x")
    );
    assert_eq!(get(r#"body:graphql.query.user["@s"]"#), Some("a\"\u{e9}"));
    assert_eq!(get(r#"body:graphql.query.user["@b"]"#), Some(" blk "));
    assert_eq!(
        get(r#"body:graphql.query.user["... on Admin"].level["@tags"][1]"#),
        Some("B")
    );
    assert_eq!(get(r#"body:graphql.fragment.P.name"#), Some(""));
}

#[test]
fn sniff_accepts_documents_and_rejects_prose() {
    for yes in [
        "{ a }",
        "{a}",
        "  # c\n{ user { id } }\n",
        "query { a }",
        "query Q { a }",
        "query($a: Int) { a }",
        "query Q($a: Int) { a }",
        "query @dir { a }",
        "mutation M { a }",
        "subscription { a }",
        "fragment F on T { a } query { ...F }",
        "{ a },",
    ] {
        assert!(GraphqlDecoder.sniff(yes.as_bytes()), "{yes:?}");
    }
    for no in [
        "",
        "{",
        "{}",
        "{\"query\":\"{a}\"}",
        "{ 1 }",
        "query the database for {x}",
        "query",
        "queryX { a }",
        "mutations { a }",
        "fragment of {a}",
        "fragment F on {a}",
        "{ a } # trailing comment",
        "hello world",
        "[{a}]",
        "{ a } x",
    ] {
        assert!(!GraphqlDecoder.sniff(no.as_bytes()), "{no:?}");
    }
}

#[test]
fn every_truncation_is_bounded() {
    let full = SAMPLE.as_bytes();
    let limits = Limits::default();
    for cut in 0..full.len() {
        let o = decl(&full[..cut]);
        assert_bounded(&o, true, &limits);
        assert!(matches!(
            o.result,
            Ok(())
                | Err(DecodeError::Malformed {
                    rule: "graphql.malformed",
                    ..
                })
        ));
        let o = spec(&full[..cut]);
        assert_bounded(&o, false, &limits);
    }
}

#[test]
fn deep_nesting_stops_quickly_without_recursion() {
    let n = 100_000;
    let docs = [
        "{a".repeat(n),
        "{ ... on T ".repeat(n),
        format!("{{{}", "a ... { ".repeat(n)),
        format!("{{ f(a: {}", "[".repeat(n)),
        format!("{{ f(a: {}", "{a: ".repeat(n)),
        format!("{{ f(a: {}", "[{a: ".repeat(n)),
        format!("query ($a: {}", "[".repeat(n)),
        format!("{{ a @d(x: {}", "[".repeat(n)),
    ];
    for doc in &docs {
        for declared in [true, false] {
            let o = run(
                &GraphqlDecoder,
                doc.as_bytes(),
                None,
                declared,
                Limits::default(),
            );
            assert_eq!(
                o.result,
                Err(DecodeError::Exhausted(LimitKind::Nesting)),
                "{}",
                &doc[..20]
            );
            assert!(o.tree.len() < 300);
        }
    }
    let limits = Limits {
        max_nesting: 4,
        ..Limits::default()
    };
    let at = |s: &str| run(&GraphqlDecoder, s.as_bytes(), None, true, limits).result;
    assert_eq!(at("{a{b{c{d}}}}"), Ok(()));
    assert_eq!(
        at("{a{b{c{d{e}}}}}"),
        Err(DecodeError::Exhausted(LimitKind::Nesting))
    );
    assert_eq!(at("{a(x: [[[1]]])}"), Ok(()));
    assert_eq!(
        at("{a(x: [[[[1]]]])}"),
        Err(DecodeError::Exhausted(LimitKind::Nesting))
    );
    assert_eq!(at("query ($a: [[[[Int]]]]) {a}"), Ok(()));
    assert_eq!(
        at("query ($a: [[[[[Int]]]]]) {a}"),
        Err(DecodeError::Exhausted(LimitKind::Nesting))
    );
}

#[test]
fn one_megabyte_values() {
    let big = "x".repeat(1 << 20);
    let docs = [
        format!("{{ f(s: \"{big}\") }}"),
        format!("{{ f(s: \"\"\"\n  {big}\n\"\"\") }}"),
        format!("# {big}\n{{ f(s: 1) }}"),
        format!("{{ f(s: 1) {} }}", ",".repeat(1 << 20)),
        format!("{{ f(s: {}) }}", "1".repeat(1 << 20)),
        format!("{{ f(s: \"{}\") }}", "\\u0041".repeat(200_000)),
    ];
    for d in &docs {
        let o = decl(d.as_bytes());
        assert_eq!(o.result, Ok(()));
        assert_eq!(o.points().len(), 2);
    }
    let o = decl(format!("{{ {big} }}").as_bytes());
    assert_eq!(o.result, Ok(()));
    assert_eq!(o.points().len(), 1);
    // A tight byte budget stops a big string without overrunning it.
    let small = Limits {
        max_bytes: 4096,
        ..Limits::default()
    };
    let o = run(&GraphqlDecoder, docs[0].as_bytes(), None, true, small);
    assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Bytes)));
    assert!(o.tree.bytes_len() <= docs[0].len() + 4096);
}

#[test]
fn many_fields_hit_the_node_budget() {
    let doc = format!("{{ {} }}", "a ".repeat(50_000));
    let o = decl(doc.as_bytes());
    assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Nodes)));
    assert!(o.tree.len() <= 10_003);
}

#[test]
fn mutations_with_invalid_utf8_and_nul_bytes_are_bounded() {
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let base = SAMPLE.as_bytes();
    let limits = Limits {
        max_nodes: 64,
        max_nesting: 6,
        ..Limits::default()
    };
    let bytes = [
        0x00, 0xff, 0xc3, b'"', b'\\', b'{', b'}', b'(', b')', b'[', b']', b'.', b'#', b'$',
    ];
    for _ in 0..3000 {
        let mut doc = base.to_vec();
        for _ in 0..3 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let at = (rng as usize) % doc.len();
            doc[at] = bytes[(rng >> 40) as usize % bytes.len()];
        }
        for declared in [true, false] {
            let o = run(&GraphqlDecoder, &doc, None, declared, limits);
            assert_bounded(&o, declared, &limits);
        }
    }
}

#[test]
fn findings_point_at_their_node() {
    let o = decl(br#"{ a { b: __schema { types { name } } } }"#);
    assert_eq!(o.result, Ok(()));
    let f = &o.state.findings[0];
    assert_eq!(f.rule, "graphql.introspection");
    assert_eq!(f.score, 10);
    assert_eq!(
        o.tree.path(f.point).to_string(),
        "body:graphql.query.a.__schema"
    );
    assert_eq!(f.origin, "graphql");

    let o = decl(br#"{ f(s: "ab\x") }"#);
    let f = &o.state.findings[0];
    assert_eq!(f.rule, "graphql.invalid-escape");
    assert_eq!(
        o.tree.path(f.point).to_string(),
        r#"body:graphql.query.f["@s"]"#
    );
    assert_eq!((f.span.start, f.span.end), (2, 3));

    let o = decl(b"{ a(x: 1) } }");
    assert_eq!(
        o.result,
        Err(DecodeError::malformed(
            "graphql.malformed",
            "expected an operation or a fragment",
            12
        ))
    );
}
