//! Table tests and hostile-input tests of the cookie and Authorization
//! decoders.

use std::time::Duration;

use rampart_decode_http::{register, scheme, BasicDecoder, BearerDecoder, CookieDecoder};
use rampart_plugin_api::testing::{check_table, run, Outcome};
use rampart_plugin_api::{DecodeError, Decoder, LimitKind, Limits, Registry};

fn table(d: &dyn Decoder, file: &str) {
    check_table(d, format!("{}/testdata/{file}", env!("CARGO_MANIFEST_DIR")));
}

fn bounded(o: &Outcome, limits: &Limits) {
    assert!(
        o.tree.len() <= limits.max_nodes as usize + 2,
        "{} nodes",
        o.tree.len()
    );
    assert!(
        o.tree.bytes_len() <= o.state.byte_cap,
        "{} bytes",
        o.tree.bytes_len()
    );
}

/// Default limits with a time budget that unoptimised test builds on a
/// busy machine cannot exhaust, so that the other limits are what is tested.
fn roomy() -> Limits {
    Limits {
        max_time: Duration::from_secs(10),
        ..Limits::default()
    }
}

#[test]
fn cookie_table() {
    table(&CookieDecoder, "cookie.json");
}

#[test]
fn basic_table() {
    table(&BasicDecoder, "basic.json");
}

#[test]
fn bearer_table() {
    table(&BearerDecoder, "bearer.json");
}

#[test]
fn registers_in_order_and_never_sniffs() {
    let mut reg = Registry::new();
    register(&mut reg).unwrap();
    let names: Vec<_> = reg.decoders().iter().map(|e| e.info.name).collect();
    assert_eq!(names, ["cookie", "basic", "bearer"]);
    let all: [&dyn Decoder; 3] = [&CookieDecoder, &BasicDecoder, &BearerDecoder];
    for d in all {
        assert_eq!(d.info().name, d.layer());
        for v in [&b"sid=1"[..], b"Basic Ym9iOnB3", b"Bearer x"] {
            assert!(!d.sniff(v));
        }
    }
    assert_eq!(scheme(b"Digest username=x"), b"Digest");
}

#[test]
fn bearer_token_is_the_layer_value() {
    let o = run(&BearerDecoder, b"Bearer  a.b.c ", None, true, roomy());
    assert_eq!(o.result, Ok(()));
    assert_eq!(o.tree.value(o.layer), b"a.b.c");
    assert!(o.points().is_empty());
    let o = run(&BearerDecoder, b"Basic a.b.c", None, true, roomy());
    assert_eq!(o.result, Err(DecodeError::NotThisFormat));
    assert_eq!(o.tree.value(o.layer), b"");
}

#[test]
fn many_cookies_stop_at_the_node_budget() {
    let mut v = Vec::new();
    for i in 0..100_000 {
        v.extend_from_slice(format!("c{i}=v; ").as_bytes());
    }
    let limits = roomy();
    let o = run(&CookieDecoder, &v, None, true, limits);
    assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Nodes)));
    bounded(&o, &limits);
    assert_eq!(
        o.points()[0],
        ("body:cookie.c0".to_string(), "v".to_string())
    );
}

#[test]
fn megabyte_values() {
    let limits = roomy();
    let mut v = b"big=".to_vec();
    v.extend(b"%41".repeat(350_000));
    let o = run(&CookieDecoder, &v, None, true, limits);
    assert_eq!(o.result, Ok(()));
    assert_eq!(o.tree.value(o.tree.leaves().last().unwrap()).len(), 350_000);
    bounded(&o, &limits);
    let o = run(&CookieDecoder, &b";".repeat(1 << 20), None, true, limits);
    assert_eq!(o.result, Ok(()));

    let mut b = b"Basic ".to_vec();
    b.extend(b"QUFB".repeat(300_000));
    let o = run(&BasicDecoder, &b, None, true, limits);
    assert_eq!(o.result, Ok(()));
    assert_eq!(o.findings(), ["basic.no-colon"]);
    bounded(&o, &limits);

    let mut t = b"Bearer ".to_vec();
    t.extend(std::iter::repeat_n(b'x', 1 << 20));
    let o = run(&BearerDecoder, &t, None, true, limits);
    assert_eq!(o.result, Ok(()));
    assert_eq!(o.tree.value(o.layer).len(), 1 << 20);

    // A tight byte budget stops each of them without overshooting.
    let tight = Limits {
        max_bytes: 1024,
        ..roomy()
    };
    for (d, input) in [
        (&CookieDecoder as &dyn Decoder, &v),
        (&BasicDecoder, &b),
        (&BearerDecoder, &t),
    ] {
        let o = run(d, input, None, true, tight);
        assert_eq!(
            o.result,
            Err(DecodeError::Exhausted(LimitKind::Bytes)),
            "{}",
            d.layer()
        );
    }
}

#[test]
fn truncation_at_every_byte() {
    let cookie = b"sid=\"a%20b\"; theme=dark; x=%c0%ae%00; flag; =e; y=%zz;";
    let basic = b"Basic YWRtaW46cGFzc3dvcmQ6d2l0aDpjb2xvbnM=";
    let bearer = b"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.";
    let limits = roomy();
    let cases: [(&dyn Decoder, &[u8]); 3] = [
        (&CookieDecoder, cookie),
        (&BasicDecoder, basic),
        (&BearerDecoder, bearer),
    ];
    for (d, full) in cases {
        for cut in 0..=full.len() {
            for declared in [true, false] {
                let o = run(d, &full[..cut], None, declared, limits);
                bounded(&o, &limits);
                match &o.result {
                    Ok(()) => {}
                    Err(DecodeError::NotThisFormat) => {}
                    Err(DecodeError::Malformed { rule, .. }) => {
                        assert!(declared);
                        assert!(rule.starts_with(d.layer()), "{rule}");
                    }
                    Err(e) => panic!("{} cut {cut}: {e}", d.layer()),
                }
                if !declared {
                    assert!(o.findings().is_empty());
                }
            }
        }
    }
}

#[test]
fn hostile_bytes_stay_bounded() {
    let pieces: [&[u8]; 12] = [
        b"Basic ",
        b"Bearer ",
        b";",
        b"=",
        b"\"",
        b"%",
        b"%0",
        b"%u",
        b" ",
        b"\x00\xff",
        b"Og==",
        b":",
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let limits = Limits {
        max_nodes: 100,
        ..roomy()
    };
    let all: [&dyn Decoder; 3] = [&CookieDecoder, &BasicDecoder, &BearerDecoder];
    for _ in 0..3000 {
        let mut v = Vec::new();
        for _ in 0..(seed % 48) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            v.extend_from_slice(pieces[(seed % 12) as usize]);
        }
        for d in all {
            for declared in [true, false] {
                let o = run(d, &v, None, declared, limits);
                bounded(&o, &limits);
            }
        }
    }
}
