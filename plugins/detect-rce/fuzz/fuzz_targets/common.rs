// Shared by the fuzz targets: runs one detector on the input as a query
// parameter and checks the plugin contract.

use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{Class, DetectCtx, Detector, NodeId, Tree};

pub fn check(d: &dyn Detector, class: Class, name: &str, value: &[u8]) {
    let mut tree = Tree::new();
    let q = tree.push_node(NodeId::ROOT, Seg::Source(Source::Query), NodeKind::Container, (0, 0));
    let (s, e) = tree.push_bytes(b"q");
    let node = tree.push_node(q, Seg::Key { start: s, end: e }, NodeKind::Container, (0, 0));
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
    d.inspect(tree.value(node), &ctx, &mut out);
    assert!(out.len() <= 3, "too many findings");
    for (i, f) in out.iter().enumerate() {
        assert_eq!(f.point, node);
        assert_eq!(f.class, class);
        assert_eq!(f.origin, name);
        assert!(f.rule.starts_with(class.as_str()));
        assert!(f.score > 0 && f.score <= 100);
        assert!(f.span.start <= f.span.end && f.span.end as usize <= value.len());
        assert!(out[..i].iter().all(|g| g.rule != f.rule), "rule reported twice");
    }
}
