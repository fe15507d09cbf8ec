//! `GET /metrics`: a real replica on 127.0.0.1 (SQLite, and PostgreSQL when
//! `RAMPART_TEST_POSTGRES` is set) driven through the node protocol: an
//! enrollment, batches (ingested, a retry, a refused one), a heartbeat,
//! pack builds and a long-poll show in its Prometheus text.

// Test bodies are plain async fns run by the `on_both!` tests: a failed
// expectation is a panic, as in any test.
#![allow(clippy::panic, clippy::unwrap_used)]

#[path = "cloud/common.rs"]
mod common;

use std::net::SocketAddr;

use rampart_cloud::RuleOrigin;

use crate::common::{app_and_node, config, eventually, sample_batch, send, start, upload, TestDb};

const NO_PHP: &str =
    "rule no-php \"No PHP files here\" {\n    when path ~ \"*.php\"\n    then block(404)\n}\n";
const NO_ADMIN: &str =
    "rule no-admin \"No admin area\" {\n    endpoint \"/admin/**\"\n    then block\n}\n";

/// The replica's Prometheus text, checked for well-formedness.
async fn scrape(addr: SocketAddr) -> String {
    let r = send(addr, "GET", "/metrics", &[], Vec::new()).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let ct = r.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = String::from_utf8(r.body).expect("UTF-8");
    well_formed(&text);
    text
}

/// What a scraper checks: each family has HELP then TYPE once, every
/// sample belongs to the family declared before it and has a number.
fn well_formed(text: &str) {
    let mut seen = std::collections::HashSet::new();
    let mut family = (String::new(), String::new());
    let mut help = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            help = rest.split(' ').next().unwrap_or_default().to_owned();
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let name = it.next().unwrap_or_default().to_owned();
            let kind = it.next().unwrap_or_default().to_owned();
            assert_eq!(help, name, "HELP before TYPE: {line}");
            assert!(seen.insert(name.clone()), "{name} declared twice");
            assert!(
                ["counter", "gauge", "histogram"].contains(&kind.as_str()),
                "{line}"
            );
            family = (name, kind);
            continue;
        }
        let (name, kind) = &family;
        let sample = line.split(['{', ' ']).next().unwrap_or_default();
        let ok = sample == name
            || (kind == "histogram"
                && [
                    format!("{name}_bucket"),
                    format!("{name}_sum"),
                    format!("{name}_count"),
                ]
                .iter()
                .any(|s| s == sample));
        assert!(ok, "{line} is not of family {name}");
        if kind == "counter" {
            assert!(name.ends_with("_total"), "counter {name}");
        }
        let value = line.rsplit(' ').next().unwrap_or_default();
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
}

/// The value of `series` (name and labels as rendered); panics when it is
/// missing.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

fn api(endpoint: &str, class: &str) -> String {
    format!("rampart_cloud_node_api_requests_total{{endpoint=\"{endpoint}\",status=\"{class}\"}}")
}

async fn metrics_follow_the_node_protocol(db: &TestDb) {
    let c = start(config(db, "a")).await;

    // A fresh replica: every counter at zero, no application.
    let m = scrape(c.addr).await;
    assert_eq!(metric(&m, &api("enroll", "2xx")), 0.0);
    assert_eq!(
        metric(&m, "rampart_cloud_batches_total{result=\"ingested\"}"),
        0.0
    );
    assert!(!m.contains("rampart_cloud_nodes{"), "{m}");
    assert!(m.contains("rampart_cloud_build_info{version=\""), "{m}");

    // Enrollment: one node, not yet alive (no heartbeat).
    let node = app_and_node(&c, "shop").await;
    let m = scrape(c.addr).await;
    assert_eq!(metric(&m, &api("enroll", "2xx")), 1.0);
    assert_eq!(metric(&m, "rampart_cloud_nodes{app=\"shop\"}"), 1.0);
    assert_eq!(metric(&m, "rampart_cloud_nodes_alive{app=\"shop\"}"), 0.0);
    assert_eq!(metric(&m, "rampart_cloud_pack_version{app=\"shop\"}"), 0.0);

    // A batch, its retry, and one the cloud refuses.
    let batch = sample_batch(1);
    assert!(batch.requests > 0 && batch.blocked > 0, "{batch:?}");
    assert_eq!(upload(c.addr, &node, &batch, true).await.status, 200);
    assert_eq!(upload(c.addr, &node, &batch, false).await.status, 200);
    let mut bad = sample_batch(2);
    bad.version = 99;
    assert_eq!(upload(c.addr, &node, &bad, true).await.status, 400);
    let m = scrape(c.addr).await;
    assert_eq!(
        metric(&m, "rampart_cloud_batches_total{result=\"ingested\"}"),
        1.0
    );
    assert_eq!(
        metric(&m, "rampart_cloud_batches_total{result=\"duplicate\"}"),
        1.0
    );
    assert_eq!(
        metric(&m, "rampart_cloud_batches_total{result=\"refused\"}"),
        1.0
    );
    assert_eq!(metric(&m, &api("batches", "2xx")), 2.0);
    assert_eq!(metric(&m, &api("batches", "4xx")), 1.0);
    assert_eq!(
        metric(&m, "rampart_cloud_reported_requests_total"),
        batch.requests as f64
    );
    assert_eq!(
        metric(&m, "rampart_cloud_reported_blocked_total"),
        batch.blocked as f64
    );
    let events = c
        .handle
        .store()
        .list_attack_events(c.handle.application("shop").await.unwrap().id, None, 100)
        .await
        .unwrap()
        .len();
    assert!(events > 0);
    assert_eq!(
        metric(&m, "rampart_cloud_attack_events_total"),
        events as f64
    );

    // A call without a credential is a 4xx of its endpoint.
    let r = send(c.addr, "POST", "/v1/heartbeat", &[], b"{}".to_vec()).await;
    assert_eq!(r.status, 401);
    // A heartbeat: the node is alive.
    let bearer = node.bearer();
    let r = send(
        c.addr,
        "POST",
        "/v1/heartbeat",
        &[
            ("authorization", bearer.as_str()),
            ("content-type", "application/json"),
        ],
        br#"{"version":"0.1.0","pack_version":null,"counters":{"requests":7}}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, 200);
    let m = scrape(c.addr).await;
    assert_eq!(metric(&m, &api("heartbeat", "2xx")), 1.0);
    assert_eq!(metric(&m, &api("heartbeat", "4xx")), 1.0);
    assert_eq!(metric(&m, "rampart_cloud_nodes_alive{app=\"shop\"}"), 1.0);

    // Pack builds: published, then unchanged.
    let h = &c.handle;
    h.put_rule("shop", "no-php", NO_PHP, RuleOrigin::Custom)
        .await
        .unwrap();
    h.build_packs_now().await.unwrap();
    h.build_packs_now().await.unwrap();
    let m = scrape(c.addr).await;
    assert_eq!(
        metric(&m, "rampart_cloud_pack_builds_total{outcome=\"published\"}"),
        1.0
    );
    assert_eq!(
        metric(&m, "rampart_cloud_pack_builds_total{outcome=\"unchanged\"}"),
        1.0
    );
    assert_eq!(metric(&m, "rampart_cloud_pack_version{app=\"shop\"}"), 1.0);

    // A long-poll waits (a gauge), and ends when the next pack is out.
    let (addr, n2) = (c.addr, node.clone());
    let poll = tokio::spawn(async move {
        let b = n2.bearer();
        send(
            addr,
            "GET",
            "/v1/packs/latest",
            &[
                ("authorization", b.as_str()),
                ("if-none-match", "\"1\""),
                ("prefer", "wait=30"),
            ],
            Vec::new(),
        )
        .await
    });
    eventually("a long-poll waiting", || async {
        metric(&scrape(addr).await, "rampart_cloud_pack_long_poll_waiters") == 1.0
    })
    .await;
    h.put_rule("shop", "no-admin", NO_ADMIN, RuleOrigin::Custom)
        .await
        .unwrap();
    h.build_packs_now().await.unwrap();
    assert_eq!(poll.await.unwrap().status, 200);
    let m = scrape(c.addr).await;
    assert_eq!(metric(&m, "rampart_cloud_pack_long_poll_waiters"), 0.0);
    assert_eq!(metric(&m, "rampart_cloud_pack_version{app=\"shop\"}"), 2.0);
    assert_eq!(metric(&m, &api("pack_latest", "2xx")), 1.0);

    // A learning run: counted, with its duration.
    h.learn_now("shop").await.unwrap();
    let m = scrape(c.addr).await;
    assert!(metric(&m, "rampart_cloud_learning_runs_total{result=\"ok\"}") >= 1.0);
    assert!(metric(&m, "rampart_cloud_learning_run_seconds_count") >= 1.0);
    assert!(metric(&m, "rampart_cloud_learning_run_seconds_bucket{le=\"+Inf\"}") >= 1.0);
    c.stop().await;
}

/// Label values are escaped: an application name cannot hold a quote, but
/// the text stays valid whatever the names.
async fn every_application_has_its_gauges(db: &TestDb) {
    let c = start(config(db, "a")).await;
    for app in ["shop", "blog.v2", "a_b-c"] {
        c.handle.create_application(app).await.unwrap();
    }
    let m = scrape(c.addr).await;
    for app in ["shop", "blog.v2", "a_b-c"] {
        assert_eq!(
            metric(&m, &format!("rampart_cloud_nodes{{app=\"{app}\"}}")),
            0.0
        );
        assert_eq!(
            metric(&m, &format!("rampart_cloud_pack_version{{app=\"{app}\"}}")),
            0.0
        );
    }
    c.stop().await;
}

on_both!(
    metrics_follow_the_node_protocol,
    every_application_has_its_gauges
);
