use rampart_store::{NewBehaviourAlert, NewClientWindow, NewLearnedEndpoint};

use crate::common::{node_of, TestDb};

fn window(end: i64, client: &str) -> NewClientWindow {
    NewClientWindow {
        window_start: end - 10,
        window_end: end,
        client: client.into(),
        kind: "ip".into(),
        stats: format!(r#"{{"client":"{client}","requests":3}}"#),
    }
}

fn template(method: &str, t: &str, change: &str) -> NewLearnedEndpoint {
    NewLearnedEndpoint {
        method: method.into(),
        template: t.into(),
        operation: String::new(),
        function_label: Some("product_view".into()),
        function_confidence: Some(0.9),
        change: change.into(),
        detail: "{}".into(),
    }
}

async fn client_windows_are_stored_listed_and_pruned(db: &TestDb) {
    let s = &db.store;
    let app = s.create_application("shop").await.expect("app");
    let other = s.create_application("blog").await.expect("app");
    let node = node_of(s, app.id, "n1").await;
    let ing = s.begin_ingest().await.expect("begin");
    let rows: Vec<_> = (0..2500)
        .map(|i| window(100 + i % 5, &format!("c{i}")))
        .collect();
    ing.insert_client_windows(app.id, node, &rows)
        .await
        .expect("insert");
    ing.commit().await.expect("commit");
    // A rolled-back ingest stores nothing.
    let ing = s.begin_ingest().await.expect("begin");
    ing.insert_client_windows(app.id, node, &[window(500, "x")])
        .await
        .expect("insert");
    ing.rollback().await.expect("rollback");

    let all = s
        .client_windows_after(app.id, 0, 10_000)
        .await
        .expect("list");
    assert_eq!(all.len(), 2500);
    assert!(all.windows(2).all(|w| w[0].window_end <= w[1].window_end));
    let late = s
        .client_windows_after(app.id, 103, 10_000)
        .await
        .expect("list");
    assert_eq!(late.len(), 500);
    assert!(late.iter().all(|w| w.window_end == 104));
    assert_eq!(
        s.client_windows_after(app.id, 0, 7)
            .await
            .expect("list")
            .len(),
        7
    );
    assert!(s
        .client_windows_after(other.id, 0, 10)
        .await
        .expect("list")
        .is_empty());
    assert_eq!(s.prune_client_windows(102).await.expect("prune"), 1000);
    assert_eq!(
        s.client_windows_after(app.id, 0, 10_000)
            .await
            .expect("list")
            .len(),
        1500
    );
}

async fn templates_are_upserted_and_gone_ones_kept(db: &TestDb) {
    let s = &db.store;
    let app = s.create_application("shop").await.expect("app");
    s.put_learned_endpoints(
        app.id,
        &[
            template("GET", "/products/{product_id}", "new"),
            template("POST", "/login", "new"),
        ],
    )
    .await
    .expect("put");
    let first = s.list_learned_endpoints(app.id).await.expect("list");
    assert_eq!(first.len(), 2);
    // The next run finds the product page changed and the login gone.
    s.put_learned_endpoints(
        app.id,
        &[template("GET", "/products/{product_id}", "changed")],
    )
    .await
    .expect("put");
    let second = s.list_learned_endpoints(app.id).await.expect("list");
    assert_eq!(second.len(), 2, "{second:?}");
    let product = second
        .iter()
        .find(|e| e.template == "/products/{product_id}")
        .expect("product");
    let login = second
        .iter()
        .find(|e| e.template == "/login")
        .expect("login");
    assert_eq!(product.change, "changed");
    assert_eq!(login.change, "gone");
    let same_id = first
        .iter()
        .find(|e| e.template == "/products/{product_id}")
        .expect("p");
    assert_eq!(product.id, same_id.id, "updated in place, not duplicated");
    assert_eq!(product.first_seen_at, same_id.first_seen_at);
    assert!(s
        .put_learned_endpoints(app.id, &[template("", "/x", "new")])
        .await
        .is_err());
}

async fn behaviour_alerts_are_deduplicated(db: &TestDb) {
    let s = &db.store;
    let app = s.create_application("shop").await.expect("app");
    let a = NewBehaviourAlert {
        client: "c1".into(),
        kind: "ip".into(),
        threat: "brute_force".into(),
        score: 4.5,
        explanation: "41 failed logins in 60 s".into(),
        window_end: 200,
    };
    assert!(s.insert_behaviour_alert(app.id, &a).await.expect("insert"));
    assert!(!s.insert_behaviour_alert(app.id, &a).await.expect("again"));
    let later = NewBehaviourAlert {
        window_end: 210,
        ..a.clone()
    };
    assert!(s
        .insert_behaviour_alert(app.id, &later)
        .await
        .expect("later"));
    let all = s.list_behaviour_alerts(app.id, 0).await.expect("list");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].window_end, 200);
    assert_eq!(
        s.list_behaviour_alerts(app.id, 200)
            .await
            .expect("list")
            .len(),
        1
    );
}

crate::on_both!(
    client_windows_are_stored_listed_and_pruned,
    templates_are_upserted_and_gone_ones_kept,
    behaviour_alerts_are_deduplicated,
);
