//! Hostile inputs: megabyte values, invalid UTF-8, NUL bytes, deep trees,
//! odd contexts. Every detector must return and stay within its
//! invariants (checked by `inspect_at`).

use rampart_detect_injections::register;
use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{DetectCtx, NodeId, Registry, Tree};

use crate::support::{build, detectors, inspect, inspect_at, rules};

/// Runs one hostile case. What is checked is the outcome (it returns, within
/// the detectors' invariants, with a bounded number of findings); how long it
/// takes is measured by the crate's criterion bench, not asserted here.
fn complete<T>(_what: &str, f: impl FnOnce() -> T) -> T {
    f()
}

const MB: usize = 1 << 20;

fn repeat(unit: &[u8]) -> Vec<u8> {
    unit.iter().copied().cycle().take(MB).collect()
}

const PATHS: [&str; 6] = [
    "query.q",
    "path",
    "header[\"x-a\"]",
    "body:json.user[\"$ne\"]",
    "body:xml[\"!doctype\"]",
    "body:xml.a[\"@xsi:schemaLocation\"]",
];

#[test]
fn megabyte_values() {
    let units: [&[u8]; 24] = [
        b"<",
        b"<!",
        b"<!--",
        b"<!--#",
        b"<!ENTITY % a SYSTEM \"file:///x\">",
        b"<a>",
        b"</a>",
        b"]]>",
        b"-->",
        b"'",
        b"' or ",
        b"(",
        b")",
        b")(",
        b"*)(|",
        b"$ne:",
        b"db.a.find(",
        b"\r\n",
        b"\r\nSet-Cookie: a\r\n",
        b"\\r\\n",
        "\u{560a}".as_bytes(),
        b"&a;",
        b"+ADw",
        b"%a;",
    ];
    for unit in units {
        let v = repeat(unit);
        for path in PATHS {
            let f = complete("1 MB value", || inspect(path, &v));
            assert!(f.len() <= 9 * 4, "{} findings for {unit:?}", f.len());
        }
    }
}

#[test]
fn long_structures() {
    // Deep nesting and long runs that parsers could recurse on.
    let mut v = Vec::new();
    for _ in 0..100_000 {
        v.extend_from_slice(b"(&");
    }
    complete("deep LDAP filter", || inspect("query.q", &v));
    let mut v = b"(".to_vec();
    v.extend(std::iter::repeat_n(b'(', MB));
    complete("parentheses", || inspect("query.q", &v));
    let mut v = b"<!DOCTYPE a [".to_vec();
    for i in 0..50_000 {
        v.extend_from_slice(format!("<!ENTITY e{i} \"&e{};&e{};\">", i + 1, i + 2).as_bytes());
    }
    complete("many entities", || inspect("body", &v));
    let mut v = Vec::new();
    for _ in 0..100_000 {
        v.extend_from_slice(b"<a x='1'>");
    }
    complete("many open tags", || inspect("query.q", &v));
    let v = [b"'".as_slice(), &repeat(b"or /a[")].concat();
    complete("xpath tail", || inspect("query.q", &v));
}

#[test]
fn noise() {
    let mut x: u32 = 0x1234_5678;
    let noise: Vec<u8> = (0..MB)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect();
    for path in PATHS {
        complete("noise", || inspect(path, &noise));
    }
    // Printable noise over the characters the detectors look at.
    let alphabet = b"<>!-#'\"()&|*=$;:/[]\r\n\\ %ab";
    let text: Vec<u8> = (0..MB)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            alphabet[(x >> 24) as usize % alphabet.len()]
        })
        .collect();
    for path in PATHS {
        complete("syntax noise", || inspect(path, &text));
    }
}

#[test]
fn invalid_utf8_and_nul() {
    assert!(
        rules(&inspect("query.q", b"\xff\xfe<!--#exec cmd=\"ls\"-->\xff"))
            .contains(&"ssi.exec".to_string())
    );
    assert!(rules(&inspect("query.q", b"\0\r\nSet-Cookie: a=b\0"))
        .contains(&"crlf.header-injection".to_string()));
    for cut in 0..24 {
        let v = &b"<!DOCTYPE a [<!ENTITY % x SYSTEM \"file:///\">]>"[..cut];
        inspect("body", v);
    }
    // Truncated UTF-8 sequences at the end of the value.
    for v in [&b"\xe5\x98"[..], b"\xe5", b"\xf0\x9f\x98", b"a\xc3"] {
        assert!(inspect("path", v).is_empty());
    }
    assert!(inspect("query.q", b"").is_empty());
    assert!(inspect("query.q", b"\0\0\0").is_empty());
}

#[test]
fn odd_contexts() {
    let (tree, _) = build("body:xml[\"!entity\"].x", b"file:///etc/passwd");
    for point in [NodeId(9999), NodeId::ROOT, NodeId(1)] {
        let ctx = DetectCtx {
            tree: &tree,
            point,
            source: Some(Source::Body),
            endpoint: b"",
            content_type: None,
        };
        for d in detectors() {
            let mut out = Vec::new();
            d.inspect(b"x", &ctx, &mut out);
            assert!(out.is_empty(), "{} at {point:?}", d.info().name);
        }
    }
    // A source that does not match the tree.
    let (tree, leaf) = build("query.q", b"\r\nSet-Cookie: a=b");
    let ctx = DetectCtx {
        tree: &tree,
        point: leaf,
        source: None,
        endpoint: b"",
        content_type: None,
    };
    for d in detectors() {
        let mut out = Vec::new();
        d.inspect(b"\r\nSet-Cookie: a=b", &ctx, &mut out);
    }
}

#[test]
fn deep_trees_stop_the_walk() {
    let mut tree = Tree::new();
    let q = tree.push_node(
        NodeId::ROOT,
        Seg::Source(Source::Body),
        NodeKind::Container,
        (0, 0),
    );
    let (s, e) = tree.push_bytes(b"$where");
    let mut node = tree.push_node(
        q,
        Seg::Key { start: s, end: e },
        NodeKind::Container,
        (0, 0),
    );
    for i in 0..10_000 {
        node = if i % 2 == 0 {
            tree.push_node(node, Seg::Layer("json"), NodeKind::Container, (0, 0))
        } else {
            tree.push_node(node, Seg::Index(1), NodeKind::Container, (0, 0))
        };
    }
    let span = tree.push_bytes(b"x");
    tree.set_value(node, span);
    tree.set_kind(node, NodeKind::Leaf);
    let f = complete("deep tree", || inspect_at(&tree, node, b"x"));
    assert!(f.is_empty(), "the operator is too far up");
}

#[test]
fn appends_to_existing_findings() {
    let (tree, leaf) = build("query.q", b"<!--#exec cmd=\"ls\"-->");
    let ctx = DetectCtx {
        tree: &tree,
        point: leaf,
        source: Some(Source::Query),
        endpoint: b"/",
        content_type: None,
    };
    let earlier = rampart_plugin_api::Finding::new(
        leaf,
        rampart_plugin_api::Class::Ssi,
        "ssi.exec",
        1,
        "earlier",
    );
    let mut out = vec![earlier];
    detectors()[7].inspect(b"<!--#exec cmd=\"ls\"-->", &ctx, &mut out);
    assert_eq!(out.len(), 2, "dedup is per call, earlier findings are kept");
    assert_eq!(out[0].score, 1);
}

#[test]
fn registers_once() {
    let mut reg = Registry::new();
    register(&mut reg).expect("first registration");
    assert!(register(&mut reg).is_err());
    let names: Vec<_> = reg.detectors().iter().map(|e| e.info.name).collect();
    assert_eq!(
        names,
        [
            "xxe",
            "xml-injection",
            "xpath",
            "ldap",
            "nosql",
            "crlf",
            "mail-injection",
            "ssi",
            "session-fixation"
        ]
    );
}
