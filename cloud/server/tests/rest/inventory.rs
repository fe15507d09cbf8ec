//! Applications, the overview, the learned API inventory, nodes,
//! behaviour alerts and scan jobs.

use serde_json::{json, Value};

use crate::client::{expect, expect_error, now_secs, world, Cred, World};
use crate::common::{sample_batch, TestDb};

/// GET `path` as the admin (session and token) and the analyst (session
/// and token): 200 each time. Returns the admin session's answer.
pub async fn read(w: &World, path: &str) -> Value {
    let first = expect(&w.api.get(&w.admin(), path).await, 200, path);
    for (who, cred) in [
        ("admin token", w.admin_bearer()),
        ("analyst session", w.analyst()),
        ("analyst token", w.analyst_bearer()),
    ] {
        expect(
            &w.api.get(&cred, path).await,
            200,
            &format!("{path} by the {who}"),
        );
    }
    first
}

async fn applications(db: &TestDb) {
    let w = world(db).await;
    let api = &w.api;
    let apps = read(&w, "/api/v1/apps").await;
    assert_eq!(apps.as_array().expect("apps").len(), 1);
    assert_eq!(apps[0]["name"], "shop");
    assert_eq!(apps[0]["id"], w.app_id);
    assert!(apps[0]["pack_schedule_secs"]
        .as_i64()
        .is_some_and(|s| s > 0));

    let blog = expect(
        &api.post(&w.admin(), "/api/v1/apps", &json!({"name": "blog"}))
            .await,
        201,
        "create with a session",
    );
    assert_eq!(blog["name"], "blog");
    let r = api
        .post(
            &w.admin_bearer(),
            "/api/v1/apps",
            &json!({"name": "api.v2"}),
        )
        .await;
    expect(&r, 201, "create with a token");
    let names: Vec<Value> = read(&w, "/api/v1/apps")
        .await
        .as_array()
        .expect("apps")
        .iter()
        .map(|a| a["name"].clone())
        .collect();
    for n in ["shop", "blog", "api.v2"] {
        assert!(names.contains(&json!(n)), "{names:?}");
    }
    expect_error(
        &api.post(&w.admin(), "/api/v1/apps", &json!({"name": "blog"}))
            .await,
        409,
        "conflict",
        "a name taken",
    );
    for body in [
        json!({"name": ""}),
        json!({"name": "a b"}),
        json!({}),
        json!({"name": 7}),
    ] {
        expect_error(
            &api.post(&w.admin(), "/api/v1/apps", &body).await,
            400,
            "bad_request",
            &format!("create {body}"),
        );
    }
    // A new application has nothing yet, and can be read at once.
    for rest in [
        "/endpoints",
        "/nodes",
        "/alerts",
        "/scans",
        "/incidents",
        "/rules",
        "/packs",
    ] {
        let v = read(&w, &format!("/api/v1/apps/blog{rest}")).await;
        assert_eq!(v, json!([]), "{rest}");
    }
    let v = read(&w, "/api/v1/apps/blog/attacks").await;
    assert_eq!(v, json!({"items": [], "next_before": null}));
    // An unknown application is a 404 that names it.
    for rest in [
        "/overview",
        "/endpoints",
        "/nodes",
        "/alerts",
        "/scans",
        "/incidents",
        "/attacks",
        "/attacks/export",
        "/rules",
        "/rules/x",
        "/packs",
        "/packs/1/diff",
    ] {
        let v = expect_error(
            &api.get(&w.admin(), &format!("/api/v1/apps/nope{rest}"))
                .await,
            404,
            "not_found",
            rest,
        );
        assert!(
            v["message"].as_str().unwrap_or_default().contains("nope"),
            "{v}"
        );
    }
    w.cloud.stop().await;
}

async fn overview_and_nodes(db: &TestDb) {
    let w = world(db).await;
    // Before any traffic: empty buckets and a node that never reported.
    let v = read(&w, &w.app_path("/overview")).await;
    assert_eq!(v["app"], "shop");
    assert_eq!(v["minutes"], 60);
    assert_eq!(v["bucket_secs"], 60);
    assert_eq!(v["series"].as_array().expect("series").len(), 60);
    assert_eq!(
        v["totals"],
        json!({"requests": 0, "blocked": 0, "monitored": 0, "attacks": 0})
    );
    assert_eq!(v["nodes"][0]["health"], "never");
    assert_eq!(v["nodes"][0]["last_heartbeat_at"], Value::Null);

    w.traffic(1, 3).await;
    let batch = sample_batch(1);
    let v = read(&w, &w.app_path("/overview?minutes=60")).await;
    let series = v["series"].as_array().expect("series");
    assert_eq!(series.len(), 60);
    // Oldest first, one bucket apart.
    let times: Vec<&str> = series.iter().filter_map(|b| b["t"].as_str()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    let sum = |k: &str| {
        series
            .iter()
            .map(|b| b[k].as_i64().unwrap_or(0))
            .sum::<i64>()
    };
    let n = 3 * batch.requests as i64;
    assert_eq!(v["totals"]["requests"], n, "{v}");
    assert_eq!(sum("requests"), n);
    assert_eq!(v["totals"]["blocked"], 3 * batch.blocked as i64);
    assert_eq!(v["totals"]["attacks"], 3 * batch.attacks.len() as i64);
    assert_eq!(sum("attacks"), 3 * batch.attacks.len() as i64);
    assert!(batch.blocked >= 1, "the sample blocks its injection");
    let top = &v["top_endpoints"][0];
    assert_eq!(top["endpoint"], "GET /search", "{v}");
    assert!(top["attacks"].as_i64().is_some_and(|n| n >= 1));
    let classes: Vec<&str> = v["top_classes"]
        .as_array()
        .expect("classes")
        .iter()
        .filter_map(|c| c["class"].as_str())
        .collect();
    assert!(classes.contains(&"sqli"), "{classes:?}");
    assert_eq!(v["nodes"][0]["name"], "edge-1");
    assert_eq!(v["nodes"][0]["health"], "ok");
    assert!(v["nodes"][0]["last_heartbeat_at"].is_string());

    // A day in 120 buckets of 12 minutes; spans are clamped.
    let v = read(&w, &w.app_path("/overview?minutes=1440")).await;
    assert_eq!(v["bucket_secs"], 720);
    assert_eq!(v["series"].as_array().expect("series").len(), 120);
    assert_eq!(v["totals"]["requests"], n);
    let v = read(&w, &w.app_path("/overview?minutes=1")).await;
    assert_eq!(v["minutes"], 5);
    assert_eq!(v["series"].as_array().expect("series").len(), 5);
    expect_error(
        &w.api
            .get(&w.admin(), &w.app_path("/overview?minutes=an+hour"))
            .await,
        400,
        "bad_request",
        "minutes not a number",
    );

    // The node as it reported itself.
    let nodes = read(&w, &w.app_path("/nodes")).await;
    let node = &nodes[0];
    assert_eq!(node["id"], w.node.id);
    assert_eq!(node["name"], "edge-1");
    assert_eq!(node["version"], "0.1.0");
    assert_eq!(node["health"], "ok");
    assert_eq!(node["rule_pack_version"], Value::Null);
    assert_eq!(node["counters"]["requests"], 13, "{node}");
    assert!(node["enrolled_at"].is_string());
    w.cloud.stop().await;
}

async fn behaviour_alerts_and_scan_jobs(db: &TestDb) {
    let w = world(db).await;
    w.traffic(1, 1).await;
    let store = w.store();
    let now = i64::try_from(now_secs()).expect("now");
    for (client, threat, end) in [
        ("0123456789abcdef", "credential_stuffing", now - 60),
        ("fedcba9876543210", "scraping", now - 48 * 3600),
    ] {
        let added = store
            .insert_behaviour_alert(
                w.app_id,
                &rampart_store::NewBehaviourAlert {
                    client: client.into(),
                    kind: "ip".into(),
                    threat: threat.into(),
                    score: 0.97,
                    explanation: format!("{threat}: far from the learned behaviour"),
                    window_end: end,
                },
            )
            .await
            .expect("alert");
        assert!(added);
    }
    let alerts = read(&w, &w.app_path("/alerts")).await;
    let alerts = alerts.as_array().expect("alerts");
    assert_eq!(alerts.len(), 1, "the last 24 hours: {alerts:?}");
    assert_eq!(alerts[0]["threat"], "credential_stuffing");
    assert_eq!(alerts[0]["client"], "0123456789abcdef");
    assert_eq!(alerts[0]["kind"], "ip");
    assert_eq!(alerts[0]["score"], 0.97);
    let alerts = read(&w, &w.app_path("/alerts?hours=72")).await;
    let threats: Vec<&str> = alerts
        .as_array()
        .expect("alerts")
        .iter()
        .filter_map(|a| a["threat"].as_str())
        .collect();
    assert_eq!(threats, ["credential_stuffing", "scraping"], "newest first");
    expect_error(
        &w.api.get(&w.admin(), &w.app_path("/alerts?hours=x")).await,
        400,
        "bad_request",
        "hours not a number",
    );

    let ep = store
        .endpoint(w.app_id, "GET", "/search")
        .await
        .expect("endpoint")
        .expect("GET /search was uploaded");
    for (family, key) in [("union", "k1"), ("boolean", "k2")] {
        store
            .enqueue_scan_job(
                w.app_id,
                rampart_store::NewScanJob {
                    endpoint_id: ep.id,
                    point: "query.q",
                    class: "sqli",
                    payload_family: family,
                    payload: "' union select 1--",
                    dedup_key: key,
                    not_before: None,
                },
            )
            .await
            .expect("enqueue")
            .expect("a new job");
    }
    let jobs = read(&w, &w.app_path("/scans")).await;
    let jobs = jobs.as_array().expect("jobs");
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0]["payload_family"], "boolean", "newest first");
    for j in jobs {
        assert_eq!(j["state"], "pending");
        assert_eq!(j["endpoint"], "GET /search");
        assert_eq!(j["endpoint_id"], ep.id);
        assert_eq!(j["point"], "query.q");
        assert_eq!(j["class"], "sqli");
        assert_eq!(j["attempts"], 0);
    }
    w.cloud.stop().await;
}

async fn the_learned_inventory(db: &TestDb) {
    let w = world(db).await;
    assert_eq!(read(&w, &w.app_path("/endpoints")).await, json!([]));
    w.traffic(1, 12).await;
    let report = w.cloud.handle.learn_now("shop").await.expect("learn");
    assert!(report.templates >= 3, "{report:?}");
    let eps = read(&w, &w.app_path("/endpoints")).await;
    let eps = eps.as_array().expect("endpoints");
    let find = |m: &str, t: &str| {
        eps.iter()
            .find(|e| e["method"] == m && e["template"] == t)
            .unwrap_or_else(|| panic!("{m} {t} is not in the inventory: {eps:#?}"))
    };
    let login = find("POST", "/login");
    assert_eq!(login["function"], "login");
    assert!(login["function_confidence"]
        .as_f64()
        .is_some_and(|c| c > 0.0 && c <= 1.0));
    assert_eq!(login["change"], "new");
    assert_eq!(login["operation"], "");
    assert!(login["requests"].as_u64().is_some_and(|n| n > 0), "{login}");
    let points: Vec<&str> = login["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["point"].as_str())
        .collect();
    assert!(points.iter().any(|p| p.contains("user")), "{points:?}");
    let orders = find("POST", "/api/orders/{id}");
    let params = orders["parameters"].as_array().expect("parameters");
    assert!(!params.is_empty(), "{orders}");
    for p in params {
        assert!(p["format"].is_string(), "{p}");
        assert!(p["format_confidence"]
            .as_f64()
            .is_some_and(|c| (0.0..=1.0).contains(&c)));
        assert!(p["personal_data"].is_boolean());
        assert!(p["requests"].as_u64().is_some_and(|n| n > 0), "{p}");
    }
    let search = find("GET", "/search");
    assert!(search["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .any(|p| p["point"] == "query.q"));
    // A second run with the same traffic: nothing new.
    w.cloud.handle.learn_now("shop").await.expect("relearn");
    let again = read(&w, &w.app_path("/endpoints")).await;
    let login = again
        .as_array()
        .expect("endpoints")
        .iter()
        .find(|e| e["method"] == "POST" && e["template"] == "/login")
        .expect("still there");
    assert_eq!(login["change"], "same", "{login}");
    // Unauthenticated: no inventory.
    expect_error(
        &w.api.get(&Cred::None, &w.app_path("/endpoints")).await,
        401,
        "unauthorized",
        "endpoints",
    );
    w.cloud.stop().await;
}

crate::on_both!(
    applications,
    overview_and_nodes,
    behaviour_alerts_and_scan_jobs,
    the_learned_inventory,
);
