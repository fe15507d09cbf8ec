//! Applications, the overview, the learned API inventory, nodes,
//! behaviour alerts, scan jobs and incidents.

use std::collections::HashMap;

use http::StatusCode;
use rampart_store::chrono::Utc;
use rampart_store::entity::{attack_event, endpoint, IncidentStatus};
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::info;

use super::views::{health, incident_json, name, node_json, parse, time, unix_time};
use super::{created, not_found, ok, path_id, Call, Cx};
use crate::api::{ApiError, ApiResult};
use crate::learning::Detail;

/// `GET /api/v1/apps`.
pub(crate) async fn list_apps(cx: &Cx) -> ApiResult {
    let apps = cx.st.store.list_applications().await?;
    let v: Vec<_> = apps
        .iter()
        .map(|a| json!({"id": a.id, "name": a.name, "pack_schedule_secs": a.pack_schedule_secs}))
        .collect();
    ok(&json!(v))
}

#[derive(Deserialize)]
struct NewApp {
    name: String,
}

/// `POST /api/v1/apps` (admin).
pub(crate) async fn create_app(cx: &Cx, call: &Call) -> ApiResult {
    cx.admin()?;
    let n: NewApp = call.json()?;
    let a = crate::CloudHandle {
        inner: cx.st.clone(),
    }
    .create_application(&n.name)
    .await
    .map_err(super::rules::cloud_error)?;
    info!(by = %cx.who.user.name, application = %a.name, "application created");
    created(&json!({"id": a.id, "name": a.name, "pack_schedule_secs": a.pack_schedule_secs}))
}

/// `GET /api/v1/apps/{app}/overview?minutes=N`: traffic per bucket, the
/// most attacked endpoints and classes, the nodes' health.
pub(crate) async fn overview(cx: &Cx, call: &Call, app: &str) -> ApiResult {
    let a = cx.app(app).await?;
    let minutes = call.number("minutes")?.unwrap_or(60).clamp(5, 7 * 24 * 60);
    // At most 120 buckets of whole minutes.
    let bucket = ((minutes + 119) / 120).max(1) * 60;
    let now = Utc::now();
    let end = now.timestamp() - now.timestamp().rem_euclid(bucket) + bucket;
    let start = end - ((minutes * 60 + bucket - 1) / bucket) * bucket;
    let rows = cx.st.store.traffic_minutes(a.id, start).await?;
    let n = ((end - start) / bucket) as usize;
    let mut series = vec![[0i64; 4]; n];
    for r in &rows {
        let i = ((r.minute - start) / bucket) as usize;
        if let Some(b) = series.get_mut(i) {
            b[0] += r.requests;
            b[1] += r.blocked;
            b[2] += r.monitored;
            b[3] += r.attacks;
        }
    }
    let mut totals = [0i64; 4];
    for b in &series {
        for k in 0..4 {
            totals[k] += b[k];
        }
    }
    let series: Vec<_> = series
        .iter()
        .enumerate()
        .map(|(i, b)| {
            json!({"t": unix_time(start + i as i64 * bucket), "requests": b[0],
                   "blocked": b[1], "monitored": b[2], "attacks": b[3]})
        })
        .collect();
    let since = now - rampart_store::chrono::Duration::minutes(minutes);
    let store = &cx.st.store;
    let top = |col| store.count_attack_events_by(a.id, col, since, 10);
    let endpoints = top(attack_event::Column::Endpoint).await?;
    let classes = top(attack_event::Column::Class).await?;
    let nodes = store.list_nodes(a.id).await?;
    ok(&json!({
        "app": a.name, "minutes": minutes, "bucket_secs": bucket, "series": series,
        "totals": {"requests": totals[0], "blocked": totals[1], "monitored": totals[2], "attacks": totals[3]},
        "top_endpoints": endpoints.iter().map(|(e, n)| json!({"endpoint": e, "attacks": n})).collect::<Vec<_>>(),
        "top_classes": classes.iter().map(|(c, n)| json!({"class": c, "attacks": n})).collect::<Vec<_>>(),
        "nodes": nodes.iter().map(|n| json!({
            "id": n.id, "name": n.name, "health": health(n, now),
            "last_heartbeat_at": n.last_heartbeat_at.map(time),
            "rule_pack_version": n.rule_pack_version,
        })).collect::<Vec<_>>(),
    }))
}

/// `GET /api/v1/apps/{app}/endpoints`: the learned templates with their
/// business functions and the formats of their parameters.
pub(crate) async fn endpoints(cx: &Cx, app: &str) -> ApiResult {
    let a = cx.app(app).await?;
    let rows = cx.st.store.list_learned_endpoints(a.id).await?;
    let v: Vec<_> = rows
        .iter()
        .map(|e| {
            let detail = serde_json::from_str::<Detail>(&e.detail).ok();
            let counts: HashMap<&str, u64> = detail
                .as_ref()
                .map(|d| {
                    d.template
                        .points
                        .iter()
                        .map(|p| (p.point.as_str(), p.count))
                        .collect()
                })
                .unwrap_or_default();
            let params: Vec<Value> = detail
                .as_ref()
                .map(|d| {
                    d.formats
                        .iter()
                        .map(|(point, (f, conf, pii))| {
                            json!({
                                "point": point, "format": f.name(),
                                "format_confidence": round3(f64::from(*conf)),
                                "personal_data": pii,
                                "requests": counts.get(point.as_str()).copied().unwrap_or(0),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "id": e.id, "method": e.method, "template": e.template, "operation": e.operation,
                "function": e.function_label,
                "function_confidence": e.function_confidence.map(round3),
                "change": e.change, "first_seen_at": time(e.first_seen_at),
                "last_seen_at": time(e.last_seen_at),
                "requests": detail.as_ref().map_or(0, |d| d.template.requests),
                "parameters": params,
            })
        })
        .collect();
    ok(&json!(v))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `GET /api/v1/apps/{app}/nodes`.
pub(crate) async fn nodes(cx: &Cx, app: &str) -> ApiResult {
    let a = cx.app(app).await?;
    let now = Utc::now();
    let nodes = cx.st.store.list_nodes(a.id).await?;
    ok(&json!(nodes
        .iter()
        .map(|n| node_json(n, now))
        .collect::<Vec<_>>()))
}

/// `GET /api/v1/apps/{app}/alerts?hours=N`: behaviour alerts, newest first.
pub(crate) async fn alerts(cx: &Cx, call: &Call, app: &str) -> ApiResult {
    let a = cx.app(app).await?;
    let hours = call.number("hours")?.unwrap_or(24).clamp(1, 24 * 30);
    let after = Utc::now().timestamp() - hours * 3600;
    let mut rows = cx.st.store.list_behaviour_alerts(a.id, after).await?;
    rows.reverse();
    rows.truncate(500);
    ok(&json!(rows
        .iter()
        .map(|r| json!({
            "id": r.id, "created_at": time(r.created_at), "client": r.client, "kind": r.kind,
            "threat": r.threat, "score": r.score, "explanation": r.explanation,
            "window_end": unix_time(r.window_end),
        }))
        .collect::<Vec<_>>()))
}

/// `GET /api/v1/apps/{app}/scans`: scan jobs, newest first.
pub(crate) async fn scans(cx: &Cx, app: &str) -> ApiResult {
    let a = cx.app(app).await?;
    let jobs = cx.st.store.recent_scan_jobs(a.id, None, 500).await?;
    let names = endpoint_names(cx, a.id).await?;
    ok(&json!(jobs
        .iter()
        .map(|j| super::views::scan_job_json(j, names.get(&j.endpoint_id).cloned()))
        .collect::<Vec<_>>()))
}

/// Endpoint id -> `METHOD template` of an application.
pub(crate) async fn endpoint_names(cx: &Cx, app_id: i64) -> Result<HashMap<i64, String>, ApiError> {
    let eps: Vec<endpoint::Model> = cx.st.store.list_endpoints(app_id).await?;
    Ok(eps
        .into_iter()
        .map(|e| (e.id, format!("{} {}", e.method, e.template)))
        .collect())
}

/// `GET /api/v1/apps/{app}/incidents?status=S`: newest first.
pub(crate) async fn incidents(cx: &Cx, call: &Call, app: &str) -> ApiResult {
    let a = cx.app(app).await?;
    let status = match call.param("status") {
        None => None,
        Some(s) => Some(
            parse::<IncidentStatus>(s)
                .ok_or_else(|| ApiError::bad_request(format!("unknown status {s:?}")))?,
        ),
    };
    let mut rows = cx.st.store.list_incidents(a.id, status).await?;
    rows.sort_by_key(|i| std::cmp::Reverse(i.id));
    let names = endpoint_names(cx, a.id).await?;
    ok(&json!(rows
        .iter()
        .map(|i| incident_json(i, i.endpoint_id.and_then(|e| names.get(&e).cloned())))
        .collect::<Vec<_>>()))
}

/// `GET /api/v1/incidents/{id}`: with evidence and notifications.
pub(crate) async fn incident(cx: &Cx, id: &str) -> ApiResult {
    let id = path_id(id)?;
    let i = cx
        .st
        .store
        .incident(id)
        .await?
        .ok_or_else(|| not_found(format!("no incident {id}")))?;
    let names = endpoint_names(cx, i.application_id).await?;
    let mut v = incident_json(&i, i.endpoint_id.and_then(|e| names.get(&e).cloned()));
    v["evidence"] = i.evidence_json().unwrap_or(Value::Null);
    let notes = cx.st.store.list_notifications(i.id).await?;
    let notes: Vec<_> = notes
        .iter()
        .map(|n| {
            json!({
                "id": n.id, "channel": n.channel,
                "state": name(n.state), "attempts": n.attempts,
                "last_error": n.last_error, "created_at": time(n.created_at),
                "updated_at": time(n.updated_at),
            })
        })
        .collect();
    ok(&json!({"incident": v, "notifications": notes}))
}

#[derive(Deserialize)]
struct NewStatus {
    status: String,
}

/// `POST /api/v1/incidents/{id}/status` (admin).
pub(crate) async fn incident_status(cx: &Cx, call: &Call, id: &str) -> ApiResult {
    cx.admin()?;
    let id = path_id(id)?;
    let n: NewStatus = call.json()?;
    let status = parse::<IncidentStatus>(&n.status).ok_or_else(|| {
        ApiError::bad_request(format!(
            "status {:?}: open, acknowledged, resolved or false_positive",
            n.status
        ))
    })?;
    if cx.st.store.incident(id).await?.is_none() {
        return Err(not_found(format!("no incident {id}")));
    }
    let i = cx.st.store.set_incident_status(id, status).await?;
    info!(by = %cx.who.user.name, incident = id, status = %name(status), "incident status set");
    let names = endpoint_names(cx, i.application_id).await?;
    let v = incident_json(&i, i.endpoint_id.and_then(|e| names.get(&e).cloned()));
    Ok(crate::api::json_response(StatusCode::OK, &v))
}
