//! Shared by the three targets: the first byte picks where the value sits
//! (a query parameter, the URL path, a header, under zero to three
//! decoding layers); the rest is the value.

use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{Class, DetectCtx, Detector, NodeId, Tree};

const NAMES: [&[u8]; 8] = [
    b"q",
    b"file",
    b"url",
    b"@filename",
    b"redirect_uri",
    b"mosConfig_absolute_path",
    b"../../etc/passwd",
    b"http://127.0.0.1/",
];

/// Runs `detector` on a value placed by the first byte of `data` and
/// checks the invariants listed in each target's docs.
pub fn check(detector: &dyn Detector, class: Class, prefix: &str, data: &[u8]) {
    let (sel, value) = match data.split_first() {
        Some((s, rest)) => (*s, rest),
        None => (0, data),
    };
    let mut tree = Tree::new();
    let mut node = match sel & 0x3 {
        0 => tree.push_node(
            NodeId::ROOT,
            Seg::Source(Source::Path),
            NodeKind::Container,
            (0, 0),
        ),
        1 => {
            let h = tree.push_node(
                NodeId::ROOT,
                Seg::Source(Source::Header),
                NodeKind::Container,
                (0, 0),
            );
            let (s, e) = tree.push_bytes(b"referer");
            tree.push_node(
                h,
                Seg::Key { start: s, end: e },
                NodeKind::Container,
                (0, 0),
            )
        }
        _ => {
            let q = tree.push_node(
                NodeId::ROOT,
                Seg::Source(Source::Query),
                NodeKind::Container,
                (0, 0),
            );
            let (s, e) = tree.push_bytes(NAMES[usize::from(sel >> 2) % NAMES.len()]);
            tree.push_node(
                q,
                Seg::Key { start: s, end: e },
                NodeKind::Container,
                (0, 0),
            )
        }
    };
    for _ in 0..(sel >> 5) & 0x3 {
        node = tree.push_node(node, Seg::Layer("url"), NodeKind::Container, (0, 0));
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
    detector.inspect(tree.value(node), &ctx, &mut out);
    for (i, f) in out.iter().enumerate() {
        assert_eq!(f.point, node);
        assert_eq!(f.class, class);
        assert!(f.rule.starts_with(prefix));
        assert!(f.score >= 1 && f.score <= 100);
        assert!(f.span.start <= f.span.end && f.span.end as usize <= value.len());
        assert!(
            out[..i].iter().all(|g| g.rule != f.rule),
            "rule reported twice"
        );
    }
}
