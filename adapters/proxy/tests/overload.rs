//! Overload: the bound on requests in flight (`[overload]`) and load
//! shedding with 503, over real HTTP on loopback, in front of the slow
//! test upstream.

// Test helpers outside `#[test]` functions unwrap and panic too, and tests
// read whole responses.
#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use support::*;

const GET: &[u8] = b"GET /item?id=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";

/// A node in block mode in front of `up`, with `[overload]` from `toml`.
async fn node(up: &Upstream, overload: &str) -> TestNode {
    let mut cfg = config(up.addr, "block");
    cfg.overload = toml::from_str(overload).unwrap();
    cfg.validate().unwrap();
    start_node(cfg).await
}

async fn metrics(node: &TestNode) -> String {
    let r = send_raw(
        node.admin.unwrap(),
        b"GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 200);
    String::from_utf8(r.body).unwrap()
}

/// The value of an unlabelled metric.
fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

/// Sends `n` requests at once, each on its own connection.
async fn burst(addr: SocketAddr, n: usize, raw: &'static [u8]) -> Vec<Resp> {
    let tasks: Vec<_> = (0..n)
        .map(|_| tokio::spawn(async move { send_raw(addr, raw).await }))
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Waits until the upstream has received `n` requests (it records a
/// request before its delay, so they are in flight in the node).
async fn upstream_holds(up: &Upstream, n: usize) {
    for _ in 0..2000 {
        if up.seen.lock().unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the upstream never received {n} requests");
}

fn assert_shed_page(r: &Resp) {
    assert_eq!(r.status, 503, "{}", r.head);
    assert_eq!(r.header("retry-after").as_deref(), Some("1"), "{}", r.head);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(j["error"], "overloaded");
    assert!(j["message"].as_str().unwrap().contains("too many requests"));
    let id = j["request_id"].as_str().unwrap();
    assert!(!id.is_empty());
    assert_eq!(r.header("x-request-id").as_deref(), Some(id));
}

#[tokio::test]
async fn a_burst_over_max_in_flight_is_shed_with_503_and_the_node_recovers() {
    let up = Upstream::start(Some(Duration::from_secs(2))).await;
    let node = node(&up, "max_in_flight = 2\npolicy = \"shed\"").await;

    let rs = burst(node.addr, 10, GET).await;
    let ok: Vec<_> = rs.iter().filter(|r| r.status == 200).collect();
    let shed: Vec<_> = rs.iter().filter(|r| r.status == 503).collect();
    assert_eq!(ok.len() + shed.len(), 10, "{rs:?}");
    assert!(ok.len() >= 2, "{rs:?}");
    assert!(!shed.is_empty(), "{rs:?}");
    for r in &ok {
        assert_eq!(r.body, b"ok");
        assert_eq!(r.header("x-upstream").as_deref(), Some("yes"));
    }
    for r in &shed {
        assert_shed_page(r);
    }
    // Only the requests served reached the upstream.
    assert_eq!(up.take().len(), ok.len());

    let m = metrics(&node).await;
    assert_eq!(metric(&m, "rampart_shed_total"), shed.len() as u64, "{m}");
    assert_eq!(metric(&m, "rampart_requests_total"), 10, "{m}");
    assert_eq!(metric(&m, "rampart_in_flight_limit"), 2, "{m}");
    assert_eq!(metric(&m, "rampart_in_flight"), 0, "{m}");

    // After the burst: served as usual.
    for _ in 0..3 {
        let r = send_raw(node.addr, GET).await;
        assert_eq!(r.status, 200, "{}", r.head);
        assert_eq!(r.body, b"ok");
    }
    let m = metrics(&node).await;
    assert_eq!(metric(&m, "rampart_shed_total"), shed.len() as u64, "{m}");
    let _ = node.stop.send(());
    node.done.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_shed_page_is_html_for_browsers() {
    let up = Upstream::start(Some(Duration::from_secs(3))).await;
    let node = node(
        &up,
        "max_in_flight = 1\npolicy = \"shed\"\nretry_after_s = 7",
    )
    .await;
    let addr = node.addr;
    let holder = tokio::spawn(async move { send_raw(addr, GET).await });
    upstream_holds(&up, 1).await;
    let r = send_raw(
        node.addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nAccept: text/html,*/*\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 503, "{}", r.head);
    assert_eq!(r.header("retry-after").as_deref(), Some("7"));
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let html = String::from_utf8(r.body).unwrap();
    assert!(html.contains("503 Service Unavailable"), "{html}");
    assert!(html.contains("too many requests"), "{html}");
    assert_eq!(holder.await.unwrap().status, 200);
}

#[tokio::test]
async fn the_queue_policy_makes_requests_wait_for_a_slot() {
    // 4 requests, 2 slots, up to 2 waiting: every one is served.
    let up = Upstream::start(Some(Duration::from_millis(300))).await;
    let node = node(
        &up,
        "max_in_flight = 2\npolicy = \"queue\"\nqueue_ms = 30000",
    )
    .await;
    let rs = burst(node.addr, 4, GET).await;
    for r in &rs {
        assert_eq!(r.status, 200, "{}", r.head);
    }
    assert_eq!(up.take().len(), 4);
    let m = metrics(&node).await;
    assert_eq!(metric(&m, "rampart_shed_total"), 0, "{m}");
    assert_eq!(metric(&m, "rampart_overload_waiting"), 0, "{m}");
}

#[tokio::test]
async fn a_queued_request_is_shed_when_its_wait_is_over() {
    // The only slot is held for 5 s; the next request may wait 50 ms.
    let up = Upstream::start(Some(Duration::from_secs(5))).await;
    let node = node(&up, "max_in_flight = 1\npolicy = \"queue\"\nqueue_ms = 50").await;
    let addr = node.addr;
    let holder = tokio::spawn(async move { send_raw(addr, GET).await });
    upstream_holds(&up, 1).await;
    let r = send_raw(node.addr, GET).await;
    assert_shed_page(&r);
    let m = metrics(&node).await;
    assert_eq!(metric(&m, "rampart_shed_total"), 1, "{m}");
    assert_eq!(metric(&m, "rampart_in_flight"), 1, "{m}");
    assert_eq!(metric(&m, "rampart_overload_waiting"), 0, "{m}");
    assert_eq!(holder.await.unwrap().status, 200);
    // The shed request never reached the upstream.
    assert_eq!(up.take().len(), 1);
}

#[tokio::test]
async fn at_most_queue_max_requests_wait_and_the_next_is_shed_at_once() {
    // One slot held for 3 s, one request waiting for it, the third shed.
    let up = Upstream::start(Some(Duration::from_secs(3))).await;
    let node = node(
        &up,
        "max_in_flight = 1\npolicy = \"queue\"\nqueue_ms = 30000\nqueue_max = 1",
    )
    .await;
    let addr = node.addr;
    let first = tokio::spawn(async move { send_raw(addr, GET).await });
    upstream_holds(&up, 1).await;
    let second = tokio::spawn(async move { send_raw(addr, GET).await });
    let mut waiting = 0;
    for _ in 0..2000 {
        waiting = metric(&metrics(&node).await, "rampart_overload_waiting");
        if waiting == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(waiting, 1);
    let third = send_raw(node.addr, GET).await;
    assert_shed_page(&third);
    assert_eq!(first.await.unwrap().status, 200);
    assert_eq!(second.await.unwrap().status, 200);
    let m = metrics(&node).await;
    assert_eq!(metric(&m, "rampart_shed_total"), 1, "{m}");
    assert_eq!(metric(&m, "rampart_in_flight"), 0, "{m}");
    assert_eq!(metric(&m, "rampart_overload_waiting"), 0, "{m}");
    assert_eq!(up.take().len(), 2);
}
