//! Two replicas on one database: both serve the same nodes, one builds the
//! packs (the lease), and a long-poll on one sees a pack the other
//! published.

use rampart_cloud::RuleOrigin;

use crate::common::{config, enroll, eventually, sample_batch, start, upload, TestDb};
use crate::packs::{get_pack, verified, NO_ADMIN, NO_PHP};

async fn both_serve_and_one_builds(db: &TestDb) {
    let scheduled = |name: &str| {
        let mut cfg = config(db, name);
        cfg.scheduler = true;
        cfg.pack_schedule_secs = 1;
        cfg
    };
    let a = start(scheduled("replica-a")).await;
    let b = start(scheduled("replica-b")).await;
    a.handle.create_application("shop").await.expect("app");
    // A token made on A enrolls through B; B's node uploads through A.
    let token = a
        .handle
        .create_enrollment_token("shop", rampart_cloud::DEFAULT_TOKEN_TTL)
        .await
        .expect("token");
    let node = enroll(b.addr, &token, "edge-1").await;
    let r = upload(a.addr, &node, &sample_batch(1), true).await;
    assert_eq!(r.json(), serde_json::json!({"accepted": true}));
    let r = upload(b.addr, &node, &sample_batch(1), true).await;
    assert_eq!(r.json(), serde_json::json!({"accepted": false}));

    b.handle
        .put_rule("shop", "no-php", NO_PHP, RuleOrigin::Custom)
        .await
        .expect("rule");
    // Whichever replica holds the lease publishes; both serve the pack.
    let mut first = None;
    for _ in 0..60 {
        let r = get_pack(a.addr, &node, None, 2).await;
        if r.status == 200 {
            first = Some(r);
            break;
        }
    }
    let first = first.expect("no replica published a pack");
    assert_eq!(verified(&first, &node).manifest.version, 1);
    let r = get_pack(b.addr, &node, None, 0).await;
    assert_eq!(verified(&r, &node).manifest.version, 1);

    // Let a few schedule ticks pass: only the lease holder ever builds.
    eventually("a few scheduler ticks", || async {
        a.handle.scheduler_stats().lease_ticks + b.handle.scheduler_stats().lease_ticks >= 4
    })
    .await;
    let (sa, sb) = (a.handle.scheduler_stats(), b.handle.scheduler_stats());
    assert!(
        (sa.lease_ticks == 0) != (sb.lease_ticks == 0),
        "exactly one replica holds the lease: {sa:?} {sb:?}"
    );
    assert!(
        (sa.builds == 0) != (sb.builds == 0),
        "exactly one replica builds: {sa:?} {sb:?}"
    );
    let app = a.handle.application("shop").await.expect("app").id;
    let lease = a
        .handle
        .store()
        .lease(rampart_cloud::PACKS_LEASE)
        .await
        .expect("lease")
        .expect("held");
    let holder = if sa.lease_ticks > 0 {
        "replica-a"
    } else {
        "replica-b"
    };
    assert_eq!(lease.holder, holder);
    // The unchanged rules were not published again.
    assert_eq!(
        a.handle
            .store()
            .latest_published_version(app)
            .await
            .expect("version"),
        Some(1)
    );
    a.stop().await;
    b.stop().await;
}

async fn long_poll_sees_another_replicas_pack(db: &TestDb) {
    let a = start(config(db, "replica-a")).await;
    let b = start(config(db, "replica-b")).await;
    a.handle.create_application("shop").await.expect("app");
    let token = a
        .handle
        .create_enrollment_token("shop", rampart_cloud::DEFAULT_TOKEN_TTL)
        .await
        .expect("token");
    let node = enroll(b.addr, &token, "edge-1").await;
    assert_eq!(node.pack_keys, vec![a.handle.pack_public_key_hex()]);

    // The node waits on B; A publishes: B finds it in the database.
    let waiting = {
        let node = node.clone();
        let addr = b.addr;
        tokio::spawn(async move { get_pack(addr, &node, None, 30).await })
    };
    eventually("the long-poll to wait on B", || async {
        b.handle.long_poll_waiters() >= 1
    })
    .await;
    a.handle
        .put_rule("shop", "no-php", NO_PHP, RuleOrigin::Custom)
        .await
        .expect("rule");
    a.handle.build_packs_now().await.expect("build");
    let r = waiting.await.expect("long-poll task");
    assert_eq!(verified(&r, &node).manifest.version, 1);

    // And the other way round, with a node that runs version 1.
    let waiting = {
        let node = node.clone();
        let addr = a.addr;
        tokio::spawn(async move { get_pack(addr, &node, Some(1), 30).await })
    };
    eventually("the long-poll to wait on A", || async {
        a.handle.long_poll_waiters() >= 1
    })
    .await;
    b.handle
        .put_rule("shop", "no-admin", NO_ADMIN, RuleOrigin::Custom)
        .await
        .expect("rule");
    b.handle.build_packs_now().await.expect("build");
    let r = waiting.await.expect("long-poll task");
    let pack = verified(&r, &node);
    assert_eq!(pack.manifest.version, 2);
    assert_eq!(pack.manifest.rules, 2);
    a.stop().await;
    b.stop().await;
}

crate::on_both!(
    both_serve_and_one_builds,
    long_poll_sees_another_replicas_pack
);
