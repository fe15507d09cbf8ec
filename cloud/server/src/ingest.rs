//! Batches into the store: validation, merging of the aggregates into the
//! stored ones, attack events. One store transaction per batch, so that a
//! batch is counted once or not at all.

use std::collections::{BTreeMap, BTreeSet};

use rampart_store::chrono::DateTime;
use rampart_store::serde_json::Value;
use rampart_store::{NewAttackEvent, NewClientWindow, Store, Timestamp};
use rampart_telemetry::shape::CHAR_CLASSES;
use rampart_telemetry::sketch::LOG_BUCKETS;
use rampart_telemetry::{AttackEvent, Batch, ClientStats, EndpointStats, LogHistogram, PointStats};
use tracing::warn;

/// Longest method, path shape, point and request id a batch may carry.
const MAX_METHOD: usize = 32;
const MAX_PATH: usize = 4096;
const MAX_POINT: usize = 4096;
const MAX_REQUEST_ID: usize = 256;
const MAX_NAME: usize = 256;
/// Longest payload stored (the node cuts them to 512 bytes already).
const MAX_PAYLOAD: usize = 4096;
/// Distinct media types kept per endpoint.
const MAX_CONTENT_TYPES: usize = 64;

/// Checks what the store relies on; the message goes back to the node.
pub(crate) fn validate(b: &Batch) -> Result<(), String> {
    if b.version != rampart_telemetry::batch::BATCH_VERSION {
        return Err(format!(
            "batch version {} is not supported (this cloud reads version {})",
            b.version,
            rampart_telemetry::batch::BATCH_VERSION
        ));
    }
    if i64::try_from(b.seq).is_err() {
        return Err("seq is out of range".into());
    }
    for e in &b.endpoints {
        if e.method.is_empty()
            || e.method.len() > MAX_METHOD
            || !e.method.bytes().all(|c| c.is_ascii_graphic())
        {
            return Err("an endpoint's method must be 1 to 32 visible characters".into());
        }
        if e.path.trim().is_empty() || e.path.len() > MAX_PATH {
            return Err("an endpoint's path must be 1 to 4096 bytes".into());
        }
        for p in &e.points {
            if p.point.trim().is_empty() || p.point.len() > MAX_POINT {
                return Err("a point's path must be 1 to 4096 bytes".into());
            }
        }
    }
    for c in &b.clients {
        if c.client.is_empty() || c.client.len() > MAX_NAME {
            return Err("a client's key must be 1 to 256 bytes".into());
        }
        if c.kind != "ip" && c.kind != "session" {
            return Err(format!(
                "a client's kind must be ip or session, not {:?}",
                c.kind
            ));
        }
        if c.endpoints
            .keys()
            .chain(c.transitions.keys())
            .any(|k| k.len() > MAX_PATH)
        {
            return Err("a client's endpoint or transition is too long".into());
        }
    }
    for a in &b.attacks {
        if a.request_id.len() > MAX_REQUEST_ID {
            return Err("an attack's request id is longer than 256 bytes".into());
        }
        let names = [a.method.as_str(), a.action.as_str()]
            .into_iter()
            .chain(a.class.as_deref())
            .chain(a.rule.as_deref())
            .chain(
                a.findings
                    .iter()
                    .flat_map(|f| [f.class.as_str(), f.rule.as_str()]),
            );
        for n in names {
            if n.len() > MAX_NAME {
                return Err("an attack's method, action, class or rule is too long".into());
            }
        }
        if a.endpoint.len() > MAX_PATH || a.findings.iter().any(|f| f.point.len() > MAX_POINT) {
            return Err("an attack's endpoint or point is too long".into());
        }
    }
    Ok(())
}

/// What ingesting a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ingested {
    /// False: the (node, seq) was already ingested and nothing changed.
    pub accepted: bool,
    pub endpoints: usize,
    pub points: usize,
    pub events: u64,
}

/// Ingests a validated batch of `node_id` (of `application_id`) in one
/// transaction.
pub(crate) async fn ingest(
    store: &Store,
    application_id: i64,
    node_id: i64,
    batch: Batch,
    size: usize,
) -> rampart_store::Result<Ingested> {
    let seq = i64::try_from(batch.seq)
        .map_err(|_| rampart_store::Error::Invalid("seq is out of range".into()))?;
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    let events = attack_rows(&batch.attacks);
    let windows = client_rows(&batch);
    let traffic = rampart_store::TrafficCounts {
        requests: clamp_i64(batch.requests),
        blocked: clamp_i64(batch.blocked),
        monitored: clamp_i64(batch.monitored),
        attacks: clamp_i64((batch.attacks.len() as u64).saturating_add(batch.attacks_dropped)),
    };
    let minute = clamp_i64(batch.window_start);
    let endpoints = group(batch.endpoints);
    let ing = store.begin_ingest().await?;
    if !ing.record_metric_batch(node_id, seq, size).await? {
        ing.rollback().await?;
        return Ok(Ingested {
            accepted: false,
            endpoints: 0,
            points: 0,
            events: 0,
        });
    }
    // Every upload adds to the same minute row first, then merges its
    // endpoints in a stable order (no lock-order inversion between uploads).
    ing.add_traffic(application_id, minute, traffic).await?;
    let mut n_points = 0;
    let n_endpoints = endpoints.len();
    // Sorted by (method, path), then by point: two uploads merging the same
    // rows lock them in the same order (no deadlock on PostgreSQL).
    for ((method, path), (ep, points)) in endpoints {
        let row = ing
            .upsert_endpoint_stats(application_id, &method, &path, |old| {
                merged_endpoint(old, &ep)
            })
            .await?;
        for (point, ps) in points {
            ing.upsert_parameter_stats(row.id, &point, |old| merged_point(old, &ps))
                .await?;
            n_points += 1;
        }
    }
    let n_events = ing.insert_attack_events(node_id, &events).await?;
    ing.insert_client_windows(application_id, node_id, &windows)
        .await?;
    ing.commit().await?;
    Ok(Ingested {
        accepted: true,
        endpoints: n_endpoints,
        points: n_points,
        events: n_events,
    })
}

fn clamp_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

type Grouped = BTreeMap<(String, String), (EndpointStats, BTreeMap<String, PointStats>)>;

/// The batch's endpoints by (upper-case method, path), and their points by
/// path; an endpoint or point listed twice is merged first.
fn group(endpoints: Vec<EndpointStats>) -> Grouped {
    let mut out: Grouped = BTreeMap::new();
    for mut e in endpoints {
        let key = (e.method.to_ascii_uppercase(), e.path.clone());
        let points = std::mem::take(&mut e.points);
        let slot = out.entry(key).or_insert_with(|| {
            (
                EndpointStats {
                    method: e.method.to_ascii_uppercase(),
                    path: e.path.clone(),
                    ..EndpointStats::default()
                },
                BTreeMap::new(),
            )
        });
        merge_endpoint(&mut slot.0, &e);
        for p in points {
            let ps = slot.1.entry(p.point.clone()).or_insert_with(|| PointStats {
                point: p.point.clone(),
                ..PointStats::default()
            });
            merge_point(ps, &p);
        }
    }
    out
}

/// The store's rows for the batch's per-client aggregates: one per client
/// key, with the batch's window (the behaviour layer reads them back by
/// time).
fn client_rows(b: &Batch) -> Vec<NewClientWindow> {
    let start = i64::try_from(b.window_start).unwrap_or(i64::MAX);
    let end = i64::try_from(b.window_end).unwrap_or(i64::MAX);
    b.clients
        .iter()
        .map(|c: &ClientStats| NewClientWindow {
            window_start: start,
            window_end: end,
            client: c.client.clone(),
            kind: c.kind.clone(),
            stats: serde_json::to_string(c).unwrap_or_default(),
        })
        .collect()
}

/// The stored statistics of an endpoint (an [`EndpointStats`] without
/// points: those are the parameters' rows) with `new` merged in.
fn merged_endpoint(old: Option<Value>, new: &EndpointStats) -> Value {
    let mut cur: EndpointStats = stored(old, "endpoint");
    cur.method.clone_from(&new.method);
    cur.path.clone_from(&new.path);
    cur.points.clear();
    merge_endpoint(&mut cur, new);
    to_json(&cur)
}

/// The stored statistics of a point with `new` merged in.
fn merged_point(old: Option<Value>, new: &PointStats) -> Value {
    let mut cur: PointStats = stored(old, "parameter");
    cur.point.clone_from(&new.point);
    merge_point(&mut cur, new);
    to_json(&cur)
}

/// Reads stored statistics; a document this version cannot read (written
/// by another version, or by hand) is started afresh, with a log line.
fn stored<T: serde::de::DeserializeOwned + Default>(old: Option<Value>, what: &str) -> T {
    match old {
        None | Some(Value::Null) => T::default(),
        Some(v) => serde_json::from_value(v).unwrap_or_else(|e| {
            warn!(error = %e, "stored {what} statistics are unreadable; starting them afresh");
            T::default()
        }),
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| {
        warn!(error = %e, "statistics could not be serialised");
        Value::Null
    })
}

/// Counts add (saturating: a node's numbers are not trusted to stay in
/// range), histograms add bucket-wise.
fn merge_endpoint(a: &mut EndpointStats, b: &EndpointStats) {
    a.requests = a.requests.saturating_add(b.requests);
    a.blocked = a.blocked.saturating_add(b.blocked);
    for (status, n) in &b.statuses {
        let c = a.statuses.entry(*status).or_insert(0);
        *c = c.saturating_add(*n);
    }
    merge_histogram(&mut a.latency_us, &b.latency_us);
    for (ct, n) in &b.content_types {
        if a.content_types.len() >= MAX_CONTENT_TYPES && !a.content_types.contains_key(ct) {
            continue;
        }
        let c = a.content_types.entry(ct.clone()).or_insert(0);
        *c = c.saturating_add(*n);
    }
    a.points_dropped = a.points_dropped.saturating_add(b.points_dropped);
}

/// Counts, histograms, character classes and format votes add; distinct
/// sketches take the register-wise maximum.
fn merge_point(a: &mut PointStats, b: &PointStats) {
    a.count = a.count.saturating_add(b.count);
    merge_histogram(&mut a.length, &b.length);
    let classes = b.chars.len().min(CHAR_CLASSES.len());
    if a.chars.len() < classes {
        a.chars.resize(classes, 0);
    }
    for (x, y) in a.chars.iter_mut().zip(&b.chars) {
        *x = x.saturating_add(*y);
    }
    for (f, n) in &b.formats {
        let c = a.formats.entry(*f).or_insert(0);
        *c = c.saturating_add(*n);
    }
    a.distinct.merge(&b.distinct);
}

/// [`LogHistogram::merge`] with saturating counts, and with buckets past
/// the last one a histogram can have folded into it.
fn merge_histogram(a: &mut LogHistogram, b: &LogHistogram) {
    for (i, n) in b.buckets.iter().enumerate() {
        let i = i.min(LOG_BUCKETS - 1);
        if a.buckets.len() <= i {
            a.buckets.resize(i + 1, 0);
        }
        a.buckets[i] = a.buckets[i].saturating_add(*n);
    }
}

/// The store's rows for the batch's attack events: one per rule, for each
/// event: the strongest finding of each rule (point, class, score and
/// payload), and the deciding rule when no finding is its own (a rule of
/// the rule language that decided on the detectors' findings, a rate
/// limit). Deduplicated by (node, request id, rule) in the store.
fn attack_rows(events: &[AttackEvent]) -> Vec<NewAttackEvent> {
    let mut rows: Vec<NewAttackEvent> = Vec::new();
    for a in events {
        let occurred = occurred_at(a.time);
        let endpoint = format!("{} {}", a.method, a.endpoint);
        let mut seen = BTreeSet::new();
        // Where each rule's row is, to sharpen its point.
        let mut at: BTreeMap<&str, usize> = BTreeMap::new();
        // Findings come strongest first.
        for f in &a.findings {
            if !seen.insert(f.rule.as_str()) {
                // The same rule on a point below the one kept (the whole
                // query string, then its parameter) names where the
                // payload went more precisely: the scanner needs that.
                if let Some(row) = at.get(f.rule.as_str()).and_then(|&i| rows.get_mut(i)) {
                    if is_below(&f.point, &row.point) {
                        row.point = f.point.clone();
                        row.payload = cut(&f.payload, MAX_PAYLOAD);
                    }
                }
                continue;
            }
            at.insert(f.rule.as_str(), rows.len());
            rows.push(NewAttackEvent {
                occurred_at: occurred,
                endpoint: endpoint.clone(),
                point: f.point.clone(),
                class: f.class.clone(),
                rule: f.rule.clone(),
                score: i32::from(f.score),
                action: a.action.clone(),
                payload: cut(&f.payload, MAX_PAYLOAD),
                request_id: a.request_id.clone(),
            });
        }
        let decider = a.rule.as_deref().unwrap_or("");
        if (!decider.is_empty() && !seen.contains(decider)) || seen.is_empty() {
            rows.push(NewAttackEvent {
                occurred_at: occurred,
                endpoint,
                point: String::new(),
                class: a.class.clone().unwrap_or_default(),
                rule: decider.to_owned(),
                score: i32::try_from(a.score).unwrap_or(i32::MAX),
                action: a.action.clone(),
                payload: String::new(),
                request_id: a.request_id.clone(),
            });
        }
    }
    rows
}

/// Whether request point `p` is a descendant of `parent` (`query.q` of
/// `query`, `body:json.a` of `body`).
fn is_below(p: &str, parent: &str) -> bool {
    p.strip_prefix(parent)
        .and_then(|rest| rest.bytes().next())
        .is_some_and(|b| matches!(b, b'.' | b'[' | b':'))
}

fn occurred_at(unix: u64) -> Timestamp {
    i64::try_from(unix)
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .unwrap_or_else(rampart_store::chrono::Utc::now)
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_telemetry::{Distinct, FindingEvent, Format};

    fn point(name: &str, n: u64) -> PointStats {
        let mut length = LogHistogram::default();
        length.add(5);
        let mut distinct = Distinct::default();
        distinct.add_hash(n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        PointStats {
            point: name.into(),
            count: n,
            length,
            chars: vec![1; CHAR_CLASSES.len()],
            formats: [(Format::Int, n)].into_iter().collect(),
            distinct,
        }
    }

    #[test]
    fn merges_add_and_stay_in_range() {
        let mut a = point("query.q", 2);
        let mut b = point("query.q", 3);
        b.length.buckets = vec![u64::MAX; LOG_BUCKETS + 5];
        b.chars.push(7);
        merge_point(&mut a, &b);
        assert_eq!(a.count, 5);
        assert_eq!(a.length.buckets.len(), LOG_BUCKETS);
        assert_eq!(a.length.buckets[LOG_BUCKETS - 1], u64::MAX);
        assert_eq!(a.chars, vec![2; CHAR_CLASSES.len()]);
        assert_eq!(a.formats.get(&Format::Int), Some(&5));
        assert!(a.distinct.estimate() > 1.5);
    }

    #[test]
    fn stored_json_round_trips_and_merges() {
        let p = point("query.q", 2);
        let once = merged_point(None, &p);
        let twice = merged_point(Some(once.clone()), &p);
        let back: PointStats = serde_json::from_value(twice).expect("reads back");
        assert_eq!(back.count, 4);
        assert_eq!(back.length.count(), 2);
        // Unreadable stored statistics start afresh.
        let fresh = merged_point(Some(serde_json::json!({"count": "x"})), &p);
        let back: PointStats = serde_json::from_value(fresh).expect("reads back");
        assert_eq!(back.count, 2);
    }

    #[test]
    fn groups_duplicates() {
        let e = |m: &str| EndpointStats {
            method: m.into(),
            path: "/a".into(),
            requests: 1,
            points: vec![point("query.q", 1), point("query.q", 1)],
            ..EndpointStats::default()
        };
        let g = group(vec![e("get"), e("GET")]);
        assert_eq!(g.len(), 1);
        let (ep, points) = &g[&("GET".to_string(), "/a".to_string())];
        assert_eq!(ep.requests, 2);
        assert_eq!(points["query.q"].count, 4);
    }

    #[test]
    fn attack_rows_one_per_rule_and_the_decider() {
        let f = |rule: &str, point: &str| FindingEvent {
            class: "sqli".into(),
            rule: rule.into(),
            score: 60,
            point: point.into(),
            in_: "value".into(),
            payload: "' or 1=1".into(),
        };
        let a = AttackEvent {
            time: 1_764_331_200,
            request_id: "r1".into(),
            method: "GET".into(),
            endpoint: "/search".into(),
            action: "block".into(),
            status: 403,
            class: Some("sqli".into()),
            rule: Some("search-sqli".into()),
            score: 60,
            findings: vec![
                f("sqli.tautology", "query.q"),
                f("sqli.tautology", "query.r"),
            ],
            ..AttackEvent::default()
        };
        let rows = attack_rows(std::slice::from_ref(&a));
        let rules: Vec<&str> = rows.iter().map(|r| r.rule.as_str()).collect();
        assert_eq!(rules, ["sqli.tautology", "search-sqli"]);
        assert_eq!(rows[0].point, "query.q");
        // A rule found on the whole query string and then on a parameter
        // keeps the parameter.
        let sharpened = AttackEvent {
            findings: vec![f("sqli.tautology", "query"), f("sqli.tautology", "query.q")],
            ..a.clone()
        };
        assert_eq!(attack_rows(&[sharpened])[0].point, "query.q");
        assert!(is_below("body:json.a", "body"));
        assert!(!is_below("query2", "query"));
        assert_eq!(rows[0].endpoint, "GET /search");
        let bare = AttackEvent {
            findings: vec![],
            rule: None,
            ..a
        };
        assert_eq!(attack_rows(&[bare]).len(), 1);
        assert_eq!(cut("héllo", 2), "h");
    }
}
