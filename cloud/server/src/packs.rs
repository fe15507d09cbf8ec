//! Rule packs: building an application's pack from its rules, the
//! scheduler that rebuilds them under a database lease, and the watch that
//! wakes long-polls when a pack is published (by this replica at once, by
//! another one through the database, checked every second).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use rampart_dsl::pack::{keys, Pack};
use rampart_store::entity::{application, RuleState};
use rampart_store::Store;
use sha2::{Digest as _, Sha256};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::error::Result;

/// The name of the scheduler's job lease.
pub const PACKS_LEASE: &str = "packs";

/// The file of a pack built when an application has no enabled rule left
/// (after it had a pack): nodes then run no pack rules.
const EMPTY_FILE: &str = "empty.rules";
const EMPTY_TEXT: &str = "# No rule of this application is enabled.\n";

/// The pack file of a rule.
pub(crate) fn rule_file(rule_id: &str) -> String {
    format!("rules/{rule_id}.rules")
}

/// Whether a rule id can name a pack file: 1 to 128 of `A-Z a-z 0-9 . _ -`,
/// starting with a letter or digit.
pub(crate) fn valid_rule_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id.as_bytes()[0].is_ascii_alphanumeric()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// What one build of an application's pack did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackBuild {
    /// The application's name.
    pub application: String,
    /// The outcome.
    pub outcome: BuildOutcome,
}

/// The outcome of a pack build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildOutcome {
    /// A new pack was published.
    Published {
        /// Its version.
        version: u64,
        /// The number of rules it holds.
        rules: u32,
    },
    /// The rules did not change since the last published pack.
    Unchanged {
        /// The version of the last published pack.
        version: u64,
    },
    /// The application has no enabled rule and never had a pack.
    NoRules,
    /// The rules do not compile together: nothing was published; the
    /// reason holds the rendered diagnostics.
    Failed {
        /// Why.
        reason: String,
    },
    /// Another replica stored a pack with the same version first.
    Raced,
}

/// The SHA-256 of a set of files (sorted by name), each name and text
/// prefixed by its length: equal sets of rules give equal digests whatever
/// the pack's version and creation time.
pub(crate) fn files_digest(files: &[(String, String)]) -> [u8; 32] {
    let mut sorted: Vec<&(String, String)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = Sha256::new();
    for (name, text) in sorted {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update((text.len() as u64).to_le_bytes());
        h.update(text.as_bytes());
    }
    h.finalize().into()
}

/// State kept between builds: the digest of each application's last
/// published pack, and of its last failed build (not to log the same
/// failure at every tick).
#[derive(Debug, Default)]
pub(crate) struct Builder {
    published: Mutex<HashMap<i64, (i64, [u8; 32])>>,
    failed: Mutex<HashMap<i64, ([u8; 32], String)>>,
    /// One build at a time in this process (the scheduler and an
    /// operator's `build_packs_now`).
    running: tokio::sync::Mutex<()>,
    pub(crate) builds: AtomicU64,
    /// Builds by outcome (`GET /metrics`).
    pub(crate) outcomes: crate::metrics::BuildCounters,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Builder {
    /// Builds the packs of `apps` one after the other.
    pub(crate) async fn build(
        &self,
        store: &Store,
        key: &SigningKey,
        watch: &PackWatch,
        apps: &[application::Model],
    ) -> Result<Vec<PackBuild>> {
        let _one = self.running.lock().await;
        let mut out = Vec::with_capacity(apps.len());
        for app in apps {
            let outcome = match self.build_one(store, key, watch, app).await {
                Ok(o) => o,
                Err(e) => {
                    self.outcomes.failed.inc();
                    return Err(e);
                }
            };
            self.outcomes.record(&outcome);
            out.push(PackBuild {
                application: app.name.clone(),
                outcome,
            });
        }
        Ok(out)
    }

    async fn build_one(
        &self,
        store: &Store,
        key: &SigningKey,
        watch: &PackWatch,
        app: &application::Model,
    ) -> Result<BuildOutcome> {
        self.builds.fetch_add(1, Relaxed);
        let mut rules: Vec<_> = store
            .list_rules(app.id)
            .await?
            .into_iter()
            .filter(|r| r.state != RuleState::Disabled)
            .collect();
        rules.sort_by(|a, b| a.rule_id.cmp(&b.rule_id));
        let mut files: Vec<(String, String)> = rules
            .into_iter()
            .map(|r| (rule_file(&r.rule_id), r.source))
            .collect();
        let published = self.published_digest(store, app.id).await?;
        if files.is_empty() {
            if published.is_none() {
                return Ok(BuildOutcome::NoRules);
            }
            files.push((EMPTY_FILE.to_owned(), EMPTY_TEXT.to_owned()));
        }
        let digest = files_digest(&files);
        if let Some((version, d)) = published {
            if d == Some(digest) {
                return Ok(BuildOutcome::Unchanged {
                    version: u64::try_from(version).unwrap_or(0),
                });
            }
        }
        if let Some((d, reason)) = lock(&self.failed).get(&app.id) {
            if *d == digest {
                return Ok(BuildOutcome::Failed {
                    reason: reason.clone(),
                });
            }
        }
        let version = store.next_pack_version(app.id).await?;
        let Ok(version_u) = u64::try_from(version) else {
            return Ok(BuildOutcome::Failed {
                reason: format!("pack version {version} is out of range"),
            });
        };
        let entries: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
        let name = app.name.clone();
        let key = key.clone();
        let built = tokio::task::spawn_blocking(move || {
            let mut pack = Pack::build(&name, version_u, unix_now(), entries, files)?;
            pack.sign(&key);
            Ok::<_, rampart_dsl::pack::PackError>((
                pack.to_bytes(),
                keys::hex(&pack.digest()),
                pack.manifest.rules,
            ))
        })
        .await;
        let (bytes, pack_digest, n_rules) = match built {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => {
                let reason = e.to_string();
                warn!(
                    application = %app.name,
                    reason = %reason,
                    "the rule pack does not build; the last published pack stays"
                );
                lock(&self.failed).insert(app.id, (digest, reason.clone()));
                return Ok(BuildOutcome::Failed { reason });
            }
            Err(e) => {
                return Ok(BuildOutcome::Failed {
                    reason: format!("the build task failed: {e}"),
                })
            }
        };
        lock(&self.failed).remove(&app.id);
        match store
            .insert_rule_pack(app.id, version, &pack_digest, &bytes)
            .await
        {
            Ok(_) => {}
            Err(rampart_store::Error::Conflict(_)) => {
                debug!(application = %app.name, version, "another replica stored this pack version first");
                return Ok(BuildOutcome::Raced);
            }
            Err(e) => return Err(e.into()),
        }
        store.publish_rule_pack(app.id, version).await?;
        lock(&self.published).insert(app.id, (version, digest));
        watch.published(app.id, version);
        info!(
            application = %app.name,
            version,
            rules = n_rules,
            digest = %pack_digest,
            "rule pack published"
        );
        Ok(BuildOutcome::Published {
            version: version_u,
            rules: n_rules,
        })
    }

    /// The version of the application's last published pack and the digest
    /// of its files (`None` when the pack cannot be read).
    async fn published_digest(
        &self,
        store: &Store,
        app: i64,
    ) -> Result<Option<(i64, Option<[u8; 32]>)>> {
        let Some(version) = store.latest_published_version(app).await? else {
            return Ok(None);
        };
        if let Some((v, d)) = lock(&self.published).get(&app) {
            if *v == version {
                return Ok(Some((version, Some(*d))));
            }
        }
        let Some(row) = store.rule_pack(app, version).await? else {
            return Ok(Some((version, None)));
        };
        let digest = match Pack::parse(&row.bytes) {
            Ok(p) => {
                let files: Vec<(String, String)> = p
                    .manifest
                    .files
                    .iter()
                    .map(|f| f.name.clone())
                    .zip(p.texts)
                    .collect();
                let d = files_digest(&files);
                lock(&self.published).insert(app, (version, d));
                Some(d)
            }
            Err(e) => {
                warn!(app, version, error = %e, "the published pack cannot be read; it will be replaced");
                None
            }
        };
        Ok(Some((version, digest)))
    }
}

/// The latest published pack version of each application that has
/// long-polls waiting, as this replica knows it.
#[derive(Debug, Default)]
pub(crate) struct PackWatch {
    apps: Mutex<HashMap<i64, watch::Sender<i64>>>,
}

impl PackWatch {
    /// A receiver of the application's latest published version.
    pub(crate) fn subscribe(&self, app: i64) -> watch::Receiver<i64> {
        let mut apps = lock(&self.apps);
        apps.retain(|_, tx| tx.receiver_count() > 0);
        apps.entry(app)
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// Records that `version` of the application's pack is published.
    pub(crate) fn published(&self, app: i64, version: i64) {
        if let Some(tx) = lock(&self.apps).get(&app) {
            tx.send_if_modified(|v| {
                if version > *v {
                    *v = version;
                    true
                } else {
                    false
                }
            });
        }
    }

    /// Applications with long-polls waiting.
    fn watched(&self) -> Vec<i64> {
        lock(&self.apps)
            .iter()
            .filter(|(_, tx)| tx.receiver_count() > 0)
            .map(|(app, _)| *app)
            .collect()
    }

    /// The number of long-polls waiting.
    pub(crate) fn waiters(&self) -> usize {
        lock(&self.apps)
            .values()
            .map(|tx| tx.receiver_count())
            .sum()
    }

    /// Checks the database every second for packs published by other
    /// replicas, for the applications with long-polls waiting.
    pub(crate) async fn run(&self, store: Store, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            for app in self.watched() {
                match store.latest_published_version(app).await {
                    Ok(Some(v)) => self.published(app, v),
                    Ok(None) => {}
                    Err(e) => warn!(app, error = %e, "cannot check for new rule packs"),
                }
            }
        }
    }
}

/// Counters of the scheduler, for operators and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedulerStats {
    /// Scheduler ticks on which this replica held the `packs` lease.
    pub lease_ticks: u64,
    /// Application pack builds this replica ran (scheduled or not).
    pub builds: u64,
}

/// The scheduler's view of its lease: renewed in the database at a third
/// of its time to live, trusted in between.
#[derive(Debug)]
pub(crate) struct Lease {
    name: &'static str,
    pub(crate) holder: String,
    pub(crate) ttl: Duration,
    renewed: Option<Instant>,
}

impl Lease {
    /// A lease on the job `name`.
    pub(crate) fn named(name: &'static str, holder: String, ttl: Duration) -> Lease {
        Lease {
            name,
            holder,
            ttl,
            renewed: None,
        }
    }

    /// Whether this replica holds the lease now (taking or renewing it
    /// when due).
    pub(crate) async fn hold(&mut self, store: &Store) -> bool {
        if let Some(t) = self.renewed {
            if t.elapsed() < self.ttl / 3 {
                return true;
            }
        }
        let at = Instant::now();
        match store
            .try_acquire_lease(self.name, &self.holder, self.ttl)
            .await
        {
            Ok(true) => {
                if self.renewed.is_none() {
                    info!(replica = %self.holder, job = self.name, "this replica holds the lease");
                }
                self.renewed = Some(at);
                true
            }
            Ok(false) => {
                if self.renewed.take().is_some() {
                    info!(replica = %self.holder, job = self.name, "another replica took over the lease");
                }
                false
            }
            Err(e) => {
                warn!(error = %e, job = self.name, "cannot take the lease");
                self.renewed = None;
                false
            }
        }
    }

    /// Gives the lease up (at shutdown) so that another replica takes over
    /// at once.
    pub(crate) async fn release(&mut self, store: &Store) {
        if self.renewed.take().is_some() {
            if let Err(e) = store.release_lease(self.name, &self.holder).await {
                warn!(error = %e, job = self.name, "cannot release the lease");
            }
        }
    }
}

/// What the next tick of a leased job brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tick {
    /// The replica shuts down.
    Stop,
    /// Another replica holds the job's lease: do nothing now.
    NotHeld,
    /// This replica holds it: do the job's work.
    Held,
}

/// The loop of a job that only the replica holding its lease runs (the
/// pack scheduler, the learners): a tick every `period`, the lease taken
/// or renewed on each, and the shutdown signal.
pub(crate) struct LeasedTicks {
    lease: Lease,
    tick: tokio::time::Interval,
    stop: watch::Receiver<bool>,
}

impl LeasedTicks {
    pub(crate) fn new(lease: Lease, period: Duration, stop: watch::Receiver<bool>) -> LeasedTicks {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        LeasedTicks { lease, tick, stop }
    }

    /// Waits for the next tick (or the shutdown) and says whether this
    /// replica holds the lease now.
    pub(crate) async fn next(&mut self, store: &Store) -> Tick {
        tokio::select! {
            _ = self.tick.tick() => {}
            _ = self.stop.changed() => return Tick::Stop,
        }
        if *self.stop.borrow() {
            return Tick::Stop;
        }
        if self.lease.hold(store).await {
            Tick::Held
        } else {
            Tick::NotHeld
        }
    }

    /// Gives the lease up at shutdown.
    pub(crate) async fn release(mut self, store: &Store) {
        self.lease.release(store).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_ignores_order_and_separates_fields() {
        let a = vec![
            ("rules/a.rules".to_string(), "x".to_string()),
            ("rules/b.rules".to_string(), "y".to_string()),
        ];
        let mut b = a.clone();
        b.reverse();
        assert_eq!(files_digest(&a), files_digest(&b));
        let c = vec![
            ("rules/a.rulesx".to_string(), String::new()),
            ("rules/b.rules".to_string(), "y".to_string()),
        ];
        assert_ne!(files_digest(&a), files_digest(&c));
    }

    #[test]
    fn rule_ids() {
        assert!(valid_rule_id("no-php"));
        assert!(valid_rule_id("cve-2021-44228.v2_x"));
        for bad in ["", ".hidden", "a/b", "a b", "é", "-x", &"x".repeat(129)] {
            assert!(!valid_rule_id(bad), "{bad:?}");
        }
    }
}
