//! Fuzzes the SQL injection detector: the first byte picks where the value
//! sits (a query parameter, a header, or a JSON value under layers); the
//! rest is the value. The detector must never panic, report only `sqli.*`
//! findings about the point it was given with spans inside the value, each
//! rule once, at most three findings, and never weak findings beside a
//! blocking one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_detect_sqli::{SqliDetector, MAX_FINDINGS};
use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{Class, DetectCtx, Detector, NodeId, Tree};

fuzz_target!(|data: &[u8]| {
    let (sel, value) = match data.split_first() {
        Some((s, rest)) => (*s, rest),
        None => (0, data),
    };
    let source = match sel & 0x3 {
        0 => Source::Query,
        1 => Source::Header,
        2 => Source::Body,
        _ => Source::Cookie,
    };
    let mut tree = Tree::new();
    let src = tree.push_node(NodeId::ROOT, Seg::Source(source), NodeKind::Container, (0, 0));
    let (s, e) = tree.push_bytes(b"q");
    let mut node = tree.push_node(src, Seg::Key { start: s, end: e }, NodeKind::Container, (0, 0));
    for _ in 0..(sel >> 2) & 0x3 {
        node = tree.push_node(node, Seg::Layer("json"), NodeKind::Container, (0, 0));
    }
    let span = tree.push_bytes(value);
    tree.set_value(node, span);
    tree.set_kind(node, NodeKind::Leaf);
    let ctx = DetectCtx {
        tree: &tree,
        point: node,
        source: tree.source_of(node),
        endpoint: b"/",
        content_type: None,
    };
    let mut out = Vec::new();
    SqliDetector.inspect(tree.value(node), &ctx, &mut out);
    assert!(out.len() <= MAX_FINDINGS);
    for (i, f) in out.iter().enumerate() {
        assert_eq!(f.point, node);
        assert_eq!(f.class, Class::Sqli);
        assert!(f.rule.starts_with("sqli."));
        assert!(f.span.start <= f.span.end && f.span.end as usize <= value.len());
        assert!(out[..i].iter().all(|g| g.rule != f.rule), "rule reported twice");
        if out.len() > 1 {
            assert!(f.score >= 50, "a weak finding beside a blocking one");
        }
    }
});
