//! The node side of the node protocol (`spec/node-protocol.md`):
//! enrollment, the spool of batches and their upload, rule packs by
//! long-poll, heartbeats. Every adapter (the proxy node now, the server
//! modules later) runs the same client.

#![forbid(unsafe_code)]

mod spool;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use rampart_core::{Backend, Engine};
use rampart_dsl::pack::{keys, Installed, PackSlot, TrustedKeys};
use rampart_telemetry::Batch;
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify};
use tracing::{info, warn};

pub use spool::Spool;

/// `[cloud]` in node.toml.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncConfig {
    /// The cloud, `http://HOST:PORT` or `https://...`; no cloud when empty.
    pub url: String,
    /// A one-time enrollment token (`rampart cloud token`), needed until
    /// the node has enrolled.
    pub token: String,
    /// The node's name in the cloud.
    pub name: String,
    /// Where the node keeps its identity, spool and last pack.
    pub data_dir: PathBuf,
    pub spool_max_bytes: u64,
    pub heartbeat_seconds: u64,
    /// How long one pack request waits for a new pack.
    pub long_poll_seconds: u64,
    /// A CA certificate (PEM) to trust for an `https://` cloud besides the
    /// system's roots (a private CA, a self-signed cloud).
    pub ca_file: Option<PathBuf>,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            url: String::new(),
            token: String::new(),
            name: "node".to_string(),
            data_dir: PathBuf::from("data/node"),
            spool_max_bytes: 64 << 20,
            heartbeat_seconds: 30,
            long_poll_seconds: 30,
            ca_file: None,
        }
    }
}

impl SyncConfig {
    pub fn enabled(&self) -> bool {
        !self.url.is_empty()
    }
}

/// What enrollment gave the node (`DATA/node.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub node_id: i64,
    pub credential: String,
    pub application: String,
    /// Public keys (hex) packs are signed with.
    pub pack_keys: Vec<String>,
}

#[derive(Serialize)]
struct EnrollRequest<'a> {
    token: &'a str,
    name: &'a str,
    version: &'a str,
}

/// Counters a node reports in its heartbeat and its metrics.
#[derive(Debug, Default)]
pub struct Counters {
    /// Batches the cloud took.
    pub uploaded: AtomicU64,
    /// Upload rounds that failed (the cloud unreachable or answering an
    /// error); the batches stay in the spool.
    pub upload_failures: AtomicU64,
    /// Batches the cloud refused for good (400, 413): dropped.
    pub uploads_refused: AtomicU64,
    /// Heartbeats that failed.
    pub heartbeat_failures: AtomicU64,
    /// Pack requests that failed (the cloud unreachable, an unexpected
    /// status, a download cut short); a pack refused by its signature or
    /// rules is counted in `packs_refused` instead.
    pub pack_fetch_failures: AtomicU64,
    pub packs_installed: AtomicU64,
    pub packs_refused: AtomicU64,
}

/// The client of one node.
#[derive(Debug)]
pub struct Client {
    cfg: SyncConfig,
    http: reqwest::Client,
    identity: Identity,
    spool: Mutex<Spool>,
    wake: Notify,
    pub counters: Counters,
    last_pack_error: Mutex<Option<String>>,
}

fn install_crypto() {
    // reqwest is built without a TLS provider of its own: use ring, which
    // the rest of the tree already has. A second install is a no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn url(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

/// Writes a file only its owner can read, through a temporary name.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write as _;
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut f = o
            .open(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

impl Client {
    /// Loads the node's identity from its data folder, or enrolls with the
    /// configured token and saves it.
    pub async fn start(cfg: SyncConfig) -> Result<Client> {
        install_crypto();
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("cannot create {}", cfg.data_dir.display()))?;
        let mut builder = reqwest::Client::builder().connect_timeout(Duration::from_secs(10));
        if let Some(ca) = &cfg.ca_file {
            let pem = std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| anyhow!("{}: not a PEM certificate: {e}", ca.display()))?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder.build().context("cannot build the HTTP client")?;
        let id_path = cfg.data_dir.join("node.json");
        let identity = match std::fs::read(&id_path) {
            Ok(b) => serde_json::from_slice(&b)
                .with_context(|| format!("{} is not a node identity", id_path.display()))?,
            Err(_) => {
                if cfg.token.is_empty() {
                    bail!(
                        "the node has not enrolled ({} is missing): give it an enrollment token ([cloud] token or --cloud-token)",
                        id_path.display()
                    );
                }
                let id = enroll(&http, &cfg).await?;
                write_private(&id_path, &serde_json::to_vec_pretty(&id)?)?;
                info!(node_id = id.node_id, application = %id.application, "enrolled");
                id
            }
        };
        let spool = Spool::open(&cfg.data_dir.join("spool"), cfg.spool_max_bytes)?;
        Ok(Client {
            cfg,
            http,
            identity,
            spool: Mutex::new(spool),
            wake: Notify::new(),
            counters: Counters::default(),
            last_pack_error: Mutex::new(None),
        })
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The keys packs from this cloud must be signed with.
    pub fn trusted_keys(&self) -> Result<TrustedKeys> {
        let mut k = Vec::new();
        for hex in &self.identity.pack_keys {
            k.push(keys::read_verifying_key(hex).map_err(|e| anyhow!("pack key: {e}"))?);
        }
        Ok(TrustedKeys::new(k))
    }

    /// A pack slot for this node's application and keys.
    pub fn pack_slot(&self) -> Result<PackSlot> {
        Ok(PackSlot::new(
            self.trusted_keys()?,
            Some(self.identity.application.clone()),
        ))
    }

    fn lock_spool(&self) -> std::sync::MutexGuard<'_, Spool> {
        self.spool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The sequence number to continue after (the spool's highest).
    pub fn spooled_max_seq(&self) -> u64 {
        self.lock_spool().max_seq()
    }

    /// Batches waiting, and batches dropped because the spool was full.
    pub fn spool_state(&self) -> (usize, u64) {
        let s = self.lock_spool();
        (s.pending().map(|p| p.len()).unwrap_or(0), s.dropped())
    }

    /// Batches waiting, their size on disk (bytes), and batches dropped
    /// because the spool was full.
    pub fn spool_usage(&self) -> (usize, u64, u64) {
        let s = self.lock_spool();
        let pending = s.pending().unwrap_or_default();
        let bytes = pending.iter().map(|(_, _, len)| len).sum();
        (pending.len(), bytes, s.dropped())
    }

    /// Writes a batch to the spool and wakes the uploader.
    pub fn spool(&self, batch: &Batch) {
        if let Err(e) = self.lock_spool().push(batch) {
            warn!(seq = batch.seq, error = %e, "cannot write the batch to the spool");
        }
        self.wake.notify_one();
    }

    fn auth(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        r.header(
            "authorization",
            format!("Bearer {}", self.identity.credential),
        )
    }

    /// Uploads the spool oldest first; stops at the first failure. Returns
    /// how many batches the cloud took.
    pub async fn upload_pending(&self) -> Result<usize> {
        let pending = self.lock_spool().pending()?;
        let mut n = 0;
        for (seq, path, _) in pending {
            let body = self.lock_spool().read(&path)?;
            let resp = self
                .auth(self.http.post(url(&self.cfg.url, "/v1/batches")))
                .header("content-type", "application/json")
                .header("content-encoding", "gzip")
                .timeout(Duration::from_secs(10))
                .body(body)
                .send()
                .await
                .map_err(|e| anyhow!("upload of batch {seq}: {e}"))?;
            let status = resp.status().as_u16();
            match status {
                200 => {
                    self.lock_spool().remove(&path)?;
                    self.counters.uploaded.fetch_add(1, Relaxed);
                    n += 1;
                }
                400 | 413 => {
                    // The cloud will never take it: keep the spool moving.
                    warn!(seq, status, "the cloud refused a batch; it is dropped");
                    self.counters.uploads_refused.fetch_add(1, Relaxed);
                    self.lock_spool().remove(&path)?;
                }
                _ => bail!("upload of batch {seq}: the cloud answered {status}"),
            }
        }
        Ok(n)
    }

    /// Uploads whenever a batch is spooled and retries with backoff (1 s
    /// to 60 s) while the cloud is unreachable, until `stop`.
    pub async fn run_uploader(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut backoff = Duration::from_secs(1);
        loop {
            match self.upload_pending().await {
                Ok(_) => backoff = Duration::from_secs(1),
                Err(e) => {
                    self.counters.upload_failures.fetch_add(1, Relaxed);
                    warn!(error = %e, retry_in_s = backoff.as_secs(), "batches stay in the spool");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                    continue;
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(30)) => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// Installs the pack saved by an earlier run, before the node serves.
    pub fn install_saved_pack(&self, slot: &PackSlot, backend: Backend) {
        let path = self.cfg.data_dir.join("pack");
        let Ok(bytes) = std::fs::read(&path) else {
            return;
        };
        match backend.install(slot, &bytes) {
            Ok(_) => {
                info!(pack = %path.display(), version = ?slot.current().map(|p| p.manifest.version), "rule pack from disk installed")
            }
            Err(e) => warn!(pack = %path.display(), reason = %e, "the saved rule pack is refused"),
        }
    }

    /// One long-poll for a newer pack; installs it. Returns the version
    /// installed, if any.
    pub async fn poll_pack(&self, slot: &Arc<PackSlot>, backend: Backend) -> Result<Option<u64>> {
        let mut req = self
            .auth(self.http.get(url(&self.cfg.url, "/v1/packs/latest")))
            .header("prefer", format!("wait={}", self.cfg.long_poll_seconds))
            .timeout(Duration::from_secs(self.cfg.long_poll_seconds + 10));
        if let Some(p) = slot.current() {
            req = req.header("if-none-match", format!("\"{}\"", p.manifest.version));
        }
        let fetch_failed = |e: anyhow::Error| {
            self.counters.pack_fetch_failures.fetch_add(1, Relaxed);
            e
        };
        let resp = req
            .send()
            .await
            .map_err(|e| fetch_failed(anyhow!("pack request: {e}")))?;
        match resp.status().as_u16() {
            304 | 404 => Ok(None),
            200 => {
                let bytes = resp
                    .bytes()
                    .await
                    .map_err(|e| fetch_failed(anyhow!("pack download: {e}")))?;
                // Compiling a large pack takes a while: not on this thread.
                let (s2, b2) = (slot.clone(), bytes.clone());
                let res = tokio::task::spawn_blocking(move || backend.install(&s2, &b2))
                    .await
                    .map_err(|e| anyhow!("pack install: {e}"))?;
                match res {
                    Ok(Installed::Swapped { version, previous }) => {
                        write_private(&self.cfg.data_dir.join("pack"), &bytes)?;
                        self.counters.packs_installed.fetch_add(1, Relaxed);
                        *self
                            .last_pack_error
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner) = None;
                        info!(version, previous = ?previous, "rule pack from the cloud installed");
                        Ok(Some(version))
                    }
                    Ok(Installed::Unchanged { .. }) => Ok(None),
                    Err(e) => {
                        self.counters.packs_refused.fetch_add(1, Relaxed);
                        *self
                            .last_pack_error
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner) = Some(e.to_string());
                        warn!(reason = %e, "rule pack from the cloud refused; the pack in place stays");
                        bail!("pack refused: {e}")
                    }
                }
            }
            s => Err(fetch_failed(anyhow!(
                "pack request: the cloud answered {s}"
            ))),
        }
    }

    /// Long-polls for packs until `stop`, with backoff on failures.
    pub async fn run_pack_poller(
        self: Arc<Self>,
        engine: Arc<Engine>,
        backend: Backend,
        mut stop: watch::Receiver<bool>,
    ) {
        let Some(slot) = engine.pack_slot().cloned() else {
            return;
        };
        let mut backoff = Duration::from_secs(1);
        loop {
            let r = tokio::select! {
                r = self.poll_pack(&slot, backend) => r,
                _ = stop.changed() => return,
            };
            match r {
                Ok(_) => backoff = Duration::from_secs(1),
                Err(e) => {
                    warn!(error = %e, retry_in_s = backoff.as_secs(), "rule pack sync");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            }
        }
    }

    /// Sends one heartbeat.
    pub async fn heartbeat(
        &self,
        pack_version: Option<u64>,
        requests: u64,
        blocked: u64,
    ) -> Result<()> {
        let (spooled, dropped) = self.spool_state();
        let body = serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "pack_version": pack_version,
            "pack_error": self.last_pack_error.lock().unwrap_or_else(PoisonError::into_inner).clone(),
            "counters": {
                "requests": requests,
                "blocked": blocked,
                "spool_batches": spooled,
                "spool_dropped": dropped,
                "uploaded": self.counters.uploaded.load(Relaxed),
            },
        });
        let resp = self
            .auth(self.http.post(url(&self.cfg.url, "/v1/heartbeat")))
            .header("content-type", "application/json")
            .timeout(Duration::from_secs(10))
            .body(serde_json::to_vec(&body)?)
            .send()
            .await
            .map_err(|e| anyhow!("heartbeat: {e}"))?;
        match resp.status().as_u16() {
            200 => Ok(()),
            s => bail!("heartbeat: the cloud answered {s}"),
        }
    }

    /// Sends a heartbeat every `heartbeat_seconds` until `stop`;
    /// `counters` gives (requests, blocked) at each beat.
    pub async fn run_heartbeat(
        self: Arc<Self>,
        engine: Arc<Engine>,
        counters: impl Fn() -> (u64, u64) + Send + 'static,
        mut stop: watch::Receiver<bool>,
    ) {
        let every = Duration::from_secs(self.cfg.heartbeat_seconds.max(1));
        loop {
            let v = engine
                .pack_slot()
                .and_then(|s| s.current())
                .map(|p| p.manifest.version);
            let (requests, blocked) = counters();
            if let Err(e) = self.heartbeat(v, requests, blocked).await {
                self.counters.heartbeat_failures.fetch_add(1, Relaxed);
                warn!(error = %e, "heartbeat failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

async fn enroll(http: &reqwest::Client, cfg: &SyncConfig) -> Result<Identity> {
    let body = serde_json::to_vec(&EnrollRequest {
        token: &cfg.token,
        name: &cfg.name,
        version: env!("CARGO_PKG_VERSION"),
    })?;
    let resp = http
        .post(url(&cfg.url, "/v1/enroll"))
        .header("content-type", "application/json")
        .timeout(Duration::from_secs(10))
        .body(body)
        .send()
        .await
        .map_err(|e| anyhow!("enrollment at {}: {e}", cfg.url))?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.map_err(|e| anyhow!("enrollment: {e}"))?;
    if status != 200 {
        bail!(
            "enrollment at {} refused ({status}): {}",
            cfg.url,
            String::from_utf8_lossy(&bytes)
        );
    }
    serde_json::from_slice(&bytes).context("enrollment: the cloud's answer is not an identity")
}
