//! Per-value cost of `cmdi` and `code-injection` through `Detector::inspect`
//! at the points of the engine's bench requests (the per-call work before
//! and after the scan included): `cargo run --release -p rampart-detect-rce
//! --example inspect_speed`. A measurement, not a test.

#![allow(clippy::print_stdout, clippy::disallowed_methods)]

use std::hint::black_box;
use std::time::Instant;

use rampart_detect_rce::{CmdiDetector, CodeInjectionDetector};
use rampart_plugin_api::testing::point_tree;
use rampart_plugin_api::{DetectCtx, Detector};

const POINTS: [(&str, &str); 28] = [
    ("query.q", "red running shoes"),
    ("query.category", "footwear"),
    ("query.sort", "price_asc"),
    ("query.page", "2"),
    ("query.size", "42"),
    ("query", "q=red running shoes&category=footwear&sort=price_asc&page=2&size=42"),
    ("path", "/shop/search"),
    ("path[0]", "shop"),
    ("header.host", "shop.example.com"),
    ("header[\"user-agent\"]", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"),
    ("header.accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("header[\"accept-language\"]", "en-US,en;q=0.7"),
    ("header.cookie", "session=3f2a9c1e8b7d4a6f; theme=dark; consent=yes"),
    ("cookie.session", "3f2a9c1e8b7d4a6f"),
    ("cookie.theme", "dark"),
    ("cookie.consent", "yes"),
    ("header[\"content-type\"]", "application/json"),
    ("header[\"content-length\"]", "1571"),
    ("body:json.order.id", "9f1c2a7e-4b1d-4c3a-9e2f-1a2b3c4d5e6f"),
    ("body:json.order.customer.name", "Ada Lovelace"),
    ("body:json.order.customer.email", "ada@example.com"),
    ("body:json.order.customer.phone", "+44 20 7946 0958"),
    ("body:json.order.items[0].sku", "SKU-00000"),
    ("body:json.order.items[0].name", "Trail running shoe model 0"),
    ("body:json.order.items[0].qty", "1"),
    ("body:json.order.items[0].price", "40.99"),
    ("body:json.order.items[0].tags[0]", "sale"),
    ("body:json.order.note", "Please leave the parcel with the neighbour if I'm not at home."),
];

fn main() {
    let dets: [(&str, &dyn Detector); 2] =
        [("cmdi", &CmdiDetector), ("code", &CodeInjectionDetector)];
    let n: u32 = std::env::var("RCE_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let mut sums = [0.0f64; 2];
    for (path, value) in POINTS {
        // `RCE_VALUE=dark`: only the values that are exactly this.
        if std::env::var("RCE_VALUE").is_ok_and(|x| x != value) {
            continue;
        }
        let (tree, point) = point_tree(path, value.as_bytes());
        let ctx = DetectCtx {
            tree: &tree,
            point,
            source: tree.source_of(point),
            endpoint: b"/",
            content_type: None,
        };
        let v = tree.value(point);
        print!("{:<34}", &value[..value.len().min(32)]);
        for (k, (name, d)) in dets.iter().enumerate() {
            // `RCE_ONLY=cmdi`: time one detector (for a profiler).
            if std::env::var("RCE_ONLY").is_ok_and(|o| o != *name) {
                continue;
            }
            let mut out = Vec::new();
            let mut best = f64::MAX;
            for _ in 0..5 {
                let t = Instant::now();
                for _ in 0..n / 5 {
                    out.clear();
                    d.inspect(black_box(v), &ctx, &mut out);
                }
                best = best.min(t.elapsed().as_nanos() as f64 / f64::from(n / 5));
            }
            sums[k] += best;
            print!(" {name}={best:<6.0}");
        }
        println!();
    }
    println!("sum: cmdi={:.0} code={:.0}", sums[0], sums[1]);
}
