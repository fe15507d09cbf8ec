//! Time per value through the XSS detector: the 19 leaves of the GET
//! request of the engine's `decode` bench (plain parameters, the whole
//! query, the path, browser headers, a cookie header and its cookies),
//! a mix of short benign values, and a few attacks.
//! Run: `cargo bench -p rampart-detect-xss --bench xss`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rampart_detect_xss::XssDetector;
use rampart_plugin_api::testing::point_tree;
use rampart_plugin_api::{DetectCtx, Detector};

/// The leaf values of the GET of `cargo bench -p rampart-core --bench decode`.
const GET_LEAVES: [&[u8]; 19] = [
    b"GET",
    b"/shop/search?q=red+running+shoes&category=footwear&sort=price_asc&page=2&size=42",
    b"/shop/search",
    b"shop",
    b"search",
    b"q=red+running+shoes&category=footwear&sort=price_asc&page=2&size=42",
    b"red running shoes",
    b"footwear",
    b"price_asc",
    b"2",
    b"42",
    b"shop.example.com",
    b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    b"en-US,en;q=0.7",
    b"session=3f2a9c1e8b7d4a6f; theme=dark; consent=yes",
    b"3f2a9c1e8b7d4a6f",
    b"dark",
    b"yes",
];

const BENIGN: [&[u8]; 16] = [
    b"john.doe@example.com",
    b"O'Brien",
    b"2024-03-15",
    b"Great product, would buy again!",
    b"https://example.com/a?b=c&d=e",
    b"It's 100% cotton -- machine washable.",
    b"{\"a\": 1, \"b\": [2, 3]}",
    b"+1 (555) 010-4477",
    b"12\" pizza",
    b"(optional)",
    b"a < b and c > d",
    b"<b>bold</b> and <i>italic</i>",
    b"Use the onclick handler to react to clicks.",
    b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    b"_ga=GA1.2.1234567890.1700000000; _gid=GA1.2.987654321.1700000000; lang=en-US",
];

const ATTACKS: [&[u8]; 8] = [
    b"<img src=x onerror=alert(1)>",
    b"\"><script>alert(document.cookie)</script>",
    b"javascript:alert(1)",
    b"';alert(String.fromCharCode(88,83,83))//",
    b"<svg/onload=alert(1)>",
    b"{{constructor.constructor('alert(1)')()}}",
    b"x\" onmouseover=\"alert(1)",
    b"<a href=\"&#106;avascript:alert(1)\">x</a>",
];

fn run(c: &mut Criterion, name: &str, values: &[&[u8]]) {
    let (tree, point) = point_tree("query.q", b"x");
    let ctx = DetectCtx {
        tree: &tree,
        point,
        source: tree.source_of(point),
        endpoint: b"/search",
        content_type: None,
    };
    let mut out = Vec::new();
    let mut g = c.benchmark_group("xss");
    g.throughput(Throughput::Elements(values.len() as u64));
    g.bench_function(name, |b| {
        b.iter(|| {
            for v in values {
                out.clear();
                XssDetector.inspect(std::hint::black_box(v), &ctx, &mut out);
            }
        })
    });
    g.finish();
}

/// 64 KiB values repeating what makes the views work hardest (the
/// hostile-input tests assert their outcome; their time is watched here).
fn hostile(c: &mut Criterion) {
    let units: [&[u8]; 6] = [
        b"<a onload=alert(1) ",
        b"'",
        b"${",
        b"&#x41",
        b"<svg><style>",
        b"<>/=\"' onloadscript:javascript()[]{}`$&#;!-?\\+x",
    ];
    let (tree, point) = point_tree("query.q", b"x");
    let ctx = DetectCtx {
        tree: &tree,
        point,
        source: tree.source_of(point),
        endpoint: b"/",
        content_type: None,
    };
    let mut out = Vec::new();
    let mut g = c.benchmark_group("xss_hostile_64k");
    g.sample_size(10);
    for (i, unit) in units.iter().enumerate() {
        let v: Vec<u8> = unit.iter().copied().cycle().take(64 * 1024).collect();
        g.throughput(Throughput::Bytes(v.len() as u64));
        g.bench_function(format!("unit_{i}"), |b| {
            b.iter(|| {
                out.clear();
                XssDetector.inspect(std::hint::black_box(&v), &ctx, &mut out);
            })
        });
    }
    g.finish();
}

fn bench(c: &mut Criterion) {
    run(c, "get_request_leaves", &GET_LEAVES);
    run(c, "benign_short_values", &BENIGN);
    run(c, "attacks", &ATTACKS);
    hostile(c);
}

criterion_group!(benches, bench);
criterion_main!(benches);
