//! Time per value of each injection detector on typical values, benign and
//! hostile, and on megabyte values (the bound the hostile tests no longer
//! time).
//!
//! `cargo bench -p rampart-detect-injections --bench injections`

use criterion::{criterion_group, criterion_main, Criterion};
use rampart_detect_injections::{
    CrlfDetector, LdapDetector, MailInjectionDetector, NosqlDetector, SessionFixationDetector,
    SsiDetector, XmlInjectionDetector, XpathDetector, XxeDetector,
};
use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{DetectCtx, Detector, NodeId, Tree};
use std::hint::black_box;

/// (name, source, key, value).
const VALUES: &[(&str, Source, &[u8], &[u8])] = &[
    ("word", Source::Query, b"q", b"running shoes size 10"),
    ("quote", Source::Query, b"q", b"O'Brien"),
    (
        "comment",
        Source::Body,
        b"comment",
        b"Hi team,\r\nthe login page is broken.\r\nThanks, Anna",
    ),
    (
        "json-text",
        Source::Body,
        b"text",
        b"{\"name\": \"Alice\", \"tags\": [\"a\", \"b\"]}",
    ),
    (
        "url",
        Source::Query,
        b"next",
        b"https://shop.example.com/p/12345?utm_source=newsletter&utm_medium=email",
    ),
    ("html", Source::Body, b"bio", b"<p>Hello <b>world</b></p>"),
    ("ldap", Source::Query, b"user", b"*)(uid=*))(|(uid=*"),
    ("xpath", Source::Query, b"q", b"' or count(/*)=1 or '"),
    (
        "xxe",
        Source::Body,
        b"doc",
        b"<!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><foo>&xxe;</foo>",
    ),
    (
        "crlf",
        Source::Query,
        b"lang",
        b"x\r\nSet-Cookie:crlf=injection",
    ),
    ("nosql", Source::Query, b"$ne", b"x"),
    ("ssi", Source::Query, b"q", b"<!--#exec cmd=\"ls\" -->"),
];

fn leaf(source: Source, key: &[u8], value: &[u8]) -> (Tree, NodeId) {
    let mut t = Tree::new();
    let q = t.push_node(
        NodeId::ROOT,
        Seg::Source(source),
        NodeKind::Container,
        (0, 0),
    );
    let (s, e) = t.push_bytes(key);
    let v = t.push_bytes(value);
    let n = t.push_node(q, Seg::Key { start: s, end: e }, NodeKind::Leaf, v);
    (t, n)
}

fn detectors() -> [(&'static str, &'static dyn Detector); 9] {
    [
        ("xxe", &XxeDetector),
        ("xml-injection", &XmlInjectionDetector),
        ("xpath", &XpathDetector),
        ("ldap", &LdapDetector),
        ("nosql", &NosqlDetector),
        ("crlf", &CrlfDetector),
        ("mail-injection", &MailInjectionDetector),
        ("ssi", &SsiDetector),
        ("session-fixation", &SessionFixationDetector),
    ]
}

fn run(c: &mut Criterion, name: &str, d: &dyn Detector, source: Source, key: &[u8], v: &[u8]) {
    let (tree, point) = leaf(source, key, v);
    let ctx = DetectCtx {
        tree: &tree,
        point,
        source: Some(source),
        endpoint: b"/",
        content_type: None,
    };
    let mut out = Vec::with_capacity(8);
    c.bench_function(name, |b| {
        b.iter(|| {
            out.clear();
            d.inspect(black_box(v), &ctx, &mut out);
            black_box(out.len())
        })
    });
}

fn bench(c: &mut Criterion) {
    for (dname, d) in detectors() {
        for (vname, source, key, value) in VALUES {
            run(c, &format!("{dname}/{vname}"), d, *source, key, value);
        }
    }
}

/// Megabyte values of the characters the detectors look at.
fn hostile(c: &mut Criterion) {
    let units: [&[u8]; 6] = [
        b"<!--",
        b"*)(|",
        b"\r\nSet-Cookie: a\r\n",
        b"' or ",
        b"&a;",
        b"(&",
    ];
    for unit in units {
        let v: Vec<u8> = unit.iter().copied().cycle().take(1 << 20).collect();
        for (dname, d) in detectors() {
            let name = format!(
                "mb/{dname}/{}",
                String::from_utf8_lossy(unit).escape_debug()
            );
            run(c, &name, d, Source::Query, b"q", &v);
        }
    }
}

criterion_group!(benches, bench);
criterion_group! {
    name = slow;
    config = Criterion::default().sample_size(10);
    targets = hostile
}
criterion_main!(benches, slow);
