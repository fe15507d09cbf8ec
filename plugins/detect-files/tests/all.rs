//! Table tests (`testdata/{traversal,rfi,ssrf}.json`), spans, registration
//! and hostile inputs for the three detectors.
//!
//! A table case names one request point and its value in `points`
//! (`[["query.file", "../../etc/passwd"]]`) and the rules the three
//! detectors report for it in `findings`: `rule` for a finding scoring 50
//! or more (enough to block alone), `rule?` for a weaker one. Every
//! finding must be listed.

mod common;

use common::{add_path, build, inspect_at};
use rampart_detect_files::{register, RfiDetector, SsrfDetector, TraversalDetector};
use rampart_plugin_api::testing::load_table;
use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, NodeId, Registry, Tree};

fn inspect(path: &str, value: &[u8]) -> Vec<Finding> {
    let (tree, leaf) = build(path, value);
    inspect_at(&tree, leaf, value)
}

fn labels(f: &[Finding]) -> Vec<String> {
    let mut v: Vec<String> = f
        .iter()
        .map(|f| {
            if f.score >= 50 {
                f.rule.to_string()
            } else {
                format!("{}?", f.rule)
            }
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

fn run_table(file: &str, min_cases: usize) {
    let path = format!("{}/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
    let cases = load_table(&path);
    assert!(
        cases.len() >= min_cases,
        "{file}: only {} cases",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let mut tree = Tree::new();
        let mut got = Vec::new();
        let leaves: Vec<(NodeId, Vec<u8>)> = case
            .points
            .iter()
            .map(|(p, v)| (add_path(&mut tree, p, v.as_bytes()), v.as_bytes().to_vec()))
            .collect();
        for (leaf, v) in &leaves {
            got.extend(inspect_at(&tree, *leaf, v));
        }
        let got = labels(&got);
        let mut want = case.findings.clone();
        want.sort();
        want.dedup();
        if got != want {
            failures.push(format!(
                "{:?} {:?}: want {want:?} got {got:?}",
                case.name, case.points
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{file}: {} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn traversal_table() {
    run_table("traversal.json", 90);
}

#[test]
fn rfi_table() {
    run_table("rfi.json", 25);
}

#[test]
fn ssrf_table() {
    run_table("ssrf.json", 90);
}

fn span_text<'a>(v: &'a [u8], f: &Finding) -> &'a [u8] {
    &v[f.span.start as usize..f.span.end as usize]
}

#[test]
fn spans_cover_the_evidence() {
    let v = b"see ../../../etc/passwd now";
    let f = inspect("query.q", v);
    let s = f
        .iter()
        .find(|f| f.rule == "traversal.sensitive-file")
        .unwrap();
    assert_eq!(span_text(v, s), b"../../../etc/passwd");
    let d = f.iter().find(|f| f.rule == "traversal.dot-dot").unwrap();
    assert_eq!(span_text(v, d), b"../../../etc/passwd");

    let v = b"x=1 php://filter/resource=index.php";
    let f = inspect("query.q", v);
    let w = f.iter().find(|f| f.rule == "traversal.wrapper").unwrap();
    assert_eq!(span_text(v, w), b"php://");

    let v = b"go to http://user@169.254.169.254/latest now";
    let f = inspect("query.q", v);
    let m = f.iter().find(|f| f.rule == "ssrf.metadata").unwrap();
    assert_eq!(span_text(v, m), b"169.254.169.254");

    let v = b"  http://1.2.3.4/shell.php?  ";
    let f = inspect("query.x", v);
    let r = f.iter().find(|f| f.rule == "rfi.script-url").unwrap();
    assert_eq!(span_text(v, r), b"http://1.2.3.4/shell.php?");

    // A finding about the point's key has an empty span.
    let f = inspect(r#"body:json["php://input"]"#, b"hello");
    assert_eq!((f[0].span.start, f[0].span.end), (0, 0));
}

#[test]
fn scores_and_classes() {
    for f in inspect("query.file", b"../../../etc/passwd") {
        assert_eq!(f.class, Class::Traversal);
        assert_eq!(f.origin, "traversal");
        assert!(f.rule.starts_with("traversal."));
    }
    let f = inspect("query.page", b"http://evil.example/x.txt?");
    assert!(f.iter().all(|f| f.class == Class::Rfi && f.origin == "rfi"));
    let f = inspect("query.u", b"http://169.254.169.254/");
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].class, f[0].score, f[0].origin),
        (Class::Ssrf, 90, "ssrf")
    );
    // Classic traversal to a secret is confident on its own.
    let f = inspect("query.q", b"../../../etc/shadow");
    assert!(f.iter().any(|f| f.score >= 80));
    // One level of `../` alone is only suspicious.
    let f = inspect("query.q", b"../x");
    assert!(f.iter().all(|f| f.score < 50), "{f:?}");
}

#[test]
fn one_finding_per_rule_per_value() {
    let v = b"../../etc/passwd ../../../etc/shadow ..\\..\\boot.ini php://input php://filter";
    let f = inspect("query.q", v);
    let mut rules: Vec<_> = f.iter().map(|f| f.rule.to_string()).collect();
    let n = rules.len();
    rules.sort();
    rules.dedup();
    assert_eq!(n, rules.len(), "{rules:?}");
    let v = b"http://127.0.0.1/ http://10.0.0.1/ http://[::1]/ gopher://a/ dict://b/";
    let f = inspect("query.q", v);
    let mut rules: Vec<_> = f.iter().map(|f| f.rule.to_string()).collect();
    let n = rules.len();
    rules.sort();
    rules.dedup();
    assert_eq!(n, rules.len(), "{rules:?}");
}

#[test]
fn raw_uri_is_not_read() {
    // Seen again, decoded, in the path and the query.
    assert!(inspect("uri", b"/a?file=../../../etc/passwd").is_empty());
    assert!(inspect("uri", b"/a?u=http://169.254.169.254/").is_empty());
}

#[test]
fn appends_to_existing_findings() {
    let (tree, leaf) = build("query.q", b"../../../etc/passwd");
    let ctx = DetectCtx {
        tree: &tree,
        point: leaf,
        source: Some(Source::Query),
        endpoint: b"/",
        content_type: None,
    };
    let earlier = Finding::new(leaf, Class::Traversal, "traversal.dot-dot", 1, "earlier");
    let mut out = vec![earlier];
    TraversalDetector.inspect(b"../../../etc/passwd", &ctx, &mut out);
    assert!(out.len() >= 3, "earlier findings are kept");
}

#[test]
fn registers_once() {
    let mut reg = Registry::new();
    register(&mut reg).expect("first registration");
    assert!(register(&mut reg).is_err());
    let names: Vec<_> = reg.detectors().iter().map(|e| e.info.name).collect();
    assert_eq!(names, ["traversal", "rfi", "ssrf"]);
    assert_eq!(TraversalDetector.classes(), &[Class::Traversal]);
    assert_eq!(RfiDetector.classes(), &[Class::Rfi]);
    assert_eq!(SsrfDetector.classes(), &[Class::Ssrf]);
    let mut d = TraversalDetector;
    assert!(d.configure(&Default::default()).is_ok());
    let mut cfg = rampart_plugin_api::PluginConfig::new();
    cfg.insert("x".into(), "1".into());
    assert!(d.configure(&cfg).is_err());
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
    let units: [&[u8]; 24] = [
        b"../",
        b"..\\",
        b"/",
        b"\\",
        b".",
        b"....//",
        b"..;/",
        b"%2e%2e%2f",
        b"0x2e",
        "\u{ff0e}\u{ff0f}".as_bytes(),
        b"a/",
        b"http://",
        b"http://a@",
        b"http:",
        b":",
        b"@",
        b"[",
        b"\\\\a\\",
        b"1.",
        b"0x",
        b"php://",
        b"data:",
        b"\0",
        b"x",
    ];
    for unit in units {
        let v = repeat(unit);
        for path in [
            "query.q",
            "path",
            r#"body:multipart.f["@filename"]"#,
            "query.url",
        ] {
            let f = complete("1 MB value", || inspect(path, &v));
            assert!(f.len() <= 12, "{} findings for {:?}", f.len(), unit);
        }
    }
    // One path of a megabyte ending in a secret: beyond the cap.
    let mut v = repeat(b"a/");
    v.extend_from_slice(b"../../../../etc/passwd");
    complete("long path", || inspect("query.q", &v));
    // Pseudo-random bytes.
    let mut x: u32 = 0x1234_5678;
    let noise: Vec<u8> = (0..MB)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect();
    complete("noise", || inspect("query.q", &noise));
    // Pseudo-random path characters.
    let alphabet = b"./\\:@%2e0x[]?#;";
    let chars: Vec<u8> = (0..MB)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            alphabet[(x >> 24) as usize % alphabet.len()]
        })
        .collect();
    complete("path noise", || inspect("query.url", &chars));
}

#[test]
fn invalid_utf8_and_nul() {
    let f = inspect("query.q", b"\xff../../../etc/passwd\xfe");
    assert!(f.iter().any(|f| f.rule == "traversal.sensitive-file"));
    let f = inspect("query.q", b"http://\xff\xfe127.0.0.1/");
    assert!(f.iter().all(|f| f.span.end as usize <= 20));
    for v in [
        &b""[..],
        b"\0",
        b"\0\0\0",
        b"\xc0",
        b"\xe2\x88",
        b"%",
        b"%u",
        b"0x",
        b"\\\\",
    ] {
        let _ = inspect("query.q", v);
        let _ = inspect("path", v);
    }
    // Truncated multi-byte characters at every cut.
    let s = "\u{ff0e}\u{ff0e}\u{ff0f}\u{2460}\u{3002}".as_bytes();
    for n in 0..=s.len() {
        let _ = inspect("query.url", &s[..n]);
    }
}

#[test]
fn odd_contexts() {
    let (tree, _) = build("query.q", b"../../../etc/passwd");
    for point in [NodeId(9999), NodeId::ROOT, NodeId(1)] {
        let ctx = DetectCtx {
            tree: &tree,
            point,
            source: None,
            endpoint: b"",
            content_type: None,
        };
        let mut out = Vec::new();
        TraversalDetector.inspect(b"../../../etc/passwd", &ctx, &mut out);
        RfiDetector.inspect(b"http://1.2.3.4/a.php?", &ctx, &mut out);
        SsrfDetector.inspect(b"http://127.0.0.1/", &ctx, &mut out);
        assert!(out.iter().all(|f| f.point == point));
    }
}

#[test]
fn deep_layers_stop_the_walk() {
    let mut tree = Tree::new();
    let q = tree.push_node(
        NodeId::ROOT,
        Seg::Source(Source::Query),
        NodeKind::Container,
        (0, 0),
    );
    let (s, e) = tree.push_bytes(b"page");
    let mut node = tree.push_node(q, Seg::Key { start: s, end: e }, NodeKind::Leaf, (0, 0));
    for _ in 0..10_000 {
        node = tree.push_node(node, Seg::Layer("base64"), NodeKind::Leaf, (0, 0));
    }
    let f = complete("deep layers", || {
        inspect_at(&tree, node, b"http://evil.example/x")
    });
    // The name is too far up to be found: no include bonus.
    assert!(f.iter().all(|f| f.rule != "rfi.include-param"));
    // A few layers deep is still the parameter.
    let f = inspect("query.page:base64:url", b"http://evil.example/x");
    assert!(f.iter().any(|f| f.rule == "rfi.include-param"));
}

#[test]
fn browser_requests_are_quiet() {
    let ua = b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36".to_vec();
    let headers: Vec<(String, Vec<u8>)> = vec![
        ("Host".into(), b"localhost:8080".to_vec()),
        ("User-Agent".into(), ua),
        ("Accept".into(), b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8".to_vec()),
        ("Accept-Language".into(), b"en-GB,en;q=0.9,fr;q=0.8".to_vec()),
        ("Accept-Encoding".into(), b"gzip, deflate, br".to_vec()),
        ("Referer".into(), b"http://localhost:8080/app/../app/orders?page=2".to_vec()),
        ("Origin".into(), b"http://127.0.0.1:8080".to_vec()),
        ("X-Forwarded-For".into(), b"10.0.0.7, 192.168.1.20".to_vec()),
        ("Cookie".into(), b"_ga=GA1.2.1234567.1700000000; session=eyJhbGciOiJIUzI1NiJ9.e30.abc; theme=dark; path=/".to_vec()),
        ("If-None-Match".into(), b"W/\"5e-1a2b3c\"".to_vec()),
        ("Content-Type".into(), b"application/x-www-form-urlencoded".to_vec()),
    ];
    let req = common::Req {
        method: "POST".into(),
        uri: b"/shop/items/../cart?sort=price&dir=asc&next=%2Faccount%2Forders&img=https%3A%2F%2Fcdn.example.com%2Fa.png".to_vec(),
        headers,
        body: b"name=Se%C3%A1n+O%27Brien&address=221B+Baker+Street%2C+London&comment=Great+service%21+See+..%2Fdocs+for+details...&website=https%3A%2F%2Fjanedoe.dev".to_vec(),
    };
    let (sums, rules) = common::score_request(&req);
    // Only the `../docs` of the comment is (weakly) noted.
    assert!(sums.iter().all(|&s| s <= 20), "{sums:?} {rules:?}");
}
