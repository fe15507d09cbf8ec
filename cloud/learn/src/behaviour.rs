//! Layer 3 of the learners: how clients behave, from per-client aggregates
//! only ([`ClientStats`]: counts, the endpoints and transitions a client
//! used, a HyperLogLog of the object ids in its paths).
//!
//! What is learned from normal traffic:
//!
//! - a burn [`AutoEncoder`] over standardised per-client feature vectors
//!   ([`features`], [`FEATURES`]); its reconstruction error is the anomaly
//!   score, and the threshold is calibrated on *held-out* normal clients so
//!   that at most [`BehaviourConfig::false_alarm_rate`] of normal clients
//!   score above it (see [`Calibration`]);
//! - [`Profile`]s: per-client normal rates (requests per minute per business
//!   function, login attempts and failures, distinct objects, errors,
//!   requests to unknown endpoints) at a high quantile, with a suggested
//!   limit that the rule generator turns into rate-limit and distinct-id
//!   rules;
//! - an application-level login baseline ([`LoginBaseline`]) over all
//!   clients of a window, for credential stuffing, which no single client
//!   shows.
//!
//! [`BehaviourModel::assess`] scores one client (anomalous: above the
//! autoencoder's threshold, or far above a profile) and, when it is
//! anomalous, names the [`Threat`] from explicit criteria against the
//! profiles and explains which features deviate. Every named threat also
//! needs a minimum absolute count in the span ([`MIN_LOGIN_FAILURES`],
//! [`MIN_PROBES`], [`MIN_WALK_OBJECTS`], [`MIN_VOLUME`]), and requests the
//! node blocked count as failed attempts where the application's answers
//! say they were (a blocked request has no application answer). Credential
//! stuffing is never named for one client: [`BehaviourModel::assess_window`]
//! looks at all clients of a window at once (distinct suspects against a
//! Poisson baseline, and excess failed logins).
//!
//! Persistence: [`BehaviourModel::params`] is everything but the network's
//! weights (standardisation, threshold and its calibration, profiles, login
//! baseline, transition baseline, the training configuration) as serde
//! JSON. The network itself is *retrained* on restore
//! ([`BehaviourModel::restore`]) from normal clients with the stored
//! configuration and seed; the stored threshold is kept. (Training is a
//! second or two; `nn.rs` exposes no weight record.)

use std::collections::BTreeMap;

use rampart_telemetry::ClientStats;
use serde::{Deserialize, Serialize};

use crate::nn::{cpu, AutoEncoder, TrainConfig};
use crate::{Function, Threat};

/// Most entries a merged endpoint or transition map keeps (a node keeps
/// 32 per window; merged windows keep the busiest 64).
pub const MAX_MERGED_ENTRIES: usize = 64;

/// What the behaviour layer needs to know of the application's endpoints:
/// the business function of an endpoint and whether the endpoint is in the
/// learned inventory. Endpoints are written as in [`ClientStats::endpoints`]:
/// `METHOD shape` (`GET /products/{int}`).
pub trait Context {
    /// The business function of an endpoint, when known.
    fn function(&self, endpoint: &str) -> Option<Function>;

    /// Whether the endpoint exists in the learned inventory. By default,
    /// whether it has a function.
    fn known(&self, endpoint: &str) -> bool {
        self.function(endpoint).is_some()
    }
}

/// A [`Context`] from two closures (the endpoint layer's lookups).
pub struct FnContext<F, K> {
    /// `METHOD shape` -> business function.
    pub function: F,
    /// `METHOD shape` -> whether the endpoint is in the inventory.
    pub known: K,
}

impl<F, K> std::fmt::Debug for FnContext<F, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnContext(..)")
    }
}

impl<F, K> Context for FnContext<F, K>
where
    F: Fn(&str) -> Option<Function>,
    K: Fn(&str) -> bool,
{
    fn function(&self, endpoint: &str) -> Option<Function> {
        (self.function)(endpoint)
    }

    fn known(&self, endpoint: &str) -> bool {
        (self.known)(endpoint)
    }
}

// ---------------------------------------------------------------------------
// Merging windows

/// Adds the stats of a later window of the same client to `acc`: counts
/// add (saturating), endpoint and transition maps add and keep the busiest
/// [`MAX_MERGED_ENTRIES`] (ties by name), object sketches merge, `first` is
/// the earliest and `last` the latest time. The identity (`client`,
/// `kind`) of `acc` is kept; an empty `acc` takes `other`'s.
pub fn merge(acc: &mut ClientStats, other: &ClientStats) {
    if acc.client.is_empty() {
        acc.client.clone_from(&other.client);
    }
    if acc.kind.is_empty() {
        acc.kind.clone_from(&other.kind);
    }
    let empty = acc.requests == 0 && acc.first == 0 && acc.last == 0;
    acc.requests = acc.requests.saturating_add(other.requests);
    acc.errors = acc.errors.saturating_add(other.errors);
    acc.auth_failures = acc.auth_failures.saturating_add(other.auth_failures);
    acc.blocked = acc.blocked.saturating_add(other.blocked);
    add_bounded(&mut acc.endpoints, &other.endpoints);
    add_bounded(&mut acc.transitions, &other.transitions);
    acc.objects.merge(&other.objects);
    if empty {
        acc.first = other.first;
        acc.last = other.last;
    } else if !(other.requests == 0 && other.first == 0 && other.last == 0) {
        acc.first = acc.first.min(other.first);
        acc.last = acc.last.max(other.last);
    }
}

fn add_bounded(acc: &mut BTreeMap<String, u64>, other: &BTreeMap<String, u64>) {
    for (k, &v) in other {
        let e = acc.entry(k.clone()).or_default();
        *e = e.saturating_add(v);
    }
    if acc.len() > MAX_MERGED_ENTRIES {
        let mut all: Vec<(String, u64)> = std::mem::take(acc).into_iter().collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all.truncate(MAX_MERGED_ENTRIES);
        *acc = all.into_iter().collect();
    }
}

// ---------------------------------------------------------------------------
// Features

/// The features of [`features`], in order, with what each measures. Rates
/// are per minute over the window the stats cover; `ln1p` is `ln(1 + x)`
/// (rates span orders of magnitude); shares and ratios are of the
/// client's requests (the larger of `requests` and the sum of its endpoint
/// counts, so a malformed batch cannot push a share above 1) plus a
/// pseudo-count of 2, and likewise for the ratios over login attempts,
/// object requests and transitions: a client with two requests, one of
/// them a write, has a write share of 0.25, not 0.5.
pub const FEATURES: &[(&str, &str)] = &[
    ("rate", "ln1p(requests per minute)"),
    ("error_ratio", "responses with status >= 400 / requests"),
    ("auth_failure_ratio", "401 and 403 responses / requests"),
    (
        "auth_failure_rate",
        "ln1p(401 and 403 responses per minute)",
    ),
    (
        "login_rate",
        "ln1p(login attempts per minute): requests to login or password-reset endpoints with a \
         state-changing method (all of their requests when none has one)",
    ),
    (
        "login_failure_ratio",
        "min(auth failures, login attempts) / login attempts: the share of failed logins \
         (auth failures are not per endpoint in the aggregates), 0 without login attempts",
    ),
    (
        "other_error_ratio",
        "(errors - auth failures) / requests: mostly 404s and 400s",
    ),
    (
        "unknown_share",
        "requests to endpoints not in the inventory / requests (forced browsing)",
    ),
    (
        "untracked_share",
        "requests whose endpoint did not fit the client's endpoint map / requests: the client \
         used more distinct endpoints than a node keeps (32)",
    ),
    ("distinct_endpoints", "ln1p(endpoints in the client's map)"),
    (
        "unknown_rate",
        "ln1p(requests per minute to unknown or untracked endpoints)",
    ),
    ("objects_rate", "ln1p(distinct object ids per minute)"),
    (
        "objects_per_request",
        "distinct object ids / requests, at most 2 (enumeration walks ids)",
    ),
    (
        "objects_per_object_request",
        "distinct object ids / requests to endpoints with an id in their path, at most 2; 0 \
         without such requests",
    ),
    (
        "top_endpoint_share",
        "requests to the client's busiest endpoint / requests",
    ),
    (
        "top_endpoint_rate",
        "ln1p(requests per minute to the busiest endpoint)",
    ),
    (
        "write_share",
        "requests with POST, PUT, PATCH or DELETE / requests",
    ),
    ("write_rate", "ln1p(state-changing requests per minute)"),
    (
        "self_transition_share",
        "transitions from an endpoint to itself / transitions (scripted loops)",
    ),
    (
        "same_function_share",
        "transitions between endpoints of the same business function / transitions",
    ),
    (
        "transition_entropy",
        "Shannon entropy of the transition counts, in bits / log2(33): how varied the \
         sequence is (0 without transitions)",
    ),
    ("blocked_ratio", "requests the node blocked / requests"),
    (
        "share_<function>",
        "one feature per business function, in the order of Function::ALL: requests to \
         endpoints of that function / requests",
    ),
    (
        "share_unmapped",
        "requests to endpoints without a business function / requests",
    ),
];

/// Number of values [`features`] returns.
pub const FEATURE_COUNT: usize = 22 + 15 + 1;

/// Name of feature `i` of [`features`] (`share_login`, ...).
pub fn feature_name(i: usize) -> String {
    if i < 22 {
        FEATURES.get(i).map_or("?", |f| f.0).to_string()
    } else if let Some(f) = Function::ALL.get(i - 22) {
        format!("share_{}", f.name())
    } else if i == FEATURE_COUNT - 1 {
        "share_unmapped".to_string()
    } else if i == FEATURE_COUNT {
        "rare_transition_share".to_string()
    } else {
        format!("feature_{i}")
    }
}

/// Pseudo-count added to the denominators of the shares and ratios in
/// the features.
const PRIOR: f64 = 2.0;

/// Whether a method changes state.
fn is_write(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH" | "DELETE")
}

/// `METHOD shape` split; a key without a space is all shape.
fn split_endpoint(key: &str) -> (&str, &str) {
    key.split_once(' ').unwrap_or(("", key))
}

/// Whether a path shape has an object id in it (a data placeholder other
/// than `{word}`, which is an unadmitted route word).
fn has_object(shape: &str) -> bool {
    shape
        .split('/')
        .any(|s| s.starts_with('{') && s.ends_with('}') && s != "{word}")
}

/// Functions whose objects are public catalogue content: walking their ids
/// is scraping, walking anyone else's is enumeration.
fn catalogue(f: Option<Function>) -> bool {
    matches!(
        f,
        Some(Function::ProductView | Function::Search | Function::Static)
    )
}

fn login_like(f: Option<Function>) -> bool {
    matches!(f, Some(Function::Login | Function::PasswordReset))
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 && a.is_finite() {
        (a / b).clamp(0.0, f64::MAX)
    } else {
        0.0
    }
}

/// What a client did, in the units the features and the criteria use.
#[derive(Debug, Clone, Default)]
struct Summary {
    per_min: f64,
    total: f64,
    errors: f64,
    auth_failures: f64,
    blocked: f64,
    login_attempts: f64,
    login_requests: f64,
    unknown: f64,
    untracked: f64,
    endpoints: f64,
    objects: f64,
    object_requests: f64,
    catalogue_object_requests: f64,
    write_object_requests: f64,
    top: f64,
    /// Whether the busiest endpoint takes state-changing requests.
    top_write: bool,
    writes: f64,
    by_function: [f64; 15],
    /// Requests to endpoints of each function with an object id in the
    /// path, and those of them that write.
    objects_by_function: [f64; 15],
    writes_by_function: [f64; 15],
    unmapped: f64,
    transitions: f64,
    self_transitions: f64,
    same_function: f64,
    entropy: f64,
}

impl Summary {
    fn of(s: &ClientStats, ctx: &dyn Context, window_secs: f64) -> Summary {
        let secs = if window_secs.is_finite() {
            window_secs.max(1.0)
        } else {
            60.0
        };
        let mut m = Summary {
            per_min: 60.0 / secs,
            ..Summary::default()
        };
        let mut listed = 0.0;
        let mut login_writes = 0.0;
        for (key, &n) in &s.endpoints {
            let n = n as f64;
            listed += n;
            let (method, shape) = split_endpoint(key);
            let f = ctx.function(key);
            if !ctx.known(key) {
                m.unknown += n;
            }
            match f {
                Some(f) => {
                    let i = f.index().min(14);
                    m.by_function[i] += n;
                    if has_object(shape) {
                        m.objects_by_function[i] += n;
                    }
                    if is_write(method) {
                        m.writes_by_function[i] += n;
                    }
                }
                None => m.unmapped += n,
            }
            if has_object(shape) {
                m.object_requests += n;
                if catalogue(f) {
                    m.catalogue_object_requests += n;
                }
                if is_write(method) {
                    m.write_object_requests += n;
                }
            }
            if is_write(method) {
                m.writes += n;
            }
            if login_like(f) {
                m.login_requests += n;
                if is_write(method) {
                    login_writes += n;
                }
            }
            if n > m.top {
                m.top = n;
                m.top_write = is_write(method);
            }
        }
        m.endpoints = s.endpoints.len() as f64;
        m.login_attempts = if login_writes > 0.0 {
            login_writes
        } else {
            m.login_requests
        };
        m.total = (s.requests as f64).max(listed);
        m.untracked = (m.total - listed).max(0.0);
        m.errors = (s.errors as f64).min(m.total);
        m.auth_failures = (s.auth_failures as f64).min(m.errors.max(0.0)).min(m.total);
        m.blocked = (s.blocked as f64).min(m.total);
        let objects = s.objects.estimate();
        m.objects = if objects.is_finite() {
            objects.max(0.0)
        } else {
            0.0
        };
        let mut counts = Vec::with_capacity(s.transitions.len());
        for (key, &n) in &s.transitions {
            let n = n as f64;
            counts.push(n);
            m.transitions += n;
            if let Some((a, b)) = key.split_once(" -> ") {
                if a == b {
                    m.self_transitions += n;
                }
                if ctx.function(a) == ctx.function(b) {
                    m.same_function += n;
                }
            }
        }
        if m.transitions > 0.0 {
            m.entropy = -counts
                .iter()
                .map(|&c| {
                    let p = c / m.transitions;
                    if p > 0.0 {
                        p * p.log2()
                    } else {
                        0.0
                    }
                })
                .sum::<f64>();
        }
        m
    }

    fn rate(&self, n: f64) -> f64 {
        n * self.per_min
    }

    fn share(&self, n: f64) -> f64 {
        ratio(n, self.total).min(1.0)
    }

    /// A share for the features: over the requests and [`PRIOR`] more,
    /// so that a client with a handful of requests has no extreme shares
    /// (one review among two requests is not "half of its traffic
    /// writes").
    fn smooth(&self, n: f64) -> f64 {
        ratio(n, self.total + PRIOR).min(1.0)
    }

    /// Login attempts the node blocked, at the least: the blocked
    /// requests that cannot have been anything else (blocked requests are
    /// not counted per endpoint, so those beyond the client's requests to
    /// other endpoints).
    ///
    /// They count as failures only when the login attempts the
    /// application answered mostly failed, or too few were answered to
    /// tell ([`MIN_ANSWERED`]): a flood of password resets that succeed
    /// and then hit a rate limit is not password guessing.
    fn login_blocked(&self) -> f64 {
        let blocked = (self.blocked - (self.total - self.login_attempts).max(0.0))
            .max(0.0)
            .min(self.login_attempts);
        let answered = self.login_attempts - blocked;
        if answered >= MIN_ANSWERED && ratio(self.auth_failures, answered) < 0.5 {
            0.0
        } else {
            blocked
        }
    }

    /// Failed login attempts: 401/403 answers (not per endpoint in the
    /// aggregates, so at most the login attempts) and the login attempts
    /// the node blocked (a blocked request gets no application answer and
    /// is counted as blocked only).
    fn login_failures(&self) -> f64 {
        (self.auth_failures + self.login_blocked()).min(self.login_attempts)
    }

    /// Requests that probed for something that is not there: not-found
    /// and other client errors, and the blocked requests too when the
    /// requests the application did answer were mostly not found (a
    /// scanner the node stopped part of the time). With fewer than
    /// [`MIN_ANSWERED`] answered requests, blocked requests count when the
    /// client mostly used endpoints outside the inventory.
    fn probes(&self) -> f64 {
        let nf = self.not_found();
        let answered = (self.total - self.blocked).max(0.0);
        let probing = if answered >= MIN_ANSWERED {
            ratio(nf, answered) >= 0.5
        } else {
            self.share(self.unknown + self.untracked) >= 0.5
        };
        if probing {
            (nf + self.blocked).min(self.total)
        } else {
            nf
        }
    }

    /// Whether the client walks object ids: at least
    /// [`MIN_WALK_OBJECTS`] distinct ids, most of its object requests on a
    /// new id and most of its requests object requests.
    fn walks(&self) -> bool {
        self.objects >= MIN_WALK_OBJECTS
            && ratio(self.objects, self.object_requests) >= 0.5
            && self.share(self.object_requests) >= 0.5
    }

    fn login_failure_ratio(&self) -> f64 {
        ratio(self.login_failures(), self.login_attempts).min(1.0)
    }

    fn not_found(&self) -> f64 {
        (self.errors - self.auth_failures).max(0.0)
    }

    fn function_rate(&self, f: Function) -> f64 {
        self.rate(self.by_function[f.index().min(14)])
    }

    fn vector(&self) -> Vec<f32> {
        let ln = |x: f64| x.max(0.0).ln_1p();
        let mut v = vec![
            ln(self.rate(self.total)),
            self.smooth(self.errors),
            self.smooth(self.auth_failures),
            ln(self.rate(self.auth_failures)),
            ln(self.rate(self.login_attempts)),
            ratio(self.login_failures(), self.login_attempts + PRIOR).min(1.0),
            self.smooth(self.not_found()),
            self.smooth(self.unknown),
            self.smooth(self.untracked),
            ln(self.endpoints),
            ln(self.rate(self.unknown + self.untracked)),
            ln(self.rate(self.objects)),
            ratio(self.objects, self.total + PRIOR).min(2.0),
            ratio(self.objects, self.object_requests + PRIOR).min(2.0),
            self.smooth(self.top),
            ln(self.rate(self.top)),
            self.smooth(self.writes),
            ln(self.rate(self.writes)),
            ratio(self.self_transitions, self.transitions + PRIOR).min(1.0),
            ratio(self.same_function, self.transitions + PRIOR).min(1.0),
            (self.entropy / 33f64.log2()).clamp(0.0, 1.0),
            self.smooth(self.blocked),
        ];
        v.extend(self.by_function.iter().map(|&n| self.smooth(n)));
        v.push(self.smooth(self.unmapped));
        v.into_iter()
            .map(|x| if x.is_finite() { x as f32 } else { 0.0 })
            .collect()
    }
}

/// The feature vector of one client over `window_secs` seconds (the span
/// of the windows its stats cover), [`FEATURE_COUNT`] values in the order
/// of [`FEATURES`]. Every value is finite, whatever the stats hold.
pub fn features(stats: &ClientStats, ctx: &dyn Context, window_secs: u64) -> Vec<f32> {
    Summary::of(stats, ctx, window_secs as f64).vector()
}

// ---------------------------------------------------------------------------
// Transition baseline

/// States of the function-level transition baseline: each function and
/// "unmapped".
const STATES: usize = 16;

fn state(ctx: &dyn Context, endpoint: &str) -> usize {
    ctx.function(endpoint)
        .map_or(STATES - 1, |f| f.index().min(STATES - 2))
}

/// Normal transitions between business functions, learned from normal
/// clients: `P(next function | function)`, with add-one smoothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitionBaseline {
    /// Row-major `16 x 16`: the functions of [`Function::ALL`] and
    /// "unmapped" last.
    pub probabilities: Vec<f32>,
    /// A transition less likely than this under normal traffic is rare.
    pub rare_below: f32,
}

impl TransitionBaseline {
    fn learn(clients: &[&ClientStats], ctx: &dyn Context) -> TransitionBaseline {
        let mut counts = vec![1.0f64; STATES * STATES];
        for c in clients {
            for (key, &n) in &c.transitions {
                if let Some((a, b)) = key.split_once(" -> ") {
                    counts[state(ctx, a) * STATES + state(ctx, b)] += n as f64;
                }
            }
        }
        let mut probabilities = Vec::with_capacity(STATES * STATES);
        for row in counts.chunks(STATES) {
            let sum: f64 = row.iter().sum();
            probabilities.extend(row.iter().map(|&c| (c / sum) as f32));
        }
        TransitionBaseline {
            probabilities,
            rare_below: 0.005,
        }
    }

    /// Share of a client's transitions that are rare under normal traffic.
    fn rare_share(&self, s: &ClientStats, ctx: &dyn Context) -> f32 {
        let (mut rare, mut all) = (0.0f64, 0.0f64);
        for (key, &n) in &s.transitions {
            if let Some((a, b)) = key.split_once(" -> ") {
                let p = self
                    .probabilities
                    .get(state(ctx, a) * STATES + state(ctx, b))
                    .copied()
                    .unwrap_or(0.0);
                all += n as f64;
                if p < self.rare_below {
                    rare += n as f64;
                }
            }
        }
        ratio(rare, all).min(1.0) as f32
    }
}

// ---------------------------------------------------------------------------
// Profiles

/// A per-client quantity a [`Profile`] bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Requests per minute (to the profile's function, or all).
    RequestsPerMinute,
    /// Login attempts per minute (login and password-reset submissions).
    LoginAttemptsPerMinute,
    /// Failed login attempts (401/403) per minute.
    LoginFailuresPerMinute,
    /// Distinct object ids in paths per minute.
    DistinctObjectsPerMinute,
    /// Errors other than 401/403 (404s, 400s) per minute.
    ErrorsPerMinute,
    /// Requests to endpoints not in the inventory per minute.
    UnknownEndpointsPerMinute,
}

impl Metric {
    /// The metric as written in rules and the console.
    pub fn name(self) -> &'static str {
        match self {
            Metric::RequestsPerMinute => "requests_per_minute",
            Metric::LoginAttemptsPerMinute => "login_attempts_per_minute",
            Metric::LoginFailuresPerMinute => "login_failures_per_minute",
            Metric::DistinctObjectsPerMinute => "distinct_objects_per_minute",
            Metric::ErrorsPerMinute => "errors_per_minute",
            Metric::UnknownEndpointsPerMinute => "unknown_endpoints_per_minute",
        }
    }

    /// The smallest limit suggested for the metric: below it a rule would
    /// bother people for ordinary slips (two typos, a stale bookmark).
    fn floor(self) -> f64 {
        match self {
            Metric::RequestsPerMinute => 10.0,
            Metric::LoginAttemptsPerMinute | Metric::LoginFailuresPerMinute => 3.0,
            Metric::DistinctObjectsPerMinute => 10.0,
            Metric::ErrorsPerMinute | Metric::UnknownEndpointsPerMinute => 3.0,
        }
    }
}

/// A normal per-client rate, learned from normal clients, and the limit a
/// rate-limit or distinct-id rule should enforce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// What is measured, per client.
    pub metric: Metric,
    /// The business function it is measured on (`None`: all requests).
    pub function: Option<Function>,
    /// The quantile of normal clients [`value`](Self::value) is.
    pub quantile: f64,
    /// That quantile of the metric over normal clients that had any of it.
    pub value: f64,
    /// The largest value seen in a normal client.
    pub max: f64,
    /// Normal clients the profile is learned from (those with a non-zero
    /// value).
    pub clients: usize,
    /// Suggested limit per client: `max(value * margin, largest normal
    /// value, floor of the metric)`.
    pub limit: f64,
    /// The profile in words, for the console and the rule's comment.
    pub explanation: String,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn profile(
    metric: Metric,
    function: Option<Function>,
    mut values: Vec<f64>,
    cfg: &BehaviourConfig,
) -> Option<Profile> {
    values.retain(|v| v.is_finite() && *v > 0.0);
    if values.len() < cfg.min_profile_clients {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let value = quantile(&values, cfg.profile_quantile);
    let max = values.last().copied().unwrap_or(0.0);
    let limit = (value * cfg.profile_margin).max(max).max(metric.floor());
    let what = match (metric, function) {
        (Metric::RequestsPerMinute, Some(f)) => format!("requests per minute to {f} endpoints"),
        (Metric::RequestsPerMinute, None) => "requests per minute".to_string(),
        (Metric::LoginAttemptsPerMinute, _) => "login attempts per minute".to_string(),
        (Metric::LoginFailuresPerMinute, _) => "failed logins (401/403) per minute".to_string(),
        (Metric::DistinctObjectsPerMinute, _) => {
            "distinct object ids in paths per minute".to_string()
        }
        (Metric::ErrorsPerMinute, _) => "errors other than 401/403 per minute".to_string(),
        (Metric::UnknownEndpointsPerMinute, _) => {
            "requests to endpoints outside the inventory per minute".to_string()
        }
    };
    let explanation = format!(
        "{what}: {:.1}% of {} normal clients stay at or below {value:.2} (largest {max:.2}); \
         suggested limit {limit:.2} per client",
        cfg.profile_quantile * 100.0,
        values.len()
    );
    Some(Profile {
        metric,
        function,
        quantile: cfg.profile_quantile,
        value,
        max,
        clients: values.len(),
        limit,
        explanation,
    })
}

// ---------------------------------------------------------------------------
// Login baseline (credential stuffing)

/// Normal login outcomes across all clients, for the window-level
/// credential-stuffing detector, which holds two tests; either raises
/// the alert.
///
/// **Distinct suspects.** A *suspect* is a client whose failed (401/403 or
/// blocked) login attempts are at least one and at least half of its
/// attempts, and whose requests are mostly ([`SUSPECT_LOGIN_SHARE`]) to
/// login endpoints: what a stuffing bot looks like, and what a user who
/// mistyped a password early in a session sometimes looks like too.
/// `suspect_share` is the share of normal clients that are suspects (with
/// half a suspect added, so a baseline that saw none still expects a
/// few). Counted per client, one clumsy user is one suspect however many
/// times they fail. Among the `n` clients of a window the number of
/// suspects is then about Poisson with mean `n * suspect_share`; a window
/// with at least `min_suspects` suspects whose Poisson tail probability is
/// at most `p_limit` is credential stuffing.
///
/// **Excess failures.**
/// Under normal traffic each client that tries to log in contributes
/// `d = failures - p * attempts` to the window's excess of failed logins,
/// with mean about 0 and variance `variance` (both learned over normal
/// clients). Over the `n` clients of a window that tried to log in, the
/// excess `F - p * A` therefore has a standard deviation of about
/// `sqrt(n * variance)`; a window whose excess is more than `z_limit` of
/// those above 0, at least `min_excess` failures and at least twice the
/// normal failure ratio is credential stuffing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginBaseline {
    /// Normal share of login attempts that fail.
    pub failure_ratio: f64,
    /// Variance of a client's excess failures.
    pub variance: f64,
    /// Normal clients with login attempts the baseline is learned from.
    pub clients: usize,
    /// Standard deviations above normal that raise an alert.
    pub z_limit: f64,
    /// Fewest excess failures that raise an alert.
    pub min_excess: f64,
    /// Share of normal clients that are suspects (see above).
    #[serde(default = "default_suspect_share")]
    pub suspect_share: f64,
    /// Fewest suspects in a window that raise an alert.
    #[serde(default = "default_min_suspects")]
    pub min_suspects: usize,
    /// Largest Poisson tail probability of a window's suspects that raises
    /// an alert: the chance that a normal window does.
    #[serde(default = "default_p_limit")]
    pub p_limit: f64,
}

fn default_suspect_share() -> f64 {
    1e-3
}

fn default_min_suspects() -> usize {
    4
}

fn default_p_limit() -> f64 {
    1e-5
}

/// Share of its requests to login endpoints from which a client with
/// failed logins is a credential-stuffing suspect.
pub const SUSPECT_LOGIN_SHARE: f64 = 0.75;

impl Summary {
    /// Whether the client looks like a credential-stuffing bot (see
    /// [`LoginBaseline`]).
    fn suspect(&self) -> bool {
        self.login_failures() >= 1.0
            && self.login_failure_ratio() >= 0.5
            && self.share(self.login_requests) >= SUSPECT_LOGIN_SHARE
    }
}

/// `P(K >= k)` for `K` Poisson with mean `lambda`, summed from `k` up (no
/// cancellation for tiny tails).
pub fn poisson_tail(k: u64, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if lambda.is_nan() || lambda <= 0.0 || !lambda.is_finite() {
        return 0.0;
    }
    // ln P(K = k) = -lambda + k ln(lambda) - ln(k!).
    let ln_fact: f64 = (2..=k.min(1_000_000)).map(|i| (i as f64).ln()).sum();
    let mut term = (-lambda + k as f64 * lambda.ln() - ln_fact).exp();
    let mut sum = 0.0;
    let mut i = k as f64;
    for _ in 0..100_000 {
        sum += term;
        i += 1.0;
        term *= lambda / i;
        if term < sum * 1e-16 {
            break;
        }
    }
    sum.clamp(0.0, 1.0)
}

// ---------------------------------------------------------------------------
// The model

/// How to train a [`BehaviourModel`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BehaviourConfig {
    /// Seconds the stats of one client cover (the windows handed in
    /// together); rates are per minute over this span.
    pub window_secs: u64,
    /// The autoencoder's training (`hidden` is encoder and decoder).
    pub train: TrainConfig,
    /// Share of the normal clients held out to calibrate the threshold.
    pub holdout: f64,
    /// Target share of normal clients flagged (1e-4: one per 10,000).
    pub false_alarm_rate: f64,
    /// The threshold is at least the largest held-out error times this.
    pub margin: f64,
    /// Quantile of normal clients a [`Profile`] reports.
    pub profile_quantile: f64,
    /// A profile's limit is at least its quantile times this.
    pub profile_margin: f64,
    /// A client above a profile's limit by this factor is anomalous
    /// whatever its reconstruction error (see [`BehaviourModel::assess`]).
    pub profile_alarm: f64,
    /// Fewest normal clients with a non-zero value for a profile.
    pub min_profile_clients: usize,
    /// Fewest normal clients (with `min_requests`) to train on at all.
    pub min_clients: usize,
    /// Fewest requests of a client for the autoencoder's verdict: the
    /// shares and ratios of a handful of requests are noise (one review
    /// among two requests). Smaller clients are judged by the profiles
    /// only, and campaigns of many small clients by
    /// [`BehaviourModel::assess_window`]. The network is trained and
    /// calibrated on normal clients of this size or more.
    pub min_requests: u64,
}

impl Default for BehaviourConfig {
    fn default() -> Self {
        BehaviourConfig {
            window_secs: 60,
            train: TrainConfig {
                hidden: vec![32, 12, 32],
                epochs: 40,
                batch: 256,
                learning_rate: 5e-3,
                seed: 11,
            },
            holdout: 0.3,
            false_alarm_rate: 1e-4,
            margin: 1.2,
            profile_quantile: 0.999,
            profile_margin: 1.5,
            profile_alarm: 2.0,
            min_profile_clients: 20,
            min_clients: 200,
            min_requests: 5,
        }
    }
}

/// Why a model could not be trained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrainError {
    /// Fewer normal clients than [`BehaviourConfig::min_clients`].
    TooFewClients {
        /// Clients given (with enough requests).
        got: usize,
        /// Clients needed.
        need: usize,
    },
}

impl std::fmt::Display for TrainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrainError::TooFewClients { got, need } => {
                write!(f, "{got} normal clients, at least {need} needed")
            }
        }
    }
}

impl std::error::Error for TrainError {}

/// How the anomaly threshold was calibrated on held-out normal clients
/// (peaks over a threshold).
///
/// The reconstruction errors of the held-out clients are sorted; the
/// largest `k` (5% of them, at least 10) are the tail, their excesses over
/// `u` (the next error down) are fitted with a generalised Pareto
/// distribution by probability-weighted moments (Hosking and Wallis,
/// 1987): `shape` (`xi`: 0 an exponential tail, above 0 a power law,
/// below 0 a bounded one, limited to `[-0.5, 1]`) and `scale`. The error
/// that a share `alpha` of normal clients exceeds is then `u +
/// scale / xi * ((p_u / alpha)^xi - 1)` (`u + scale * ln(p_u / alpha)` for
/// `xi = 0`) with `p_u = k / n`. The threshold is that error for `alpha =
/// false_alarm_rate`, and never below the largest held-out error times
/// the margin, so no held-out normal client is flagged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Held-out normal clients.
    pub clients: usize,
    /// The tail's start.
    pub u: f64,
    /// Share of held-out clients above `u`.
    pub p_u: f64,
    /// Shape of the fitted tail (`xi`).
    pub shape: f64,
    /// Scale of the fitted tail.
    pub scale: f64,
    /// The tail's extrapolation to the target false-alarm rate.
    pub extrapolated: f64,
    /// The largest held-out error.
    pub max_error: f64,
    /// Held-out clients above the final threshold (0 by construction).
    pub flagged: usize,
}

/// Everything of a [`BehaviourModel`] but the network weights: serde JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BehaviourParams {
    /// Names of the model's inputs ([`features`] and the rare-transition
    /// share), in order.
    pub feature_names: Vec<String>,
    /// Standardisation: each input minus `mean`, divided by `scale`.
    pub mean: Vec<f32>,
    /// Per-input scale: the standard deviation over normal clients, at
    /// least a floor per kind of feature (so a feature that never varies
    /// in normal traffic does not make every small change an anomaly).
    pub scale: Vec<f32>,
    /// Reconstruction error above which a client is anomalous.
    pub threshold: f64,
    /// How the threshold was found.
    pub calibration: Calibration,
    /// Normal per-client rates.
    pub profiles: Vec<Profile>,
    /// Normal login outcomes across clients.
    pub login: LoginBaseline,
    /// Normal function-level transitions.
    pub transitions: TransitionBaseline,
    /// The configuration the model was trained with (the network is
    /// retrained from it on restore).
    pub config: BehaviourConfig,
}

/// The behaviour model: a burn autoencoder over standardised client
/// features with a calibrated threshold, plus the learned profiles and
/// baselines. See the module documentation.
#[derive(Debug, Clone)]
pub struct BehaviourModel {
    params: BehaviourParams,
    network: AutoEncoder,
}

/// The verdict on one client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// The client's keyed hash.
    pub client: String,
    /// The autoencoder's reconstruction error of the client's features.
    pub score: f64,
    /// The model's threshold.
    pub threshold: f64,
    /// Whether the client is anomalous: a score above the threshold (for
    /// clients of at least [`BehaviourConfig::min_requests`] requests) or
    /// a rate far above its profile (see [`BehaviourModel::assess_span`]).
    pub anomalous: bool,
    /// The largest ratio of one of the client's rates to its profile's
    /// limit (1: at the limit), and which profile.
    pub profile_excess: f64,
    /// The metric and function of that profile, as written in rules
    /// (`login_failures_per_minute:login`).
    pub profile: Option<String>,
    /// The threat the deviation looks like (only when anomalous; `None`
    /// when no criterion of a named threat holds).
    pub threat: Option<Threat>,
    /// Why: the rates against their normal limits and the features that
    /// deviate most.
    pub explanation: String,
}

/// An application-level alert over the clients of a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The threat.
    pub threat: Threat,
    /// How many standard deviations above normal the window is.
    pub score: f64,
    /// Keyed hashes of the clients taking part.
    pub clients: Vec<String>,
    /// Why, in words.
    pub explanation: String,
}

/// Smallest scale of a feature: rates are `ln1p` (0.5 is a factor of
/// about 1.6), shares and ratios are in `[0, 1]`.
fn scale_floor(i: usize) -> f32 {
    match i {
        0 | 3 | 4 | 9 | 10 | 11 | 15 | 17 => 0.5,
        _ => 0.1,
    }
}

/// A profile as written in rules: `metric` or `metric:function`.
pub fn profile_key(metric: Metric, function: Option<Function>) -> String {
    match function {
        Some(f) => format!("{}:{}", metric.name(), f.name()),
        None => metric.name().to_string(),
    }
}

/// Order in which threats are named when several criteria hold: the
/// most specific first.
fn specificity(t: Threat) -> u8 {
    match t {
        Threat::BruteForce => 0,
        Threat::ForcedBrowsing => 1,
        Threat::Enumeration => 2,
        Threat::Scraping => 3,
        Threat::ApiAbuse => 4,
        Threat::CredentialStuffing => 5,
    }
}

/// Fewest failed (401/403 or blocked) login attempts of one client in the
/// assessed span for brute force: a user who mistypes a password a few
/// times is not an attacker.
pub const MIN_LOGIN_FAILURES: f64 = 8.0;

/// Fewest requests of one client not found, blocked or outside the
/// inventory in the span for forced browsing (and failed requests for
/// enumeration): stale bookmarks and a few pages that need a session do
/// not make a scan.
pub const MIN_PROBES: f64 = 10.0;

/// Fewest distinct object ids of one client in the span for an object
/// walk (enumeration, scraping, or mass writes).
pub const MIN_WALK_OBJECTS: f64 = 10.0;

/// Fewest requests of one client to one business function in the span
/// for a high-rate threat on it (scraping, API abuse).
pub const MIN_VOLUME: f64 = 20.0;

/// Fewest requests the application answered (not blocked) for their
/// not-found share to say whether the blocked ones were probes too.
const MIN_ANSWERED: f64 = 5.0;

/// Standardised values are clipped to this many scales.
const CLIP: f32 = 50.0;

/// A deterministic shuffle (xorshift), so training is reproducible.
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut s = seed | 1;
    for i in (1..v.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        v.swap(i, (s % (i as u64 + 1)) as usize);
    }
}

/// The normal clients with at least `min_requests` requests, shuffled
/// (deterministically) and split into those the network is fitted on and
/// those held out for the threshold.
fn split<'a>(
    normal: &'a [ClientStats],
    cfg: &BehaviourConfig,
) -> Result<(Vec<&'a ClientStats>, Vec<&'a ClientStats>), TrainError> {
    let mut order: Vec<&ClientStats> = normal
        .iter()
        .filter(|c| c.requests >= cfg.min_requests)
        .collect();
    let need = cfg.min_clients.max(20);
    if order.len() < need {
        return Err(TrainError::TooFewClients {
            got: order.len(),
            need,
        });
    }
    shuffle(&mut order, cfg.train.seed ^ 0xbe4a_7105);
    let held = ((order.len() as f64 * cfg.holdout.clamp(0.05, 0.8)) as usize).max(10);
    let calib = order.split_off(order.len() - held);
    Ok((order, calib))
}

impl BehaviourModel {
    /// Trains on the stats of normal clients (each covering
    /// `cfg.window_secs`): the profiles, baselines and standardisation on
    /// all of them, the autoencoder on `1 - holdout` of them, and the
    /// threshold on the rest (see [`Calibration`]).
    pub fn train(
        normal: &[ClientStats],
        ctx: &dyn Context,
        cfg: &BehaviourConfig,
    ) -> Result<BehaviourModel, TrainError> {
        let (fit, calib) = split(normal, cfg)?;
        let (fit, calib) = (&fit[..], &calib[..]);

        let transitions = TransitionBaseline::learn(fit, ctx);
        let secs = cfg.window_secs.max(1);
        let raw = |c: &ClientStats, t: &TransitionBaseline| {
            let mut v = features(c, ctx, secs);
            v.push(t.rare_share(c, ctx));
            v
        };
        let fit_x: Vec<Vec<f32>> = fit.iter().map(|c| raw(c, &transitions)).collect();
        let width = FEATURE_COUNT + 1;
        let n = fit_x.len() as f64;
        let mut mean = vec![0f32; width];
        let mut scale = vec![0f32; width];
        for j in 0..width {
            let m = fit_x.iter().map(|r| f64::from(r[j])).sum::<f64>() / n;
            let var = fit_x
                .iter()
                .map(|r| (f64::from(r[j]) - m).powi(2))
                .sum::<f64>()
                / n;
            mean[j] = m as f32;
            scale[j] = (var.sqrt() as f32).max(scale_floor(j));
        }
        let mut params = BehaviourParams {
            feature_names: (0..width).map(feature_name).collect(),
            mean,
            scale,
            threshold: f64::INFINITY,
            calibration: Calibration {
                clients: calib.len(),
                u: 0.0,
                p_u: 0.0,
                shape: 0.0,
                scale: 0.0,
                extrapolated: 0.0,
                max_error: 0.0,
                flagged: 0,
            },
            profiles: Self::learn_profiles(normal, ctx, cfg),
            login: Self::login_baseline(normal, ctx, cfg),
            transitions,
            config: cfg.clone(),
        };
        let fit_z: Vec<Vec<f32>> = fit_x.iter().map(|r| params.standardise(r)).collect();
        let network = AutoEncoder::train(&fit_z, &cfg.train, &cpu());
        let calib_z: Vec<Vec<f32>> = calib
            .iter()
            .map(|c| params.standardise(&raw(c, &params.transitions)))
            .collect();
        let errors: Vec<f64> = network
            .errors(&calib_z)
            .into_iter()
            .map(|e| if e.is_finite() { f64::from(e) } else { 0.0 })
            .collect();
        params.calibration = calibrate(errors, cfg);
        params.threshold = params
            .calibration
            .extrapolated
            .max(params.calibration.max_error * cfg.margin.max(1.0));
        Ok(BehaviourModel { params, network })
    }

    /// Rebuilds a model from stored parameters: the network is retrained
    /// on `normal` with the stored configuration and seed, the stored
    /// standardisation, threshold, profiles and baselines are kept.
    pub fn restore(
        params: BehaviourParams,
        normal: &[ClientStats],
        ctx: &dyn Context,
    ) -> Result<BehaviourModel, TrainError> {
        let cfg = &params.config;
        let (fit, _) = split(normal, cfg)?;
        let secs = cfg.window_secs.max(1);
        let fit_z: Vec<Vec<f32>> = fit
            .iter()
            .map(|c| {
                let mut v = features(c, ctx, secs);
                v.push(params.transitions.rare_share(c, ctx));
                params.standardise(&v)
            })
            .collect();
        let network = AutoEncoder::train(&fit_z, &cfg.train, &cpu());
        Ok(BehaviourModel { params, network })
    }

    /// The persistable parameters (serde JSON).
    pub fn params(&self) -> &BehaviourParams {
        &self.params
    }

    /// The anomaly threshold.
    pub fn threshold(&self) -> f64 {
        self.params.threshold
    }

    /// The learned normal per-client rates.
    pub fn profiles(&self) -> &[Profile] {
        &self.params.profiles
    }

    /// The profile of a metric (and function), if learned.
    pub fn profile(&self, metric: Metric, function: Option<Function>) -> Option<&Profile> {
        self.params
            .profiles
            .iter()
            .find(|p| p.metric == metric && p.function == function)
    }

    fn learn_profiles(
        normal: &[ClientStats],
        ctx: &dyn Context,
        cfg: &BehaviourConfig,
    ) -> Vec<Profile> {
        let secs = cfg.window_secs.max(1) as f64;
        let sums: Vec<Summary> = normal.iter().map(|c| Summary::of(c, ctx, secs)).collect();
        let of = |g: &dyn Fn(&Summary) -> f64| sums.iter().map(g).collect::<Vec<f64>>();
        let mut out = Vec::new();
        let mut push = |metric, function, values| {
            if let Some(p) = profile(metric, function, values, cfg) {
                out.push(p);
            }
        };
        push(
            Metric::RequestsPerMinute,
            None,
            of(&|s: &Summary| s.rate(s.total)),
        );
        for &f in Function::ALL {
            push(
                Metric::RequestsPerMinute,
                Some(f),
                of(&|s: &Summary| s.function_rate(f)),
            );
        }
        push(
            Metric::LoginAttemptsPerMinute,
            Some(Function::Login),
            of(&|s: &Summary| s.rate(s.login_attempts)),
        );
        push(
            Metric::LoginFailuresPerMinute,
            Some(Function::Login),
            of(&|s: &Summary| s.rate(s.login_failures())),
        );
        push(
            Metric::DistinctObjectsPerMinute,
            None,
            of(&|s: &Summary| s.rate(s.objects)),
        );
        push(
            Metric::ErrorsPerMinute,
            None,
            of(&|s: &Summary| s.rate(s.not_found())),
        );
        push(
            Metric::UnknownEndpointsPerMinute,
            None,
            of(&|s: &Summary| s.rate(s.unknown + s.untracked)),
        );
        out
    }

    fn login_baseline(
        normal: &[ClientStats],
        ctx: &dyn Context,
        cfg: &BehaviourConfig,
    ) -> LoginBaseline {
        let secs = cfg.window_secs.max(1) as f64;
        let logins: Vec<(f64, f64)> = normal
            .iter()
            .map(|c| Summary::of(c, ctx, secs))
            .filter(|s| s.login_attempts > 0.0)
            .map(|s| (s.login_failures(), s.login_attempts))
            .collect();
        let (f, a) = logins
            .iter()
            .fold((0.0, 0.0), |(f, a), &(x, y)| (f + x, a + y));
        let p = ratio(f, a).clamp(0.0, 1.0);
        let n = logins.len().max(1) as f64;
        let variance = logins
            .iter()
            .map(|&(x, y)| (x - p * y).powi(2))
            .sum::<f64>()
            / n;
        // Suspects among the normal clients of the kind the window counts
        // (addresses when there are any).
        let any_ip = normal.iter().any(|c| c.kind == "ip");
        let (mut all, mut suspects) = (0usize, 0usize);
        for c in normal.iter().filter(|c| !any_ip || c.kind == "ip") {
            all += 1;
            if Summary::of(c, ctx, secs).suspect() {
                suspects += 1;
            }
        }
        LoginBaseline {
            failure_ratio: p,
            // A floor: a baseline without failures must still tolerate one.
            variance: variance.max(0.05),
            clients: logins.len(),
            z_limit: 6.0,
            min_excess: 10.0,
            suspect_share: ((suspects as f64 + 0.5) / (all as f64 + 1.0)).clamp(1e-6, 1.0),
            min_suspects: default_min_suspects(),
            p_limit: default_p_limit(),
        }
    }

    fn inputs(&self, stats: &ClientStats, ctx: &dyn Context, secs: u64) -> Vec<f32> {
        let mut v = features(stats, ctx, secs);
        v.push(self.params.transitions.rare_share(stats, ctx));
        v
    }

    /// [`assess_span`](Self::assess_span) over the configured window.
    pub fn assess(&self, stats: &ClientStats, ctx: &dyn Context) -> Assessment {
        self.assess_span(stats, ctx, self.params.config.window_secs)
    }

    /// Scores one client whose stats cover `window_secs` seconds and, when
    /// it is anomalous, names the threat.
    ///
    /// A client is anomalous when either holds:
    /// - the autoencoder's reconstruction error of its standardised
    ///   features is above the calibrated threshold: an unusual
    ///   *combination* of behaviours;
    /// - one of its rates is above a [`Profile`]'s limit by
    ///   [`BehaviourConfig::profile_alarm`] (2 by default; the limit is
    ///   already at least the largest normal value): an unusual
    ///   *magnitude*. A reconstruction score alone misses these when the
    ///   deviation lies along a direction normal traffic also varies in (a
    ///   brute forcer is a user with typos, many times over), because the
    ///   network extrapolates along it.
    ///
    /// The threat is then the most specific one whose defining quantity is
    /// above its normal limit and reaches its minimum absolute count in
    /// the span: brute force (at least [`MIN_LOGIN_FAILURES`] failed or
    /// blocked login attempts, most attempts failing, failures per minute
    /// above normal; or as many rejected submissions to one endpoint not
    /// known as a login; or at least [`MIN_VOLUME`] sign-in submissions
    /// above the normal attempt rate, failing visibly or not), forced
    /// browsing (at least [`MIN_PROBES`] requests to
    /// endpoints outside the inventory, or most requests not found or
    /// blocked, unless the client walks someone else's object ids),
    /// enumeration or scraping (at least [`MIN_WALK_OBJECTS`] distinct
    /// object ids, most object requests on a new id and most requests
    /// object requests: catalogue objects are scraping, write requests API
    /// abuse, anyone else's objects enumeration, also by their failure
    /// rate), scraping (request rate to catalogue functions), API abuse
    /// (request rate to any other function or mostly writes, or
    /// password-reset submissions that mostly succeed), each with at least
    /// [`MIN_VOLUME`] requests. Credential stuffing is never named for one
    /// client (see [`assess_window`](Self::assess_window)). An anomalous
    /// client that meets no criterion has no threat (and an alert needs
    /// one).
    pub fn assess_span(
        &self,
        stats: &ClientStats,
        ctx: &dyn Context,
        window_secs: u64,
    ) -> Assessment {
        self.assess_many(std::slice::from_ref(stats), ctx, window_secs)
            .pop()
            .unwrap_or_else(|| Assessment {
                client: stats.client.clone(),
                score: 0.0,
                threshold: self.params.threshold,
                anomalous: false,
                profile_excess: 0.0,
                profile: None,
                threat: None,
                explanation: String::new(),
            })
    }

    /// Scores many clients at once (one pass through the network).
    pub fn assess_many(
        &self,
        clients: &[ClientStats],
        ctx: &dyn Context,
        window_secs: u64,
    ) -> Vec<Assessment> {
        let secs = window_secs.max(1);
        let z: Vec<Vec<f32>> = clients
            .iter()
            .map(|c| self.params.standardise(&self.inputs(c, ctx, secs)))
            .collect();
        let errors = self.network.errors(&z);
        clients
            .iter()
            .zip(&z)
            .zip(errors)
            .map(|((c, z), e)| {
                let score = if e.is_finite() {
                    f64::from(e)
                } else {
                    f64::MAX
                };
                self.verdict(c, z, score, ctx, secs as f64)
            })
            .collect()
    }

    fn limit(&self, metric: Metric, function: Option<Function>) -> f64 {
        self.profile(metric, function)
            .map(|p| p.limit)
            .or_else(|| {
                // A function never used by normal clients: the overall
                // request rate bounds it.
                function
                    .and_then(|_| self.profile(Metric::RequestsPerMinute, None))
                    .filter(|_| metric == Metric::RequestsPerMinute)
                    .map(|p| p.limit)
            })
            .unwrap_or(metric.floor())
            .max(metric.floor())
    }

    /// The evidence for each threat: how far above its normal limit the
    /// quantity that defines the threat is (1: at the limit). A threat is
    /// only listed when its defining condition holds, including its
    /// minimum absolute count in the span ([`MIN_LOGIN_FAILURES`],
    /// [`MIN_PROBES`], [`MIN_WALK_OBJECTS`], [`MIN_VOLUME`]): a rate over a
    /// handful of requests is no evidence of an attack, whatever the
    /// autoencoder makes of it.
    fn evidence(&self, s: &Summary) -> Vec<(Threat, f64, String)> {
        let mut out = Vec::new();
        // Brute force: one client failing logins (answered 401/403 or
        // blocked by the node) faster than any normal client, most of its
        // attempts failing.
        let failed = s.login_failures();
        let lim = self.limit(Metric::LoginFailuresPerMinute, Some(Function::Login));
        if failed >= MIN_LOGIN_FAILURES && s.login_failure_ratio() >= 0.5 {
            let fails = s.rate(failed);
            out.push((
                Threat::BruteForce,
                fails / lim,
                format!(
                    "{fails:.1} failed logins per minute ({failed:.0} in the span, {:.0}% of its \
                     login attempts, {:.0} blocked by the node; normal limit {lim:.1})",
                    s.login_failure_ratio() * 100.0,
                    s.login_blocked()
                ),
            ));
        }
        // Guessing at an endpoint the endpoint layer did not recognise as a
        // login (an API sign-in or a one-time-code check classified as an
        // API write): most of the client's requests are submissions to one
        // endpoint, most answered 401/403 (and the node's blocks of more
        // of the same).
        let answered = (s.total - s.blocked).max(0.0);
        if s.login_attempts < MIN_LOGIN_FAILURES
            && s.top_write
            && s.share(s.top) >= 0.8
            && s.auth_failures >= MIN_LOGIN_FAILURES
            && ratio(s.auth_failures, answered) >= 0.5
        {
            let failed = (s.auth_failures + s.blocked).min(s.top);
            let fails = s.rate(failed);
            let lim = self.limit(Metric::LoginFailuresPerMinute, Some(Function::Login));
            out.push((
                Threat::BruteForce,
                fails / lim,
                format!(
                    "{fails:.1} rejected submissions (401/403 or blocked) per minute to one \
                     endpoint, {:.0}% of its requests (normal limit {lim:.1} failed logins)",
                    s.share(s.top) * 100.0
                ),
            ));
        }
        // Flooding the login or password-reset function without (visible)
        // failures. Password resets by the dozen are abuse of the
        // function; sign-ins by the dozen are still guessing (many
        // applications answer a failed sign-in form with 200 and the form
        // again).
        if s.login_attempts >= MIN_VOLUME && s.login_failure_ratio() < 0.5 {
            let r = s.rate(s.login_attempts);
            let lim = self.limit(Metric::LoginAttemptsPerMinute, Some(Function::Login));
            let sign_ins = s.writes_by_function[Function::Login.index().min(14)];
            let resets = s.writes_by_function[Function::PasswordReset.index().min(14)];
            let (threat, what) = if resets > sign_ins {
                (Threat::ApiAbuse, "password-reset")
            } else {
                (Threat::BruteForce, "sign-in")
            };
            out.push((
                threat,
                r / lim,
                format!(
                    "{r:.1} {what} submissions per minute, {:.0}% of them failing visibly \
                     (normal limit {lim:.1} login attempts)",
                    s.login_failure_ratio() * 100.0
                ),
            ));
        }
        // Forced browsing: requests to endpoints outside the inventory.
        let outside = s.unknown + s.untracked;
        if outside >= MIN_PROBES && s.share(outside) >= 0.3 {
            let r = s.rate(outside);
            let lim = self.limit(Metric::UnknownEndpointsPerMinute, None);
            out.push((
                Threat::ForcedBrowsing,
                r / lim,
                format!(
                    "{r:.1} requests per minute to endpoints outside the inventory ({:.0}% of \
                     its requests, {:.0}% not found or blocked; normal limit {lim:.1})",
                    s.share(outside) * 100.0,
                    s.share(s.probes()) * 100.0
                ),
            ));
        }
        // Object walks. Catalogue objects are scraping, objects written
        // API abuse, anyone else's enumeration.
        let walks = s.walks();
        let catalogue_share = ratio(s.catalogue_object_requests, s.object_requests);
        let write_share = ratio(s.write_object_requests, s.object_requests);
        let id_walk = walks && catalogue_share < 0.5 && write_share < 0.5;
        // Forced browsing, also on endpoints that look known (a path that
        // happens to fit a catalogue template such as `/{slug}`): most of
        // its requests not found or blocked. A walk of someone else's ids
        // fails too (403 and 404) and is enumeration.
        let probes = s.probes();
        if probes >= MIN_PROBES && s.share(probes) >= 0.5 && !id_walk {
            let r = s.rate(probes);
            let lim = self.limit(Metric::ErrorsPerMinute, None);
            out.push((
                Threat::ForcedBrowsing,
                r / lim,
                format!(
                    "{r:.1} requests per minute not found or blocked ({:.0}% of its requests, \
                     {:.0}% outside the inventory; normal limit {lim:.1})",
                    s.share(probes) * 100.0,
                    s.share(outside) * 100.0
                ),
            ));
        }
        if walks {
            let objects = s.rate(s.objects);
            let lim = self.limit(Metric::DistinctObjectsPerMinute, None);
            let threat = if write_share >= 0.5 {
                // Creating or changing many objects is abuse of the API,
                // not reading someone else's.
                Threat::ApiAbuse
            } else if catalogue_share >= 0.5 {
                Threat::Scraping
            } else {
                Threat::Enumeration
            };
            out.push((
                threat,
                objects / lim,
                format!(
                    "{objects:.1} distinct object ids per minute ({:.0} in the span), {:.0}% of \
                     its object requests on a new id, {:.0}% of them catalogue pages (normal \
                     limit {lim:.1})",
                    s.objects,
                    ratio(s.objects, s.object_requests).min(1.0) * 100.0,
                    catalogue_share * 100.0
                ),
            ));
        }
        if id_walk {
            // Walking other people's ids mostly fails (403, 404, or blocked
            // by a distinct-id guard): the failure rate shows it even below
            // the distinct-objects limit.
            // Twice the probes' minimum: failures here include 401s,
            // which some applications answer to pages that merely need a
            // session.
            let failed = (s.errors + s.blocked).min(s.total);
            if failed >= 2.0 * MIN_PROBES && s.share(failed) >= 0.5 {
                let r = s.rate(failed);
                let lim = self.limit(Metric::ErrorsPerMinute, None);
                out.push((
                    Threat::Enumeration,
                    r / lim,
                    format!(
                        "{r:.1} failed or blocked requests per minute, {:.0} distinct object \
                         ids, most requests on a new id (normal limit {lim:.1} errors)",
                        s.objects
                    ),
                ));
            }
        }
        // High-rate use of one function: catalogue reading is scraping;
        // reading other objects one new id after the other enumeration;
        // anything else API abuse. Login functions are judged above.
        for &f in Function::ALL {
            if login_like(Some(f)) {
                continue;
            }
            let i = f.index().min(14);
            let n = s.by_function[i];
            if n < MIN_VOLUME {
                continue;
            }
            let r = s.rate(n);
            let walk = walks
                && ratio(s.objects_by_function[i], n) >= 0.5
                && ratio(s.writes_by_function[i], n) < 0.5;
            let lim = self.limit(Metric::RequestsPerMinute, Some(f));
            // Writing is never scraping nor enumeration, whatever the
            // endpoint's function.
            let writes = ratio(s.writes_by_function[i], n) >= 0.5;
            let threat = if writes {
                Threat::ApiAbuse
            } else if catalogue(Some(f)) {
                Threat::Scraping
            } else if walk {
                Threat::Enumeration
            } else {
                Threat::ApiAbuse
            };
            let what = if walk {
                format!(
                    "requests per minute to {f} endpoints, each on a new object id \
                     ({:.0}% errors)",
                    s.share(s.errors) * 100.0
                )
            } else {
                format!("requests per minute to {f} endpoints")
            };
            out.push((
                threat,
                r / lim,
                format!("{r:.1} {what} (normal limit {lim:.1})"),
            ));
        }
        out
    }

    /// The largest ratio of the client's value of a profile's metric to the
    /// profile's limit.
    fn profile_excess(&self, s: &Summary) -> (f64, Option<&Profile>) {
        let mut best = (0.0, None);
        for p in &self.params.profiles {
            let v = match (p.metric, p.function) {
                (Metric::RequestsPerMinute, None) => s.rate(s.total),
                (Metric::RequestsPerMinute, Some(f)) => s.function_rate(f),
                (Metric::LoginAttemptsPerMinute, _) => s.rate(s.login_attempts),
                (Metric::LoginFailuresPerMinute, _) => s.rate(s.login_failures()),
                (Metric::DistinctObjectsPerMinute, _) => s.rate(s.objects),
                (Metric::ErrorsPerMinute, _) => s.rate(s.probes()),
                (Metric::UnknownEndpointsPerMinute, _) => s.rate(s.unknown + s.untracked),
            };
            let r = ratio(v, p.limit.max(p.metric.floor()));
            if r > best.0 {
                best = (r, Some(p));
            }
        }
        best
    }

    fn verdict(
        &self,
        c: &ClientStats,
        z: &[f32],
        score: f64,
        ctx: &dyn Context,
        secs: f64,
    ) -> Assessment {
        let threshold = self.params.threshold;
        let s = Summary::of(c, ctx, secs);
        let (excess, profile) = self.profile_excess(&s);
        let alarm = self.params.config.profile_alarm.max(1.0);
        let judged = c.requests >= self.params.config.min_requests;
        let anomalous = (judged && score > threshold) || excess > alarm;
        let mut a = Assessment {
            client: c.client.clone(),
            score,
            threshold,
            anomalous,
            profile_excess: excess,
            profile: profile.map(|p| profile_key(p.metric, p.function)),
            threat: None,
            explanation: if judged {
                format!(
                    "reconstruction error {score:.3} {} threshold {threshold:.3}",
                    if score > threshold { "above" } else { "within" }
                )
            } else {
                format!(
                    "{} requests, too few for the autoencoder's verdict",
                    c.requests
                )
            },
        };
        if let Some(p) = profile.filter(|_| excess > alarm) {
            a.explanation.push_str(&format!(
                "; {} at {excess:.1} times its normal limit {:.2}",
                profile_key(p.metric, p.function),
                p.limit
            ));
        }
        if !anomalous {
            return a;
        }
        let mut ev = self.evidence(&s);
        // A named threat needs its defining quantity above its normal
        // limit; among those, the most specific wins (a client that fails
        // logins fast is brute force even if its request rate is also
        // high), then the largest excess. Credential stuffing is never
        // named for one client: a client with a failed login or two is a
        // user with a typo; the campaign shows only across clients
        // (`assess_window`).
        ev.sort_by(|a, b| {
            specificity(a.0)
                .cmp(&specificity(b.0))
                .then(b.1.total_cmp(&a.1))
        });
        if let Some((t, e, why)) = ev.iter().find(|(_, e, _)| *e > 1.0) {
            a.threat = Some(*t);
            a.explanation
                .push_str(&format!("; {t} (x{e:.1} of normal): {why}"));
        } else {
            a.explanation
                .push_str("; no threat criterion holds (no rate above its normal limit)");
        }
        let mut dev: Vec<(usize, f32)> = z.iter().copied().enumerate().collect();
        dev.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        let top: Vec<String> = dev
            .iter()
            .take(4)
            .filter(|(_, v)| v.abs() >= 2.0)
            .map(|&(i, v)| {
                let raw = self.params.mean.get(i).copied().unwrap_or(0.0)
                    + v * self.params.scale.get(i).copied().unwrap_or(1.0);
                format!(
                    "{} {raw:.2} ({v:+.1} sd, normal mean {:.2})",
                    feature_name(i),
                    self.params.mean.get(i).copied().unwrap_or(0.0)
                )
            })
            .collect();
        if !top.is_empty() {
            a.explanation
                .push_str(&format!("; most deviating: {}", top.join(", ")));
        }
        a
    }

    /// Application-level detection over all clients of one window: credential
    /// stuffing when the window holds more suspects (clients mostly
    /// failing logins and doing little else) than normal traffic explains,
    /// or more failed logins (see [`LoginBaseline`]). Only `ip` clients are
    /// counted when there are any (a request is in both its address's and
    /// its session's stats). Failed logins include login attempts the node
    /// blocked. Taking part: the suspects.
    pub fn assess_window(&self, clients: &[ClientStats], ctx: &dyn Context) -> Vec<Alert> {
        let secs = self.params.config.window_secs.max(1) as f64;
        let any_ip = clients.iter().any(|c| c.kind == "ip");
        let b = &self.params.login;
        let (mut failures, mut attempts, mut n, mut all) = (0.0f64, 0.0f64, 0usize, 0usize);
        let mut suspect_failures = 0.0f64;
        let mut members = Vec::new();
        for c in clients.iter().filter(|c| !any_ip || c.kind == "ip") {
            all += 1;
            let s = Summary::of(c, ctx, secs);
            if s.login_attempts <= 0.0 {
                continue;
            }
            n += 1;
            failures += s.login_failures();
            attempts += s.login_attempts;
            if s.suspect() {
                suspect_failures += s.login_failures();
                members.push(c.client.clone());
            }
        }
        // Distinct suspects against the normal share.
        let k = members.len();
        let lambda = all as f64 * b.suspect_share.clamp(1e-9, 1.0);
        let p = poisson_tail(k as u64, lambda);
        let by_suspects = k >= b.min_suspects.max(2) && p <= b.p_limit.clamp(0.0, 0.5);
        // Excess failures against the normal failure ratio.
        let excess = failures - b.failure_ratio * attempts;
        let sd = (n as f64 * b.variance).sqrt().max(1e-9);
        let z = excess / sd;
        let observed = ratio(failures, attempts);
        let by_failures =
            z > b.z_limit && excess >= b.min_excess && observed >= 2.0 * b.failure_ratio;
        let mut out = Vec::new();
        if by_suspects || by_failures {
            // The normal-equivalent of the suspects' tail: exp(-z^2 / 2).
            let z_suspects = if p > 0.0 {
                (-2.0 * p.ln()).max(0.0).sqrt()
            } else {
                40.0
            };
            out.push(Alert {
                threat: Threat::CredentialStuffing,
                score: if by_suspects { z.max(z_suspects) } else { z },
                explanation: format!(
                    "{k} of {all} clients mostly failing logins and doing little else \
                     ({suspect_failures:.0} failed or blocked logins; normally {lambda:.2} such \
                     clients, chance {p:.1e}); {failures:.0} of {attempts:.0} login attempts by \
                     {n} clients failed ({:.0}%, normally {:.1}%): {excess:.0} failures more \
                     than normal, {z:.1} standard deviations",
                    observed * 100.0,
                    b.failure_ratio * 100.0,
                ),
                clients: members,
            });
        }
        out
    }
}

impl BehaviourParams {
    /// Standardises raw inputs (clipped to +-50 scales).
    fn standardise(&self, raw: &[f32]) -> Vec<f32> {
        raw.iter()
            .zip(self.mean.iter().zip(&self.scale))
            .map(|(&x, (&m, &s))| {
                let z = (x - m) / if s > 0.0 { s } else { 1.0 };
                if z.is_finite() {
                    z.clamp(-CLIP, CLIP)
                } else {
                    0.0
                }
            })
            .collect()
    }
}

fn calibrate(mut errors: Vec<f64>, cfg: &BehaviourConfig) -> Calibration {
    errors.retain(|e| e.is_finite());
    errors.sort_by(f64::total_cmp);
    let n = errors.len();
    let max_error = errors.last().copied().unwrap_or(0.0);
    let alpha = cfg.false_alarm_rate.clamp(1e-9, 0.5);
    let k = ((n as f64 * 0.05).ceil() as usize)
        .max(10)
        .min(n.saturating_sub(1));
    let mut cal = Calibration {
        clients: n,
        u: max_error,
        p_u: 0.0,
        shape: 0.0,
        scale: 0.0,
        extrapolated: max_error,
        max_error,
        flagged: 0,
    };
    if k < 3 {
        return cal;
    }
    let u = errors[n - k - 1];
    // Excesses in ascending order; probability-weighted moments.
    let y: Vec<f64> = errors[n - k..].iter().map(|&e| (e - u).max(0.0)).collect();
    let kf = k as f64;
    let a0 = y.iter().sum::<f64>() / kf;
    let a1 = y
        .iter()
        .enumerate()
        .map(|(j, &v)| (1.0 - (j as f64 + 0.65) / kf) * v)
        .sum::<f64>()
        / kf;
    let d = a0 - 2.0 * a1;
    // Hosking's k is -xi.
    let (xi, scale) = if d > 1e-12 && a0 > 0.0 {
        ((2.0 - a0 / d).clamp(-0.5, 1.0), 2.0 * a0 * a1 / d)
    } else {
        (0.0, a0)
    };
    let p_u = kf / n as f64;
    let ratio = (p_u / alpha).max(1.0);
    let excess = if xi.abs() < 1e-6 {
        scale * ratio.ln()
    } else {
        scale / xi * (ratio.powf(xi) - 1.0)
    };
    cal.u = u;
    cal.p_u = p_u;
    cal.shape = xi;
    cal.scale = scale;
    let extrapolated = u + excess.max(0.0);
    cal.extrapolated = if extrapolated.is_finite() {
        extrapolated
    } else {
        max_error
    };
    let threshold = cal.extrapolated.max(max_error * cfg.margin.max(1.0));
    cal.flagged = errors.iter().filter(|&&e| e > threshold).count();
    cal
}
