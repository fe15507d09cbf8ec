//! Uploads: a real batch, gzip and plain; retries ingested once; attack
//! events; refused batches.

use rampart_store::Store;
use rampart_telemetry::{Batch, EndpointStats, PointStats};

use crate::common::{app_and_node, config, sample_batch, send, start, upload, TestDb};

/// Every stored endpoint and parameter statistics document, in order: what
/// a double count would change.
async fn snapshot(store: &Store, app: i64) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for ep in store.list_endpoints(app).await.expect("endpoints") {
        out.push((
            format!("{} {}", ep.method, ep.template),
            ep.stats.clone().unwrap_or_default(),
        ));
        for p in store.list_parameters(ep.id).await.expect("parameters") {
            out.push((p.point.clone(), p.stats.clone().unwrap_or_default()));
        }
    }
    out
}

async fn stored_endpoint(store: &Store, app: i64, e: &EndpointStats) -> (EndpointStats, i64) {
    let row = store
        .endpoint(app, &e.method, &e.path)
        .await
        .expect("endpoint")
        .unwrap_or_else(|| panic!("endpoint {} {} not stored", e.method, e.path));
    let stats = row.stats_json().expect("json").expect("stats");
    (
        serde_json::from_value(stats).expect("EndpointStats"),
        row.id,
    )
}

async fn stored_point(store: &Store, endpoint_id: i64, point: &str) -> PointStats {
    let row = store
        .parameter(endpoint_id, point)
        .await
        .expect("parameter")
        .unwrap_or_else(|| panic!("point {point} not stored"));
    serde_json::from_value(row.stats_json().expect("json").expect("stats")).expect("PointStats")
}

async fn upload_ingests_once(db: &TestDb) {
    let c = start(config(db, "a")).await;
    let node = app_and_node(&c, "shop").await;
    let app = c.handle.application("shop").await.expect("app").id;
    let store = c.handle.store();
    let batch = sample_batch(1);
    assert!(!batch.endpoints.is_empty());
    assert!(
        !batch.attacks.is_empty(),
        "the sample has an attack: {:?}",
        batch.endpoints
    );

    let r = upload(c.addr, &node, &batch, true).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json(), serde_json::json!({"accepted": true}));

    // Each endpoint and point of the batch is stored with its aggregates.
    for e in &batch.endpoints {
        let (stored, id) = stored_endpoint(store, app, e).await;
        assert_eq!(stored.requests, e.requests, "{}", e.path);
        assert_eq!(stored.blocked, e.blocked);
        assert_eq!(stored.statuses, e.statuses);
        assert_eq!(stored.latency_us, e.latency_us);
        assert_eq!(stored.content_types, e.content_types);
        assert!(stored.points.is_empty(), "points live in their own rows");
        for p in &e.points {
            let sp = stored_point(store, id, &p.point).await;
            assert_eq!(sp.count, p.count);
            assert_eq!(sp.length, p.length);
            assert_eq!(sp.formats, p.formats);
            assert_eq!(sp.distinct, p.distinct);
            assert_eq!(sp.chars, p.chars);
        }
    }
    let before = snapshot(store, app).await;
    let events = store
        .list_attack_events(app, None, 100)
        .await
        .expect("events");
    assert!(!events.is_empty());
    assert!(
        events
            .iter()
            .any(|e| e.payload.contains("UNION SELECT password FROM users")),
        "{events:?}"
    );
    assert!(events.iter().all(|e| e.node_id == node.id));
    assert!(events
        .iter()
        .any(|e| e.class == "sqli" && e.action == "block"));

    // The same batch again (a retry), gzip then plain: nothing changes.
    for gz in [true, false] {
        let r = upload(c.addr, &node, &batch, gz).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json(), serde_json::json!({"accepted": false}));
    }
    assert_eq!(snapshot(store, app).await, before);
    assert_eq!(
        store
            .list_attack_events(app, None, 100)
            .await
            .expect("events")
            .len(),
        events.len()
    );

    // The next batch with the same traffic, as plain JSON: counts double,
    // sketches stay (the same values), the same events are not repeated.
    let mut next = batch.clone();
    next.seq = 2;
    let r = upload(c.addr, &node, &next, false).await;
    assert_eq!(r.json(), serde_json::json!({"accepted": true}));
    for e in &batch.endpoints {
        let (stored, id) = stored_endpoint(store, app, e).await;
        assert_eq!(stored.requests, 2 * e.requests);
        assert_eq!(stored.latency_us.count(), 2 * e.latency_us.count());
        for (status, n) in &e.statuses {
            assert_eq!(stored.statuses.get(status), Some(&(2 * n)));
        }
        for p in &e.points {
            let sp = stored_point(store, id, &p.point).await;
            assert_eq!(sp.count, 2 * p.count);
            assert_eq!(sp.length.count(), 2 * p.length.count());
            assert_eq!(sp.distinct, p.distinct, "same values, same registers");
            let doubled: Vec<u64> = p.chars.iter().map(|x| 2 * x).collect();
            assert_eq!(sp.chars, doubled);
        }
    }
    assert_eq!(
        store
            .list_attack_events(app, None, 100)
            .await
            .expect("events")
            .len(),
        events.len(),
        "events are deduplicated by node, request id and rule"
    );
    assert_eq!(
        store.last_metric_batch(node.id).await.expect("last"),
        Some(2)
    );
    c.stop().await;
}

async fn bad_batches_are_refused(db: &TestDb) {
    let mut cfg = config(db, "a");
    cfg.body_limit_bytes = 4096;
    let c = start(cfg).await;
    let node = app_and_node(&c, "shop").await;
    let bearer = node.bearer();
    let auth = [("authorization", bearer.as_str())];

    let v2 = Batch {
        version: 2,
        seq: 1,
        ..Batch::default()
    };
    let r = upload(c.addr, &node, &v2, false).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "bad_request");
    assert!(r.json()["message"]
        .as_str()
        .is_some_and(|m| m.contains("version")));

    for body in [b"{not json".to_vec(), b"[]".to_vec()] {
        let r = send(c.addr, "POST", "/v1/batches", &auth, body).await;
        assert_eq!(r.status, 400);
    }
    // Not gzip although it says so; an unknown encoding.
    let r = send(
        c.addr,
        "POST",
        "/v1/batches",
        &[auth[0], ("content-encoding", "gzip")],
        b"plain".to_vec(),
    )
    .await;
    assert_eq!(r.status, 400);
    let r = send(
        c.addr,
        "POST",
        "/v1/batches",
        &[auth[0], ("content-encoding", "br")],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(r.status, 400);

    // Over the limit as sent, and once decompressed.
    let big = vec![b' '; 10_000];
    let r = send(c.addr, "POST", "/v1/batches", &auth, big.clone()).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"], "too_large");
    let r = send(
        c.addr,
        "POST",
        "/v1/batches",
        &[auth[0], ("content-encoding", "gzip")],
        crate::common::gzip(&big),
    )
    .await;
    assert_eq!(r.status, 413);

    // A refused batch was not recorded: the same seq is taken afterwards.
    let ok = Batch {
        version: 1,
        seq: 1,
        ..Batch::default()
    };
    let r = upload(c.addr, &node, &ok, true).await;
    assert_eq!(r.json(), serde_json::json!({"accepted": true}));
    c.stop().await;
}

crate::on_both!(upload_ingests_once, bad_batches_are_refused);
