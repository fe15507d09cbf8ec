//! Fuzzes the XSS detector: the first byte picks where the value sits (a
//! query parameter, a header, a JSON body member) and how many decoding
//! layers are above it; the rest is the value. The detector must never
//! panic, report only `xss.*` findings about the point it was given with
//! spans inside the value and scores in 20..=100, report each rule once,
//! agree with `score`, and give the same answer twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_detect_xss::{score, XssDetector};
use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{Class, DetectCtx, Detector, NodeId, Tree};

const SOURCES: [Source; 3] = [Source::Query, Source::Header, Source::Body];

fuzz_target!(|data: &[u8]| {
    let (sel, value) = match data.split_first() {
        Some((s, rest)) => (*s, rest),
        None => (0, data),
    };
    let mut tree = Tree::new();
    let src = tree.push_node(
        NodeId::ROOT,
        Seg::Source(SOURCES[usize::from(sel & 0x3) % SOURCES.len()]),
        NodeKind::Container,
        (0, 0),
    );
    let (s, e) = tree.push_bytes(b"q");
    let mut node = tree.push_node(src, Seg::Key { start: s, end: e }, NodeKind::Container, (0, 0));
    for _ in 0..(sel >> 2) & 0x3 {
        node = tree.push_node(node, Seg::Layer("html"), NodeKind::Container, (0, 0));
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
    XssDetector.inspect(tree.value(node), &ctx, &mut out);
    for (i, f) in out.iter().enumerate() {
        assert_eq!(f.point, node);
        assert_eq!(f.class, Class::Xss);
        assert!(f.rule.starts_with("xss."));
        assert!(f.span.start <= f.span.end && f.span.end as usize <= value.len());
        assert!((20..=100).contains(&f.score));
        assert!(out[..i].iter().all(|g| g.rule != f.rule), "rule reported twice");
    }
    let best = out.iter().map(|f| f.score).max().unwrap_or(0);
    let s = score(value);
    assert!(s == best || (s < 20 && best == 0), "score {s} vs findings {best}");
    let mut again = Vec::new();
    XssDetector.inspect(value, &ctx, &mut again);
    assert_eq!(out, again, "not deterministic");
});
