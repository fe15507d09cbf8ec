//! `rampart learn eval`: the learners' evaluation harness. Simulated
//! applications with ground truth send their traffic through a real node
//! (the reverse proxy, block mode, all detectors) to a real cloud (SQLite);
//! the cloud's learners run on what the node uploaded, and what they
//! concluded is compared with the truth.
//!
//! Per application: a learning phase of normal sessions; a learning run;
//! a monitoring phase (normal sessions again: the learned rules monitor and
//! their matches count against promotion); a second learning run, which
//! promotes the rules that qualify; the pack goes to the node; a test phase
//! mixing normal sessions, behaviour attack scenarios and injected values,
//! while the behaviour model assesses the client windows as they arrive.
//!
//! Time can be compressed with `--time-scale S` (0 < S <= 1): the
//! simulator's clock, the node's batch window, the behaviour window and the
//! detection deadline all scale by S, so rates relative to the windows are
//! those of real time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use rampart_cloud::{Cloud, CloudConfig, CloudHandle, LearnedDetail, LearningConfig};
use rampart_learn::endpoints::templates::{Template, TemplateSet};
use rampart_learn::{Function, ParamFormat, Threat};
use rampart_proxy::{Node, NodeConfig};
use rampart_sim::traffic::{self, Schedule, TestConfig};
use rampart_sim::{App, SimRequest};
use rampart_telemetry::sketch::Keyer;
use serde::Serialize;

/// The salt the evaluation's node hashes client addresses with (the
/// harness needs it to tell which alert is about which simulated client).
const SALT: &str = "rampart-learn-eval";

#[derive(clap::Args, Debug)]
pub struct LearnArgs {
    #[command(subcommand)]
    pub cmd: LearnCmd,
}

#[derive(clap::Subcommand, Debug)]
pub enum LearnCmd {
    /// Run the learners on simulated applications through a real node and
    /// cloud, and print how well they learned.
    Eval(EvalArgs),
}

#[derive(clap::Args, Debug, Clone)]
pub struct EvalArgs {
    /// Synthetic applications to generate (held out: seeds the learners'
    /// knowledge bases never saw).
    #[arg(long, default_value_t = 4)]
    pub apps: usize,
    /// Seed of the first synthetic application.
    #[arg(long, default_value_t = 1000)]
    pub seed: u64,
    /// Also evaluate the built-in demo shop.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub demo: bool,
    /// Normal sessions of the learning phase.
    #[arg(long, default_value_t = 1500)]
    pub learn_sessions: usize,
    /// Normal sessions of the monitoring phase.
    #[arg(long, default_value_t = 300)]
    pub monitor_sessions: usize,
    /// Normal sessions of the test phase.
    #[arg(long, default_value_t = 1500)]
    pub test_sessions: usize,
    /// Instances of each behaviour attack per application.
    #[arg(long, default_value_t = 4)]
    pub per_threat: usize,
    /// Requests with an injected value per application.
    #[arg(long, default_value_t = 300)]
    pub injections: usize,
    /// Length of each phase in simulated seconds.
    #[arg(long, default_value_t = 180)]
    pub phase_secs: u64,
    /// Simulated seconds per real second, inverted: 0.25 runs four times
    /// faster than real time (every window scales with it).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Where the runs keep their databases (a fresh folder per application).
    #[arg(long, default_value = "data/learn-eval")]
    pub data: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The figures of one application.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AppReport {
    pub app: String,
    pub held_out: bool,
    pub endpoints: usize,
    pub templates: usize,
    /// Requests of the learning phase mapped to the right template.
    pub grouping_accuracy: f64,
    pub template_precision: f64,
    pub template_recall: f64,
    pub function_accuracy: f64,
    pub functions_evaluated: usize,
    pub format_accuracy: f64,
    pub formats_evaluated: usize,
    pub format_confusions: Vec<String>,
    pub scenarios: usize,
    pub scenarios_detected: usize,
    pub threat_named_right: usize,
    pub normal_sessions: usize,
    pub false_alarm_clients: usize,
    pub normal_requests: usize,
    pub normal_blocked: usize,
    pub injected: usize,
    pub injected_blocked: usize,
    pub learned_rules: usize,
    pub blocking_rules: usize,
    pub train_millis: u64,
    pub detection_secs: Vec<f64>,
    pub misses: Vec<String>,
}

/// What the evaluation printed, over all applications.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EvalReport {
    pub apps: Vec<AppReport>,
    pub grouping_accuracy: f64,
    pub template_precision: f64,
    pub template_recall: f64,
    pub function_accuracy_held_out: f64,
    pub format_accuracy: f64,
    pub behaviour_detection: f64,
    pub false_alarms_per_10k_sessions: f64,
    pub normal_tnr: f64,
    pub injected_blocked: f64,
}

/// A running cloud, node and upstream for one application.
struct Stack {
    cloud: CloudHandle,
    node: SocketAddr,
    pack: Option<Arc<rampart_dsl::pack::PackSlot>>,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Stack {
    async fn start(app: &App, demo: bool, dir: &std::path::Path, a: &EvalArgs) -> Result<Stack> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir)?;
        let (stop, rx) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let up_addr = upstream.local_addr()?;
        if demo {
            let cfg = rampart_demo_shop::ShopConfig {
                db_path: Some(dir.join("shop.sqlite")),
                files_dir: Some(dir.join("files")),
                ..Default::default()
            };
            let mut r = rx.clone();
            tasks.push(tokio::spawn(async move {
                let _ = rampart_demo_shop::serve(upstream, cfg, async move {
                    let _ = r.changed().await;
                })
                .await;
            }));
        } else {
            let app = Arc::new(app.clone());
            let mut r = rx.clone();
            tasks.push(tokio::spawn(async move {
                tokio::select! {
                    _ = rampart_sim::server::serve(app, upstream) => {}
                    _ = r.changed() => {}
                }
            }));
        }
        let scale = a.time_scale;
        let secs = |s: f64| ((s * scale).round() as u64).max(1);
        let ccfg = CloudConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: dir.join("cloud"),
            pack_schedule_secs: 86_400,
            learning: LearningConfig {
                // The harness runs the learners itself, at known moments.
                enabled: false,
                behaviour_window_secs: secs(60.0),
                min_training_clients: 50,
                promote_after_secs: 0,
                clock_ms_per_sec: ((1000.0 * scale).round() as u32).clamp(1, 1000),
                ..LearningConfig::default()
            },
            ..CloudConfig::default()
        };
        let cloud = Cloud::bind(ccfg).await?;
        let cloud_addr = cloud.local_addr()?;
        let ops = cloud.handle();
        ops.create_application(&app.name).await?;
        let token = ops
            .create_enrollment_token(&app.name, Duration::from_secs(600))
            .await?;
        {
            let mut r = rx.clone();
            tasks.push(tokio::spawn(async move {
                let _ = cloud
                    .serve(async move {
                        let _ = r.changed().await;
                    })
                    .await;
            }));
        }
        let mut ncfg = NodeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            upstream: format!("http://{up_addr}"),
            mode: "block".into(),
            trusted_proxies: vec!["127.0.0.1".into()],
            ..NodeConfig::default()
        };
        ncfg.telemetry.salt = SALT.into();
        ncfg.telemetry.flush_seconds = secs(10.0).min(10);
        ncfg.cloud.url = format!("http://{cloud_addr}");
        ncfg.cloud.token = token;
        ncfg.cloud.name = "eval".into();
        ncfg.cloud.data_dir = dir.join("node");
        ncfg.cloud.long_poll_seconds = 2;
        ncfg.validate()?;
        let engine = crate::builtin_engine(ncfg.engine()?)?;
        let node = Node::bind(ncfg, engine).await?;
        let node_addr = node.local_addr()?;
        let pack = node.pack_slot();
        {
            let mut r = rx.clone();
            tasks.push(tokio::spawn(async move {
                let _ = node
                    .serve(async move {
                        let _ = r.changed().await;
                    })
                    .await;
            }));
        }
        Ok(Stack {
            cloud: ops,
            node: node_addr,
            pack,
            stop,
            tasks,
        })
    }

    async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(15), t).await;
        }
    }
}

/// Waits until the node's batches stopped arriving: the node flushes every
/// window, so two quiet windows in a row mean everything sent is stored.
async fn settle(stack: &Stack, app: i64, a: &EvalArgs) -> Result<()> {
    let window = Duration::from_secs_f64((10.0 * a.time_scale).clamp(1.0, 10.0));
    tokio::time::sleep(window * 2 + Duration::from_secs(1)).await;
    let store = stack.cloud.store();
    let mut last = None;
    for _ in 0..30 {
        let n = store
            .list_endpoints(app)
            .await?
            .iter()
            .map(|e| e.last_seen_at)
            .max();
        if n.is_some() && n == last {
            return Ok(());
        }
        last = n;
        tokio::time::sleep(window).await;
    }
    Ok(())
}

fn client_key(keyer: &Keyer, ip: &str) -> Option<String> {
    let ip: IpAddr = ip.parse().ok()?;
    let h = match ip {
        IpAddr::V4(a) => keyer.hash(b"client-ip", &a.octets()),
        IpAddr::V6(a) => keyer.hash(b"client-ip", &a.octets()),
    };
    Some(format!("{h:016x}"))
}

fn unix_now_f64() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The learned templates and their formats, as the cloud stored them.
struct Learned {
    set: TemplateSet,
    functions: HashMap<String, Function>,
    formats: HashMap<String, BTreeMap<String, ParamFormat>>,
}

async fn learned(cloud: &CloudHandle, app: i64) -> Result<Learned> {
    let rows = cloud.store().list_learned_endpoints(app).await?;
    let mut templates = Vec::new();
    let mut functions = HashMap::new();
    let mut formats = HashMap::new();
    for r in rows.into_iter().filter(|r| r.change != "gone") {
        let Ok(d) = serde_json::from_str::<LearnedDetail>(&r.detail) else {
            continue;
        };
        if let Some(f) = r.function_label.as_deref().and_then(Function::parse) {
            functions.insert(d.template.name.clone(), f);
        }
        formats.insert(
            d.template.name.clone(),
            d.formats.iter().map(|(k, v)| (k.clone(), v.0)).collect(),
        );
        templates.push(d.template);
    }
    Ok(Learned {
        set: TemplateSet::new(templates),
        functions,
        formats,
    })
}

/// The learned template a simulated request lands in: the operation's
/// template for GraphQL and SOAP requests, else the path's.
fn landing<'a>(l: &'a Learned, app: &App, r: &SimRequest) -> Option<&'a Template> {
    let t = l.set.find(&r.method, &r.path)?;
    let op = r
        .truth
        .endpoint
        .and_then(|i| app.endpoints[i].operation.clone());
    if let Some(op) = op {
        if let Some(o) = l.set.operations(t).find(|o| {
            o.operation
                .as_ref()
                .is_some_and(|x| x.name.eq_ignore_ascii_case(&op))
        }) {
            return Some(o);
        }
    }
    Some(t)
}

/// Grouping accuracy, template precision and recall over the learning
/// phase's requests: a learned template is *right* for a true endpoint
/// when most of the endpoint's requests land in it and most of its
/// requests come from that endpoint.
fn grouping(
    l: &Learned,
    app: &App,
    reqs: &[SimRequest],
    rep: &mut AppReport,
) -> HashMap<usize, String> {
    let mut counts: HashMap<(usize, String), u64> = HashMap::new();
    let mut per_truth: HashMap<usize, u64> = HashMap::new();
    let mut per_learned: HashMap<String, u64> = HashMap::new();
    let mut landed: Vec<Option<(usize, String)>> = Vec::new();
    for r in reqs {
        let Some(e) = r.truth.endpoint else {
            landed.push(None);
            continue;
        };
        let t = landing(l, app, r).map_or_else(|| "<none>".to_owned(), |t| t.name.clone());
        *counts.entry((e, t.clone())).or_default() += 1;
        *per_truth.entry(e).or_default() += 1;
        *per_learned.entry(t.clone()).or_default() += 1;
        landed.push(Some((e, t)));
    }
    // Truth endpoint -> the learned template most of its requests land in.
    let mut best: HashMap<usize, (String, u64)> = HashMap::new();
    for ((e, t), n) in &counts {
        let b = best.entry(*e).or_insert_with(|| (t.clone(), 0));
        if *n > b.1 || (*n == b.1 && *t < b.0) {
            *b = (t.clone(), *n);
        }
    }
    // Learned template -> the truth endpoint most of its requests come from.
    let mut owner: HashMap<String, (usize, u64)> = HashMap::new();
    for ((e, t), n) in &counts {
        let o = owner.entry(t.clone()).or_insert((*e, 0));
        if *n > o.1 || (*n == o.1 && *e < o.0) {
            *o = (*e, *n);
        }
    }
    let right = |e: usize, t: &str| {
        t != "<none>"
            && best.get(&e).is_some_and(|b| b.0 == t)
            && owner.get(t).is_some_and(|o| o.0 == e)
    };
    let total = landed.iter().flatten().count();
    let ok = landed
        .iter()
        .flatten()
        .filter(|(e, t)| right(*e, t))
        .count();
    rep.grouping_accuracy = ok as f64 / total.max(1) as f64;
    let truths: Vec<usize> = per_truth.keys().copied().collect();
    let recalled = truths
        .iter()
        .filter(|e| best.get(e).is_some_and(|b| right(**e, &b.0)))
        .count();
    rep.template_recall = recalled as f64 / truths.len().max(1) as f64;
    let learned_with_traffic: Vec<&String> = per_learned
        .keys()
        .filter(|t| t.as_str() != "<none>")
        .collect();
    let precise = learned_with_traffic
        .iter()
        .filter(|t| owner.get(**t).is_some_and(|o| right(o.0, t)))
        .count();
    rep.template_precision = precise as f64 / learned_with_traffic.len().max(1) as f64;
    rep.endpoints = truths.len();
    rep.templates = l.set.templates.len();
    for e in &truths {
        if !best.get(e).is_some_and(|b| right(*e, &b.0)) {
            let spec = &app.endpoints[*e];
            rep.misses.push(format!(
                "grouping: {} {}{} -> {}",
                spec.method,
                spec.template,
                spec.operation
                    .as_deref()
                    .map(|o| format!(" #{o}"))
                    .unwrap_or_default(),
                best.get(e).map_or("<none>", |b| b.0.as_str())
            ));
        }
    }
    best.iter()
        .filter(|(e, (t, _))| right(**e, t))
        .map(|(e, (t, _))| (*e, t.clone()))
        .collect()
}

fn functions_and_formats(
    l: &Learned,
    app: &App,
    mapped: &HashMap<usize, String>,
    rep: &mut AppReport,
) {
    let (mut f_ok, mut f_n, mut p_ok, mut p_n) = (0, 0, 0, 0);
    let mut confusions: BTreeMap<String, usize> = BTreeMap::new();
    for (e, t) in mapped {
        let spec = &app.endpoints[*e];
        if let Some(f) = l.functions.get(t) {
            f_n += 1;
            if *f == spec.function {
                f_ok += 1;
            } else {
                rep.misses.push(format!(
                    "function: {} {} is {}, learned {}",
                    spec.method, spec.template, spec.function, f
                ));
            }
        }
        let Some(formats) = l.formats.get(t) else {
            continue;
        };
        for p in &spec.params {
            let point = p.loc.point();
            let Some(learned) = formats.get(&point) else {
                continue;
            };
            p_n += 1;
            if *learned == p.format {
                p_ok += 1;
            } else {
                *confusions
                    .entry(format!("{} -> {}", p.format, learned))
                    .or_default() += 1;
                rep.misses.push(format!(
                    "format: {} {} {point} is {}, learned {learned}",
                    spec.method, spec.template, p.format
                ));
            }
        }
    }
    rep.function_accuracy = f64::from(f_ok) / f64::from(f_n.max(1));
    rep.functions_evaluated = f_n as usize;
    rep.format_accuracy = f64::from(p_ok) / f64::from(p_n.max(1));
    rep.formats_evaluated = p_n as usize;
    rep.format_confusions = confusions
        .into_iter()
        .map(|(k, n)| format!("{k} x{n}"))
        .collect();
}

async fn replay(stack: &Stack, s: &Schedule, a: &EvalArgs) -> Vec<rampart_sim::driver::Outcome> {
    rampart_sim::driver::replay(s.requests.clone(), stack.node, a.concurrency, a.time_scale).await
}

async fn eval_app(
    app: App,
    demo: bool,
    held_out: bool,
    seed: u64,
    a: &EvalArgs,
) -> Result<AppReport> {
    let dir = a.data.join(&app.name);
    let stack = Stack::start(&app, demo, &dir, a).await?;
    let app_row = stack.cloud.application(&app.name).await?;
    let mut rep = AppReport {
        app: app.name.clone(),
        held_out,
        ..AppReport::default()
    };
    let phase = Duration::from_secs(a.phase_secs);
    // 1. Learning.
    let learn = traffic::learning_phase(&app, seed, a.learn_sessions, phase);
    eprintln!(
        "[{}] learning phase: {} requests, {} sessions",
        app.name,
        learn.requests.len(),
        learn.normal_sessions
    );
    replay(&stack, &learn, a).await;
    settle(&stack, app_row.id, a).await?;
    let t0 = Instant::now();
    let first = stack.cloud.learn_now(&app.name).await?;
    rep.train_millis = u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
    eprintln!("[{}] learned: {first:?}", app.name);
    let l = learned(&stack.cloud, app_row.id).await?;
    let mapped = grouping(&l, &app, &learn.requests, &mut rep);
    functions_and_formats(&l, &app, &mapped, &mut rep);
    // 2. Monitoring, then promotion.
    stack.cloud.build_packs_now().await?;
    let monitor = traffic::learning_phase(&app, seed ^ 0x6d6f_6e69, a.monitor_sessions, phase / 3);
    replay(&stack, &monitor, a).await;
    settle(&stack, app_row.id, a).await?;
    let second = stack.cloud.learn_now(&app.name).await?;
    eprintln!("[{}] relearned: {second:?}", app.name);
    let rules = stack.cloud.store().list_rules(app_row.id).await?;
    rep.learned_rules = rules
        .iter()
        .filter(|r| r.origin == rampart_cloud::RuleOrigin::Learned)
        .count();
    rep.blocking_rules = rules
        .iter()
        .filter(|r| {
            r.origin == rampart_cloud::RuleOrigin::Learned
                && r.state == rampart_cloud::RuleState::Blocking
        })
        .count();
    let builds = stack.cloud.build_packs_now().await?;
    let version = builds.iter().find_map(|b| match &b.outcome {
        rampart_cloud::BuildOutcome::Published { version, .. } => Some(*version),
        rampart_cloud::BuildOutcome::Unchanged { version } => Some(*version),
        _ => None,
    });
    if let Some(v) = version {
        let installed = || {
            stack
                .pack
                .as_ref()
                .and_then(|s| s.current())
                .map_or(0, |p| p.manifest.version)
        };
        for _ in 0..300 {
            if installed() >= v {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if installed() < v {
            bail!("the node did not install pack {v}");
        }
    }
    // 3. Test: normal sessions, behaviour attacks, injected values, with
    // the behaviour model assessing the windows as they arrive.
    let test = traffic::test_phase(
        &app,
        &TestConfig {
            seed: seed ^ 0x7e57,
            sessions: a.test_sessions,
            duration: phase,
            per_threat: a.per_threat,
            injections: a.injections,
        },
    );
    eprintln!(
        "[{}] test phase: {} requests, {} scenarios, {} injected",
        app.name,
        test.requests.len(),
        test.scenarios.len(),
        test.injected
    );
    let started = unix_now_f64();
    let tick = Duration::from_secs_f64((2.0 * a.time_scale).max(0.5));
    let assessing = {
        let cloud = stack.cloud.clone();
        let name = app.name.clone();
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let h = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(tick) => {}
                    _ = &mut rx => break,
                }
                if let Err(e) = cloud.assess_behaviour_now(&name).await {
                    eprintln!("assessment failed: {e}");
                }
            }
        });
        (tx, h)
    };
    let outcomes = replay(&stack, &test, a).await;
    settle(&stack, app_row.id, a).await?;
    let _ = assessing.0.send(());
    let _ = assessing.1.await;
    stack.cloud.assess_behaviour_now(&app.name).await?;
    // Requests.
    for (r, o) in test.requests.iter().zip(&outcomes) {
        if r.truth.scenario.is_some() {
            continue;
        }
        if r.truth.injected.is_some() {
            rep.injected += 1;
            rep.injected_blocked += usize::from(o.blocked);
        } else {
            rep.normal_requests += 1;
            rep.normal_blocked += usize::from(o.blocked);
        }
    }
    // Behaviour.
    let keyer = Keyer::new(SALT.as_bytes());
    let alerts = stack
        .cloud
        .store()
        .list_behaviour_alerts(app_row.id, 0)
        .await?;
    let mut attackers: HashSet<String> = HashSet::new();
    for s in &test.scenarios {
        for c in &s.clients {
            if let Some(k) = client_key(&keyer, c) {
                attackers.insert(k);
            }
        }
    }
    let deadline = 60.0 * a.time_scale;
    rep.scenarios = test.scenarios.len();
    for s in &test.scenarios {
        let keys: HashSet<String> = s
            .clients
            .iter()
            .filter_map(|c| client_key(&keyer, c))
            .collect();
        let start = started + s.start.as_secs_f64() * a.time_scale;
        let hit = alerts
            .iter()
            .filter(|al| {
                keys.contains(&al.client)
                    || (s.threat == Threat::CredentialStuffing && al.kind == "application")
            })
            .filter(|al| al.window_end as f64 >= start - 1.0)
            .min_by(|x, y| x.window_end.cmp(&y.window_end));
        match hit {
            Some(al) if al.window_end as f64 - start <= deadline + 1.0 => {
                rep.scenarios_detected += 1;
                rep.detection_secs
                    .push(((al.window_end as f64 - start) / a.time_scale).max(0.0));
                if al.threat == s.threat.name() {
                    rep.threat_named_right += 1;
                } else {
                    rep.misses.push(format!(
                        "behaviour: {} #{} named {}",
                        s.threat, s.id, al.threat
                    ));
                }
            }
            Some(al) => rep.misses.push(format!(
                "behaviour: {} #{} detected late ({:.0} s)",
                s.threat,
                s.id,
                (al.window_end as f64 - start) / a.time_scale
            )),
            None => rep
                .misses
                .push(format!("behaviour: {} #{} not detected", s.threat, s.id)),
        }
    }
    // A session that sent an injected value is an attacker's, not a normal
    // one: an alert on it is no false alarm (its failed sign-in turns the
    // rest of the session into a run of 401s), and it leaves the count of
    // normal sessions.
    let injectors: HashSet<String> = test
        .requests
        .iter()
        .filter(|r| r.truth.scenario.is_none() && r.truth.injected.is_some())
        .filter_map(|r| client_key(&keyer, &r.client))
        .collect();
    rep.normal_sessions = test.normal_sessions.saturating_sub(injectors.len());
    attackers.extend(injectors);
    let normal_clients: HashSet<String> = test
        .requests
        .iter()
        .filter(|r| r.truth.scenario.is_none())
        .filter_map(|r| client_key(&keyer, &r.client))
        .filter(|k| !attackers.contains(k))
        .collect();
    let alerted: HashSet<&String> = alerts
        .iter()
        .filter(|al| al.kind != "application" && normal_clients.contains(&al.client))
        .map(|al| &al.client)
        .collect();
    rep.false_alarm_clients = alerted.len();
    // What the first false-alarm clients did, request by request.
    for key in alerted.iter().take(2) {
        let trace: Vec<String> = test
            .requests
            .iter()
            .zip(&outcomes)
            .filter(|(r, _)| client_key(&keyer, &r.client).as_ref() == Some(*key))
            .take(60)
            .map(|(r, o)| {
                format!(
                    "{:.0}s {} {} -> {}{}{}",
                    r.at.as_secs_f64(),
                    r.method,
                    r.target(),
                    o.status,
                    if o.blocked { " blocked" } else { "" },
                    if r.truth.injected.is_some() {
                        " (injected)"
                    } else {
                        ""
                    }
                )
            })
            .collect();
        rep.misses
            .push(format!("false alarm client trace: {}", trace.join(" | ")));
    }
    for al in alerts
        .iter()
        .filter(|al| al.kind != "application" && normal_clients.contains(&al.client))
        .take(5)
    {
        rep.misses.push(format!(
            "false alarm: {} ({:.2}): {}",
            al.threat, al.score, al.explanation
        ));
    }
    // Which rules decided the blocks of the test phase.
    let events = stack
        .cloud
        .store()
        .list_attack_events(app_row.id, None, 100_000)
        .await?;
    let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
    for e in events.iter().filter(|e| e.action == "block") {
        *by_rule.entry(e.rule.clone()).or_default() += 1;
    }
    let mut by_rule: Vec<(String, usize)> = by_rule.into_iter().collect();
    by_rule.sort_by_key(|r| std::cmp::Reverse(r.1));
    for (rule, n) in by_rule.into_iter().take(8) {
        let source = rules
            .iter()
            .find(|r| r.rule_id == rule)
            .map(|r| r.source.replace('\n', " "))
            .unwrap_or_default();
        rep.misses.push(format!(
            "blocks by {rule}: {n} {}",
            source.chars().take(400).collect::<String>()
        ));
    }
    stack.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(rep)
}

fn summarise(apps: Vec<AppReport>) -> EvalReport {
    let mean = |f: &dyn Fn(&AppReport) -> (f64, f64)| {
        let (a, b) = apps
            .iter()
            .map(f)
            .fold((0.0, 0.0), |x, y| (x.0 + y.0, x.1 + y.1));
        if b == 0.0 {
            0.0
        } else {
            a / b
        }
    };
    EvalReport {
        grouping_accuracy: mean(&|r| (r.grouping_accuracy, 1.0)),
        template_precision: mean(&|r| (r.template_precision, 1.0)),
        template_recall: mean(&|r| (r.template_recall, 1.0)),
        function_accuracy_held_out: mean(&|r| {
            if r.held_out {
                (
                    r.function_accuracy * r.functions_evaluated as f64,
                    r.functions_evaluated as f64,
                )
            } else {
                (0.0, 0.0)
            }
        }),
        format_accuracy: mean(&|r| {
            (
                r.format_accuracy * r.formats_evaluated as f64,
                r.formats_evaluated as f64,
            )
        }),
        behaviour_detection: mean(&|r| (r.scenarios_detected as f64, r.scenarios as f64)),
        false_alarms_per_10k_sessions: 10_000.0
            * mean(&|r| (r.false_alarm_clients as f64, r.normal_sessions as f64)),
        normal_tnr: 1.0 - mean(&|r| (r.normal_blocked as f64, r.normal_requests as f64)),
        injected_blocked: mean(&|r| (r.injected_blocked as f64, r.injected as f64)),
        apps,
    }
}

fn print(r: &EvalReport) {
    println!(
        "{:<28} {:>5} {:>5} {:>7} {:>6} {:>6} {:>7} {:>7} {:>9} {:>7} {:>8} {:>7}",
        "application",
        "eps",
        "tmpl",
        "group",
        "prec",
        "recall",
        "func",
        "format",
        "behaviour",
        "falarm",
        "TNR",
        "inject"
    );
    for a in &r.apps {
        println!(
            "{:<28} {:>5} {:>5} {:>7.4} {:>6.3} {:>6.3} {:>7.3} {:>7.4} {:>5}/{:<3} {:>7} {:>8.5} {:>7.3}",
            a.app,
            a.endpoints,
            a.templates,
            a.grouping_accuracy,
            a.template_precision,
            a.template_recall,
            a.function_accuracy,
            a.format_accuracy,
            a.scenarios_detected,
            a.scenarios,
            a.false_alarm_clients,
            1.0 - a.normal_blocked as f64 / a.normal_requests.max(1) as f64,
            a.injected_blocked as f64 / a.injected.max(1) as f64,
        );
    }
    println!();
    println!(
        "endpoint grouping accuracy      {:.4}  (goal >= 0.98)",
        r.grouping_accuracy
    );
    println!(
        "template precision / recall     {:.4} / {:.4}  (goal >= 0.95)",
        r.template_precision, r.template_recall
    );
    println!(
        "business function, held out     {:.4}  (goal >= 0.9)",
        r.function_accuracy_held_out
    );
    println!(
        "parameter format per point      {:.4}  (goal >= 0.97)",
        r.format_accuracy
    );
    println!(
        "behaviour attacks detected      {:.4}  within 60 s (goal >= 0.95)",
        r.behaviour_detection
    );
    println!(
        "false alarms per 10,000 sessions {:.2}  (goal <= 1)",
        r.false_alarms_per_10k_sessions
    );
    println!(
        "normal traffic TNR, rules on    {:.5}  (goal >= 0.995)",
        r.normal_tnr
    );
    println!("injected values blocked         {:.4}", r.injected_blocked);
    let train: Vec<u64> = r.apps.iter().map(|a| a.train_millis).collect();
    println!("learning run (ms, per app)      {train:?}");
    for a in &r.apps {
        if !a.format_confusions.is_empty() {
            println!(
                "  [{}] format confusions: {}",
                a.app,
                a.format_confusions.join(", ")
            );
        }
        for m in a.misses.iter().take(40) {
            println!("  [{}] {m}", a.app);
        }
    }
}

pub async fn run_eval(a: EvalArgs) -> Result<i32> {
    if std::env::var_os("RAMPART_LOG").is_some() {
        crate::init_logging("text");
    }
    if !(a.time_scale > 0.0 && a.time_scale <= 1.0) {
        bail!("--time-scale must be within (0, 1]");
    }
    std::fs::create_dir_all(&a.data)
        .with_context(|| format!("cannot create {}", a.data.display()))?;
    let mut reports = Vec::new();
    if a.demo {
        let app = rampart_sim::demo_shop();
        reports.push(eval_app(app, true, false, a.seed ^ 0xde40, &a).await?);
    }
    for i in 0..a.apps {
        let seed = a.seed + i as u64;
        let app = rampart_sim::generate(seed);
        reports.push(eval_app(app, false, true, seed, &a).await?);
    }
    let r = summarise(reports);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print(&r);
    }
    Ok(0)
}

pub fn run(a: LearnArgs) -> Result<i32> {
    match a.cmd {
        LearnCmd::Eval(e) => tokio::runtime::Runtime::new()?.block_on(run_eval(e)),
    }
}
