//! The cost of reading the leaves of the engine's benchmark requests, in
//! ns per value (the best of 20 batches: a shared machine's load only
//! ever adds time), or one value repeated for a profiler.
//!
//! `cargo run --release -p rampart-detect-sqli --example leaf_cost [-- VALUE [ROUNDS]]`

#![allow(clippy::print_stdout)]

use std::hint::black_box;

const LEAVES: &[&str] = &[
    "red running shoes",
    "footwear",
    "price_asc",
    "2",
    "q=red+running+shoes&category=footwear&sort=price_asc&page=2&size=42",
    "q=red running shoes&category=footwear&sort=price_asc&page=2&size=42",
    "/shop/search",
    "shop.example.com",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "en-US,en;q=0.7",
    "session=3f2a9c1e8b7d4a6f; theme=dark; consent=yes",
    "3f2a9c1e8b7d4a6f",
    "application/json",
    "9f1c2a7e-4b1d-4c3a-9e2f-1a2b3c4d5e6f",
    "Ada Lovelace",
    "ada@example.com",
    "+44 20 7946 0958",
    "SKU-00000",
    "Trail running shoe model 0",
    "40.99",
    "12 Analytical Engine Way",
    "NW1 2DB",
    "Please leave the parcel with the neighbour if I'm not at home.",
    "order",
    "customer",
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(v) = args.get(1) {
        let rounds: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
        let mut n = 0;
        for _ in 0..rounds {
            n += usize::from(rampart_detect_sqli::analyze(black_box(v.as_bytes())).is_some());
        }
        println!("{n}");
        return;
    }
    for v in LEAVES {
        let mut best = f64::MAX;
        for _ in 0..20 {
            let t = std::time::Instant::now();
            for _ in 0..5000 {
                black_box(rampart_detect_sqli::analyze(black_box(v.as_bytes())));
            }
            best = best.min(t.elapsed().as_secs_f64() * 1e9 / 5000.0);
        }
        let read = rampart_detect_sqli::worth_reading(v.as_bytes());
        println!("{best:>8.1} ns  {} {v}", if read { "read" } else { "    " });
    }
}
