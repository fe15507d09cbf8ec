//! The proxy node over real HTTP on loopback.

// Test helpers outside `#[test]` functions unwrap and panic too, and tests
// read whole responses.
#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

mod support;

use std::time::Duration;

use support::*;

const ADDED: [&str; 3] = ["x-forwarded-for", "x-forwarded-proto", "x-request-id"];
const HOP: [&str; 2] = ["connection", "keep-alive"];

/// Sends every request through the node and checks that the upstream got
/// method, target, end-to-end headers (names, case, values, order) and
/// body byte for byte.
async fn replay_identical(mode: &str, test_set: &str) -> usize {
    let up = Upstream::start(None).await;
    let node = start_node(config(up.addr, mode)).await;
    let reqs = rampart_testkit::gotestwaf_requests(test_set, &node.addr.to_string());
    assert!(!reqs.is_empty());
    let mut failures = Vec::new();
    for (pid, raw) in &reqs {
        let resp = send_raw(node.addr, raw).await;
        let got = up.take();
        if resp.status != 200 || got.len() != 1 {
            failures.push(format!(
                "{pid}: status {} and {} upstream requests",
                resp.status,
                got.len()
            ));
            continue;
        }
        let want = rampart_core::http1::parse_request(raw).unwrap();
        let (line, headers) = split_head(&got[0].head);
        let want_line = format!(
            "{} {} HTTP/1.1",
            String::from_utf8_lossy(&want.method),
            String::from_utf8_lossy(&want.target)
        );
        if line != want_line {
            failures.push(format!("{pid}: request line {line:?} != {want_line:?}"));
        }
        let sent: Vec<(String, Vec<u8>)> = want
            .headers
            .iter()
            .filter(|h| {
                !HOP.iter()
                    .any(|n| h.name.eq_ignore_ascii_case(n.as_bytes()))
            })
            .map(|h| {
                (
                    String::from_utf8_lossy(&h.name).into_owned(),
                    h.value.clone(),
                )
            })
            .collect();
        let received: Vec<(String, Vec<u8>)> = headers
            .into_iter()
            .filter(|(n, _)| !ADDED.contains(&n.to_ascii_lowercase().as_str()))
            .collect();
        if sent != received {
            failures.push(format!(
                "{pid}: headers differ:\n  sent {sent:?}\n  got  {received:?}"
            ));
        }
        if got[0].body != want.body {
            failures.push(format!("{pid}: body differs"));
        }
    }
    let _ = node.stop.send(());
    assert!(
        failures.is_empty(),
        "{} of {} requests not forwarded identically:\n{}",
        failures.len(),
        reqs.len(),
        failures.join("\n")
    );
    reqs.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_mode_forwards_the_gotestwaf_benign_texts_byte_identical() {
    assert!(replay_identical("off", "false").await > 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_mode_forwards_the_whole_gotestwaf_corpus_byte_identical() {
    assert!(replay_identical("monitor", ".").await > 700);
}

fn many_params() -> String {
    format!(
        "GET /search?{}x=1 HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n",
        "a=1&".repeat(12_000)
    )
}

#[tokio::test]
async fn block_mode_answers_403_with_a_request_id_as_json_or_html() {
    let up = Upstream::start(None).await;
    let node = start_node(config(up.addr, "block")).await;
    let r = send_raw(node.addr, many_params().as_bytes()).await;
    assert_eq!(r.status, 403, "{}", r.head);
    let id = r.header("x-request-id").expect("request id header");
    let json: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(json["error"], "blocked");
    assert_eq!(json["request_id"], id.as_str());
    assert!(
        up.take().is_empty(),
        "a blocked request must not reach the upstream"
    );

    let html = many_params().replace("Host: shop\r\n", "Host: shop\r\nAccept: text/html,*/*\r\n");
    let r = send_raw(node.addr, html.as_bytes()).await;
    assert_eq!(r.status, 403);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let body = String::from_utf8_lossy(&r.body);
    assert!(body.contains(&r.header("x-request-id").unwrap()));

    // Metrics count it.
    let m = send_raw(
        node.admin.unwrap(),
        b"GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    let text = String::from_utf8_lossy(&m.body);
    assert!(
        text.contains("rampart_verdicts_total{action=\"block\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("rampart_verdicts_by_class_total{class=\"limit-exceeded\"} 2"),
        "{text}"
    );
    let h = send_raw(
        node.admin.unwrap(),
        b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    let hj: serde_json::Value = serde_json::from_slice(&h.body).unwrap();
    assert_eq!(hj["status"], "ok");
    assert_eq!(hj["mode"], "block");
    assert!(hj["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "form"));
}

#[tokio::test]
async fn monitor_mode_passes_what_block_mode_blocks() {
    let up = Upstream::start(None).await;
    let node = start_node(config(up.addr, "monitor")).await;
    let r = send_raw(node.addr, many_params().as_bytes()).await;
    assert_eq!(r.status, 200);
    assert_eq!(up.take().len(), 1);
    let m = send_raw(
        node.admin.unwrap(),
        b"GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        String::from_utf8_lossy(&m.body).contains("rampart_verdicts_total{action=\"monitor\"} 1")
    );
}

#[tokio::test]
async fn upstream_down_gives_a_502_page() {
    // Bind and drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let node = start_node(config(port, "block")).await;
    let r = send_raw(
        node.addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 502);
    let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(j["error"], "upstream_unavailable");
}

fn post(body_len: usize) -> Vec<u8> {
    let mut r = format!(
        "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Type: application/octet-stream\r\nContent-Length: {body_len}\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    r.extend((0..body_len).map(|i| b'a' + (i % 26) as u8));
    r
}

#[tokio::test]
async fn bodies_over_the_inspection_limit_follow_the_policy() {
    let up = Upstream::start(None).await;
    let mut cfg = config(up.addr, "block");
    cfg.inspection.body_limit = 1024;
    let node = start_node(cfg.clone()).await;
    // inspect-prefix: the whole body still reaches the upstream intact.
    let raw = post(300_000);
    let r = send_raw(node.addr, &raw).await;
    assert_eq!(r.status, 200);
    let got = up.take();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body.len(), 300_000);
    assert_eq!(&got[0].body[..], &raw[raw.len() - 300_000..]);

    cfg.inspection.over_limit = rampart_proxy::OverLimit::Block;
    let node = start_node(cfg).await;
    let r = send_raw(node.addr, &post(2048)).await;
    assert_eq!(r.status, 413);
    let r = send_raw(node.addr, &post(1000)).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn forwarding_headers_and_trusted_request_ids() {
    let up = Upstream::start(None).await;
    let mut cfg = config(up.addr, "block");
    cfg.trusted_proxies = vec!["127.0.0.1".into()];
    let node = start_node(cfg).await;
    let r = send_raw(
        node.addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.5\r\nX-Request-Id: trace-42\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 200);
    let (_, h) = split_head(&up.take()[0].head);
    let get = |n: &str| {
        h.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    assert_eq!(
        get("x-forwarded-for").as_deref(),
        Some("203.0.113.5, 127.0.0.1")
    );
    assert_eq!(get("x-request-id").as_deref(), Some("trace-42"));

    // From an untrusted peer the client cannot choose either.
    let up = Upstream::start(None).await;
    let node = start_node(config(up.addr, "block")).await;
    send_raw(
        node.addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.5\r\nX-Request-Id: trace-42\r\nConnection: close\r\n\r\n",
    )
    .await;
    let (_, h) = split_head(&up.take()[0].head);
    let get = |n: &str| {
        h.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    assert_eq!(get("x-forwarded-for").as_deref(), Some("127.0.0.1"));
    assert_ne!(get("x-request-id").as_deref(), Some("trace-42"));
}

#[tokio::test]
async fn huge_header_lines_get_a_bounded_answer() {
    let up = Upstream::start(None).await;
    let node = start_node(config(up.addr, "block")).await;
    let mut raw = b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: ".to_vec();
    raw.extend(std::iter::repeat_n(b'x', 1 << 20));
    raw.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    let r = send_raw(node.addr, &raw).await;
    assert!(
        r.status == 431 || r.status == 400 || r.status == 0,
        "status {}",
        r.status
    );
    assert!(up.take().is_empty());
    // The node still serves afterwards.
    let r = send_raw(
        node.addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn http2_clients_are_served_over_http1_upstream() {
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let up = Upstream::start(None).await;
    let node = start_node(config(up.addr, "block")).await;
    let stream = tokio::net::TcpStream::connect(node.addr).await.unwrap();
    let (mut send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = http::Request::builder()
        .method("POST")
        .uri("http://shop.example/api/items?x=1")
        .header("content-type", "application/json")
        .body(Full::new(bytes::Bytes::from_static(b"{\"a\":1}")))
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"ok");
    let got = up.take();
    let (line, h) = split_head(&got[0].head);
    assert_eq!(line, "POST /api/items?x=1 HTTP/1.1");
    assert!(h
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("host") && v == b"shop.example"));
    assert_eq!(got[0].body, b"{\"a\":1}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_in_flight_requests_finish() {
    let up = Upstream::start(Some(Duration::from_millis(300))).await;
    let node = start_node(config(up.addr, "block")).await;
    let addr = node.addr;
    let inflight = tokio::spawn(async move {
        send_raw(
            addr,
            b"GET /slow HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        )
        .await
    });
    // Wait until the upstream has the request, then stop the node.
    while up.seen.lock().unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = node.stop.send(());
    let r = inflight.await.unwrap();
    assert_eq!(r.status, 200);
    node.done.await.unwrap().unwrap();
    // And it no longer accepts.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// The node's traffic aggregates, as the admin listener shows them: the
/// window's endpoints and points, and no value of the traffic.
#[tokio::test]
async fn telemetry_shows_aggregates_and_no_values() {
    let up = Upstream::start(None).await;
    let mut cfg = config(up.addr, "block");
    cfg.telemetry.flush_seconds = 1;
    cfg.telemetry.k_anonymity = 1;
    let node = start_node(cfg).await;
    let body = r#"{"email":"canary.person@example.org","card":"4111111111111111"}"#;
    let post = format!(
        "POST /api/users/4711 HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(send_raw(node.addr, post.as_bytes()).await.status, 200);
    let attack = b"GET /search?q=1%27%20UNION%20SELECT%20password%20FROM%20users-- HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n";
    assert_eq!(send_raw(node.addr, attack).await.status, 403);
    let admin = node.admin.unwrap();
    // The two requests may fall into two windows: gather every batch.
    let mut seen = std::collections::BTreeMap::new();
    for _ in 0..600 {
        let r = send_raw(
            admin,
            b"GET /telemetry HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        )
        .await;
        let text = String::from_utf8_lossy(&r.body).into_owned();
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            if let (Some(seq), Some(n)) = (v["seq"].as_u64(), v["requests"].as_u64()) {
                seen.insert(seq, (n, text));
            }
        }
        if seen.values().map(|(n, _)| n).sum::<u64>() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let shown: String = seen.values().map(|(_, t)| t.as_str()).collect();
    assert_eq!(seen.values().map(|(n, _)| n).sum::<u64>(), 2, "{shown}");
    assert!(shown.contains("/api/users/{int}"), "{shown}");
    assert!(shown.contains("body:json.email"), "{shown}");
    assert!(
        shown.contains("UNION SELECT password FROM users"),
        "{shown}"
    );
    for canary in ["canary.person", "4111111111111111", "4711"] {
        assert!(!shown.contains(canary), "{canary} leaked: {shown}");
    }
    let _ = node.stop.send(());
}
