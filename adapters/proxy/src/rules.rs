//! The node's rules: its own files, compiled at start, and a signed rule
//! pack read from a file, installed at start and whenever the file
//! changes (spec/rule-language.md sections 11.3 and 13).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rampart_core::{Backend, Engine, RuleSet};
use rampart_dsl::pack::{keys, PackSlot, TrustedKeys};
use tracing::{info, warn};

use crate::config::RulesConfig;
use crate::metrics::Metrics;

/// Compiles the node's rule files and attaches them and a pack slot (when
/// a pack is configured) to the engine. A rule file that does not compile
/// is an error: the node does not start with half its rules.
pub fn attach(mut engine: Engine, cfg: &RulesConfig) -> anyhow::Result<Engine> {
    let backend = cfg.backend()?;
    if !cfg.files.is_empty() {
        let prog = rampart_dsl::compile_files(&cfg.files).map_err(|d| {
            anyhow::anyhow!("the rule files do not compile:\n{}", d.render().trim_end())
        })?;
        let n = prog.rules.len();
        let eval = backend
            .compile(prog)
            .map_err(|e| anyhow::anyhow!("the rules could not be compiled: {e}"))?;
        info!(rules = n, backend = backend.name(), files = ?cfg.files, "rules loaded");
        engine = engine.with_rules(RuleSet::new(eval));
    }
    if cfg.pack.is_some() {
        let mut trusted = Vec::new();
        for p in &cfg.pack_keys {
            let text = std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("cannot read the pack key {}: {e}", p.display()))?;
            let key = keys::read_verifying_key(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            trusted.push(key);
        }
        let slot = PackSlot::new(TrustedKeys::new(trusted), cfg.application.clone());
        engine = engine.with_pack_slot(Arc::new(slot));
    }
    Ok(engine)
}

/// What identifies a version of the pack file without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: m.modified().ok(),
        len: m.len(),
    })
}

/// Reads the pack file and installs it; logs and counts the outcome.
fn install(slot: &PackSlot, backend: Backend, path: &Path, metrics: &Metrics) {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            metrics.pack_refused();
            warn!(pack = %path.display(), error = %e, "rule pack not readable; the pack in place stays");
            return;
        }
    };
    match backend.install(slot, &bytes) {
        Ok(rampart_dsl::pack::Installed::Swapped { previous, version }) => {
            metrics.pack_installed(version);
            info!(pack = %path.display(), version, previous = ?previous, backend = backend.name(), "rule pack installed");
        }
        Ok(rampart_dsl::pack::Installed::Unchanged { .. }) => {}
        Err(e) => {
            metrics.pack_refused();
            let kept = slot.current().map(|p| p.manifest.version);
            warn!(pack = %path.display(), reason = %e, kept_version = ?kept, "rule pack refused; the pack in place stays");
        }
    }
}

/// Installs the configured pack, when there is one, before the node
/// serves; returns what the file looked like, for [`watch_pack`].
pub async fn install_now(
    engine: &Arc<Engine>,
    cfg: &RulesConfig,
    metrics: &Arc<Metrics>,
) -> Option<Stamp> {
    let path = cfg.pack.clone()?;
    let slot = engine.pack_slot().cloned()?;
    let backend = cfg.backend().ok()?;
    let seen = stamp(&path);
    if seen.is_none() {
        warn!(pack = %path.display(), "rule pack file not found; the node runs without pack rules until it appears");
        return None;
    }
    let m = metrics.clone();
    let _ = tokio::task::spawn_blocking(move || install(&slot, backend, &path, &m)).await;
    seen
}

/// Installs the pack again whenever its file changes (checked every
/// `pack_poll_ms`), on a blocking thread (compiling a large pack takes a
/// while), until `stop`.
pub async fn watch_pack(
    engine: Arc<Engine>,
    cfg: RulesConfig,
    metrics: Arc<Metrics>,
    mut last: Option<Stamp>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let (Some(path), Some(slot)) = (cfg.pack.clone(), engine.pack_slot().cloned()) else {
        return;
    };
    let Ok(backend) = cfg.backend() else {
        return;
    };
    let poll = Duration::from_millis(cfg.pack_poll_ms);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => return,
        }
        let now = stamp(&path);
        if now.is_some() && now != last {
            last = now;
            let (slot, path, metrics) = (slot.clone(), path.clone(), metrics.clone());
            let _ =
                tokio::task::spawn_blocking(move || install(&slot, backend, &path, &metrics)).await;
        } else if now.is_none() && last.is_some() {
            last = None;
            warn!(pack = %path.display(), "rule pack file is gone; the pack in place stays");
        }
    }
}
