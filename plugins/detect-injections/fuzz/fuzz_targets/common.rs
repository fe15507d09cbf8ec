//! Shared by the fuzz targets: builds a tree that puts the value somewhere
//! (picked by the first input byte) and checks the detector's invariants:
//! no panic, findings about the given point, of the detector's class, rule
//! names `<class>.<what>`, spans inside the value, one finding per rule, at
//! most four.

use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{DetectCtx, Detector, NodeId, Tree};

fn key(t: &mut Tree, k: &[u8]) -> Seg {
    let (start, end) = t.push_bytes(k);
    Seg::Key { start, end }
}

/// Where the value goes: a source and the keys and layers below it.
const PLACES: [(Source, &[&[u8]]); 12] = [
    (Source::Query, &[b"q"]),
    (Source::Path, &[]),
    (Source::Header, &[b"x-a"]),
    (Source::Cookie, &[b"sid"]),
    (Source::Body, &[]),
    (Source::Body, &[b":json", b"user", b"$ne"]),
    (Source::Body, &[b":xml", b"!doctype"]),
    (Source::Body, &[b":xml", b"!entity", b"%x"]),
    (Source::Body, &[b":xml", b"a", b"@xsi:schemaLocation"]),
    (Source::Body, &[b":xml", b"xi:include", b"@href"]),
    (Source::Body, &[b":form", b"email"]),
    (Source::Query, &[b"user", b"$where", b":base64"]),
];

pub fn run(d: &dyn Detector, data: &[u8]) {
    let (sel, rest) = match data.split_first() {
        Some((s, r)) => (*s, r),
        None => (0, data),
    };
    // A 0xFF byte splits off a key for the point (names with CR/LF...).
    let (own, value) = match rest.iter().position(|&b| b == 0xff) {
        Some(k) if sel & 0x80 != 0 => (Some(&rest[..k]), &rest[k + 1..]),
        _ => (None, rest),
    };
    let (source, steps) = PLACES[usize::from(sel & 0x7f) % PLACES.len()];
    let mut tree = Tree::new();
    let mut node = tree.push_node(NodeId::ROOT, Seg::Source(source), NodeKind::Container, (0, 0));
    for s in steps {
        let seg = match s.strip_prefix(b":") {
            Some(b"json") => Seg::Layer("json"),
            Some(b"xml") => Seg::Layer("xml"),
            Some(b"form") => Seg::Layer("form"),
            Some(_) => Seg::Layer("base64"),
            None => key(&mut tree, s),
        };
        node = tree.push_node(node, seg, NodeKind::Container, (0, 0));
    }
    if let Some(k) = own {
        let seg = key(&mut tree, k);
        node = tree.push_node(node, seg, NodeKind::Container, (0, 0));
    }
    if sel & 0x40 != 0 {
        // A DOCTYPE beside an XML document's points.
        let doc = tree.push_node(NodeId(1), Seg::Layer("xml"), NodeKind::Container, (0, 0));
        let seg = key(&mut tree, b"!doctype");
        let v = tree.push_bytes(b"<!DOCTYPE a [<!ENTITY a \"b\">]>");
        tree.push_node(doc, seg, NodeKind::Leaf, v);
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
    d.inspect(tree.value(node), &ctx, &mut out);
    let name = d.info().name;
    assert!(out.len() <= 4, "{} findings", out.len());
    for (i, f) in out.iter().enumerate() {
        assert_eq!(f.point, node);
        assert!(d.classes().contains(&f.class));
        assert_eq!(f.origin, name);
        assert!(f.rule.starts_with(name) && f.rule[name.len()..].starts_with('.'));
        assert!(f.span.start <= f.span.end && f.span.end as usize <= value.len());
        assert!(f.score > 0 && f.score <= 100);
        assert!(out[..i].iter().all(|g| g.rule != f.rule), "rule reported twice");
    }
}
