//! Table tests (`testdata/scanner.json`) and hostile inputs for the
//! scanner-fingerprint detector.
//!
//! A table case names one request point and its value in `points`
//! (`[["header[\"user-agent\"]", "sqlmap/1.0"]]`) and the rule names the
//! detector must report for it in `findings`.

// The path parser of the table runner reports a malformed table by panicking.
#![allow(clippy::panic)]

use rampart_detect_scanner::{
    register, ScannerDetector, INTROSPECTION_SCORE, OAST_SCORE, TOOL_SCORE,
};
use rampart_plugin_api::testing::check_detector_table;
use rampart_plugin_api::testing::point_tree as build;
use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, NodeId, Registry, Tree};

fn inspect_at(tree: &Tree, point: NodeId, value: &[u8]) -> Vec<Finding> {
    let ctx = DetectCtx {
        tree,
        point,
        source: tree.source_of(point),
        endpoint: b"/",
        content_type: None,
    };
    let mut out = Vec::new();
    ScannerDetector.inspect(value, &ctx, &mut out);
    for f in &out {
        assert_eq!(f.point, point);
        assert_eq!(f.class, Class::Scanner);
        assert!(f.rule.starts_with("scanner."), "{}", f.rule);
        assert!(f.span.start <= f.span.end && f.span.end as usize <= value.len());
        assert!([TOOL_SCORE, OAST_SCORE, INTROSPECTION_SCORE].contains(&f.score));
        assert_eq!(f.origin, "scanner");
    }
    out
}

fn inspect(path: &str, value: &[u8]) -> Vec<Finding> {
    let (tree, leaf) = build(path, value);
    inspect_at(&tree, leaf, value)
}

fn rules(f: &[Finding]) -> Vec<String> {
    let mut v: Vec<String> = f.iter().map(|f| f.rule.to_string()).collect();
    v.sort();
    v
}

fn ua(value: &[u8]) -> Vec<Finding> {
    inspect(r#"header["user-agent"]"#, value)
}

#[test]
fn table() {
    check_detector_table(
        concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/scanner.json"),
        60,
        |p, v| rules(&inspect(p, v)),
    );
}

#[test]
fn spans_cover_the_match() {
    let v = b"sqlmap/1.7.2#stable (https://sqlmap.org)";
    let f = ua(v);
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].span.start, f[0].span.end), (0, 6));
    assert_eq!(f[0].score, TOOL_SCORE);

    let v = b"Fuzz Faster U Fool v2.1.0";
    let f = ua(v);
    assert_eq!(
        &v[f[0].span.start as usize..f[0].span.end as usize],
        b"Fuzz Faster U Fool"
    );

    let v = b"GET http://$(id).ab12.oast.pro:80/x";
    let f = inspect("query.q", v);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].score, OAST_SCORE);
    assert_eq!(
        &v[f[0].span.start as usize..f[0].span.end as usize],
        b"ab12.oast.pro"
    );

    let v = b"Third Party Scanning PROHIBITED";
    let f = inspect(r#"header["acunetix-product"]"#, v);
    assert_eq!((f[0].span.start, f[0].span.end), (0, v.len() as u32));
}

#[test]
fn one_finding_per_rule_per_value() {
    let f = ua(b"sqlmap sqlmap/1 SQLMAP (sqlmap) x.oast.pro y.oast.fun");
    assert_eq!(rules(&f), ["scanner.interactsh", "scanner.sqlmap"]);
}

#[test]
fn appends_to_existing_findings() {
    let (tree, leaf) = build(r#"header["user-agent"]"#, b"sqlmap/1.0");
    let ctx = DetectCtx {
        tree: &tree,
        point: leaf,
        source: Some(Source::Header),
        endpoint: b"/",
        content_type: None,
    };
    let earlier = Finding::new(leaf, Class::Scanner, "scanner.sqlmap", 1, "earlier");
    let mut out = vec![earlier];
    ScannerDetector.inspect(b"sqlmap/1.0", &ctx, &mut out);
    assert_eq!(out.len(), 2, "dedup is per call, earlier findings are kept");
}

#[test]
fn registers_once() {
    let mut reg = Registry::new();
    register(&mut reg).expect("first registration");
    assert!(register(&mut reg).is_err());
    assert_eq!(reg.detectors().len(), 1);
    assert_eq!(reg.detectors()[0].info.name, "scanner");
    assert_eq!(ScannerDetector.classes(), &[Class::Scanner]);
}

/// Runs a hostile case (the label names it in a failure's backtrace).
fn labelled<T>(_what: &str, f: impl FnOnce() -> T) -> T {
    f()
}

const MB: usize = 1 << 20;

fn repeat(unit: &[u8]) -> Vec<u8> {
    unit.iter().copied().cycle().take(MB).collect()
}

#[test]
fn hostile_megabyte_values() {
    let units: [&[u8]; 12] = [
        b"sqlmap ",
        b"a.oast.pro ",
        b"vega ",
        b"(hydra ",
        b"fuzz faster ",
        b"teh forest ",
        b"x",
        b".",
        b"-",
        b" ",
        b"a.",
        b"zgrab2-",
    ];
    for unit in units {
        let v = repeat(unit);
        for path in [
            r#"header["user-agent"]"#,
            r#"header["x-scanner"]"#,
            "query.q",
        ] {
            let f = labelled("1 MB value", || inspect(path, &v));
            assert!(f.len() <= 3, "{} findings for {:?}", f.len(), unit);
        }
    }
    // One host run of a megabyte ending in a callback domain.
    let mut v = repeat(b"a.");
    v.extend_from_slice(b"oast.pro");
    assert_eq!(rules(&inspect("query.q", &v)), ["scanner.interactsh"]);
    // Pseudo-random bytes.
    let mut x: u32 = 0x1234_5678;
    let noise: Vec<u8> = (0..MB)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect();
    labelled("noise", || ua(&noise));
}

#[test]
fn invalid_utf8_and_nul() {
    assert_eq!(rules(&ua(b"sqlmap/1.0 \xff\xfe")), ["scanner.sqlmap"]);
    assert!(
        ua(b"\xffsqlmap/1.0").is_empty(),
        "glued to a non-ASCII byte"
    );
    assert_eq!(rules(&ua(b"sqlmap\0/1.0")), ["scanner.sqlmap"]);
    assert!(inspect("query.q", b"x.oast\0.pro").is_empty());
    assert_eq!(
        rules(&inspect("query.q", b"\xc3(\0x.oast.pro\xff")),
        ["scanner.interactsh"]
    );
    assert!(ua(b"").is_empty());
    assert!(ua(b"\0\0\0").is_empty());
    for n in 0..=8 {
        let cut = &b"Teh Forest Lobster"[..n];
        assert!(ua(cut).is_empty());
    }
}

#[test]
fn odd_contexts() {
    let (tree, leaf) = build(r#"header["user-agent"]"#, b"sqlmap/1.0");
    for point in [NodeId(9999), NodeId::ROOT, NodeId(1)] {
        let ctx = DetectCtx {
            tree: &tree,
            point,
            source: Some(Source::Header),
            endpoint: b"",
            content_type: None,
        };
        let mut out = Vec::new();
        ScannerDetector.inspect(b"sqlmap/1.0", &ctx, &mut out);
        assert!(out.is_empty(), "point {point:?}");
    }
    // The right header but the wrong source: no tool names.
    let ctx = DetectCtx {
        tree: &tree,
        point: leaf,
        source: Some(Source::Query),
        endpoint: b"",
        content_type: None,
    };
    let mut out = Vec::new();
    ScannerDetector.inspect(b"sqlmap/1.0", &ctx, &mut out);
    assert!(out.is_empty());
}

#[test]
fn deep_layers_stop_the_walk() {
    let mut tree = Tree::new();
    let h = tree.push_node(
        NodeId::ROOT,
        Seg::Source(Source::Header),
        NodeKind::Container,
        (0, 0),
    );
    let (s, e) = tree.push_bytes(b"user-agent");
    let mut node = tree.push_node(h, Seg::Key { start: s, end: e }, NodeKind::Leaf, (0, 0));
    for _ in 0..10_000 {
        node = tree.push_node(node, Seg::Layer("base64"), NodeKind::Leaf, (0, 0));
    }
    let f = labelled("deep layers", || {
        inspect_at(&tree, node, b"sqlmap/1.0 a.oast.pro")
    });
    assert_eq!(rules(&f), ["scanner.interactsh"]);
    // A few layers deep is still the User-Agent.
    let f = inspect(r#"header["user-agent"]:base64:base64"#, b"Nikto/2.1.6");
    assert_eq!(rules(&f), ["scanner.nikto"]);
}

#[test]
fn header_names_ignore_case() {
    assert_eq!(
        rules(&inspect(r#"header["User-Agent"]"#, b"sqlmap/1")),
        ["scanner.sqlmap"]
    );
    let long = format!(r#"header["ACUNETIX-{}"]"#, "x".repeat(100));
    assert_eq!(rules(&inspect(&long, b"1")), ["scanner.acunetix"]);
    assert!(inspect(r#"header["acunetix-"]"#, b"1").is_empty());
    assert!(inspect(r#"header["acunetix"]"#, b"1").is_empty());
}
