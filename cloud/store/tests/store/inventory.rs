use rampart_store::serde_json::{json, Value};
use rampart_store::{Error, NewAttackEvent, Store};

use crate::common::{node_of, TestDb};

/// The merge the tests use: count calls and remember the last tag.
fn bump(tag: &'static str) -> impl FnOnce(Option<Value>) -> Value {
    move |old| {
        let n = old
            .as_ref()
            .and_then(|v| v.get("n"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        json!({"n": n + 1, "last": tag})
    }
}

fn count(stats: Option<Value>) -> i64 {
    stats
        .and_then(|v| v.get("n").and_then(Value::as_i64))
        .unwrap_or(0)
}

async fn endpoints_and_parameters(db: &TestDb) {
    let s = &db.store;
    let app = s.create_application("shop").await.expect("app");

    let ep = s
        .upsert_endpoint(app.id, "get", "/users/{id}")
        .await
        .expect("ep");
    assert_eq!(ep.method, "GET", "methods are upper-cased");
    assert_eq!(ep.stats, None);
    assert_eq!(ep.first_seen_at, ep.last_seen_at);
    let again = s
        .upsert_endpoint(app.id, "GET", "/users/{id}")
        .await
        .expect("ep");
    assert_eq!(again.id, ep.id);
    assert_eq!(again.first_seen_at, ep.first_seen_at);
    assert!(again.last_seen_at >= ep.last_seen_at);

    let mut seen = Vec::new();
    let merged = s
        .upsert_endpoint_stats(app.id, "GET", "/users/{id}", |old| {
            seen.push(old.clone());
            bump("a")(old)
        })
        .await
        .expect("merge");
    assert_eq!(seen, vec![None], "first merge sees no stats");
    assert_eq!(merged.id, ep.id);
    let merged = s
        .upsert_endpoint_stats(app.id, "GET", "/users/{id}", bump("b"))
        .await
        .expect("merge");
    assert_eq!(
        merged.stats_json().expect("json"),
        Some(json!({"n": 2, "last": "b"}))
    );
    // A merge creates the endpoint when needed.
    let created = s
        .upsert_endpoint_stats(app.id, "POST", "/login", bump("c"))
        .await
        .expect("merge");
    assert_eq!(count(created.stats_json().expect("json")), 1);

    let labelled = s
        .set_endpoint_function(ep.id, Some("profile-view"), Some(0.8))
        .await
        .expect("label");
    assert_eq!(labelled.function_label.as_deref(), Some("profile-view"));
    assert_eq!(labelled.function_confidence, Some(0.8));
    assert_eq!(labelled.stats, merged.stats, "stats untouched");
    assert!(matches!(
        s.set_endpoint_function(ep.id, Some("x"), Some(1.5)).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        s.set_endpoint_function(9999, None, None).await,
        Err(Error::NotFound(_))
    ));
    let cleared = s
        .set_endpoint_function(ep.id, None, None)
        .await
        .expect("clear");
    assert_eq!(cleared.function_label, None);

    let listed: Vec<(String, String)> = s
        .list_endpoints(app.id)
        .await
        .expect("list")
        .into_iter()
        .map(|e| (e.method, e.template))
        .collect();
    assert_eq!(
        listed,
        [
            ("POST".to_owned(), "/login".to_owned()),
            ("GET".to_owned(), "/users/{id}".to_owned())
        ]
    );
    assert_eq!(
        s.endpoint_by_id(ep.id).await.expect("get").map(|e| e.id),
        Some(ep.id)
    );
    assert!(matches!(
        s.upsert_endpoint(9999, "GET", "/").await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        s.upsert_endpoint(app.id, "GET", "").await,
        Err(Error::Invalid(_))
    ));

    // Parameters.
    let point = r#"query["q"]"#;
    let p = s.upsert_parameter(ep.id, point).await.expect("param");
    assert_eq!(p.application_id, app.id);
    assert!(!p.personal_data);
    let p2 = s
        .upsert_parameter_stats(ep.id, point, bump("p"))
        .await
        .expect("merge");
    assert_eq!(p2.id, p.id);
    let p2 = s
        .upsert_parameter_stats(ep.id, point, bump("q"))
        .await
        .expect("merge");
    assert_eq!(
        p2.stats_json().expect("json"),
        Some(json!({"n": 2, "last": "q"}))
    );
    let formatted = s
        .set_parameter_format(p.id, Some("email"), Some(0.97), true)
        .await
        .expect("format");
    assert_eq!(formatted.format_label.as_deref(), Some("email"));
    assert!(formatted.personal_data);
    assert_eq!(formatted.stats, p2.stats);
    s.upsert_parameter(ep.id, "body > json > .a")
        .await
        .expect("param");
    let points: Vec<String> = s
        .list_parameters(ep.id)
        .await
        .expect("list")
        .into_iter()
        .map(|p| p.point)
        .collect();
    assert_eq!(points, ["body > json > .a", point]);
    assert_eq!(
        s.parameter(ep.id, point).await.expect("get").map(|p| p.id),
        Some(p.id)
    );
    assert!(matches!(
        s.upsert_parameter_stats(9999, point, bump("x")).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        s.set_parameter_format(9999, None, None, false).await,
        Err(Error::NotFound(_))
    ));
}

async fn concurrent_merges_lose_nothing(db: &TestDb) {
    let app = db.store.create_application("shop").await.expect("app");
    let other = db.another_store().await;
    let ep = db
        .store
        .upsert_endpoint(app.id, "GET", "/warm")
        .await
        .expect("ep");
    const EACH: usize = 12;
    let run = |s: Store, tag: &'static str| async move {
        for _ in 0..EACH {
            // Half on an endpoint created concurrently, half on one that exists.
            s.upsert_endpoint_stats(app.id, "GET", "/cold", bump(tag))
                .await
                .expect("merge cold");
            s.upsert_parameter_stats(ep.id, "p", bump(tag))
                .await
                .expect("merge param");
        }
    };
    tokio::join!(
        run(db.store.clone(), "a"),
        run(other.clone(), "b"),
        run(db.store.clone(), "c"),
        run(other.clone(), "d"),
    );
    let cold = db
        .store
        .endpoint(app.id, "GET", "/cold")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(count(cold.stats_json().expect("json")), 4 * EACH as i64);
    let p = db
        .store
        .parameter(ep.id, "p")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(count(p.stats_json().expect("json")), 4 * EACH as i64);
    other.close().await.expect("close");
}

async fn ingest_is_all_or_nothing_and_idempotent(db: &TestDb) {
    let s = &db.store;
    let app = s.create_application("shop").await.expect("app");
    let node = node_of(s, app.id, "n").await;
    let event = NewAttackEvent {
        occurred_at: rampart_store::chrono::Utc::now(),
        endpoint: "GET /search".into(),
        point: r#"query["q"]"#.into(),
        class: "sqli".into(),
        rule: "sqli-tautology".into(),
        score: 60,
        action: "block".into(),
        payload: "' OR 1=1 --".into(),
        request_id: "r-1".into(),
    };

    assert_eq!(s.last_metric_batch(node).await.expect("last"), None);
    let tx = s.begin_ingest().await.expect("begin");
    assert!(tx.record_metric_batch(node, 1, 512).await.expect("record"));
    let ep = tx
        .upsert_endpoint_stats(app.id, "GET", "/search", bump("1"))
        .await
        .expect("merge");
    tx.upsert_parameter_stats(ep.id, r#"query["q"]"#, bump("1"))
        .await
        .expect("merge");
    assert_eq!(
        tx.insert_attack_events(node, std::slice::from_ref(&event))
            .await
            .expect("events"),
        1
    );
    tx.commit().await.expect("commit");
    assert_eq!(s.last_metric_batch(node).await.expect("last"), Some(1));

    // The same batch again: refused; the caller drops the transaction.
    let tx = s.begin_ingest().await.expect("begin");
    assert!(!tx.record_metric_batch(node, 1, 512).await.expect("record"));
    tx.rollback().await.expect("rollback");

    // A batch whose transaction is dropped without commit leaves no trace.
    {
        let tx = s.begin_ingest().await.expect("begin");
        assert!(tx.record_metric_batch(node, 2, 10).await.expect("record"));
        tx.upsert_endpoint_stats(app.id, "GET", "/search", bump("2"))
            .await
            .expect("merge");
        tx.upsert_endpoint_stats(app.id, "GET", "/dropped", bump("2"))
            .await
            .expect("merge");
    }
    let ep = s
        .endpoint(app.id, "GET", "/search")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(count(ep.stats_json().expect("json")), 1);
    assert_eq!(
        s.endpoint(app.id, "GET", "/dropped").await.expect("get"),
        None
    );
    assert_eq!(s.last_metric_batch(node).await.expect("last"), Some(1));
    // Batch 2 can then be ingested for real.
    assert!(s.record_metric_batch(node, 2, 10).await.expect("record"));
    assert!(!s.record_metric_batch(node, 2, 10).await.expect("record"));
    assert_eq!(s.last_metric_batch(node).await.expect("last"), Some(2));
    assert!(matches!(
        s.record_metric_batch(9999, 1, 1).await,
        Err(Error::NotFound(_))
    ));
}

async fn learned_profiles(db: &TestDb) {
    let s = &db.store;
    let app = s.create_application("shop").await.expect("app");
    let ep = s
        .upsert_endpoint(app.id, "POST", "/login")
        .await
        .expect("ep");
    let v1 = json!({"format": "email", "len": [5, 64]});
    let p1 = s
        .put_learned_profile(ep.id, "body > form > email", "format", "m1", &v1)
        .await
        .expect("put");
    assert_eq!(p1.application_id, app.id);
    assert_eq!(p1.profile_json().expect("json"), v1);
    let v2 = json!({"format": "email", "len": [5, 80]});
    let p2 = s
        .put_learned_profile(ep.id, "body > form > email", "format", "m2", &v2)
        .await
        .expect("replace");
    assert_eq!(p2.id, p1.id, "replaced in place");
    assert_eq!(p2.model_version, "m2");
    assert_eq!(p2.profile_json().expect("json"), v2);
    assert_eq!(p2.created_at, p1.created_at);
    let endpoint_level = s
        .put_learned_profile(ep.id, "", "behaviour", "m2", &json!({"rate": 3}))
        .await
        .expect("put");
    let all = s.list_learned_profiles(app.id).await.expect("list");
    assert_eq!(all, vec![endpoint_level, p2]);
    assert!(s
        .delete_learned_profile(ep.id, "", "behaviour")
        .await
        .expect("delete"));
    assert!(!s
        .delete_learned_profile(ep.id, "", "behaviour")
        .await
        .expect("delete"));
    assert_eq!(
        s.list_learned_profiles(app.id).await.expect("list").len(),
        1
    );
    assert!(matches!(
        s.put_learned_profile(9999, "", "k", "m", &json!(1)).await,
        Err(Error::NotFound(_))
    ));
}

crate::on_both!(
    endpoints_and_parameters,
    concurrent_merges_lose_nothing,
    ingest_is_all_or_nothing_and_idempotent,
    learned_profiles,
);
