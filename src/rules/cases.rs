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

use anyhow::{bail, Context, Result};
use rampart_core::{Backend, Engine, EngineConfig, Inspection, RuleSet};
use rampart_dsl::ir::ActionIr;
use rampart_dsl::{compile, Program};
use rampart_types::{Action, Header, Mode, Request};
use serde::Deserialize;

use rampart_dsl::FsLoader;

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
    let mut engines = Engines::new(prog)?;
    let (mut passed, mut failed) = (0usize, 0usize);
    for case in &cases.cases {
        let mode = match &case.mode {
            Some(m) => parse_mode(Some(m))?,
            None => default_mode,
        };
        let got =
            run_case(engines.get(mode)?, case).with_context(|| format!("case `{}`", case.name))?;
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
    // `session` is sent the way a browser would: as a session cookie,
    // which the engine reads as `client.session`.
    if let Some(session) = &spec.session {
        let pair = format!("session={}", sub(session));
        match req
            .headers
            .iter_mut()
            .find(|h| h.name.eq_ignore_ascii_case(b"cookie"))
        {
            Some(h) => {
                h.value.extend_from_slice(b"; ");
                h.value.extend_from_slice(pair.as_bytes());
            }
            None => req.headers.push(Header {
                name: b"Cookie".to_vec(),
                value: pair.into_bytes(),
            }),
        }
    }
    let ip = spec.client_ip.as_deref().unwrap_or(DEFAULT_CLIENT);
    req.client_ip = Some(
        sub(ip)
            .parse()
            .with_context(|| format!("client_ip {ip:?} is not an address"))?,
    );
    Ok(req)
}

/// The client address of a case that names none (TEST-NET-3).
const DEFAULT_CLIENT: &str = "203.0.113.7";

fn yaml_text(v: &serde_yaml_ng::Value) -> Option<String> {
    match v {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One engine per mode, each with the built-in plugins and the rules
/// (on the reference interpreter), built when a case first needs it.
struct Engines {
    prog: Program,
    built: Vec<(Mode, Engine)>,
}

impl Engines {
    fn new(prog: Program) -> Result<Engines> {
        Ok(Engines {
            prog,
            built: Vec::new(),
        })
    }

    fn get(&mut self, mode: Mode) -> Result<&Engine> {
        if let Some(i) = self.built.iter().position(|(m, _)| *m == mode) {
            return Ok(&self.built[i].1);
        }
        let mut reg = rampart_core::Registry::new();
        rampart_builtin_plugins::register(&mut reg)?;
        let cfg = EngineConfig {
            mode,
            ..EngineConfig::default()
        };
        let eval = Backend::Interpreter
            .compile(self.prog.clone())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let engine = Engine::new(&reg, cfg)?.with_rules(RuleSet::new(eval));
        self.built.push((mode, engine));
        Ok(&self.built[self.built.len() - 1].1)
    }
}

fn run_case(engine: &Engine, case: &Case) -> Result<Verdicts> {
    let Some(rules) = engine.local_rules() else {
        bail!("the engine has no rules");
    };
    let prog = rules.program();
    // Each case starts with empty counters.
    rules.counters().clear();
    let repeat = case.repeat.unwrap_or(1).max(1);
    let step = duration_ms(case.interval.as_deref().unwrap_or("1s"))?;
    let mut ins = Inspection::new();
    for n in 1..=repeat {
        let req = build_request(&case.request, n)?;
        let now = u64::from(n).saturating_mul(step);
        engine.inspect_at(&req, &mut ins, now);
        if let Some(status) = case.request.status {
            engine.inspect_response_at(&mut ins, status, now);
        }
    }
    let r = &ins.rules;
    let v = &ins.verdict;
    Ok(Verdicts {
        matched: r.matched.clone(),
        suppressed: r.suppressed.clone(),
        tags: r.tags.clone(),
        masks: masked_paths(prog, &ins),
        action: Some(v.action),
        status: v.status,
        rule: v.rule.clone(),
    })
}

/// The `mask` paths as written in the rules whose points the request has.
fn masked_paths(prog: &Program, ins: &Inspection) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for rule in prog
        .rules
        .iter()
        .filter(|r| ins.rules.matched.contains(&r.id))
    {
        for a in &rule.actions {
            if let ActionIr::Mask(p) = a {
                let s = p.to_string();
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        }
    }
    out
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
