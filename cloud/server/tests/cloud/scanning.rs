//! Active threat verification in the cloud: attack events become scan jobs
//! run against the application's scan target (the demo shop's lab), a
//! confirmed vulnerability opens one incident, and its notifications reach
//! each channel in that channel's shape, retried until delivered.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use rampart_cloud::{NotifyChannel, NotifyKind, ScanTarget, ScanningConfig};
use rampart_store::entity::{NotificationState, ScanJobState};
use rampart_store::NewAttackEvent;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::common::{app_and_node, config, start, TestDb};

/// A receiver that answers 500 to its first `fail_first` requests, then
/// 200, and keeps (path, JSON body) of every request.
async fn receiver(fail_first: usize) -> (SocketAddr, Arc<Mutex<Vec<(String, Value)>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    let seen = got.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            let (path, body) = loop {
                let n = s.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break (String::new(), Vec::new());
                }
                buf.extend_from_slice(&chunk[..n]);
                let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().to_owned())
                    })
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    let path = head.split(' ').nth(1).unwrap_or("").to_owned();
                    break (path, buf[end + 4..end + 4 + len].to_vec());
                }
            };
            let n = {
                let mut g = seen.lock().expect("lock");
                g.push((path, serde_json::from_slice(&body).unwrap_or(Value::Null)));
                g.len()
            };
            let status = if n <= fail_first {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = s
                .write_all(
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .as_bytes(),
                )
                .await;
        }
    });
    (addr, got)
}

fn event(
    endpoint: &str,
    point: &str,
    class: &str,
    rule: &str,
    payload: &str,
    id: &str,
) -> NewAttackEvent {
    NewAttackEvent {
        occurred_at: rampart_store::chrono::Utc::now(),
        endpoint: endpoint.into(),
        point: point.into(),
        class: class.into(),
        rule: rule.into(),
        score: 80,
        action: "block".into(),
        payload: payload.into(),
        request_id: id.into(),
    }
}

async fn attack_events_become_incidents_and_notifications(db: &TestDb) {
    // The scan target: the demo shop with its deliberately vulnerable lab.
    let shop_l = TcpListener::bind("127.0.0.1:0").await.expect("bind shop");
    let shop = shop_l.local_addr().expect("addr");
    let (_stop_shop, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(rampart_demo_shop::serve(
        shop_l,
        rampart_demo_shop::ShopConfig {
            lab: true,
            ..Default::default()
        },
        async move {
            let _ = rx.await;
        },
    ));
    // The webhook fails twice before it takes the notification.
    let (hook, hook_got) = receiver(2).await;
    let (other, other_got) = receiver(0).await;
    let channel = |name: &str, kind, addr: SocketAddr| NotifyChannel {
        name: name.into(),
        kind,
        url: format!("http://{addr}/{name}"),
        authorization: Some("Bearer secret".into()),
        project: Some("SEC".into()),
        issue_type: None,
    };
    let mut cfg = config(db, "r1");
    cfg.scanning = ScanningConfig {
        // The test runs the passes itself.
        enabled: true,
        tick_secs: 3600,
        notify_retry_secs: 0,
        targets: vec![ScanTarget {
            application: "shop".into(),
            base: format!("http://{shop}"),
        }],
        notify: vec![
            channel("hook", NotifyKind::Webhook, hook),
            channel("slack", NotifyKind::Slack, other),
            channel("jira", NotifyKind::Jira, other),
        ],
        ..ScanningConfig::default()
    };
    cfg.scanning.probe.rate_limit = 100.0;
    let r = start(cfg).await;
    let node = app_and_node(&r, "shop").await;
    let store = r.handle.store();
    let shop_app = r.handle.application("shop").await.expect("app");
    // A second application that has no scan target.
    r.handle.create_application("other").await.expect("other");
    let other_token = r
        .handle
        .create_enrollment_token("other", rampart_cloud::DEFAULT_TOKEN_TTL)
        .await
        .expect("token");
    let other_node = crate::common::enroll(r.addr, &other_token, "edge-2").await;
    let other_app = r.handle.application("other").await.expect("app");

    let xss = "<script>alert(1)</script>";
    // An attack from before the backfill window (a day by default) makes
    // no job when the replica starts.
    let mut old = event(
        "GET /lab/vuln/products",
        "query.category",
        "sqli",
        "sqli.union",
        "' union select 1--",
        "old",
    );
    old.occurred_at = rampart_store::chrono::Utc::now() - rampart_store::chrono::Duration::days(2);
    store
        .insert_attack_events(node.id, &[old])
        .await
        .expect("old event");
    store
        .insert_attack_events(
            node.id,
            &[
                event(
                    "GET /lab/vuln/greet",
                    "query.name",
                    "xss",
                    "xss.script-tag",
                    xss,
                    "r1",
                ),
                // The same attack again: the same job.
                event(
                    "GET /lab/vuln/greet",
                    "query.name",
                    "xss",
                    "xss.script-tag",
                    xss,
                    "r2",
                ),
                event(
                    "GET /lab/safe/greet",
                    "query.name",
                    "xss",
                    "xss.script-tag",
                    xss,
                    "r3",
                ),
                // The whole query string, a class without strategy, a masked
                // payload and a name the node still hides make no job.
                event(
                    "GET /lab/vuln/greet",
                    "query",
                    "xss",
                    "xss.other",
                    xss,
                    "r4",
                ),
                event(
                    "GET /lab/vuln/greet",
                    "query.name",
                    "crlf",
                    "crlf.header",
                    "a\r\nb",
                    "r5",
                ),
                event(
                    "GET /lab/vuln/greet",
                    "query.name",
                    "sqli",
                    "sqli.union",
                    "[masked]",
                    "r6",
                ),
                event(
                    "GET /{word}/greet",
                    "query.name",
                    "xss",
                    "xss.script-tag",
                    xss,
                    "r7",
                ),
            ],
        )
        .await
        .expect("events");
    store
        .insert_attack_events(
            other_node.id,
            &[event(
                "GET /search",
                "query.q",
                "xss",
                "xss.script-tag",
                xss,
                "o1",
            )],
        )
        .await
        .expect("other events");

    let first = r.handle.scan_now().await.expect("pass");
    assert_eq!(first.jobs_made, 3, "{first:?}");
    let mut total = first.clone();
    for _ in 0..10 {
        let t = r.handle.scan_now().await.expect("pass");
        total.jobs_run += t.jobs_run;
        total.notifications_sent += t.notifications_sent;
        total.notifications_failed += t.notifications_failed;
        if t.jobs_run == 0 && t.notifications_sent == 0 && t.notifications_failed == 0 {
            break;
        }
    }
    let jobs = store
        .list_scan_jobs(shop_app.id, None, 100)
        .await
        .expect("jobs");
    assert_eq!(jobs.len(), 2, "{jobs:#?}");
    assert!(
        jobs.iter().all(|j| j.state == ScanJobState::Done),
        "{jobs:#?}"
    );
    let other_jobs = store
        .list_scan_jobs(other_app.id, None, 100)
        .await
        .expect("jobs");
    assert_eq!(other_jobs.len(), 1);
    assert_eq!(other_jobs[0].state, ScanJobState::Failed);
    assert!(
        other_jobs[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("no scan target")),
        "{other_jobs:?}"
    );

    // One incident, for the vulnerable endpoint only.
    let incidents = store
        .list_incidents(shop_app.id, None)
        .await
        .expect("incidents");
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let inc = &incidents[0];
    assert_eq!(
        inc.title,
        "Cross-site scripting (reflected) in GET /lab/vuln/greet (query.name)"
    );
    assert_eq!(inc.point.as_deref(), Some("query.name"));
    let ev: Value = serde_json::from_str(&inc.evidence).expect("evidence");
    assert_eq!(ev["report"]["verdict"], "confirmed");
    assert!(ev["curl"]
        .as_str()
        .is_some_and(|c| c.contains("/lab/vuln/greet")));

    // Each channel got the incident once, in its own shape; the webhook
    // after two failed attempts.
    let notes = store
        .list_notifications(inc.id)
        .await
        .expect("notifications");
    assert_eq!(notes.len(), 3);
    assert!(
        notes.iter().all(|n| n.state == NotificationState::Sent),
        "{notes:#?}"
    );
    let hook_note = notes.iter().find(|n| n.channel == "hook").expect("hook");
    assert_eq!(hook_note.attempts, 3, "two failures, then delivered");
    assert_eq!(total.notifications_failed, 2, "{total:?}");
    let hook_got = hook_got.lock().expect("lock").clone();
    assert_eq!(hook_got.len(), 3);
    assert!(hook_got
        .iter()
        .all(|(p, v)| p == "/hook" && v["event"] == "incident.opened"));
    assert_eq!(hook_got[2].1["incident"]["id"], inc.id);
    let other_got = other_got.lock().expect("lock").clone();
    let slack = &other_got
        .iter()
        .find(|(p, _)| p == "/slack")
        .expect("slack")
        .1;
    assert!(slack["text"]
        .as_str()
        .is_some_and(|t| t.contains("Cross-site scripting (reflected)")));
    assert!(slack["blocks"].is_array());
    let jira = &other_got
        .iter()
        .find(|(p, _)| p == "/jira")
        .expect("jira")
        .1;
    assert_eq!(jira["fields"]["project"]["key"], "SEC");
    assert_eq!(jira["fields"]["summary"], inc.title.as_str());

    // Another pass finds nothing new: no job, no notification twice.
    let again = r.handle.scan_now().await.expect("pass");
    assert_eq!(
        again.jobs_made + again.jobs_run + again.notifications_sent,
        0,
        "{again:?}"
    );
    r.stop().await;
}

crate::on_both!(attack_events_become_incidents_and_notifications);
