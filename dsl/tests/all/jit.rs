//! The JIT back-end beyond the golden tests (feature `jit`): a large
//! generated pack agrees with the interpreter, and a program the JIT
//! cannot take is refused, not run some other way.

use std::sync::Arc;

use rampart_dsl::ir::{Expr, Op, RulePhase, Ty};
use rampart_dsl::{compile_str, Evaluator, Interpreter, Jit, MemoryCounters, Outcome, RuleBackend};

use crate::support::Req;

/// Rules mixing every kind of atom, some scoped, some with exceptions.
fn pack(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let cond = match i % 8 {
            0 => format!("sqli(query.q) or contains(lower(header[\"user-agent\"]), \"scan{i}\")"),
            1 => format!("len(query.q) > {} and not is_int(query.page)", i % 7),
            2 => format!("any(query.*, it ~ \"*{}*\")", i % 10),
            3 => format!("header[\"x-token\"] in [\"t{i}\", \"u\"] or method == \"POST\""),
            4 => format!(
                "starts_with(query.q, \"{}\") or count(client.ip, 1m) > {}",
                i % 3,
                i % 5
            ),
            5 => "attack(any, class = xss, min_score = 50) and len(header.accept) > 3".into(),
            6 => format!(
                "all(query.*, len(it) < {}) and distinct(client.ip, query.q, 1m) > 1",
                i % 9
            ),
            _ => format!("num(query.page) >= {} and upper(query.q) != \"X\"", i % 4),
        };
        let scope = match i % 5 {
            0 => "method GET\n",
            1 => "endpoint \"/search\"\n",
            2 => "host \"*.example.com\"\n",
            _ => "",
        };
        let action = match i % 11 {
            0 => format!("allow(rules = [\"r{}\"])", i + 3),
            1 => "rate_limit(client.ip, limit = 2, window = 1m, ban = 1m)".into(),
            2 => "monitor".into(),
            _ => format!("score({}), tag(\"t{}\")", i % 9, i % 4),
        };
        s.push_str(&format!(
            "rule r{i} \"n\" {{\n{scope}when {cond}\nthen {action}\n}}\n"
        ));
    }
    s
}

#[test]
fn a_large_pack_agrees_with_the_interpreter() {
    let prog = Arc::new(compile_str("pack.rules", &pack(400)).expect("pack compiles"));
    let interp = Interpreter.compile(prog.clone()).expect("interpreter");
    let jit = Jit::default().compile(prog).expect("jit");
    let (mut ci, mut cj) = (MemoryCounters::default(), MemoryCounters::default());
    let reqs = [
        Req::get("/search?q=red+shoes&page=2&sort=price")
            .header("Host", "shop.example.com")
            .header("Accept", "text/html"),
        Req::post("/search?q=1&page=x").header("User-Agent", "Scan42 bot"),
        Req::get("/a?q=7<script>&page=10").header("X-Token", "u"),
    ];
    let mut matched = 0;
    for t in 0..6u64 {
        for (k, r) in reqs.iter().enumerate() {
            for phase in [RulePhase::Request, RulePhase::Response] {
                let (mut a, mut b) = (Outcome::default(), Outcome::default());
                interp.evaluate(&r.view, phase, &mut ci, t * 10_000, &mut a);
                jit.evaluate(&r.view, phase, &mut cj, t * 10_000, &mut b);
                assert_eq!(a, b, "request {k} at step {t} in {phase:?}");
                matched += a.matched.len();
            }
        }
    }
    assert!(matched > 100, "the pack should match often ({matched})");
    assert_eq!(jit.helper_panics(), 0);
}

#[test]
fn an_invalid_program_is_refused() {
    let mut prog = compile_str(
        "a.rules",
        "rule r \"n\" { when query.q == \"1\" then block }",
    )
    .expect("compiles");
    // An operand after its user breaks the IR contract.
    prog.exprs.push(Expr {
        op: Op::Not(u32::MAX - 1),
        ty: Ty::Bool,
    });
    let err = Jit::default().compile(Arc::new(prog)).expect_err("refused");
    assert!(err.0.contains("invalid program"), "{err}");
}

/// What the learners emit: per endpoint, unknown parameters, JSON members
/// and cookies by `name`, and characters never seen in a parameter by
/// the telemetry classes.
fn learned_pack(endpoints: usize) -> String {
    let mut s = String::new();
    for i in 0..endpoints {
        s.push_str(&format!(
            r#"rule q{i} "unknown query parameter" {{
    origin learned "parameters seen: q, page, p{i}"
    endpoint "/e{i}"
    when any(query.*, name(it) not in ["q", "page", "p{i}"])
    then score(20)
}}
rule j{i} "unknown JSON member" {{
    origin learned "members seen: name, tags"
    endpoint "/e{i}"
    when any(body:json.**, name(it) not in ["name", "tags", "m{i}"])
    then score(20), tag("unknown-member")
}}
rule c{i} "characters never seen" {{
    origin learned "q never held a quote, bracket or other punctuation"
    endpoint "/e{i}"
    when char_ratio(query.q, quote) > 0 or char_ratio(query.q, bracket) > 0
      or char_ratio(query.q, other_punct) > 0.{i}
      or all(query.*, char_ratio(it, safe_punct) == 0 and char_ratio(it, operator) < 0.5)
    then score(10)
}}
"#
        ));
    }
    s.push_str(
        r#"rule ck "unknown cookie" {
    when any(cookie.*, name(it) not in ["sid"] and distinct(client.ip, name(it), 1m) > 1)
    then tag("cookie")
}
"#,
    );
    s
}

#[test]
fn learned_rules_agree_with_the_interpreter() {
    let prog = Arc::new(compile_str("learned.rules", &learned_pack(10)).expect("pack compiles"));
    let interp = Interpreter.compile(prog.clone()).expect("interpreter");
    let jit = Jit::default().compile(prog).expect("jit");
    let (mut ci, mut cj) = (MemoryCounters::default(), MemoryCounters::default());
    let reqs = [
        Req::get("/e1?q=shoes&page=2&p1=x").cookie("sid", "1"),
        Req::get("/e2?q=o'brien&debug=1").cookie("trk", "1"),
        Req::get("/e3?q=a%23b&page=1;2").cookie("lang", "en"),
        Req::post("/e4?q=x")
            .leaf("body:json.name", "ann")
            .leaf("body:json.tags[0]", "a")
            .leaf("body:json.tags[1].m4", "b"),
        Req::post("/e5")
            .leaf("body:json.name", "ann")
            .leaf("body:json.role", "admin")
            .leaf("query.q:base64", "<(x)>"),
        Req::get("/e6?q=a.b&x=1=2"),
        Req::get("/e7"),
    ];
    let mut matched = 0;
    for t in 0..3u64 {
        for (k, r) in reqs.iter().enumerate() {
            let (mut a, mut b) = (Outcome::default(), Outcome::default());
            interp.evaluate(&r.view, RulePhase::Request, &mut ci, t * 1000, &mut a);
            jit.evaluate(&r.view, RulePhase::Request, &mut cj, t * 1000, &mut b);
            assert_eq!(a, b, "request {k} at step {t}");
            matched += a.matched.len();
        }
    }
    assert!(matched >= 15, "the learned rules should match ({matched})");
    assert_eq!(jit.helper_panics(), 0);
}
