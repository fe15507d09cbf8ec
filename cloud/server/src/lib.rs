//! The Rampart cloud service: the server side of the node protocol
//! (`spec/node-protocol.md`) and the rule-pack scheduler.
//!
//! * `POST /v1/enroll`: a one-time enrollment token for a node credential
//!   and the public keys packs are signed with;
//! * `POST /v1/batches`: a node's metrics and attack events
//!   (`rampart_telemetry::Batch`, gzip or plain JSON), ingested once per
//!   (node, seq) in one database transaction;
//! * `GET /v1/packs/latest`: the application's latest published rule pack,
//!   by `If-None-Match` version, with `Prefer: wait=N` long-polls;
//! * `POST /v1/heartbeat`: the node's versions and counters.
//!
//! Every call but enrollment presents `Authorization: Bearer <credential>`.
//! Packs are rebuilt per application every `pack_schedule` seconds by the
//! replica holding the `packs` lease in the database, and published only
//! when they compile and the rules changed.
//!
//! ```no_run
//! # async fn demo() -> rampart_cloud::Result<()> {
//! use rampart_cloud::{Cloud, CloudConfig, RuleOrigin};
//! let cloud = Cloud::bind(CloudConfig::default()).await?;
//! let ops = cloud.handle();
//! ops.create_application("shop").await?;
//! let token = ops
//!     .create_enrollment_token("shop", rampart_cloud::DEFAULT_TOKEN_TTL)
//!     .await?;
//! ops.put_rule(
//!     "shop",
//!     "no-php",
//!     "rule no-php \"No PHP\" { when path ~ \"*.php\" then block(404) }\n",
//!     RuleOrigin::Custom,
//! )
//! .await?;
//! # let _ = token;
//! cloud.serve(async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

#![forbid(unsafe_code)]

mod api;
mod config;
mod error;
mod ingest;
mod keys;
mod learning;
mod metrics;
mod packs;
mod rest;
mod scanning;
mod tls;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use http::Request;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use rampart_dsl::pack::keys as pack_keys;
use rampart_store::entity::{application, rule};
use rampart_store::{NewRule, Store};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{debug, info, warn};

pub use api::PACK_MEDIA_TYPE;
pub use config::{
    CloudConfig, LearningConfig, NotifyChannel, NotifyKind, ScanTarget, ScanningConfig,
    DEFAULT_BODY_LIMIT,
};
pub use error::{Error, Result};
pub use keys::{KEY_FILE, PUB_FILE};
pub use learning::{Detail as LearnedDetail, LearnReport, LEARNING_LEASE};
pub use packs::{BuildOutcome, PackBuild, SchedulerStats, PACKS_LEASE};
pub use rampart_store::entity::{RuleOrigin, RuleState};
pub use scanning::{concrete_path, ScanTick};

/// How long an enrollment token lives unless told otherwise: 24 hours.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// How often the scheduler looks for applications whose pack is due.
const SCHEDULER_TICK: Duration = Duration::from_secs(1);

/// What every request handler and background task shares.
pub(crate) struct Shared {
    pub(crate) cfg: CloudConfig,
    pub(crate) store: Store,
    key: SigningKey,
    /// Public keys announced at enrollment (hex), the signing key's first.
    pub(crate) pack_keys: Vec<String>,
    replica_id: String,
    pub(crate) watch: packs::PackWatch,
    builder: packs::Builder,
    lease_ticks: std::sync::atomic::AtomicU64,
    /// The learners' models and per-application state.
    pub(crate) learners: learning::Learners,
    /// The scanner, its job maker's watermark and the notification client.
    pub(crate) scanning: scanning::Scanning,
    /// The replica's Prometheus counters (`GET /metrics`).
    pub(crate) metrics: metrics::CloudMetrics,
    /// Failed console sign-ins per user name.
    pub(crate) logins: rest::LoginThrottle,
    /// `true` once the replica shuts down: long-polls answer at once.
    pub(crate) stop: watch::Sender<bool>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("cfg", &self.cfg)
            .field("pack_keys", &self.pack_keys)
            .field("replica_id", &self.replica_id)
            .finish_non_exhaustive()
    }
}

/// A cloud replica bound to its listener, ready to [`Cloud::serve`].
pub struct Cloud {
    listener: TcpListener,
    handle: CloudHandle,
    /// TLS, when `tls_cert` and `tls_key` are configured.
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl fmt::Debug for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cloud")
            .field("listener", &self.listener)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// The operator's side of a cloud replica: applications, enrollment
/// tokens, rules, pack builds. Cheap to clone; usable while the replica
/// serves, and without a listener ([`CloudHandle::open`]) for one-off CLI
/// commands.
#[derive(Debug, Clone)]
pub struct CloudHandle {
    inner: Arc<Shared>,
}

impl Cloud {
    /// Opens the database (creating the SQLite file under `data_dir` when
    /// no URL is given), brings its schema up to date, loads or creates the
    /// pack signing key, and binds the listener.
    pub async fn bind(cfg: CloudConfig) -> Result<Cloud> {
        let listen = cfg.listen;
        let tls = match (&cfg.tls_cert, &cfg.tls_key) {
            (Some(c), Some(k)) => Some(tls::acceptor(c, k)?),
            _ => None,
        };
        let handle = CloudHandle::open(cfg).await?;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| Error::Io {
                what: format!("cannot listen on {listen}"),
                source,
            })?;
        Ok(Cloud {
            listener,
            handle,
            tls,
        })
    }

    /// The address the listener is bound to (the port chosen for `:0`).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.listener.local_addr().map_err(|source| Error::Io {
            what: "cannot read the listener's address".into(),
            source,
        })
    }

    /// The operator's handle on this replica.
    pub fn handle(&self) -> CloudHandle {
        self.handle.clone()
    }

    /// Serves the node API, runs the pack scheduler (when configured) and
    /// the check for packs published by other replicas, until `shutdown`
    /// completes; then stops accepting, answers waiting long-polls, gives
    /// in-flight requests `shutdown_grace_ms` to finish and releases the
    /// scheduler's lease.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        let st = self.handle.inner.clone();
        info!(
            listen = %self.local_addr()?,
            database = %config::redact_database_url(&st.cfg.database_url()),
            replica = %st.replica_id,
            key_id = %pack_keys::KeyId::of(&st.key.verifying_key()),
            scheduler = st.cfg.scheduler,
            "rampart cloud serving"
        );
        let mut tasks = Vec::new();
        {
            let st = st.clone();
            let stop = st.stop.subscribe();
            tasks.push(tokio::spawn(async move {
                st.watch.run(st.store.clone(), stop).await;
            }));
        }
        if st.cfg.scheduler {
            let st = st.clone();
            tasks.push(tokio::spawn(run_scheduler(st)));
        }
        if st.cfg.learning.enabled {
            let st = st.clone();
            tasks.push(tokio::spawn(learning::run(st)));
        }
        if st.cfg.scanning.enabled {
            let st = st.clone();
            tasks.push(tokio::spawn(scanning::run(st)));
        }
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(30))
            .max_buf_size(256 << 10);
        let graceful = GracefulShutdown::new();
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                r = self.listener.accept() => match r {
                    Ok(x) => x,
                    Err(e) => {
                        warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let st = st.clone();
            let svc = service_fn(move |req: Request<Incoming>| {
                let st = st.clone();
                async move { Ok::<_, Infallible>(api::handle(st, req).await) }
            });
            let builder = builder.clone();
            let watcher = graceful.watcher();
            let tls = self.tls.clone();
            tokio::spawn(async move {
                let res = match tls {
                    None => {
                        let conn = builder.serve_connection(TokioIo::new(stream), svc);
                        watcher.watch(conn.into_owned()).await
                    }
                    Some(acceptor) => {
                        // The handshake has the header timeout too.
                        let hs =
                            tokio::time::timeout(Duration::from_secs(30), acceptor.accept(stream))
                                .await;
                        let Ok(Ok(tls_stream)) = hs else {
                            debug!(client = %peer, "TLS handshake failed or timed out");
                            return;
                        };
                        let conn = builder.serve_connection(TokioIo::new(tls_stream), svc);
                        watcher.watch(conn.into_owned()).await
                    }
                };
                if let Err(e) = res {
                    debug!(client = %peer, error = %e, "connection ended with an error");
                }
            });
        }
        info!("rampart cloud shutting down");
        drop(self.listener);
        st.stop.send_replace(true);
        let grace = Duration::from_millis(st.cfg.shutdown_grace_ms);
        if tokio::time::timeout(grace, graceful.shutdown())
            .await
            .is_err()
        {
            warn!("shutdown grace period over; closing remaining connections");
        }
        for t in tasks {
            let _ = t.await;
        }
        Ok(())
    }
}

/// Every second: take or renew the `packs` lease; while this replica holds
/// it, build the packs of the applications whose schedule is due.
async fn run_scheduler(st: Arc<Shared>) {
    let lease = packs::Lease::named(
        PACKS_LEASE,
        st.replica_id.clone(),
        Duration::from_secs(st.cfg.lease_ttl_secs),
    );
    let mut ticks = packs::LeasedTicks::new(lease, SCHEDULER_TICK, st.stop.subscribe());
    let mut last_built: std::collections::HashMap<i64, Instant> = Default::default();
    let mut last_pruned: Option<Instant> = None;
    loop {
        match ticks.next(&st.store).await {
            packs::Tick::Stop => break,
            packs::Tick::NotHeld => {
                // Whoever holds it builds; when it comes back to us, build at once.
                last_built.clear();
                continue;
            }
            packs::Tick::Held => {}
        }
        st.lease_ticks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if last_pruned.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            last_pruned = Some(Instant::now());
            prune_console_data(&st).await;
        }
        let apps = match st.store.list_applications().await {
            Ok(a) => a,
            Err(e) => {
                warn!(error = %e, "scheduler: cannot list the applications");
                continue;
            }
        };
        let due: Vec<application::Model> = apps
            .into_iter()
            .filter(|a| {
                let every =
                    Duration::from_secs(u64::try_from(a.pack_schedule_secs).unwrap_or(1).max(1));
                last_built.get(&a.id).is_none_or(|t| t.elapsed() >= every)
            })
            .collect();
        if due.is_empty() {
            continue;
        }
        let started = Instant::now();
        match st.builder.build(&st.store, &st.key, &st.watch, &due).await {
            Ok(builds) => {
                for b in &builds {
                    debug!(application = %b.application, outcome = ?b.outcome, "scheduled pack build");
                }
            }
            Err(e) => warn!(error = %e, "scheduler: pack build failed"),
        }
        for a in &due {
            last_built.insert(a.id, started);
        }
    }
    ticks.release(&st.store).await;
}

/// How often the lease holder deletes the console's expired data.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// How long the traffic per minute (the console's plots) is kept.
const TRAFFIC_RETENTION_SECS: i64 = 30 * 86_400;

/// Deletes expired console sessions and traffic minutes past retention.
async fn prune_console_data(st: &Shared) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    if let Err(e) = st
        .store
        .prune_traffic_minutes(now - TRAFFIC_RETENTION_SECS)
        .await
    {
        warn!(error = %e, "cannot prune traffic minutes");
    }
    if let Err(e) = st.store.prune_console_sessions().await {
        warn!(error = %e, "cannot prune console sessions");
    }
}

fn unique_replica_id() -> String {
    let mut r = [0u8; 4];
    let _ = getrandom::fill(&mut r);
    format!("replica-{}-{}", std::process::id(), pack_keys::hex(&r))
}

/// An application name as rule packs need it: 1 to 128 of
/// `A-Z a-z 0-9 . _ -`.
fn valid_application_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl CloudHandle {
    /// Opens the database and the signing key without listening (for
    /// one-off operator commands, or a cloud embedded in another server).
    pub async fn open(cfg: CloudConfig) -> Result<CloudHandle> {
        cfg.validate()?;
        if cfg.database.is_none() || cfg.signing_key.is_none() {
            std::fs::create_dir_all(&cfg.data_dir).map_err(|source| Error::Io {
                what: format!("cannot create {}", cfg.data_dir.display()),
                source,
            })?;
        }
        let key = keys::load_or_create(&cfg)?;
        let mut announced = vec![pack_keys::hex(key.verifying_key().as_bytes())];
        for k in &cfg.pack_keys {
            let vk = pack_keys::read_verifying_key(k)
                .map_err(|e| Error::Config(format!("pack_keys: {e}")))?;
            let hex = pack_keys::hex(vk.as_bytes());
            if !announced.contains(&hex) {
                announced.push(hex);
            }
        }
        let store = Store::connect(&cfg.database_url()).await?;
        let applied = store.migrate().await?;
        if !applied.is_empty() {
            info!(migrations = ?applied, "database schema updated");
        }
        let replica_id = cfg.replica_id.clone().unwrap_or_else(unique_replica_id);
        let scanning = scanning::Scanning::new(&cfg.scanning).await?;
        let (stop, _) = watch::channel(false);
        Ok(CloudHandle {
            inner: Arc::new(Shared {
                cfg,
                store,
                key,
                pack_keys: announced,
                replica_id,
                watch: packs::PackWatch::default(),
                builder: packs::Builder::default(),
                lease_ticks: Default::default(),
                learners: Default::default(),
                scanning,
                metrics: Default::default(),
                logins: Default::default(),
                stop,
            }),
        })
    }

    /// The store, for queries the handle does not offer.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The configuration this replica runs with.
    pub fn config(&self) -> &CloudConfig {
        &self.inner.cfg
    }

    /// This replica's name in job leases.
    pub fn replica_id(&self) -> &str {
        &self.inner.replica_id
    }

    /// The public key packs are signed with (hex).
    pub fn pack_public_key_hex(&self) -> String {
        pack_keys::hex(self.inner.key.verifying_key().as_bytes())
    }

    /// Every public key announced to nodes at enrollment (hex).
    pub fn pack_keys(&self) -> &[String] {
        &self.inner.pack_keys
    }

    /// Creates an application (its name goes into rule packs: 1 to 128 of
    /// `A-Z a-z 0-9 . _ -`) with the configured pack schedule.
    pub async fn create_application(&self, name: &str) -> Result<application::Model> {
        if !valid_application_name(name) {
            return Err(Error::Invalid(format!(
                "application name {name:?}: 1 to 128 of A-Z a-z 0-9 . _ -"
            )));
        }
        let mut app = self.inner.store.create_application(name).await?;
        let secs = i64::try_from(self.inner.cfg.pack_schedule_secs).unwrap_or(i64::MAX);
        if secs != app.pack_schedule_secs {
            app = self.inner.store.set_pack_schedule(app.id, secs).await?;
        }
        info!(application = %app.name, pack_schedule_secs = app.pack_schedule_secs, "application created");
        Ok(app)
    }

    /// The application named `name`.
    pub async fn application(&self, name: &str) -> Result<application::Model> {
        self.inner
            .store
            .application_by_name(name)
            .await?
            .ok_or_else(|| Error::UnknownApplication(name.to_owned()))
    }

    /// Sets how often the application's pack is rebuilt (at least 1 s).
    pub async fn set_pack_schedule(
        &self,
        app: &str,
        every: Duration,
    ) -> Result<application::Model> {
        let a = self.application(app).await?;
        let secs = i64::try_from(every.as_secs()).unwrap_or(i64::MAX);
        Ok(self.inner.store.set_pack_schedule(a.id, secs).await?)
    }

    /// A one-time enrollment token for a node of `app`, valid for `ttl`
    /// ([`DEFAULT_TOKEN_TTL`] by default). Shown once: only its hash is
    /// stored.
    pub async fn create_enrollment_token(&self, app: &str, ttl: Duration) -> Result<String> {
        let a = self.application(app).await?;
        let issued = self.inner.store.create_enrollment_token(a.id, ttl).await?;
        info!(application = %a.name, expires_at = %issued.row.expires_at, "enrollment token created");
        Ok(issued.secret)
    }

    /// Stores a rule of `app` (creating it, or replacing the source of the
    /// rule with this id) once it compiles, alone and with the
    /// application's other enabled rules. A new custom rule starts
    /// blocking, a new learned one monitoring; an existing rule keeps its
    /// state. The rule goes into the next pack build.
    pub async fn put_rule(
        &self,
        app: &str,
        id: &str,
        source: &str,
        origin: RuleOrigin,
    ) -> Result<rule::Model> {
        self.put_rule_explained(app, id, source, origin, None).await
    }

    /// [`CloudHandle::put_rule`] with the rule's explanation in words; with
    /// `None`, a rule that exists keeps its explanation.
    pub async fn put_rule_explained(
        &self,
        app: &str,
        id: &str,
        source: &str,
        origin: RuleOrigin,
        explanation: Option<&str>,
    ) -> Result<rule::Model> {
        if !packs::valid_rule_id(id) {
            return Err(Error::Invalid(format!(
                "rule id {id:?}: 1 to 128 of A-Z a-z 0-9 . _ -, starting with a letter or digit"
            )));
        }
        let a = self.application(app).await?;
        let others: Vec<(String, String)> = self
            .inner
            .store
            .list_rules(a.id)
            .await?
            .into_iter()
            .filter(|r| r.state != RuleState::Disabled && r.rule_id != id)
            .map(|r| (packs::rule_file(&r.rule_id), r.source))
            .collect();
        let (file, text) = (packs::rule_file(id), source.to_owned());
        let rule_id = id.to_owned();
        tokio::task::spawn_blocking(move || check_rule(&rule_id, &file, &text, others))
            .await
            .map_err(|e| Error::Invalid(format!("rule check failed: {e}")))??;
        let state = match origin {
            RuleOrigin::Custom => RuleState::Blocking,
            RuleOrigin::Learned => RuleState::Monitoring,
        };
        let kept = match explanation {
            Some(_) => None,
            None => self
                .inner
                .store
                .rule(a.id, id)
                .await?
                .map(|r| r.explanation),
        };
        let explanation = explanation.or(kept.as_deref()).unwrap_or("");
        let row = self
            .inner
            .store
            .put_rule(
                a.id,
                NewRule {
                    rule_id: id,
                    source,
                    origin,
                    state,
                    explanation,
                    confidence: None,
                },
            )
            .await?;
        info!(application = %a.name, rule = id, "rule stored");
        Ok(row)
    }

    /// Sets a rule's state (`Disabled` leaves it out of packs).
    pub async fn set_rule_state(
        &self,
        app: &str,
        id: &str,
        state: RuleState,
    ) -> Result<rule::Model> {
        let a = self.application(app).await?;
        Ok(self.inner.store.set_rule_state(a.id, id, state).await?)
    }

    /// Deletes a rule. Returns whether it existed.
    pub async fn delete_rule(&self, app: &str, id: &str) -> Result<bool> {
        let a = self.application(app).await?;
        Ok(self.inner.store.delete_rule(a.id, id).await?)
    }

    /// Builds every application's pack now, whatever its schedule and
    /// without the scheduler's lease (what the scheduler runs for the
    /// applications that are due). A pack is published when it compiles
    /// and its rules changed since the last published one.
    pub async fn build_packs_now(&self) -> Result<Vec<PackBuild>> {
        let apps = self.inner.store.list_applications().await?;
        let st = &self.inner;
        st.builder.build(&st.store, &st.key, &st.watch, &apps).await
    }

    /// Runs the learners on the application now, whatever their schedule
    /// and without their lease: templates, functions, formats, the
    /// behaviour model and the learned rules (the next pack build carries
    /// them).
    pub async fn learn_now(&self, app: &str) -> Result<LearnReport> {
        let a = self.application(app).await?;
        let st = &self.inner;
        st.learners.learn(&st.store, &st.cfg.learning, &a).await
    }

    /// Assesses the application's client windows that arrived since the
    /// last assessment with the behaviour model of the last learning run;
    /// returns how many alerts were new.
    pub async fn assess_behaviour_now(&self, app: &str) -> Result<usize> {
        let a = self.application(app).await?;
        let st = &self.inner;
        st.learners.assess(&st.store, &st.cfg.learning, &a).await
    }

    /// One pass of the scanning loop now: scan jobs from the attack events
    /// that arrived since the last pass, the due jobs run (confirmed
    /// vulnerabilities open incidents and queue their notifications), the
    /// due notifications sent. Nothing when `[scanning] enabled` is off.
    pub async fn scan_now(&self) -> Result<ScanTick> {
        let st = &self.inner;
        st.scanning.tick(&st.store, &st.cfg.scanning).await
    }

    /// Pack long-polls waiting on this replica now.
    pub fn long_poll_waiters(&self) -> usize {
        self.inner.watch.waiters()
    }

    /// The scheduler's counters on this replica.
    pub fn scheduler_stats(&self) -> SchedulerStats {
        use std::sync::atomic::Ordering::Relaxed;
        SchedulerStats {
            lease_ticks: self.inner.lease_ticks.load(Relaxed),
            builds: self.inner.builder.builds.load(Relaxed),
        }
    }
}

/// Compiles a rule alone, then with the other enabled rules of its
/// application when those compile without it (so that a rule is refused
/// for its own conflicts, e.g. a rule id used twice, not for others').
fn check_rule(id: &str, file: &str, text: &str, others: Vec<(String, String)>) -> Result<()> {
    if let Err(d) = rampart_dsl::compile_str(file, text) {
        return Err(Error::Rule {
            rule: id.to_owned(),
            summary: format!("it does not compile ({} problem(s))", d.list.len()),
            diagnostics: d.render(),
        });
    }
    if others.is_empty() {
        return Ok(());
    }
    let compiles = |files: &[(String, String)]| {
        let entries = files.iter().map(|(n, _)| n.clone()).collect();
        rampart_dsl::pack::Pack::build("check", 1, 0, entries, files.to_vec())
    };
    if compiles(&others).is_err() {
        return Ok(());
    }
    let mut all = others;
    all.push((file.to_owned(), text.to_owned()));
    all.sort_by(|a, b| a.0.cmp(&b.0));
    match compiles(&all) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::Rule {
            rule: id.to_owned(),
            summary: "it does not compile with the application's other rules".into(),
            diagnostics: match e {
                rampart_dsl::pack::PackError::Compile(d) => d.render(),
                other => other.to_string(),
            },
        }),
    }
}
