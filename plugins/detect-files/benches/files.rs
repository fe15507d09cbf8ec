//! Time per value of the three detectors on typical short values.
//!
//! `cargo bench -p rampart-detect-files --bench files`

use criterion::{criterion_group, criterion_main, Criterion};
use rampart_detect_files::{RfiDetector, SsrfDetector, TraversalDetector};
use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{DetectCtx, Detector, NodeId, Tree};
use std::hint::black_box;

const VALUES: &[(&str, &[u8])] = &[
    ("word", b"shoes"),
    (
        "prose",
        b"Great headphones, the bass is deep and the battery lasts about 30 hours.",
    ),
    (
        "url",
        b"https://www.example.com/products?id=42&ref=newsletter",
    ),
    ("traversal", b"../../../../etc/passwd"),
    ("ssrf", b"http://0x7f.1:6379/_SET%20x"),
];

fn leaf(value: &[u8]) -> (Tree, NodeId) {
    let mut t = Tree::new();
    let q = t.push_node(
        NodeId::ROOT,
        Seg::Source(Source::Query),
        NodeKind::Container,
        (0, 0),
    );
    let (s, e) = t.push_bytes(b"q");
    let v = t.push_bytes(value);
    let n = t.push_node(q, Seg::Key { start: s, end: e }, NodeKind::Leaf, v);
    (t, n)
}

fn bench(c: &mut Criterion) {
    let detectors: [(&str, &dyn Detector); 3] = [
        ("traversal", &TraversalDetector),
        ("rfi", &RfiDetector),
        ("ssrf", &SsrfDetector),
    ];
    for (dname, d) in detectors {
        for (vname, value) in VALUES {
            let (tree, point) = leaf(value);
            let ctx = DetectCtx {
                tree: &tree,
                point,
                source: Some(Source::Query),
                endpoint: b"/",
                content_type: None,
            };
            let mut out = Vec::with_capacity(8);
            c.bench_function(&format!("{dname}/{vname}"), |b| {
                b.iter(|| {
                    out.clear();
                    d.inspect(black_box(value), &ctx, &mut out);
                    black_box(out.len())
                })
            });
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
