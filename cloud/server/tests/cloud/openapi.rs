//! `spec/node-protocol.openapi.yaml` describes what the server answers:
//! the four operations, and the fields of real answers.

use serde_json::Value;

use crate::common::{config, enroll, send, start};

fn document() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../spec/node-protocol.openapi.yaml"
    );
    let text = std::fs::read_to_string(path).expect("the OpenAPI document");
    serde_yaml_ng::from_str(&text).expect("valid YAML")
}

/// The property names of a schema of `components.schemas`.
fn properties(doc: &Value, schema: &str) -> Vec<String> {
    let mut p: Vec<String> = doc["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema {schema}"))
        .keys()
        .cloned()
        .collect();
    p.sort();
    p
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_matches_the_answers() {
    let doc = document();
    assert!(doc["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.0")));
    for (path, method) in [
        ("/v1/enroll", "post"),
        ("/v1/batches", "post"),
        ("/v1/packs/latest", "get"),
        ("/v1/heartbeat", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }

    let db = crate::common::sqlite("openapi").await;
    let c = start(config(&db, "a")).await;
    c.handle.create_application("shop").await.expect("app");
    let token = c
        .handle
        .create_enrollment_token("shop", rampart_cloud::DEFAULT_TOKEN_TTL)
        .await
        .expect("token");
    let body = serde_json::json!({"token": token, "name": "edge-1", "version": "0.1.0"});
    let r = send(
        c.addr,
        "POST",
        "/v1/enroll",
        &[],
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(keys(&r.json()), properties(&doc, "EnrollResponse"));

    // A refused enrollment: the error object and its code.
    let r = send(
        c.addr,
        "POST",
        "/v1/enroll",
        &[],
        body.to_string().into_bytes(),
    )
    .await;
    let err = r.json();
    assert_eq!(keys(&err), properties(&doc, "Error"));
    let codes = &doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"];
    assert!(
        codes.as_array().expect("codes").contains(&err["error"]),
        "{err}"
    );

    let node = enroll(
        c.addr,
        &c.handle
            .create_enrollment_token("shop", rampart_cloud::DEFAULT_TOKEN_TTL)
            .await
            .expect("token"),
        "edge-2",
    )
    .await;
    let bearer = node.bearer();
    let hb = serde_json::json!({"version": "0.1.0", "pack_version": null, "pack_error": null,
        "counters": {"requests": 1, "blocked": 0, "spool_batches": 0, "spool_dropped": 0}});
    let r = send(
        c.addr,
        "POST",
        "/v1/heartbeat",
        &[("authorization", &bearer)],
        hb.to_string().into_bytes(),
    )
    .await;
    assert_eq!(keys(&r.json()), properties(&doc, "HeartbeatResponse"));
    let mut sent = keys(&hb);
    sent.sort();
    assert_eq!(sent, properties(&doc, "HeartbeatRequest"));
    let batch = crate::common::sample_batch(1);
    let r = crate::common::upload(c.addr, &node, &batch, true).await;
    assert_eq!(keys(&r.json()), properties(&doc, "UploadResponse"));
    let batch_json = serde_json::to_value(&batch).expect("batch");
    assert_eq!(keys(&batch_json), properties(&doc, "Batch"));
    c.stop().await;
}
