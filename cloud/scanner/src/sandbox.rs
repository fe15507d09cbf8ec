//! The rhai sandbox strategies run in, and the host API they see.
//!
//! The engine has no file system and no network of its own: the only way
//! out is `send`/`send_at`/`baseline`/`timings`, which go through the safe
//! sender. Limits: operations (`script_max_operations`), wall time
//! (`script_timeout_ms`, checked on every operation and before every
//! request), 32 call levels, expression depth 64, strings of 1 MiB, arrays
//! and maps of 10,000 items, 1,000 variables, 256 functions; `eval` is
//! disabled and module imports fail (dummy resolver, no modules allowed).
//! `print` and `debug` go to `tracing` (target `rampart_scanner::script`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rhai::{Array, Dynamic, Engine, EvalAltResult, ImmutableString, Map, FLOAT, INT};

use crate::html;
use crate::oob::{clean_marker, Oob};
use crate::point::{parse_point, Point, RequestDraft};
use crate::report::{Evidence, Verdict};
use crate::sender::{JobState, ProbeResponse, SafeSender, SendError};
use crate::Target;

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// Everything a running strategy reaches.
pub(crate) struct JobCtx {
    pub sender: Arc<SafeSender>,
    pub job: Arc<JobState>,
    pub target: Target,
    pub point: Point,
    pub params: Vec<(Point, String)>,
    pub original: String,
    pub handle: tokio::runtime::Handle,
    pub oob: Arc<Oob>,
    pub markers: Mutex<Vec<String>>,
}

impl JobCtx {
    /// The target's request with the parameters set, the probed point
    /// holding its original value, and `point` set to `value`.
    pub fn draft(&self, point: &Point, value: &str) -> Result<RequestDraft, SendError> {
        let mut d = RequestDraft::new(&self.target.method, &self.target.base, &self.target.path);
        for (p, v) in &self.params {
            d.set(p, v, true)
                .map_err(|e| SendError::Invalid(e.to_string()))?;
        }
        if point != &self.point {
            d.set(&self.point, &self.original, false)
                .map_err(|e| SendError::Invalid(e.to_string()))?;
        }
        d.set(point, value, false)
            .map_err(|e| SendError::Invalid(e.to_string()))?;
        Ok(d)
    }

    /// Sends from the blocking thread: the request runs on the runtime and
    /// this thread waits on a channel (no `block_on` inside the runtime).
    fn send_blocking(&self, point: &Point, value: &str) -> Result<ProbeResponse, SendError> {
        let draft = match self.draft(point, value) {
            Ok(d) => d,
            Err(e) => {
                self.job.record_fatal(&e);
                return Err(e);
            }
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let sender = self.sender.clone();
        let job = self.job.clone();
        let value = value.to_string();
        let point = point.clone();
        self.handle.spawn(async move {
            let r = sender.send(&job, draft, &point, &value).await;
            let _ = tx.send(r);
        });
        rx.recv()
            .map_err(|_| SendError::Invalid("the runtime dropped the request".into()))?
    }

    fn send_map(&self, point: &Point, value: &str) -> RhaiResult<Map> {
        match self.send_blocking(point, value) {
            Ok(r) => Ok(response_map(&r)),
            Err(e) => Err(e.to_string().into()),
        }
    }
}

fn response_map(r: &ProbeResponse) -> Map {
    let mut m = Map::new();
    m.insert(
        "id".into(),
        Dynamic::from(INT::try_from(r.id).unwrap_or(-1)),
    );
    m.insert("status".into(), Dynamic::from(INT::from(r.status)));
    let mut h = Map::new();
    for (k, v) in &r.headers {
        h.insert(k.as_str().into(), Dynamic::from(v.clone()));
    }
    m.insert("headers".into(), Dynamic::from_map(h));
    m.insert("body".into(), Dynamic::from(r.body.clone()));
    m.insert("time_ms".into(), Dynamic::from(r.time_ms as FLOAT));
    m.insert(
        "error".into(),
        match &r.error {
            Some(e) => Dynamic::from(e.clone()),
            None => Dynamic::UNIT,
        },
    );
    m
}

fn floats(a: &Array) -> Vec<f64> {
    a.iter()
        .filter_map(|d| {
            d.as_float()
                .ok()
                .or_else(|| d.as_int().ok().map(|i| i as f64))
        })
        .collect()
}

pub(crate) fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.iter().sum::<f64>() / v.len() as f64
}

/// Sample standard deviation (0 for fewer than two values).
pub(crate) fn stddev(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = mean(v);
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

pub(crate) fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn tokens(s: &str) -> Vec<&str> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Similarity of two texts in [0, 1]: the Dice coefficient of their
/// multisets of alphanumeric tokens (1 for two texts without tokens that
/// are equal, 0 when only one has tokens).
pub(crate) fn similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let ta = tokens(a);
    let tb = tokens(b);
    if ta.is_empty() && tb.is_empty() {
        return if a.trim() == b.trim() { 1.0 } else { 0.9 };
    }
    if ta.is_empty() || tb.is_empty() {
        return 0.0;
    }
    let mut counts: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for t in &ta {
        *counts.entry(t).or_insert(0) += 1;
    }
    let mut common = 0i64;
    for t in &tb {
        if let Some(c) = counts.get_mut(t) {
            if *c > 0 {
                *c -= 1;
                common += 1;
            }
        }
    }
    2.0 * common as f64 / (ta.len() + tb.len()) as f64
}

fn html_escape(s: &str, apos: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str(apos),
            c => o.push(c),
        }
    }
    o
}

/// `body` without the reflections of `values`: each as sent, HTML-escaped
/// (`&#39;`, `&#x27;`, `&apos;` for `'`), percent-encoded and JSON-escaped;
/// longer forms are removed first, so a probe that extends the original
/// value is removed whole before the original value is.
pub(crate) fn strip_reflection(body: &str, values: &[&str]) -> String {
    let mut forms: Vec<String> = Vec::new();
    for value in values.iter().filter(|v| !v.is_empty()) {
        let json = serde_json::to_string(value).unwrap_or_default();
        forms.extend([
            value.to_string(),
            html_escape(value, "&#39;"),
            html_escape(value, "&#x27;"),
            html_escape(value, "&apos;"),
            crate::point::percent_encode(value),
            json.trim_matches('"').to_string(),
        ]);
    }
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    let mut out = body.to_string();
    for f in forms {
        if !f.is_empty() {
            out = out.replace(&f, "");
        }
    }
    out
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    if getrandom::fill(&mut b).is_err() {
        // Fall back to the clock; markers only need to be unlikely to
        // collide, not secret.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        for (i, x) in b.iter_mut().enumerate() {
            *x = (t >> ((i % 16) * 8)) as u8 ^ (i as u8).wrapping_mul(31);
        }
    }
    b
}

/// `rmp` followed by 10 lower-case letters and digits.
pub(crate) fn random_marker() -> String {
    const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let b = random_bytes::<10>();
    let mut s = String::from("rmp");
    for x in b {
        s.push(char::from(ALPHA[usize::from(x) % ALPHA.len()]));
    }
    s
}

fn random_int(lo: INT, hi: INT) -> INT {
    if hi <= lo {
        return lo;
    }
    let span = (hi as i128 - lo as i128 + 1) as u128;
    let r = u64::from_le_bytes(random_bytes::<8>()) as u128;
    (lo as i128 + (r % span) as i128) as INT
}

fn verdict_map(verdict: &str, summary: &str, evidence: Dynamic) -> Map {
    let mut m = Map::new();
    m.insert("verdict".into(), Dynamic::from(verdict.to_string()));
    m.insert("summary".into(), Dynamic::from(summary.to_string()));
    let ev = if evidence.is_array() {
        evidence
    } else if evidence.is_unit() {
        Dynamic::from_array(Array::new())
    } else {
        Dynamic::from_array(vec![evidence])
    };
    m.insert("evidence".into(), ev);
    m
}

/// Limits of one run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_operations: u64,
    pub deadline: Instant,
    pub wall_ms: u64,
}

/// Builds the sandboxed engine with the host API bound to `ctx`.
pub(crate) fn engine(ctx: Arc<JobCtx>, limits: Limits) -> Engine {
    let mut e = Engine::new();
    e.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
    e.set_max_modules(0);
    e.disable_symbol("eval");
    e.set_max_operations(limits.max_operations);
    e.set_max_call_levels(32);
    e.set_max_expr_depths(64, 64);
    e.set_max_string_size(1 << 20);
    e.set_max_array_size(10_000);
    e.set_max_map_size(10_000);
    e.set_max_variables(1_000);
    e.set_max_functions(256);
    e.on_print(|s| tracing::info!(target: "rampart_scanner::script", "{s}"));
    e.on_debug(|s, src, pos| tracing::debug!(target: "rampart_scanner::script", ?src, %pos, "{s}"));
    let deadline = limits.deadline;
    e.on_progress(move |_| {
        (Instant::now() >= deadline).then(|| Dynamic::from("wall time exceeded"))
    });

    let c = ctx.clone();
    e.register_fn("baseline", move || -> RhaiResult<Map> {
        let v = c.original.clone();
        c.send_map(&c.point, &v)
    });
    let c = ctx.clone();
    e.register_fn("send", move |v: ImmutableString| -> RhaiResult<Map> {
        c.send_map(&c.point, &v)
    });
    let c = ctx.clone();
    e.register_fn(
        "send_at",
        move |p: ImmutableString, v: ImmutableString| -> RhaiResult<Map> {
            let point =
                parse_point(&p).map_err(|e| -> Box<EvalAltResult> { e.to_string().into() })?;
            c.send_map(&point, &v)
        },
    );
    let c = ctx.clone();
    e.register_fn(
        "timings",
        move |v: ImmutableString, n: INT| -> RhaiResult<Array> {
            let n = n.clamp(1, 20);
            let mut out = Array::new();
            for _ in 0..n {
                let r = c
                    .send_blocking(&c.point, &v)
                    .map_err(|e| -> Box<EvalAltResult> { e.to_string().into() })?;
                out.push(Dynamic::from(r.time_ms as FLOAT));
            }
            Ok(out)
        },
    );
    e.register_fn("random_marker", random_marker);
    e.register_fn("random_int", random_int);
    let c = ctx.clone();
    e.register_fn("payload", move || c.target.payload.clone());
    let c = ctx.clone();
    e.register_fn("point", move || c.target.point.clone());
    let c = ctx.clone();
    e.register_fn("class", move || c.target.class.clone());
    let c = ctx.clone();
    e.register_fn("original", move || c.original.clone());
    let c = ctx.clone();
    e.register_fn("requests_left", move || {
        INT::from(c.job.max_requests.saturating_sub(c.job.requests_sent()))
    });
    e.register_fn("mean", |a: Array| mean(&floats(&a)) as FLOAT);
    e.register_fn("stddev", |a: Array| stddev(&floats(&a)) as FLOAT);
    e.register_fn("median", |a: Array| median(&floats(&a)) as FLOAT);
    e.register_fn("min_of", |a: Array| {
        floats(&a).into_iter().reduce(f64::min).unwrap_or(0.0) as FLOAT
    });
    e.register_fn("max_of", |a: Array| {
        floats(&a).into_iter().reduce(f64::max).unwrap_or(0.0) as FLOAT
    });
    e.register_fn("similarity", |a: ImmutableString, b: ImmutableString| {
        similarity(&a, &b) as FLOAT
    });
    e.register_fn(
        "strip_reflection",
        |b: ImmutableString, v: ImmutableString| strip_reflection(&b, &[&v]),
    );
    e.register_fn("strip_reflection", |b: ImmutableString, vs: Array| {
        let owned: Vec<String> = vs.iter().map(|d| d.to_string()).collect();
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        strip_reflection(&b, &refs)
    });
    e.register_fn(
        "html_reflections",
        |body: ImmutableString, marker: ImmutableString| -> Array {
            html::reflections(&body, &marker)
                .into_iter()
                .map(|r| {
                    let mut m = Map::new();
                    m.insert("context".into(), Dynamic::from(r.context.to_string()));
                    m.insert(
                        "url_attr".into(),
                        Dynamic::from(html::is_url_attribute(&r.attr)),
                    );
                    m.insert("tag".into(), Dynamic::from(r.tag));
                    m.insert("attr".into(), Dynamic::from(r.attr));
                    m.insert("value".into(), Dynamic::from(r.value));
                    Dynamic::from_map(m)
                })
                .collect()
        },
    );
    let c = ctx.clone();
    e.register_fn("oob_url", move |m: ImmutableString| {
        let m = clean_marker(&m);
        if let Ok(mut ms) = c.markers.lock() {
            ms.push(m.clone());
        }
        c.oob.url(&m)
    });
    let c = ctx.clone();
    let oob_hits = move |m: ImmutableString, wait_ms: INT| -> INT {
        let wait = Duration::from_millis(u64::try_from(wait_ms.clamp(0, 10_000)).unwrap_or(0));
        let until = (Instant::now() + wait).min(c.job.deadline);
        loop {
            let n = c.oob.hits(&m);
            if n > 0 || Instant::now() >= until {
                return INT::from(n);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    };
    let h2 = oob_hits.clone();
    e.register_fn("oob_hits", move |m: ImmutableString| h2(m, 3_000));
    e.register_fn("oob_hits", oob_hits);
    e.register_fn("confirmed", |ev: Dynamic| verdict_map("confirmed", "", ev));
    e.register_fn("confirmed", |s: ImmutableString, ev: Dynamic| {
        verdict_map("confirmed", &s, ev)
    });
    e.register_fn("not_confirmed", |s: ImmutableString| {
        verdict_map("not_confirmed", &s, Dynamic::UNIT)
    });
    e.register_fn("inconclusive", |s: ImmutableString| {
        verdict_map("inconclusive", &s, Dynamic::UNIT)
    });
    e.register_fn(
        "evidence",
        |note: ImmutableString, resp: Map, proof: ImmutableString| -> Map {
            let mut m = Map::new();
            m.insert("note".into(), Dynamic::from(note.to_string()));
            m.insert("response".into(), Dynamic::from_map(resp));
            m.insert("proof".into(), Dynamic::from(proof.to_string()));
            m
        },
    );
    e
}

/// What a run produced, before the scanner turns it into a report.
#[derive(Debug)]
pub(crate) struct RunOutcome {
    pub verdict: Verdict,
    pub summary: String,
    pub evidence: Vec<Evidence>,
    pub error: Option<String>,
}

fn excerpt(status: u16, error: Option<&str>, body: &str, proof: &str) -> String {
    const HALF: usize = 1024;
    let head = match error {
        Some(e) if status == 0 => format!("(no response: {e})"),
        _ => format!("HTTP {status}"),
    };
    let pos = if proof.is_empty() {
        None
    } else {
        body.find(proof)
            .or_else(|| body.to_ascii_lowercase().find(&proof.to_ascii_lowercase()))
    };
    let (mut a, mut b) = match pos {
        Some(p) => (
            p.saturating_sub(HALF),
            (p + proof.len() + HALF).min(body.len()),
        ),
        None => (0, body.len().min(2 * HALF)),
    };
    while a > 0 && !body.is_char_boundary(a) {
        a -= 1;
    }
    while b < body.len() && !body.is_char_boundary(b) {
        b += 1;
    }
    let mut s = head;
    s.push('\n');
    if a > 0 {
        s.push_str("...");
    }
    s.push_str(&body[a..b]);
    if b < body.len() {
        s.push_str("...");
    }
    s
}

fn to_evidence(job: &JobState, d: &Dynamic) -> Option<Evidence> {
    let m = d.read_lock::<Map>()?;
    let note = m.get("note").map(|n| n.to_string()).unwrap_or_default();
    let proof = m.get("proof").map(|p| p.to_string()).unwrap_or_default();
    let id = match m.get("response") {
        Some(r) => r.read_lock::<Map>()?.get("id")?.as_int().ok()?,
        None => m.get("id")?.as_int().ok()?,
    };
    let x = job.exchange(usize::try_from(id).ok()?)?;
    Some(Evidence {
        note,
        response_excerpt: excerpt(x.status, x.error.as_deref(), &x.body, &proof),
        request: x.request,
    })
}

/// Runs a strategy to its verdict. Called on a blocking thread.
pub(crate) fn run(ctx: Arc<JobCtx>, source: &str, limits: Limits) -> RunOutcome {
    let job = ctx.job.clone();
    let engine = engine(ctx.clone(), limits);
    let result = engine
        .compile(source)
        .map_err(|e| format!("strategy does not compile: {e}"))
        .and_then(|ast| {
            engine.eval_ast::<Dynamic>(&ast).map_err(|e| match *e {
                EvalAltResult::ErrorTerminated(..) => {
                    format!(
                        "strategy stopped by the sandbox: wall time of {} ms exceeded",
                        limits.wall_ms
                    )
                }
                EvalAltResult::ErrorTooManyOperations(..) => format!(
                    "strategy stopped by the sandbox: more than {} operations",
                    limits.max_operations
                ),
                other => format!("strategy failed: {other}"),
            })
        });
    if let Ok(ms) = ctx.markers.lock() {
        ctx.oob.forget(&ms);
    }
    let fatal = job.fatal();
    let mut out = match result {
        Ok(d) => match d.read_lock::<Map>() {
            Some(m) => {
                let verdict = match m.get("verdict").map(|v| v.to_string()).as_deref() {
                    Some("confirmed") => Some(Verdict::Confirmed),
                    Some("not_confirmed") => Some(Verdict::NotConfirmed),
                    Some("inconclusive") => Some(Verdict::Inconclusive),
                    _ => None,
                };
                let summary = m.get("summary").map(|s| s.to_string()).unwrap_or_default();
                let evidence: Vec<Evidence> = match m.get("evidence") {
                    Some(e) if e.is_array() => e
                        .read_lock::<Array>()
                        .map(|a| a.iter().filter_map(|d| to_evidence(&job, d)).collect())
                        .unwrap_or_default(),
                    Some(e) => to_evidence(&job, e).into_iter().collect(),
                    None => Vec::new(),
                };
                match verdict {
                    Some(v) => RunOutcome {
                        verdict: v,
                        summary,
                        evidence,
                        error: None,
                    },
                    None => RunOutcome {
                        verdict: Verdict::Inconclusive,
                        summary: String::new(),
                        evidence,
                        error: Some(
                            "the strategy returned no verdict (expected #{verdict: ...})".into(),
                        ),
                    },
                }
            }
            None => RunOutcome {
                verdict: Verdict::Inconclusive,
                summary: String::new(),
                evidence: Vec::new(),
                error: Some(format!(
                    "the strategy returned {} instead of a verdict map",
                    d.type_name()
                )),
            },
        },
        Err(e) => RunOutcome {
            verdict: Verdict::Inconclusive,
            summary: String::new(),
            evidence: Vec::new(),
            error: Some(e),
        },
    };
    // A probe that safety stopped ends the job unless the strategy had
    // already proved its case: "not confirmed" needs all its probes.
    if let Some(f) = fatal {
        if out.verdict != Verdict::Confirmed {
            out.verdict = match f {
                SendError::NotAllowed(_) | SendError::Method(_) | SendError::Guard(_) => {
                    Verdict::Refused
                }
                _ => Verdict::Inconclusive,
            };
            out.error = Some(f.to_string());
        } else if out.error.is_none() {
            out.error = Some(format!("after the proof: {f}"));
        }
    }
    if out.summary.is_empty() {
        if let Some(e) = &out.error {
            out.summary = e.clone();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(mean(&v), 2.5);
        assert_eq!(median(&v), 2.5);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert!((stddev(&v) - 1.2909944).abs() < 1e-6);
        assert_eq!(stddev(&[1.0]), 0.0);
        assert_eq!(mean(&[]), 0.0);
    }

    #[test]
    fn similarity_and_reflection() {
        assert_eq!(similarity("a b c", "a b c"), 1.0);
        assert_eq!(similarity("[{\"id\":1}]", "[]"), 0.0);
        assert!(similarity("x y z w", "x y z q") > 0.7);
        let body = "Results for 1&#39; AND &#39;5&#39;=&#39;5: apple";
        assert_eq!(
            strip_reflection(body, &["1' AND '5'='5"]),
            "Results for : apple"
        );
        // the probe is removed whole before the original value it extends
        assert_eq!(
            strip_reflection("<h1>1' AND 1=1</h1>", &["1", "1' AND 1=1"]),
            "<h></h>"
        );
        assert_eq!(
            strip_reflection("<h1>1</h1>", &["1", "1' AND 1=1"]),
            "<h></h>"
        );
    }

    #[test]
    fn markers() {
        let m = random_marker();
        assert_eq!(m.len(), 13);
        assert!(m.starts_with("rmp"));
        assert_ne!(m, random_marker());
        for _ in 0..100 {
            let r = random_int(10, 12);
            assert!((10..=12).contains(&r));
        }
        assert_eq!(random_int(5, 1), 5);
    }

    #[test]
    fn excerpts() {
        let body = format!("{}PROOF{}", "a".repeat(3000), "b".repeat(3000));
        let e = excerpt(200, None, &body, "PROOF");
        assert!(e.starts_with("HTTP 200\n..."));
        assert!(e.contains("PROOF"));
        assert!(e.len() < 2200);
        assert_eq!(
            excerpt(0, Some("refused"), "", ""),
            "(no response: refused)\n"
        );
    }
}
