//! The learners in the cloud: per application, from the stored aggregates
//! to endpoint templates and functions, parameter formats, a behaviour
//! model, and learned rules; and, every few seconds, the behaviour model
//! over the latest client windows.
//!
//! Only the replica holding the `learning` lease runs them, so exactly one
//! replica trains a given application. Models are CPU-bound: they run on
//! the blocking pool, never on the runtime's workers.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rampart_learn::behaviour::{self, BehaviourConfig, BehaviourModel, Context};
use rampart_learn::endpoints::functions::FunctionModel;
use rampart_learn::endpoints::templates::{self, Change, Template, TemplateSet};
use rampart_learn::formats::FormatModel;
use rampart_learn::rulegen::{
    self, AppFacts, DistinctFacts, EndpointFacts, LearnedRule, PointFacts, RateFacts,
    RuleGenConfig, State,
};
use rampart_learn::{Function, ParamFormat};
use rampart_store::entity::{application, RuleOrigin, RuleState};
use rampart_store::{NewBehaviourAlert, NewLearnedEndpoint, NewRule, Store};
use rampart_telemetry::{ClientStats, EndpointStats, PointStats};
use serde::Serialize;
use tracing::{debug, info, warn};

use crate::config::LearningConfig;
use crate::error::{Error, Result};
use crate::packs::Tick;

/// The name of the learners' lease.
pub const LEARNING_LEASE: &str = "learning";

/// The models that do not depend on an application (trained once per
/// process on the knowledge bases that ship with Rampart).
pub(crate) struct Shared {
    functions: FunctionModel,
    formats: FormatModel,
}

/// What the learners know of one application between runs.
#[derive(Default)]
pub(crate) struct AppState {
    templates: Option<Arc<TemplateSet>>,
    functions: HashMap<String, Function>,
    behaviour: Option<Arc<BehaviourModel>>,
    /// The last window end the behaviour tick assessed.
    assessed_until: i64,
}

/// The learners' state on a replica.
#[derive(Default)]
pub(crate) struct Learners {
    shared: OnceLock<Arc<Shared>>,
    apps: Mutex<HashMap<i64, AppState>>,
    /// Runs, their durations and alerts (`GET /metrics`).
    pub(crate) counters: crate::metrics::LearningCounters,
}

impl std::fmt::Debug for Learners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learners")
            .field("trained", &self.shared.get().is_some())
            .finish_non_exhaustive()
    }
}

/// What a learning run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LearnReport {
    /// The application.
    pub application: String,
    /// Endpoint shapes read.
    pub shapes: usize,
    /// Templates found.
    pub templates: usize,
    /// Of which new, changed, or gone since the last run.
    pub new: usize,
    /// See `new`.
    pub changed: usize,
    /// See `new`.
    pub gone: usize,
    /// Points whose format was classified.
    pub points: usize,
    /// Points flagged as personal data.
    pub personal: usize,
    /// Clients the behaviour model was trained on (0: not trained).
    pub behaviour_clients: usize,
    /// Learned rules written (new or changed text).
    pub rules_written: usize,
    /// Learned rules removed (no longer learned).
    pub rules_removed: usize,
    /// Learned rules promoted to blocking.
    pub promoted: usize,
    /// Wall time of the run, milliseconds.
    pub millis: u64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn blocking_err(e: tokio::task::JoinError) -> Error {
    Error::Invalid(format!("a learning task failed: {e}"))
}

impl Learners {
    async fn shared(&self) -> Result<Arc<Shared>> {
        if let Some(s) = self.shared.get() {
            return Ok(s.clone());
        }
        let s = tokio::task::spawn_blocking(|| {
            let device = rampart_learn::nn::cpu();
            Arc::new(Shared {
                functions: FunctionModel::train(&device),
                formats: FormatModel::train(&device),
            })
        })
        .await
        .map_err(blocking_err)?;
        Ok(self.shared.get_or_init(|| s).clone())
    }
}

/// The behaviour layer's view of an application: `METHOD shape` to the
/// function of the template that covers it.
struct AppContext {
    templates: Arc<TemplateSet>,
    functions: HashMap<String, Function>,
}

impl AppContext {
    fn template(&self, endpoint: &str) -> Option<&Template> {
        let (method, shape) = endpoint.split_once(' ')?;
        self.templates.find_shape(method, shape)
    }
}

impl Context for AppContext {
    fn function(&self, endpoint: &str) -> Option<Function> {
        let t = self.template(endpoint)?;
        self.functions.get(&t.name).copied()
    }

    fn known(&self, endpoint: &str) -> bool {
        self.template(endpoint).is_some()
    }
}

/// A parameter row: its id, its endpoint's method and shape, its point.
type ParamRef = (i64, String, String, String);

/// The endpoints of an application as the nodes reported them, with their
/// points, from the store; and the parameter rows.
async fn observed(store: &Store, app: i64) -> Result<(Vec<EndpointStats>, Vec<ParamRef>)> {
    let eps = store.list_endpoints(app).await?;
    let params = store.list_application_parameters(app).await?;
    let mut points: HashMap<i64, Vec<PointStats>> = HashMap::new();
    let shapes: HashMap<i64, (String, String)> = eps
        .iter()
        .map(|e| (e.id, (e.method.clone(), e.template.clone())))
        .collect();
    let mut refs = Vec::new();
    for p in params {
        if let Some((m, sh)) = shapes.get(&p.endpoint_id) {
            refs.push((p.id, m.clone(), sh.clone(), p.point.clone()));
        }
        let Ok(Some(v)) = p.stats_json() else {
            continue;
        };
        if let Ok(ps) = serde_json::from_value::<PointStats>(v) {
            points.entry(p.endpoint_id).or_default().push(ps);
        }
    }
    let mut out = Vec::with_capacity(eps.len());
    for e in eps {
        let Ok(Some(v)) = e.stats_json() else {
            continue;
        };
        let Ok(mut es) = serde_json::from_value::<EndpointStats>(v) else {
            continue;
        };
        es.method.clone_from(&e.method);
        es.path.clone_from(&e.template);
        es.points = points.remove(&e.id).unwrap_or_default();
        out.push(es);
    }
    Ok((out, refs))
}

/// Client windows merged per client over spans of `span` seconds: the
/// units the behaviour model judges.
fn spans(windows: &[(i64, ClientStats)], span: i64) -> Vec<ClientStats> {
    let mut out: BTreeMap<(String, String, i64), ClientStats> = BTreeMap::new();
    for (end, c) in windows {
        let bucket = end.div_euclid(span.max(1));
        let acc = out
            .entry((c.kind.clone(), c.client.clone(), bucket))
            .or_default();
        behaviour::merge(acc, c);
        acc.kind.clone_from(&c.kind);
    }
    out.into_values().collect()
}

async fn read_windows(store: &Store, app: i64, after: i64) -> Result<Vec<(i64, ClientStats)>> {
    const PAGE: u64 = 20_000;
    let mut out = Vec::new();
    let mut from = after;
    loop {
        let rows = store.client_windows_after(app, from, PAGE).await?;
        let full = rows.len() as u64 >= PAGE;
        let first = rows.first().map_or(from, |r| r.window_end);
        let last = rows.last().map_or(from, |r| r.window_end);
        // Rows come in window order. A full page may end inside a window:
        // its last window is read again, whole, by the next page (unless
        // the page holds nothing else, so that paging always advances).
        let keep_last = !full || first == last;
        for r in rows {
            if r.window_end == last && !keep_last {
                break;
            }
            if let Ok(c) = serde_json::from_str::<ClientStats>(&r.stats) {
                out.push((r.window_end, c));
            }
        }
        if !full {
            break;
        }
        from = if keep_last { last } else { last - 1 };
    }
    Ok(out)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Learners {
    /// One learning run for `app`, counted in the metrics.
    pub(crate) async fn learn(
        &self,
        store: &Store,
        cfg: &LearningConfig,
        app: &application::Model,
    ) -> Result<LearnReport> {
        let started = Instant::now();
        let r = self.learn_once(store, cfg, app).await;
        match &r {
            Ok(_) => self.counters.runs_ok.inc(),
            Err(_) => self.counters.runs_failed.inc(),
        }
        self.counters.run_seconds.observe(started.elapsed());
        r
    }

    async fn learn_once(
        &self,
        store: &Store,
        cfg: &LearningConfig,
        app: &application::Model,
    ) -> Result<LearnReport> {
        let started = Instant::now();
        let (observed, params) = observed(store, app.id).await?;
        if observed.is_empty() {
            // Nothing reported yet: no model is worth training.
            return Ok(LearnReport {
                application: app.name.clone(),
                ..LearnReport::default()
            });
        }
        let shared = self.shared().await?;
        let previous: Vec<Template> = store
            .list_learned_endpoints(app.id)
            .await?
            .into_iter()
            .filter(|e| e.change != "gone")
            .filter_map(|e| serde_json::from_str::<Detail>(&e.detail).ok())
            .map(|d| d.template)
            .collect();
        let windows = read_windows(
            store,
            app.id,
            unix_now() - i64::try_from(cfg.client_retention_secs).unwrap_or(i64::MAX),
        )
        .await?;
        let span = i64::try_from(cfg.behaviour_window_secs).unwrap_or(60);
        let min_clients = cfg.min_training_clients;
        let clock = cfg.clock_ms_per_sec;
        let shapes = observed.len();
        let s2 = shared.clone();
        let computed = tokio::task::spawn_blocking(move || {
            compute(
                &s2,
                &observed,
                &params,
                &previous,
                &windows,
                Behaviour {
                    span,
                    clock,
                    min_clients,
                },
            )
        })
        .await
        .map_err(blocking_err)?;
        let mut report = LearnReport {
            application: app.name.clone(),
            shapes,
            templates: computed.templates.templates.len(),
            points: computed.points,
            personal: computed.personal,
            behaviour_clients: computed.behaviour_clients,
            ..LearnReport::default()
        };
        for (_, c) in &computed.changes {
            match c {
                Change::New => report.new += 1,
                Change::Changed => report.changed += 1,
                Change::Gone => report.gone += 1,
                Change::Same => {}
            }
        }
        // The inventory.
        let rows: Vec<NewLearnedEndpoint> = computed
            .changes
            .iter()
            .filter(|(_, c)| *c != Change::Gone)
            .map(|(t, c)| {
                let f = computed.functions.get(&t.name);
                NewLearnedEndpoint {
                    method: t.method.clone(),
                    template: t.template.clone(),
                    operation: t
                        .operation
                        .as_ref()
                        .map(|o| format!("{} {}", o.kind, o.name))
                        .unwrap_or_default(),
                    function_label: f.map(|(f, _)| f.name().to_owned()),
                    function_confidence: f.map(|(_, c)| f64::from(*c).clamp(0.0, 1.0)),
                    change: change_name(*c).to_owned(),
                    detail: serde_json::to_string(&Detail {
                        template: t.clone(),
                        formats: computed.formats.get(&t.name).cloned().unwrap_or_default(),
                    })
                    .unwrap_or_default(),
                }
            })
            .collect();
        store.put_learned_endpoints(app.id, &rows).await?;
        for (param_id, f, conf, personal) in &computed.parameter_formats {
            store
                .set_parameter_format(*param_id, Some(f.name()), Some(*conf), *personal)
                .await
                .ok();
        }
        // The rules.
        let (written, removed, promoted) = sync_rules(store, cfg, app.id, &computed.rules).await?;
        report.rules_written = written;
        report.rules_removed = removed;
        report.promoted = promoted;
        {
            let mut apps = lock(&self.apps);
            let st = apps.entry(app.id).or_default();
            st.templates = Some(Arc::new(computed.templates));
            st.functions = computed
                .functions
                .iter()
                .map(|(k, (f, _))| (k.clone(), *f))
                .collect();
            if let Some(b) = computed.behaviour {
                st.behaviour = Some(Arc::new(b));
            }
        }
        report.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        info!(
            application = %app.name,
            templates = report.templates,
            rules = report.rules_written,
            behaviour_clients = report.behaviour_clients,
            millis = report.millis,
            "learning run"
        );
        Ok(report)
    }

    /// Assesses the client windows that ended since the last tick, each
    /// client over the behaviour window ending with its latest batch, and
    /// records alerts. Returns how many alerts were new.
    pub(crate) async fn assess(
        &self,
        store: &Store,
        cfg: &LearningConfig,
        app: &application::Model,
    ) -> Result<usize> {
        let (model, templates, functions, until) = {
            let apps = lock(&self.apps);
            let Some(st) = apps.get(&app.id) else {
                return Ok(0);
            };
            let (Some(m), Some(t)) = (st.behaviour.clone(), st.templates.clone()) else {
                return Ok(0);
            };
            (m, t, st.functions.clone(), st.assessed_until)
        };
        let span = i64::try_from(cfg.behaviour_window_secs).unwrap_or(60);
        let clock = cfg.clock_ms_per_sec;
        let fresh = store.client_windows_after(app.id, until, 1).await?;
        let Some(first_new) = fresh.first().map(|r| r.window_end) else {
            return Ok(0);
        };
        let windows = read_windows(store, app.id, first_new - span).await?;
        let Some(latest) = windows.iter().map(|(e, _)| *e).max() else {
            return Ok(0);
        };
        let ctx = AppContext {
            templates,
            functions,
        };
        let alerts = tokio::task::spawn_blocking(move || {
            // Each client with a window in the new part, over the span
            // ending at its latest window.
            let mut per: BTreeMap<(String, String), (i64, ClientStats)> = BTreeMap::new();
            let mut last: HashMap<(String, String), i64> = HashMap::new();
            for (end, c) in &windows {
                let k = (c.kind.clone(), c.client.clone());
                let l = last.entry(k).or_insert(*end);
                *l = (*l).max(*end);
            }
            for (end, c) in &windows {
                let k = (c.kind.clone(), c.client.clone());
                let l = last.get(&k).copied().unwrap_or(*end);
                if l < first_new || *end <= l - span {
                    continue;
                }
                let slot = per.entry(k).or_insert_with(|| (l, ClientStats::default()));
                behaviour::merge(&mut slot.1, c);
                slot.1.kind.clone_from(&c.kind);
            }
            let clients: Vec<(i64, ClientStats)> = per.into_values().collect();
            let stats: Vec<ClientStats> = clients.iter().map(|(_, c)| c.clone()).collect();
            let secs = app_secs(span, clock);
            let mut out = Vec::new();
            for ((end, c), a) in clients.iter().zip(model.assess_many(&stats, &ctx, secs)) {
                if let (true, Some(t)) = (a.anomalous, a.threat) {
                    out.push(NewBehaviourAlert {
                        client: c.client.clone(),
                        kind: c.kind.clone(),
                        threat: t.name().to_owned(),
                        score: a.score,
                        explanation: a.explanation.clone(),
                        window_end: *end,
                    });
                }
            }
            for a in model.assess_window(&stats, &ctx) {
                out.push(NewBehaviourAlert {
                    client: String::new(),
                    kind: "application".into(),
                    threat: a.threat.name().to_owned(),
                    score: a.score,
                    explanation: format!("{} ({} clients)", a.explanation, a.clients.len()),
                    window_end: latest,
                });
            }
            out
        })
        .await
        .map_err(blocking_err)?;
        let mut new = 0;
        for a in &alerts {
            if store.insert_behaviour_alert(app.id, a).await? {
                new += 1;
                self.counters.alerts.inc();
                info!(application = %app.name, threat = %a.threat, kind = %a.kind, "behaviour alert");
            }
        }
        if let Some(st) = lock(&self.apps).get_mut(&app.id) {
            st.assessed_until = st.assessed_until.max(latest);
        }
        Ok(new)
    }
}

/// What a learned endpoint's row keeps in `detail` (JSON): the template
/// and the formats of its points.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Detail {
    /// The template as the endpoint layer learned it.
    pub template: Template,
    /// Point -> (format, confidence, personal data).
    pub formats: BTreeMap<String, (ParamFormat, f32, bool)>,
}

fn change_name(c: Change) -> &'static str {
    match c {
        Change::New => "new",
        Change::Changed => "changed",
        Change::Same => "same",
        Change::Gone => "gone",
    }
}

struct Computed {
    templates: TemplateSet,
    changes: Vec<(Template, Change)>,
    functions: HashMap<String, (Function, f32)>,
    formats: HashMap<String, BTreeMap<String, (ParamFormat, f32, bool)>>,
    parameter_formats: Vec<(i64, ParamFormat, f64, bool)>,
    points: usize,
    personal: usize,
    behaviour: Option<BehaviourModel>,
    behaviour_clients: usize,
    rules: Vec<LearnedRule>,
}

/// How the behaviour layer reads client windows: their span in real
/// seconds, the application's clock, the clients a model needs.
#[derive(Debug, Clone, Copy)]
struct Behaviour {
    span: i64,
    clock: u32,
    min_clients: usize,
}

fn compute(
    shared: &Shared,
    observed: &[EndpointStats],
    params: &[ParamRef],
    previous: &[Template],
    windows: &[(i64, ClientStats)],
    b: Behaviour,
) -> Computed {
    let Behaviour {
        span,
        clock,
        min_clients,
    } = b;
    let learned = templates::learn(observed);
    let changes = templates::reconcile(previous, learned);
    let current: Vec<Template> = changes
        .iter()
        .filter(|(_, c)| *c != Change::Gone)
        .map(|(t, _)| t.clone())
        .collect();
    let set = TemplateSet::new(current.clone());
    let classified = shared.functions.classify_all(&current);
    let functions: HashMap<String, (Function, f32)> = current
        .iter()
        .zip(classified)
        .map(|(t, f)| (t.name.clone(), f))
        .collect();
    let mut formats = HashMap::new();
    let mut points = 0;
    let mut personal = 0;
    let mut facts = AppFacts::default();
    for t in &current {
        let pts: Vec<(&PointStats, &str)> =
            t.points.iter().map(|p| (p, p.point.as_str())).collect();
        let inf = shared.formats.classify_all(&pts);
        let mut per = BTreeMap::new();
        let mut pf = Vec::new();
        for (p, i) in t.points.iter().zip(inf) {
            points += 1;
            if i.personal_data {
                personal += 1;
            }
            per.insert(p.point.clone(), (i.format, i.confidence, i.personal_data));
            pf.push(PointFacts {
                point: p.point.clone(),
                stats: p.clone(),
                format: i.format,
                confidence: f64::from(i.confidence),
            });
        }
        formats.insert(t.name.clone(), per);
        facts.endpoints.push(EndpointFacts {
            method: t.method.clone(),
            template: t.template.clone(),
            operation: t.condition(),
            function: functions.get(&t.name).map(|(f, _)| *f),
            requests: t.requests,
            points: pf,
            points_incomplete: false,
        });
    }
    // Behaviour: the model and the rate profiles.
    let ctx = AppContext {
        templates: Arc::new(set.clone()),
        functions: functions
            .iter()
            .map(|(k, (f, _))| (k.clone(), *f))
            .collect(),
    };
    let normal: Vec<ClientStats> = spans(windows, span)
        .into_iter()
        .filter(|c| c.blocked == 0)
        .collect();
    let bcfg = BehaviourConfig {
        window_secs: app_secs(span, clock),
        min_clients,
        ..BehaviourConfig::default()
    };
    let behaviour = match BehaviourModel::train(&normal, &ctx, &bcfg) {
        Ok(m) => Some(m),
        Err(e) => {
            debug!(error = %e, "behaviour model not trained");
            None
        }
    };
    if let Some(m) = &behaviour {
        let window = Window {
            real: u64::try_from(span).unwrap_or(60),
            app: app_secs(span, clock),
        };
        behaviour_facts(m, &current, &functions, window, &mut facts);
    }
    let rules = rulegen::generate(&facts, &RuleGenConfig::default());
    // Each parameter row takes the format of its point in the template
    // that covers its shape.
    let mut parameter_formats = Vec::new();
    for (id, method, shape, point) in params {
        let Some(t) = set.find_shape(method, shape) else {
            continue;
        };
        if let Some((f, c, pd)) = formats
            .get(&t.name)
            .and_then(|m: &BTreeMap<_, _>| m.get(point))
        {
            parameter_formats.push((*id, *f, f64::from(*c).clamp(0.0, 1.0), *pd));
        }
    }
    Computed {
        behaviour_clients: if behaviour.is_some() { normal.len() } else { 0 },
        templates: set,
        changes,
        functions,
        formats,
        parameter_formats,
        points,
        personal,
        behaviour,
        rules,
    }
}

/// The behaviour window in real seconds (the nodes' counters) and in
/// seconds of the application's clock (the model's rates).
#[derive(Debug, Clone, Copy)]
struct Window {
    real: u64,
    app: u64,
}

impl Window {
    /// A per-minute limit (application clock) as a count per window of the
    /// node's counters. The profiles were measured over fixed windows; a
    /// node counts over a sliding one, which can hold the end of one fixed
    /// window and the start of the next: twice the limit, so that a normal
    /// client never meets it.
    fn count(self, per_minute: f64) -> u64 {
        (2.0 * per_minute * self.app as f64 / 60.0).ceil().max(1.0) as u64
    }
}

/// `span` real seconds in seconds of the application's clock.
fn app_secs(span: i64, clock_ms_per_sec: u32) -> u64 {
    let real = u64::try_from(span).unwrap_or(60);
    (real * 1000 / u64::from(clock_ms_per_sec.max(1))).max(1)
}

/// Rate and distinct-id facts from the behaviour model's profiles.
fn behaviour_facts(
    m: &BehaviourModel,
    current: &[Template],
    functions: &HashMap<String, (Function, f32)>,
    window: Window,
    facts: &mut AppFacts,
) {
    use rampart_learn::behaviour::Metric;
    let mut by_function: BTreeMap<Function, Vec<(String, String)>> = BTreeMap::new();
    for t in current.iter().filter(|t| t.operation.is_none()) {
        if let Some((f, _)) = functions.get(&t.name) {
            by_function
                .entry(*f)
                .or_default()
                .push((t.method.clone(), t.template.clone()));
        }
    }
    for (f, eps) in &by_function {
        let metric = if *f == Function::Login {
            Metric::LoginAttemptsPerMinute
        } else {
            Metric::RequestsPerMinute
        };
        let Some(p) = m
            .profile(metric, Some(*f))
            .or_else(|| m.profile(metric, None).filter(|_| *f == Function::Login))
        else {
            continue;
        };
        facts.rates.push(RateFacts {
            function: *f,
            endpoints: eps.clone(),
            limit: window.count(p.limit),
            window_secs: window.real,
            explanation: p.explanation.clone(),
            confidence: (1.0 - (-(p.clients as f64) / 200.0).exp()).clamp(0.0, 1.0),
            support: current
                .iter()
                .filter(|t| {
                    eps.iter()
                        .any(|(m, tt)| *m == t.method && *tt == t.template)
                })
                .map(|t| t.requests)
                .sum(),
        });
    }
    if let Some(p) = m.profile(Metric::DistinctObjectsPerMinute, None) {
        for t in current.iter().filter(|t| t.operation.is_none()) {
            let Some(param) = t.params.iter().rev().find(|p| p.kind.is_identifier()) else {
                continue;
            };
            facts.distinct.push(DistinctFacts {
                method: t.method.clone(),
                template: t.template.clone(),
                param: param.name.clone(),
                limit: window.count(p.limit),
                window_secs: window.real,
                explanation: p.explanation.clone(),
                confidence: (1.0 - (-(p.clients as f64) / 200.0).exp()).clamp(0.0, 1.0),
                support: t.requests,
            });
        }
    }
}

/// Brings the application's learned rules in line with `rules`: writes new
/// and changed ones in the state they are in (new ones monitoring), removes
/// learned rules no longer learned, promotes those that qualify. Rules an
/// operator edited (origin `custom`) are never touched.
async fn sync_rules(
    store: &Store,
    cfg: &LearningConfig,
    app: i64,
    rules: &[LearnedRule],
) -> Result<(usize, usize, usize)> {
    let existing: HashMap<String, rampart_store::entity::rule::Model> = store
        .list_rules(app)
        .await?
        .into_iter()
        .map(|r| (r.rule_id.clone(), r))
        .collect();
    let mut written = 0;
    let mut promoted = 0;
    let now = rampart_store::chrono::Utc::now();
    for r in rules {
        let old = existing.get(&r.id);
        if old.is_some_and(|o| o.origin == RuleOrigin::Custom) {
            continue;
        }
        let mut state = old.map_or(RuleState::Monitoring, |o| o.state);
        if state == RuleState::Monitoring {
            if let Some(o) = old {
                let age = now.signed_duration_since(o.created_at).num_seconds();
                let matches = store
                    .count_attack_events_by_rule(app, &r.id, o.created_at)
                    .await
                    .unwrap_or(u64::MAX);
                // Matches per million of the requests the rule stands on.
                let ppm = matches.saturating_mul(1_000_000) / r.support.max(1);
                if age >= i64::try_from(cfg.promote_after_secs).unwrap_or(i64::MAX)
                    && r.confidence * 100.0 >= f64::from(cfg.promote_min_confidence_pct)
                    && ppm <= u64::from(cfg.promote_max_matches_ppm)
                {
                    store
                        .set_rule_state(app, &r.id, RuleState::Blocking)
                        .await?;
                    state = RuleState::Blocking;
                    promoted += 1;
                }
            }
        }
        let text = match state {
            RuleState::Blocking => r.source(State::Blocking),
            _ => r.source(State::Monitoring),
        };
        if old.is_some_and(|o| o.source == text) {
            continue;
        }
        store
            .put_rule(
                app,
                NewRule {
                    rule_id: &r.id,
                    source: text,
                    origin: RuleOrigin::Learned,
                    state,
                    explanation: &r.explanation,
                    confidence: Some(r.confidence.clamp(0.0, 1.0)),
                },
            )
            .await?;
        written += 1;
    }
    let mut removed = 0;
    for (id, old) in &existing {
        if old.origin == RuleOrigin::Learned
            && !rules.iter().any(|r| &r.id == id)
            && store.delete_rule(app, id).await?
        {
            removed += 1;
        }
    }
    if written + removed > 0 {
        debug!(application = app, written, removed, "learned rules synced");
    }
    Ok((written, removed, promoted))
}

/// The learners' loop: every `behaviour_tick_secs`, while this replica holds
/// the `learning` lease, assess fresh client windows; relearn each
/// application every `interval_secs`; prune old client windows.
pub(crate) async fn run(st: Arc<crate::Shared>) {
    let cfg = st.cfg.learning.clone();
    let lease = crate::packs::Lease::named(
        LEARNING_LEASE,
        st.replica_id.clone(),
        Duration::from_secs(st.cfg.lease_ttl_secs),
    );
    let mut ticks = crate::packs::LeasedTicks::new(
        lease,
        Duration::from_secs(cfg.behaviour_tick_secs),
        st.stop.subscribe(),
    );
    // When each application was last learned, and whether that run found
    // anything (an empty run is retried within a minute, so that a new
    // application is learned soon after its first traffic).
    let mut last_learned: HashMap<i64, (Instant, bool)> = HashMap::new();
    loop {
        match ticks.next(&st.store).await {
            Tick::Stop => break,
            Tick::NotHeld => {
                last_learned.clear();
                continue;
            }
            Tick::Held => {}
        }
        let apps = match st.store.list_applications().await {
            Ok(a) => a,
            Err(e) => {
                warn!(error = %e, "learners: cannot list the applications");
                continue;
            }
        };
        for app in &apps {
            let due = last_learned.get(&app.id).is_none_or(|(t, empty)| {
                let every = if *empty {
                    cfg.interval_secs.min(60)
                } else {
                    cfg.interval_secs
                };
                t.elapsed() >= Duration::from_secs(every)
            });
            if due {
                let empty = match st.learners.learn(&st.store, &cfg, app).await {
                    Ok(r) => r.templates == 0,
                    Err(e) => {
                        warn!(application = %app.name, error = %e, "learning run failed");
                        false
                    }
                };
                last_learned.insert(app.id, (Instant::now(), empty));
            }
            if let Err(e) = st.learners.assess(&st.store, &cfg, app).await {
                warn!(application = %app.name, error = %e, "behaviour assessment failed");
            }
        }
        let horizon = unix_now() - i64::try_from(cfg.client_retention_secs).unwrap_or(i64::MAX);
        if let Err(e) = st.store.prune_client_windows(horizon).await {
            warn!(error = %e, "learners: pruning client windows failed");
        }
    }
    ticks.release(&st.store).await;
}
