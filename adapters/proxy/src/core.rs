//! What every node shares, whatever server carries the requests: the
//! engine with its rules and rule pack, the counters, the traffic
//! aggregates and the cloud client, and the background work that keeps
//! them current (pack reloads, uploads, pack long-polls, heartbeats,
//! telemetry windows). The proxy node ([`crate::Node`]) and the adapters
//! embedded in other servers (`rampart-embed`) both run on it, so a rule
//! pack or a cloud outage behaves the same in each.

use std::sync::Arc;
use std::time::Duration;

use rampart_core::Engine;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::config::NodeConfig;
use crate::metrics::Metrics;
use crate::telemetry::Telemetry;

/// The engine and its companions, ready to inspect.
#[derive(Debug, Clone)]
pub struct NodeCore {
    pub engine: Arc<Engine>,
    pub metrics: Arc<Metrics>,
    pub telemetry: Option<Arc<Telemetry>>,
    pub cloud: Option<Arc<rampart_sync::Client>>,
    pub config: NodeConfig,
    /// The pack file as installed at start.
    pack_seen: Option<crate::rules::Stamp>,
}

impl NodeCore {
    /// Validates the configuration, compiles the node's rule files,
    /// installs the pack of the last run (cloud) or the pack file, and
    /// enrolls with the cloud when one is configured.
    pub async fn start(config: NodeConfig, engine: Engine) -> anyhow::Result<NodeCore> {
        config.validate()?;
        let mut engine = crate::rules::attach(engine, &config.rules)?;
        let cloud = if config.cloud.enabled() {
            let client = Arc::new(rampart_sync::Client::start(config.cloud.clone()).await?);
            let slot = Arc::new(client.pack_slot()?);
            // The pack of the last run, before the cloud is reached.
            client.install_saved_pack(&slot, config.rules.backend()?);
            engine = engine.with_pack_slot(slot);
            Some(client)
        } else {
            None
        };
        let engine = Arc::new(engine);
        let metrics = Arc::new(Metrics::default());
        if let Some(c) = &cloud {
            metrics.attach_sync(c.clone());
        }
        let pack_seen = crate::rules::install_now(&engine, &config.rules, &metrics).await;
        let telemetry = config.telemetry.enabled.then(|| {
            let t = Telemetry::new(&config.telemetry);
            Arc::new(match &cloud {
                Some(c) => t.with_sink(c.clone()),
                None => t,
            })
        });
        Ok(NodeCore {
            engine,
            metrics,
            telemetry,
            cloud,
            config,
            pack_seen,
        })
    }

    /// Spawns the background work on the current runtime; it ends when
    /// `stop` turns true.
    pub fn spawn_background(&self, stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        if let Some(t) = &self.telemetry {
            tokio::spawn(t.clone().run(stop.clone()));
        }
        if let Some(c) = &self.cloud {
            let backend = self.config.rules.backend()?;
            tokio::spawn(c.clone().run_uploader(stop.clone()));
            tokio::spawn(
                c.clone()
                    .run_pack_poller(self.engine.clone(), backend, stop.clone()),
            );
            let m = self.metrics.clone();
            tokio::spawn(c.clone().run_heartbeat(
                self.engine.clone(),
                move || (m.requests(), m.blocked()),
                stop.clone(),
            ));
        }
        tokio::spawn(crate::rules::watch_pack(
            self.engine.clone(),
            self.config.rules.clone(),
            self.metrics.clone(),
            self.pack_seen.clone(),
            stop,
        ));
        Ok(())
    }

    /// At shutdown: the last window goes to the spool, and the spool to
    /// the cloud if it answers within `grace`; what it does not take stays
    /// spooled for the next start.
    pub async fn drain(&self, grace: Duration) {
        if let Some(t) = &self.telemetry {
            t.take();
        }
        if let Some(c) = &self.cloud {
            match tokio::time::timeout(grace, c.upload_pending()).await {
                Ok(Ok(n)) => info!(batches = n, "spool delivered before exit"),
                Ok(Err(e)) => warn!(error = %e, "the spool stays on disk for the next start"),
                Err(_) => warn!("the cloud did not take the spool in time; it stays on disk"),
            }
        }
    }

    /// Folds a request into the traffic aggregates, when they are on.
    pub fn observe(
        &self,
        ins: &rampart_core::Inspection,
        status: u16,
        elapsed: Duration,
        client_ip: std::net::IpAddr,
        request_id: &str,
    ) {
        if let Some(t) = &self.telemetry {
            t.observe(ins, status, elapsed, client_ip, request_id);
        }
    }
}
