//! Whole-request decoding costs (decode + detect + decide with the built-in
//! plugins). Figures go to docs/BENCHMARKS.md.
//! Run: `cargo bench -p rampart-core --bench decode`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rampart_core::{Engine, EngineConfig};

#[path = "common/requests.rs"]
mod requests;
use requests::{get_5_params, json_post, multipart_16k};

fn engine() -> Engine {
    let reg = rampart_builtin_plugins::registry().expect("registry");
    Engine::new(&reg, EngineConfig::default()).expect("engine")
}

fn bench(c: &mut Criterion) {
    let e = engine();
    let mut g = c.benchmark_group("inspect");
    for (name, req) in [
        ("get_5_params", get_5_params()),
        ("json_2k", json_post()),
        ("multipart_16k", multipart_16k()),
    ] {
        let size = req.body.len() + req.target.len();
        g.throughput(Throughput::Bytes(size as u64));
        let mut ins = rampart_core::Inspection::new();
        g.bench_function(name, |b| b.iter(|| e.inspect_into(&req, &mut ins)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
