//! Counters and histograms of the node, rendered in the Prometheus text
//! format on the admin listener.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rampart_types::{Action, Class};

/// Upper bounds (seconds) of the inspection latency histogram.
const BUCKETS: [f64; 12] = [
    0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005,
    0.01, 0.05,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [AtomicU64; 12],
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.counts[i].fetch_add(1, Relaxed);
            }
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(d.as_nanos() as u64, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{b}\"}} {}",
                self.counts[i].load(Relaxed)
            );
        }
        let n = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {n}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_ns.load(Relaxed) as f64 / 1e9);
        let _ = writeln!(out, "{name}_count {n}");
    }
}

/// The node's metrics.
#[derive(Debug)]
pub struct Metrics {
    requests: AtomicU64,
    allowed: AtomicU64,
    monitored: AtomicU64,
    blocked: AtomicU64,
    too_large: AtomicU64,
    upstream_errors: AtomicU64,
    connections_open: AtomicU64,
    connections_total: AtomicU64,
    by_class: [AtomicU64; 128],
    decode: Histogram,
    inspect: Histogram,
    pack_version: AtomicU64,
    packs_installed: AtomicU64,
    packs_refused: AtomicU64,
    response_blocks: AtomicU64,
    /// The cloud client, when the node reports to a cloud: its upload,
    /// heartbeat and pack counters and its spool are rendered too.
    sync: OnceLock<Arc<rampart_sync::Client>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: AtomicU64::new(0),
            allowed: AtomicU64::new(0),
            monitored: AtomicU64::new(0),
            blocked: AtomicU64::new(0),
            too_large: AtomicU64::new(0),
            upstream_errors: AtomicU64::new(0),
            connections_open: AtomicU64::new(0),
            connections_total: AtomicU64::new(0),
            by_class: std::array::from_fn(|_| AtomicU64::new(0)),
            decode: Histogram::default(),
            inspect: Histogram::default(),
            pack_version: AtomicU64::new(0),
            packs_installed: AtomicU64::new(0),
            packs_refused: AtomicU64::new(0),
            response_blocks: AtomicU64::new(0),
            sync: OnceLock::new(),
        }
    }
}

impl Metrics {
    pub fn request(&self) {
        self.requests.fetch_add(1, Relaxed);
    }

    pub fn verdict(&self, action: Action, class: Option<Class>) {
        match action {
            Action::Allow => &self.allowed,
            Action::Monitor => &self.monitored,
            Action::Block => &self.blocked,
        }
        .fetch_add(1, Relaxed);
        if let Some(c) = class {
            self.by_class[(c.code() as usize) & 127].fetch_add(1, Relaxed);
        }
    }

    pub fn too_large(&self) {
        self.too_large.fetch_add(1, Relaxed);
    }

    pub fn upstream_error(&self) {
        self.upstream_errors.fetch_add(1, Relaxed);
    }

    pub fn timing(&self, decode: Duration, total: Duration) {
        self.decode.observe(decode);
        self.inspect.observe(total);
    }

    pub fn connection_opened(&self) {
        self.connections_open.fetch_add(1, Relaxed);
        self.connections_total.fetch_add(1, Relaxed);
    }

    pub fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Relaxed);
    }

    /// A rule pack was swapped in.
    pub fn pack_installed(&self, version: u64) {
        self.pack_version.store(version, Relaxed);
        self.packs_installed.fetch_add(1, Relaxed);
    }

    /// A response-phase rule replaced a response by the block page.
    pub fn response_blocked(&self) {
        self.response_blocks.fetch_add(1, Relaxed);
    }

    /// The version of the pack in place, whoever installed it (a file or
    /// the cloud).
    pub fn set_pack_version(&self, version: u64) {
        self.pack_version.store(version, Relaxed);
    }

    /// A rule pack was refused (the one in place stays).
    pub fn pack_refused(&self) {
        self.packs_refused.fetch_add(1, Relaxed);
    }

    /// Renders the cloud client's counters and spool with the node's
    /// (once; a second client is ignored).
    pub fn attach_sync(&self, client: Arc<rampart_sync::Client>) {
        let _ = self.sync.set(client);
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Relaxed)
    }

    pub fn blocked(&self) -> u64 {
        self.blocked.load(Relaxed)
    }

    pub fn render(&self, mode: &str) -> String {
        let mut o = String::with_capacity(4096);
        let _ = writeln!(o, "# HELP rampart_requests_total Requests received.\n# TYPE rampart_requests_total counter");
        let _ = writeln!(o, "rampart_requests_total {}", self.requests.load(Relaxed));
        let _ = writeln!(o, "# HELP rampart_verdicts_total Verdicts by action.\n# TYPE rampart_verdicts_total counter");
        for (a, c) in [
            ("allow", &self.allowed),
            ("monitor", &self.monitored),
            ("block", &self.blocked),
        ] {
            let _ = writeln!(
                o,
                "rampart_verdicts_total{{action=\"{a}\"}} {}",
                c.load(Relaxed)
            );
        }
        let _ = writeln!(o, "# HELP rampart_verdicts_by_class_total Blocked or monitored requests by deciding class.\n# TYPE rampart_verdicts_by_class_total counter");
        for c in Class::ALL {
            let n = self.by_class[(c.code() as usize) & 127].load(Relaxed);
            if n > 0 {
                let _ = writeln!(o, "rampart_verdicts_by_class_total{{class=\"{c}\"}} {n}");
            }
        }
        let _ = writeln!(o, "# HELP rampart_body_too_large_total Requests refused for a body over the inspection limit.\n# TYPE rampart_body_too_large_total counter");
        let _ = writeln!(
            o,
            "rampart_body_too_large_total {}",
            self.too_large.load(Relaxed)
        );
        let _ = writeln!(o, "# HELP rampart_upstream_errors_total Requests the upstream did not answer.\n# TYPE rampart_upstream_errors_total counter");
        let _ = writeln!(
            o,
            "rampart_upstream_errors_total {}",
            self.upstream_errors.load(Relaxed)
        );
        let _ = writeln!(o, "# HELP rampart_connections_open Open client connections.\n# TYPE rampart_connections_open gauge");
        let _ = writeln!(
            o,
            "rampart_connections_open {}",
            self.connections_open.load(Relaxed)
        );
        let _ = writeln!(o, "# HELP rampart_connections_total Client connections accepted.\n# TYPE rampart_connections_total counter");
        let _ = writeln!(
            o,
            "rampart_connections_total {}",
            self.connections_total.load(Relaxed)
        );
        let _ = writeln!(o, "# HELP rampart_mode Filtration mode (1 for the active one).\n# TYPE rampart_mode gauge");
        for m in ["block", "monitor", "off"] {
            let _ = writeln!(o, "rampart_mode{{mode=\"{m}\"}} {}", u8::from(m == mode));
        }
        let sync = self.sync.get();
        let from_cloud = |f: fn(&rampart_sync::Counters) -> &AtomicU64| {
            sync.map_or(0, |c| f(&c.counters).load(Relaxed))
        };
        for (name, help, kind, v) in [
            (
                "rampart_rule_pack_version",
                "Version of the rule pack in place (0: none).",
                "gauge",
                self.pack_version.load(Relaxed),
            ),
            (
                "rampart_rule_packs_installed_total",
                "Rule packs swapped in (from a pack file or the cloud).",
                "counter",
                self.packs_installed.load(Relaxed) + from_cloud(|c| &c.packs_installed),
            ),
            (
                "rampart_rule_packs_refused_total",
                "Rule packs refused (the pack in place stayed).",
                "counter",
                self.packs_refused.load(Relaxed) + from_cloud(|c| &c.packs_refused),
            ),
            (
                "rampart_response_blocks_total",
                "Responses replaced by the block page by response-phase rules.",
                "counter",
                self.response_blocks.load(Relaxed),
            ),
        ] {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        }
        if let Some(c) = sync {
            render_sync(&mut o, c);
        }
        self.decode.render(
            &mut o,
            "rampart_decode_seconds",
            "Time spent decoding a request.",
        );
        self.inspect.render(
            &mut o,
            "rampart_inspection_seconds",
            "Time spent inspecting a request (decode, detect, decide).",
        );
        o
    }
}

/// The cloud client's counters and spool.
fn render_sync(o: &mut String, c: &rampart_sync::Client) {
    let k = &c.counters;
    let (batches, bytes, dropped) = c.spool_usage();
    let _ = writeln!(o, "# HELP rampart_sync_errors_total Failed exchanges with the cloud by operation: upload (a round of batch uploads; the batches stay spooled), heartbeat, pack_fetch (a rule-pack request).\n# TYPE rampart_sync_errors_total counter");
    for (op, v) in [
        ("upload", &k.upload_failures),
        ("heartbeat", &k.heartbeat_failures),
        ("pack_fetch", &k.pack_fetch_failures),
    ] {
        let _ = writeln!(
            o,
            "rampart_sync_errors_total{{op=\"{op}\"}} {}",
            v.load(Relaxed)
        );
    }
    for (name, help, kind, v) in [
        (
            "rampart_sync_batches_uploaded_total",
            "Metric batches the cloud took.",
            "counter",
            k.uploaded.load(Relaxed),
        ),
        (
            "rampart_sync_batches_refused_total",
            "Metric batches the cloud refused for good (dropped).",
            "counter",
            k.uploads_refused.load(Relaxed),
        ),
        (
            "rampart_sync_spool_batches",
            "Metric batches waiting in the spool for the cloud.",
            "gauge",
            batches as u64,
        ),
        (
            "rampart_sync_spool_bytes",
            "Size of the spool on disk (compressed batches).",
            "gauge",
            bytes,
        ),
        (
            "rampart_sync_spool_dropped_total",
            "Metric batches dropped because the spool was full.",
            "counter",
            dropped,
        ),
    ] {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
    }
}
