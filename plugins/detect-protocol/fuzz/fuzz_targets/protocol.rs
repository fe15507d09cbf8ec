//! Fuzzes the protocol detector with whole requests: the input is read as
//! a request head (`METHOD TARGET` then `name:value` lines, split on LF);
//! the first byte also picks a policy (default, or a small
//! `allowed_methods` / `max_ranges` one). Every leaf is inspected as the
//! engine does. The detector must never panic, report only `protocol.*`
//! findings about the point it was given with spans inside the value, each
//! rule at most once per call, and the request-level rules at most once
//! per request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_detect_protocol::ProtocolDetector;
use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{Class, DetectCtx, Detector, NodeId, PluginConfig, Tree};

const REQUEST_LEVEL: [&str; 5] = [
    "protocol.cl-te",
    "protocol.cl-duplicate",
    "protocol.te-duplicate",
    "protocol.host-duplicate",
    "protocol.content-type-duplicate",
];

fn leaf(tree: &mut Tree, src: Source, value: &[u8]) {
    let span = tree.push_bytes(value);
    tree.push_node(NodeId::ROOT, Seg::Source(src), NodeKind::Leaf, span);
}

fuzz_target!(|data: &[u8]| {
    let mut det = ProtocolDetector::default();
    if data.first().is_some_and(|b| b & 1 == 1) {
        let mut cfg = PluginConfig::new();
        cfg.insert("allowed_methods".into(), "GET POST".into());
        cfg.insert("max_ranges".into(), "2".into());
        cfg.insert("max_uri_length".into(), "64".into());
        det.configure(&cfg).expect("valid config");
    }
    let mut lines = data.split(|&b| b == b'\n');
    let first = lines.next().unwrap_or_default();
    let sp = first.iter().position(|&b| b == b' ').unwrap_or(first.len());
    let mut tree = Tree::new();
    leaf(&mut tree, Source::Method, &first[..sp]);
    leaf(&mut tree, Source::Uri, first.get(sp + 1..).unwrap_or_default());
    let hdr = tree.push_node(
        NodeId::ROOT,
        Seg::Source(Source::Header),
        NodeKind::Container,
        (0, 0),
    );
    for l in lines.take(200) {
        let colon = l.iter().position(|&b| b == b':').unwrap_or(l.len());
        let mut name = l[..colon].to_vec();
        name.make_ascii_lowercase();
        let (s, e) = tree.push_bytes(&name);
        let v = tree.push_bytes(l.get(colon + 1..).unwrap_or_default());
        let h = tree.push_node(hdr, Seg::Key { start: s, end: e }, NodeKind::Leaf, v);
        if name.first() == Some(&b'x') {
            // A decoded layer under a header: never inspected as a header.
            let v = tree.push_bytes(l);
            tree.push_node(h, Seg::Layer("base64"), NodeKind::Leaf, v);
        }
    }
    let mut all = Vec::new();
    let leaves: Vec<NodeId> = tree.leaves().collect();
    for id in leaves {
        let value = tree.value(id);
        let ctx = DetectCtx {
            tree: &tree,
            point: id,
            source: tree.source_of(id),
            endpoint: b"/",
            content_type: None,
        };
        let mut out = Vec::new();
        det.inspect(value, &ctx, &mut out);
        for (i, f) in out.iter().enumerate() {
            assert_eq!(f.point, id);
            assert_eq!(f.class, Class::Protocol);
            assert!(f.rule.starts_with("protocol."));
            assert!(f.score > 0 && f.score <= 100);
            assert!(f.span.start <= f.span.end && f.span.end as usize <= value.len());
            assert!(out[..i].iter().all(|g| g.rule != f.rule), "rule reported twice");
        }
        if matches!(tree.node(id).seg, Seg::Layer(_)) {
            assert!(out.is_empty(), "a layer point was inspected as a header");
        }
        all.extend(out);
    }
    for r in REQUEST_LEVEL {
        assert!(all.iter().filter(|f| f.rule == r).count() <= 1, "{r} twice");
    }
});
