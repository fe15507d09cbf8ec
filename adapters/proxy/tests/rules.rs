//! The node's rules over real HTTP on loopback: its own rule files, the
//! response phase, and a signed rule pack swapped while requests flow.

#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rampart_dsl::pack::{keys, Pack};
use support::*;

/// A fresh folder under the system's temporary folder.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rampart-proxy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n").into_bytes()
}

async fn admin_text(node: &TestNode, path: &str) -> String {
    let r = send_raw(node.admin.unwrap(), &get(path)).await;
    String::from_utf8_lossy(&r.body).into_owned()
}

#[tokio::test]
async fn the_nodes_own_rules_block_and_see_responses() {
    let dir = scratch("own");
    let file = dir.join("app.rules");
    std::fs::write(
        &file,
        r#"
        rule no-admin "No admin console from outside" {
            when path ~ "/admin*"
            then block(451)
        }
        rule login-failures "Failed logins" {
            method POST
            endpoint "/login"
            when response.status == 401 and count(client.ip, 30m) > 2
            then block(429)
        }
        "#,
    )
    .unwrap();
    let up = Upstream::start(None).await;
    let mut cfg = config(up.addr, "block");
    cfg.rules.files = vec![file];
    let node = start_node(cfg).await;

    let r = send_raw(node.addr, &get("/admin/users")).await;
    assert_eq!(r.status, 451);
    assert!(up.take().is_empty(), "a blocked request reached the app");

    let login = b"POST /login HTTP/1.1\r\nHost: shop\r\nX-Want-Status: 401\r\nContent-Length: 9\r\nConnection: close\r\n\r\nuser=ann1";
    for _ in 0..2 {
        assert_eq!(send_raw(node.addr, login).await.status, 401);
    }
    // The third failure is replaced by the block page.
    let third = send_raw(node.addr, login).await;
    assert_eq!(third.status, 429);
    assert!(
        String::from_utf8_lossy(&third.body).contains("blocked"),
        "{third:?}"
    );
    assert_eq!(up.take().len(), 3);
    let metrics = admin_text(&node, "/metrics").await;
    assert!(
        metrics.contains("rampart_response_blocks_total 1"),
        "{metrics}"
    );
    let health = admin_text(&node, "/healthz").await;
    assert!(health.contains("\"local\":2"), "{health}");
    let _ = node.stop.send(());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_rule_file_that_does_not_compile_stops_the_node() {
    let dir = scratch("bad");
    let file = dir.join("bad.rules");
    std::fs::write(&file, "rule a \"x\" { when nosuch(path) then block }\n").unwrap();
    let mut cfg = config("127.0.0.1:9".parse().unwrap(), "block");
    cfg.rules.files = vec![file];
    let reg = rampart_builtin_plugins::registry().unwrap();
    let engine = rampart_core::Engine::new(&reg, cfg.engine().unwrap()).unwrap();
    let err = rampart_proxy::Node::bind(cfg, engine).await.unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("unknown function `nosuch`") && msg.contains("bad.rules:1"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn write_pack(path: &Path, version: u64, rules: &str, key: &ed25519_dalek::SigningKey) {
    let mut p = Pack::build(
        "shop",
        version,
        1_764_331_200,
        vec!["shop.rules".into()],
        vec![("shop.rules".into(), rules.into())],
    )
    .unwrap();
    p.sign(key);
    replace(path, &p.to_bytes());
}

/// Writes beside the file and renames over it, as a deployment would.
fn replace(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Polls until `check` holds; a hang guard, not a timing assertion.
async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..1200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test]
async fn a_pack_is_swapped_under_traffic_and_a_bad_one_is_refused() {
    let dir = scratch("pack");
    let key = keys::signing_key(&[3; 32]);
    let pubfile = dir.join("packs.pub");
    std::fs::write(&pubfile, keys::hex(key.verifying_key().as_bytes())).unwrap();
    let pack = dir.join("shop.pack");
    write_pack(
        &pack,
        1,
        r#"rule v1 "x" { when path == "/one" then block(403) }"#,
        &key,
    );
    let up = Upstream::start(None).await;
    let mut cfg = config(up.addr, "block");
    cfg.rules.pack = Some(pack.clone());
    cfg.rules.pack_keys = vec![pubfile];
    cfg.rules.application = Some("shop".into());
    cfg.rules.pack_poll_ms = 50;
    let node = start_node(cfg).await;
    // Installed before the node serves.
    assert_eq!(send_raw(node.addr, &get("/one")).await.status, 403);
    assert_eq!(send_raw(node.addr, &get("/two")).await.status, 200);

    // Traffic that must never fail while packs change.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let addr = node.addr;
    let (s2, n2) = (stop.clone(), sent.clone());
    let traffic = tokio::spawn(async move {
        let mut bad = Vec::new();
        while !s2.load(Ordering::Relaxed) {
            let r = send_raw(addr, &get("/ok")).await;
            if r.status != 200 {
                bad.push(r.status);
            }
            n2.fetch_add(1, Ordering::Relaxed);
        }
        bad
    });

    write_pack(
        &pack,
        2,
        r#"rule v2 "x" { when path == "/two" then block(403) }"#,
        &key,
    );
    until("pack 2 enforced", async || {
        send_raw(node.addr, &get("/two")).await.status == 403
    })
    .await;
    assert_eq!(send_raw(node.addr, &get("/one")).await.status, 200);
    let health = admin_text(&node, "/healthz").await;
    assert!(health.contains("\"version\":2"), "{health}");

    // A corrupt pack, then one signed by a stranger: refused, pack 2 stays.
    replace(&pack, b"not a pack at all\n\n");
    until("the corrupt pack refused", async || {
        admin_text(&node, "/metrics")
            .await
            .contains("rampart_rule_packs_refused_total 1")
    })
    .await;
    write_pack(
        &pack,
        3,
        r#"rule v3 "x" { when path == "/three" then block }"#,
        &keys::signing_key(&[4; 32]),
    );
    until("the stranger's pack refused", async || {
        admin_text(&node, "/metrics")
            .await
            .contains("rampart_rule_packs_refused_total 2")
    })
    .await;
    assert_eq!(send_raw(node.addr, &get("/two")).await.status, 403);
    assert_eq!(send_raw(node.addr, &get("/three")).await.status, 200);
    let health = admin_text(&node, "/healthz").await;
    assert!(
        health.contains("\"version\":2") && health.contains("pack_error"),
        "{health}"
    );
    let metrics = admin_text(&node, "/metrics").await;
    assert!(metrics.contains("rampart_rule_pack_version 2"), "{metrics}");

    stop.store(true, Ordering::Relaxed);
    let bad = traffic.await.unwrap();
    assert!(sent.load(Ordering::Relaxed) > 0);
    assert!(bad.is_empty(), "requests failed during swaps: {bad:?}");
    let _ = node.stop.send(());
    let _ = std::fs::remove_dir_all(&dir);
}
