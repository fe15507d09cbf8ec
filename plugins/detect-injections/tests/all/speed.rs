//! Time per value of the eight detectors together (ignored: run it with
//! `cargo test --release -p rampart-detect-injections --test all speed --
//! --ignored --nocapture`).

use std::hint::black_box;
use std::time::Instant;

use rampart_plugin_api::{DetectCtx, Finding};

use crate::support::{build, detectors};

const VALUES: [(&str, &str); 12] = [
    ("query.q", "running shoes size 10"),
    ("query.q", "O'Brien"),
    (
        "body:form.comment",
        "Hi team,\r\nthe login page is broken.\r\nThanks, Anna",
    ),
    (
        "body:json.text",
        "{\"name\": \"Alice\", \"tags\": [\"a\", \"b\"]}",
    ),
    (
        "query.next",
        "https://shop.example.com/p/12345?utm_source=newsletter&utm_medium=email",
    ),
    ("body:form.bio", "<p>Hello <b>world</b></p>"),
    ("query.user", "*)(uid=*))(|(uid=*"),
    ("query.q", "' or count(/*)=1 or '"),
    (
        "body",
        "<!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><foo>&xxe;</foo>",
    ),
    ("path", "/\r\nSet-Cookie:crlf=injection"),
    ("query.user[\"$ne\"]", "x"),
    ("query.q", "<!--#exec cmd=\"ls\" -->"),
];

#[test]
#[ignore]
fn speed() {
    let trees: Vec<_> = VALUES.iter().map(|(p, v)| build(p, v.as_bytes())).collect();
    let ds = detectors();
    let mut out: Vec<Finding> = Vec::with_capacity(16);
    let rounds = 20_000;
    for (k, ((tree, leaf), (p, v))) in trees.iter().zip(VALUES).enumerate() {
        let ctx = DetectCtx {
            tree,
            point: *leaf,
            source: tree.source_of(*leaf),
            endpoint: b"/",
            content_type: None,
        };
        let t = Instant::now();
        for _ in 0..rounds {
            for d in ds {
                out.clear();
                d.inspect(black_box(v.as_bytes()), &ctx, &mut out);
            }
        }
        let ns = t.elapsed().as_nanos() as f64 / f64::from(rounds);
        // Per detector: the best of 20 runs of 1,000 (the machine is shared).
        let mut each = String::new();
        for d in ds {
            let mut best = f64::MAX;
            for _ in 0..20 {
                let t = Instant::now();
                for _ in 0..1_000 {
                    out.clear();
                    d.inspect(black_box(v.as_bytes()), &ctx, &mut out);
                }
                best = best.min(t.elapsed().as_nanos() as f64 / 1_000.0);
            }
            each.push_str(&format!(" {}={best:.0}", d.info().name));
        }
        println!("{k:2} {p:22} {:3} B: {ns:5.0} ns in all;{each}", v.len());
    }
}
