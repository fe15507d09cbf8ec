//! Enrollment, authentication, heartbeats, errors.

use rampart_cloud::{CloudHandle, DEFAULT_TOKEN_TTL};

use crate::common::{config, enroll, send, start, Node, TestDb};

async fn token(h: &CloudHandle, app: &str) -> String {
    h.create_enrollment_token(app, DEFAULT_TOKEN_TTL)
        .await
        .expect("token")
}

async fn enroll_once_per_token(db: &TestDb) {
    let c = start(config(db, "a")).await;
    c.handle.create_application("shop").await.expect("app");
    let t = token(&c.handle, "shop").await;
    assert!(t.starts_with("rpt_"));

    let node = enroll(c.addr, &t, "edge-1").await;
    assert_eq!(node.application, "shop");
    assert!(node.credential.starts_with("rpt_"));
    assert_ne!(node.credential, t);
    assert_eq!(node.pack_keys, vec![c.handle.pack_public_key_hex()]);
    let row = c
        .handle
        .store()
        .node(node.id)
        .await
        .expect("node")
        .expect("stored");
    assert_eq!(row.name, "edge-1");
    assert_eq!(row.version, "0.1.0");
    assert!(
        !row.credential_hash.contains(&node.credential),
        "only the hash is stored"
    );

    // The same token again, an unknown one: 401 with the error JSON.
    for tok in [t.as_str(), "rpt_0000", ""] {
        let body = serde_json::json!({"token": tok, "name": "edge-2"});
        let r = send(
            c.addr,
            "POST",
            "/v1/enroll",
            &[("content-type", "application/json")],
            body.to_string().into_bytes(),
        )
        .await;
        assert_eq!(r.status, 401, "token {tok:?}");
        assert_eq!(r.json()["error"], "unauthorized");
        assert!(r.json()["message"].is_string());
    }
    // Malformed bodies: 400.
    let fresh = token(&c.handle, "shop").await;
    for body in [
        "not json".to_string(),
        serde_json::json!({"token": fresh}).to_string(),
        serde_json::json!({"token": fresh, "name": " "}).to_string(),
    ] {
        let r = send(c.addr, "POST", "/v1/enroll", &[], body.into_bytes()).await;
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["error"], "bad_request");
    }
    // The refused attempts did not consume the fresh token.
    enroll(c.addr, &fresh, "edge-3").await;
    // Tokens of an unknown application cannot be made.
    assert!(matches!(
        c.handle
            .create_enrollment_token("nope", DEFAULT_TOKEN_TTL)
            .await,
        Err(rampart_cloud::Error::UnknownApplication(_))
    ));
    c.stop().await;
}

async fn auth_failures_and_errors(db: &TestDb) {
    let c = start(config(db, "a")).await;
    c.handle.create_application("shop").await.expect("app");
    let node = enroll(c.addr, &token(&c.handle, "shop").await, "edge-1").await;
    let bogus = Node {
        credential: "rpt_not_a_credential".into(),
        ..node.clone()
    };
    let hb = br#"{"version":"0.1.0","pack_version":null,"counters":{}}"#.to_vec();
    for (method, path, body) in [
        ("POST", "/v1/batches", b"{}".to_vec()),
        ("GET", "/v1/packs/latest", Vec::new()),
        ("POST", "/v1/heartbeat", hb.clone()),
    ] {
        // No credential.
        let r = send(c.addr, method, path, &[], body.clone()).await;
        assert_eq!(r.status, 401, "{method} {path}");
        assert_eq!(r.json()["error"], "unauthorized");
        assert!(r.header("www-authenticate").is_some());
        // An unknown credential, and a known one in the wrong scheme.
        let bearer = bogus.bearer();
        let basic = format!("Basic {}", node.credential);
        for auth in [bearer.as_str(), basic.as_str()] {
            let r = send(
                c.addr,
                method,
                path,
                &[("authorization", auth)],
                body.clone(),
            )
            .await;
            assert_eq!(r.status, 401, "{method} {path} {auth}");
            assert_eq!(r.json()["error"], "unauthorized");
        }
    }
    // A deleted node's credential stops working.
    let bearer = node.bearer();
    let r = send(
        c.addr,
        "POST",
        "/v1/heartbeat",
        &[("authorization", &bearer)],
        hb.clone(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(c.handle.store().delete_node(node.id).await.expect("delete"));
    let r = send(
        c.addr,
        "POST",
        "/v1/heartbeat",
        &[("authorization", &bearer)],
        hb,
    )
    .await;
    assert_eq!(r.status, 401);

    let r = send(c.addr, "GET", "/v1/nothing", &[], Vec::new()).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"], "not_found");
    let r = send(c.addr, "GET", "/v1/enroll", &[], Vec::new()).await;
    assert_eq!(r.status, 405);
    c.stop().await;
}

async fn heartbeats_are_recorded(db: &TestDb) {
    let c = start(config(db, "a")).await;
    c.handle.create_application("shop").await.expect("app");
    let node = enroll(c.addr, &token(&c.handle, "shop").await, "edge-1").await;
    let bearer = node.bearer();
    let body = serde_json::json!({
        "version": "0.2.0",
        "pack_version": 12,
        "pack_error": "the pack is signed by key 0011223344556677, which is not trusted",
        "counters": {"requests": 1234, "blocked": 5, "spool_batches": 0, "spool_dropped": 0},
    });
    let r = send(
        c.addr,
        "POST",
        "/v1/heartbeat",
        &[
            ("authorization", &bearer),
            ("content-type", "application/json"),
        ],
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), serde_json::json!({"ok": true}));
    let row = c
        .handle
        .store()
        .node(node.id)
        .await
        .expect("node")
        .expect("stored");
    assert_eq!(row.version, "0.2.0");
    assert_eq!(row.rule_pack_version, Some(12));
    assert!(row.last_heartbeat_at.is_some());
    let counters = row.counters_json().expect("counters");
    assert_eq!(counters["requests"], 1234);
    assert_eq!(counters["blocked"], 5);
    assert!(counters["pack_error"]
        .as_str()
        .is_some_and(|e| e.contains("not trusted")));
    // A gzip-compressed heartbeat is taken too; a bad one is 400.
    let r = send(
        c.addr,
        "POST",
        "/v1/heartbeat",
        &[("authorization", &bearer), ("content-encoding", "gzip")],
        crate::common::gzip(br#"{"version":"0.2.1","pack_version":13,"counters":{}}"#),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = send(
        c.addr,
        "POST",
        "/v1/heartbeat",
        &[("authorization", &bearer)],
        br#"{"pack_version":-1}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, 400);
    c.stop().await;
}

crate::on_both!(
    enroll_once_per_token,
    auth_failures_and_errors,
    heartbeats_are_recorded
);

/// Without a configured key, the replica creates `DATA/cloud.key` once
/// (owner-only) and reads it back on the next start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_key_file_is_created_once() {
    let db = crate::common::sqlite("signing_key_file").await;
    let mut cfg = config(&db, "k");
    cfg.signing_key = None;
    let first = rampart_cloud::CloudHandle::open(cfg.clone())
        .await
        .expect("open");
    let path = cfg.data_dir.join(rampart_cloud::KEY_FILE);
    let text = std::fs::read_to_string(&path).expect("key file");
    assert_eq!(text.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let public = std::fs::read_to_string(cfg.data_dir.join(rampart_cloud::PUB_FILE))
        .expect("public key file");
    assert_eq!(public.trim(), first.pack_public_key_hex());
    let second = rampart_cloud::CloudHandle::open(cfg).await.expect("reopen");
    assert_eq!(first.pack_public_key_hex(), second.pack_public_key_hex());
    assert_ne!(
        first.pack_public_key_hex(),
        crate::common::SEED_HEX,
        "the public key is not the seed"
    );
}
