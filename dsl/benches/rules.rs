//! Rule-language benches: evaluation of generated rule packs on the
//! interpreter and (feature `jit`) the cranelift JIT, and compile time of a
//! large pack.
//!
//! `cargo bench -p rampart-dsl --bench rules` (interpreter only),
//! `cargo bench -p rampart-dsl --features jit --bench rules` (both).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use rampart_dsl::ir::RulePhase;
use rampart_dsl::{
    compile_str, Evaluator, Interpreter, MemoryCounters, Outcome, RuleBackend, StaticView,
};
use rampart_types::{NodeId, NodeKind, Seg, Source, Tree};

fn leaf(t: &mut Tree, parent: NodeId, key: &str, value: &str) {
    let (start, end) = t.push_bytes(key.as_bytes());
    let v = t.push_bytes(value.as_bytes());
    t.push_node(parent, Seg::Key { start, end }, NodeKind::Leaf, v);
}

/// GET /api/r7/42?q=red shoes&category=footwear&sort=price_asc&page=2&size=42
fn request() -> StaticView {
    let mut t = Tree::new();
    let v = t.push_bytes(b"GET");
    t.push_node(NodeId::ROOT, Seg::Source(Source::Method), NodeKind::Leaf, v);
    let path = "/api/r7/42";
    let v = t.push_bytes(path.as_bytes());
    let p = t.push_node(NodeId::ROOT, Seg::Source(Source::Path), NodeKind::Leaf, v);
    for (i, s) in ["api", "r7", "42"].iter().enumerate() {
        let v = t.push_bytes(s.as_bytes());
        t.push_node(p, Seg::Index(i as u32), NodeKind::Leaf, v);
    }
    let v = t.push_bytes(b"q=red shoes&category=footwear&sort=price_asc&page=2&size=42");
    let q = t.push_node(NodeId::ROOT, Seg::Source(Source::Query), NodeKind::Leaf, v);
    for (k, v) in [
        ("q", "red shoes"),
        ("category", "footwear"),
        ("sort", "price_asc"),
        ("page", "2"),
        ("size", "42"),
    ] {
        leaf(&mut t, q, k, v);
    }
    let h = t.push_node(
        NodeId::ROOT,
        Seg::Source(Source::Header),
        NodeKind::Container,
        (0, 0),
    );
    for (k, v) in [
        ("host", "shop.example.com"),
        (
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0",
        ),
        ("accept", "text/html,application/xhtml+xml"),
        ("accept-language", "en-GB,en;q=0.9"),
    ] {
        leaf(&mut t, h, k, v);
    }
    StaticView {
        tree: t,
        client_ip: Some(b"203.0.113.7".to_vec()),
        ..StaticView::default()
    }
}

/// The JIT back-end; `RAMPART_JIT_OPT` sets cranelift's `opt_level`.
#[cfg(feature = "jit")]
fn jit() -> rampart_dsl::Jit {
    let mut j = rampart_dsl::Jit::default();
    match std::env::var("RAMPART_JIT_OPT").as_deref() {
        Ok("speed") => j.opt_level = "speed",
        Ok("speed_and_size") => j.opt_level = "speed_and_size",
        _ => {}
    }
    j
}

fn run(c: &mut Criterion, name: &str, eval: &dyn Evaluator, req: &StaticView) {
    let mut counters = MemoryCounters::default();
    let mut out = Outcome::default();
    c.bench_function(name, |b| {
        b.iter(|| {
            eval.evaluate(
                black_box(req),
                RulePhase::Request,
                &mut counters,
                0,
                &mut out,
            );
            black_box(out.matched.len())
        })
    });
}

fn bench(c: &mut Criterion) {
    let req = request();
    for (name, n, eps) in [
        ("1000_rules_unscoped", 1000, 0),
        ("1000_rules_100_endpoints", 1000, 100),
        ("10000_rules_1000_endpoints", 10_000, 1000),
    ] {
        let prog = Arc::new(
            compile_str("bench.rules", &rampart_dsl::synthetic::rules(n, eps))
                .expect("pack compiles"),
        );
        let eval = Interpreter.compile(prog.clone()).expect("interpreter");
        run(c, &format!("interpret/{name}"), &eval, &req);
        #[cfg(feature = "jit")]
        {
            let jit = jit().compile(prog).expect("jit");
            // The bench measures what the tests check: the same outcome.
            let (mut a, mut b) = (Outcome::default(), Outcome::default());
            eval.evaluate(
                &req,
                RulePhase::Request,
                &mut MemoryCounters::default(),
                0,
                &mut a,
            );
            jit.evaluate(
                &req,
                RulePhase::Request,
                &mut MemoryCounters::default(),
                0,
                &mut b,
            );
            assert_eq!(a, b, "back-ends disagree on {name}");
            run(c, &format!("jit/{name}"), &jit, &req);
        }
    }
    let big = rampart_dsl::synthetic::rules(10_000, 1000);
    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    g.bench_function("10000_rules", |b| {
        b.iter(|| {
            let prog = compile_str("bench.rules", black_box(&big)).expect("pack compiles");
            Interpreter.compile(Arc::new(prog)).expect("interpreter")
        })
    });
    #[cfg(feature = "jit")]
    g.bench_function("10000_rules_jit", |b| {
        b.iter(|| {
            let prog = compile_str("bench.rules", black_box(&big)).expect("pack compiles");
            jit().compile(Arc::new(prog)).expect("jit")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
