//! Per-value cost of each detector of the crate (a measurement, not a
//! test): `cargo run --release -p rampart-detect-rce --example speed`.
//! The first group is the values of the GET request of the engine's
//! `decode` bench (what every request pays); the second, short attacks and
//! prose; last, the throughput on one 64 KiB value of prose.

#![allow(clippy::print_stdout, clippy::disallowed_methods)]

use std::hint::black_box;
use std::time::Instant;

use rampart_detect_rce::common::Hits;
use rampart_detect_rce::{cmdi, code, jndi, shellshock, ssti};

/// The leaves of the benchmark GET request.
const GET: [&[u8]; 16] = [
    b"red running shoes",
    b"footwear",
    b"price_asc",
    b"2",
    b"42",
    b"q=red+running+shoes&category=footwear&sort=price_asc&page=2&size=42",
    b"/shop/search",
    b"shop.example.com",
    b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    b"en-US,en;q=0.7",
    b"session=3f2a9c1e8b7d4a6f; theme=dark; consent=yes",
    b"3f2a9c1e8b7d4a6f",
    b"dark",
    b"yes",
    b"GET",
];

const OTHER: [&[u8]; 16] = [
    b"cat food",
    b"John O'Brien",
    b"https://example.com/products?id=42&ref=home",
    b"Great product; works exactly as described and arrived two days early.",
    b"{\"name\":\"John\",\"age\":30,\"city\":\"New York\"}",
    b"1600 Pennsylvania Ave NW, Washington, DC 20500",
    b"price < 100 and color = 'red'",
    b"Hello {{name}}, thanks for your order!",
    b"; cat /etc/passwd",
    b"$(whoami)",
    b"127.0.0.1 && ls /etc",
    b"${${::-j}${::-n}${::-d}${::-i}:ldap://x/a}",
    b"{{''.__class__.__mro__[1].__subclasses__()}}",
    b"<?php system('id'); ?>",
    b"() { :; }; echo ; /bin/bash -c 'cat /etc/passwd'",
    b"java.lang.Runtime",
];

type Scan = fn(&[u8], &mut Hits);

const DETECTORS: [(&str, Scan); 5] = [
    ("cmdi", cmdi::scan_value),
    ("shellshock", shellshock::scan_value),
    ("code-injection", code::scan_value),
    ("ssti", ssti::scan_value),
    ("jndi", jndi::scan_value),
];

fn rounds() -> u32 {
    std::env::var("RCE_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000)
}

/// Nanoseconds per call of `f` on `v`: the least of five runs (the
/// machine may be shared).
fn per_value(f: Scan, v: &[u8]) -> f64 {
    let n = rounds() / 5 + 1;
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..n {
            let mut h = Hits::default();
            f(black_box(v), &mut h);
            black_box(h.best());
        }
        best = best.min(t.elapsed().as_nanos() as f64 / f64::from(n));
    }
    best
}

fn table(title: &str, values: &[&[u8]]) {
    println!("== {title} (ns per value)");
    print!("{:<40}", "value");
    for (name, _) in DETECTORS {
        print!("{name:>15}");
    }
    println!();
    let mut sums = [0.0f64; 5];
    for v in values {
        // `RCE_VALUE=dark`: only the values that are exactly this.
        if std::env::var("RCE_VALUE").is_ok_and(|x| x.as_bytes() != *v) {
            continue;
        }
        let shown: String = String::from_utf8_lossy(v).chars().take(38).collect();
        print!("{shown:<40}");
        for (k, (name, f)) in DETECTORS.iter().enumerate() {
            // `RCE_ONLY=cmdi`: time one detector (for a profiler).
            if std::env::var("RCE_ONLY").is_ok_and(|o| o != *name) {
                print!("{:>15}", "-");
                continue;
            }
            let ns = per_value(*f, v);
            sums[k] += ns;
            print!("{ns:>15.0}");
        }
        println!();
    }
    print!("{:<40}", "sum");
    for s in sums {
        print!("{s:>15.0}");
    }
    println!();
}

/// The 2 KB JSON body of the engine's `decode` bench (an order).
fn json_2k() -> Vec<u8> {
    let mut items = Vec::new();
    for i in 0..12 {
        items.push(format!(
            "{{\"sku\":\"SKU-{i:05}\",\"name\":\"Trail running shoe model {i}\",\"qty\":{},\"price\":{}.99,\"tags\":[\"sale\",\"outdoor\"]}}",
            i % 3 + 1,
            40 + i
        ));
    }
    format!(
        "{{\"order\":{{\"id\":\"9f1c2a7e-4b1d-4c3a-9e2f-1a2b3c4d5e6f\",\"customer\":{{\"name\":\"Ada Lovelace\",\"email\":\"ada@example.com\",\"phone\":\"+44 20 7946 0958\"}},\"items\":[{}],\"shipping\":{{\"street\":\"12 Analytical Engine Way\",\"city\":\"London\",\"zip\":\"NW1 2DB\",\"country\":\"GB\"}},\"note\":\"Please leave the parcel with the neighbour if I'm not at home.\"}}}}",
        items.join(",")
    )
    .into_bytes()
}

fn main() {
    table("GET bench leaves", &GET);
    let body = json_2k();
    table(
        "JSON bench: the raw body and some leaves",
        &[
            &body[..],
            b"Trail running shoe model 7",
            b"SKU-00007",
            b"9f1c2a7e-4b1d-4c3a-9e2f-1a2b3c4d5e6f",
            b"ada@example.com",
            b"+44 20 7946 0958",
            b"12 Analytical Engine Way",
            b"Please leave the parcel with the neighbour if I'm not at home.",
        ],
    );
    table("short values", &OTHER);
    let big: Vec<u8> = b"The quick brown fox; jumps over the lazy dog | 42 & more. "
        .iter()
        .copied()
        .cycle()
        .take(64 * 1024)
        .collect();
    let t = Instant::now();
    for _ in 0..50 {
        black_box(rampart_detect_rce::scan_all(black_box(&big)));
    }
    let mbs = 50.0 * 64.0 / 1024.0 / t.elapsed().as_secs_f64();
    println!("all five on 64 KiB prose: {mbs:.1} MB/s");
    // Hostile values of 1 MiB (two 64 KiB windows inspected): the time
    // of all five detectors per value.
    for unit in [
        &b"; cat /etc/passwd "[..],
        b"$(",
        b"`",
        b"${${::-j}",
        b"{{",
        b"'",
        b"<?php ",
        b"java.",
        b"a=b ",
        b"/???/c?t ",
        b"() {",
    ] {
        let v: Vec<u8> = unit.iter().copied().cycle().take(1 << 20).collect();
        let t = Instant::now();
        black_box(rampart_detect_rce::scan_all(black_box(&v)));
        println!(
            "1 MiB of {:<24} {:8.2} ms",
            String::from_utf8_lossy(unit),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}
