use std::time::Duration;

use rampart_store::secret::{hash_secret, TOKEN_PREFIX};
use rampart_store::serde_json::json;
use rampart_store::{Error, Heartbeat};

use crate::common::TestDb;

const HOUR: Duration = Duration::from_secs(3600);

async fn enrollment_trades_a_token_once(db: &TestDb) {
    let s = &db.store;
    let app = s.create_application("shop").await.expect("app");
    let tok = s
        .create_enrollment_token(app.id, HOUR)
        .await
        .expect("token");
    assert!(tok.secret.starts_with(TOKEN_PREFIX));
    assert_eq!(tok.row.token_hash, hash_secret(&tok.secret));
    assert_ne!(tok.row.token_hash, tok.secret, "only the hash is stored");
    assert!(tok.row.expires_at > tok.row.created_at);
    assert!(tok.row.used_at.is_none());

    let node = s
        .enroll_node(&tok.secret, "edge-1", "0.1.0")
        .await
        .expect("enroll")
        .expect("token accepted");
    assert_eq!(node.row.application_id, app.id);
    assert_eq!(node.row.name, "edge-1");
    assert_eq!(node.row.credential_hash, hash_secret(&node.secret));
    assert_ne!(node.secret, tok.secret);
    assert_eq!(node.row.counters_json().expect("counters"), json!({}));

    // One-time: the same token is refused afterwards.
    assert!(s
        .enroll_node(&tok.secret, "edge-2", "0.1.0")
        .await
        .expect("enroll")
        .is_none());
    let tokens = s.list_enrollment_tokens(app.id).await.expect("tokens");
    assert_eq!(tokens.len(), 1);
    assert!(tokens[0].used_at.is_some());
    assert_eq!(tokens[0].used_by_node_id, Some(node.row.id));

    // Unknown and expired tokens are refused.
    assert!(s
        .enroll_node("rpt_not-a-token", "x", "0")
        .await
        .expect("enroll")
        .is_none());
    let expired = s
        .create_enrollment_token(app.id, Duration::ZERO)
        .await
        .expect("token");
    assert!(s
        .enroll_node(&expired.secret, "x", "0")
        .await
        .expect("enroll")
        .is_none());

    // Tokens need an existing application.
    assert!(matches!(
        s.create_enrollment_token(9999, HOUR).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        s.enroll_node(&tok.secret, "", "0").await,
        Err(Error::Invalid(_))
    ));
}

async fn concurrent_enrollments_with_one_token_enroll_one_node(db: &TestDb) {
    let app = db.store.create_application("shop").await.expect("app");
    let other = db.another_store().await;
    for round in 0..5 {
        let tok = db
            .store
            .create_enrollment_token(app.id, HOUR)
            .await
            .expect("token");
        let (a, b) = tokio::join!(
            db.store.enroll_node(&tok.secret, "a", "1"),
            other.enroll_node(&tok.secret, "b", "1"),
        );
        let winners = [a.expect("a"), b.expect("b")].into_iter().flatten().count();
        assert_eq!(winners, 1, "round {round}");
    }
    assert_eq!(db.store.list_nodes(app.id).await.expect("nodes").len(), 5);
    other.close().await.expect("close");
}

async fn nodes_authenticate_and_report(db: &TestDb) {
    let s = &db.store;
    let app = s.create_application("shop").await.expect("app");
    let tok = s
        .create_enrollment_token(app.id, HOUR)
        .await
        .expect("token");
    let node = s
        .enroll_node(&tok.secret, "edge-1", "0.1.0")
        .await
        .expect("enroll")
        .expect("accepted");

    let found = s.authenticate_node(&node.secret).await.expect("auth");
    assert_eq!(found.as_ref().map(|n| n.id), Some(node.row.id));
    assert!(s
        .authenticate_node("rpt_wrong")
        .await
        .expect("auth")
        .is_none());
    assert!(s
        .authenticate_node(&tok.secret)
        .await
        .expect("auth")
        .is_none());

    let counters = json!({"requests": 120, "blocked": 3});
    let after = s
        .record_heartbeat(
            node.row.id,
            Heartbeat {
                version: "0.2.0",
                rule_pack_version: Some(7),
                counters: &counters,
            },
        )
        .await
        .expect("heartbeat");
    assert_eq!(after.version, "0.2.0");
    assert_eq!(after.rule_pack_version, Some(7));
    assert!(after.last_heartbeat_at.is_some());
    assert_eq!(after.counters_json().expect("counters"), counters);
    assert_eq!(after.credential_hash, node.row.credential_hash);
    assert_eq!(s.node(node.row.id).await.expect("get"), Some(after.clone()));
    assert!(matches!(
        s.record_heartbeat(
            9999,
            Heartbeat {
                version: "x",
                rule_pack_version: None,
                counters: &counters
            }
        )
        .await,
        Err(Error::NotFound(_))
    ));

    let listed = s.list_nodes(app.id).await.expect("list");
    assert_eq!(listed, vec![after]);

    assert!(s.delete_node(node.row.id).await.expect("delete"));
    assert!(s
        .authenticate_node(&node.secret)
        .await
        .expect("auth")
        .is_none());
    assert!(!s.delete_node(node.row.id).await.expect("delete again"));
    // The token row survives, no longer pointing at the deleted node.
    let tokens = s.list_enrollment_tokens(app.id).await.expect("tokens");
    assert_eq!(tokens[0].used_by_node_id, None);
    assert!(tokens[0].used_at.is_some());
}

crate::on_both!(
    enrollment_trades_a_token_once,
    concurrent_enrollments_with_one_token_enroll_one_node,
    nodes_authenticate_and_report,
);
