use std::time::Duration;

use rampart_plugin_api::DecodeState;
use rampart_types::{Finding, Limits, Mode, NodeId, NodeKind, Request, Seg, Tree, Verdict};
use serde_json::{json, Value};

use crate::rules::{RuleState, RulesReport};

/// What a masked value is shown as.
pub const MASK: &str = "[masked]";

/// The result of inspecting one request: the request-point tree, the
/// findings of decoders and detectors, and the verdict. Reusable across
/// requests (see [`crate::Engine::inspect_into`]).
#[derive(Debug)]
pub struct Inspection {
    pub tree: Tree,
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
    pub decode_time: Duration,
    pub detect_time: Duration,
    /// What the rule language's rules said (empty without rules).
    pub rules: RulesReport,
    /// The mode the request was inspected in (the engine's, or an
    /// adapter's override): the response phase follows it.
    pub mode: Mode,
    pub(crate) rule_state: RuleState,
    pub(crate) state: DecodeState,
    pub(crate) scratch: Vec<u8>,
}

impl Default for Inspection {
    fn default() -> Self {
        Inspection::new()
    }
}

/// `hay` with every occurrence of `needle` replaced by [`MASK`].
fn cut(hay: &[u8], needle: &[u8]) -> Vec<u8> {
    if needle.is_empty() || hay.len() < needle.len() {
        return hay.to_vec();
    }
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(needle) {
            out.extend_from_slice(MASK.as_bytes());
            i += needle.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// Every byte but the unreserved ones (RFC 3986) as `%XX`.
fn percent_encoded(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * 3);
    for &b in v {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    out
}

fn raw_len(req: &Request) -> usize {
    req.method.len()
        + req.target.len()
        + req.body.len()
        + req
            .headers
            .iter()
            .map(|h| h.name.len() + h.value.len() + 4)
            .sum::<usize>()
}

impl Inspection {
    pub fn new() -> Inspection {
        Inspection {
            tree: Tree::new(),
            findings: Vec::new(),
            verdict: Verdict::allow(),
            decode_time: Duration::ZERO,
            detect_time: Duration::ZERO,
            rules: RulesReport::default(),
            mode: Mode::Block,
            rule_state: RuleState::default(),
            state: DecodeState::new(Limits::default(), 0),
            scratch: Vec::new(),
        }
    }

    pub(crate) fn reset(&mut self, limits: Limits, req: &Request) {
        self.tree.clear();
        self.findings.clear();
        self.verdict = Verdict::allow();
        self.decode_time = Duration::ZERO;
        self.detect_time = Duration::ZERO;
        self.rules.clear();
        self.rule_state.reset();
        // The tree holds a copy of the raw parts too: budget for them.
        self.state.reset(limits, raw_len(req).saturating_mul(2));
    }

    /// Records a finding noticed by the engine while decoding.
    pub(crate) fn findings_note(&mut self, f: Finding) {
        if self.state.findings.len() < 1024 {
            self.state.findings.push(f);
        }
    }

    /// Moves decode findings into `findings` (called between phases).
    pub(crate) fn take_decode_findings(&mut self) {
        // A plugin may name a point that does not exist: attach such a
        // finding to the request itself rather than trust it.
        let n = self.tree.len() as u32;
        for f in &mut self.state.findings {
            if f.point.0 >= n {
                f.point = NodeId::ROOT;
            }
            let len = self.tree.value(f.point).len() as u32;
            f.span.start = f.span.start.min(len);
            f.span.end = f.span.end.min(len).max(f.span.start);
        }
        self.findings.append(&mut self.state.findings);
    }

    /// The innermost points: leaves without layer children, with their
    /// paths and values (lossy UTF-8).
    pub fn innermost(&self) -> Vec<(String, String)> {
        self.tree
            .leaves()
            .filter(|&id| {
                !self
                    .tree
                    .children(id)
                    .any(|c| matches!(self.tree.node(c).seg, Seg::Layer(_)))
            })
            .map(|id| {
                (
                    self.tree.path(id).to_string(),
                    String::from_utf8_lossy(self.tree.value(id)).into_owned(),
                )
            })
            .collect()
    }

    /// The leaf points with paths and values.
    pub fn points(&self) -> Vec<(String, String)> {
        self.tree
            .leaves()
            .map(|id| {
                (
                    self.tree.path(id).to_string(),
                    String::from_utf8_lossy(self.tree.value(id)).into_owned(),
                )
            })
            .collect()
    }

    /// A point's value as logs and events show it: lossy UTF-8, or the
    /// mask when a rule masked the point (or a point above it).
    /// A masked value is also cut out of every other value that holds it
    /// verbatim or percent-encoded (the raw target, the whole query
    /// string, a header it was copied into).
    pub fn shown(&self, id: NodeId) -> String {
        self.shown_with(id, &self.masked_values())
    }

    /// The values of masked points (and the points below them) long
    /// enough to cut out of other values: short ones (`1`, `on`) would cut
    /// ordinary text.
    fn masked_values(&self) -> Vec<&[u8]> {
        if self.rules.masked.is_empty() {
            return Vec::new();
        }
        self.tree
            .ids()
            .filter(|&n| self.rules.is_masked(&self.tree, n))
            .map(|n| self.tree.value(n))
            .filter(|v| v.len() >= 4)
            .collect()
    }

    fn shown_with(&self, id: NodeId, secrets: &[&[u8]]) -> String {
        if self.rules.is_masked(&self.tree, id) {
            return MASK.to_string();
        }
        let v = self.tree.value(id);
        if secrets.is_empty() {
            return String::from_utf8_lossy(v).into_owned();
        }
        let mut out = v.to_vec();
        for secret in secrets {
            out = cut(&out, secret);
            out = cut(&out, &percent_encoded(secret));
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    fn rules_json(&self) -> Value {
        let r = &self.rules;
        json!({
            "matched": r.matched,
            "suppressed": r.suppressed,
            "tags": r.tags,
            "masked": r.masked.iter().map(|&n| self.tree.path(n).to_string()).collect::<Vec<_>>(),
            "excepted_findings": r.excepted.len(),
            "pack_version": r.pack_version,
            "evaluated": r.evaluated,
        })
    }

    /// The bytes a finding's span is in: the point's value, or its name.
    fn inspected(&self, f: &Finding) -> &[u8] {
        if f.on_name {
            self.tree
                .key(self.tree.node(f.point).seg)
                .unwrap_or_default()
        } else {
            self.tree.value(f.point)
        }
    }

    fn finding_json(&self, f: &Finding, secrets: &[&[u8]]) -> Value {
        let value = self.inspected(f);
        let (s, e) = (
            f.span.start as usize,
            (f.span.end as usize).min(value.len()),
        );
        let excerpt = if self.rules.is_masked(&self.tree, f.point) {
            MASK.to_string()
        } else if s < e {
            let mut x = value[s..e].to_vec();
            for secret in secrets {
                x = cut(&x, secret);
            }
            String::from_utf8_lossy(&x).into_owned()
        } else {
            String::new()
        };
        json!({
            "class": f.class.as_str(),
            "rule": f.rule,
            "score": f.score,
            "point": self.tree.path(f.point).to_string(),
            "in": if f.on_name { "name" } else { "value" },
            "span": [f.span.start, f.span.end],
            "excerpt": excerpt,
            "message": f.message,
            "origin": f.origin,
        })
    }

    fn verdict_json(&self) -> Value {
        let v = &self.verdict;
        json!({
            "action": v.action.as_str(),
            "status": v.status,
            "class": v.class.map(|c| c.as_str()),
            "rule": v.rule,
            "point": v.point,
            "score": v.score,
        })
    }

    /// The whole inspection as JSON: the leaf points, every node (flat,
    /// with parent ids), findings, verdict.
    pub fn to_json(&self) -> Value {
        let secrets = self.masked_values();
        let points: Vec<Value> = self
            .tree
            .leaves()
            .map(|id| {
                json!({"path": self.tree.path(id).to_string(), "value": self.shown_with(id, &secrets)})
            })
            .collect();
        json!({
            "points": points,
            "nodes": self.nodes_json(&secrets),
            "findings": self.findings.iter().map(|f| self.finding_json(f, &secrets)).collect::<Vec<_>>(),
            "verdict": self.verdict_json(),
            "rules": self.rules_json(),
            "decode_us": self.decode_time.as_secs_f64() * 1e6,
            "detect_us": self.detect_time.as_secs_f64() * 1e6,
        })
    }

    /// Every node, flat, in creation order: `id`, `parent` (absent for
    /// the root), `path`, `kind`, and `value` for leaves. Flat rather than
    /// nested, so that a deep tree is as easy to read as a shallow one.
    fn nodes_json(&self, secrets: &[&[u8]]) -> Vec<Value> {
        self.tree
            .ids()
            .map(|id| {
                let n = self.tree.node(id);
                let mut o = json!({
                    "id": id.0,
                    "path": self.tree.path(id).to_string(),
                    "kind": if n.kind == NodeKind::Leaf { "leaf" } else { "container" },
                });
                if let Some(p) = n.parent() {
                    o["parent"] = json!(p.0);
                }
                if n.kind == NodeKind::Leaf {
                    o["value"] = Value::String(self.shown_with(id, secrets));
                }
                o
            })
            .collect()
    }

    /// A human-readable rendering: one line per point, then findings and
    /// the verdict.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        s.push_str("points:\n");
        let secrets = self.masked_values();
        for id in self.tree.ids().skip(1) {
            let n = self.tree.node(id);
            let path = self.tree.path(id);
            if n.kind == NodeKind::Leaf {
                let v = self.shown_with(id, &secrets);
                let v: String = v
                    .chars()
                    .take(200)
                    .collect::<String>()
                    .escape_debug()
                    .to_string();
                s.push_str(&format!("  {path} = \"{v}\"\n"));
            } else {
                s.push_str(&format!("  {path} {{}}\n"));
            }
        }
        s.push_str("findings:\n");
        if self.findings.is_empty() {
            s.push_str("  (none)\n");
        }
        for f in &self.findings {
            s.push_str(&format!(
                "  [{}] {} score={} at {}{} span={}..{}: {}\n",
                f.class,
                f.rule,
                f.score,
                self.tree.path(f.point),
                if f.on_name { " (name)" } else { "" },
                f.span.start,
                f.span.end,
                f.message
            ));
        }
        if !self.rules.matched.is_empty() || !self.rules.suppressed.is_empty() {
            s.push_str(&format!(
                "rules: matched [{}], suppressed [{}], tags [{}]\n",
                self.rules.matched.join(", "),
                self.rules.suppressed.join(", "),
                self.rules.tags.join(", ")
            ));
        }
        let v = &self.verdict;
        s.push_str(&format!("verdict: {}", v.action.as_str()));
        if let (None, Some(r)) = (v.class, &v.rule) {
            s.push_str(&format!(" (status {}, rule {r})", v.status));
        }
        if let (Some(c), Some(r)) = (v.class, &v.rule) {
            s.push_str(&format!(
                " (status {}, class {c}, rule {r}, point {}, score {})",
                v.status,
                v.point.as_deref().unwrap_or("-"),
                v.score
            ));
        }
        s.push('\n');
        s
    }
}
