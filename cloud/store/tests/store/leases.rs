use std::time::Duration;

use rampart_store::chrono::{Duration as Span, SubsecRound, Utc};
use rampart_store::Store;

use crate::common::TestDb;

const TTL: Duration = Duration::from_secs(30);

async fn lease_lifecycle(db: &TestDb) {
    let s = &db.store;
    let t0 = Utc::now().trunc_subsecs(6);
    assert!(s
        .try_acquire_lease_at("pack:1", "a", TTL, t0)
        .await
        .expect("a"));
    assert!(!s
        .try_acquire_lease_at("pack:1", "b", TTL, t0)
        .await
        .expect("b"));
    // Other jobs are independent.
    assert!(s
        .try_acquire_lease_at("learn:1", "b", TTL, t0)
        .await
        .expect("b"));
    // The holder renews.
    let t1 = t0 + Span::seconds(20);
    assert!(s
        .try_acquire_lease_at("pack:1", "a", TTL, t1)
        .await
        .expect("renew"));
    let row = s.lease("pack:1").await.expect("get").expect("row");
    assert_eq!(
        (row.holder.as_str(), row.expires_at),
        ("a", t1 + Span::seconds(30))
    );
    // Still held at the old expiry, because renewed.
    let t2 = t0 + Span::seconds(31);
    assert!(!s
        .try_acquire_lease_at("pack:1", "b", TTL, t2)
        .await
        .expect("b"));
    // Expired: taken over; the old holder lost it.
    let t3 = t1 + Span::seconds(31);
    assert!(s
        .try_acquire_lease_at("pack:1", "b", TTL, t3)
        .await
        .expect("b"));
    assert!(!s
        .try_acquire_lease_at("pack:1", "a", TTL, t3)
        .await
        .expect("a"));
    // Only the holder releases.
    assert!(!s.release_lease("pack:1", "a").await.expect("release"));
    assert!(s.release_lease("pack:1", "b").await.expect("release"));
    assert!(s.lease("pack:1").await.expect("get").is_none());
    assert!(s.try_acquire_lease("pack:1", "a", TTL).await.expect("a"));
    assert!(s
        .try_acquire_lease("pack:1", "a", TTL)
        .await
        .expect("a renews"));
    assert!(!s.try_acquire_lease("pack:1", "b", TTL).await.expect("b"));
    assert!(s.try_acquire_lease("x", "", TTL).await.is_err());
}

async fn racing_replicas_get_one_lease(db: &TestDb) {
    let other = db.another_store().await;
    let stores = [db.store.clone(), other.clone()];
    for round in 0..10 {
        let name = format!("job-{round}");
        // Half the rounds race for a fresh lease, half for an expired one.
        let at = if round % 2 == 1 {
            let past = Utc::now() - Span::minutes(5);
            assert!(db
                .store
                .try_acquire_lease_at(&name, "old", TTL, past)
                .await
                .expect("old"));
            Utc::now()
        } else {
            Utc::now()
        };
        let racers = (0..8).map(|i| {
            let s: Store = stores[i % 2].clone();
            let name = name.clone();
            tokio::spawn(async move {
                s.try_acquire_lease_at(&name, &format!("replica-{i}"), TTL, at)
                    .await
                    .expect("acquire")
            })
        });
        let mut winners = 0;
        for r in racers.collect::<Vec<_>>() {
            if r.await.expect("join") {
                winners += 1;
            }
        }
        assert_eq!(
            winners, 1,
            "round {round}: exactly one replica holds the lease"
        );
        let row = db.store.lease(&name).await.expect("get").expect("row");
        assert!(row.holder.starts_with("replica-"));
    }
    other.close().await.expect("close");
}

crate::on_both!(lease_lifecycle, racing_replicas_get_one_lease);
