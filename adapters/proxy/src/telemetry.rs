//! The node's traffic aggregates (`spec/metrics-privacy.md`): every
//! inspected request is folded into the window's aggregates, and a batch is
//! taken every `flush_seconds`. The last batch is shown on the admin
//! listener (`/telemetry`), so an operator sees exactly what the node
//! would send to a cloud.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rampart_core::Inspection;
use rampart_telemetry::{Aggregator, Batch, Config, Observation};
use serde::Deserialize;

/// `[telemetry]` in node.toml.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    pub enabled: bool,
    /// The secret mixed into every hash; random per process when empty.
    /// Nodes of one application share it to make their hashes comparable.
    /// Never sent anywhere.
    pub salt: String,
    /// Distinct clients that must send a path segment or member name
    /// before it is reported as itself.
    pub k_anonymity: usize,
    /// Length of a window, seconds.
    pub flush_seconds: u64,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            enabled: true,
            salt: String::new(),
            k_anonymity: 3,
            flush_seconds: 10,
        }
    }
}

/// The aggregator and the last batch taken.
#[derive(Debug)]
pub struct Telemetry {
    agg: Mutex<Aggregator>,
    last: Mutex<Option<Arc<Batch>>>,
    flush: Duration,
    /// Where batches go: the cloud client's spool.
    sink: Option<Arc<rampart_sync::Client>>,
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Telemetry {
    pub fn new(cfg: &TelemetryConfig) -> Telemetry {
        let salt = if cfg.salt.is_empty() {
            let mut s = [0u8; 32];
            // Without randomness the hashes are still keyed by the time
            // the node started, which is not secret: say so in the log.
            if getrandom::fill(&mut s).is_err() {
                tracing::warn!("no randomness for the telemetry salt; set [telemetry] salt");
                s[..8].copy_from_slice(&unix_now().to_be_bytes());
            }
            s.to_vec()
        } else {
            cfg.salt.as_bytes().to_vec()
        };
        Telemetry {
            agg: Mutex::new(Aggregator::new(Config {
                salt,
                k_anonymity: cfg.k_anonymity,
                ..Config::default()
            })),
            last: Mutex::new(None),
            flush: Duration::from_secs(cfg.flush_seconds.max(1)),
            sink: None,
        }
    }

    /// Sends batches to the cloud client's spool, numbered after what the
    /// spool already holds.
    pub fn with_sink(mut self, sink: Arc<rampart_sync::Client>) -> Telemetry {
        self.agg
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .resume_after(sink.spooled_max_seq());
        self.sink = Some(sink);
        self
    }

    /// Folds one request into the window.
    pub fn observe(
        &self,
        ins: &Inspection,
        status: u16,
        latency: Duration,
        client_ip: IpAddr,
        request_id: &str,
    ) {
        let session = rampart_core::rules::session_of(&ins.tree);
        let o = Observation {
            tree: &ins.tree,
            findings: &ins.findings,
            verdict: &ins.verdict,
            masked: &ins.rules.masked,
            tags: &ins.rules.tags,
            status,
            latency_us: u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            client_ip: Some(client_ip),
            session,
            request_id,
            now: unix_now(),
        };
        self.agg
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .observe(&o);
    }

    /// Takes the window's batch, when it saw requests.
    pub fn take(&self) -> Option<Arc<Batch>> {
        let mut agg = self.agg.lock().unwrap_or_else(PoisonError::into_inner);
        if agg.is_empty() {
            return None;
        }
        let b = Arc::new(agg.take(unix_now()));
        drop(agg);
        if let Some(sink) = &self.sink {
            sink.spool(&b);
        }
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(b.clone());
        Some(b)
    }

    /// The last batch taken.
    pub fn last(&self) -> Option<Arc<Batch>> {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Takes a batch every window until `stop`.
    pub async fn run(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.flush) => {}
                _ = stop.changed() => {
                    self.take();
                    return;
                }
            }
            if let Some(b) = self.take() {
                tracing::debug!(
                    seq = b.seq,
                    requests = b.requests,
                    endpoints = b.endpoints.len(),
                    attacks = b.attacks.len(),
                    "telemetry window closed"
                );
            }
        }
    }
}
