//! Fuzzes the scanner detector: the first byte picks where the value sits
//! (a header, possibly under layers, or a query parameter), the second
//! byte's length picks the header name; the rest is the value. The detector
//! must never panic, report only `scanner.*` findings about the point it
//! was given with spans inside the value, and report each rule once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_detect_scanner::ScannerDetector;
use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{Class, DetectCtx, Detector, NodeId, Tree};

const HEADERS: [&[u8]; 6] = [
    b"user-agent",
    b"x-scanner",
    b"acunetix-product",
    b"x-wipp",
    b"referer",
    b"X-ZAP-Scan-ID",
];

fuzz_target!(|data: &[u8]| {
    let (sel, value) = match data.split_first() {
        Some((s, rest)) => (*s, rest),
        None => (0, data),
    };
    let mut tree = Tree::new();
    let mut node = if sel & 0x80 == 0 {
        let h = tree.push_node(
            NodeId::ROOT,
            Seg::Source(Source::Header),
            NodeKind::Container,
            (0, 0),
        );
        let (s, e) = tree.push_bytes(HEADERS[usize::from(sel & 0x7) % HEADERS.len()]);
        tree.push_node(
            h,
            Seg::Key { start: s, end: e },
            NodeKind::Container,
            (0, 0),
        )
    } else {
        let q = tree.push_node(
            NodeId::ROOT,
            Seg::Source(Source::Query),
            NodeKind::Container,
            (0, 0),
        );
        let (s, e) = tree.push_bytes(b"q");
        tree.push_node(
            q,
            Seg::Key { start: s, end: e },
            NodeKind::Container,
            (0, 0),
        )
    };
    for _ in 0..(sel >> 3) & 0x7 {
        node = tree.push_node(node, Seg::Layer("base64"), NodeKind::Container, (0, 0));
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
    ScannerDetector.inspect(tree.value(node), &ctx, &mut out);
    for (i, f) in out.iter().enumerate() {
        assert_eq!(f.point, node);
        assert_eq!(f.class, Class::Scanner);
        assert!(f.rule.starts_with("scanner."));
        assert!(f.span.start <= f.span.end && f.span.end as usize <= value.len());
        assert!(
            out[..i].iter().all(|g| g.rule != f.rule),
            "rule reported twice"
        );
    }
    if sel & 0x80 != 0 {
        // Outside headers only callback domains count.
        assert!(out.iter().all(|f| f.score == 80));
    }
});
