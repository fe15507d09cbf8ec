//! `rampart rules test FILE --cases CASES.yaml`: rule unit tests.
//!
//! Each case is a request (method, target, headers, body or JSON, client
//! address, session, response status) and what the rules must say about
//! it. The request goes through the engine with the built-in decoders and
//! detectors, so conditions see the same request points and findings as on
//! a node; the rules then run on the reference interpreter. A case may
//! send its request several times (`repeat`, `interval`; `{n}` in the
//! request is replaced by the request's number, from 1) to exercise
//! counters and rate limits; the expectations apply to the last request.
//!
//! ```yaml
//! mode: block                 # default for every case: block or monitor
//! cases:
//!   - name: six logins in a minute are too many
//!     request:
//!       method: POST
//!       target: /login
//!       headers: { Host: shop.example.com }
//!       body: user=alice&password=x{n}
//!       client_ip: 198.51.100.4
//!     repeat: 6
//!     interval: 5s
//!     expect:
//!       decision: block       # allow, monitor or block
//!       status: 429
//!       rule: login-rate      # the rule that decided
//!       matched: [login-rate] # exactly these rules matched (any order)
//!       tags: []              # exactly these tags
//!       masks: []             # exactly these masked points
//!       suppressed: []        # exactly these rules were suppressed
//! ```
//!
//! A case with `status` also runs the response phase (unless the request
//! phase blocked); its matches, tags and masks join the request phase's
//! and a blocking decision of either phase wins.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use rampart_core::{Engine, EngineConfig, Inspection};
use rampart_dsl::ir::RulePhase;
use rampart_dsl::{
    compile, Evaluator, Interpreter, MemoryCounters, Outcome, Program, RequestView, RuleBackend,
};
use rampart_types::{Action, Finding, Header, Mode, Request, Tree};
use serde::Deserialize;

use super::FsLoader;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(default)]
    mode: Option<String>,
    cases: Vec<Case>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    request: RequestSpec,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    repeat: Option<u32>,
    #[serde(default)]
    interval: Option<String>,
    expect: Expect,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RequestSpec {
    #[serde(default)]
    method: Option<String>,
    target: String,
    #[serde(default)]
    headers: serde_yaml_ng::Mapping,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    json: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    client_ip: Option<String>,
    #[serde(default)]
    session: Option<String>,
    #[serde(default)]
    status: Option<u16>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct Expect {
    matched: Option<Vec<String>>,
    decision: Option<String>,
    status: Option<u16>,
    rule: Option<String>,
    tags: Option<Vec<String>>,
    masks: Option<Vec<String>>,
    suppressed: Option<Vec<String>>,
}

/// A [`RequestView`] over an engine [`Inspection`] and what the case says
/// about the client and the response.
pub struct InspectionView<'a> {
    pub ins: &'a Inspection,
    pub client_ip: Option<&'a [u8]>,
    pub session: Option<&'a [u8]>,
    pub status: Option<u16>,
}

impl RequestView for InspectionView<'_> {
    fn tree(&self) -> &Tree {
        &self.ins.tree
    }

    fn findings(&self) -> &[Finding] {
        &self.ins.findings
    }

    fn client_ip(&self) -> Option<&[u8]> {
        self.client_ip
    }

    fn client_session(&self) -> Option<&[u8]> {
        self.session
    }

    fn response_status(&self) -> Option<u16> {
        self.status
    }
}

/// What the rules said about the last request of a case.
#[derive(Debug, Default)]
struct Verdicts {
    matched: Vec<String>,
    suppressed: Vec<String>,
    tags: Vec<String>,
    masks: Vec<String>,
    action: Option<Action>,
    status: u16,
    rule: Option<String>,
}

pub fn run(file: &Path, cases_path: &Path) -> Result<i32> {
    let name = file.to_string_lossy();
    let prog = match compile(&name, &mut FsLoader::default()) {
        Ok(p) => p,
        Err(d) => {
            eprint!("{}", d.render());
            eprintln!("{name}: the rules do not compile");
            return Ok(1);
        }
    };
    let text = std::fs::read_to_string(cases_path)
        .with_context(|| format!("cannot read {}", cases_path.display()))?;
    let cases: CaseFile = serde_yaml_ng::from_str(&text)
        .with_context(|| format!("{}: not a valid cases file", cases_path.display()))?;
    let default_mode = parse_mode(cases.mode.as_deref())?;
    let eval = Interpreter
        .compile(Arc::new(prog))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut reg = rampart_core::Registry::new();
    rampart_builtin_plugins::register(&mut reg)?;
    let engine = Engine::new(&reg, EngineConfig::default())?;
    let (mut passed, mut failed) = (0usize, 0usize);
    for case in &cases.cases {
        let mode = match &case.mode {
            Some(m) => parse_mode(Some(m))?,
            None => default_mode,
        };
        let got = run_case(&engine, &eval, case, mode)
            .with_context(|| format!("case `{}`", case.name))?;
        let problems = compare(&case.expect, &got);
        if problems.is_empty() {
            passed += 1;
            println!("ok    {}", case.name);
        } else {
            failed += 1;
            println!("FAIL  {}", case.name);
            for p in problems {
                println!("      {p}");
            }
        }
    }
    println!("rules: {passed} passed, {failed} failed");
    Ok(i32::from(failed > 0))
}

fn parse_mode(m: Option<&str>) -> Result<Mode> {
    match m {
        None => Ok(Mode::Block),
        Some(s) => match Mode::parse(s) {
            Some(Mode::Off) | None => bail!("mode {s:?}: expected block or monitor"),
            Some(m) => Ok(m),
        },
    }
}

/// `500ms`, `20s`, `1m`, `1h` in milliseconds.
fn duration_ms(s: &str) -> Result<u64> {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let n: u64 = digits
        .parse()
        .with_context(|| format!("interval {s:?}: expected a duration such as 500ms, 20s, 1m"))?;
    let unit = match &s[digits.len()..] {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        other => bail!("interval {s:?}: unknown unit {other:?}"),
    };
    Ok(n.saturating_mul(unit))
}

fn build_request(spec: &RequestSpec, n: u32) -> Result<Request> {
    let sub = |s: &str| s.replace("{n}", &n.to_string());
    let mut req = Request::new(
        &sub(spec.method.as_deref().unwrap_or("GET")),
        &sub(&spec.target),
    );
    let mut has_ct = false;
    for (k, v) in &spec.headers {
        let (Some(k), Some(v)) = (yaml_text(k), yaml_text(v)) else {
            bail!("headers: names and values are strings or numbers");
        };
        has_ct |= k.eq_ignore_ascii_case("content-type");
        req.headers.push(Header {
            name: k.into_bytes(),
            value: sub(&v).into_bytes(),
        });
    }
    if spec.body.is_some() && spec.json.is_some() {
        bail!("a request has `body` or `json`, not both");
    }
    if let Some(b) = &spec.body {
        req.body = sub(b).into_bytes();
    }
    if let Some(j) = &spec.json {
        req.body = sub(&serde_json::to_string(j)?).into_bytes();
        if !has_ct {
            req.headers.push(Header {
                name: b"Content-Type".to_vec(),
                value: b"application/json".to_vec(),
            });
        }
    }
    if !req.body.is_empty() {
        req.headers.push(Header {
            name: b"Content-Length".to_vec(),
            value: req.body.len().to_string().into_bytes(),
        });
    }
    req.client_ip = match &spec.client_ip {
        Some(ip) => Some(
            sub(ip)
                .parse()
                .with_context(|| format!("client_ip {ip:?} is not an address"))?,
        ),
        None => None,
    };
    Ok(req)
}

fn yaml_text(v: &serde_yaml_ng::Value) -> Option<String> {
    match v {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn run_case(engine: &Engine, eval: &dyn Evaluator, case: &Case, mode: Mode) -> Result<Verdicts> {
    let prog = eval.program();
    let repeat = case.repeat.unwrap_or(1).max(1);
    let step = duration_ms(case.interval.as_deref().unwrap_or("1s"))?;
    let mut counters = MemoryCounters::default();
    let mut res = Verdicts::default();
    for n in 1..=repeat {
        let req = build_request(&case.request, n)?;
        let ins = engine.inspect(&req);
        let ip = req
            .client_ip
            .map(|a| a.to_string())
            .unwrap_or_else(|| "203.0.113.7".into());
        let session = case
            .request
            .session
            .as_ref()
            .map(|s| s.replace("{n}", &n.to_string()));
        let mut view = InspectionView {
            ins: &ins,
            client_ip: Some(ip.as_bytes()),
            session: session.as_deref().map(str::as_bytes),
            status: None,
        };
        let now = u64::from(n).saturating_mul(step);
        let mut outs = vec![Outcome::default()];
        eval.evaluate(&view, RulePhase::Request, &mut counters, now, &mut outs[0]);
        let mut decision = outs[0].decide(prog, mode);
        if decision.action != Action::Block && case.request.status.is_some() {
            view.status = case.request.status;
            let mut out = Outcome::default();
            eval.evaluate(&view, RulePhase::Response, &mut counters, now, &mut out);
            let d = out.decide(prog, mode);
            if d.action == Action::Block || decision.action == Action::Allow {
                decision = d;
            }
            outs.push(out);
        }
        res = describe(prog, &outs);
        res.action = Some(decision.action);
        res.status = decision.status;
        res.rule = decision
            .rule
            .and_then(|r| prog.rules.get(r as usize))
            .map(|r| r.id.clone());
    }
    Ok(res)
}

fn describe(prog: &Program, outs: &[Outcome]) -> Verdicts {
    let mut r = Verdicts::default();
    let id = |i: &u32| prog.rules.get(*i as usize).map(|r| r.id.clone());
    for o in outs {
        push_all(&mut r.matched, o.matched.iter().filter_map(id));
        push_all(&mut r.suppressed, o.suppressed.iter().filter_map(id));
        push_all(&mut r.tags, o.tags(prog).into_iter().map(String::from));
        push_all(
            &mut r.masks,
            o.masks(prog).into_iter().map(|p| p.to_string()),
        );
    }
    r
}

fn push_all(into: &mut Vec<String>, items: impl Iterator<Item = String>) {
    for s in items {
        if !into.contains(&s) {
            into.push(s);
        }
    }
}

fn action_name(a: Option<Action>) -> &'static str {
    match a {
        Some(Action::Block) => "block",
        Some(Action::Monitor) => "monitor",
        _ => "allow",
    }
}

fn compare(want: &Expect, got: &Verdicts) -> Vec<String> {
    let mut problems = Vec::new();
    let mut set = |what: &str, w: &Option<Vec<String>>, g: &[String]| {
        if let Some(w) = w {
            let (mut a, mut b) = (w.clone(), g.to_vec());
            a.sort();
            b.sort();
            if a != b {
                problems.push(format!("{what}: expected {w:?}, got {g:?}"));
            }
        }
    };
    set("matched", &want.matched, &got.matched);
    set("suppressed", &want.suppressed, &got.suppressed);
    set("tags", &want.tags, &got.tags);
    set("masks", &want.masks, &got.masks);
    if let Some(d) = &want.decision {
        let g = action_name(got.action);
        if d != g {
            problems.push(format!("decision: expected {d}, got {g}"));
        }
    }
    if let Some(s) = want.status {
        let blocked = got.action == Some(Action::Block);
        if !blocked || s != got.status {
            let g = if blocked {
                got.status.to_string()
            } else {
                "no block".to_string()
            };
            problems.push(format!("status: expected {s}, got {g}"));
        }
    }
    if let Some(r) = &want.rule {
        if got.rule.as_deref() != Some(r) {
            problems.push(format!("rule: expected {r}, got {:?}", got.rule));
        }
    }
    problems
}
