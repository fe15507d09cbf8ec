//! Runs one detector over the leaves of the engine's GET benchmark request
//! a fixed number of times, for counting instructions with
//! `perf stat -e instructions:u` (a measure that does not depend on the
//! load of the machine, unlike a timer).
//!
//! `cargo run --release -p rampart-detect-files --example leaf_cost -- traversal [leaf] [rounds]`

#![allow(clippy::print_stdout)]

use rampart_detect_files::{RfiDetector, SsrfDetector, TraversalDetector};
use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{DetectCtx, Detector, NodeId, Tree};
use std::hint::black_box;

const GET: &[(&str, Source, &[u8], &[u8])] = &[
    ("q", Source::Query, b"q", b"red running shoes"),
    ("category", Source::Query, b"category", b"footwear"),
    ("sort", Source::Query, b"sort", b"price_asc"),
    ("page", Source::Query, b"page", b"2"),
    ("size", Source::Query, b"size", b"42"),
    (
        "query",
        Source::Query,
        b"",
        b"q=red+running+shoes&category=footwear&sort=price_asc&page=2&size=42",
    ),
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
    (
        "query-decoded",
        Source::Query,
        b"",
        b"q=red running shoes&category=footwear&sort=price_asc&page=2&size=42",
    ),
    ("content-type", Source::Header, b"content-type", b"application/json"),
    ("id", Source::Body, b"id", b"9f1c2a7e-4b1d-4c3a-9e2f-1a2b3c4d5e6f"),
    ("email", Source::Body, b"email", b"ada@example.com"),
    ("phone", Source::Body, b"phone", b"+44 20 7946 0958"),
    ("sku", Source::Body, b"sku", b"SKU-00000"),
    ("item", Source::Body, b"name", b"Trail running shoe model 0"),
    ("price", Source::Body, b"price", b"40.99"),
    ("qty", Source::Body, b"qty", b"2"),
    ("street", Source::Body, b"street", b"12 Analytical Engine Way"),
    (
        "note",
        Source::Body,
        b"note",
        b"Please leave the parcel with the neighbour if I'm not at home.",
    ),
];

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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let d: &dyn Detector = match args.get(1).map(String::as_str) {
        Some("rfi") => &RfiDetector,
        Some("ssrf") => &SsrfDetector,
        _ => &TraversalDetector,
    };
    let only = args.get(2).filter(|s| s.as_str() != "all");
    let rounds: u32 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let leaves: Vec<_> = GET
        .iter()
        .filter(|(n, ..)| only.is_none_or(|o| o == n))
        .map(|(_, s, k, v)| (leaf_at(*s, k, v), *s, *v))
        .collect();
    let mut out = Vec::with_capacity(8);
    let mut n = 0;
    if std::env::var_os("LEAF_NS").is_some() {
        // Nanoseconds per leaf, the best of 20 batches (a shared machine's
        // load only ever adds time).
        for ((tree, point), source, value) in &leaves {
            let ctx = DetectCtx {
                tree,
                point: *point,
                source: Some(*source),
                endpoint: b"/shop/search",
                content_type: None,
            };
            let mut best = f64::MAX;
            for _ in 0..20 {
                let t = std::time::Instant::now();
                for _ in 0..rounds / 20 {
                    out.clear();
                    d.inspect(black_box(value), &ctx, &mut out);
                }
                best = best.min(t.elapsed().as_secs_f64() * 1e9 / f64::from(rounds / 20));
            }
            println!("{:>8.1} ns  {}", best, String::from_utf8_lossy(value));
        }
        return;
    }
    for _ in 0..rounds {
        for ((tree, point), source, value) in &leaves {
            let ctx = DetectCtx {
                tree,
                point: *point,
                source: Some(*source),
                endpoint: b"/shop/search",
                content_type: None,
            };
            out.clear();
            d.inspect(black_box(value), &ctx, &mut out);
            n += out.len();
        }
    }
    println!("{} leaves x {rounds} rounds, {n} findings", leaves.len());
}
