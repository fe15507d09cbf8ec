//! Values per second through the SQL injection detector, on a mix of short
//! benign and malicious values (three benign to one malicious, as a
//! parameter stream would be, and far more attacks than real traffic has).
//! Run: `cargo bench -p rampart-detect-sqli --bench sqli`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rampart_detect_sqli::SqliDetector;
use rampart_plugin_api::{DetectCtx, Detector, NodeId, NodeKind, Seg, Source, Tree};

const BENIGN: [&[u8]; 24] = [
    b"red running shoes",
    b"42",
    b"john.doe@example.com",
    b"O'Brien",
    b"2024-03-15",
    b"price_asc",
    b"Great product, would buy again!",
    b"https://example.com/a?b=c",
    b"550e8400-e29b-41d4-a716-446655440000",
    b"It's 100% cotton -- machine washable.",
    b"size 10 or 11",
    b"1600 Pennsylvania Ave NW, Washington, DC 20500",
    b"true",
    b"en-US,en;q=0.9",
    b"Select your size",
    b"{\"a\": 1, \"b\": [2, 3]}",
    b"Rock 'n' roll",
    b"+1 (555) 010-4477",
    b"12\" pizza",
    b"(optional)",
    b"union square",
    b"drop earrings",
    b"page=2&sort=desc",
    b"Mary O'Connor",
];

/// Header and parameter values of an ordinary GET: the cheap rejection
/// pass should turn them away in tens of nanoseconds.
const PLAIN: [&[u8]; 8] = [
    b"footwear",
    b"2",
    b"price_asc",
    b"red running shoes",
    b"/shop/search",
    b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    b"en-US,en;q=0.9",
];

const MALICIOUS: [&[u8]; 8] = [
    b"' or 1=1--",
    b"-1 UNION SELECT 1,2,3--",
    b"1; DROP TABLE users",
    b"x' and sleep(5)#",
    b"1 and extractvalue(1,concat(0x7e,version()))",
    b"admin'--",
    b"1/**/UnIoN/**/SeLeCt/**/user()",
    b"(select(0)from(select(sleep(15)))v)",
];

fn bench(c: &mut Criterion) {
    let mut tree = Tree::new();
    let src = tree.push_node(
        NodeId::ROOT,
        Seg::Source(Source::Query),
        NodeKind::Container,
        (0, 0),
    );
    let k = tree.push_bytes(b"q");
    let point = tree.push_node(
        src,
        Seg::Key {
            start: k.0,
            end: k.1,
        },
        NodeKind::Leaf,
        (0, 0),
    );
    let ctx = DetectCtx {
        tree: &tree,
        point,
        source: Some(Source::Query),
        endpoint: b"/search",
        content_type: None,
    };
    let mix: Vec<&[u8]> = BENIGN.iter().chain(MALICIOUS.iter()).copied().collect();
    let det = SqliDetector;
    let mut out = Vec::new();
    let mut g = c.benchmark_group("sqli");
    g.throughput(Throughput::Elements(mix.len() as u64));
    g.bench_function("mixed_short_values", |b| {
        b.iter(|| {
            for v in &mix {
                out.clear();
                det.inspect(v, &ctx, &mut out);
            }
        })
    });
    g.throughput(Throughput::Elements(BENIGN.len() as u64));
    g.bench_function("benign_short_values", |b| {
        b.iter(|| {
            for v in &BENIGN {
                out.clear();
                det.inspect(v, &ctx, &mut out);
            }
        })
    });
    g.throughput(Throughput::Elements(PLAIN.len() as u64));
    g.bench_function("plain_request_values", |b| {
        b.iter(|| {
            for v in &PLAIN {
                out.clear();
                det.inspect(v, &ctx, &mut out);
            }
        })
    });
    // A parameter list left in one value (a query string encoded twice):
    // read whole, then value by value.
    let embedded: &[u8] = b"q=O'Brien shoes&category=footwear&sort=price_asc&page=2&size=42\
                            &color=red&brand=acme&id=1 AND 2771=1709";
    g.throughput(Throughput::Elements(1));
    g.bench_function("embedded_params", |b| {
        b.iter(|| {
            out.clear();
            det.inspect(embedded, &ctx, &mut out);
        })
    });
    // Hostile input: a 64 KiB soup of SQL words and punctuation (the cost
    // is linear; this replaces the timed assertions of the tests).
    let words: [&[u8]; 8] = [
        b"select ", b"(", b")", b"'", b" or ", b"=", b"/**/", b"union ",
    ];
    let mut soup = Vec::with_capacity(64 * 1024);
    let mut x: u32 = 0x1234_5678;
    while soup.len() < 64 * 1024 {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        soup.extend_from_slice(words[(x >> 29) as usize]);
    }
    g.throughput(Throughput::Bytes(soup.len() as u64));
    g.bench_function("hostile_64k_soup", |b| {
        b.iter(|| {
            out.clear();
            det.inspect(&soup, &ctx, &mut out);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
