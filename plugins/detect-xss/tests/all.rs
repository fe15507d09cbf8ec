//! Table tests (`testdata/xss.json`) and hostile inputs for the XSS
//! detector.
//!
//! A table case names one request point and its value in `points`
//! (`[["query.q", "<svg onload=alert(1)>"]]`) and the exact set of rules
//! the detector must report for it in `findings`. A case named
//! `attack: ...` must also score 50 or more (block on its own), one named
//! `benign: ...` less than 50.

// The path parser of the table runner reports a malformed table by panicking.
#![allow(clippy::panic)]

use rampart_detect_xss::{register, XssDetector};
use rampart_plugin_api::testing::load_table;
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
    XssDetector.inspect(value, &ctx, &mut out);
    for (i, f) in out.iter().enumerate() {
        assert_eq!(f.point, point);
        assert_eq!(f.class, Class::Xss);
        assert!(f.rule.starts_with("xss."), "{}", f.rule);
        assert!(f.span.start <= f.span.end && f.span.end as usize <= value.len());
        assert!((20..=100).contains(&f.score), "score {}", f.score);
        assert_eq!(f.origin, "xss");
        assert!(
            out[..i].iter().all(|g| g.rule != f.rule),
            "rule {} reported twice",
            f.rule
        );
    }
    assert!(out.len() <= 11);
    out
}

fn inspect(path: &str, value: &[u8]) -> Vec<Finding> {
    let (tree, leaf) = build(path, value);
    inspect_at(&tree, leaf, value)
}

fn q(value: &[u8]) -> Vec<Finding> {
    inspect("query.q", value)
}

fn rules(f: &[Finding]) -> Vec<String> {
    let mut v: Vec<String> = f.iter().map(|f| f.rule.to_string()).collect();
    v.sort();
    v
}

fn max_score(f: &[Finding]) -> u8 {
    f.iter().map(|f| f.score).max().unwrap_or(0)
}

fn spanned<'a>(f: &[Finding], rule: &str, value: &'a [u8]) -> &'a [u8] {
    let f = f
        .iter()
        .find(|f| f.rule == rule)
        .unwrap_or_else(|| panic!("no {rule}"));
    &value[f.span.start as usize..f.span.end as usize]
}

#[test]
fn table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/xss.json");
    let cases = load_table(path);
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        assert_eq!(case.points.len(), 1, "case {:?}: one point", case.name);
        let (p, value) = &case.points[0];
        let found = inspect(p, value.as_bytes());
        let got = rules(&found);
        let mut want = case.findings.clone();
        want.sort();
        if got != want {
            failures.push(format!("{:?} at {p}: want {want:?} got {got:?}", case.name));
        }
        let score = max_score(&found);
        if case.name.starts_with("attack") && score < 50 {
            failures.push(format!("{:?}: attack scored {score}", case.name));
        }
        if case.name.starts_with("benign") && score >= 50 {
            failures.push(format!("{:?}: benign scored {score}", case.name));
        }
        if !case.name.starts_with("attack") && !case.name.starts_with("benign") {
            failures.push(format!("{:?}: name must say attack or benign", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn spans_cover_the_malicious_part() {
    let v = b"hello <img src=x onerror=alert(1)> world";
    let f = q(v);
    assert_eq!(spanned(&f, "xss.event-handler", v), b"onerror=alert(1)");

    let v = b"text <script>alert(1)</script> more";
    let f = q(v);
    assert_eq!(spanned(&f, "xss.script-tag", v), b"alert(1)");
    assert_eq!(spanned(&f, "xss.script-close", v), b"</script>");

    let v = b"<a href='javascript:alert(1)'>x</a>";
    let f = q(v);
    assert_eq!(spanned(&f, "xss.js-url", v), b"href='javascript:alert(1)'");

    let v = b"abc';alert(document.domain)//";
    let f = q(v);
    assert_eq!(
        spanned(&f, "xss.js-breakout", v),
        b"';alert(document.domain)"
    );

    let v = b"x {{constructor.constructor('alert(1)')()}} y";
    let f = q(v);
    let s = spanned(&f, "xss.template-injection", v);
    assert!(
        s.starts_with(b"{{constructor"),
        "{:?}",
        String::from_utf8_lossy(s)
    );

    // A hit in a decoded attribute value points at the attribute.
    let v = b"<iframe srcdoc=\"&lt;img src=x onerror=alert(1)&gt;\">";
    let f = q(v);
    assert_eq!(
        spanned(&f, "xss.event-handler", v),
        &b"srcdoc=\"&lt;img src=x onerror=alert(1)&gt;\""[..]
    );

    // A hit in a comment body points into the value.
    let v = b"<!--[if IE]><img src=x onerror=alert(1)><![endif]-->";
    let f = q(v);
    assert_eq!(spanned(&f, "xss.event-handler", v), b"onerror=alert(1)");
}

#[test]
fn scores_by_context() {
    // The same handler weighs more in a tag than after a quote break,
    // more there than as a bare attribute list.
    let tag = max_score(&q(b"<b onclick=foo(1)>"));
    let quote = max_score(&q(b"x\" onclick=foo(1) y=\""));
    let bare = max_score(&q(b"x onclick=foo(1)"));
    assert!(tag > quote && quote > bare, "{tag} {quote} {bare}");
    assert!(tag >= 50 && quote >= 50 && bare < 50);
    // With a sink all block.
    assert!(max_score(&q(b"x onclick=alert(1)")) >= 50);
}

#[test]
fn appends_to_existing_findings() {
    let (tree, leaf) = build("query.q", b"<svg onload=alert(1)>");
    let ctx = DetectCtx {
        tree: &tree,
        point: leaf,
        source: Some(Source::Query),
        endpoint: b"/",
        content_type: None,
    };
    let earlier = Finding::new(leaf, Class::Xss, "xss.event-handler", 1, "earlier");
    let mut out = vec![earlier];
    XssDetector.inspect(b"<svg onload=alert(1)>", &ctx, &mut out);
    assert!(out.len() >= 2, "earlier findings are kept");
    assert_eq!(out[0].score, 1);
}

#[test]
fn registers_once() {
    let mut reg = Registry::new();
    register(&mut reg).expect("first registration");
    assert!(register(&mut reg).is_err());
    assert_eq!(reg.detectors().len(), 1);
    assert_eq!(reg.detectors()[0].info.name, "xss");
    assert_eq!(XssDetector.classes(), &[Class::Xss]);
}

#[test]
fn the_point_is_the_one_given() {
    let (tree, _) = build("query.q", b"x");
    for point in [NodeId(9999), NodeId::ROOT, NodeId(1)] {
        let ctx = DetectCtx {
            tree: &tree,
            point,
            source: None,
            endpoint: b"",
            content_type: None,
        };
        let mut out = Vec::new();
        XssDetector.inspect(b"<script>alert(1)</script>", &ctx, &mut out);
        assert!(!out.is_empty());
        assert!(out.iter().all(|f| f.point == point));
    }
}

const MB: usize = 1 << 20;

fn repeat(unit: &[u8]) -> Vec<u8> {
    unit.iter().copied().cycle().take(MB).collect()
}

#[test]
fn hostile_megabyte_values() {
    let units: [&[u8]; 32] = [
        b"<",
        b"<a ",
        b"<a onload=",
        b"<a onload=alert(1) ",
        b"<svg><style>",
        b"<!--",
        b"<!",
        b"<?",
        b"</",
        b"'",
        b"\"",
        b"`",
        b"${",
        b"{{",
        b"((((",
        b"[[[[",
        b"))))",
        b"javascript:",
        b"java\tscript:alert(",
        b"&#",
        b"&#x41",
        b"\\",
        b"+ADw-",
        b"\xbc",
        "＜".as_bytes(),
        b"a=",
        b"onload=",
        b"/*",
        b" style=x:expression(",
        b"data:text/html,",
        b"\0",
        b"x",
    ];
    // Each completes with a bounded report (`inspect_at` checks spans,
    // scores and at most one finding per rule); their time is measured by
    // the `hostile` cases of `benches/xss.rs`, not asserted here.
    for unit in units {
        let v = repeat(unit);
        let f = q(&v);
        assert!(f.len() <= 11);
    }
    // Nested attribute values and comments.
    let mut nested = Vec::new();
    for _ in 0..20_000 {
        nested.extend_from_slice(b"<a title=\"&lt;a title=&quot;&amp;lt;b ");
    }
    assert!(q(&nested).len() <= 11);
    let deep_js: Vec<u8> = b"';"
        .iter()
        .chain(b"(".repeat(100_000).iter())
        .chain(b"alert(1)")
        .copied()
        .collect();
    // Past the bracket cap the scan stops (a documented cap).
    assert!(q(&deep_js).len() <= 11);
    let deep_tpl = b"`${".repeat(100_000);
    assert!(q(&deep_tpl).len() <= 11);
    // Pseudo-random bytes.
    let mut x: u32 = 0x1234_5678;
    let noise: Vec<u8> = (0..MB)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect();
    assert!(q(&noise).len() <= 11);
    // Noise drawn from the bytes that matter.
    let alphabet = b"<>/=\"' \t\nonloadscript:javascript()[]{}`$&#;!-?\\+x";
    let sym: Vec<u8> = (0..MB)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            alphabet[(x >> 24) as usize % alphabet.len()]
        })
        .collect();
    assert!(q(&sym).len() <= 11);
}

#[test]
fn padding_puts_the_payload_out_of_reach_only_in_the_middle() {
    // A payload after 128 KiB of padding is in the inspected tail.
    let mut v = vec![b'A'; 128 * 1024];
    v.extend_from_slice(b";<script>alert(1);</script>");
    assert!(max_score(&q(&v)) >= 50);
    // Before the padding: the inspected head.
    let mut v = b"<svg onload=alert(1)>".to_vec();
    v.extend(std::iter::repeat_n(b'A', 300 * 1024));
    assert!(max_score(&q(&v)) >= 50);
    // In the middle of a value over 128 KiB it is not inspected (a
    // documented cap).
    let mut v = vec![b'A'; 100 * 1024];
    v.extend_from_slice(b"<svg onload=alert(1)>");
    v.extend(std::iter::repeat_n(b'A', 100 * 1024));
    assert!(q(&v).is_empty());
}

#[test]
fn invalid_utf8_and_nul() {
    assert!(max_score(&q(b"\xff<svg onload=alert(1)>\xfe")) >= 50);
    assert!(max_score(&q(b"<img src=x onerror=\"\xff;alert(1)\">")) >= 50);
    assert!(max_score(&q(b"<scr\0ipt>alert(1)</script>")) >= 50);
    assert!(max_score(&q(b"<a href=\"java\0script:alert(1)\">")) >= 50);
    assert!(max_score(&q(b"\0\0\0")) < 50);
    assert!(q(b"").is_empty());
    assert!(q(b"\xc3(\xa0\xa1\xe2\x28\xa1").is_empty());
    // Cut payloads do not panic.
    let p = b"<svg/onload=alert(document.domain)>\"><script>alert(1)</script>{{constructor.constructor('x')()}}";
    for n in 0..p.len() {
        let _ = q(&p[..n]);
        let _ = q(&p[n..]);
    }
}

/// Inspects `decoded` as the `html` layer decoded from `raw`.
fn html_layer(raw: &[u8], decoded: &[u8]) -> Vec<Finding> {
    let (mut tree, leaf) = build("body:json.comment", raw);
    let child = tree.push_node(leaf, Seg::Layer("html"), NodeKind::Leaf, (0, 0));
    let span = tree.push_bytes(decoded);
    tree.set_value(child, span);
    inspect_at(&tree, child, decoded)
}

#[test]
fn html_layer_of_markup_is_capped() {
    // Escaped code in rich text: text to a browser.
    let f = html_layer(
        b"<p>Use <code>&lt;script&gt;alert(1)&lt;/script&gt;</code></p>",
        b"<p>Use <code><script>alert(1)</script></code></p>",
    );
    assert!(!f.is_empty() && max_score(&f) <= 40, "{f:?}");
    // An entity-encoded payload on its own still blocks.
    let f = html_layer(
        b"&lt;svg/onload&equals;alert(1)&gt;",
        b"<svg/onload=alert(1)>",
    );
    assert!(max_score(&f) >= 50);
    // The raw markup itself is judged on its own (attribute values
    // decoded by the detector).
    assert!(max_score(&q(b"<p><a href=\"&#106;avascript:alert(1)\">x</a></p>")) >= 50);
}
