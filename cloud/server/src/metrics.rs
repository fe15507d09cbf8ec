//! The cloud replica's Prometheus metrics (`GET /metrics`), in the text
//! exposition format 0.0.4.
//!
//! Counters live where the work happens: the node API's and the ingest's in
//! [`CloudMetrics`] (a field of [`Shared`]), the pack builder's, the
//! learners' and the scanner's in those components (so that a build, a
//! learning run or a scan pass started by an operator counts too). The
//! gauges of applications and nodes are read from the store at each scrape
//! (one query per application for its nodes, one for its pack version).
//! Every counter is of this replica since it started.

use std::fmt::{Display, Write as _};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use http::StatusCode;
use tracing::debug;

use crate::Shared;

/// A heartbeat younger than this makes a node alive.
const ALIVE_WITHIN: Duration = Duration::from_secs(120);

/// A count that only goes up.
#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn inc(&self) {
        self.0.fetch_add(1, Relaxed);
    }

    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// Upper bounds (seconds) of the duration histograms: a learning run takes
/// from milliseconds (nothing reported yet) to minutes (a large inventory).
const SECONDS_BUCKETS: [f64; 12] = [
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// A histogram of durations with the [`SECONDS_BUCKETS`] bounds.
#[derive(Debug, Default)]
pub(crate) struct Histogram {
    /// Observations per bucket (not cumulative; summed when rendered).
    buckets: [AtomicU64; SECONDS_BUCKETS.len()],
    /// Observations over the last bound.
    over: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    pub(crate) fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        match SECONDS_BUCKETS.iter().position(|b| s <= *b) {
            Some(i) => self.buckets[i].fetch_add(1, Relaxed),
            None => self.over.fetch_add(1, Relaxed),
        };
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Relaxed);
    }

    fn render(&self, t: &mut Text, name: &str, help: &str) {
        t.family(name, "histogram", help);
        let mut cumulative = 0u64;
        for (b, n) in SECONDS_BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Relaxed);
            t.sample(
                &format!("{name}_bucket"),
                &[("le", &b.to_string())],
                cumulative,
            );
        }
        let count = cumulative + self.over.load(Relaxed);
        t.sample(&format!("{name}_bucket"), &[("le", "+Inf")], count);
        let sum = self.sum_micros.load(Relaxed) as f64 / 1e6;
        t.sample(&format!("{name}_sum"), &[], sum);
        t.sample(&format!("{name}_count"), &[], count);
    }
}

/// Pack builds by outcome (held by the pack builder).
#[derive(Debug, Default)]
pub(crate) struct BuildCounters {
    pub(crate) published: Counter,
    pub(crate) unchanged: Counter,
    pub(crate) no_rules: Counter,
    pub(crate) failed: Counter,
    pub(crate) raced: Counter,
}

impl BuildCounters {
    /// Counts the outcome of one build.
    pub(crate) fn record(&self, outcome: &crate::BuildOutcome) {
        use crate::BuildOutcome as O;
        match outcome {
            O::Published { .. } => &self.published,
            O::Unchanged { .. } => &self.unchanged,
            O::NoRules => &self.no_rules,
            O::Failed { .. } => &self.failed,
            O::Raced => &self.raced,
        }
        .inc();
    }
}

/// Learning runs and behaviour alerts (held by the learners).
#[derive(Debug, Default)]
pub(crate) struct LearningCounters {
    pub(crate) runs_ok: Counter,
    pub(crate) runs_failed: Counter,
    pub(crate) run_seconds: Histogram,
    pub(crate) alerts: Counter,
}

/// Scan jobs, incidents and notifications (held by the scanning state).
#[derive(Debug, Default)]
pub(crate) struct ScanCounters {
    pub(crate) jobs_done: Counter,
    pub(crate) jobs_failed: Counter,
    pub(crate) incidents_opened: Counter,
    pub(crate) notifications_sent: Counter,
    pub(crate) notifications_failed: Counter,
}

/// The four calls of the node protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeCall {
    Enroll,
    Batches,
    PackLatest,
    Heartbeat,
}

impl NodeCall {
    const ALL: [NodeCall; 4] = [
        NodeCall::Enroll,
        NodeCall::Batches,
        NodeCall::PackLatest,
        NodeCall::Heartbeat,
    ];

    fn name(self) -> &'static str {
        match self {
            NodeCall::Enroll => "enroll",
            NodeCall::Batches => "batches",
            NodeCall::PackLatest => "pack_latest",
            NodeCall::Heartbeat => "heartbeat",
        }
    }
}

/// Status classes 1xx to 5xx.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The node API's and the ingest's counters of one replica.
#[derive(Debug, Default)]
pub(crate) struct CloudMetrics {
    /// Answers by call and status class.
    node_api: [[Counter; 5]; 4],
    batches_ingested: Counter,
    batches_duplicate: Counter,
    batches_refused: Counter,
    attack_events: Counter,
    reported_requests: Counter,
    reported_blocked: Counter,
    reported_monitored: Counter,
}

impl CloudMetrics {
    /// An answer of the node API.
    pub(crate) fn node_call(&self, call: NodeCall, status: StatusCode) {
        let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
        let call = NodeCall::ALL.iter().position(|c| *c == call).unwrap_or(0);
        self.node_api[call][class].inc();
    }

    /// A batch stored: the traffic it reports and the attack events it
    /// added.
    pub(crate) fn batch_ingested(&self, requests: u64, blocked: u64, monitored: u64, events: u64) {
        self.batches_ingested.inc();
        self.reported_requests.add(requests);
        self.reported_blocked.add(blocked);
        self.reported_monitored.add(monitored);
        self.attack_events.add(events);
    }

    /// A batch already stored (a node's retry).
    pub(crate) fn batch_duplicate(&self) {
        self.batches_duplicate.inc();
    }

    /// A batch refused: too large, not gzip or JSON, or invalid.
    pub(crate) fn batch_refused(&self) {
        self.batches_refused.inc();
    }
}

/// The text being written.
struct Text {
    out: String,
}

impl Text {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape_label(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// A family of one unlabelled sample.
    fn single(&mut self, name: &str, kind: &str, help: &str, value: impl Display) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }
}

/// A label value as the format wants it: `\`, `"` and line feeds escaped.
fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// A HELP text: `\` and line feeds escaped.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Per application: its name, its latest published pack version (0: none),
/// its enrolled nodes and those alive.
struct AppGauges {
    name: String,
    pack_version: i64,
    nodes: usize,
    alive: usize,
}

async fn app_gauges(st: &Shared) -> Vec<AppGauges> {
    let apps = match st.store.list_applications().await {
        Ok(a) => a,
        Err(e) => {
            debug!(error = %e, "metrics: cannot list the applications");
            return Vec::new();
        }
    };
    let horizon = rampart_store::chrono::Utc::now()
        - rampart_store::chrono::Duration::seconds(ALIVE_WITHIN.as_secs() as i64);
    let mut out = Vec::with_capacity(apps.len());
    for a in apps {
        let pack_version = match st.store.latest_published_version(a.id).await {
            Ok(v) => v.unwrap_or(0),
            Err(e) => {
                debug!(application = %a.name, error = %e, "metrics: cannot read the pack version");
                continue;
            }
        };
        let nodes = match st.store.list_nodes(a.id).await {
            Ok(n) => n,
            Err(e) => {
                debug!(application = %a.name, error = %e, "metrics: cannot list the nodes");
                continue;
            }
        };
        let alive = nodes
            .iter()
            .filter(|n| n.last_heartbeat_at.is_some_and(|t| t >= horizon))
            .count();
        out.push(AppGauges {
            name: a.name,
            pack_version,
            nodes: nodes.len(),
            alive,
        });
    }
    out
}

/// The Prometheus text of the replica.
pub(crate) async fn render(st: &Shared) -> String {
    let apps = app_gauges(st).await;
    let mut t = Text {
        out: String::with_capacity(8192),
    };
    render_counters(st, &mut t);
    render_gauges(st, &apps, &mut t);
    t.out
}

fn render_counters(st: &Shared, t: &mut Text) {
    let m = &st.metrics;
    t.family(
        "rampart_cloud_build_info",
        "gauge",
        "The replica's software version (always 1).",
    );
    t.sample(
        "rampart_cloud_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1,
    );
    t.family(
        "rampart_cloud_node_api_requests_total",
        "counter",
        "Answers of the node API (/v1/...) by call and status class.",
    );
    for (call, row) in NodeCall::ALL.iter().zip(&m.node_api) {
        for (class, n) in CLASSES.iter().zip(row) {
            t.sample(
                "rampart_cloud_node_api_requests_total",
                &[("endpoint", call.name()), ("status", class)],
                n.get(),
            );
        }
    }
    t.family(
        "rampart_cloud_batches_total",
        "counter",
        "Metric batches uploaded by nodes: ingested, duplicate (a retry of one already stored) or refused (too large, unreadable, invalid).",
    );
    for (result, c) in [
        ("ingested", &m.batches_ingested),
        ("duplicate", &m.batches_duplicate),
        ("refused", &m.batches_refused),
    ] {
        t.sample(
            "rampart_cloud_batches_total",
            &[("result", result)],
            c.get(),
        );
    }
    t.single(
        "rampart_cloud_attack_events_total",
        "counter",
        "Attack events stored from ingested batches.",
        m.attack_events.get(),
    );
    t.single(
        "rampart_cloud_reported_requests_total",
        "counter",
        "Requests the nodes reported in ingested batches.",
        m.reported_requests.get(),
    );
    t.single(
        "rampart_cloud_reported_blocked_total",
        "counter",
        "Blocked requests the nodes reported in ingested batches.",
        m.reported_blocked.get(),
    );
    t.single(
        "rampart_cloud_reported_monitored_total",
        "counter",
        "Requests the nodes let through in monitor mode that would have been blocked, as reported in ingested batches.",
        m.reported_monitored.get(),
    );
    let b = &st.builder.outcomes;
    t.family(
        "rampart_cloud_pack_builds_total",
        "counter",
        "Rule-pack builds by outcome: published, unchanged (same rules as the published pack), no_rules, failed (the rules do not compile together, or the store failed), raced (another replica published that version first).",
    );
    for (outcome, c) in [
        ("published", &b.published),
        ("unchanged", &b.unchanged),
        ("no_rules", &b.no_rules),
        ("failed", &b.failed),
        ("raced", &b.raced),
    ] {
        t.sample(
            "rampart_cloud_pack_builds_total",
            &[("outcome", outcome)],
            c.get(),
        );
    }
    let l = &st.learners.counters;
    t.family(
        "rampart_cloud_learning_runs_total",
        "counter",
        "Learning runs (templates, functions, formats, behaviour model, learned rules) by result.",
    );
    t.sample(
        "rampart_cloud_learning_runs_total",
        &[("result", "ok")],
        l.runs_ok.get(),
    );
    t.sample(
        "rampart_cloud_learning_runs_total",
        &[("result", "failed")],
        l.runs_failed.get(),
    );
    l.run_seconds.render(
        t,
        "rampart_cloud_learning_run_seconds",
        "Duration of learning runs.",
    );
    t.single(
        "rampart_cloud_behaviour_alerts_total",
        "counter",
        "Behaviour alerts raised (new ones only).",
        l.alerts.get(),
    );
    let s = &st.scanning.counters;
    t.family(
        "rampart_cloud_scan_jobs_total",
        "counter",
        "Scan jobs run by result: done (the scan concluded, confirmed or not) or failed (inconclusive, refused, no scan target, an error; some are retried).",
    );
    t.sample(
        "rampart_cloud_scan_jobs_total",
        &[("result", "done")],
        s.jobs_done.get(),
    );
    t.sample(
        "rampart_cloud_scan_jobs_total",
        &[("result", "failed")],
        s.jobs_failed.get(),
    );
    t.single(
        "rampart_cloud_scan_confirmed_total",
        "counter",
        "Scan jobs that confirmed a vulnerability.",
        st.scanning.confirmed.load(Relaxed),
    );
    t.single(
        "rampart_cloud_incidents_opened_total",
        "counter",
        "Incidents opened (a confirmation of a known incident updates it and is not counted).",
        s.incidents_opened.get(),
    );
    t.family(
        "rampart_cloud_notifications_total",
        "counter",
        "Incident notifications by result: sent, or failed (an attempt that is retried later or given up).",
    );
    t.sample(
        "rampart_cloud_notifications_total",
        &[("result", "sent")],
        s.notifications_sent.get(),
    );
    t.sample(
        "rampart_cloud_notifications_total",
        &[("result", "failed")],
        s.notifications_failed.get(),
    );
}

fn render_gauges(st: &Shared, apps: &[AppGauges], t: &mut Text) {
    t.family(
        "rampart_cloud_pack_version",
        "gauge",
        "Version of the application's latest published rule pack (0: none yet).",
    );
    for a in apps {
        t.sample(
            "rampart_cloud_pack_version",
            &[("app", &a.name)],
            a.pack_version,
        );
    }
    t.family(
        "rampart_cloud_nodes",
        "gauge",
        "Nodes enrolled in the application.",
    );
    for a in apps {
        t.sample("rampart_cloud_nodes", &[("app", &a.name)], a.nodes);
    }
    t.family(
        "rampart_cloud_nodes_alive",
        "gauge",
        "Nodes of the application with a heartbeat in the last 2 minutes.",
    );
    for a in apps {
        t.sample("rampart_cloud_nodes_alive", &[("app", &a.name)], a.alive);
    }
    t.single(
        "rampart_cloud_pack_long_poll_waiters",
        "gauge",
        "Pack long-polls (GET /v1/packs/latest with Prefer: wait) waiting on this replica.",
        st.watch.waiters(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_help_are_escaped() {
        assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label("x\ny"), "x\\ny");
        assert_eq!(escape_help("one\\two\nthree"), "one\\\\two\\nthree");
        let mut t = Text { out: String::new() };
        t.family("x_total", "counter", "Things.");
        t.sample("x_total", &[("app", "sh\"op"), ("k", "v")], 3);
        t.sample("x_total", &[], 1.5);
        assert_eq!(
            t.out,
            "# HELP x_total Things.\n# TYPE x_total counter\nx_total{app=\"sh\\\"op\",k=\"v\"} 3\nx_total 1.5\n"
        );
    }

    #[test]
    fn histograms_are_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_millis(5));
        h.observe(Duration::from_millis(300));
        h.observe(Duration::from_secs(1000));
        let mut t = Text { out: String::new() };
        h.render(&mut t, "h_seconds", "Durations.");
        let lines: Vec<&str> = t.out.lines().collect();
        assert_eq!(lines[0], "# HELP h_seconds Durations.");
        assert_eq!(lines[1], "# TYPE h_seconds histogram");
        assert!(
            lines.contains(&"h_seconds_bucket{le=\"0.01\"} 1"),
            "{}",
            t.out
        );
        assert!(
            lines.contains(&"h_seconds_bucket{le=\"0.25\"} 1"),
            "{}",
            t.out
        );
        assert!(
            lines.contains(&"h_seconds_bucket{le=\"0.5\"} 2"),
            "{}",
            t.out
        );
        assert!(
            lines.contains(&"h_seconds_bucket{le=\"300\"} 2"),
            "{}",
            t.out
        );
        assert!(
            lines.contains(&"h_seconds_bucket{le=\"+Inf\"} 3"),
            "{}",
            t.out
        );
        assert!(lines.contains(&"h_seconds_count 3"), "{}", t.out);
        assert!(lines.contains(&"h_seconds_sum 1000.305"), "{}", t.out);
    }

    #[test]
    fn node_calls_by_status_class() {
        let m = CloudMetrics::default();
        m.node_call(NodeCall::Batches, StatusCode::OK);
        m.node_call(NodeCall::Batches, StatusCode::OK);
        m.node_call(NodeCall::Batches, StatusCode::PAYLOAD_TOO_LARGE);
        m.node_call(NodeCall::PackLatest, StatusCode::NOT_MODIFIED);
        assert_eq!(m.node_api[1][1].get(), 2);
        assert_eq!(m.node_api[1][3].get(), 1);
        assert_eq!(m.node_api[2][2].get(), 1);
        assert_eq!(m.node_api[0].iter().map(Counter::get).sum::<u64>(), 0);
    }

    /// Every sample line belongs to the family declared before it, and
    /// every family has HELP then TYPE: what a scraper checks.
    fn check_exposition(text: &str) {
        let mut family: Option<(String, String)> = None;
        let mut help: Option<String> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                help = rest.split(' ').next().map(str::to_owned);
                continue;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let mut it = rest.split(' ');
                let name = it.next().unwrap_or_default().to_owned();
                let kind = it.next().unwrap_or_default().to_owned();
                assert_eq!(
                    help.as_deref(),
                    Some(name.as_str()),
                    "HELP before TYPE: {line}"
                );
                assert!(
                    ["counter", "gauge", "histogram"].contains(&kind.as_str()),
                    "{line}"
                );
                family = Some((name, kind));
                continue;
            }
            let (name, kind) = family.clone().unwrap_or_default();
            let sample = line.split(['{', ' ']).next().unwrap_or_default();
            let ok = sample == name
                || (kind == "histogram"
                    && [
                        format!("{name}_bucket"),
                        format!("{name}_sum"),
                        format!("{name}_count"),
                    ]
                    .contains(&sample.to_owned()));
            assert!(ok, "{line} is not of family {name}");
            let value = line.rsplit(' ').next().unwrap_or_default();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }

    #[test]
    fn exposition_checker_accepts_our_text() {
        let h = Histogram::default();
        h.observe(Duration::from_millis(20));
        let mut t = Text { out: String::new() };
        t.single("a_total", "counter", "A.", 1);
        h.render(&mut t, "b_seconds", "B.");
        check_exposition(&t.out);
    }
}
