//! Time of the protocol detector over every leaf of the benign request
//! heads of `testdata/benign-requests.txt` (what the ignored `speed` test
//! used to print).
//!
//! `cargo bench -p rampart-detect-protocol --bench protocol`

use criterion::{criterion_group, criterion_main, Criterion};
use rampart_detect_protocol::ProtocolDetector;
use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{DetectCtx, Detector, NodeId, Tree};
use std::hint::black_box;

/// A tree of the method, the request-target, the path and the headers of
/// one request head (`METHOD target HTTP/1.1` then `Name: value` lines).
fn tree_of(head: &str) -> Option<Tree> {
    let mut lines = head.lines();
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?, first.next()?);
    let mut t = Tree::new();
    let leaf = |t: &mut Tree, s: Source, v: &[u8]| {
        let span = t.push_bytes(v);
        t.push_node(NodeId::ROOT, Seg::Source(s), NodeKind::Leaf, span);
    };
    leaf(&mut t, Source::Method, method.as_bytes());
    leaf(&mut t, Source::Uri, target.as_bytes());
    let path = target.split('?').next().unwrap_or(target);
    leaf(&mut t, Source::Path, path.as_bytes());
    let h = t.push_node(
        NodeId::ROOT,
        Seg::Source(Source::Header),
        NodeKind::Container,
        (0, 0),
    );
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (s, e) = t.push_bytes(name.trim().to_ascii_lowercase().as_bytes());
        let v = t.push_bytes(value.trim().as_bytes());
        t.push_node(h, Seg::Key { start: s, end: e }, NodeKind::Leaf, v);
    }
    Some(t)
}

fn bench(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/benign-requests.txt");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let trees: Vec<Tree> = text
        .split("\n\n")
        .map(|b| {
            b.lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter_map(|b| tree_of(&b))
        .collect();
    let det = ProtocolDetector::default();
    let mut out = Vec::with_capacity(8);
    c.bench_function("benign-requests/all-leaves", |b| {
        b.iter(|| {
            for tree in &trees {
                for id in tree.leaves() {
                    let ctx = DetectCtx {
                        tree,
                        point: id,
                        source: tree.source_of(id),
                        endpoint: b"/",
                        content_type: None,
                    };
                    out.clear();
                    det.inspect(black_box(tree.value(id)), &ctx, &mut out);
                }
            }
            black_box(out.len())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
