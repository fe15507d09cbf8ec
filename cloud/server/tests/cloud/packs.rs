//! Rule packs: rules in, signed packs out, ETags and long-polls, the
//! scheduler.

use std::net::SocketAddr;

use rampart_cloud::{BuildOutcome, Error, RuleOrigin, RuleState};
use rampart_dsl::pack::{keys, Pack, TrustedKeys};

use crate::common::{app_and_node, config, eventually, send, start, Node, Resp, TestDb};

pub const NO_PHP: &str =
    "rule no-php \"No PHP files here\" {\n    when path ~ \"*.php\"\n    then block(404)\n}\n";
pub const NO_ADMIN: &str =
    "rule no-admin \"No admin area\" {\n    endpoint \"/admin/**\"\n    then block\n}\n";

/// `GET /v1/packs/latest` as a node sends it.
pub async fn get_pack(addr: SocketAddr, node: &Node, have: Option<u64>, wait: u64) -> Resp {
    let bearer = node.bearer();
    let etag = have.map(|v| format!("\"{v}\""));
    let prefer = format!("wait={wait}");
    let mut headers = vec![("authorization", bearer.as_str())];
    if let Some(e) = &etag {
        headers.push(("if-none-match", e.as_str()));
    }
    if wait > 0 {
        headers.push(("prefer", prefer.as_str()));
    }
    send(addr, "GET", "/v1/packs/latest", &headers, Vec::new()).await
}

/// Checks a pack as a node does (parse, verify with the keys from
/// enrollment, application, compile) and returns it.
pub fn verified(r: &Resp, node: &Node) -> Pack {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.header("content-type"),
        Some(rampart_cloud::PACK_MEDIA_TYPE)
    );
    let trusted = TrustedKeys::new(
        node.pack_keys
            .iter()
            .map(|k| keys::read_verifying_key(k).expect("pack key"))
            .collect(),
    );
    let pack = Pack::parse(&r.body).expect("parses");
    pack.verify(&trusted)
        .expect("verifies with the enrollment keys");
    assert_eq!(pack.manifest.application, node.application);
    let (_, _, prog) = Pack::open(&r.body, &trusted, Some(&node.application)).expect("opens");
    assert_eq!(prog.rules.len() as u32, pack.manifest.rules);
    assert_eq!(
        r.header("etag"),
        Some(format!("\"{}\"", pack.manifest.version).as_str())
    );
    pack
}

async fn put_build_download(db: &TestDb) {
    let c = start(config(db, "a")).await;
    let node = app_and_node(&c, "shop").await;
    let h = &c.handle;

    // No pack yet: 304 at once without a wait.
    let r = get_pack(c.addr, &node, None, 0).await;
    assert_eq!(r.status, 304);
    let builds = h.build_packs_now().await.expect("build");
    assert_eq!(builds[0].outcome, BuildOutcome::NoRules);

    h.put_rule("shop", "no-php", NO_PHP, RuleOrigin::Custom)
        .await
        .expect("rule compiles");
    let builds = h.build_packs_now().await.expect("build");
    assert_eq!(builds.len(), 1);
    assert_eq!(builds[0].application, "shop");
    assert_eq!(
        builds[0].outcome,
        BuildOutcome::Published {
            version: 1,
            rules: 1
        }
    );
    let r = get_pack(c.addr, &node, None, 0).await;
    let pack = verified(&r, &node);
    assert_eq!(pack.manifest.version, 1);
    assert_eq!(pack.manifest.rules, 1);
    assert_eq!(pack.file("rules/no-php.rules"), Some(NO_PHP));
    // An older version gets the latest at once.
    let r = get_pack(c.addr, &node, Some(0), 30).await;
    assert_eq!(verified(&r, &node).manifest.version, 1);

    // Nothing changed: no new pack, and a node at the current version gets
    // 304 once its short wait ends.
    let builds = h.build_packs_now().await.expect("build");
    assert_eq!(builds[0].outcome, BuildOutcome::Unchanged { version: 1 });
    let r = get_pack(c.addr, &node, Some(1), 1).await;
    assert_eq!(r.status, 304);
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert!(r.body.is_empty());

    // A long-poll that is waiting gets the next pack once it is published.
    let waiting = {
        let node = node.clone();
        let addr = c.addr;
        tokio::spawn(async move { get_pack(addr, &node, Some(1), 30).await })
    };
    eventually("the long-poll to wait", || async {
        h.long_poll_waiters() >= 1
    })
    .await;
    h.put_rule("shop", "no-admin", NO_ADMIN, RuleOrigin::Learned)
        .await
        .expect("rule compiles");
    let builds = h.build_packs_now().await.expect("build");
    assert_eq!(
        builds[0].outcome,
        BuildOutcome::Published {
            version: 2,
            rules: 2
        }
    );
    let r = waiting.await.expect("long-poll task");
    let pack = verified(&r, &node);
    assert_eq!(pack.manifest.version, 2);
    assert_eq!(pack.manifest.rules, 2);
    assert_eq!(
        h.store()
            .rule(h.application("shop").await.expect("app").id, "no-admin")
            .await
            .expect("rule")
            .expect("stored")
            .state,
        RuleState::Monitoring,
        "a new learned rule starts monitoring"
    );

    // A disabled rule leaves the pack; with no rule left, an empty pack
    // replaces the last one.
    h.set_rule_state("shop", "no-admin", RuleState::Disabled)
        .await
        .expect("disable");
    let builds = h.build_packs_now().await.expect("build");
    assert_eq!(
        builds[0].outcome,
        BuildOutcome::Published {
            version: 3,
            rules: 1
        }
    );
    assert!(h.delete_rule("shop", "no-php").await.expect("delete"));
    let builds = h.build_packs_now().await.expect("build");
    assert_eq!(
        builds[0].outcome,
        BuildOutcome::Published {
            version: 4,
            rules: 0
        }
    );
    let r = get_pack(c.addr, &node, Some(3), 0).await;
    assert_eq!(verified(&r, &node).manifest.rules, 0);
    c.stop().await;
}

async fn rules_that_do_not_compile_are_refused(db: &TestDb) {
    let c = start(config(db, "a")).await;
    let _node = app_and_node(&c, "shop").await;
    let h = &c.handle;
    let bad = "rule broken \"Broken\" {\n    when path ~ \n    then block\n}\n";
    match h.put_rule("shop", "broken", bad, RuleOrigin::Custom).await {
        Err(Error::Rule {
            rule, diagnostics, ..
        }) => {
            assert_eq!(rule, "broken");
            assert!(diagnostics.contains("error"), "{diagnostics}");
            assert!(diagnostics.contains("rules/broken.rules"), "{diagnostics}");
        }
        other => panic!("expected a rule error, got {other:?}"),
    }
    // Unknown action.
    let bad = "rule odd \"Odd\" {\n    then explode\n}\n";
    assert!(matches!(
        h.put_rule("shop", "odd", bad, RuleOrigin::Custom).await,
        Err(Error::Rule { .. })
    ));
    // Compiles alone, but its rule id is taken by another stored rule.
    h.put_rule("shop", "no-php", NO_PHP, RuleOrigin::Custom)
        .await
        .expect("compiles");
    match h.put_rule("shop", "copy", NO_PHP, RuleOrigin::Custom).await {
        Err(Error::Rule { summary, .. }) => assert!(summary.contains("other rules"), "{summary}"),
        other => panic!("expected a conflict with the other rules, got {other:?}"),
    }
    // Replacing a rule with a new text of the same rule is fine.
    h.put_rule(
        "shop",
        "no-php",
        &NO_PHP.replace("block(404)", "block(410)"),
        RuleOrigin::Custom,
    )
    .await
    .expect("replaces");
    // Ids that cannot name a pack file, unknown applications.
    assert!(matches!(
        h.put_rule("shop", "../x", NO_PHP, RuleOrigin::Custom).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        h.put_rule("nope", "x", NO_PHP, RuleOrigin::Custom).await,
        Err(Error::UnknownApplication(_))
    ));
    let app = h.application("shop").await.expect("app").id;
    let ids: Vec<String> = h
        .store()
        .list_rules(app)
        .await
        .expect("rules")
        .into_iter()
        .map(|r| r.rule_id)
        .collect();
    assert_eq!(ids, ["no-php"]);
    assert!(matches!(
        h.create_application("bad name").await,
        Err(Error::Invalid(_))
    ));
    c.stop().await;
}

async fn scheduler_publishes_on_its_own(db: &TestDb) {
    let mut cfg = config(db, "a");
    cfg.scheduler = true;
    cfg.pack_schedule_secs = 1;
    let c = start(cfg).await;
    let node = app_and_node(&c, "shop").await;
    let app = c.handle.application("shop").await.expect("app");
    assert_eq!(app.pack_schedule_secs, 1);
    c.handle
        .put_rule("shop", "no-php", NO_PHP, RuleOrigin::Custom)
        .await
        .expect("rule");
    // The node long-polls; the scheduler publishes within its schedule.
    // (Each poll waits up to 2 s; the loop bound is a hang guard.)
    let mut first = None;
    for _ in 0..60 {
        let r = get_pack(c.addr, &node, None, 2).await;
        if r.status == 200 {
            first = Some(r);
            break;
        }
    }
    let first = first.expect("the scheduler never published a pack");
    let version = verified(&first, &node).manifest.version;
    assert_eq!(version, 1);
    // The next rule arrives by itself too.
    c.handle
        .put_rule("shop", "no-admin", NO_ADMIN, RuleOrigin::Custom)
        .await
        .expect("rule");
    let r = get_pack(c.addr, &node, Some(1), 30).await;
    let pack = verified(&r, &node);
    assert_eq!(pack.manifest.version, 2);
    assert_eq!(pack.manifest.rules, 2);
    let stats = c.handle.scheduler_stats();
    assert!(stats.lease_ticks >= 1 && stats.builds >= 2, "{stats:?}");
    c.stop().await;
    // Stopping released the lease.
    assert!(c_lease_free(db).await);
}

async fn c_lease_free(db: &TestDb) -> bool {
    let store = rampart_store::Store::connect(&db.url).await.expect("store");
    store
        .lease(rampart_cloud::PACKS_LEASE)
        .await
        .expect("lease")
        .is_none()
}

async fn shutdown_answers_waiting_long_polls(db: &TestDb) {
    let c = start(config(db, "a")).await;
    let node = app_and_node(&c, "shop").await;
    let waiting = {
        let node = node.clone();
        let addr = c.addr;
        tokio::spawn(async move { get_pack(addr, &node, None, 60).await })
    };
    let h = c.handle.clone();
    eventually("the long-poll to wait", || async {
        h.long_poll_waiters() >= 1
    })
    .await;
    c.stop().await;
    let r = waiting.await.expect("long-poll task");
    assert_eq!(r.status, 304);
}

crate::on_both!(
    put_build_download,
    rules_that_do_not_compile_are_refused,
    scheduler_publishes_on_its_own,
    shutdown_answers_waiting_long_polls
);
