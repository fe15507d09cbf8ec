//! The per-request facts against the interpreter: answers kept for one
//! request never leak into the next, equal paths share one slot, and
//! programs with different layouts share a thread's table.

use std::sync::Arc;

use rampart_types::{Class, Finding, NodeId, NodeKind, Seg, Source, Tree};

use super::Jit;
use crate::backend::{Evaluator, Outcome, RuleBackend};
use crate::compile_str;
use crate::counters::MemoryCounters;
use crate::interp::Interpreter;
use crate::ir::{Op, Program, RulePhase};
use crate::view::StaticView;

/// A request: method, path, query parameters, headers, and findings on
/// query parameters (name, class, score).
fn request(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    findings: &[(&str, Class, u8)],
) -> StaticView {
    let mut t = Tree::new();
    let v = t.push_bytes(method.as_bytes());
    t.push_node(NodeId::ROOT, Seg::Source(Source::Method), NodeKind::Leaf, v);
    let v = t.push_bytes(path.as_bytes());
    t.push_node(NodeId::ROOT, Seg::Source(Source::Path), NodeKind::Leaf, v);
    let mut found = Vec::new();
    if !query.is_empty() {
        let whole: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let v = t.push_bytes(whole.join("&").as_bytes());
        let q = t.push_node(NodeId::ROOT, Seg::Source(Source::Query), NodeKind::Leaf, v);
        for (k, v) in query {
            let (start, end) = t.push_bytes(k.as_bytes());
            let v = t.push_bytes(v.as_bytes());
            let n = t.push_node(q, Seg::Key { start, end }, NodeKind::Leaf, v);
            for (name, class, score) in findings {
                if name == k {
                    found.push(Finding::new(n, *class, "test.rule", *score, "test"));
                }
            }
        }
    }
    let h = t.push_node(
        NodeId::ROOT,
        Seg::Source(Source::Header),
        NodeKind::Container,
        (0, 0),
    );
    for (k, v) in headers {
        let (start, end) = t.push_bytes(k.as_bytes());
        let v = t.push_bytes(v.as_bytes());
        t.push_node(h, Seg::Key { start, end }, NodeKind::Leaf, v);
    }
    StaticView {
        tree: t,
        findings: found,
        client_ip: Some(b"198.51.100.7".to_vec()),
        ..StaticView::default()
    }
}

fn requests() -> Vec<StaticView> {
    let ua = (
        "user-agent",
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    );
    vec![
        request("GET", "/", &[], &[ua], &[]),
        request(
            "GET",
            "/search",
            &[("q", "red shoes"), ("page", "2")],
            &[ua, ("accept", "text/html")],
            &[],
        ),
        request(
            "POST",
            "/search",
            &[("q", "1' or '1'='1"), ("sort", "a;b")],
            &[("user-agent", "Scanner/7 SCAN3"), ("x-token", "t3")],
            &[("q", Class::Sqli, 80)],
        ),
        request(
            "GET",
            "/a",
            &[("q", "<script>x</script>"), ("page", "x")],
            &[ua],
            &[("q", Class::Xss, 90)],
        ),
        request("GET", "/b", &[("sort", "price")], &[], &[]),
        // A finding on the second of several nodes.
        request(
            "GET",
            "/c",
            &[("sort", "z"), ("q", "<svg onload=1>")],
            &[ua],
            &[("q", Class::Xss, 70)],
        ),
    ]
}

/// Rules of every shape the facts answer for (absent paths, byte sets in
/// each form, findings at a node and anywhere, `exists`, `first`) and a
/// counter, so that a wrongly skipped evaluation shows.
fn pack(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let cond = match i % 12 {
            0 => format!(
                "sqli(query.q) or contains(lower(header[\"user-agent\"]), \"scan{}\")",
                i % 5
            ),
            1 => format!("len(query.q) > {} and not is_int(query.page)", i % 9),
            2 => format!(
                "any(query.*, it ~ \"*<script{}*\")",
                if i % 2 == 0 { "" } else { ">" }
            ),
            3 => format!(
                "header[\"x-token\"] in [\"t{}\", \"u\"] and method == \"POST\"",
                i % 4
            ),
            4 => format!(
                "starts_with(query.q, \"{}\") or ends_with(query.sort, \";b\")",
                i % 3
            ),
            5 => format!(
                "attack(any, class = xss, min_score = {}) and len(header.accept) > 3",
                50 + i % 50
            ),
            6 => format!(
                "all(query.*, contains(upper(it), \"{}\"))",
                ["S", "X", ""][i % 3]
            ),
            7 => "exists(query.sort) and not exists(query.nothing)".to_string(),
            8 => format!("count(query.q, 1m) > {}", i % 3),
            9 => format!("all(query.nothing, it == \"x\") and {}", i % 2 == 0),
            10 => format!(
                "xss(query.*, min_score = {}) or any(query.q, contains(it, \"'\"))",
                60 + i % 40
            ),
            _ => {
                "any(query.*, contains(trim(it), \"sh\")) or header.accept ~ \"*html*\"".to_string()
            }
        };
        let action = match i % 3 {
            0 => "block".to_string(),
            1 => format!("score({})", 1 + i % 20),
            _ => format!("tag(\"t{i}\")"),
        };
        s.push_str(&format!(
            "rule r{i} \"n\" {{\nwhen {cond}\nthen {action}\n}}\n"
        ));
    }
    s
}

/// Evaluates every request (in `order`, as indices) with both back-ends
/// and asserts equal outcomes.
fn agree(prog: Arc<Program>, order: &[usize], what: &str) {
    let interp = Interpreter.compile(prog.clone()).expect("interpreter");
    let jit = Jit::default().compile(prog).expect("jit");
    let reqs = requests();
    let (mut ci, mut cj) = (MemoryCounters::default(), MemoryCounters::default());
    for (step, &k) in order.iter().enumerate() {
        for phase in [RulePhase::Request, RulePhase::Response] {
            let (mut a, mut b) = (Outcome::default(), Outcome::default());
            let now = step as u64 * 1000;
            interp.evaluate(&reqs[k], phase, &mut ci, now, &mut a);
            jit.evaluate(&reqs[k], phase, &mut cj, now, &mut b);
            assert_eq!(a, b, "{what}: request {k} at step {step} in {phase:?}");
        }
    }
    assert_eq!(jit.helper_panics(), 0, "{what}");
}

#[test]
fn facts_of_one_request_do_not_reach_the_next() {
    let prog = Arc::new(compile_str("facts.rules", &pack(120)).expect("pack compiles"));
    // Each request after each other one, twice in a row.
    let mut order = Vec::new();
    for a in 0..6 {
        for b in 0..6 {
            order.extend([a, b, b]);
        }
    }
    agree(prog, &order, "pack");
}

#[test]
fn equal_paths_share_one_slot() {
    let mut prog = compile_str("dup.rules", &pack(24)).expect("pack compiles");
    // Give each quantifier its own copy of its path, as a program built
    // without the checker's interning could.
    let mut exprs = prog.exprs.clone();
    for e in &mut exprs {
        let p = match &mut e.op {
            Op::Any { path, .. } | Op::All { path, .. } | Op::Exists(path) | Op::First(path) => {
                path
            }
            _ => continue,
        };
        prog.paths.push(prog.paths[*p as usize].clone());
        *p = (prog.paths.len() - 1) as u32;
    }
    prog.exprs = exprs;
    prog.validate().expect("still a valid program");
    agree(
        Arc::new(prog),
        &[0, 1, 2, 3, 4, 5, 2, 1, 0, 3, 5, 3],
        "duplicated paths",
    );
}

#[test]
fn programs_with_different_layouts_share_the_thread() {
    let small = Arc::new(compile_str("s.rules", &pack(12)).expect("compiles"));
    let big = Arc::new(
        compile_str(
            "b.rules",
            &format!(
                "{}rule extra \"n\" {{\nwhen any(header.*, it ~ \"*7*\")\nthen block\n}}\n",
                pack(60)
            ),
        )
        .expect("compiles"),
    );
    let reqs = requests();
    let evals: Vec<_> = [small, big]
        .into_iter()
        .map(|p| {
            (
                Interpreter.compile(p.clone()).expect("interpreter"),
                Jit::default().compile(p).expect("jit"),
            )
        })
        .collect();
    let mut counters: Vec<_> = (0..4).map(|_| MemoryCounters::default()).collect();
    for step in 0..20u64 {
        let k = (step as usize * 3) % reqs.len();
        for (j, (interp, jit)) in evals.iter().enumerate() {
            let (mut a, mut b) = (Outcome::default(), Outcome::default());
            let (ci, cj) = counters.split_at_mut(2 * j + 1);
            interp.evaluate(&reqs[k], RulePhase::Request, &mut ci[2 * j], step, &mut a);
            jit.evaluate(&reqs[k], RulePhase::Request, &mut cj[0], step, &mut b);
            assert_eq!(a, b, "program {j}, request {k} at step {step}");
        }
    }
    for (_, jit) in &evals {
        assert_eq!(jit.helper_panics(), 0);
    }
}
