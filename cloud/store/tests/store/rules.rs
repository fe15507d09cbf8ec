use rampart_store::entity::{RuleOrigin, RuleState};
use rampart_store::{Error, NewRule};

use crate::common::TestDb;

fn learned<'a>(id: &'a str, source: &'a str) -> NewRule<'a> {
    NewRule {
        rule_id: id,
        source,
        origin: RuleOrigin::Learned,
        state: RuleState::Monitoring,
        explanation: "seen 10k requests, all integers",
        confidence: Some(0.9),
    }
}

async fn rules_keep_their_state(db: &TestDb) {
    let s = &db.store;
    let app = s.create_application("shop").await.expect("app");
    let r = s
        .put_rule(app.id, learned("id-is-int", "rule a { }"))
        .await
        .expect("put");
    assert_eq!(r.state, RuleState::Monitoring);
    assert_eq!(r.origin, RuleOrigin::Learned);
    assert_eq!(r.confidence, Some(0.9));

    let blocking = s
        .set_rule_state(app.id, "id-is-int", RuleState::Blocking)
        .await
        .expect("state");
    assert_eq!(blocking.state, RuleState::Blocking);
    // Re-emitting the rule updates its text but not the analyst's decision.
    let again = s
        .put_rule(app.id, learned("id-is-int", "rule a { v2 }"))
        .await
        .expect("put");
    assert_eq!(again.id, r.id);
    assert_eq!(again.source, "rule a { v2 }");
    assert_eq!(again.state, RuleState::Blocking);
    assert_eq!(again.created_at, r.created_at);

    let custom = s
        .put_rule(
            app.id,
            NewRule {
                rule_id: "admin-only",
                source: "rule b { }",
                origin: RuleOrigin::Custom,
                state: RuleState::Disabled,
                explanation: "",
                confidence: None,
            },
        )
        .await
        .expect("custom");
    assert_eq!(custom.state, RuleState::Disabled);
    let ids: Vec<String> = s
        .list_rules(app.id)
        .await
        .expect("list")
        .into_iter()
        .map(|r| r.rule_id)
        .collect();
    assert_eq!(ids, ["admin-only", "id-is-int"]);
    assert_eq!(
        s.rule(app.id, "admin-only").await.expect("get"),
        Some(custom)
    );
    assert_eq!(s.rule(app.id, "nope").await.expect("get"), None);

    assert!(matches!(
        s.set_rule_state(app.id, "nope", RuleState::Blocking).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        s.put_rule(9999, learned("x", "y")).await,
        Err(Error::NotFound(_))
    ));
    let mut bad = learned("x", "y");
    bad.confidence = Some(-0.1);
    assert!(matches!(
        s.put_rule(app.id, bad).await,
        Err(Error::Invalid(_))
    ));
    assert!(s.delete_rule(app.id, "admin-only").await.expect("delete"));
    assert!(!s.delete_rule(app.id, "admin-only").await.expect("delete"));
    assert_eq!(s.list_rules(app.id).await.expect("list").len(), 1);
}

async fn rule_packs_version_and_publish(db: &TestDb) {
    let s = &db.store;
    let app = s.create_application("shop").await.expect("app");
    let other_app = s.create_application("blog").await.expect("app");
    assert_eq!(s.next_pack_version(app.id).await.expect("next"), 1);
    assert_eq!(s.latest_published_pack(app.id).await.expect("latest"), None);
    assert_eq!(
        s.latest_published_version(app.id).await.expect("latest"),
        None
    );

    let bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let p1 = s
        .insert_rule_pack(app.id, 1, "sha256:aa", &bytes)
        .await
        .expect("insert");
    assert!(!p1.published);
    assert_eq!(p1.bytes, bytes, "binary round-trips");
    assert!(matches!(
        s.insert_rule_pack(app.id, 1, "sha256:bb", b"x").await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        s.insert_rule_pack(app.id, 0, "sha256:bb", b"x").await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        s.insert_rule_pack(9999, 1, "sha256:bb", b"x").await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(s.next_pack_version(app.id).await.expect("next"), 2);
    assert_eq!(s.next_pack_version(other_app.id).await.expect("next"), 1);
    assert_eq!(
        s.latest_published_pack(app.id).await.expect("latest"),
        None,
        "unpublished packs are not served"
    );

    let pub1 = s.publish_rule_pack(app.id, 1).await.expect("publish");
    assert!(pub1.published);
    let at = pub1.published_at.expect("published_at");
    let pub1_again = s.publish_rule_pack(app.id, 1).await.expect("publish again");
    assert_eq!(
        pub1_again.published_at,
        Some(at),
        "publishing is idempotent"
    );
    s.insert_rule_pack(app.id, 2, "sha256:cc", b"two")
        .await
        .expect("insert 2");
    assert_eq!(
        s.latest_published_pack(app.id)
            .await
            .expect("latest")
            .map(|p| p.version),
        Some(1)
    );
    s.publish_rule_pack(app.id, 2).await.expect("publish 2");
    let latest = s
        .latest_published_pack(app.id)
        .await
        .expect("latest")
        .expect("some");
    assert_eq!((latest.version, latest.bytes.as_slice()), (2, &b"two"[..]));
    assert_eq!(
        s.latest_published_version(app.id).await.expect("v"),
        Some(2)
    );
    assert_eq!(
        s.rule_pack(app.id, 1)
            .await
            .expect("by version")
            .map(|p| p.digest),
        Some("sha256:aa".to_owned())
    );
    assert_eq!(
        s.rule_pack(other_app.id, 1).await.expect("by version"),
        None
    );
    assert!(matches!(
        s.publish_rule_pack(app.id, 42).await,
        Err(Error::NotFound(_))
    ));
}

crate::on_both!(rules_keep_their_state, rule_packs_version_and_publish);
