//! Phase 5: findings and what the rules said to a verdict, under the mode
//! and the policy.

use rampart_types::{Action, Class, Finding, Mode, Tree, Verdict};

use crate::config::{EngineConfig, LimitAction, PluginFailure};
use crate::rules::{RuleDecision, RulesReport};

/// The policy, in order:
/// 1. a rule's blocking action (`block`, a `rate_limit` that fires, a
///    `virtual_patch`; in monitor mode only a virtual patch blocks)
///    decides, with the rule's status;
/// 2. an attack class whose score reaches its threshold decides (the
///    highest-scoring such class). A class's score is the sum, over its
///    distinct detector rules, of each rule's strongest finding (findings
///    an `allow` exception covers do not count), plus the rules'
///    `score(n, class = C)`, plus their `score(n)` (which raises every
///    class that has a score);
/// 3. the rules' `score(n)` alone, when it reaches `policy.threshold`;
/// 4. an exhausted budget if `limits.action = block`;
/// 5. a plugin failure if `on_plugin_error = closed`;
/// 6. summed anomalies if `anomaly_threshold` is set and reached;
/// 7. a rule's `monitor` (or, in monitor mode, its would-be block) makes
///    the request monitored; when a decision of steps 2-6 would only be
///    logged too, the rule is reported as the reason.
///
/// In block mode a decision of steps 2-6 blocks; in monitor mode it is
/// logged (`Action::Monitor`) and the request passes.
pub(crate) fn decide(
    cfg: &EngineConfig,
    mode: Mode,
    tree: &Tree,
    findings: &[Finding],
    rules: &RulesReport,
) -> Verdict {
    if let Some(d) = rules
        .decision
        .as_ref()
        .filter(|d| d.action == Action::Block)
    {
        return rule_verdict(d);
    }
    let detected = deciding(cfg, findings, rules);
    // A rule's monitor stands before a detector decision that does not
    // block (the operator's rule names the reason).
    let action = match mode {
        Mode::Block => Action::Block,
        Mode::Monitor => Action::Monitor,
        Mode::Off => Action::Allow,
    };
    let dec = match (detected, &rules.decision) {
        (Some(dec), _) if action == Action::Block => dec,
        (_, Some(d)) => return rule_verdict(d),
        (Some(dec), None) => dec,
        (None, None) => return Verdict::allow(),
    };
    let mut v = Verdict::allow();
    v.action = action;
    v.status = if v.action == Action::Block {
        cfg.policy.block_status
    } else {
        200
    };
    v.class = dec.class;
    v.score = dec.score;
    match dec.top {
        Some(f) => {
            v.rule = Some(f.rule.to_string());
            v.point = Some(tree.path(f.point).to_string());
        }
        None => v.rule = dec.rule.map(str::to_string),
    }
    v
}

/// The response phase's rules: a block replaces any verdict that does not
/// block; a monitor replaces an allow.
pub(crate) fn apply_rule_decision(cfg: &EngineConfig, v: &mut Verdict, rules: &RulesReport) {
    let _ = cfg;
    let Some(d) = &rules.decision else {
        return;
    };
    let replace = match d.action {
        Action::Block => v.action != Action::Block,
        Action::Monitor => v.action == Action::Allow,
        Action::Allow => false,
    };
    if replace {
        *v = rule_verdict(d);
    }
}

fn rule_verdict(d: &RuleDecision) -> Verdict {
    let mut v = Verdict::allow();
    v.action = d.action;
    v.status = if d.action == Action::Block {
        d.status
    } else {
        200
    };
    v.rule = Some(d.rule.clone());
    v
}

struct Deciding<'a> {
    class: Option<Class>,
    score: u32,
    top: Option<&'a Finding>,
    /// The rule-language rule that decided, when no finding did.
    rule: Option<&'a str>,
}

fn deciding<'a>(
    cfg: &EngineConfig,
    findings: &'a [Finding],
    rules: &'a RulesReport,
) -> Option<Deciding<'a>> {
    // A class's score is the sum over its distinct rules of each rule's
    // strongest finding: the same evidence seen through several views of
    // one value (the raw value and its decoded layer, a parameter and the
    // whole query string) counts once, different evidence adds up.
    let mut best: Vec<(Class, &str, u8)> = Vec::with_capacity(findings.len().min(64));
    for f in findings {
        match best
            .iter_mut()
            .find(|(c, r, _)| *c == f.class && *r == f.rule.as_ref())
        {
            Some(b) => b.2 = b.2.max(f.score),
            None => best.push((f.class, f.rule.as_ref(), f.score)),
        }
    }
    let mut sums = [0i64; 128];
    let slot = |c: Class| (c.code() as usize) & 127;
    for &(c, _, score) in &best {
        sums[slot(c)] += i64::from(score);
    }
    let top_of = |c: Class| {
        findings
            .iter()
            .filter(|f| f.class == c)
            .max_by_key(|f| f.score)
    };
    let total = i64::from(rules.total_points);
    let score_of = |c: Class| -> i64 {
        let detected = sums[slot(c)];
        let points = i64::from(rules.points_for(c));
        if detected == 0 && points == 0 {
            return 0;
        }
        (detected + points + total).max(0)
    };
    let attack = Class::ALL
        .into_iter()
        .filter(|c| c.is_attack())
        .map(|c| (c, score_of(c)))
        .filter(|&(c, s)| s > 0 && s >= i64::from(cfg.policy.threshold_for(c)))
        .max_by_key(|&(_, s)| s);
    let clamp = |s: i64| u32::try_from(s).unwrap_or(u32::MAX);
    if let Some((c, s)) = attack {
        let rule = rules
            .class_points
            .iter()
            .find(|(x, _, _)| *x == c)
            .map(|(_, _, r)| r.as_str())
            .or(rules.total_rule.as_deref());
        return Some(Deciding {
            class: Some(c),
            score: clamp(s),
            top: top_of(c),
            rule,
        });
    }
    if total > 0 && total >= i64::from(cfg.policy.threshold) {
        return Some(Deciding {
            class: None,
            score: clamp(total),
            top: None,
            rule: rules.total_rule.as_deref(),
        });
    }
    let plain = |c: Class| {
        top_of(c).map(|f| Deciding {
            class: Some(c),
            score: clamp(sums[slot(c)]),
            top: Some(f),
            rule: None,
        })
    };
    if cfg.limits.action == LimitAction::Block {
        if let Some(d) = plain(Class::Limit) {
            return Some(d);
        }
    }
    if cfg.policy.on_plugin_error == PluginFailure::Closed {
        if let Some(d) = plain(Class::PluginError) {
            return Some(d);
        }
    }
    let anomalies = sums[slot(Class::Anomaly)];
    if cfg.policy.anomaly_threshold > 0 && anomalies >= i64::from(cfg.policy.anomaly_threshold) {
        return plain(Class::Anomaly);
    }
    None
}
