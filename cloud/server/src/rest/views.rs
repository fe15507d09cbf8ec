//! The JSON shapes of the REST API's objects.

use rampart_store::chrono::{DateTime, SecondsFormat, Utc};
use rampart_store::entity::{attack_event, incident, node, rule, scan_job};
use rampart_store::sea_orm::ActiveEnum;
use serde_json::{json, Value};

/// Heartbeats newer than this: the node is `ok`; up to [`STALE_SECS`]:
/// `stale`; older: `down`.
pub(crate) const HEALTHY_SECS: i64 = 120;
pub(crate) const STALE_SECS: i64 = 900;

/// A stored enumeration's name (role, rule state, incident status, ...), as
/// the store writes it.
pub(crate) fn name<E: ActiveEnum<Value = String>>(e: E) -> String {
    e.to_value()
}

/// A stored enumeration from its name; `None` for an unknown one.
pub(crate) fn parse<E: ActiveEnum<Value = String>>(s: &str) -> Option<E> {
    E::try_from_value(&s.to_owned()).ok()
}

/// RFC 3339, seconds, `Z`.
pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// RFC 3339 of Unix seconds.
pub(crate) fn unix_time(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0).map_or_else(String::new, time)
}

pub(crate) fn user_json(u: &rampart_store::entity::user::Model) -> Value {
    json!({"id": u.id, "name": u.name, "role": name(u.role), "created_at": time(u.created_at)})
}

pub(crate) fn attack_json(a: &attack_event::Model, node: &str) -> Value {
    json!({
        "id": a.id, "occurred_at": time(a.occurred_at), "received_at": time(a.received_at),
        "node": node, "node_id": a.node_id, "endpoint": a.endpoint, "point": a.point,
        "class": a.class, "rule": a.rule, "score": a.score, "action": a.action,
        "payload": a.payload, "request_id": a.request_id,
    })
}

/// An incident; `endpoint` is the endpoint's `METHOD template` when known.
pub(crate) fn incident_json(i: &incident::Model, endpoint: Option<String>) -> Value {
    json!({
        "id": i.id, "title": i.title, "severity": name(i.severity),
        "status": name(i.status), "endpoint": endpoint, "point": i.point,
        "payload": i.payload, "created_at": time(i.created_at), "updated_at": time(i.updated_at),
    })
}

pub(crate) fn rule_json(r: &rule::Model) -> Value {
    json!({
        "id": r.rule_id, "source": r.source,
        "origin": name(r.origin),
        "state": name(r.state), "explanation": r.explanation, "confidence": r.confidence,
        "created_at": time(r.created_at), "updated_at": time(r.updated_at),
    })
}

pub(crate) fn scan_job_json(j: &scan_job::Model, endpoint: Option<String>) -> Value {
    json!({
        "id": j.id, "state": name(j.state), "class": j.class,
        "point": j.point, "endpoint_id": j.endpoint_id, "endpoint": endpoint,
        "payload_family": j.payload_family, "attempts": j.attempts, "last_error": j.last_error,
        "created_at": time(j.created_at), "updated_at": time(j.updated_at),
    })
}

/// `ok`, `stale`, `down` or `never` from the last heartbeat.
pub(crate) fn health(n: &node::Model, now: DateTime<Utc>) -> &'static str {
    match n.last_heartbeat_at {
        None => "never",
        Some(t) => match (now - t).num_seconds() {
            s if s <= HEALTHY_SECS => "ok",
            s if s <= STALE_SECS => "stale",
            _ => "down",
        },
    }
}

pub(crate) fn node_json(n: &node::Model, now: DateTime<Utc>) -> Value {
    json!({
        "id": n.id, "name": n.name, "version": n.version,
        "rule_pack_version": n.rule_pack_version,
        "last_heartbeat_at": n.last_heartbeat_at.map(time),
        "health": health(n, now), "enrolled_at": time(n.enrolled_at),
        "counters": n.counters_json().unwrap_or(Value::Null),
    })
}

/// A request-point path (`spec/request-points.md` section 1) as the rows of
/// a tree from the request root down to the point, the last carrying
/// `payload`. A path that does not follow the syntax is shown as one row.
pub(crate) fn point_tree(point: &str, payload: &str) -> Vec<Value> {
    let mut rows = vec![json!({"depth": 0, "label": "request", "kind": "root"})];
    let steps = parse_point(point).unwrap_or_else(|| vec![("point", point.to_owned())]);
    let n = steps.len();
    for (i, (kind, label)) in steps.into_iter().enumerate() {
        let mut row = json!({"depth": i + 1, "label": label, "kind": kind});
        if i + 1 == n {
            row["payload"] = json!(payload);
        }
        rows.push(row);
    }
    if n == 0 {
        rows[0]["payload"] = json!(payload);
    }
    rows
}

/// `(kind, label)` per step: the source, then members, indexes and
/// decoders (layers).
fn parse_point(p: &str) -> Option<Vec<(&'static str, String)>> {
    let b = p.as_bytes();
    let ident_end = |from: usize| {
        let mut i = from;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
            i += 1;
        }
        i
    };
    let mut i = ident_end(0);
    if i == 0 {
        return None;
    }
    let mut out = vec![("source", p[..i].to_owned())];
    while i < b.len() {
        match b[i] {
            b'.' | b':' => {
                let kind = if b[i] == b'.' { "member" } else { "decoder" };
                let end = ident_end(i + 1);
                if end == i + 1 {
                    return None;
                }
                out.push((kind, p[i + 1..end].to_owned()));
                i = end;
            }
            b'[' if b.get(i + 1) == Some(&b'"') => {
                let mut j = i + 2;
                let mut name = String::new();
                loop {
                    match b.get(j)? {
                        b'\\' => {
                            let c = *b.get(j + 1)?;
                            if c == b'x' {
                                let hex = p.get(j + 2..j + 4)?;
                                name.push(char::from(u8::from_str_radix(hex, 16).ok()?));
                                j += 4;
                            } else {
                                name.push(char::from(c));
                                j += 2;
                            }
                        }
                        b'"' => break,
                        _ => {
                            let ch = p[j..].chars().next()?;
                            name.push(ch);
                            j += ch.len_utf8();
                        }
                    }
                }
                if b.get(j + 1) != Some(&b']') {
                    return None;
                }
                out.push(("member", name));
                i = j + 2;
            }
            b'[' => {
                let close = i + p[i..].find(']')?;
                let idx = &p[i + 1..close];
                if idx.is_empty() || !idx.bytes().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                out.push(("index", idx.to_owned()));
                i = close + 1;
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(p: &str) -> Vec<(String, String)> {
        point_tree(p, "x")
            .iter()
            .map(|r| {
                (
                    r["kind"].as_str().unwrap_or("").to_owned(),
                    r["label"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn point_paths_become_trees() {
        let t = labels(r#"body:multipart.doc:base64:xml.o.n:json["a b"][2]"#);
        let want = [
            ("root", "request"),
            ("source", "body"),
            ("decoder", "multipart"),
            ("member", "doc"),
            ("decoder", "base64"),
            ("decoder", "xml"),
            ("member", "o"),
            ("member", "n"),
            ("decoder", "json"),
            ("member", "a b"),
            ("index", "2"),
        ];
        assert_eq!(
            t,
            want.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        );
        let tree = point_tree("query.q", "' or 1=1");
        assert_eq!(
            tree.last().and_then(|r| r["payload"].as_str()),
            Some("' or 1=1")
        );
        assert_eq!(labels(r#"header["user-agent"]"#)[2].1, "user-agent");
        assert_eq!(labels(r#"header["a\"b\x41"]"#)[2].1, "a\"bA");
    }

    #[test]
    fn odd_paths_are_one_row() {
        for p in ["", "query..q", "query[x]", "query[\"open", "!"] {
            let t = point_tree(p, "v");
            assert_eq!(t.len(), 2, "{p}");
            assert_eq!(t[1]["payload"], "v");
        }
    }
}
