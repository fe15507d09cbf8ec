//! Rules (create, replace, check, states, delete) and rule packs
//! (deploy, versions, diffs).

use serde_json::{json, Value};

use crate::client::{expect, expect_error, world, World};
use crate::common::TestDb;
use crate::inventory::read;

fn rule(id: &str, title: &str, endpoint: &str) -> String {
    format!("rule {id} \"{title}\" {{\n    endpoint \"{endpoint}\"\n    then block\n}}\n")
}

/// A rule whose condition is missing its right side: the error is at
/// `then`, line 3, column 5.
const BROKEN: &str = "rule broken \"Broken\" {\n    when path ~ \n    then block\n}\n";

fn assert_diagnostics(v: &Value, what: &str) {
    let d = v["diagnostics"].as_array().expect("diagnostics");
    assert!(!d.is_empty(), "{what}: {v}");
    for x in d {
        let line = x["line"]
            .as_u64()
            .unwrap_or_else(|| panic!("{what}: a line: {x}"));
        let col = x["column"]
            .as_u64()
            .unwrap_or_else(|| panic!("{what}: a column: {x}"));
        assert!(line >= 1 && col >= 1, "{x}");
        assert_eq!(x["severity"], "error");
        assert!(x["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(
            x["rendered"].as_str().is_some_and(|r| r.contains('^')),
            "{x}"
        );
    }
}

fn rule_ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

async fn rules_are_written_checked_and_deleted(db: &TestDb) {
    let w = world(db).await;
    let api = &w.api;
    assert_eq!(read(&w, &w.app_path("/rules")).await, json!([]));

    // Created with a session (new custom rules block), with a token.
    let php = rule("no-php", "No legacy area", "/legacy/**");
    let r = api
        .put(
            &w.admin(),
            &w.app_path("/rules/no-php"),
            &json!({"source": php}),
        )
        .await;
    let v = expect(&r, 201, "create");
    assert_eq!(v["id"], "no-php");
    assert_eq!(v["source"], php);
    assert_eq!(v["origin"], "custom");
    assert_eq!(v["state"], "blocking");
    assert_eq!(v["confidence"], Value::Null);
    let admin = rule("no-admin", "No admin area", "/admin/**");
    let r = api
        .put(
            &w.admin_bearer(),
            &w.app_path("/rules/no-admin"),
            &json!({"source": admin, "state": "monitoring"}),
        )
        .await;
    let v = expect(&r, 201, "create with a token and a state");
    assert_eq!(v["state"], "monitoring");
    assert_eq!(
        rule_ids(&read(&w, &w.app_path("/rules")).await),
        ["no-admin", "no-php"]
    );
    let got = read(&w, &w.app_path("/rules/no-php")).await;
    assert_eq!(got["source"], php);

    // Replaced: 200, the state kept unless given.
    let php2 = rule("no-php", "No legacy area at all", "/legacy/v1/**");
    let v = expect(
        &api.put(
            &w.admin_bearer(),
            &w.app_path("/rules/no-php"),
            &json!({"source": php2}),
        )
        .await,
        200,
        "replace",
    );
    assert_eq!(v["source"], php2);
    assert_eq!(v["state"], "blocking");
    let v = expect(
        &api.put(
            &w.admin(),
            &w.app_path("/rules/no-php"),
            &json!({"source": php2, "state": "disabled"}),
        )
        .await,
        200,
        "replace with a state",
    );
    assert_eq!(v["state"], "disabled");

    // A rule that does not compile: 422 with the place of each problem.
    let v = expect_error(
        &api.put(
            &w.admin(),
            &w.app_path("/rules/broken"),
            &json!({"source": BROKEN}),
        )
        .await,
        422,
        "invalid_rule",
        "broken rule",
    );
    assert_diagnostics(&v, "put");
    assert_eq!(v["diagnostics"][0]["line"], 3, "{v}");
    assert_eq!(v["diagnostics"][0]["column"], 5, "{v}");
    expect_error(
        &api.get(&w.admin(), &w.app_path("/rules/broken")).await,
        404,
        "not_found",
        "not stored",
    );
    // Nor one whose id is taken by another rule's text.
    let v = expect_error(
        &api.put(
            &w.admin(),
            &w.app_path("/rules/copy"),
            &json!({"source": admin}),
        )
        .await,
        422,
        "invalid_rule",
        "a duplicate rule id",
    );
    assert!(
        !v["diagnostics"].as_array().expect("diagnostics").is_empty(),
        "{v}"
    );
    let fresh = rule("fresh", "Fresh", "/fresh");
    for (id, body) in [
        ("bad%20id", json!({"source": fresh})),
        ("-dash", json!({"source": fresh})),
        ("fresh", json!({"source": fresh, "state": "armed"})),
        ("fresh", json!({"state": "blocking"})),
    ] {
        expect_error(
            &api.put(&w.admin(), &w.app_path(&format!("/rules/{id}")), &body)
                .await,
            400,
            "bad_request",
            &format!("put {id} {body}"),
        );
    }

    // Bodies: at most 1 MiB, JSON.
    let huge = format!("{}# {}\n", fresh, "x".repeat(1 << 20));
    expect_error(
        &api.put(
            &w.admin(),
            &w.app_path("/rules/fresh"),
            &json!({"source": huge}),
        )
        .await,
        413,
        "too_large",
        "a body over 1 MiB",
    );
    let r = crate::common::send(
        w.cloud.addr,
        "PUT",
        &w.app_path("/rules/fresh"),
        &[
            ("authorization", &format!("Bearer {}", w.admin_token)),
            ("content-type", "application/json"),
        ],
        b"rule fresh".to_vec(),
    )
    .await;
    expect_error(&r, 400, "bad_request", "a body that is not JSON");

    // Checking changes nothing, and analysts may do it.
    for cred in [w.admin(), w.admin_bearer(), w.analyst(), w.analyst_bearer()] {
        let ok = expect(
            &api.post(
                &cred,
                &w.app_path("/rules/check"),
                &json!({"source": rule("draft", "Draft", "/draft")}),
            )
            .await,
            200,
            "check a good rule",
        );
        assert_eq!(ok, json!({"ok": true, "diagnostics": []}));
        let bad = expect(
            &api.post(
                &cred,
                &w.app_path("/rules/check"),
                &json!({"source": BROKEN}),
            )
            .await,
            200,
            "check a broken rule",
        );
        assert_eq!(bad["ok"], false);
        assert_diagnostics(&bad, "check");
    }
    // With the id of the rule it replaces, its own id is no conflict.
    let v = expect(
        &api.post(
            &w.admin(),
            &w.app_path("/rules/check"),
            &json!({"source": admin, "id": "no-admin"}),
        )
        .await,
        200,
        "check a replacement",
    );
    assert_eq!(v["ok"], true, "{v}");
    let v = expect(
        &api.post(
            &w.admin(),
            &w.app_path("/rules/check"),
            &json!({"source": admin, "id": "other"}),
        )
        .await,
        200,
        "check a copy",
    );
    assert_eq!(v["ok"], false, "{v}");
    expect_error(
        &api.post(&w.admin(), &w.app_path("/rules/check"), &json!({}))
            .await,
        400,
        "bad_request",
        "check without a source",
    );
    assert_eq!(
        rule_ids(&read(&w, &w.app_path("/rules")).await),
        ["no-admin", "no-php"]
    );

    // States.
    for (state, cred) in [
        ("blocking", w.admin()),
        ("monitoring", w.admin_bearer()),
        ("disabled", w.admin()),
    ] {
        let v = expect(
            &api.post(
                &cred,
                &w.app_path("/rules/no-admin/state"),
                &json!({"state": state}),
            )
            .await,
            200,
            state,
        );
        assert_eq!(v["state"], state);
        assert_eq!(
            read(&w, &w.app_path("/rules/no-admin")).await["state"],
            state
        );
    }
    expect_error(
        &api.post(
            &w.admin(),
            &w.app_path("/rules/no-admin/state"),
            &json!({"state": "on"}),
        )
        .await,
        400,
        "bad_request",
        "state on",
    );
    expect_error(
        &api.post(
            &w.admin(),
            &w.app_path("/rules/nothing/state"),
            &json!({"state": "blocking"}),
        )
        .await,
        404,
        "not_found",
        "state of an unknown rule",
    );

    // Deleted with a session and with a token.
    expect(
        &api.delete(&w.admin(), &w.app_path("/rules/no-php")).await,
        204,
        "delete",
    );
    expect(
        &api.delete(&w.admin_bearer(), &w.app_path("/rules/no-admin"))
            .await,
        204,
        "delete",
    );
    let v = expect_error(
        &api.get(&w.admin(), &w.app_path("/rules/no-php")).await,
        404,
        "not_found",
        "deleted",
    );
    assert!(
        v["message"].as_str().unwrap_or("").contains("no-php"),
        "{v}"
    );
    expect_error(
        &api.delete(&w.admin(), &w.app_path("/rules/no-php")).await,
        404,
        "not_found",
        "delete twice",
    );
    assert_eq!(read(&w, &w.app_path("/rules")).await, json!([]));
    w.cloud.stop().await;
}

fn versions(v: &Value) -> Vec<i64> {
    v.as_array()
        .expect("packs")
        .iter()
        .filter_map(|p| p["version"].as_i64())
        .collect()
}

async fn deploy(w: &World, cred: crate::client::Cred) -> Value {
    expect(
        &w.api.post(&cred, &w.app_path("/packs"), &json!({})).await,
        201,
        "deploy",
    )["version"]
        .clone()
}

async fn packs_and_diffs(db: &TestDb) {
    let w = world(db).await;
    let api = &w.api;
    assert_eq!(read(&w, &w.app_path("/packs")).await, json!([]));
    // No rules: nothing to publish.
    assert_eq!(deploy(&w, w.admin()).await, Value::Null);

    let a1 = rule("rule-a", "A", "/a");
    let b1 = rule("rule-b", "B", "/b");
    for (id, src) in [("rule-a", &a1), ("rule-b", &b1)] {
        expect(
            &api.put(
                &w.admin(),
                &w.app_path(&format!("/rules/{id}")),
                &json!({"source": src}),
            )
            .await,
            201,
            id,
        );
    }
    assert_eq!(deploy(&w, w.admin()).await, 1);
    // Unchanged rules: no new version.
    assert_eq!(deploy(&w, w.admin_bearer()).await, Value::Null);

    // A changed, B removed, C added.
    let a2 = rule("rule-a", "A, changed", "/a/**");
    let c1 = rule("rule-c", "C", "/c");
    expect(
        &api.put(
            &w.admin(),
            &w.app_path("/rules/rule-a"),
            &json!({"source": a2}),
        )
        .await,
        200,
        "change a",
    );
    expect(
        &api.delete(&w.admin(), &w.app_path("/rules/rule-b")).await,
        204,
        "delete b",
    );
    expect(
        &api.put(
            &w.admin(),
            &w.app_path("/rules/rule-c"),
            &json!({"source": c1}),
        )
        .await,
        201,
        "add c",
    );
    assert_eq!(deploy(&w, w.admin_bearer()).await, 2);
    // A disabled rule leaves the pack.
    expect(
        &api.post(
            &w.admin(),
            &w.app_path("/rules/rule-c/state"),
            &json!({"state": "disabled"}),
        )
        .await,
        200,
        "disable c",
    );
    assert_eq!(deploy(&w, w.admin()).await, 3);

    let packs = read(&w, &w.app_path("/packs")).await;
    assert_eq!(versions(&packs), [3, 2, 1], "newest first");
    let rules: Vec<Value> = packs
        .as_array()
        .expect("packs")
        .iter()
        .map(|p| p["rules"].clone())
        .collect();
    assert_eq!(rules, [json!(1), json!(2), json!(2)]);
    for p in packs.as_array().expect("packs") {
        assert_eq!(p["published"], true);
        assert!(p["digest"].as_str().is_some_and(|d| !d.is_empty()));
        assert_eq!(p["nodes"], json!([]));
    }

    let d = read(&w, &w.app_path("/packs/1/diff")).await;
    assert_eq!(d["from"], Value::Null);
    assert_eq!(d["to"], 1);
    assert_eq!(
        d["added"],
        json!([{"id": "rule-a", "source": a1}, {"id": "rule-b", "source": b1}])
    );
    assert_eq!(d["removed"], json!([]));
    assert_eq!(d["changed"], json!([]));
    let d = read(&w, &w.app_path("/packs/2/diff")).await;
    assert_eq!(d["from"], 1);
    assert_eq!(d["added"], json!([{"id": "rule-c", "source": c1}]));
    assert_eq!(d["removed"], json!([{"id": "rule-b", "source": b1}]));
    assert_eq!(
        d["changed"],
        json!([{"id": "rule-a", "before": a1, "after": a2}])
    );
    let d = read(&w, &w.app_path("/packs/3/diff")).await;
    assert_eq!(d["from"], 2);
    assert_eq!(d["removed"], json!([{"id": "rule-c", "source": c1}]));
    assert_eq!(d["added"], json!([]));
    let d = read(&w, &w.app_path("/packs/3/diff?from=1")).await;
    assert_eq!(d["from"], 1);
    assert_eq!(d["removed"], json!([{"id": "rule-b", "source": b1}]));
    assert_eq!(
        d["changed"],
        json!([{"id": "rule-a", "before": a1, "after": a2}])
    );

    for path in ["/packs/9/diff", "/packs/3/diff?from=9", "/packs/x/diff"] {
        expect_error(
            &api.get(&w.admin(), &w.app_path(path)).await,
            404,
            "not_found",
            path,
        );
    }
    expect_error(
        &api.get(&w.admin(), &w.app_path("/packs/3/diff?from=x"))
            .await,
        400,
        "bad_request",
        "from not a number",
    );

    // The node runs version 3 and says so.
    w.heartbeat(Some(3)).await;
    let packs = read(&w, &w.app_path("/packs")).await;
    assert_eq!(packs[0]["nodes"], json!(["edge-1"]));
    w.cloud.stop().await;
}

crate::on_both!(rules_are_written_checked_and_deleted, packs_and_diffs);
