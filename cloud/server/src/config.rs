//! `cloud.toml`: how a cloud replica runs.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The largest request body the cloud takes by default (the spec's 16 MiB),
/// compressed or not.
pub const DEFAULT_BODY_LIMIT: usize = 16 << 20;

/// A cloud replica's configuration. Every field has a default, so an empty
/// file is a valid configuration (SQLite under `data_dir`, a key generated
/// on first start).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloudConfig {
    /// Where the node API listens.
    pub listen: SocketAddr,
    /// The database: `sqlite://PATH?mode=rwc` or
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`. Default:
    /// `sqlite://DATA/cloud.sqlite?mode=rwc` with DATA the `data_dir`.
    pub database: Option<String>,
    /// The replica's own files: the SQLite database by default and the
    /// pack signing key (`cloud.key`, `cloud.pub`).
    pub data_dir: PathBuf,
    /// How often a new application's rule pack is rebuilt, in seconds
    /// (900 by default, at least 1). Each application keeps its own
    /// schedule in the database.
    pub pack_schedule_secs: u64,
    /// The longest a pack long-poll is held (`Prefer: wait=N` is capped
    /// to it), in seconds.
    pub long_poll_max_secs: u64,
    /// The largest request body, in bytes, before and after gzip
    /// decompression (16 MiB).
    pub body_limit_bytes: usize,
    /// This replica's name in job leases; unique per replica. Default: one
    /// made of the process id and random digits at start.
    pub replica_id: Option<String>,
    /// The ed25519 seed packs are signed with (hex or base64). Default: the
    /// one in `DATA/cloud.key`, generated on first start. Replicas that
    /// serve the same nodes MUST sign with the same key.
    pub signing_key: Option<String>,
    /// More public keys (hex or base64) announced to nodes at enrollment,
    /// besides the signing key's: for key rotation.
    pub pack_keys: Vec<String>,
    /// Whether this replica runs the rule-pack scheduler (it still builds
    /// only while it holds the `packs` lease).
    pub scheduler: bool,
    /// Time to live of the scheduler's lease, in seconds; it is renewed at a
    /// third of it, and another replica takes it over once it expired.
    pub lease_ttl_secs: u64,
    /// How long in-flight requests get to finish at shutdown, milliseconds.
    pub shutdown_grace_ms: u64,
    /// Serve TLS with this certificate chain (PEM); with `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<PathBuf>,
    /// The learners (`[learning]`).
    pub learning: LearningConfig,
    /// Active threat verification (`[scanning]`).
    pub scanning: ScanningConfig,
}

/// Active threat verification (`[scanning]` in cloud.toml): attack events
/// become scan jobs, the scanner replays them against the application's
/// scan target, confirmed vulnerabilities become incidents, and incidents
/// are sent to the notification channels.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScanningConfig {
    /// Whether this replica makes and runs scan jobs and sends
    /// notifications. Jobs are claimed from the database, so several
    /// replicas share the work.
    pub enabled: bool,
    /// How often the loop looks for new attack events, due jobs and due
    /// notifications, in seconds.
    pub tick_secs: u64,
    /// Jobs one replica runs at once.
    pub jobs_per_tick: u64,
    /// At start, how far back attack events are turned into jobs, in
    /// seconds (older ones had their chance on the replica that ran then).
    pub backfill_secs: u64,
    /// Attempts of a job whose scan was inconclusive (a network error, a
    /// script error) before it is given up.
    pub max_attempts: i32,
    /// Delay before a job's second attempt, in seconds; doubled each time.
    pub retry_secs: u64,
    /// Attempts of a notification before it is given up.
    pub notify_max_attempts: i32,
    /// Delay before a notification's second attempt, in seconds; doubled
    /// each time, at most an hour.
    pub notify_retry_secs: u64,
    /// Where each application is scanned (`[[scanning.targets]]`): the
    /// application itself or its staging copy. An application without a
    /// target gets jobs that wait, failed, for one to be configured.
    pub targets: Vec<ScanTarget>,
    /// The scanner's own limits (`[scanning.probe]`): rate, requests per
    /// job, script limits, test credentials, user strategies. The hosts of
    /// `targets` are added to its allowlist.
    pub probe: rampart_scanner::ScannerConfig,
    /// Notification channels (`[[scanning.notify]]`).
    pub notify: Vec<NotifyChannel>,
}

/// A host-mapping rule: which base URL the scanner sends an application's
/// probes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanTarget {
    /// The application's name.
    pub application: String,
    /// `http://host:port` (or https) of the application or its staging
    /// copy; probes go to this base plus the endpoint's path.
    pub base: String,
}

/// A notification channel.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyChannel {
    /// The channel's name (what the notification history shows).
    pub name: String,
    /// The payload's shape.
    pub kind: NotifyKind,
    /// Where the JSON is POSTed: a webhook receiver, a Slack incoming
    /// webhook, Jira's `/rest/api/2/issue`.
    pub url: String,
    /// A value for the `Authorization` header (Jira: `Basic ...` or
    /// `Bearer ...`). Never logged.
    #[serde(default)]
    pub authorization: Option<String>,
    /// Jira: the project key issues are created in.
    #[serde(default)]
    pub project: Option<String>,
    /// Jira: the issue type (default `Bug`).
    #[serde(default)]
    pub issue_type: Option<String>,
}

/// The payload shapes of notification channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyKind {
    /// Rampart's own JSON document (`event`, `incident`).
    Webhook,
    /// A Slack incoming-webhook message (`text` and `blocks`).
    Slack,
    /// A Jira create-issue request (`fields`).
    Jira,
}

impl Default for ScanningConfig {
    fn default() -> Self {
        ScanningConfig {
            enabled: true,
            tick_secs: 2,
            jobs_per_tick: 4,
            backfill_secs: 86_400,
            max_attempts: 3,
            retry_secs: 60,
            notify_max_attempts: 8,
            notify_retry_secs: 10,
            targets: Vec::new(),
            probe: rampart_scanner::ScannerConfig::default(),
            notify: Vec::new(),
        }
    }
}

impl fmt::Debug for ScanningConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScanningConfig")
            .field("enabled", &self.enabled)
            .field("tick_secs", &self.tick_secs)
            .field("jobs_per_tick", &self.jobs_per_tick)
            .field("max_attempts", &self.max_attempts)
            .field("targets", &self.targets)
            .field("notify", &self.notify)
            .finish_non_exhaustive()
    }
}

// The authorization header must never reach a log line.
impl fmt::Debug for NotifyChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifyChannel")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("authorization", &self.authorization.as_ref().map(|_| "***"))
            .field("project", &self.project)
            .finish()
    }
}

/// When and how the learners run (`[learning]` in cloud.toml). Only the
/// replica holding the `learning` lease runs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearningConfig {
    /// Whether this replica runs the learners at all.
    pub enabled: bool,
    /// How often each application is relearned (templates, formats,
    /// behaviour model, rules), in seconds.
    pub interval_secs: u64,
    /// How often recent client windows are assessed by the behaviour
    /// model, in seconds.
    pub behaviour_tick_secs: u64,
    /// The span of client activity the behaviour model judges at once, in
    /// seconds (consecutive batches of a client are merged over it).
    pub behaviour_window_secs: u64,
    /// How long client windows are kept (and so the span the behaviour
    /// model is trained on), in seconds.
    pub client_retention_secs: u64,
    /// Clients a behaviour model needs to be trained.
    pub min_training_clients: usize,
    /// How long a learned rule monitors before it may block, in seconds.
    pub promote_after_secs: u64,
    /// The confidence (percent) a learned rule needs to be promoted.
    pub promote_min_confidence_pct: u8,
    /// The most requests (per million of its endpoint's requests) a
    /// monitoring rule may have matched and still be promoted.
    pub promote_max_matches_ppm: u32,
    /// Real milliseconds per second of the application's clock: 1000 in
    /// production. A simulation that runs its traffic N times faster than
    /// real time (`rampart learn eval --time-scale`) sets 1000 / N, so that
    /// behaviour rates and the windows of learned rate rules are those of
    /// the simulated clock.
    pub clock_ms_per_sec: u32,
}

impl Default for LearningConfig {
    fn default() -> Self {
        LearningConfig {
            enabled: true,
            interval_secs: 900,
            behaviour_tick_secs: 5,
            behaviour_window_secs: 60,
            client_retention_secs: 86_400,
            min_training_clients: 100,
            promote_after_secs: 86_400,
            promote_min_confidence_pct: 90,
            promote_max_matches_ppm: 1_000,
            clock_ms_per_sec: 1_000,
        }
    }
}

impl Default for CloudConfig {
    fn default() -> Self {
        CloudConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8700)),
            database: None,
            data_dir: PathBuf::from("data/cloud"),
            pack_schedule_secs: 900,
            long_poll_max_secs: 60,
            body_limit_bytes: DEFAULT_BODY_LIMIT,
            replica_id: None,
            signing_key: None,
            pack_keys: Vec::new(),
            scheduler: true,
            lease_ttl_secs: 30,
            shutdown_grace_ms: 5_000,
            tls_cert: None,
            tls_key: None,
            learning: LearningConfig::default(),
            scanning: ScanningConfig::default(),
        }
    }
}

// The signing key must never reach a log line.
impl fmt::Debug for CloudConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudConfig")
            .field("listen", &self.listen)
            .field(
                "database",
                &self.database.as_deref().map(redact_database_url),
            )
            .field("data_dir", &self.data_dir)
            .field("pack_schedule_secs", &self.pack_schedule_secs)
            .field("long_poll_max_secs", &self.long_poll_max_secs)
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("replica_id", &self.replica_id)
            .field("signing_key", &self.signing_key.as_ref().map(|_| "***"))
            .field("pack_keys", &self.pack_keys)
            .field("scheduler", &self.scheduler)
            .field("lease_ttl_secs", &self.lease_ttl_secs)
            .field("shutdown_grace_ms", &self.shutdown_grace_ms)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .field("learning", &self.learning)
            .field("scanning", &self.scanning)
            .finish()
    }
}

impl CloudConfig {
    /// Reads a configuration from TOML text (unknown keys are errors).
    pub fn from_toml(text: &str) -> Result<CloudConfig> {
        let cfg: CloudConfig =
            toml::from_str(text).map_err(|e| Error::Config(format!("cloud.toml: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads a configuration file.
    pub fn from_file(path: &Path) -> Result<CloudConfig> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            what: format!("cannot read {}", path.display()),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Checks the values' ranges.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if self.pack_schedule_secs < 1 {
            return bad("pack_schedule_secs must be at least 1".into());
        }
        if self.long_poll_max_secs > 3600 {
            return bad("long_poll_max_secs must be at most 3600".into());
        }
        if self.body_limit_bytes < 1024 {
            return bad("body_limit_bytes must be at least 1024".into());
        }
        if self.lease_ttl_secs < 3 || self.lease_ttl_secs > 86_400 {
            return bad("lease_ttl_secs must be within 3..=86400".into());
        }
        if let Some(id) = &self.replica_id {
            if id.trim().is_empty() || id.len() > 200 {
                return bad("replica_id must be 1 to 200 bytes".into());
            }
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return bad("tls_cert and tls_key go together".into());
        }
        let l = &self.learning;
        if l.interval_secs < 1 || l.behaviour_tick_secs < 1 || l.behaviour_window_secs < 1 {
            return bad("learning intervals and windows must be at least 1 second".into());
        }
        if l.clock_ms_per_sec == 0 || l.clock_ms_per_sec > 1_000 {
            return bad("learning.clock_ms_per_sec must be within 1..=1000".into());
        }
        if l.promote_min_confidence_pct > 100 {
            return bad("learning.promote_min_confidence_pct must be at most 100".into());
        }
        let sc = &self.scanning;
        if sc.tick_secs < 1
            || sc.jobs_per_tick < 1
            || sc.max_attempts < 1
            || sc.notify_max_attempts < 1
        {
            return bad(
                "scanning: tick_secs, jobs_per_tick and attempts must be at least 1".into(),
            );
        }
        sc.probe
            .validate()
            .map_err(|e| Error::Config(format!("scanning.probe: {e}")))?;
        for t in &sc.targets {
            if let Err(e) = rampart_scanner::allow_entry_of(&t.base) {
                return bad(format!(
                    "scanning.targets: base {:?} of {:?} must be an http(s) URL: {e}",
                    t.base, t.application
                ));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for c in &sc.notify {
            if !names.insert(c.name.as_str()) || c.name.trim().is_empty() {
                return bad(format!(
                    "scanning.notify: channel names must be unique and non-empty ({:?})",
                    c.name
                ));
            }
            if !(c.url.starts_with("http://") || c.url.starts_with("https://")) {
                return bad(format!(
                    "scanning.notify: url of {:?} must be http(s)",
                    c.name
                ));
            }
            if c.kind == NotifyKind::Jira && c.project.is_none() {
                return bad(format!(
                    "scanning.notify: Jira channel {:?} needs a project",
                    c.name
                ));
            }
        }
        if let Some(db) = &self.database {
            if db.trim().is_empty() {
                return bad("database must not be empty".into());
            }
        }
        Ok(())
    }

    /// The database URL: `database`, or the SQLite file under `data_dir`.
    pub fn database_url(&self) -> String {
        match &self.database {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("cloud.sqlite").display()
            ),
        }
    }
}

/// A database URL with the password of `user:password@` replaced by `***`
/// (the store's own redaction, the one its errors use).
pub(crate) fn redact_database_url(url: &str) -> String {
    rampart_store::redact_url(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_toml() {
        let c = CloudConfig::from_toml("").expect("empty is valid");
        assert_eq!(c, CloudConfig::default());
        assert_eq!(
            c.database_url(),
            "sqlite://data/cloud/cloud.sqlite?mode=rwc"
        );
        let c = CloudConfig::from_toml(
            "listen = \"0.0.0.0:9000\"\ndatabase = \"postgres://u:pw@db/rampart\"\npack_schedule_secs = 1\n",
        )
        .expect("valid");
        assert_eq!(c.database_url(), "postgres://u:pw@db/rampart");
        assert!(CloudConfig::from_toml("nope = 1").is_err());
        assert!(CloudConfig::from_toml("pack_schedule_secs = 0").is_err());
    }

    #[test]
    fn debug_hides_secrets() {
        let c = CloudConfig {
            database: Some("postgres://u:hunter2@db/x".into()),
            signing_key: Some("00".repeat(32)),
            ..CloudConfig::default()
        };
        let s = format!("{c:?}");
        assert!(!s.contains("hunter2"), "{s}");
        assert!(!s.contains(&"00".repeat(32)), "{s}");
        assert!(s.contains("u:***@db"), "{s}");
    }
}
