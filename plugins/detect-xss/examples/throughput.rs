//! Values per second on a mix of short benign values and attacks (the
//! benign set and table of this crate, and a long HTML value):
//! `cargo run --release -p rampart-detect-xss --example throughput`.

use std::time::Instant;

fn lines(path: &str) -> Vec<Vec<u8>> {
    std::fs::read(path)
        .unwrap_or_default()
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty() && l[0] != b'#')
        .map(<[u8]>::to_vec)
        .collect()
}

fn run(name: &str, values: &[Vec<u8>], rounds: usize) {
    let bytes: usize = values.iter().map(Vec::len).sum();
    let start = Instant::now();
    let mut sink = 0u64;
    for _ in 0..rounds {
        for v in values {
            sink += u64::from(rampart_detect_xss::score(std::hint::black_box(v)));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let n = (values.len() * rounds) as f64;
    println!(
        "{name:<28} {:>10.0} values/s {:>8.0} ns/value {:>8.1} MB/s (check {sink})",
        n / secs,
        secs * 1e9 / n,
        (bytes * rounds) as f64 / secs / 1e6
    );
}

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");
    let benign = lines(&format!("{dir}/benign.txt"));
    let short: Vec<Vec<u8>> = [
        "red shoes size 10",
        "john.doe@example.com",
        "12345",
        "Great product, would buy again!",
        "https://example.com/a?b=1",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let attacks: Vec<Vec<u8>> = [
        "<img src=x onerror=alert(1)>",
        "\"><script>alert(1)</script>",
        "';alert(document.domain)//",
        "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
        "{{constructor.constructor('alert(1)')()}}",
        "<svg/onload=alert(1)//",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let mut html = Vec::new();
    for i in 0..400 {
        html.extend_from_slice(
            format!("<p class=\"c{i}\"><a href=\"https://example.com/{i}\" title=\"t\">link {i}</a> text &amp; more</p>\n")
                .as_bytes(),
        );
    }
    run("short plain values", &short, 200_000);
    run("benign set (429 lines)", &benign, 2_000);
    run("attacks", &attacks, 100_000);
    run(
        &format!("rich text ({} KB)", html.len() / 1024),
        &[html],
        200,
    );
}
