//! The learners in the cloud: batches uploaded over HTTP become templates,
//! formats, client windows and learned rules; the learning loop runs under
//! its lease.

use rampart_cloud::{LearningConfig, RuleOrigin, RuleState, LEARNING_LEASE};
use rampart_telemetry::Batch;

use crate::common::{app_and_node, config, eventually, sample_batch, start, upload, TestDb};

/// `n` uploads of the sample batch (numbered 1..=n), with the windows' times
/// moved to now so that the client windows are within the retention.
async fn upload_many(addr: std::net::SocketAddr, node: &crate::common::Node, n: u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    for seq in 1..=n {
        let mut b: Batch = sample_batch(seq);
        b.window_start = now - 10;
        b.window_end = now;
        for c in &mut b.clients {
            c.first = now - 5;
            c.last = now;
        }
        assert_eq!(upload(addr, node, &b, seq % 2 == 0).await.status, 200);
    }
}

async fn a_learning_run_writes_templates_formats_and_monitoring_rules(db: &TestDb) {
    let mut cfg = config(db, "r1");
    cfg.learning = LearningConfig {
        enabled: false,
        ..LearningConfig::default()
    };
    let r = start(cfg).await;
    let node = app_and_node(&r, "shop").await;
    upload_many(r.addr, &node, 40).await;
    let store = r.handle.store();
    let app = r.handle.application("shop").await.expect("app");
    // The batches' client aggregates are kept for the behaviour layer.
    let windows = store
        .client_windows_after(app.id, 0, 10_000)
        .await
        .expect("windows");
    assert_eq!(windows.len(), 40 * 4, "4 clients in each of 40 batches");

    let report = r.handle.learn_now("shop").await.expect("learn");
    assert!(report.templates >= 3, "{report:?}");
    let eps = store
        .list_learned_endpoints(app.id)
        .await
        .expect("endpoints");
    let login = eps
        .iter()
        .find(|e| e.method == "POST" && e.template == "/login")
        .expect("POST /login learned");
    assert_eq!(login.function_label.as_deref(), Some("login"), "{eps:?}");
    assert!(eps
        .iter()
        .any(|e| e.method == "POST" && e.template == "/api/orders/{id}"));
    // Every parameter has a format and a confidence (the values of this
    // sample are too uniform to say which: one quantity, one page size).
    let params = store
        .list_application_parameters(app.id)
        .await
        .expect("parameters");
    assert!(params.len() >= 5);
    for p in &params {
        assert!(p.format_label.is_some(), "{p:?}");
        assert!(p
            .format_confidence
            .is_some_and(|c| (0.0..=1.0).contains(&c)));
    }
    // Learned rules, all monitoring, each with its evidence.
    let rules: Vec<_> = store
        .list_rules(app.id)
        .await
        .expect("rules")
        .into_iter()
        .filter(|r| r.origin == RuleOrigin::Learned)
        .collect();
    assert!(!rules.is_empty());
    for rule in &rules {
        assert_eq!(rule.state, RuleState::Monitoring, "{}", rule.rule_id);
        assert!(!rule.explanation.is_empty());
        assert!(rule.source.contains("then monitor"), "{}", rule.source);
    }
    assert!(
        rules
            .iter()
            .any(|r| r.rule_id.starts_with("learned.format.")),
        "{:?}",
        rules.iter().map(|r| &r.rule_id).collect::<Vec<_>>()
    );
    // An operator's edit pins a rule: the next run leaves it alone.
    let pinned = &rules[0];
    let edited = pinned.source.replace("then monitor", "then block(403)");
    r.handle
        .put_rule("shop", &pinned.rule_id, &edited, RuleOrigin::Custom)
        .await
        .expect("edit");
    r.handle.learn_now("shop").await.expect("relearn");
    let after = store
        .rule(app.id, &pinned.rule_id)
        .await
        .expect("rule")
        .expect("kept");
    assert_eq!(after.source, edited);
    assert_eq!(after.origin, RuleOrigin::Custom);
    // The pack carries the learned rules and builds.
    let builds = r.handle.build_packs_now().await.expect("build");
    assert!(
        builds
            .iter()
            .any(|b| matches!(b.outcome, rampart_cloud::BuildOutcome::Published { .. })),
        "{builds:?}"
    );
    r.stop().await;
}

async fn the_learning_loop_runs_under_its_lease(db: &TestDb) {
    let mut cfg = config(db, "r1");
    cfg.learning = LearningConfig {
        enabled: true,
        interval_secs: 1,
        behaviour_tick_secs: 1,
        ..LearningConfig::default()
    };
    let r = start(cfg).await;
    let node = app_and_node(&r, "shop").await;
    upload_many(r.addr, &node, 5).await;
    let store = r.handle.store().clone();
    let app = r.handle.application("shop").await.expect("app");
    eventually("the loop learns the templates", || {
        let store = store.clone();
        async move {
            !store
                .list_learned_endpoints(app.id)
                .await
                .unwrap_or_default()
                .is_empty()
        }
    })
    .await;
    let lease = store
        .lease(LEARNING_LEASE)
        .await
        .expect("lease")
        .expect("held");
    assert_eq!(lease.holder, "r1");
    r.stop().await;
}

crate::on_both!(
    a_learning_run_writes_templates_formats_and_monitoring_rules,
    the_learning_loop_runs_under_its_lease,
);
