//! The type checker: AST to typed IR ([`crate::ir::Program`]), reporting
//! every problem it finds (it does not stop at the first).

mod actions;
mod calls;
mod expr;
mod funcs;

use std::collections::HashMap;

use crate::ast::{Action, ClauseKind, Item, Rule, RuleSet};
use crate::diag::{code, Diagnostic};
use crate::glob::Glob;
use crate::ir::{ActionIr, Origin, Program, RuleIr, RulePhase, Scope, Severity};
use crate::path::Template;
use crate::span::{SourceMap, Span};

use actions::actions;
use expr::ExprCx;

/// Checks the items of a rule set (includes already expanded) and lowers
/// them to IR. The program is complete only when no error was reported.
pub fn check(items: &[Item], sources: &SourceMap) -> (Program, Vec<Diagnostic>) {
    let mut ck = Checker {
        prog: Program::default(),
        diags: Vec::new(),
        path_ids: HashMap::new(),
        ids: HashMap::new(),
        sets: HashMap::new(),
        sources,
    };
    for item in items {
        match item {
            Item::Rule(r) => ck.rule(r, None),
            Item::RuleSet(s) => ck.ruleset(s),
            Item::Include(_) => {}
        }
    }
    // Evaluation order: priority descending, allow rules first within a
    // priority, then source order.
    let mut order: Vec<(usize, bool, RuleIr)> = std::mem::take(&mut ck.prog.rules)
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let allow = r.actions.iter().any(|a| matches!(a, ActionIr::Allow(_)));
            (i, allow, r)
        })
        .collect();
    order.sort_by(|a, b| {
        b.2.priority
            .cmp(&a.2.priority)
            .then(b.1.cmp(&a.1))
            .then(a.0.cmp(&b.0))
    });
    let mut remap = vec![0u32; order.len()];
    for (new, (old, _, _)) in order.iter().enumerate() {
        remap[*old] = new as u32;
    }
    ck.prog.rules = order.into_iter().map(|(_, _, r)| r).collect();
    for c in &mut ck.prog.counters {
        c.rule = remap.get(c.rule as usize).copied().unwrap_or(c.rule);
    }
    let mut diags = ck.diags;
    diags.sort_by_key(|d| (d.span.file, d.span.start));
    (ck.prog, diags)
}

struct Checker<'s> {
    prog: Program,
    diags: Vec<Diagnostic>,
    path_ids: HashMap<crate::path::PointPath, u32>,
    ids: HashMap<String, Span>,
    sets: HashMap<String, Span>,
    sources: &'s SourceMap,
}

/// Scope clauses a rule set passes on to its rules.
#[derive(Default, Clone)]
struct Inherited<'a> {
    name: Option<&'a str>,
    priority: i64,
    host: Option<&'a [crate::span::Spanned<String>]>,
    method: Option<&'a [crate::span::Spanned<String>]>,
    endpoint: Option<&'a [crate::span::Spanned<String>]>,
}

impl<'s> Checker<'s> {
    fn err(&mut self, code: &'static str, span: Span, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, span, msg));
    }

    fn ruleset(&mut self, s: &RuleSet) {
        if let Some(first) = self.sets.get(&s.name.value) {
            let at = self.sources.locate(*first).to_string();
            self.diags.push(
                Diagnostic::error(
                    code::DUPLICATE_RULESET,
                    s.name.span,
                    format!("rule set `{}` is defined twice", s.name.value),
                )
                .with_help(format!("first defined at {at}")),
            );
        } else {
            self.sets.insert(s.name.value.clone(), s.name.span);
        }
        if s.priority.value.abs() > 1_000_000 {
            self.err(
                code::BAD_METADATA,
                s.priority.span,
                "priority must be between -1000000 and 1000000",
            );
        }
        let mut inh = Inherited {
            name: Some(&s.name.value),
            priority: s.priority.value,
            ..Inherited::default()
        };
        let mut seen: Vec<&str> = Vec::new();
        for c in &s.clauses {
            let kw = c.kind.keyword();
            if seen.contains(&kw) {
                self.err(
                    code::DUPLICATE_CLAUSE,
                    c.keyword,
                    format!("duplicate `{kw}` clause in rule set `{}`", s.name.value),
                );
                continue;
            }
            seen.push(kw);
            match &c.kind {
                ClauseKind::Host(h) => inh.host = Some(h),
                ClauseKind::Method(m) => inh.method = Some(m),
                ClauseKind::Endpoint(e) => inh.endpoint = Some(e),
                _ => {}
            }
        }
        for r in &s.rules {
            self.rule(r, Some(&inh));
        }
    }

    fn rule(&mut self, r: &Rule, set: Option<&Inherited<'_>>) {
        let rule_idx = self.prog.rules.len() as u32;
        if let Some(first) = self.ids.get(&r.id.value) {
            let at = self.sources.locate(*first).to_string();
            self.diags.push(
                Diagnostic::error(
                    code::DUPLICATE_RULE,
                    r.id.span,
                    format!("rule id `{}` is defined twice", r.id.value),
                )
                .with_help(format!("first defined at {at}")),
            );
        } else {
            self.ids.insert(r.id.value.clone(), r.id.span);
        }
        let errors_before = self.diags.len();
        let mut seen: Vec<&str> = Vec::new();
        let mut tags = Vec::new();
        let mut severity = Severity::Medium;
        let mut confidence = 100u8;
        let mut origin = Origin::Custom;
        let mut hosts = set.and_then(|s| s.host);
        let mut methods = set.and_then(|s| s.method);
        let mut endpoints = set.and_then(|s| s.endpoint);
        let mut when = None;
        let mut then: Option<&[Action]> = None;
        for c in &r.clauses {
            let kw = c.kind.keyword();
            if seen.contains(&kw) {
                self.err(
                    code::DUPLICATE_CLAUSE,
                    c.keyword,
                    format!("duplicate `{kw}` clause in rule `{}`", r.id.value),
                );
                continue;
            }
            seen.push(kw);
            match &c.kind {
                ClauseKind::Tags(t) => tags = t.iter().map(|t| t.value.clone()).collect(),
                ClauseKind::Severity(s) => match Severity::parse(&s.value) {
                    Some(v) => severity = v,
                    None => self.diags.push(
                        Diagnostic::error(
                            code::BAD_METADATA,
                            s.span,
                            format!("unknown severity `{}`", s.value),
                        )
                        .with_help("use info, low, medium, high or critical"),
                    ),
                },
                ClauseKind::Confidence(n) => {
                    if (0.0..=100.0).contains(&n.value) && n.value.fract() == 0.0 {
                        confidence = n.value as u8;
                    } else {
                        self.err(
                            code::BAD_METADATA,
                            n.span,
                            format!("confidence is an integer from 0 to 100, found {}", n.value),
                        );
                    }
                }
                ClauseKind::Origin { kind, explanation } => {
                    match (kind.value.as_str(), explanation) {
                        ("custom", _) => origin = Origin::Custom,
                        ("learned", Some(e)) if !e.value.trim().is_empty() => {
                            origin = Origin::Learned(e.value.clone())
                        }
                        ("learned", _) => self.diags.push(
                            Diagnostic::error(
                                code::BAD_METADATA,
                                kind.span,
                                "a learned rule needs an explanation",
                            )
                            .with_help("origin learned \"why the learner wrote this rule\""),
                        ),
                        (other, _) => self.diags.push(
                            Diagnostic::error(
                                code::BAD_METADATA,
                                kind.span,
                                format!("unknown origin `{other}`"),
                            )
                            .with_help("use custom or learned \"explanation\""),
                        ),
                    }
                }
                ClauseKind::Host(h) => hosts = Some(h),
                ClauseKind::Method(m) => methods = Some(m),
                ClauseKind::Endpoint(e) => endpoints = Some(e),
                ClauseKind::When(e) => when = Some(e),
                ClauseKind::Then(a) => then = Some(a),
            }
        }
        let scope = self.scope(hosts, methods, endpoints);
        let Some(then) = then else {
            self.diags.push(
                Diagnostic::error(
                    code::NO_ACTION,
                    r.id.span,
                    format!("rule `{}` has no `then` clause", r.id.value),
                )
                .with_help("say what the rule does: then block, then monitor, then score(20, class = sqli), ..."),
            );
            return;
        };
        let mut cx = ExprCx::new(
            &mut self.prog,
            &mut self.diags,
            &mut self.path_ids,
            rule_idx,
            &scope.endpoints,
        );
        let cond = when.and_then(|e| cx.condition(e));
        let actions = actions(&mut cx, then);
        let phase = if cx.response {
            RulePhase::Response
        } else {
            RulePhase::Request
        };
        let slots = cx.slots;
        if self.diags.len() > errors_before {
            return;
        }
        let location = self.sources.locate(r.id.span).to_string();
        self.prog.rules.push(RuleIr {
            id: r.id.value.clone(),
            name: r.name.value.clone(),
            set: set.and_then(|s| s.name.map(str::to_string)),
            priority: set.map(|s| s.priority).unwrap_or(0),
            tags,
            severity,
            confidence,
            origin,
            scope,
            phase,
            cond,
            actions,
            slots,
            location,
        });
    }

    fn scope(
        &mut self,
        hosts: Option<&[crate::span::Spanned<String>]>,
        methods: Option<&[crate::span::Spanned<String>]>,
        endpoints: Option<&[crate::span::Spanned<String>]>,
    ) -> Scope {
        let mut scope = Scope::default();
        for h in hosts.unwrap_or(&[]) {
            let v = h.value.to_ascii_lowercase();
            let bad = v.is_empty()
                || !v
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.*?:[]".contains(&b));
            if bad {
                self.diags.push(
                    Diagnostic::error(
                        code::BAD_SCOPE,
                        h.span,
                        format!("`{}` is not a host pattern", h.value),
                    )
                    .with_help("a host name, optionally with * and ?: \"*.example.com\""),
                );
            } else {
                scope.hosts.push(Glob::new(v.as_bytes()));
            }
        }
        for m in methods.unwrap_or(&[]) {
            if m.value.bytes().all(|b| b.is_ascii_uppercase()) {
                scope.methods.push(m.value.clone());
            } else {
                self.diags.push(
                    Diagnostic::error(
                        code::BAD_SCOPE,
                        m.span,
                        format!("method `{}` must be written in upper case", m.value),
                    )
                    .with_help(format!("write {}", m.value.to_ascii_uppercase())),
                );
            }
        }
        for e in endpoints.unwrap_or(&[]) {
            match Template::parse(&e.value) {
                Ok(t) => scope.endpoints.push(t),
                Err(why) => self.err(
                    code::BAD_SCOPE,
                    e.span,
                    format!("bad endpoint template `{}`: {why}", e.value),
                ),
            }
        }
        scope
    }
}
