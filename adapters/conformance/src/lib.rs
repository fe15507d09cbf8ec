//! The conformance suite every Rampart adapter passes against its real
//! server (NGINX, HAProxy, Apache httpd, and the proxy node itself).
//!
//! [`prepare`] writes the suite's fixed configuration: two node.toml files
//! (block and monitor mode, 64 KiB body limit, bodies over it refused, a
//! JSON log file each) and the suite's rules. The server under test is
//! started with them, in front of the suite's echo backend. [`run`] then
//! serves the echo backend, sends every case of [`cases::all`] over plain
//! TCP, byte for byte, and checks what came back and what reached the
//! backend:
//! - attacks in each part of a request are refused with 403 in block mode,
//!   and in monitor mode reach the backend unchanged and are logged;
//! - the suite's virtual patch blocks in both modes, its exception lets an
//!   SQL-like report filter through;
//! - benign requests reach the backend byte-identical (method, target,
//!   every header the case set, body) and the backend's answer reaches the
//!   client unchanged;
//! - bodies over the limit are refused with 413 and never reach the
//!   backend.

pub mod backend;
pub mod cases;
pub mod client;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::backend::{Echo, Seen};
use crate::cases::{Case, Expect};

/// The files [`prepare`] writes into a folder.
#[derive(Debug, Clone)]
pub struct Files {
    pub block_config: PathBuf,
    pub monitor_config: PathBuf,
    pub rules: PathBuf,
    pub block_log: PathBuf,
    pub monitor_log: PathBuf,
}

impl Files {
    pub fn in_dir(dir: &Path) -> Files {
        Files {
            block_config: dir.join("node-block.toml"),
            monitor_config: dir.join("node-monitor.toml"),
            rules: dir.join("conformance.rules"),
            block_log: dir.join("block.log"),
            monitor_log: dir.join("monitor.log"),
        }
    }
}

fn toml_str(p: &Path) -> String {
    // A TOML basic string: quotes and backslashes escaped.
    let s = p.display().to_string();
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The node.toml of one mode.
pub fn node_toml(mode: &str, backend: SocketAddr, rules: &Path, log: &Path) -> String {
    format!(
        r#"# The conformance suite's node ({mode} mode). Written by `rampart-conformance prepare`.
# `listen` and `upstream` serve the proxy node; the adapters take the rest.
listen = "127.0.0.1:0"
upstream = "http://{backend}"
mode = "{mode}"
log_format = "json"
log_file = {log}
trusted_proxies = []

[inspection]
body_limit = {limit}
over_limit = "block"

[rules]
files = [{rules}]

[telemetry]
enabled = false
"#,
        log = toml_str(log),
        rules = toml_str(rules),
        limit = cases::BODY_LIMIT,
    )
}

/// Writes the suite's configuration into `dir` (created if needed), for
/// an echo backend at `backend`. Old log files are emptied.
pub fn prepare(dir: &Path, backend: SocketAddr) -> anyhow::Result<Files> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    let f = Files::in_dir(&dir);
    std::fs::write(&f.rules, cases::RULES)?;
    std::fs::write(
        &f.block_config,
        node_toml("block", backend, &f.rules, &f.block_log),
    )?;
    std::fs::write(
        &f.monitor_config,
        node_toml("monitor", backend, &f.rules, &f.monitor_log),
    )?;
    for log in [&f.block_log, &f.monitor_log] {
        std::fs::write(log, b"")?;
    }
    Ok(f)
}

/// One case's outcome against one target.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub case: &'static str,
    pub mode: &'static str,
    pub part: &'static str,
    pub passed: bool,
    /// Why it failed, or what was seen.
    pub detail: String,
}

/// The suite's result against one adapter.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub adapter: String,
    pub outcomes: Vec<Outcome>,
}

impl Report {
    pub fn failures(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| !o.passed)
    }

    pub fn ok(&self) -> bool {
        !self.outcomes.is_empty() && self.failures().next().is_none()
    }

    /// A table: one line per case and mode, then the totals.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for o in &self.outcomes {
            let _ = writeln!(
                s,
                "{} {:<8} {:<30} {:<16} {}",
                if o.passed { "ok  " } else { "FAIL" },
                o.mode,
                o.case,
                o.part,
                o.detail
            );
        }
        let failed = self.failures().count();
        let _ = writeln!(
            s,
            "conformance {}: {} of {} passed{}",
            self.adapter,
            self.outcomes.len() - failed,
            self.outcomes.len(),
            if failed == 0 {
                String::new()
            } else {
                format!(", {failed} FAILED")
            }
        );
        s
    }
}

/// Where to run the suite.
#[derive(Debug, Clone)]
pub struct Targets {
    /// The adapter's name for the report.
    pub adapter: String,
    /// The server in block mode (`http://127.0.0.1:PORT`).
    pub block: Option<SocketAddr>,
    /// The server in monitor mode.
    pub monitor: Option<SocketAddr>,
    /// The files [`prepare`] wrote (the logs are read from there).
    pub files: Files,
    /// How long to wait for a verdict line in a log (a server may buffer
    /// its log a moment); [`LOG_WAIT`] unless there is a reason.
    pub log_wait: Duration,
}

/// The usual wait for a verdict line in a log.
pub const LOG_WAIT: Duration = Duration::from_secs(5);

/// Runs every case against each target, with the echo backend already
/// serving (see [`Echo::start`]).
pub async fn run(targets: &Targets, echo: &Echo) -> Report {
    let mut report = Report {
        adapter: targets.adapter.clone(),
        outcomes: Vec::new(),
    };
    let all = cases::all();
    for (mode, addr, log) in [
        ("block", targets.block, &targets.files.block_log),
        ("monitor", targets.monitor, &targets.files.monitor_log),
    ] {
        let Some(addr) = addr else { continue };
        for case in &all {
            let outcome = run_case(case, mode, addr, echo, log, targets.log_wait).await;
            report.outcomes.push(outcome);
        }
    }
    report
}

async fn run_case(
    case: &Case,
    mode: &'static str,
    addr: SocketAddr,
    echo: &Echo,
    log: &Path,
    wait: Duration,
) -> Outcome {
    let mut o = Outcome {
        case: case.id,
        mode,
        part: case.part,
        passed: false,
        detail: String::new(),
    };
    // A fresh marker per send, so a case's earlier run (the other mode)
    // cannot be mistaken for this one.
    let marker = echo.next_marker();
    let resp = match client::send(addr, case, &marker).await {
        Ok(r) => r,
        Err(e) => {
            o.detail = format!("request failed: {e:#}");
            return o;
        }
    };
    let seen = echo.take(&marker);
    let blocked_status = match (case.expect, mode) {
        (Expect::Attack, "block") | (Expect::Patched, _) => Some(403),
        (Expect::TooLarge, _) => Some(413),
        _ => None,
    };
    match blocked_status {
        Some(status) => {
            if resp.status != status {
                o.detail = format!(
                    "expected {status}, got {}{}",
                    resp.status,
                    if seen.is_some() {
                        " (the backend saw it)"
                    } else {
                        ""
                    }
                );
                return o;
            }
            if seen.is_some() {
                o.detail = format!("answered {status} but the backend saw the request");
                return o;
            }
            if status == 403 {
                if let Err(e) = logged(log, &case.path(), "block", wait).await {
                    o.detail = e;
                    return o;
                }
            }
            o.passed = true;
            o.detail = format!("{} as expected", resp.status);
        }
        None => {
            if let Err(e) = check_passed(case, &marker, &resp, seen.as_ref()) {
                o.detail = e;
                return o;
            }
            if case.expect == Expect::Attack {
                if let Err(e) = logged(log, &case.path(), "monitor", wait).await {
                    o.detail = e;
                    return o;
                }
                o.detail = "passed unchanged and logged".into();
            } else {
                o.detail = "passed unchanged".into();
            }
            o.passed = true;
        }
    }
    o
}

/// The request reached the backend as sent, and its answer the client.
fn check_passed(
    case: &Case,
    marker: &str,
    resp: &client::Response,
    seen: Option<&Seen>,
) -> Result<(), String> {
    let Some(seen) = seen else {
        return Err(format!(
            "the backend never saw it (answer {}: {})",
            resp.status,
            String::from_utf8_lossy(&resp.body[..resp.body.len().min(200)])
        ));
    };
    if resp.status != 200 {
        return Err(format!("expected the backend's 200, got {}", resp.status));
    }
    if resp.body != backend::answer(marker) {
        return Err("the backend's answer did not reach the client unchanged".into());
    }
    if seen.method != case.request.method {
        return Err(format!(
            "method {:?} became {:?}",
            case.request.method, seen.method
        ));
    }
    if seen.target != case.target().as_bytes() {
        return Err(format!(
            "target {:?} became {:?}",
            case.target(),
            String::from_utf8_lossy(&seen.target)
        ));
    }
    for (name, value) in &case.request.headers {
        let got: Vec<&Vec<u8>> = seen
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .collect();
        if got.len() != 1 || got[0] != value {
            return Err(format!(
                "header {name}: {:?} became {:?}",
                String::from_utf8_lossy(value),
                got.iter()
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .collect::<Vec<_>>()
            ));
        }
    }
    if seen.body != case.request.body {
        return Err(format!(
            "body of {} bytes became {} bytes{}",
            case.request.body.len(),
            seen.body.len(),
            match seen
                .body
                .iter()
                .zip(&case.request.body)
                .position(|(a, b)| a != b)
            {
                Some(i) => format!(", first difference at byte {i}"),
                None => String::new(),
            }
        ));
    }
    Ok(())
}

/// Waits (up to `wait`: the log is written as the request is decided,
/// but a server may buffer it) for a JSON log line naming `path` with
/// `action`.
async fn logged(log: &Path, path: &str, action: &str, wait: Duration) -> Result<(), String> {
    let step = Duration::from_millis(50);
    let mut waited = Duration::ZERO;
    loop {
        if log_has(log, path, action) {
            return Ok(());
        }
        if waited >= wait {
            return Err(format!(
                "no `{action}` line for {path} in {}",
                log.display()
            ));
        }
        tokio::time::sleep(step).await;
        waited += step;
    }
}

/// True when the log holds a verdict line with this path and action.
pub fn log_has(log: &Path, path: &str, action: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(log) else {
        return false;
    };
    text.lines().any(|line| {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            return false;
        };
        v.get("path").and_then(|p| p.as_str()) == Some(path)
            && v.get("action").and_then(|a| a.as_str()) == Some(action)
    })
}
