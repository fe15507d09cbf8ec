//! Phase 3: findings to a verdict, under the mode and the policy.

use rampart_types::{Action, Class, Finding, Mode, Tree, Verdict};

use crate::config::{EngineConfig, LimitAction, PluginFailure};

/// The policy, in order:
/// 1. an attack class whose score reaches its threshold decides (the
///    highest-scoring such class); a class's score is the sum, over its
///    distinct rules, of each rule's strongest finding;
/// 2. otherwise an exhausted budget decides if `limits.action = block`;
/// 3. otherwise a plugin failure decides if `on_plugin_error = closed`;
/// 4. otherwise summed anomalies decide if `anomaly_threshold` is set and
///    reached.
///
/// In block mode the decision blocks; in monitor mode it is logged
/// (`Action::Monitor`) and the request passes.
pub(crate) fn decide(cfg: &EngineConfig, tree: &Tree, findings: &[Finding]) -> Verdict {
    let mut v = Verdict::allow();
    let Some((class, score, top)) = deciding(cfg, findings) else {
        return v;
    };
    v.action = match cfg.mode {
        Mode::Block => Action::Block,
        Mode::Monitor => Action::Monitor,
        Mode::Off => Action::Allow,
    };
    v.status = if v.action == Action::Block {
        cfg.policy.block_status
    } else {
        200
    };
    v.class = Some(class);
    v.rule = Some(top.rule.to_string());
    v.point = Some(tree.path(top.point).to_string());
    v.score = score;
    v
}

fn deciding<'f>(cfg: &EngineConfig, findings: &'f [Finding]) -> Option<(Class, u32, &'f Finding)> {
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
    let mut sums = [0u32; 128];
    let slot = |c: Class| (c.code() as usize) & 127;
    for &(c, _, score) in &best {
        let s = &mut sums[slot(c)];
        *s = s.saturating_add(u32::from(score));
    }
    let top_of = |c: Class| {
        findings
            .iter()
            .filter(|f| f.class == c)
            .max_by_key(|f| f.score)
    };
    let attack = Class::ALL
        .into_iter()
        .filter(|c| c.is_attack())
        .filter(|&c| sums[slot(c)] > 0 && sums[slot(c)] >= cfg.policy.threshold_for(c))
        .max_by_key(|&c| sums[slot(c)]);
    if let Some(c) = attack {
        return top_of(c).map(|f| (c, sums[slot(c)], f));
    }
    if cfg.limits.action == LimitAction::Block {
        if let Some(f) = top_of(Class::Limit) {
            return Some((Class::Limit, sums[slot(Class::Limit)], f));
        }
    }
    if cfg.policy.on_plugin_error == PluginFailure::Closed {
        if let Some(f) = top_of(Class::PluginError) {
            return Some((Class::PluginError, sums[slot(Class::PluginError)], f));
        }
    }
    let anomalies = sums[slot(Class::Anomaly)];
    if cfg.policy.anomaly_threshold > 0 && anomalies >= cfg.policy.anomaly_threshold {
        return top_of(Class::Anomaly).map(|f| (Class::Anomaly, anomalies, f));
    }
    None
}
