//! The cost of folding one inspected request into the aggregates, on the
//! engine bench's requests: `cargo bench -p rampart-telemetry --bench observe`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rampart_core::{Engine, EngineConfig};
use rampart_telemetry::{Aggregator, Config, Observation};

#[path = "../../engine/benches/common/requests.rs"]
#[allow(dead_code)]
mod requests;

fn bench(c: &mut Criterion) {
    let reg = rampart_builtin_plugins::registry().expect("plugins");
    let engine = Engine::new(&reg, EngineConfig::default()).expect("engine");
    for (name, req) in [
        ("get_5_params", requests::get_5_params()),
        ("json_2k", requests::json_post()),
    ] {
        let mut req = req;
        req.client_ip = Some(std::net::IpAddr::from([198, 51, 100, 7]));
        let ins = engine.inspect(&req);
        let mut agg = Aggregator::new(Config {
            salt: b"bench".to_vec(),
            k_anonymity: 1,
            ..Config::default()
        });
        let mut n = 0u64;
        c.bench_function(&format!("observe/{name}"), |b| {
            b.iter(|| {
                n += 1;
                agg.observe(black_box(&Observation {
                    tree: &ins.tree,
                    findings: &ins.findings,
                    verdict: &ins.verdict,
                    masked: &[],
                    tags: &[],
                    status: 200,
                    latency_us: 800,
                    client_ip: req.client_ip,
                    session: None,
                    request_id: "r",
                    now: n / 1000,
                }));
                if n.is_multiple_of(10_000) {
                    black_box(agg.take(n / 1000));
                }
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
