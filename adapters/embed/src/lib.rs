//! The Rampart node embedded in another server: NGINX, HAProxy (through
//! the SPOE agent), Apache httpd, IIS (through the C ABI).
//!
//! A [`Guard`] is what a process of that server holds: the same engine,
//! node.toml, rules, rule packs, traffic aggregates and cloud sync as the
//! proxy node ([`rampart_proxy::NodeCore`]), with the background work
//! (pack reloads, uploads, pack long-polls, heartbeats, telemetry windows)
//! on one thread of its own, so the server's event loop only ever calls
//! [`Guard::inspect`], a bounded, synchronous call that never panics.
//!
//! A guard is made in the process that serves requests (an NGINX or
//! Apache worker, after the fork): its thread does not survive a fork.

use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex, Once};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rampart_core::{Engine, EngineConfig, Inspection};
pub use rampart_proxy::{Cidr, NodeConfig, NodeCore, OverLimit};
pub use rampart_types::{Action, Header, Mode, Request};
use tokio::sync::watch;
use tracing::{info, warn};

/// The engine for a configuration: the built-in plugins (unless
/// `builtin_plugins = false`), then each plugin library in order; every
/// plugin is logged with its origin.
pub fn engine(cfg: EngineConfig, builtin: bool, libraries: &[PathBuf]) -> anyhow::Result<Engine> {
    let mut reg = rampart_core::Registry::new();
    if builtin {
        rampart_builtin_plugins::register(&mut reg)?;
    }
    for path in libraries {
        let loaded = rampart_core::loader::load_library(path, &mut reg)?;
        for p in loaded {
            info!(name = p.name, version = p.version, origin = %path.display(), "plugin library loaded");
        }
    }
    Ok(Engine::new(&reg, cfg)?)
}

static LOGGING: Once = Once::new();

/// Sets up the process's log once: `RAMPART_LOG` (an env-filter, `info`
/// by default), `text` or `json` lines, appended to `file` or written to
/// standard error. Later calls change nothing (a server with several
/// guards, or a reload, keeps the first).
pub fn init_logging(format: &str, file: Option<&Path>) -> anyhow::Result<()> {
    let writer: Option<std::fs::File> = match file {
        Some(p) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| anyhow::anyhow!("cannot open the log file {}: {e}", p.display()))?,
        ),
        None => None,
    };
    let json = format == "json";
    LOGGING.call_once(move || {
        // Cranelift reports every function it defines at info level (one
        // line per rule and engine); its warnings are enough.
        let filter = tracing_subscriber::EnvFilter::try_from_env("RAMPART_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,cranelift=warn"));
        let b = tracing_subscriber::fmt().with_env_filter(filter);
        // try_init: a host that installed its own subscriber keeps it.
        let _ = match (writer, json) {
            (Some(f), true) => b
                .with_ansi(false)
                .with_writer(Mutex::new(f))
                .json()
                .flatten_event(true)
                .try_init(),
            (Some(f), false) => b.with_ansi(false).with_writer(Mutex::new(f)).try_init(),
            (None, true) => b
                .with_writer(std::io::stderr)
                .json()
                .flatten_event(true)
                .try_init(),
            (None, false) => b.with_writer(std::io::stderr).try_init(),
        };
    });
    Ok(())
}

/// The verdict on one request, as an adapter acts on it.
#[derive(Debug)]
pub struct Decision {
    /// `Allow` passes; `Monitor` passes and was logged (it would have been
    /// blocked in block mode); `Block` answers with `status` and the block
    /// page.
    pub action: Action,
    /// The status to answer with when blocking (403 by default; 413 for a
    /// body over the limit; 503 for a failed inspection with
    /// `on_plugin_error = "closed"`).
    pub status: u16,
    /// The attack class that decided (`sqli`, `xss`...), when one did.
    pub class: Option<&'static str>,
    /// The rule or detector that decided.
    pub rule: Option<String>,
    /// The request point that decided (`query.id`, `body:json.q`...).
    pub point: Option<String>,
    /// The summed score of the deciding class.
    pub score: u32,
    /// The request's id: the client's `X-Request-Id` from a trusted proxy,
    /// else a new one. It is in the log line and on the block page.
    pub request_id: String,
    /// A stable code for the block page (`blocked`, `body_too_large`,
    /// `inspection_failed`).
    pub reason: &'static str,
    inspection: Option<Inspection>,
    client_ip: Option<IpAddr>,
    started: Instant,
}

impl Decision {
    /// True when the adapter must answer with [`Decision::status`] instead
    /// of passing the request on.
    pub fn blocks(&self) -> bool {
        self.action == Action::Block
    }

    fn plain(action: Action, status: u16, reason: &'static str, request_id: String) -> Decision {
        Decision {
            action,
            status,
            class: None,
            rule: None,
            point: None,
            score: 0,
            request_id,
            reason,
            inspection: None,
            client_ip: None,
            started: Instant::now(),
        }
    }
}

/// The node inside another server's process.
#[derive(Debug)]
pub struct Guard {
    core: NodeCore,
    adapter: &'static str,
    trusted: Vec<Cidr>,
    fail_closed: bool,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Guard {
    /// Reads a node.toml and starts a guard on it.
    pub fn from_file(path: &Path, adapter: &'static str) -> anyhow::Result<Guard> {
        Guard::new(NodeConfig::load(path)?, adapter)
    }

    /// Builds the engine for `config` and starts the guard's thread.
    /// Blocks until the node is ready (rules compiled, the pack in place
    /// installed, the cloud enrolled when configured). `adapter` names the
    /// server in the log (`nginx`, `haproxy`, `apache`).
    pub fn new(config: NodeConfig, adapter: &'static str) -> anyhow::Result<Guard> {
        config.validate()?;
        init_logging(&config.log_format, config.log_file.as_deref())?;
        let engine = engine(config.engine()?, config.builtin_plugins, &config.plugins)?;
        Guard::with_engine(config, engine, adapter)
    }

    /// A guard on an engine the caller built (tests, custom plugin sets).
    pub fn with_engine(
        config: NodeConfig,
        engine: Engine,
        adapter: &'static str,
    ) -> anyhow::Result<Guard> {
        let (stop, stop_rx) = watch::channel(false);
        let (ready_tx, ready_rx) = mpsc::channel::<anyhow::Result<NodeCore>>();
        let grace = Duration::from_millis(config.timeouts.shutdown_ms);
        // Everything async lives on this thread: the caller may be on a
        // runtime of its own (the SPOE agent) or on none (NGINX).
        let thread = std::thread::Builder::new()
            .name("rampart-node".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(anyhow::anyhow!("no runtime: {e}")));
                        return;
                    }
                };
                rt.block_on(async move {
                    let core = match NodeCore::start(config, engine).await {
                        Ok(c) => c,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    if let Err(e) = core.spawn_background(stop_rx.clone()) {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                    let mut stop_rx = stop_rx;
                    if ready_tx.send(Ok(core.clone())).is_err() {
                        return;
                    }
                    while !*stop_rx.borrow() {
                        if stop_rx.changed().await.is_err() {
                            break;
                        }
                    }
                    core.drain(grace).await;
                });
            })
            .map_err(|e| anyhow::anyhow!("cannot start the node's thread: {e}"))?;
        let core = match ready_rx.recv() {
            Ok(Ok(core)) => core,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                anyhow::bail!("the node's thread stopped while starting");
            }
        };
        let trusted = core.config.trusted();
        let fail_closed = core.config.policy.on_plugin_error == rampart_core::PluginFailure::Closed;
        info!(
            adapter,
            mode = %core.engine.mode(),
            body_limit = core.config.inspection.body_limit,
            "rampart guard ready"
        );
        for (kind, name, version, origin) in core.engine.plugins() {
            tracing::debug!(kind, name, version, origin = %origin, "plugin loaded");
        }
        Ok(Guard {
            core,
            adapter,
            trusted,
            fail_closed,
            stop,
            thread: Some(thread),
        })
    }

    pub fn config(&self) -> &NodeConfig {
        &self.core.config
    }

    /// The node's mode (node.toml), before any per-location override.
    pub fn mode(&self) -> Mode {
        self.core.engine.mode()
    }

    pub fn body_limit(&self) -> usize {
        self.core.config.inspection.body_limit
    }

    pub fn over_limit(&self) -> OverLimit {
        self.core.config.inspection.over_limit
    }

    /// The engine, its counters and its rule pack slot.
    pub fn core(&self) -> &NodeCore {
        &self.core
    }

    /// Prometheus text of the guard's counters (what the proxy node shows
    /// at /metrics).
    pub fn metrics_text(&self) -> String {
        let v = self.core.engine.pack_slot().and_then(|s| s.current());
        let m = &self.core.metrics;
        m.set_pack_version(v.map_or(0, |p| p.manifest.version));
        m.render(self.core.engine.mode().as_str())
    }

    /// The request id: the client's `X-Request-Id` when the request comes
    /// from a trusted proxy, else a new one (as the proxy node decides).
    fn request_id(&self, req: &Request) -> String {
        let trusted = req
            .client_ip
            .is_some_and(|ip| self.trusted.iter().any(|c| c.contains(ip)));
        let incoming = trusted
            .then(|| {
                req.headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(b"x-request-id"))
                    .map(|h| h.value.as_slice())
            })
            .flatten();
        rampart_proxy::request_id_or_new(incoming)
    }

    /// The refusal of a body by its declared length alone: with
    /// `over_limit = "block"`, a `Content-Length` above the body limit is
    /// answered 413 before anything is read. `None`: go on and read.
    pub fn refuse_length(&self, declared: Option<u64>, mode: Option<Mode>) -> Option<Decision> {
        let mode = mode.unwrap_or(self.mode());
        let limit = self.body_limit() as u64;
        if mode == Mode::Off
            || self.over_limit() != OverLimit::Block
            || declared.is_none_or(|n| n <= limit)
        {
            return None;
        }
        Some(self.too_large(rampart_proxy::new_request_id(), declared.unwrap_or(0)))
    }

    /// A 413 for a body over the limit; `size` is what is known of it (the
    /// declared length, or the bytes buffered when the rest was not read).
    fn too_large(&self, request_id: String, size: u64) -> Decision {
        self.core.metrics.request();
        self.core.metrics.too_large();
        let limit = self.body_limit();
        warn!(target: "rampart::verdict", adapter = self.adapter, request_id = %request_id, action = "block", reason = "body_too_large", size, limit, "request refused: body over the limit");
        Decision::plain(Action::Block, 413, "body_too_large", request_id)
    }

    /// Inspects a request: `req.body` is what the server buffered, at most
    /// [`Guard::body_limit`] bytes, with `body_truncated` set when there
    /// was more. `mode` overrides node.toml's (a per-location mode). A body
    /// over the limit with `over_limit = "block"` is refused with 413. A
    /// panic inside is caught: the request then passes
    /// (`on_plugin_error = "open"`) or is refused with 503 (`"closed"`).
    pub fn inspect(&self, req: &Request, mode: Option<Mode>) -> Decision {
        let started = Instant::now();
        let mode = mode.unwrap_or(self.mode());
        if mode == Mode::Off {
            self.core.metrics.request();
            self.core.metrics.verdict(Action::Allow, None);
            return Decision::plain(Action::Allow, 200, "allowed", String::new());
        }
        if req.body_truncated && self.over_limit() == OverLimit::Block {
            return self.too_large(self.request_id(req), req.body.len() as u64);
        }
        self.core.metrics.request();
        let request_id = self.request_id(req);
        let engine = &self.core.engine;
        let ins = match catch_unwind(AssertUnwindSafe(|| engine.inspect_in_mode(req, mode))) {
            Ok(ins) => ins,
            Err(_) => {
                let path = path_of(&req.target);
                if self.fail_closed {
                    warn!(target: "rampart::verdict", adapter = self.adapter, request_id = %request_id, action = "block", reason = "inspection_failed", path = %path, "inspection failed; refused (on_plugin_error = closed)");
                    self.core.metrics.verdict(Action::Block, None);
                    return Decision::plain(Action::Block, 503, "inspection_failed", request_id);
                }
                warn!(target: "rampart::verdict", adapter = self.adapter, request_id = %request_id, action = "allow", reason = "inspection_failed", path = %path, "inspection failed; passed (on_plugin_error = open)");
                self.core.metrics.verdict(Action::Allow, None);
                return Decision::plain(Action::Allow, 200, "inspection_failed", request_id);
            }
        };
        let v = &ins.verdict;
        self.core.metrics.verdict(v.action, v.class);
        self.core
            .metrics
            .timing(ins.decode_time, ins.decode_time + ins.detect_time);
        let class = v.class.map(|c| c.as_str());
        if v.action != Action::Allow {
            let (c, r, p) = (
                class.unwrap_or("-"),
                v.rule.as_deref().unwrap_or("-"),
                v.point.as_deref().unwrap_or("-"),
            );
            let method = String::from_utf8_lossy(&req.method);
            let path = path_of(&req.target);
            let client = req.client_ip.map(|ip| ip.to_string()).unwrap_or_default();
            if v.action == Action::Block {
                warn!(target: "rampart::verdict", adapter = self.adapter, request_id = %request_id, action = "block", class = c, rule = r, point = p, score = v.score, client = %client, method = %method, path = %path, "request blocked");
            } else {
                info!(target: "rampart::verdict", adapter = self.adapter, request_id = %request_id, action = "monitor", class = c, rule = r, point = p, score = v.score, client = %client, method = %method, path = %path, "request would have been blocked (monitor mode)");
            }
        }
        Decision {
            action: v.action,
            status: if v.action == Action::Block {
                v.status
            } else {
                200
            },
            class,
            rule: v.rule.clone(),
            point: v.point.clone(),
            score: v.score,
            request_id,
            reason: if v.action == Action::Block {
                "blocked"
            } else {
                "allowed"
            },
            client_ip: req.client_ip,
            inspection: Some(ins),
            started,
        }
    }

    /// When the response's status is known: the response-phase rules
    /// (failed logins, error ratios) and the traffic aggregates. Returns
    /// `Block` when the response must be replaced by the block page.
    /// Adapters that cannot see the response skip it; the request-phase
    /// verdict stands and the aggregates miss that request.
    pub fn finish(&self, d: Decision, response_status: u16) -> Action {
        let Some(mut ins) = d.inspection else {
            return d.action;
        };
        let before = ins.verdict.action;
        let engine = &self.core.engine;
        let ran = catch_unwind(AssertUnwindSafe(|| {
            if engine.wants_response(&ins) {
                engine.inspect_response(&mut ins, response_status);
            }
            ins
        }));
        let Ok(ins) = ran else {
            return d.action;
        };
        let action = ins.verdict.action;
        let status = if action == Action::Block && before != Action::Block {
            self.core.metrics.response_blocked();
            let rule = ins.verdict.rule.as_deref().unwrap_or("-");
            warn!(target: "rampart::verdict", adapter = self.adapter, request_id = %d.request_id, action = "block", phase = "response", rule, upstream_status = response_status, "response replaced by the block page");
            ins.verdict.status
        } else {
            response_status
        };
        if let Some(ip) = d.client_ip {
            self.core
                .observe(&ins, status, d.started.elapsed(), ip, &d.request_id);
        }
        action
    }

    /// The page a blocked request gets: (content type, body), JSON unless
    /// `accept` prefers HTML; the same page as the proxy node's.
    pub fn block_page(&self, d: &Decision, accept: Option<&[u8]>) -> (&'static str, String) {
        let message = match d.reason {
            "body_too_large" => "The request body is larger than this site accepts.",
            "inspection_failed" => "The request could not be inspected.",
            _ => "This request was blocked by the web application firewall.",
        };
        rampart_proxy::page_body(d.status, d.reason, message, &d.request_id, accept)
    }

    /// Stops the background thread after the last telemetry window went to
    /// the spool and the spool to the cloud (within the shutdown grace).
    pub fn shutdown(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                warn!("the node's thread ended with a panic");
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

/// The path of a request target, for the log.
fn path_of(target: &[u8]) -> String {
    let end = target
        .iter()
        .position(|&b| b == b'?')
        .unwrap_or(target.len());
    String::from_utf8_lossy(&target[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(mode: &str, extra: impl FnOnce(&mut NodeConfig)) -> Guard {
        let mut c = NodeConfig {
            mode: mode.into(),
            ..NodeConfig::default()
        };
        c.telemetry.enabled = false;
        extra(&mut c);
        Guard::new(c, "test").expect("guard")
    }

    fn req(target: &str) -> Request {
        let mut r = Request::new("GET", target);
        r.client_ip = Some("127.0.0.1".parse().expect("ip"));
        r
    }

    #[test]
    fn attacks_are_blocked_and_benign_requests_pass() {
        let g = guard("block", |_| {});
        let d = g.inspect(
            &req("/search?q=1'%20union%20select%20password%20from%20users--"),
            None,
        );
        assert!(d.blocks(), "{d:?}");
        assert_eq!(d.status, 403);
        assert_eq!(d.class, Some("sqli"));
        assert_eq!(d.request_id.len(), 16);
        let (ctype, body) = g.block_page(&d, Some(b"text/html"));
        assert!(ctype.starts_with("text/html"));
        assert!(body.contains(&d.request_id));
        let ok = g.inspect(&req("/search?q=red+running+shoes"), None);
        assert_eq!(ok.action, Action::Allow);
        assert_eq!(g.finish(ok, 200), Action::Allow);
        g.shutdown();
    }

    #[test]
    fn a_per_location_mode_overrides_the_node_mode() {
        let g = guard("block", |_| {});
        let attack = req("/?q=<script>alert(1)</script>");
        assert_eq!(
            g.inspect(&attack, Some(Mode::Monitor)).action,
            Action::Monitor
        );
        assert_eq!(g.inspect(&attack, Some(Mode::Off)).action, Action::Allow);
        assert_eq!(g.inspect(&attack, None).action, Action::Block);
        let m = guard("monitor", |_| {});
        assert_eq!(m.inspect(&attack, None).action, Action::Monitor);
        assert_eq!(m.inspect(&attack, Some(Mode::Block)).action, Action::Block);
    }

    #[test]
    fn bodies_over_the_limit_follow_the_policy() {
        let g = guard("block", |c| {
            c.inspection.body_limit = 100;
            c.inspection.over_limit = OverLimit::Block;
        });
        let d = g.refuse_length(Some(101), None).expect("refused");
        assert_eq!((d.action, d.status), (Action::Block, 413));
        assert!(g.refuse_length(Some(100), None).is_none());
        assert!(g.refuse_length(Some(101), Some(Mode::Off)).is_none());
        let mut r = req("/upload");
        r.body = vec![b'a'; 100];
        r.body_truncated = true;
        assert_eq!(g.inspect(&r, None).status, 413);
        let p = guard("block", |c| c.inspection.body_limit = 100);
        assert!(p.refuse_length(Some(10_000), None).is_none());
        assert_eq!(p.inspect(&r, None).action, Action::Allow);
    }

    #[test]
    fn a_trusted_proxy_request_id_is_kept() {
        let g = guard("block", |c| c.trusted_proxies = vec!["127.0.0.0/8".into()]);
        let mut r = req("/?q=<script>alert(1)</script>");
        r.headers.push(Header {
            name: b"X-Request-Id".to_vec(),
            value: b"abc-123".to_vec(),
        });
        assert_eq!(g.inspect(&r, None).request_id, "abc-123");
        r.client_ip = Some("10.1.2.3".parse().expect("ip"));
        assert_ne!(g.inspect(&r, None).request_id, "abc-123");
    }

    #[test]
    fn a_bad_configuration_is_an_error() {
        let c = NodeConfig {
            mode: "sideways".into(),
            ..NodeConfig::default()
        };
        let e = Guard::new(c, "test").expect_err("refused");
        assert!(e.to_string().contains("sideways"), "{e}");
        let mut c = NodeConfig::default();
        c.rules.files = vec![PathBuf::from("/nonexistent/rules.rules")];
        assert!(Guard::new(c, "test").is_err());
    }
}
