//! Rampart's active threat verification (issue #8): safe replay of attack
//! payloads against an allowlisted application, with strategies scripted
//! in sandboxed rhai.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rampart_scanner::ScanError> {
//! use rampart_scanner::{Scanner, ScannerConfig, Target, Verdict};
//!
//! let cfg = ScannerConfig { allow: vec!["127.0.0.1:8080".into()], ..Default::default() };
//! let scanner = Scanner::new(cfg).await?;
//! let target = Target::new("http://127.0.0.1:8080", "GET", "/products", "query.id", "1' OR '1'='1", "sqli")
//!     .with_original("1");
//! let report = scanner.scan(&target).await;
//! if report.verdict == Verdict::Confirmed {
//!     for e in &report.evidence {
//!         println!("{}: {}", e.note, rampart_scanner::curl_command(&e.request));
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Safety (see the README): probes go only to allowlisted hosts, through
//! one sender that strips credentials (unless test credentials are
//! configured), follows no redirect, uses no proxy, rate-limits per target,
//! caps requests per job, sends only the job's method (or GET/HEAD), and
//! passes every value through the non-destructive [`guard`]. Strategies run
//! in a rhai sandbox (operations, wall time, sizes; no `eval`, no modules,
//! no file system).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

mod config;
pub mod guard;
pub mod html;
mod oob;
pub mod point;
mod report;
mod sandbox;
mod sender;
mod strategies;

pub use config::ScannerConfig;
pub use point::{parse_point, Point, PointError};
pub use report::{
    canonical_class, class_title, curl_command, remediation, severity, shell_quote, Evidence,
    ProbeRequest, ScanReport, Verdict,
};
pub use sender::{allow_entry_of, is_credential_header, SendError};
pub use strategies::{builtin_classes, builtin_strategy};

use oob::Oob;
use sandbox::{JobCtx, Limits};
use sender::{JobState, SafeSender};

/// Errors building a scanner.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A configuration value is wrong.
    #[error("scanner configuration: {0}")]
    Config(String),
    /// The out-of-band listener could not start.
    #[error("scanner I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The HTTP client could not be built.
    #[error("scanner HTTP client: {0}")]
    Client(String),
}

/// What to probe: built by the caller from an attack event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// `http://host:port` (a path prefix is allowed: `http://h/app`).
    pub base: String,
    /// The attack's method.
    pub method: String,
    /// The concrete path (placeholders already filled), optionally with a
    /// query string: `/products/12?sort=asc`.
    pub path: String,
    /// The request point the payload was found in (spec/request-points.md).
    pub point: String,
    /// The detector's payload (used by strategies for hints, and by
    /// `payload()`; built-in strategies do not replay it as is).
    pub payload: String,
    /// The attack class (`sqli`, `xss`, `cmdi`/`rce`, `traversal`/`lfi`,
    /// `ssti`, `ssrf`, `xxe`, `rfi`).
    pub class: String,
    /// The point's harmless value for the baseline; `"1"` when absent.
    #[serde(default)]
    pub original: Option<String>,
    /// Other points the endpoint needs, set on every probe before the
    /// probed point: `("header[\"x-api-version\"]", "2")`,
    /// `("body:json.qty", "1")` (a `body:json` value that parses as JSON is
    /// inserted as JSON, otherwise as a string), `("cookie.lang", "en")`.
    #[serde(default)]
    pub params: Vec<(String, String)>,
}

impl Target {
    /// A target without parameters; the baseline value is `"1"`.
    pub fn new(
        base: impl Into<String>,
        method: impl Into<String>,
        path: impl Into<String>,
        point: impl Into<String>,
        payload: impl Into<String>,
        class: impl Into<String>,
    ) -> Self {
        Target {
            base: base.into(),
            method: method.into(),
            path: path.into(),
            point: point.into(),
            payload: payload.into(),
            class: class.into(),
            original: None,
            params: Vec::new(),
        }
    }

    /// Sets the point's harmless value used for the baseline.
    pub fn with_original(mut self, value: impl Into<String>) -> Self {
        self.original = Some(value.into());
        self
    }

    /// Adds a parameter the endpoint needs (another point and its value).
    pub fn with_param(mut self, point: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((point.into(), value.into()));
        self
    }
}

#[derive(Debug)]
struct Inner {
    cfg: ScannerConfig,
    sender: Arc<SafeSender>,
    oob: Arc<Oob>,
}

/// The scanner: cheap to clone and share (`Arc` inside); the out-of-band
/// listener stops when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct Scanner {
    inner: Arc<Inner>,
}

impl Scanner {
    /// Validates the configuration, builds the HTTP client and starts the
    /// out-of-band listener. Must be called inside a Tokio runtime.
    pub async fn new(cfg: ScannerConfig) -> Result<Scanner, ScanError> {
        cfg.validate()?;
        let sender = Arc::new(SafeSender::new(&cfg)?);
        let oob = Arc::new(Oob::start(&cfg.oob_listen, cfg.oob_public_url.as_deref()).await?);
        Ok(Scanner {
            inner: Arc::new(Inner { cfg, sender, oob }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ScannerConfig {
        &self.inner.cfg
    }

    /// Where the out-of-band listener listens.
    pub fn oob_addr(&self) -> SocketAddr {
        self.inner.oob.addr()
    }

    /// True when a target URL (`http://host:port/...`) is allowlisted.
    pub fn is_allowed(&self, url: &str) -> bool {
        self.inner.sender.check_allowed(url).is_ok()
    }

    /// Scans a target with the strategy of its class: the user's
    /// `<class>.rhai` from `strategies_dir` when there is one, else the
    /// built-in one. Never panics and never returns an error: problems are
    /// in the report (`verdict` and `error`).
    pub async fn scan(&self, target: &Target) -> ScanReport {
        let canonical = canonical_class(&target.class);
        let name = strategies::strategy_name(&canonical).to_string();
        if let Some(dir) = &self.inner.cfg.strategies_dir {
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if valid {
                let mut candidates = vec![dir.join(format!("{canonical}.rhai"))];
                if name != canonical {
                    candidates.push(dir.join(format!("{name}.rhai")));
                }
                for path in candidates {
                    match tokio::fs::read_to_string(&path).await {
                        Ok(src) => {
                            return self
                                .run(target, format!("user:{}", path.display()), src)
                                .await;
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            return ScanReport::early(
                                &target.class,
                                &format!("user:{}", path.display()),
                                Verdict::Inconclusive,
                                format!("cannot read strategy {}: {e}", path.display()),
                            )
                        }
                    }
                }
            }
        }
        match strategies::builtin_strategy(&canonical) {
            Some(src) => {
                self.run(target, format!("builtin:{name}"), src.to_string())
                    .await
            }
            None => ScanReport::early(
                &target.class,
                "",
                Verdict::Inconclusive,
                format!("no strategy for class {}", target.class),
            ),
        }
    }

    /// Scans a target with a given script (`rampart scan --script`); `name`
    /// is reported as `script:<name>`.
    pub async fn scan_with_script(&self, target: &Target, name: &str, source: &str) -> ScanReport {
        self.run(target, format!("script:{name}"), source.to_string())
            .await
    }

    /// True when a class has a strategy (built-in or in `strategies_dir`).
    pub fn has_strategy(&self, class: &str) -> bool {
        let canonical = canonical_class(class);
        let name = strategies::strategy_name(&canonical);
        builtin_strategy(&canonical).is_some()
            || self
                .inner
                .cfg
                .strategies_dir
                .as_ref()
                .is_some_and(|d: &PathBuf| {
                    d.join(format!("{canonical}.rhai")).is_file()
                        || d.join(format!("{name}.rhai")).is_file()
                })
    }

    async fn run(&self, target: &Target, strategy: String, source: String) -> ScanReport {
        let cfg = &self.inner.cfg;
        let early = |verdict, e: String| ScanReport::early(&target.class, &strategy, verdict, e);
        // The target itself: allowlisted, allowed method, supported points.
        let base_url = format!("{}/", target.base.trim_end_matches('/'));
        match self.inner.sender.check_allowed(&base_url) {
            Ok(()) => {}
            Err(e @ SendError::NotAllowed(_)) => return early(Verdict::Refused, e.to_string()),
            Err(e) => {
                return early(
                    Verdict::Inconclusive,
                    format!("bad target base `{}`: {e}", target.base),
                )
            }
        }
        let method = target.method.to_ascii_uppercase();
        if !cfg.methods.iter().any(|m| m.eq_ignore_ascii_case(&method)) {
            return early(
                Verdict::Refused,
                format!(
                    "method {method} is not in the scanner's `methods` ({})",
                    cfg.methods.join(", ")
                ),
            );
        }
        let point = match parse_point(&target.point) {
            Ok(p) => p,
            // An XXE payload is a whole document: XML body points are
            // replayed as the body.
            Err(PointError::Unsupported { .. })
                if canonical_class(&target.class) == "xxe"
                    && target.point.starts_with("body:xml") =>
            {
                Point::Body
            }
            Err(e) => return early(Verdict::Inconclusive, e.to_string()),
        };
        let mut params = Vec::new();
        for (p, v) in &target.params {
            match parse_point(p) {
                Ok(pp) => params.push((pp, v.clone())),
                Err(e) => return early(Verdict::Inconclusive, format!("parameter: {e}")),
            }
        }
        let wall = Duration::from_millis(cfg.script_timeout_ms);
        let job = Arc::new(JobState::new(&method, cfg.max_requests, wall));
        let ctx = Arc::new(JobCtx {
            sender: self.inner.sender.clone(),
            job: job.clone(),
            target: Target {
                method: method.clone(),
                ..target.clone()
            },
            point: point.clone(),
            params,
            original: target.original.clone().unwrap_or_else(|| "1".to_string()),
            handle: tokio::runtime::Handle::current(),
            oob: self.inner.oob.clone(),
            markers: Mutex::new(Vec::new()),
        });
        // Build the baseline once to report a point the request lacks
        // (e.g. `path[5]` of a two-segment path) before running anything.
        if let Err(e) = ctx.draft(&point, &ctx.original) {
            return early(Verdict::Inconclusive, e.to_string());
        }
        let limits = Limits {
            max_operations: cfg.script_max_operations,
            deadline: job.deadline,
            wall_ms: cfg.script_timeout_ms,
        };
        let run_ctx = ctx.clone();
        let task = tokio::task::spawn_blocking(move || sandbox::run(run_ctx, &source, limits));
        // The sandbox stops itself at the deadline; this bound only guards
        // against a host call that would not return.
        let outer = wall + Duration::from_millis(cfg.request_timeout_ms) + Duration::from_secs(5);
        let outcome = match tokio::time::timeout(outer, task).await {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => sandbox::RunOutcome {
                verdict: Verdict::Inconclusive,
                summary: String::new(),
                evidence: Vec::new(),
                error: Some(format!("strategy thread failed: {e}")),
            },
            Err(_) => sandbox::RunOutcome {
                verdict: Verdict::Inconclusive,
                summary: String::new(),
                evidence: Vec::new(),
                error: Some("strategy did not finish in time".into()),
            },
        };
        ScanReport {
            class: target.class.clone(),
            strategy,
            verdict: outcome.verdict,
            summary: outcome.summary,
            evidence: outcome.evidence,
            requests_sent: job.requests_sent(),
            error: outcome.error,
        }
    }
}
