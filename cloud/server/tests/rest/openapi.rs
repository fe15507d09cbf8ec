//! `spec/console-api.openapi.yaml` describes what the router serves: the
//! same operations (each documented one is routed, each routed one is
//! documented), the security of each, and the document the cloud serves is
//! the file. The answers' shapes are checked by every test through the
//! client (`client.rs`).

use serde_json::{json, Value};

use crate::client::{body_text, expect, world, Cred};
use crate::common::TestDb;
use crate::schema::{self, document, operations};

/// Every operation `cloud/server/src/rest/mod.rs` routes (and `/metrics`,
/// served on the same listener).
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/login"),
    ("GET", "/api/v1/openapi.yaml"),
    ("POST", "/api/v1/logout"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("DELETE", "/api/v1/users/{id}"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{id}"),
    ("GET", "/api/v1/apps"),
    ("POST", "/api/v1/apps"),
    ("GET", "/api/v1/apps/{app}/overview"),
    ("GET", "/api/v1/apps/{app}/endpoints"),
    ("GET", "/api/v1/apps/{app}/nodes"),
    ("GET", "/api/v1/apps/{app}/alerts"),
    ("GET", "/api/v1/apps/{app}/scans"),
    ("GET", "/api/v1/apps/{app}/incidents"),
    ("GET", "/api/v1/incidents/{id}"),
    ("POST", "/api/v1/incidents/{id}/status"),
    ("GET", "/api/v1/apps/{app}/attacks"),
    ("GET", "/api/v1/apps/{app}/attacks/export"),
    ("GET", "/api/v1/attacks/{id}"),
    ("POST", "/api/v1/attacks/{id}/false-positive"),
    ("GET", "/api/v1/apps/{app}/rules"),
    ("POST", "/api/v1/apps/{app}/rules/check"),
    ("GET", "/api/v1/apps/{app}/rules/{id}"),
    ("PUT", "/api/v1/apps/{app}/rules/{id}"),
    ("DELETE", "/api/v1/apps/{app}/rules/{id}"),
    ("POST", "/api/v1/apps/{app}/rules/{id}/state"),
    ("GET", "/api/v1/apps/{app}/packs"),
    ("POST", "/api/v1/apps/{app}/packs"),
    ("GET", "/api/v1/apps/{app}/packs/{version}/diff"),
    ("GET", "/metrics"),
];

/// Operations that need no caller.
const OPEN: &[&str] = &["/api/v1/login", "/api/v1/openapi.yaml", "/metrics"];

/// Writes any signed-in caller may make.
const NOT_ADMIN_WRITES: &[&str] = &[
    "/api/v1/login",
    "/api/v1/logout",
    "/api/v1/apps/{app}/rules/check",
];

/// Every `$ref` in `v`.
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    if let Some(s) = x.as_str() {
                        out.push(s);
                    }
                } else {
                    refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

fn security_names(sec: &Value) -> Vec<Vec<String>> {
    sec.as_array()
        .expect("security")
        .iter()
        .map(|req| {
            let mut names: Vec<String> = req
                .as_object()
                .expect("requirement")
                .keys()
                .cloned()
                .collect();
            names.sort();
            names
        })
        .collect()
}

#[test]
fn the_document_is_well_formed() {
    let doc = document();
    assert!(doc["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.0")));
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let ptr = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {r}"));
        assert!(doc.pointer(ptr).is_some(), "dangling $ref {r}");
    }
    // Security schemes: the session cookie, its anti-CSRF header, tokens.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["session"],
        json!({"type": "apiKey", "in": "cookie", "name": "rampart_session",
               "description": schemes["session"]["description"]})
    );
    assert_eq!(schemes["csrf"]["in"], "header");
    assert_eq!(schemes["csrf"]["name"], "X-CSRF-Token");
    assert_eq!(schemes["apiToken"]["type"], "http");
    assert_eq!(schemes["apiToken"]["scheme"], "bearer");
    let global = security_names(&doc["security"]);
    assert_eq!(
        global,
        [vec!["session".to_owned()], vec!["apiToken".to_owned()]]
    );

    let mut op_ids = Vec::new();
    for (method, path) in operations(&doc) {
        let op = schema::operation(&doc, &method, &path);
        let what = format!("{method} {path}");
        op_ids.push(op["operationId"].as_str().expect("operationId").to_owned());
        assert!(op["summary"].is_string(), "{what}: summary");
        // Every path parameter is declared (on the path or the operation).
        let declared: Vec<String> = doc["paths"][&path]["parameters"]
            .as_array()
            .into_iter()
            .chain(op["parameters"].as_array())
            .flatten()
            .map(|p| {
                let p = match p.get("$ref").and_then(Value::as_str) {
                    Some(r) => doc.pointer(&r[1..]).expect("parameter"),
                    None => p,
                };
                format!(
                    "{}:{}",
                    p["in"].as_str().unwrap_or(""),
                    p["name"].as_str().unwrap_or("")
                )
            })
            .collect();
        for seg in path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                assert!(
                    declared.contains(&format!("path:{name}")),
                    "{what}: parameter {name}"
                );
            }
        }
        let responses = op["responses"].as_object().expect("responses");
        if OPEN.contains(&path.as_str()) {
            assert_eq!(op["security"], json!([]), "{what} needs no caller");
            continue;
        }
        assert!(responses.contains_key("401"), "{what} lists 401");
        let writes = method != "GET";
        let sec = match op.get("security") {
            Some(s) => security_names(s),
            None => global.clone(),
        };
        if writes {
            // A cookie write needs the anti-CSRF header.
            assert_eq!(
                sec,
                [
                    vec!["csrf".to_owned(), "session".to_owned()],
                    vec!["apiToken".to_owned()]
                ],
                "{what}"
            );
            assert!(responses.contains_key("403"), "{what} lists 403 (csrf)");
        } else {
            assert_eq!(sec, global, "{what}");
        }
        let desc = op["description"].as_str().unwrap_or("");
        let admin_only = (writes && !NOT_ADMIN_WRITES.contains(&path.as_str()))
            || (method == "GET" && path == "/api/v1/users");
        assert_eq!(
            desc.contains("Needs the admin role"),
            admin_only,
            "{what}: the description says whether it needs the admin role"
        );
        if admin_only {
            assert!(responses.contains_key("403"), "{what} lists 403");
        }
    }
    let n = op_ids.len();
    op_ids.sort();
    op_ids.dedup();
    assert_eq!(op_ids.len(), n, "operationIds are unique");
}

#[test]
fn the_checker_sees_differences() {
    let doc = document();
    let app = schema::component(&doc, "Application");
    let good = json!({"id": 1, "name": "shop", "pack_schedule_secs": 900});
    assert_eq!(schema::check(&doc, app, &good), Vec::<String>::new());
    for bad in [
        json!({"id": "1", "name": "shop", "pack_schedule_secs": 900}),
        json!({"id": 1, "name": "shop"}),
        json!({"id": 1, "name": "shop", "pack_schedule_secs": 900, "extra": true}),
        json!({"id": 1, "name": null, "pack_schedule_secs": 900}),
        json!([good]),
    ] {
        assert!(!schema::check(&doc, app, &bad).is_empty(), "{bad}");
    }
    let token = schema::component(&doc, "Token");
    let t = json!({"id": 1, "label": "ci", "role": "admin", "created_at": "2026-11-29T02:10:00Z",
                   "last_used_at": null, "revoked_at": null});
    assert_eq!(schema::check(&doc, token, &t), Vec::<String>::new());
    let mut wrong = t.clone();
    wrong["role"] = json!("root");
    assert!(!schema::check(&doc, token, &wrong).is_empty());
    wrong = t.clone();
    wrong["created_at"] = json!("2026-11-29 02:10:00");
    assert!(!schema::check(&doc, token, &wrong).is_empty());
    let incident = schema::component(&doc, "IncidentWithEvidence");
    let i = json!({"id": 1, "title": "t", "severity": "high", "status": "open", "endpoint": null,
                   "point": null, "payload": null, "created_at": "2026-11-29T02:10:00Z",
                   "updated_at": "2026-11-29T02:10:00Z", "evidence": {"any": [1]}});
    assert_eq!(schema::check(&doc, incident, &i), Vec::<String>::new());
    let mut wrong = i.clone();
    wrong["surprise"] = json!(1);
    assert!(!schema::check(&doc, incident, &wrong).is_empty());
    wrong = i;
    wrong["status"] = json!("closed");
    assert!(!schema::check(&doc, incident, &wrong).is_empty());
}

/// A concrete path for a template, with objects that do not exist.
fn concrete(template: &str) -> String {
    template
        .replace("{app}", "no-such-app")
        .replace("{id}", "999999")
        .replace("{version}", "999999")
}

async fn the_router_serves_what_the_document_says(db: &TestDb) {
    let doc = document();
    let mut documented = operations(&doc);
    documented.sort();
    let mut routed: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    routed.sort();
    assert_eq!(
        documented, routed,
        "the document and the router's operations differ"
    );

    let w = world(db).await;
    // The document the cloud serves is the file.
    let r = w.api.get(&Cred::None, "/api/v1/openapi.yaml").await;
    expect(&r, 200, "openapi.yaml");
    assert_eq!(r.header("content-type"), Some("application/yaml"));
    let file = std::fs::read_to_string(schema::document_path()).expect("file");
    assert_eq!(body_text(&r), file, "the served document is the file");

    // Each documented operation is routed: whatever it answers for objects
    // that do not exist, it is not the router's "no such resource" nor a
    // wrong method.
    for (method, template) in &documented {
        let path = concrete(template);
        let cred = if OPEN.contains(&template.as_str()) {
            Cred::None
        } else {
            w.admin_bearer()
        };
        let body = (method != "GET" && method != "DELETE").then(|| json!({}));
        let r = w.api.call(&cred, method, &path, body.as_ref()).await;
        let what = format!("{method} {path}: {} {}", r.status, body_text(&r));
        assert_ne!(r.status, 405, "{what}");
        if r.status == 404 {
            let v = r.json();
            let msg = v["message"].as_str().unwrap_or("");
            assert!(!msg.starts_with("no such resource"), "{what}");
        }
    }

    // And what the document does not describe is not served.
    for (method, path, status) in [
        ("GET", "/api/v1/nothing", 404),
        ("GET", "/api/v2/apps", 404),
        ("GET", "/api/v1/apps/shop/rules/x/y/z", 404),
        ("DELETE", "/api/v1/apps", 405),
        ("PATCH", "/api/v1/apps/shop/rules/x", 405),
        ("GET", "/api/v1/logout", 405),
        ("PUT", "/api/v1/attacks/1/false-positive", 405),
    ] {
        let r = w.api.call(&w.admin_bearer(), method, path, None).await;
        assert_eq!(r.status, status, "{method} {path}: {}", body_text(&r));
        let v = r.json();
        if status == 404 {
            assert_eq!(v["error"], "not_found");
            assert!(
                v["message"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("no such resource"),
                "{v}"
            );
        } else {
            assert_eq!(v["error"], "method_not_allowed");
        }
    }
    // Every answer of the API carries the console's security headers.
    let r = w.api.get(&w.admin_bearer(), "/api/v1/apps").await;
    assert!(r
        .header("content-security-policy")
        .is_some_and(|c| c.contains("default-src 'self'")));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    w.cloud.stop().await;
}

crate::on_both!(the_router_serves_what_the_document_says);
