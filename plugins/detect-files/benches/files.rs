//! Time per value of the three detectors on typical short values, on the
//! leaves of the engine's GET benchmark request (`get/...`: what every
//! request pays), and on megabyte hostile values (`mb/...`: the bound the
//! hostile tests no longer time).
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

/// The leaves of the engine's GET benchmark (`core/engine/benches`):
/// (name, source, key, value); no key for the path.
const GET: &[(&str, Source, &[u8], &[u8])] = &[
    ("q", Source::Query, b"q", b"red running shoes"),
    ("category", Source::Query, b"category", b"footwear"),
    ("sort", Source::Query, b"sort", b"price_asc"),
    ("page", Source::Query, b"page", b"2"),
    ("path", Source::Path, b"", b"/shop/search"),
    ("host", Source::Header, b"host", b"shop.example.com"),
    (
        "user-agent",
        Source::Header,
        b"user-agent",
        b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    ),
    (
        "accept",
        Source::Header,
        b"accept",
        b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    ),
    ("accept-language", Source::Header, b"accept-language", b"en-US,en;q=0.7"),
    (
        "cookie-header",
        Source::Header,
        b"cookie",
        b"session=3f2a9c1e8b7d4a6f; theme=dark; consent=yes",
    ),
    ("cookie", Source::Cookie, b"session", b"3f2a9c1e8b7d4a6f"),
];

fn leaf(value: &[u8]) -> (Tree, NodeId) {
    leaf_at(Source::Query, b"q", value)
}

fn leaf_at(source: Source, key: &[u8], value: &[u8]) -> (Tree, NodeId) {
    let mut t = Tree::new();
    let v = t.push_bytes(value);
    if key.is_empty() {
        let n = t.push_node(NodeId::ROOT, Seg::Source(source), NodeKind::Leaf, v);
        return (t, n);
    }
    let q = t.push_node(
        NodeId::ROOT,
        Seg::Source(source),
        NodeKind::Container,
        (0, 0),
    );
    let (s, e) = t.push_bytes(key);
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

fn get_leaves(c: &mut Criterion) {
    let detectors: [(&str, &dyn Detector); 3] = [
        ("traversal", &TraversalDetector),
        ("rfi", &RfiDetector),
        ("ssrf", &SsrfDetector),
    ];
    for (dname, d) in detectors {
        let trees: Vec<_> = GET
            .iter()
            .map(|(_, s, k, v)| (leaf_at(*s, k, v), *s, *v))
            .collect();
        let mut out = Vec::with_capacity(8);
        for (((tree, point), source, value), (lname, ..)) in trees.iter().zip(GET) {
            let ctx = DetectCtx {
                tree,
                point: *point,
                source: Some(*source),
                endpoint: b"/shop/search",
                content_type: None,
            };
            c.bench_function(&format!("get/{dname}/{lname}"), |b| {
                b.iter(|| {
                    out.clear();
                    d.inspect(black_box(value), &ctx, &mut out);
                    black_box(out.len())
                })
            });
        }
        c.bench_function(&format!("get/{dname}/all-leaves"), |b| {
            b.iter(|| {
                for ((tree, point), source, value) in &trees {
                    let ctx = DetectCtx {
                        tree,
                        point: *point,
                        source: Some(*source),
                        endpoint: b"/shop/search",
                        content_type: None,
                    };
                    out.clear();
                    d.inspect(black_box(value), &ctx, &mut out);
                }
                black_box(out.len())
            })
        });
    }
}

fn hostile(c: &mut Criterion) {
    let detectors: [(&str, &dyn Detector); 3] = [
        ("traversal", &TraversalDetector),
        ("rfi", &RfiDetector),
        ("ssrf", &SsrfDetector),
    ];
    for unit in [&b"../"[..], b"%2e%2e%2f", b"http://", b"a/"] {
        let v: Vec<u8> = unit.iter().copied().cycle().take(1 << 20).collect();
        let (tree, point) = leaf(&v);
        let ctx = DetectCtx {
            tree: &tree,
            point,
            source: Some(Source::Query),
            endpoint: b"/",
            content_type: None,
        };
        for (dname, d) in detectors {
            let mut out = Vec::with_capacity(8);
            c.bench_function(
                &format!("mb/{dname}/{}", String::from_utf8_lossy(unit)),
                |b| {
                    b.iter(|| {
                        out.clear();
                        d.inspect(black_box(&v), &ctx, &mut out);
                        black_box(out.len())
                    })
                },
            );
        }
    }
}

criterion_group!(benches, bench, get_leaves);
criterion_group! {
    name = slow;
    config = Criterion::default().sample_size(10);
    targets = hostile
}
criterion_main!(benches, slow);
