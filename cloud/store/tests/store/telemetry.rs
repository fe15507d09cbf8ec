use rampart_store::chrono::{Duration as Span, SubsecRound, Utc};
use rampart_store::{Error, NewAttackEvent, Timestamp};

use crate::common::{node_of, TestDb};

fn event(at: Timestamp, request: &str, rule: &str) -> NewAttackEvent {
    NewAttackEvent {
        occurred_at: at,
        endpoint: "POST /login".into(),
        point: "body > form > user".into(),
        class: "sqli".into(),
        rule: rule.into(),
        score: 55,
        action: "block".into(),
        payload: "admin'--".into(),
        request_id: request.into(),
    }
}

async fn attack_events_dedup_and_list(db: &TestDb) {
    let s = &db.store;
    let app = s.create_application("shop").await.expect("app");
    let n1 = node_of(s, app.id, "n1").await;
    let n2 = node_of(s, app.id, "n2").await;
    let t0 = Utc::now().trunc_subsecs(6) - Span::hours(1);

    let batch = vec![
        event(t0, "r1", "sqli-1"),
        event(t0 + Span::seconds(1), "r1", "sqli-2"),
        event(t0 + Span::seconds(2), "r2", "sqli-1"),
    ];
    assert_eq!(s.insert_attack_events(n1, &batch).await.expect("insert"), 3);
    // A retried upload stores nothing new...
    assert_eq!(s.insert_attack_events(n1, &batch).await.expect("retry"), 0);
    // ...a partly new one stores the new part...
    let mut more = batch.clone();
    more.push(event(t0 + Span::seconds(3), "r3", "sqli-1"));
    assert_eq!(s.insert_attack_events(n1, &more).await.expect("more"), 1);
    // ...and the same request id from another node is another event.
    assert_eq!(
        s.insert_attack_events(n2, &batch[..1]).await.expect("n2"),
        1
    );
    assert_eq!(s.insert_attack_events(n1, &[]).await.expect("empty"), 0);
    assert!(matches!(
        s.insert_attack_events(9999, &batch).await,
        Err(Error::NotFound(_))
    ));

    let all = s.list_attack_events(app.id, None, 100).await.expect("list");
    assert_eq!(all.len(), 5);
    // Read in id order from a watermark, a page at a time.
    let first = s.attack_events_after(0, 3).await.expect("after 0");
    assert_eq!(first.len(), 3);
    assert!(first.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
    let rest = s
        .attack_events_after(first[2].id, 100)
        .await
        .expect("after page");
    assert_eq!(rest.len(), 2);
    assert!(rest.iter().all(|e| e.id > first[2].id));
    // Where a reader that only wants recent events starts.
    let oldest = first[0].id;
    assert_eq!(
        s.attack_event_id_before(t0 - Span::hours(1))
            .await
            .expect("all recent"),
        oldest - 1
    );
    let newest_id = rest.iter().map(|e| e.id).max().expect("ids");
    assert_eq!(
        s.attack_event_id_before(t0 + Span::hours(2))
            .await
            .expect("none recent"),
        newest_id
    );
    assert!(
        all.windows(2).all(|w| w[0].occurred_at >= w[1].occurred_at),
        "newest first"
    );
    let newest = &all[0];
    assert_eq!(newest.request_id, "r3");
    assert_eq!(
        newest.occurred_at,
        t0 + Span::seconds(3),
        "time round-trips"
    );
    assert_eq!(newest.application_id, app.id);
    assert_eq!(newest.payload, "admin'--");
    assert_eq!(newest.score, 55);
    let recent = s
        .list_attack_events(app.id, Some(t0 + Span::seconds(2)), 100)
        .await
        .expect("since");
    assert_eq!(recent.len(), 2);
    assert_eq!(
        s.list_attack_events(app.id, None, 2)
            .await
            .expect("limit")
            .len(),
        2
    );

    assert_eq!(
        s.prune_attack_events(t0 + Span::seconds(1))
            .await
            .expect("prune"),
        2,
        "the two events at t0 (n1 and n2)"
    );
    assert_eq!(
        s.list_attack_events(app.id, None, 100)
            .await
            .expect("list")
            .len(),
        3
    );
}

async fn large_batches_are_chunked(db: &TestDb) {
    let s = &db.store;
    let app = s.create_application("shop").await.expect("app");
    let node = node_of(s, app.id, "n").await;
    let t0 = Utc::now();
    let batch: Vec<NewAttackEvent> = (0..1234)
        .map(|i| event(t0, &format!("r{i}"), "xss-1"))
        .collect();
    assert_eq!(
        s.insert_attack_events(node, &batch).await.expect("insert"),
        1234
    );
    assert_eq!(
        s.insert_attack_events(node, &batch).await.expect("retry"),
        0
    );
    assert_eq!(
        s.list_attack_events(app.id, None, 5000)
            .await
            .expect("list")
            .len(),
        1234
    );
}

async fn concurrent_retries_store_each_event_once(db: &TestDb) {
    let app = db.store.create_application("shop").await.expect("app");
    let node = node_of(&db.store, app.id, "n").await;
    let other = db.another_store().await;
    let t0 = Utc::now();
    let batch: Vec<NewAttackEvent> = (0..200)
        .map(|i| event(t0, &format!("r{i}"), "rce-1"))
        .collect();
    let (a, b) = tokio::join!(
        db.store.insert_attack_events(node, &batch),
        other.insert_attack_events(node, &batch),
    );
    assert_eq!(a.expect("a") + b.expect("b"), 200);
    let (a, b) = tokio::join!(
        db.store.record_metric_batch(node, 9, 1),
        other.record_metric_batch(node, 9, 1),
    );
    assert!(a.expect("a") ^ b.expect("b"), "exactly one ingests batch 9");
    other.close().await.expect("close");
}

crate::on_both!(
    attack_events_dedup_and_list,
    large_batches_are_chunked,
    concurrent_retries_store_each_event_once,
);
