//! Active threat verification: attack events become scan jobs, the scanner
//! (`rampart-scanner`) replays them against the application's scan target,
//! a confirmed vulnerability becomes an incident, and each new incident is
//! sent to the notification channels.
//!
//! Every replica with `[scanning] enabled` runs the loop; the work is
//! shared through the database: jobs and notifications are *claimed* with a
//! lease (see `rampart_store::repo::scanning`), and making jobs is
//! idempotent (a job's dedup key: endpoint, point, class and payload
//! family, the detector rule that found the payload).

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use rampart_scanner::{Scanner, Target, Verdict};
use rampart_store::entity::{attack_event, notification, scan_job, Severity};
use rampart_store::{chrono, Store};
use rampart_store::{NewIncident, NewScanJob};
use rampart_telemetry::shape::Format;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use tracing::{debug, info, warn};

use crate::config::{NotifyChannel, NotifyKind, ScanningConfig};
use crate::error::{Error, Result};

/// Attack events read per step of the job maker.
const EVENT_PAGE: u64 = 500;
/// Notifications sent per tick.
const NOTIFY_BATCH: u64 = 16;
/// Dedup keys remembered in memory.
const SEEN_MAX: usize = 100_000;

/// What one pass of the loop did (also [`crate::CloudHandle::scan_now`]'s
/// answer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanTick {
    /// Attack events read.
    pub events: u64,
    /// New scan jobs.
    pub jobs_made: u64,
    /// Jobs run.
    pub jobs_run: u64,
    /// Jobs whose vulnerability was confirmed.
    pub confirmed: u64,
    /// Incidents opened (a confirmation of a known incident updates it).
    pub incidents_opened: u64,
    /// Notifications delivered.
    pub notifications_sent: u64,
    /// Notification attempts that failed (retried later).
    pub notifications_failed: u64,
}

/// The scanning state of a replica.
pub(crate) struct Scanning {
    scanner: Option<Scanner>,
    http: reqwest::Client,
    /// The last attack event id turned into jobs; -1 until the first pass
    /// chose where to start (`backfill_secs` back).
    watermark: AtomicI64,
    /// Dedup keys (with their application) already enqueued by this
    /// replica: a repeated attack costs no database call. Bounded: cleared
    /// past [`SEEN_MAX`] (the database's dedup still holds).
    seen: std::sync::Mutex<HashSet<(i64, String)>>,
    /// One pass at a time (the loop and `scan_now`).
    pass: Mutex<()>,
    pub(crate) jobs_run: AtomicU64,
    pub(crate) confirmed: AtomicU64,
    /// Jobs, incidents and notifications (`GET /metrics`).
    pub(crate) counters: crate::metrics::ScanCounters,
}

impl std::fmt::Debug for Scanning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanning")
            .field("scanner", &self.scanner.is_some())
            .field("watermark", &self.watermark.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl Scanning {
    /// The scanner with the configured limits; the targets' hosts join its
    /// allowlist.
    pub(crate) async fn new(cfg: &ScanningConfig) -> Result<Scanning> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("notification client: {e}")))?;
        let scanner = if cfg.enabled {
            let mut probe = cfg.probe.clone();
            for t in &cfg.targets {
                if let Ok(host) = rampart_scanner::allow_entry_of(&t.base) {
                    if !probe.allow.contains(&host) {
                        probe.allow.push(host);
                    }
                }
            }
            Some(
                Scanner::new(probe)
                    .await
                    .map_err(|e| Error::Config(format!("scanning: {e}")))?,
            )
        } else {
            None
        };
        Ok(Scanning {
            scanner,
            http,
            watermark: AtomicI64::new(-1),
            seen: std::sync::Mutex::new(HashSet::new()),
            pass: Mutex::new(()),
            jobs_run: AtomicU64::new(0),
            confirmed: AtomicU64::new(0),
            counters: Default::default(),
        })
    }

    /// One pass: jobs from new attack events, due jobs run, due
    /// notifications sent.
    pub(crate) async fn tick(&self, store: &Store, cfg: &ScanningConfig) -> Result<ScanTick> {
        let _one = self.pass.lock().await;
        let mut t = ScanTick::default();
        let Some(scanner) = &self.scanner else {
            return Ok(t);
        };
        self.make_jobs(store, cfg, scanner, &mut t).await?;
        self.run_jobs(store, cfg, scanner, &mut t).await?;
        self.send_notifications(store, cfg, &mut t).await?;
        Ok(t)
    }

    async fn make_jobs(
        &self,
        store: &Store,
        cfg: &ScanningConfig,
        scanner: &Scanner,
        t: &mut ScanTick,
    ) -> Result<()> {
        if self.watermark.load(Relaxed) < 0 {
            let back = i64::try_from(cfg.backfill_secs).unwrap_or(i64::MAX / 2);
            let since = chrono::Utc::now() - chrono::Duration::seconds(back.min(10 * 365 * 86_400));
            let start = store.attack_event_id_before(since).await?;
            self.watermark.store(start, Relaxed);
        }
        loop {
            let after = self.watermark.load(Relaxed);
            let events = store.attack_events_after(after, EVENT_PAGE).await?;
            let Some(last) = events.last().map(|e| e.id) else {
                return Ok(());
            };
            t.events += events.len() as u64;
            for e in &events {
                if let Some(job) = job_of(e, scanner) {
                    if self.known(e.application_id, &job.dedup_key, false) {
                        continue;
                    }
                    let ep = match store
                        .endpoint(e.application_id, &job.method, &job.shape)
                        .await?
                    {
                        Some(ep) => ep,
                        None => {
                            store
                                .upsert_endpoint(e.application_id, &job.method, &job.shape)
                                .await?
                        }
                    };
                    let made = store
                        .enqueue_scan_job(
                            e.application_id,
                            NewScanJob {
                                endpoint_id: ep.id,
                                point: &e.point,
                                class: &job.class,
                                payload_family: &e.rule,
                                payload: &e.payload,
                                dedup_key: &job.dedup_key,
                                not_before: None,
                            },
                        )
                        .await?;
                    if made.is_some() {
                        t.jobs_made += 1;
                    }
                    // Enqueued now or before: no need to ask again.
                    self.known(e.application_id, &job.dedup_key, true);
                }
            }
            self.watermark.store(last, Relaxed);
            if (events.len() as u64) < EVENT_PAGE {
                return Ok(());
            }
        }
    }

    /// Whether this replica knows the key to be enqueued; `remember`
    /// records that it is.
    fn known(&self, app: i64, key: &str, remember: bool) -> bool {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let k = (app, key.to_owned());
        if !remember {
            return seen.contains(&k);
        }
        if seen.len() >= SEEN_MAX {
            seen.clear();
        }
        !seen.insert(k)
    }

    async fn run_jobs(
        &self,
        store: &Store,
        cfg: &ScanningConfig,
        scanner: &Scanner,
        t: &mut ScanTick,
    ) -> Result<()> {
        // A job's lease covers its longest scan: every request's timeout
        // plus the scripts' time, with a margin.
        let p = &cfg.probe;
        let lease = Duration::from_millis(
            p.script_timeout_ms
                .saturating_add(u64::from(p.max_requests).saturating_mul(p.request_timeout_ms))
                .saturating_add(30_000),
        );
        let jobs = store.claim_scan_jobs(cfg.jobs_per_tick, lease).await?;
        for job in jobs {
            t.jobs_run += 1;
            self.jobs_run.fetch_add(1, Relaxed);
            if let Err(e) = self.run_job(store, cfg, scanner, &job, t).await {
                self.counters.jobs_failed.inc();
                warn!(job = job.id, error = %e, "scan job failed");
                let retry = retry_at(job.attempts, cfg.max_attempts, cfg.retry_secs);
                store.fail_scan_job(&job, &e.to_string(), retry).await?;
            }
        }
        Ok(())
    }

    async fn run_job(
        &self,
        store: &Store,
        cfg: &ScanningConfig,
        scanner: &Scanner,
        job: &scan_job::Model,
        t: &mut ScanTick,
    ) -> Result<()> {
        let app = store
            .application(job.application_id)
            .await?
            .ok_or_else(|| {
                Error::Store(rampart_store::Error::NotFound(format!(
                    "application {}",
                    job.application_id
                )))
            })?;
        let ep = store
            .endpoint_by_id(job.endpoint_id)
            .await?
            .ok_or_else(|| {
                Error::Store(rampart_store::Error::NotFound(format!(
                    "endpoint {}",
                    job.endpoint_id
                )))
            })?;
        let Some(target) = cfg.targets.iter().find(|x| x.application == app.name) else {
            store
                .fail_scan_job(
                    job,
                    &format!(
                        "no scan target for application {:?}: add a [[scanning.targets]] entry",
                        app.name
                    ),
                    None,
                )
                .await?;
            self.counters.jobs_failed.inc();
            return Ok(());
        };
        let path = concrete_path(&ep.template);
        let probe = Target::new(
            target.base.trim_end_matches('/'),
            ep.method.clone(),
            path.clone(),
            job.point.clone(),
            job.payload.clone(),
            job.class.clone(),
        );
        let report = scanner.scan(&probe).await;
        info!(
            job = job.id,
            application = %app.name,
            endpoint = %format!("{} {}", ep.method, ep.template),
            point = %job.point,
            class = %job.class,
            verdict = report.verdict.as_str(),
            requests = report.requests_sent,
            "scan job done"
        );
        match report.verdict {
            Verdict::Confirmed => {
                t.confirmed += 1;
                self.confirmed.fetch_add(1, Relaxed);
                let severity = severity_of(rampart_scanner::severity(&job.class));
                let curl = report
                    .evidence
                    .first()
                    .map(|e| rampart_scanner::curl_command(&e.request));
                let evidence = json!({
                    "report": report,
                    "curl": curl,
                    "remediation": rampart_scanner::remediation(&job.class),
                    "scan_job": job.id,
                    "attack_payload": job.payload,
                    "target": target.base,
                });
                let title = format!(
                    "{} in {} {} ({})",
                    rampart_scanner::class_title(&job.class),
                    ep.method,
                    ep.template,
                    job.point
                );
                let key = format!("{}|{} {}|{}", job.class, ep.method, ep.template, job.point);
                let opened = store
                    .open_incident(
                        app.id,
                        NewIncident {
                            title: &title,
                            severity,
                            endpoint_id: Some(ep.id),
                            point: Some(&job.point),
                            payload: Some(&job.payload),
                            evidence: &evidence,
                            dedup_key: &digest(&key),
                        },
                    )
                    .await?;
                if opened.created {
                    t.incidents_opened += 1;
                    self.counters.incidents_opened.inc();
                    let inc = &opened.incident;
                    let doc = IncidentDoc {
                        id: inc.id,
                        application: &app.name,
                        title: &title,
                        severity: rampart_scanner::severity(&job.class),
                        class: &job.class,
                        endpoint: format!("{} {}", ep.method, ep.template),
                        point: &job.point,
                        payload: &job.payload,
                        summary: &report.summary,
                        curl: curl.as_deref().unwrap_or(""),
                        remediation: rampart_scanner::remediation(&job.class),
                    };
                    for ch in &cfg.notify {
                        store
                            .enqueue_notification(inc.id, &ch.name, &payload_for(ch, &doc))
                            .await?;
                    }
                }
                store.complete_scan_job(job).await?;
                self.counters.jobs_done.inc();
            }
            Verdict::NotConfirmed => {
                store.complete_scan_job(job).await?;
                self.counters.jobs_done.inc();
            }
            Verdict::Refused => {
                // A safety refusal is final: retrying sends nothing either.
                let why = report.error.unwrap_or(report.summary);
                store
                    .fail_scan_job(job, &format!("refused: {why}"), None)
                    .await?;
                self.counters.jobs_failed.inc();
            }
            Verdict::Inconclusive => {
                let why = report.error.unwrap_or(report.summary);
                let retry = retry_at(job.attempts, cfg.max_attempts, cfg.retry_secs);
                store
                    .fail_scan_job(job, &format!("inconclusive: {why}"), retry)
                    .await?;
                self.counters.jobs_failed.inc();
            }
        }
        Ok(())
    }

    async fn send_notifications(
        &self,
        store: &Store,
        cfg: &ScanningConfig,
        t: &mut ScanTick,
    ) -> Result<()> {
        let due = store
            .claim_notifications(NOTIFY_BATCH, Duration::from_secs(60))
            .await?;
        for n in due {
            match self.deliver(cfg, &n).await {
                Ok(()) => {
                    t.notifications_sent += 1;
                    self.counters.notifications_sent.inc();
                    store.notification_sent(&n).await?;
                }
                Err(why) => {
                    t.notifications_failed += 1;
                    self.counters.notifications_failed.inc();
                    let retry =
                        retry_at(n.attempts, cfg.notify_max_attempts, cfg.notify_retry_secs)
                            .map(|at| at.min(chrono::Utc::now() + chrono::Duration::hours(1)));
                    debug!(notification = n.id, channel = %n.channel, error = %why, "notification failed");
                    store.notification_failed(&n, &why, retry).await?;
                }
            }
        }
        Ok(())
    }

    async fn deliver(
        &self,
        cfg: &ScanningConfig,
        n: &notification::Model,
    ) -> std::result::Result<(), String> {
        let ch = cfg
            .notify
            .iter()
            .find(|c| c.name == n.channel)
            .ok_or_else(|| format!("channel {:?} is no longer configured", n.channel))?;
        let mut req = self
            .http
            .post(&ch.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(n.payload.clone());
        if let Some(auth) = &ch.authorization {
            req = req.header(http::header::AUTHORIZATION, auth);
        }
        let resp = req.send().await.map_err(|e| format!("{}: {e}", ch.url))?;
        let status = resp.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("{} answered {status}", ch.url))
        }
    }
}

/// The loop of a replica: a pass every `tick_secs` until the replica stops.
pub(crate) async fn run(st: Arc<crate::Shared>) {
    let cfg = st.cfg.scanning.clone();
    let mut stop = st.stop.subscribe();
    let every = Duration::from_secs(cfg.tick_secs);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
        match st.scanning.tick(&st.store, &cfg).await {
            Ok(t) if t != ScanTick::default() => debug!(?t, "scanning pass"),
            Ok(_) => {}
            Err(e) => warn!(error = %e, "scanning pass failed"),
        }
    }
}

/// What a job is made of, from an attack event.
#[derive(Debug, Clone, PartialEq, Eq)]
struct JobOf {
    method: String,
    shape: String,
    class: String,
    dedup_key: String,
}

/// The job an attack event calls for: one with a request point, a payload
/// and a class the scanner has a strategy for (the decider row of an event,
/// without a point, and masked payloads make none).
fn job_of(e: &attack_event::Model, scanner: &Scanner) -> Option<JobOf> {
    if e.point.is_empty() || e.payload.is_empty() || e.payload == "[masked]" {
        return None;
    }
    // A point the scanner cannot set on its own (the whole query string,
    // the raw path) makes no job.
    if rampart_scanner::parse_point(&e.point).is_err() {
        return None;
    }
    let class = rampart_scanner::canonical_class(&e.class);
    if !scanner.has_strategy(&class) {
        return None;
    }
    let (method, shape) = e.endpoint.split_once(' ')?;
    // A route word or member name the node has not admitted yet (fewer
    // than k clients sent it, spec/metrics-privacy.md 2.1) hides where the
    // payload went.
    let hidden = |s: &str| s.contains("{word}") || s.contains("{token}") || s.contains("[*]");
    if !shape.starts_with('/') || hidden(shape) || hidden(&e.point) {
        return None;
    }
    let key = format!("{method} {shape}|{}|{class}|{}", e.point, e.rule);
    Some(JobOf {
        method: method.to_ascii_uppercase(),
        shape: shape.to_owned(),
        class,
        dedup_key: digest(&key),
    })
}

/// A concrete path for a node's path shape: each `{placeholder}` replaced
/// by a plausible value of its format (`rampart_telemetry`'s formats),
/// percent-encoded; an unknown placeholder becomes `1`.
pub fn concrete_path(shape: &str) -> String {
    let mut out = String::with_capacity(shape.len());
    let mut rest = shape;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        match after.find('}') {
            Some(end) => {
                let ph = &after[..=end];
                let value = Format::ALL
                    .iter()
                    .find(|f| f.placeholder() == ph)
                    .map_or("1", |f| sample(*f));
                out.push_str(&rampart_scanner::point::percent_encode(value));
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A plausible value of a format.
fn sample(f: Format) -> &'static str {
    match f {
        Format::Empty => "",
        Format::Int => "1",
        Format::Decimal => "1.5",
        Format::Bool => "true",
        Format::Uuid => "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b",
        Format::Hex => "a1b2c3d4e5f60718",
        Format::Base64 => "c2FtcGxlVmFsdWUx",
        Format::Jwt => "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.c2ln",
        Format::Email => "user@example.com",
        Format::Url => "http://example.com/",
        Format::Ip => "192.0.2.1",
        Format::Date => "2024-01-31",
        Format::DateTime => "2024-01-31T12:00:00Z",
        Format::Phone => "+15555550100",
        Format::Card => "4111111111111111",
        Format::Json => "{}",
        Format::Xml => "<?xml version=\"1.0\"?><a/>",
        Format::Html => "<b>x</b>",
        Format::FilePath => "/tmp/file.txt",
        Format::Word => "item",
        Format::Text => "some text",
        Format::Other => "x1y2z3",
    }
}

fn severity_of(s: &str) -> Severity {
    match s {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        "medium" => Severity::Medium,
        _ => Severity::Low,
    }
}

/// When the next attempt of something tried `attempts` times runs: `base`
/// seconds after the first, doubling; `None` once `max` attempts are spent.
fn retry_at(attempts: i32, max: i32, base_secs: u64) -> Option<chrono::DateTime<chrono::Utc>> {
    if attempts >= max {
        return None;
    }
    let factor = 1u64 << attempts.clamp(1, 20).saturating_sub(1);
    let secs = i64::try_from(base_secs.saturating_mul(factor)).unwrap_or(i64::MAX / 2);
    Some(chrono::Utc::now() + chrono::Duration::seconds(secs.min(86_400)))
}

fn digest(s: &str) -> String {
    let h = Sha256::digest(s.as_bytes());
    h.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// What a notification says about an incident.
#[derive(Debug, Serialize)]
struct IncidentDoc<'a> {
    id: i64,
    application: &'a str,
    title: &'a str,
    severity: &'a str,
    class: &'a str,
    endpoint: String,
    point: &'a str,
    payload: &'a str,
    summary: &'a str,
    curl: &'a str,
    remediation: &'a str,
}

/// The JSON a channel of this kind expects.
fn payload_for(ch: &NotifyChannel, d: &IncidentDoc<'_>) -> Value {
    match ch.kind {
        NotifyKind::Webhook => json!({
            "event": "incident.opened",
            "source": "rampart",
            "incident": d,
        }),
        NotifyKind::Slack => {
            let text = format!(
                ":rotating_light: *{}* ({}) in application `{}`",
                d.title, d.severity, d.application
            );
            json!({
                "text": text,
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": text}},
                    {"type": "section", "fields": [
                        {"type": "mrkdwn", "text": format!("*Endpoint*\n`{}`", d.endpoint)},
                        {"type": "mrkdwn", "text": format!("*Point*\n`{}`", d.point)},
                        {"type": "mrkdwn", "text": format!("*Class*\n{}", d.class)},
                        {"type": "mrkdwn", "text": format!("*Incident*\n#{}", d.id)},
                    ]},
                    {"type": "section", "text": {"type": "mrkdwn", "text": format!("{}\n```{}```", d.summary, d.curl)}},
                    {"type": "context", "elements": [{"type": "mrkdwn", "text": d.remediation}]},
                ],
            })
        }
        NotifyKind::Jira => {
            let mut labels = vec!["rampart".to_owned(), "security".to_owned()];
            labels.push(d.class.to_owned());
            let priority = match d.severity {
                "critical" => "Highest",
                "high" => "High",
                "medium" => "Medium",
                _ => "Low",
            };
            let description = format!(
                "Rampart confirmed a vulnerability by replaying an attack it saw.\n\n\
                 *Application:* {}\n*Endpoint:* {}\n*Request point:* {}\n*Payload:* {{noformat}}{}{{noformat}}\n\n\
                 *Evidence:* {}\n\n*Reproduce:*\n{{code}}{}{{code}}\n\n*Remediation:* {}\n\nRampart incident #{}",
                d.application, d.endpoint, d.point, d.payload, d.summary, d.curl, d.remediation, d.id
            );
            let mut fields = BTreeMap::new();
            fields.insert(
                "project",
                json!({"key": ch.project.clone().unwrap_or_default()}),
            );
            fields.insert("summary", json!(d.title));
            fields.insert("description", json!(description));
            fields.insert(
                "issuetype",
                json!({"name": ch.issue_type.clone().unwrap_or_else(|| "Bug".into())}),
            );
            fields.insert("labels", json!(labels));
            fields.insert("priority", json!({"name": priority}));
            json!({ "fields": fields })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concrete_paths_fill_placeholders() {
        assert_eq!(concrete_path("/lab/vuln/products"), "/lab/vuln/products");
        assert_eq!(
            concrete_path("/users/{int}/orders/{uuid}"),
            "/users/1/orders/3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b"
        );
        assert_eq!(concrete_path("/"), "/");
        assert_eq!(concrete_path("/a/{word}"), "/a/item");
    }

    #[test]
    fn samples_are_values_of_their_format() {
        for f in Format::ALL {
            if f == Format::Empty {
                continue;
            }
            assert_eq!(
                rampart_telemetry::format_of(sample(f).as_bytes()),
                f,
                "sample for {}",
                f.placeholder()
            );
        }
        assert_eq!(
            concrete_path("/u/{email}/x/{nope}/{"),
            "/u/user%40example.com/x/1/{"
        );
        assert_eq!(concrete_path("/a/{path}"), "/a/%2Ftmp%2Ffile.txt");
    }

    #[test]
    fn retries_back_off_and_end() {
        let now = chrono::Utc::now();
        let first = retry_at(1, 3, 60).expect("second attempt");
        let second = retry_at(2, 3, 60).expect("third attempt");
        assert!(first - now >= chrono::Duration::seconds(59));
        assert!(second - now >= chrono::Duration::seconds(119));
        assert_eq!(retry_at(3, 3, 60), None);
    }

    #[test]
    fn channel_payloads() {
        let d = IncidentDoc {
            id: 7,
            application: "shop",
            title: "SQL injection in GET /p (query.c)",
            severity: "critical",
            class: "sqli",
            endpoint: "GET /p".into(),
            point: "query.c",
            payload: "' or 1=1",
            summary: "true and false conditions differ",
            curl: "curl 'http://x/p?c=1'",
            remediation: "Use bound parameters.",
        };
        let ch = |kind, project: Option<&str>| NotifyChannel {
            name: "c".into(),
            kind,
            url: "http://127.0.0.1:1/".into(),
            authorization: None,
            project: project.map(str::to_owned),
            issue_type: None,
        };
        let w = payload_for(&ch(NotifyKind::Webhook, None), &d);
        assert_eq!(w["event"], "incident.opened");
        assert_eq!(w["incident"]["id"], 7);
        let s = payload_for(&ch(NotifyKind::Slack, None), &d);
        assert!(s["text"]
            .as_str()
            .is_some_and(|t| t.contains("SQL injection")));
        assert!(s["blocks"].as_array().is_some_and(|b| b.len() == 4));
        let j = payload_for(&ch(NotifyKind::Jira, Some("SEC")), &d);
        assert_eq!(j["fields"]["project"]["key"], "SEC");
        assert_eq!(j["fields"]["issuetype"]["name"], "Bug");
        assert_eq!(j["fields"]["priority"]["name"], "Highest");
        assert!(j["fields"]["description"]
            .as_str()
            .is_some_and(|t| t.contains("curl")));
    }
}
