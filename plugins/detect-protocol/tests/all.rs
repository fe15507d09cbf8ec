//! Table tests (`testdata/protocol.json`), configuration, exactly-once
//! behaviour, hostile inputs, and the corpus measurements (`corpus`
//! module: CRS 911/920/921 regression tests, benign requests and URIs).
//!
//! A table case lists the points of one request in `points`
//! (`[["method", "POST"], ["header[\"content-length\"]", "5"]]`); the
//! runner builds one tree holding all of them (adding `method` = `GET` and
//! `uri` = `/` when neither is given), runs the detector on every leaf as
//! the engine does, and compares the sorted rule names of all findings
//! with `findings` (so a request-level rule reported twice fails).

// The path parser of the table runner reports a malformed table by panicking.
#![allow(clippy::panic)]

#[path = "all/corpus.rs"]
mod corpus;
#[path = "all/ftw.rs"]
mod ftw;
#[path = "all/http.rs"]
mod http;

use rampart_detect_protocol::{register, PolicyConfig, ProtocolDetector};
use rampart_plugin_api::testing::load_table;
use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{
    Class, DetectCtx, Detector, Finding, NodeId, PluginConfig, Registry, Tree,
};

/// Appends a leaf at `path` (reusing the top-level source node).
pub fn add_point(tree: &mut Tree, path: &str, value: &[u8]) -> NodeId {
    let b = path.as_bytes();
    let mut i = b
        .iter()
        .position(|c| !c.is_ascii_lowercase())
        .unwrap_or(b.len());
    let source = Source::parse(&path[..i]).unwrap_or_else(|| panic!("bad source in {path}"));
    if i == b.len() {
        let span = tree.push_bytes(value);
        return tree.push_node(NodeId::ROOT, Seg::Source(source), NodeKind::Leaf, span);
    }
    let mut node = match tree.source(source) {
        Some(n) => n,
        None => tree.push_node(
            NodeId::ROOT,
            Seg::Source(source),
            NodeKind::Container,
            (0, 0),
        ),
    };
    while i < b.len() {
        let seg = match b[i] {
            b'.' => {
                let s = i + 1;
                i = s + b[s..]
                    .iter()
                    .position(|c| b".:[".contains(c))
                    .unwrap_or(b.len() - s);
                key(tree, &b[s..i])
            }
            b'[' if b.get(i + 1) == Some(&b'"') => {
                let s = i + 2;
                let e = s + b[s..]
                    .iter()
                    .position(|&c| c == b'"')
                    .expect("closing quote");
                i = e + 2;
                key(tree, &b[s..e])
            }
            b'[' => {
                let e = i + b[i..]
                    .iter()
                    .position(|&c| c == b']')
                    .expect("closing bracket");
                let n = path[i + 1..e].parse().expect("index");
                i = e + 1;
                Seg::Index(n)
            }
            b':' => {
                let s = i + 1;
                i = s + b[s..]
                    .iter()
                    .position(|c| b".:[".contains(c))
                    .unwrap_or(b.len() - s);
                Seg::Layer(layer(&path[s..i]))
            }
            _ => panic!("bad path {path}"),
        };
        node = tree.push_node(node, seg, NodeKind::Container, (0, 0));
    }
    let span = tree.push_bytes(value);
    tree.set_value(node, span);
    tree.set_kind(node, NodeKind::Leaf);
    node
}

fn key(tree: &mut Tree, name: &[u8]) -> Seg {
    let (start, end) = tree.push_bytes(name);
    Seg::Key { start, end }
}

fn layer(name: &str) -> &'static str {
    match name {
        "json" => "json",
        "base64" => "base64",
        "basic" => "basic",
        "url" => "url",
        other => panic!("unknown layer {other}"),
    }
}

/// Runs the detector on every leaf of the tree, as the engine does.
pub fn run_all(det: &ProtocolDetector, tree: &Tree) -> Vec<Finding> {
    let mut all = Vec::new();
    let mut out = Vec::new();
    for id in tree.leaves() {
        let value = tree.value(id);
        let ctx = DetectCtx {
            tree,
            point: id,
            source: tree.source_of(id),
            endpoint: b"/",
            content_type: None,
        };
        out.clear();
        det.inspect(value, &ctx, &mut out);
        for (i, f) in out.iter().enumerate() {
            assert_eq!(f.point, id);
            assert_eq!(f.class, Class::Protocol);
            assert!(f.rule.starts_with("protocol."), "{}", f.rule);
            assert!(f.span.start <= f.span.end && f.span.end as usize <= value.len());
            assert!(f.score > 0 && f.score <= 100);
            assert_eq!(f.origin, "protocol");
            assert!(out[..i].iter().all(|g| g.rule != f.rule), "rule twice");
        }
        all.append(&mut out);
    }
    all
}

/// The sum of the protocol scores of a request (what the engine compares
/// with the blocking threshold).
pub fn total(f: &[Finding]) -> u32 {
    f.iter().map(|f| u32::from(f.score)).sum()
}

pub fn rules(f: &[Finding]) -> Vec<String> {
    let mut v: Vec<String> = f.iter().map(|f| f.rule.to_string()).collect();
    v.sort();
    v
}

fn request(points: &[(&str, &[u8])]) -> Tree {
    let mut tree = Tree::new();
    if !points.iter().any(|(p, _)| *p == "method" || *p == "uri") {
        add_point(&mut tree, "method", b"GET");
        add_point(&mut tree, "uri", b"/");
    }
    for (p, v) in points {
        add_point(&mut tree, p, v);
    }
    tree
}

fn check(points: &[(&str, &[u8])]) -> Vec<Finding> {
    run_all(&ProtocolDetector::default(), &request(points))
}

#[test]
fn table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/protocol.json");
    let cases = load_table(path);
    assert!(cases.len() >= 100, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let pts: Vec<(&str, &[u8])> = case
            .points
            .iter()
            .map(|(p, v)| (p.as_str(), v.as_bytes()))
            .collect();
        let got = rules(&check(&pts));
        let mut want = case.findings.clone();
        want.sort();
        if got != want {
            failures.push(format!("{:?}: want {want:?} got {got:?}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn score_of(f: &[Finding], rule: &str) -> u8 {
    f.iter()
        .find(|f| f.rule == rule)
        .map(|f| f.score)
        .unwrap_or(0)
}

#[test]
fn scores() {
    let cl = "header[\"content-length\"]";
    let f = check(&[(cl, b"5"), (cl, b"6")]);
    assert_eq!(score_of(&f, "protocol.cl-duplicate"), 80);
    let f = check(&[(cl, b"5"), (cl, b" 5")]);
    assert_eq!(score_of(&f, "protocol.cl-duplicate"), 40);
    let f = check(&[(cl, b"5"), ("header[\"transfer-encoding\"]", b"chunked")]);
    assert_eq!(score_of(&f, "protocol.cl-te"), 70);
    let f = check(&[("header[\"x-a\"]", b"a\x01b")]);
    assert_eq!(score_of(&f, "protocol.header-control"), 30);
    let f = check(&[("header[\"x-a\"]", b"a\x01b\nc")]);
    assert_eq!(score_of(&f, "protocol.header-control"), 70);
    let f = check(&[("header[\"host\"]", "bücher.de".as_bytes())]);
    assert_eq!(score_of(&f, "protocol.host-invalid"), 30);
    let f = check(&[("method", b"FOO"), ("uri", b"/")]);
    assert_eq!(total(&f), 30);
    let f = check(&[("method", b"TRACE"), ("uri", b"/")]);
    assert_eq!(total(&f), 40);
    let ct = "header[\"content-type\"]";
    let f = check(&[(ct, b"application/x-www-form-urlencoded; boundary=abc")]);
    assert_eq!(score_of(&f, "protocol.content-type-confusion"), 30);
    let f = check(&[(ct, b"application/json"), (ct, b"application/json")]);
    assert_eq!(score_of(&f, "protocol.content-type-duplicate"), 20);
}

fn span_text(f: &[Finding], rule: &str, value: &[u8]) -> Vec<u8> {
    let f = f.iter().find(|f| f.rule == rule).expect(rule);
    value[f.span.start as usize..f.span.end as usize].to_vec()
}

#[test]
fn spans_cover_the_offending_part() {
    let v = b"Headerdata\rInjectedHeader: x";
    let f = check(&[("header[\"someheader\"]", v)]);
    assert_eq!(
        span_text(&f, "protocol.header-control", v),
        b"\rInjectedHeader: x"
    );
    let v = b"/index.php/PHP%0Ainfo.php?QQQ";
    let f = check(&[("method", b"GET"), ("uri", v)]);
    assert_eq!(span_text(&f, "protocol.path-control", v), b"%0A");
    let v = b"/page?x=1#frag";
    let f = check(&[("method", b"GET"), ("uri", v)]);
    assert_eq!(span_text(&f, "protocol.uri-fragment", v), b"#frag");
    let v = b"keep-alive,  X-Forwarded-For ";
    let f = check(&[("header[\"connection\"]", v)]);
    assert_eq!(
        span_text(&f, "protocol.connection-hop", v),
        b"X-Forwarded-For"
    );
    let v = b"admin@evil.example";
    let f = check(&[("header[\"host\"]", v)]);
    assert_eq!(span_text(&f, "protocol.host-invalid", v), b"@evil.example");
    let v = b"application/x-www-form-urlencoded;boundary=\"application/json\"";
    let f = check(&[("header[\"content-type\"]", v)]);
    assert_eq!(
        span_text(&f, "protocol.content-type-confusion", v),
        b"boundary=\"application/json\""
    );
    // Request-level findings sit on the method point with an empty span.
    let f = check(&[
        ("method", b"POST"),
        ("uri", b"/"),
        ("header[\"content-length\"]", b"1"),
        ("header[\"transfer-encoding\"]", b"chunked"),
    ]);
    let cl_te = f
        .iter()
        .find(|f| f.rule == "protocol.cl-te")
        .expect("cl-te");
    assert_eq!((cl_te.span.start, cl_te.span.end), (0, 0));
    assert_eq!(cl_te.point, NodeId(1));
}

#[test]
fn request_checks_run_once_with_many_headers() {
    let mut pts: Vec<(String, Vec<u8>)> = vec![
        ("method".into(), b"POST".to_vec()),
        ("uri".into(), b"/upload".to_vec()),
    ];
    for i in 0..50 {
        pts.push((format!("header[\"x-h{i}\"]"), b"v".to_vec()));
        pts.push((
            "header[\"content-length\"]".into(),
            format!("{i}").into_bytes(),
        ));
        pts.push(("header[\"host\"]".into(), b"example.com".to_vec()));
    }
    pts.push(("header[\"transfer-encoding\"]".into(), b"chunked".to_vec()));
    pts.push(("query.a".into(), b"1".to_vec()));
    let refs: Vec<(&str, &[u8])> = pts.iter().map(|(p, v)| (p.as_str(), &v[..])).collect();
    let got = rules(&check(&refs));
    assert_eq!(
        got,
        [
            "protocol.cl-duplicate",
            "protocol.cl-te",
            "protocol.host-duplicate"
        ]
    );
}

#[test]
fn without_a_method_point_the_uri_point_runs_request_checks() {
    let mut tree = Tree::new();
    add_point(&mut tree, "uri", b"/");
    add_point(&mut tree, "header[\"content-length\"]", b"1");
    add_point(&mut tree, "header[\"transfer-encoding\"]", b"chunked");
    let f = run_all(&ProtocolDetector::default(), &tree);
    assert_eq!(rules(&f), ["protocol.cl-te"]);
    // Without method and uri, nothing request-level is reported.
    let mut tree = Tree::new();
    add_point(&mut tree, "header[\"content-length\"]", b"1");
    add_point(&mut tree, "header[\"transfer-encoding\"]", b"chunked");
    assert!(run_all(&ProtocolDetector::default(), &tree).is_empty());
}

#[test]
fn only_header_points_themselves_are_checked() {
    let mut tree = request(&[("method", b"GET"), ("uri", b"/")]);
    // A decoded layer under a header, and values from other sources.
    add_point(
        &mut tree,
        "header[\"x-data\"]:base64",
        b"a\r\nSet-Cookie: x",
    );
    add_point(&mut tree, "query.q", b"a\r\nSet-Cookie: x");
    add_point(&mut tree, "cookie.c", b"\0");
    add_point(&mut tree, "body:json.host", b"user@evil");
    add_point(&mut tree, "header[\"authorization\"]:basic.user", b"x\ny");
    assert!(run_all(&ProtocolDetector::default(), &tree).is_empty());
    // A `header` key that is not under the top-level header source.
    add_point(&mut tree, "body:json[\"transfer-encoding\"]", b"xchunked");
    assert!(run_all(&ProtocolDetector::default(), &tree).is_empty());
}

#[test]
fn configuration() {
    let cfg = |pairs: &[(&str, &str)]| -> PluginConfig {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let mut d = ProtocolDetector::default();
    let err = d
        .configure(&cfg(&[("max_range", "3"), ("trace_score", "x")]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "protocol: unknown setting \"max_range\" (known: allowed_methods, extra_methods, \
         max_ranges, max_uri_length, trace_score, unknown_method_score); trace_score: \
         expected a whole number 0..=100, got \"x\""
    );
    let err = d
        .configure(&cfg(&[("allowed_methods", "GET, PO ST\"")]))
        .unwrap_err();
    assert!(
        err.to_string().contains("not a valid method token"),
        "{err}"
    );
    assert!(d.configure(&cfg(&[("max_ranges", "0")])).is_err());
    assert!(d.configure(&cfg(&[("allowed_methods", " , ")])).is_err());

    d.configure(&cfg(&[
        ("allowed_methods", "GET,POST HEAD"),
        ("max_ranges", "2"),
        ("max_uri_length", "100"),
    ]))
    .unwrap();
    assert_eq!(d.policy().max_ranges, 2);
    let with = |d: &ProtocolDetector, pts: &[(&str, &[u8])]| rules(&run_all(d, &request(pts)));
    assert!(with(&d, &[("method", b"HEAD"), ("uri", b"/")]).is_empty());
    assert_eq!(
        with(&d, &[("method", b"DELETE"), ("uri", b"/")]),
        ["protocol.method-disallowed"]
    );
    assert_eq!(
        with(&d, &[("method", b"TRACE"), ("uri", b"/")]),
        ["protocol.method-disallowed"]
    );
    assert_eq!(
        with(&d, &[("header[\"range\"]", b"bytes=0-1,2-3,4-5")]),
        ["protocol.range-many"]
    );
    let long = vec![b'a'; 101];
    assert_eq!(
        with(&d, &[("method", b"GET"), ("uri", &long)]),
        ["protocol.uri-long"]
    );

    let mut d = ProtocolDetector::default();
    d.configure(&cfg(&[
        ("extra_methods", "BAN"),
        ("trace_score", "0"),
        ("unknown_method_score", "50"),
    ]))
    .unwrap();
    assert!(with(&d, &[("method", b"BAN"), ("uri", b"/")]).is_empty());
    assert!(with(&d, &[("method", b"TRACE"), ("uri", b"/")]).is_empty());
    let f = run_all(&d, &request(&[("method", b"FOO"), ("uri", b"/")]));
    assert_eq!(total(&f), 50);
    // An empty configuration is the default policy.
    let mut d = ProtocolDetector::default();
    d.configure(&PluginConfig::new()).unwrap();
    assert_eq!(d.policy(), &PolicyConfig::default());
}

#[test]
fn registers_once() {
    let mut reg = Registry::new();
    register(&mut reg).expect("first registration");
    assert!(register(&mut reg).is_err());
    assert_eq!(reg.detectors().len(), 1);
    assert_eq!(reg.detectors()[0].info.name, "protocol");
    assert_eq!(ProtocolDetector::default().classes(), &[Class::Protocol]);
    let mut cfg = PluginConfig::new();
    cfg.insert("nope".into(), "1".into());
    assert!((reg.detectors()[0].factory)(&cfg).is_err());
    assert!((reg.detectors()[0].factory)(&PluginConfig::new()).is_ok());
}

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

#[test]
fn hostile_megabyte_values() {
    let units: [&[u8]; 10] = [
        b"%",
        b"%25",
        b"%2",
        b",",
        b"a,",
        b"0-1,",
        b";boundary=",
        b"\"\\",
        b"[",
        b"\r\n",
    ];
    let names = [
        "method",
        "uri",
        "header[\"host\"]",
        "header[\"range\"]",
        "header[\"connection\"]",
        "header[\"content-type\"]",
        "header[\"transfer-encoding\"]",
        "header[\"content-length\"]",
        "header[\"upgrade\"]",
        "header[\"expect\"]",
        "header[\"x-other\"]",
    ];
    for unit in units {
        let v = repeat(unit);
        for name in names {
            let f = complete("1 MB value", || check(&[(name, &v)]));
            assert!(f.len() <= 6, "{} findings for {unit:?} at {name}", f.len());
        }
    }
    let mut x: u32 = 0x1234_5678;
    let noise: Vec<u8> = (0..MB)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect();
    for name in names {
        complete("noise", || check(&[(name, &noise)]));
    }
}

#[test]
fn many_headers_stay_bounded() {
    let mut tree = Tree::new();
    add_point(&mut tree, "method", b"POST");
    add_point(&mut tree, "uri", b"http://a.example/");
    for _ in 0..10_000 {
        add_point(&mut tree, "header[\"content-length\"]", b"1");
        add_point(&mut tree, "header[\"host\"]", b"b.example");
    }
    let f = complete("20,000 headers", || {
        run_all(&ProtocolDetector::default(), &tree)
    });
    assert_eq!(
        rules(&f),
        [
            "protocol.cl-duplicate",
            "protocol.host-duplicate",
            "protocol.uri-host-mismatch"
        ]
    );
}

#[test]
fn odd_contexts() {
    let tree = request(&[
        ("method", b"G T"),
        ("uri", b"/a b"),
        ("header[\"host\"]", b"a@b"),
    ]);
    let d = ProtocolDetector::default();
    for point in [NodeId(99_999), NodeId::ROOT] {
        let ctx = DetectCtx {
            tree: &tree,
            point,
            source: None,
            endpoint: b"",
            content_type: None,
        };
        let mut out = Vec::new();
        d.inspect(b"G T", &ctx, &mut out);
        assert!(out.is_empty(), "point {point:?}");
    }
    // Findings are appended after earlier ones, which are kept.
    let ctx = DetectCtx {
        tree: &tree,
        point: NodeId(1),
        source: Some(Source::Method),
        endpoint: b"",
        content_type: None,
    };
    let earlier = Finding::new(
        NodeId(1),
        Class::Protocol,
        "protocol.method-invalid",
        1,
        "x",
    );
    let mut out = vec![earlier];
    d.inspect(b"G T", &ctx, &mut out);
    assert_eq!(out.len(), 2);
    // A value that is not the tree's (the engine always passes the node's
    // own): spans stay inside the value given.
    let mut out = Vec::new();
    d.inspect(b"", &ctx, &mut out);
    assert!(out.iter().all(|f| f.span.end == 0));
}
