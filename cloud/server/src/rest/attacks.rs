//! Attack events: search, detail (the request-point tree, what it led
//! to), false positives turned into exception rules, SIEM exports.

use std::collections::HashMap;
use std::fmt::Write as _;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use rampart_store::entity::{attack_event, RuleOrigin};
use rampart_store::AttackQuery;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tracing::info;

use super::inventory::endpoint_names;
use super::rules::{cloud_error, publish_now};
use super::views::{attack_json, incident_json, name, point_tree, rule_json, scan_job_json};
use super::{not_found, ok, path_id, Call, Cx};
use crate::api::{json_response, ApiError, ApiResult, Body};

/// Node id -> name, of an application.
async fn node_names(cx: &Cx, app_id: i64) -> Result<HashMap<i64, String>, ApiError> {
    Ok(cx
        .st
        .store
        .list_nodes(app_id)
        .await?
        .into_iter()
        .map(|n| (n.id, n.name))
        .collect())
}

/// `GET /api/v1/apps/{app}/attacks?q=&class=&action=&before=&limit=`.
pub(crate) async fn list(cx: &Cx, call: &Call, app: &str) -> ApiResult {
    let a = cx.app(app).await?;
    let limit = call.number("limit")?.unwrap_or(50).clamp(1, 500) as u64;
    let q = AttackQuery {
        text: call.param("q"),
        class: call.param("class"),
        action: call.param("action"),
        before: call.number("before")?,
        limit,
    };
    let rows = cx.st.store.search_attack_events(a.id, &q).await?;
    let nodes = node_names(cx, a.id).await?;
    let next = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let items: Vec<Value> = rows
        .iter()
        .map(|r| attack_json(r, nodes.get(&r.node_id).map_or("", String::as_str)))
        .collect();
    ok(&json!({"items": items, "next_before": next}))
}

async fn find(cx: &Cx, id: &str) -> Result<attack_event::Model, ApiError> {
    let id = path_id(id)?;
    cx.st
        .store
        .attack_event(id)
        .await?
        .ok_or_else(|| not_found(format!("no attack {id}")))
}

/// `GET /api/v1/attacks/{id}`: the event, its point as a tree, the scan
/// jobs of its class at the same endpoint and point (the jobs it led to,
/// or the earlier ones that took in events like it), the incidents at that
/// endpoint and point, and the exception rule made from it, if any.
pub(crate) async fn detail(cx: &Cx, id: &str) -> ApiResult {
    let e = find(cx, id).await?;
    let store = &cx.st.store;
    let nodes = node_names(cx, e.application_id).await?;
    let names = endpoint_names(cx, e.application_id).await?;
    let endpoint_ids: Vec<i64> = names
        .iter()
        .filter(|(_, n)| **n == e.endpoint)
        .map(|(id, _)| *id)
        .collect();
    let jobs: Vec<Value> = store
        .recent_scan_jobs(e.application_id, Some((&endpoint_ids, &e.point)), 100)
        .await?
        .iter()
        .filter(|j| j.class == e.class)
        .map(|j| scan_job_json(j, names.get(&j.endpoint_id).cloned()))
        .collect();
    let incidents: Vec<Value> = store
        .list_incidents(e.application_id, None)
        .await?
        .iter()
        .filter(|i| {
            i.endpoint_id.is_some_and(|x| endpoint_ids.contains(&x))
                && i.point.as_deref() == Some(e.point.as_str())
        })
        .map(|i| incident_json(i, i.endpoint_id.and_then(|x| names.get(&x).cloned())))
        .collect();
    let exception = store
        .rule(e.application_id, &exception_id(&e))
        .await?
        .map(|r| json!({"rule_id": r.rule_id, "state": name(r.state)}));
    ok(&json!({
        "attack": attack_json(&e, nodes.get(&e.node_id).map_or("", String::as_str)),
        "tree": point_tree(&e.point, &e.payload),
        "scan_jobs": jobs,
        "incidents": incidents,
        "exception": exception,
    }))
}

/// The id of the exception rule for an event's (endpoint, point, class,
/// and the rule for an event a rule decided): the same for every event of
/// that kind, so marking twice is a conflict.
fn exception_id(e: &attack_event::Model) -> String {
    let mut h = Sha256::new();
    for part in [&e.endpoint, &e.point, &e.class, &e.rule] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    let kind = if e.class.is_empty() { "rule" } else { &e.class };
    let kind: String = kind
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .take(32)
        .collect();
    let mut id = format!("fp-{kind}-");
    for b in &digest[..5] {
        let _ = write!(id, "{b:02x}");
    }
    id
}

/// The point an exception names: the event's point up to its first step
/// the node generalised (`{word}`, `[*]`: a member name too few clients
/// sent, or an index), since the exception covers the point and what is
/// below it. `None` when nothing is left.
fn exception_point(point: &str) -> Option<&str> {
    let cut = point.find(['{', '*']).unwrap_or(point.len());
    let p = point[..cut].trim_end_matches(['.', ':', '[', '"']);
    (!p.is_empty()).then_some(p)
}

/// The exception rule's source, on the event's method and endpoint only:
/// for a detector's finding, its class at its point; for a rule's
/// decision (no class), that rule.
pub(crate) fn exception_source(
    id: &str,
    e: &attack_event::Model,
    by: &str,
    note: &str,
) -> Result<String, ApiError> {
    let action = if !e.class.is_empty() {
        match exception_point(&e.point) {
            Some(p) => format!("allow(class = {}, point = {p})", e.class),
            None => format!("allow(class = {})", e.class),
        }
    } else if !e.rule.is_empty() {
        format!("allow(rules = [\"{}\"])", plain(&e.rule))
    } else {
        return Err(ApiError::bad_request(
            "this event names neither a class nor a rule: there is nothing to except",
        ));
    };
    let (method, path) = e
        .endpoint
        .split_once(' ')
        .unwrap_or(("", e.endpoint.as_str()));
    let what = if e.class.is_empty() {
        format!("rule {}", e.rule)
    } else {
        format!("{} at {}", e.class, e.point)
    };
    let title = plain(&format!(
        "False positive: {what} on {} (attack {}, marked by {by})",
        e.endpoint, e.id
    ));
    let mut s = format!("rule {id} \"{title}\" {{\n    tags exception, false_positive\n");
    if !note.trim().is_empty() {
        let _ = writeln!(s, "    # {}", plain(note.lines().next().unwrap_or("")));
    }
    if !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase()) {
        let _ = writeln!(s, "    method {method}");
    }
    if path.starts_with('/') {
        let _ = writeln!(s, "    endpoint \"{}\"", template_of(path));
    }
    let _ = writeln!(s, "    then {action}\n}}");
    Ok(s)
}

/// A node's path shape (`/users/{int}/orders/{uuid}`) as an endpoint
/// template with distinct parameter names (`{p1}`, `{p2}`).
fn template_of(shape: &str) -> String {
    let mut out = String::with_capacity(shape.len());
    let mut n = 0;
    let mut rest = shape;
    while let Some(start) = rest.find('{') {
        out.push_str(&plain(&rest[..start]));
        match rest[start..].find('}') {
            Some(end) => {
                n += 1;
                let _ = write!(out, "{{p{n}}}");
                rest = &rest[start + end + 1..];
            }
            None => {
                rest = &rest[start + 1..];
            }
        }
    }
    out.push_str(&plain(rest));
    out
}

/// Text safe inside a rule-language string or comment: no quotes,
/// backslashes or control characters.
fn plain(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '"' || c == '\\' || c.is_control() {
                '\''
            } else {
                c
            }
        })
        .take(200)
        .collect()
}

#[derive(Deserialize, Default)]
struct FalsePositive {
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/attacks/{id}/false-positive` (admin): an exception rule
/// (the class at this point on this endpoint), stored blocking (in force
/// at once) and published in a pack now.
pub(crate) async fn false_positive(cx: &Cx, call: &Call, id: &str) -> ApiResult {
    cx.admin()?;
    let body: FalsePositive = call.json()?;
    let e = find(cx, id).await?;
    let app = cx
        .st
        .store
        .application(e.application_id)
        .await?
        .ok_or_else(|| not_found("the attack's application is gone"))?;
    let rule_id = exception_id(&e);
    if cx.st.store.rule(app.id, &rule_id).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("the exception {rule_id} for this endpoint, point and class exists already"),
        ));
    }
    let source = exception_source(&rule_id, &e, &cx.who.user.name, &body.note)?;
    let handle = crate::CloudHandle {
        inner: cx.st.clone(),
    };
    let mut why = format!(
        "{} marked attack {} ({} at {} on {}) a false positive",
        cx.who.user.name, e.id, e.class, e.point, e.endpoint
    );
    if !body.note.trim().is_empty() {
        why.push_str(": ");
        why.push_str(body.note.trim());
    }
    let rule = handle
        .put_rule_explained(&app.name, &rule_id, &source, RuleOrigin::Custom, Some(&why))
        .await
        .map_err(cloud_error)?;
    info!(by = %cx.who.user.name, attack = e.id, rule = %rule_id, "false positive: exception rule created");
    let version = publish_now(cx, &app.name).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"rule": rule_json(&rule), "pack": version.map(|v| json!({"version": v}))}),
    ))
}

/// `GET /api/v1/apps/{app}/attacks/export?format=jsonl|syslog&since=ID&limit=N`:
/// events with an id above `since`, oldest first, one per line.
pub(crate) async fn export(cx: &Cx, call: &Call, app: &str) -> ApiResult {
    let a = cx.app(app).await?;
    let format = call.param("format").unwrap_or("jsonl");
    if !matches!(format, "jsonl" | "syslog") {
        return Err(ApiError::bad_request("format: jsonl or syslog"));
    }
    let since = call.number("since")?.unwrap_or(0);
    let limit = call.number("limit")?.unwrap_or(1000).clamp(1, 10_000) as u64;
    let rows = cx
        .st
        .store
        .attack_events_of_after(a.id, since, limit)
        .await?;
    let nodes = node_names(cx, a.id).await?;
    let mut out = String::new();
    for r in &rows {
        let node = nodes.get(&r.node_id).map_or("", String::as_str);
        if format == "jsonl" {
            let mut v = attack_json(r, node);
            v["application"] = json!(a.name);
            out.push_str(&v.to_string());
        } else {
            out.push_str(&syslog_line(r, &a.name, node));
        }
        out.push('\n');
    }
    let mut resp = Response::new(Body::new(Bytes::from(out)));
    let ct = if format == "jsonl" {
        "application/x-ndjson"
    } else {
        "text/plain; charset=utf-8"
    };
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Some(last) = rows.last() {
        if let Ok(v) = HeaderValue::from_str(&last.id.to_string()) {
            resp.headers_mut().insert("x-rampart-last-id", v);
        }
    }
    Ok(resp)
}

/// An RFC 5424 line: facility local0 (16), severity warning (4) for a
/// block and notice (5) otherwise; the event as structured data.
fn syslog_line(r: &attack_event::Model, app: &str, node: &str) -> String {
    let pri = 16 * 8 + if r.action == "block" { 4 } else { 5 };
    let ts = r
        .occurred_at
        .to_rfc3339_opts(rampart_store::chrono::SecondsFormat::Micros, true);
    let host = sd_name(node);
    let mut sd = String::from("[rampart@53595");
    for (k, v) in [
        ("id", r.id.to_string()),
        ("app", app.to_owned()),
        ("endpoint", r.endpoint.clone()),
        ("point", r.point.clone()),
        ("class", r.class.clone()),
        ("rule", r.rule.clone()),
        ("score", r.score.to_string()),
        ("action", r.action.clone()),
        ("request_id", r.request_id.clone()),
    ] {
        let _ = write!(sd, " {k}=\"{}\"", sd_value(&v));
    }
    sd.push(']');
    format!(
        "<{pri}>1 {ts} {host} rampart - attack {sd} {} {} {}: {}",
        r.action,
        r.class,
        r.endpoint,
        one_line(&r.payload)
    )
}

/// An RFC 5424 header field: printable ASCII without spaces, `-` if empty.
fn sd_name(s: &str) -> String {
    let v: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(255)
        .collect();
    if v.is_empty() {
        "-".into()
    } else {
        v
    }
}

/// An SD-PARAM value: `"`, `\` and `]` escaped, line breaks as spaces.
fn sd_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in one_line(s).chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_store::chrono::{TimeZone, Utc};

    fn event() -> attack_event::Model {
        let t = Utc
            .with_ymd_and_hms(2026, 11, 29, 3, 0, 0)
            .single()
            .unwrap_or_default();
        attack_event::Model {
            id: 42,
            application_id: 1,
            node_id: 1,
            occurred_at: t,
            endpoint: "GET /users/{int}/orders/{uuid}".into(),
            point: "query.q".into(),
            class: "sqli".into(),
            rule: "sqli".into(),
            score: 90,
            action: "block".into(),
            payload: "' or \"1\"]=1\n--".into(),
            request_id: "r1".into(),
            received_at: t,
        }
    }

    #[test]
    fn exception_rules_compile() {
        let e = event();
        let id = exception_id(&e);
        assert!(id.starts_with("fp-sqli-") && id.len() == 18, "{id}");
        let src = exception_source(&id, &e, "admin", "search box \"quotes\"\nsecond line").unwrap();
        assert!(
            src.contains("endpoint \"/users/{p1}/orders/{p2}\""),
            "{src}"
        );
        assert!(
            src.contains("allow(class = sqli, point = query.q)"),
            "{src}"
        );
        if let Err(d) = rampart_dsl::compile_str("fp.rules", &src) {
            panic!("{src}\n{}", d.render());
        }
    }

    #[test]
    fn exceptions_for_shaped_points_and_rule_decisions() {
        assert_eq!(
            exception_point("body:form.text:xml.{word}"),
            Some("body:form.text:xml")
        );
        assert_eq!(exception_point("query.ids[*]"), Some("query.ids"));
        assert_eq!(exception_point("query.q"), Some("query.q"));
        assert_eq!(exception_point("{word}"), None);
        let mut e = event();
        e.point = "body:json.{word}.bio".into();
        let src = exception_source(&exception_id(&e), &e, "admin", "").unwrap();
        assert!(
            src.contains("allow(class = sqli, point = body:json)"),
            "{src}"
        );
        rampart_dsl::compile_str("a.rules", &src)
            .map_err(|d| d.render())
            .unwrap();
        e.class.clear();
        e.point.clear();
        e.rule = "no-admin".into();
        let id = exception_id(&e);
        assert!(id.starts_with("fp-rule-"), "{id}");
        let src = exception_source(&id, &e, "admin", "").unwrap();
        assert!(src.contains("allow(rules = [\"no-admin\"])"), "{src}");
        rampart_dsl::compile_str("b.rules", &src)
            .map_err(|d| d.render())
            .unwrap();
        e.rule.clear();
        assert!(exception_source(&id, &e, "admin", "").is_err());
    }

    #[test]
    fn syslog_lines_are_escaped() {
        let line = syslog_line(&event(), "demo", "node one");
        assert!(line.starts_with("<132>1 2026-11-29T03:00:00.000000Z nodeone rampart - attack [rampart@53595 id=\"42\""), "{line}");
        assert!(line.contains("request_id=\"r1\"]"), "{line}");
        assert!(!line.contains('\n'));
        assert!(sd_value("a\"b]c\\").eq("a\\\"b\\]c\\\\"));
    }
}
