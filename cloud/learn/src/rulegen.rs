//! From what the learners concluded to rules in the rule language.
//!
//! Every rule is written twice: as it reads while *monitoring* (its actions
//! are `monitor` and a tag, it never blocks nor scores) and as it reads when
//! *blocking*. The cloud stores the text of the state the rule is in; a
//! promotion rewrites it. Each rule carries `origin learned "..."` with the
//! evidence it stands on and a `confidence`, so an operator reading a pack
//! sees why the rule exists.
//!
//! Kinds of rules:
//! - **format** (positive security, per point): the values of a point were
//!   all of one format, within a length, and some character classes never
//!   occurred in them; a value outside that is refused. The condition uses
//!   the language's format tests (`is_int`, `is_uuid`, ...) where one exists
//!   and the telemetry's character classes (`char_ratio(it, quote) > 0`)
//!   for the rest: a class whose byte count is zero over thousands of values
//!   is absent from all of them, which the aggregates prove without ever
//!   holding a value.
//! - **parameters** (per endpoint and source): a member name outside those
//!   the endpoint was seen with (`name(it) not in [...]`).
//! - **endpoints** (per application): a path outside every learned template.
//! - **rate** (per business function): a client's requests to the
//!   function's endpoints above what normal clients ever reached.
//! - **distinct** (per object endpoint): a client walking more distinct
//!   object ids per minute than normal clients ever did (BOLA).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use rampart_dsl::fmt::quote;
use rampart_telemetry::shape::CHAR_CLASSES;
use rampart_telemetry::PointStats;
use serde::{Deserialize, Serialize};

use crate::{Function, ParamFormat};

/// What a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A point's values outside their learned format.
    Format,
    /// A parameter name the endpoint was never seen with.
    Parameters,
    /// A path outside every learned endpoint.
    Endpoints,
    /// Requests to a business function above the normal rate.
    Rate,
    /// Distinct object ids per client above the normal count.
    Distinct,
    /// A point holding personal data, masked in logs and events.
    Mask,
}

/// The state a learned rule is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Matches are logged, nothing is blocked.
    Monitoring,
    /// Matches are blocked.
    Blocking,
}

/// A generated rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnedRule {
    /// Rule id (`learned.<kind>.<digest>`), stable across runs for the
    /// same subject, so that a rule keeps its state and history.
    pub id: String,
    /// What it is about.
    pub kind: RuleKind,
    /// The evidence, in words (also in the rule's `origin`).
    pub explanation: String,
    /// How sure the learner is, 0..=1.
    pub confidence: f64,
    /// The requests (or values) the rule stands on: the denominator of its
    /// match rate while it monitors.
    pub support: u64,
    /// The text while monitoring.
    pub monitoring: String,
    /// The text when blocking.
    pub blocking: String,
}

impl LearnedRule {
    /// The rule's text for `state`.
    pub fn source(&self, state: State) -> &str {
        match state {
            State::Monitoring => &self.monitoring,
            State::Blocking => &self.blocking,
        }
    }
}

/// A point of an endpoint with its statistics and learned format.
#[derive(Debug, Clone)]
pub struct PointFacts {
    /// The point path as nodes report it (`query.page`, `body:json.user.id`).
    pub point: String,
    /// Its aggregates.
    pub stats: PointStats,
    /// Learned format.
    pub format: ParamFormat,
    /// Confidence of the format, 0..=1.
    pub confidence: f64,
}

/// An endpoint template and what is known of it.
#[derive(Debug, Clone)]
pub struct EndpointFacts {
    /// Upper-case method.
    pub method: String,
    /// Template in the rule language's syntax.
    pub template: String,
    /// A condition that selects the operation inside the endpoint (GraphQL,
    /// SOAP), when the template is one.
    pub operation: Option<String>,
    /// Business function, when known.
    pub function: Option<Function>,
    /// Requests seen.
    pub requests: u64,
    /// Its points.
    pub points: Vec<PointFacts>,
    /// Whether the node reported points it had to drop (the point list is
    /// then incomplete and no unknown-parameter rule is written).
    pub points_incomplete: bool,
}

/// A per-client rate of one business function that normal clients never
/// exceeded.
#[derive(Debug, Clone)]
pub struct RateFacts {
    /// The function.
    pub function: Function,
    /// Its endpoints: (method, template).
    pub endpoints: Vec<(String, String)>,
    /// Requests per client allowed in `window_secs`.
    pub limit: u64,
    /// The counting window, seconds.
    pub window_secs: u64,
    /// The evidence.
    pub explanation: String,
    /// Confidence, 0..=1.
    pub confidence: f64,
    /// Requests to the function's endpoints seen.
    pub support: u64,
}

/// Distinct object ids per client per minute that normal clients never
/// exceeded, on one endpoint.
#[derive(Debug, Clone)]
pub struct DistinctFacts {
    /// Method of the object endpoint.
    pub method: String,
    /// Its template.
    pub template: String,
    /// The template parameter holding the id.
    pub param: String,
    /// Distinct ids per client allowed in `window_secs`.
    pub limit: u64,
    /// The counting window, seconds.
    pub window_secs: u64,
    /// The evidence.
    pub explanation: String,
    /// Confidence, 0..=1.
    pub confidence: f64,
    /// Requests to the endpoint seen.
    pub support: u64,
}

/// Everything the generator reads.
#[derive(Debug, Clone, Default)]
pub struct AppFacts {
    /// The endpoints.
    pub endpoints: Vec<EndpointFacts>,
    /// Rate profiles.
    pub rates: Vec<RateFacts>,
    /// Distinct-id profiles.
    pub distinct: Vec<DistinctFacts>,
}

/// Thresholds of the generator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleGenConfig {
    /// Values a point must have had before a format rule is written.
    pub min_values: u64,
    /// Requests an endpoint must have had before a parameter rule is written.
    pub min_requests: u64,
    /// Format confidence below which no format test is written (the
    /// character-class and length parts still are).
    pub min_format_confidence: f64,
    /// Share of a point's values that must be of the format for the test.
    pub min_format_share: f64,
    /// Status of a blocking learned rule.
    pub block_status: u16,
    /// Whether to write the application-wide unknown-endpoint rule.
    pub unknown_endpoints: bool,
}

impl Default for RuleGenConfig {
    fn default() -> Self {
        RuleGenConfig {
            min_values: 50,
            min_requests: 100,
            min_format_confidence: 0.8,
            min_format_share: 0.999,
            block_status: 403,
            unknown_endpoints: true,
        }
    }
}

/// The telemetry classes a rule may test for absence, and their names in
/// the rule language (`char_ratio`'s class argument).
const ABSENT_CLASSES: &[(usize, &str)] = &[
    (1, "upper"),
    (3, "space"),
    (5, "quote"),
    (6, "bracket"),
    (7, "operator"),
    (8, "other_punct"),
    (9, "control"),
    (10, "non_ascii"),
];

/// Writes the rules for `facts`.
pub fn generate(facts: &AppFacts, cfg: &RuleGenConfig) -> Vec<LearnedRule> {
    let mut out = Vec::new();
    for ep in &facts.endpoints {
        for p in &ep.points {
            if let Some(r) = format_rule(ep, p, cfg) {
                out.push(r);
            }
            if let Some(r) = mask_rule(ep, p) {
                out.push(r);
            }
        }
        out.extend(parameter_rules(ep, cfg));
    }
    if cfg.unknown_endpoints {
        out.extend(endpoint_rule(&facts.endpoints, cfg));
    }
    for r in &facts.rates {
        out.extend(rate_rule(r, cfg));
    }
    for d in &facts.distinct {
        out.extend(distinct_rule(d, cfg));
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.dedup_by(|a, b| a.id == b.id);
    out
}

/// A counter window in the rule language (1 s to 1 d).
fn window(secs: u64) -> String {
    format!("{}s", secs.clamp(1, 86_400))
}

/// FNV-1a of the parts: a short, stable id suffix.
fn digest(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

/// A point path the rule language can name: no placeholder of a member
/// name the node did not admit, and a source rules may test.
fn ruleable(point: &str) -> bool {
    // A member below the source: `body:form` or `body:json` alone is a
    // whole body, not a parameter.
    let member = point
        .strip_prefix("body:")
        .map(|rest| rest.contains(['.', '[']))
        .unwrap_or(true);
    !point.contains('{')
        && member
        && (point.starts_with("query.")
            || point.starts_with("body:")
            || point.starts_with("cookie."))
}

/// The largest length a value of `s` can have had, from its log2 histogram:
/// the upper end of the highest non-empty bucket.
fn max_length(s: &PointStats) -> Option<u64> {
    let top = s.length.buckets.iter().rposition(|&n| n > 0)?;
    // Bucket 0 holds length 0; bucket i >= 1 holds [2^(i-1), 2^i).
    Some(if top == 0 {
        0
    } else {
        (1u64 << top.min(62)) - 1
    })
}

/// The test a value of `f` passes, over `it`.
fn format_test(f: ParamFormat) -> Option<&'static str> {
    Some(match f {
        ParamFormat::Integer => "is_int(it)",
        ParamFormat::Decimal => "is_number(it)",
        ParamFormat::Boolean => {
            "lower(it) in [\"true\", \"false\", \"0\", \"1\", \"yes\", \"no\", \"on\", \"off\"]"
        }
        ParamFormat::Uuid => "is_uuid(it)",
        ParamFormat::Hex => "is_hex(it)",
        ParamFormat::Base64 => "is_base64(it)",
        ParamFormat::Jwt => "is_jwt(it)",
        ParamFormat::Email => "is_email(it)",
        ParamFormat::Ip => "is_ip(it)",
        _ => return None,
    })
}

/// The share of a point's values the node counted as `f`'s own format.
fn format_share(s: &PointStats, f: ParamFormat) -> f64 {
    use rampart_telemetry::shape::Format as F;
    let total: u64 = s.formats.values().sum();
    if total == 0 {
        return 0.0;
    }
    let votes = |fs: &[F]| -> u64 {
        fs.iter()
            .map(|x| s.formats.get(x).copied().unwrap_or(0))
            .sum()
    };
    let own = match f {
        ParamFormat::Integer => votes(&[F::Int]),
        ParamFormat::Decimal => votes(&[F::Int, F::Decimal]),
        ParamFormat::Boolean => votes(&[F::Bool, F::Int]),
        ParamFormat::Uuid => votes(&[F::Uuid]),
        ParamFormat::Hex => votes(&[F::Hex, F::Int]),
        ParamFormat::Base64 => votes(&[F::Base64, F::Hex, F::Int, F::Word]),
        ParamFormat::Jwt => votes(&[F::Jwt]),
        ParamFormat::Email => votes(&[F::Email]),
        ParamFormat::Ip => votes(&[F::Ip]),
        _ => 0,
    };
    // Empty values pass a rule that only looks at present values' format:
    // they are tested by `len(it) > 0` where the format requires it.
    let empty = votes(&[F::Empty]);
    (own + empty) as f64 / total as f64
}

fn header(out: &mut String, id: &str, name: &str, explanation: &str, confidence: f64) {
    let _ = writeln!(out, "rule {id} {} {{", quote(name));
    let _ = writeln!(out, "    origin learned {}", quote(explanation));
    let _ = writeln!(
        out,
        "    confidence {}",
        (confidence.clamp(0.0, 1.0) * 100.0).round() as u32
    );
    let _ = writeln!(out, "    tags \"learned\"");
}

fn scope(out: &mut String, methods: &[&str], templates: &[&str]) {
    if !methods.is_empty() {
        let _ = writeln!(out, "    method {}", methods.join(", "));
    }
    if !templates.is_empty() {
        let list: Vec<String> = templates.iter().map(|t| quote(t)).collect();
        let _ = writeln!(out, "    endpoint {}", list.join(", "));
    }
}

/// The rule text in both states from its parts.
fn both(head: &str, when: &str, blocking_then: &str, kind_tag: &str) -> (String, String) {
    let monitoring =
        format!("{head}    when {when}\n    then monitor, tag(\"learned-{kind_tag}\")\n}}\n");
    let blocking = format!(
        "{head}    when {when}\n    then {blocking_then}, tag(\"learned-{kind_tag}\")\n}}\n"
    );
    (monitoring, blocking)
}

fn with_operation(ep: &EndpointFacts, cond: String) -> String {
    match &ep.operation {
        Some(op) => format!("({op}) and ({cond})"),
        None => cond,
    }
}

fn format_rule(ep: &EndpointFacts, p: &PointFacts, cfg: &RuleGenConfig) -> Option<LearnedRule> {
    let s = &p.stats;
    if s.count < cfg.min_values || !ruleable(&p.point) {
        return None;
    }
    let mut tests: Vec<String> = Vec::new();
    let mut evidence: Vec<String> = Vec::new();
    let share = format_share(s, p.format);
    if let Some(t) = format_test(p.format) {
        if p.confidence >= cfg.min_format_confidence && share >= cfg.min_format_share {
            tests.push(t.to_owned());
            evidence.push(format!(
                "{} in {:.2}% of {} values",
                p.format,
                share * 100.0,
                s.count
            ));
        }
    }
    if let Some(max) = max_length(s) {
        // One log2 bucket of slack: lengths are known to a factor of two.
        let bound = max.saturating_mul(2).max(8);
        tests.push(format!("len(it) <= {bound}"));
        evidence.push(format!("lengths below {}", max + 1));
    }
    let mut absent = Vec::new();
    let zero = |c: usize| c < CHAR_CLASSES.len() && s.chars.get(c).copied().unwrap_or(0) == 0;
    for &(class, name) in ABSENT_CLASSES {
        // The language counts a tab as a control character, the nodes as
        // space: "no control character" is only proved when there was no
        // tab either (telemetry space also zero).
        if zero(class) && (class != 9 || zero(3)) {
            tests.push(format!("char_ratio(it, {name}) == 0"));
            absent.push(name);
        }
    }
    if !absent.is_empty() {
        evidence.push(format!("never a character of class {}", absent.join(", ")));
    }
    if tests.is_empty() {
        return None;
    }
    let explanation = format!(
        "{} of {} {}: {}",
        p.point,
        ep.method,
        ep.template,
        evidence.join("; ")
    );
    // The more values stand behind it, the surer: 50 values 0.63, 500 1.0.
    let support = 1.0 - (-(s.count as f64) / 50.0).exp();
    let confidence = (p.confidence.clamp(0.0, 1.0) * support).clamp(0.0, 1.0);
    let id = format!(
        "learned.format.{}",
        digest(&[
            &ep.method,
            &ep.template,
            ep.operation.as_deref().unwrap_or(""),
            &p.point
        ])
    );
    let mut head = String::new();
    header(
        &mut head,
        &id,
        &format!("{} is {}", p.point, p.format),
        &explanation,
        confidence,
    );
    scope(&mut head, &[&ep.method], &[&ep.template]);
    let cond = with_operation(ep, format!("not all({}, {})", p.point, tests.join(" and ")));
    let (monitoring, blocking) = both(
        &head,
        &cond,
        &format!("block({})", cfg.block_status),
        "format",
    );
    Some(LearnedRule {
        id,
        kind: RuleKind::Format,
        explanation,
        confidence,
        support: s.count,
        monitoring,
        blocking,
    })
}

/// A mask for a point whose values are personal data. Masking never
/// blocks, so both states read the same.
fn mask_rule(ep: &EndpointFacts, p: &PointFacts) -> Option<LearnedRule> {
    if !p.format.personal_data() || !ruleable(&p.point) {
        return None;
    }
    let explanation = format!(
        "{} of {} {} holds personal data ({}, confidence {:.2})",
        p.point, ep.method, ep.template, p.format, p.confidence
    );
    let id = format!(
        "learned.mask.{}",
        digest(&[
            &ep.method,
            &ep.template,
            ep.operation.as_deref().unwrap_or(""),
            &p.point
        ])
    );
    let mut text = String::new();
    header(
        &mut text,
        &id,
        &format!("mask {} ({})", p.point, p.format),
        &explanation,
        p.confidence,
    );
    scope(&mut text, &[&ep.method], &[&ep.template]);
    let _ = writeln!(text, "    when exists({})", p.point);
    let _ = writeln!(text, "    then mask({})", p.point);
    text.push_str("}\n");
    Some(LearnedRule {
        id,
        kind: RuleKind::Mask,
        explanation,
        confidence: p.confidence.clamp(0.0, 1.0),
        support: p.stats.count,
        monitoring: text.clone(),
        blocking: text,
    })
}

/// The member names below `source` that a point list proves, or `None`
/// when one of them is a placeholder (names the node did not admit).
fn members(points: &[PointFacts], source: &str) -> Option<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for p in points {
        let Some(rest) = p.point.strip_prefix(source) else {
            continue;
        };
        let name = first_member(rest)?;
        if name.contains('{') {
            return None;
        }
        names.insert(name);
    }
    Some(names)
}

/// The first member step of a path tail: `.page` -> `page`,
/// `["a b"].x` -> `a b`, `[0]` -> `0`.
fn first_member(rest: &str) -> Option<String> {
    if let Some(r) = rest.strip_prefix('.') {
        let end = r.find(['.', '[', ':']).unwrap_or(r.len());
        return Some(r[..end].to_owned());
    }
    if let Some(r) = rest.strip_prefix("[\"") {
        let mut out = String::new();
        let mut esc = false;
        for c in r.chars() {
            match (esc, c) {
                (true, c) => {
                    out.push(c);
                    esc = false;
                }
                (false, '\\') => esc = true,
                (false, '"') => return Some(out),
                (false, c) => out.push(c),
            }
        }
        return None;
    }
    if let Some(r) = rest.strip_prefix('[') {
        let end = r.find(']')?;
        return Some(r[..end].to_owned());
    }
    None
}

fn parameter_rules(ep: &EndpointFacts, cfg: &RuleGenConfig) -> Vec<LearnedRule> {
    // An operation (GraphQL field, SOAP action) shares its body with the
    // other operations of its endpoint: the endpoint's own template holds
    // every member name.
    if ep.requests < cfg.min_requests || ep.points_incomplete || ep.operation.is_some() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for source in ["query", "body:form", "body:json"] {
        let Some(names) = members(&ep.points, source) else {
            continue;
        };
        if names.is_empty() {
            continue;
        }
        let list: Vec<String> = names.iter().map(|n| quote(n)).collect();
        let explanation = format!(
            "{} {} was requested {} times with {} members {}",
            ep.method,
            ep.template,
            ep.requests,
            source,
            names.iter().cloned().collect::<Vec<_>>().join(", ")
        );
        let support = 1.0 - (-(ep.requests as f64) / 200.0).exp();
        let id = format!(
            "learned.params.{}",
            digest(&[
                &ep.method,
                &ep.template,
                ep.operation.as_deref().unwrap_or(""),
                source
            ])
        );
        let mut head = String::new();
        header(
            &mut head,
            &id,
            &format!("unknown {source} member of {} {}", ep.method, ep.template),
            &explanation,
            support,
        );
        scope(&mut head, &[&ep.method], &[&ep.template]);
        // `.*` reaches the members that are leaves; `.*[*]` the elements of
        // array members (`a[]=1`), whose name is their member's. A member
        // without a name (a top-level JSON array) is not a new name.
        let list = list.join(", ");
        let cond = with_operation(
            ep,
            format!(
                "any({source}.*, name(it) ~ \"*\" and name(it) not in [{list}]) \
                 or any({source}.*[*], name(it) ~ \"*\" and name(it) not in [{list}])"
            ),
        );
        let (monitoring, blocking) = both(
            &head,
            &cond,
            &format!("block({})", cfg.block_status),
            "parameters",
        );
        out.push(LearnedRule {
            id,
            kind: RuleKind::Parameters,
            explanation,
            confidence: support,
            support: ep.requests,
            monitoring,
            blocking,
        });
    }
    out
}

/// A glob matching the paths of a template (`{x}` and `*` as one run of
/// bytes; `**` as anything).
fn template_glob(t: &str) -> String {
    t.split('/')
        .map(|seg| {
            if seg.starts_with('{') || seg == "*" || seg == "**" {
                "*".to_owned()
            } else {
                seg.replace('\\', "\\\\")
                    .replace('*', "\\*")
                    .replace('?', "\\?")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn endpoint_rule(eps: &[EndpointFacts], cfg: &RuleGenConfig) -> Option<LearnedRule> {
    let total: u64 = eps.iter().map(|e| e.requests).sum();
    if eps.is_empty() || total < cfg.min_requests {
        return None;
    }
    // A glob's `*` runs across `/`: a template that starts with a
    // parameter would admit every path. A busy one makes the rule
    // inexpressible; a rare one (a route word the nodes had not yet
    // admitted, `/{word}`) is left out.
    let mut globs = BTreeSet::new();
    for e in eps {
        let g = template_glob(&e.template);
        if g.starts_with("/*") {
            if e.requests.saturating_mul(100) >= total {
                return None;
            }
            continue;
        }
        globs.insert(g.clone());
        if g != "/" {
            globs.insert(format!("{g}/"));
        }
    }
    let alternatives: Vec<String> = globs
        .iter()
        .map(|g| format!("path ~ {}", quote(g)))
        .collect();
    let explanation = format!(
        "{} endpoint templates cover the {} requests seen",
        eps.len(),
        total
    );
    let confidence = 1.0 - (-(total as f64) / 1000.0).exp();
    let id = "learned.endpoints.unknown".to_owned();
    let mut head = String::new();
    header(
        &mut head,
        &id,
        "a path outside every learned endpoint",
        &explanation,
        confidence,
    );
    let cond = format!("not ({})", alternatives.join(" or "));
    let (monitoring, blocking) = both(&head, &cond, "score(20)", "endpoints");
    Some(LearnedRule {
        id,
        kind: RuleKind::Endpoints,
        explanation,
        confidence,
        support: total,
        monitoring,
        blocking,
    })
}

fn rate_rule(r: &RateFacts, _cfg: &RuleGenConfig) -> Option<LearnedRule> {
    if r.endpoints.is_empty() || r.limit == 0 || r.window_secs == 0 {
        return None;
    }
    let methods: BTreeSet<&str> = r.endpoints.iter().map(|(m, _)| m.as_str()).collect();
    let templates: BTreeSet<&str> = r.endpoints.iter().map(|(_, t)| t.as_str()).collect();
    let methods: Vec<&str> = methods.into_iter().collect();
    let templates: Vec<&str> = templates.into_iter().collect();
    let id = format!("learned.rate.{}", r.function);
    let mut head = String::new();
    header(
        &mut head,
        &id,
        &format!("{} requests per client above the learned rate", r.function),
        &r.explanation,
        r.confidence,
    );
    scope(&mut head, &methods, &templates);
    let (limit, w) = (r.limit, window(r.window_secs));
    let monitoring = format!(
        "{head}    when count(client.ip, {w}) > {limit}\n    then monitor, tag(\"learned-rate\")\n}}\n"
    );
    let blocking = format!(
        "{head}    then rate_limit(client.ip, limit = {limit}, window = {w}, ban = 5m), tag(\"learned-rate\")\n}}\n"
    );
    Some(LearnedRule {
        id,
        kind: RuleKind::Rate,
        explanation: r.explanation.clone(),
        confidence: r.confidence,
        support: r.support,
        monitoring,
        blocking,
    })
}

fn distinct_rule(d: &DistinctFacts, cfg: &RuleGenConfig) -> Option<LearnedRule> {
    if d.limit == 0 || d.window_secs == 0 {
        return None;
    }
    let id = format!(
        "learned.distinct.{}",
        digest(&[&d.method, &d.template, &d.param])
    );
    let mut head = String::new();
    header(
        &mut head,
        &id,
        &format!(
            "distinct {} per client on {} {}",
            d.param, d.method, d.template
        ),
        &d.explanation,
        d.confidence,
    );
    scope(&mut head, &[&d.method], &[&d.template]);
    let when = format!(
        "distinct(client.ip, path.{}, {}) > {}",
        d.param,
        window(d.window_secs),
        d.limit
    );
    let (monitoring, blocking) = both(
        &head,
        &when,
        &format!(
            "block({})",
            if cfg.block_status == 403 {
                429
            } else {
                cfg.block_status
            }
        ),
        "distinct",
    );
    Some(LearnedRule {
        id,
        kind: RuleKind::Distinct,
        explanation: d.explanation.clone(),
        confidence: d.confidence,
        support: d.support,
        monitoring,
        blocking,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_globs() {
        assert_eq!(first_member(".page").as_deref(), Some("page"));
        assert_eq!(first_member(".user.email").as_deref(), Some("user"));
        assert_eq!(first_member("[\"a \\\"b\"].x").as_deref(), Some("a \"b"));
        assert_eq!(template_glob("/users/{id}/orders"), "/users/*/orders");
        assert!(ruleable("body:form.user") && ruleable("query.q") && ruleable("body:json[0]"));
        assert!(!ruleable("body:form") && !ruleable("body:json.{word}") && !ruleable("path[1]"));
        assert_eq!(template_glob("/a*b"), "/a\\*b");
        assert_eq!(digest(&["a", "b"]), digest(&["a", "b"]));
        assert_ne!(digest(&["ab", ""]), digest(&["a", "b"]));
    }
}
