//! Incidents: the list, the detail with evidence and notifications, and
//! the triage workflow.

use rampart_store::entity::Severity;
use rampart_store::NewIncident;
use serde_json::{json, Value};

use crate::client::{expect, expect_error, world, World};
use crate::common::TestDb;
use crate::inventory::read;

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .expect("incidents")
        .iter()
        .filter_map(|i| i["id"].as_i64())
        .collect()
}

async fn open(w: &World, new: NewIncident<'_>) -> i64 {
    w.store()
        .open_incident(w.app_id, new)
        .await
        .expect("open incident")
        .incident
        .id
}

async fn the_triage_workflow(db: &TestDb) {
    let w = world(db).await;
    w.traffic(1, 1).await;
    let api = &w.api;
    let store = w.store();
    let ep = store
        .endpoint(w.app_id, "GET", "/search")
        .await
        .expect("endpoint")
        .expect("stored");
    let evidence = json!({"baseline": {"status": 200}, "probe": {"status": 500, "payload": "'"}});
    let a = open(
        &w,
        NewIncident {
            title: "SQL injection confirmed in GET /search",
            severity: Severity::High,
            endpoint_id: Some(ep.id),
            point: Some("query.q"),
            payload: Some("' or 1=1--"),
            evidence: &evidence,
            dedup_key: "sqli:search:q",
        },
    )
    .await;
    let b = open(
        &w,
        NewIncident {
            title: "Credential stuffing",
            severity: Severity::Low,
            endpoint_id: None,
            point: None,
            payload: None,
            evidence: &json!(null),
            dedup_key: "stuffing",
        },
    )
    .await;
    store
        .enqueue_notification(a, "slack", &json!({"text": "incident"}))
        .await
        .expect("notification");

    let list = read(&w, &w.app_path("/incidents")).await;
    assert_eq!(ids(&list), [b, a], "newest first");
    let first = &list[1];
    assert_eq!(first["title"], "SQL injection confirmed in GET /search");
    assert_eq!(first["severity"], "high");
    assert_eq!(first["status"], "open");
    assert_eq!(first["endpoint"], "GET /search");
    assert_eq!(first["point"], "query.q");
    assert_eq!(first["payload"], "' or 1=1--");
    assert_eq!(list[0]["endpoint"], Value::Null);
    assert_eq!(list[0]["point"], Value::Null);

    let d = read(&w, &format!("/api/v1/incidents/{a}")).await;
    assert_eq!(d["incident"]["id"], a);
    assert_eq!(d["incident"]["evidence"], evidence);
    assert_eq!(d["incident"]["endpoint"], "GET /search");
    let notes = d["notifications"].as_array().expect("notifications");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["channel"], "slack");
    assert_eq!(notes[0]["state"], "pending");
    assert_eq!(notes[0]["attempts"], 0);
    let d = read(&w, &format!("/api/v1/incidents/{b}")).await;
    assert_eq!(d["notifications"], json!([]));

    // Analysts read but do not triage.
    for cred in [w.analyst(), w.analyst_bearer()] {
        expect_error(
            &api.post(
                &cred,
                &format!("/api/v1/incidents/{a}/status"),
                &json!({"status": "resolved"}),
            )
            .await,
            403,
            "forbidden",
            "analyst triage",
        );
    }

    // open -> acknowledged (session) -> resolved (token) -> false_positive
    // -> open, each visible in the filtered lists.
    let mut last_update = first["updated_at"].as_str().expect("updated_at").to_owned();
    for (status, cred) in [
        ("acknowledged", w.admin()),
        ("resolved", w.admin_bearer()),
        ("false_positive", w.admin()),
        ("open", w.admin_bearer()),
        ("resolved", w.admin()),
    ] {
        let r = api
            .post(
                &cred,
                &format!("/api/v1/incidents/{a}/status"),
                &json!({"status": status}),
            )
            .await;
        let v = expect(&r, 200, status);
        assert_eq!(v["id"], a);
        assert_eq!(v["status"], status);
        assert_eq!(v["endpoint"], "GET /search");
        let updated = v["updated_at"].as_str().expect("updated_at").to_owned();
        assert!(updated >= last_update, "{updated} < {last_update}");
        last_update = updated;
        let filtered = read(&w, &w.app_path(&format!("/incidents?status={status}"))).await;
        assert!(ids(&filtered).contains(&a), "{status}: {filtered}");
        assert!(filtered
            .as_array()
            .expect("incidents")
            .iter()
            .all(|i| i["status"] == status));
    }
    assert_eq!(
        ids(&read(&w, &w.app_path("/incidents?status=open")).await),
        [b]
    );
    assert_eq!(
        ids(&read(&w, &w.app_path("/incidents?status=acknowledged")).await),
        Vec::<i64>::new()
    );

    // The problem found again: a resolved incident opens again...
    open(
        &w,
        NewIncident {
            title: "SQL injection confirmed in GET /search",
            severity: Severity::High,
            endpoint_id: Some(ep.id),
            point: Some("query.q"),
            payload: Some("' or 1=1--"),
            evidence: &json!({"again": true}),
            dedup_key: "sqli:search:q",
        },
    )
    .await;
    let d = read(&w, &format!("/api/v1/incidents/{a}")).await;
    assert_eq!(d["incident"]["status"], "open");
    assert_eq!(d["incident"]["evidence"], json!({"again": true}));
    // ...one marked a false positive stays so.
    expect(
        &api.post(
            &w.admin(),
            &format!("/api/v1/incidents/{a}/status"),
            &json!({"status": "false_positive"}),
        )
        .await,
        200,
        "false positive",
    );
    open(
        &w,
        NewIncident {
            title: "SQL injection confirmed in GET /search",
            severity: Severity::High,
            endpoint_id: Some(ep.id),
            point: Some("query.q"),
            payload: None,
            evidence: &json!({"third": true}),
            dedup_key: "sqli:search:q",
        },
    )
    .await;
    let d = read(&w, &format!("/api/v1/incidents/{a}")).await;
    assert_eq!(d["incident"]["status"], "false_positive");

    // Refused.
    for body in [json!({"status": "closed"}), json!({}), json!({"status": 1})] {
        expect_error(
            &api.post(&w.admin(), &format!("/api/v1/incidents/{a}/status"), &body)
                .await,
            400,
            "bad_request",
            &format!("status {body}"),
        );
    }
    expect_error(
        &api.get(&w.admin(), &w.app_path("/incidents?status=closed"))
            .await,
        400,
        "bad_request",
        "filter closed",
    );
    for path in ["/api/v1/incidents/999999", "/api/v1/incidents/x"] {
        expect_error(&api.get(&w.admin(), path).await, 404, "not_found", path);
    }
    let v = expect_error(
        &api.post(
            &w.admin(),
            "/api/v1/incidents/999999/status",
            &json!({"status": "open"}),
        )
        .await,
        404,
        "not_found",
        "unknown incident",
    );
    assert!(
        v["message"].as_str().unwrap_or("").contains("999999"),
        "{v}"
    );
    w.cloud.stop().await;
}

crate::on_both!(the_triage_workflow);
