//! Attack events: search and paging, the detail with its point tree, scan
//! jobs and incidents, false positives turned into exception rules that
//! reach the node, and SIEM exports.

use rampart_core::{Backend, Engine, RuleSet};
use rampart_dsl::pack::{keys, Pack, TrustedKeys};
use serde_json::{json, Value};

use crate::client::{
    body_text, expect, expect_error, now_secs, plain_engine, real_batch, real_batch_with, request,
    world, xss_comment, Cred, World,
};
use crate::common::{send, upload, TestDb};
use crate::inventory::read;
use crate::schema;

const SQLI: &str = "/search?q=shoes%27%20UNION%20SELECT%20password%20FROM%20users--";

/// Uploads, as the next batch, comments of four clients on
/// `POST /comments/{id}` and one stored-XSS attempt there (a second kind of
/// event: another endpoint, point and class), inspected by the engine.
async fn upload_xss(w: &World, seq: u64) {
    let mut reqs = Vec::new();
    for client in 1..=4u8 {
        reqs.push((
            client,
            request(
                "POST",
                &format!("/comments/{}", 100 + u32::from(client)),
                &[
                    ("Host", "shop.example"),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                ],
                "author=someone&text=nice+shoes",
            ),
        ));
    }
    reqs.push((9, xss_comment(7)));
    let b = real_batch(seq, now_secs(), "xss", reqs);
    assert_eq!(b.attacks.len(), 1, "the XSS is seen: {:?}", b.attacks);
    let r = upload(w.cloud.addr, &w.node, &b, false).await;
    assert_eq!(r.status, 200, "{}", body_text(&r));
}

fn items(v: &Value) -> &Vec<Value> {
    v["items"].as_array().expect("items")
}

fn ids(v: &Value) -> Vec<i64> {
    items(v).iter().filter_map(|a| a["id"].as_i64()).collect()
}

async fn search_page_and_detail(db: &TestDb) {
    let w = world(db).await;
    w.traffic(1, 2).await;
    upload_xss(&w, 3).await;
    let all = read(&w, &w.app_path("/attacks")).await;
    let all_ids = ids(&all);
    assert!(all_ids.len() >= 2, "{all}");
    assert!(
        all_ids.windows(2).all(|p| p[0] > p[1]),
        "newest first: {all_ids:?}"
    );
    assert_eq!(all["next_before"], Value::Null, "one page");
    let sqli = read(&w, &w.app_path("/attacks?q=union")).await;
    let first = &items(&sqli)[0];
    assert_eq!(first["endpoint"], "GET /search");
    assert_eq!(first["class"], "sqli");
    assert_eq!(first["action"], "block");
    assert_eq!(first["node"], "edge-1");
    assert_eq!(first["node_id"], w.node.id);
    assert!(first["payload"]
        .as_str()
        .is_some_and(|p| p.to_lowercase().contains("union select")));
    // Two batches with the same request: its events are stored once.
    let mut keys: Vec<(String, String)> = items(&sqli)
        .iter()
        .map(|a| (a["request_id"].to_string(), a["rule"].to_string()))
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "{sqli}");

    // Filters: text (any case, any field), class, action.
    assert_eq!(
        ids(&read(&w, &w.app_path("/attacks?q=UNION")).await),
        ids(&sqli)
    );
    let by_endpoint = read(&w, &w.app_path("/attacks?q=%2Fcomments")).await;
    assert!(!items(&by_endpoint).is_empty());
    assert!(
        items(&by_endpoint)
            .iter()
            .all(|a| a["class"] == "xss" && a["endpoint"] == "POST /comments/{int}"),
        "{by_endpoint}"
    );
    let by_request = read(&w, &w.app_path("/attacks?q=xss-4")).await;
    assert_eq!(ids(&by_request), ids(&by_endpoint));
    let xss = read(&w, &w.app_path("/attacks?class=xss")).await;
    assert_eq!(ids(&xss), ids(&by_endpoint));
    assert!(items(&read(&w, &w.app_path("/attacks?class=sqli")).await)
        .iter()
        .all(|a| a["class"] == "sqli"));
    let blocked = read(&w, &w.app_path("/attacks?action=block")).await;
    assert!(items(&blocked).iter().all(|a| a["action"] == "block"));
    assert!(!items(&blocked).is_empty());
    let none = read(&w, &w.app_path("/attacks?q=no%25such_thing")).await;
    assert_eq!(none, json!({"items": [], "next_before": null}));

    // Paging, one at a time.
    let mut seen = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let q = match before {
            Some(b) => format!("/attacks?limit=1&before={b}"),
            None => "/attacks?limit=1".to_owned(),
        };
        let page = read(&w, &w.app_path(&q)).await;
        seen.extend(ids(&page));
        match page["next_before"].as_i64() {
            Some(n) => {
                assert_eq!(Some(n), seen.last().copied());
                before = Some(n);
            }
            None => break,
        }
        assert!(seen.len() <= all_ids.len(), "paging does not end");
    }
    assert_eq!(seen, all_ids);
    for bad in ["limit=ten", "before=x"] {
        expect_error(
            &w.api
                .get(&w.admin(), &w.app_path(&format!("/attacks?{bad}")))
                .await,
            400,
            "bad_request",
            bad,
        );
    }

    // The detail: the point as a tree, the leaf with the payload.
    let id = first["id"].as_i64().expect("id");
    let d = read(&w, &format!("/api/v1/attacks/{id}")).await;
    assert_eq!(&d["attack"], first);
    let tree = d["tree"].as_array().expect("tree");
    let rows: Vec<(i64, &str, &str)> = tree
        .iter()
        .map(|r| {
            (
                r["depth"].as_i64().unwrap_or(-1),
                r["kind"].as_str().unwrap_or(""),
                r["label"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (0, "root", "request"),
            (1, "source", "query"),
            (2, "member", "q")
        ],
        "the point is {}",
        first["point"]
    );
    assert_eq!(tree[2]["payload"], first["payload"]);
    assert!(tree[..2].iter().all(|r| r.get("payload").is_none()));
    assert_eq!(d["scan_jobs"], json!([]));
    assert_eq!(d["incidents"], json!([]));
    assert_eq!(d["exception"], Value::Null);
    let in_text = items(&xss)
        .iter()
        .find(|a| a["point"] == "body:form.text")
        .unwrap_or_else(|| panic!("an XSS event at body:form.text: {xss}"))["id"]
        .clone();
    let x = read(&w, &format!("/api/v1/attacks/{in_text}")).await;
    let labels: Vec<&str> = x["tree"]
        .as_array()
        .expect("tree")
        .iter()
        .filter_map(|r| r["label"].as_str())
        .collect();
    assert_eq!(labels, ["request", "body", "form", "text"]);

    // What it led to: a scan job and an incident at its endpoint and point.
    let store = w.store();
    let ep = store
        .endpoint(w.app_id, "GET", "/search")
        .await
        .expect("endpoint")
        .expect("stored");
    store
        .enqueue_scan_job(
            w.app_id,
            rampart_store::NewScanJob {
                endpoint_id: ep.id,
                point: "query.q",
                class: "sqli",
                payload_family: "union",
                payload: "' union select 1--",
                dedup_key: "search-q",
                not_before: None,
            },
        )
        .await
        .expect("enqueue")
        .expect("new");
    let opened = store
        .open_incident(
            w.app_id,
            rampart_store::NewIncident {
                title: "SQL injection confirmed in GET /search",
                severity: rampart_store::entity::Severity::Critical,
                endpoint_id: Some(ep.id),
                point: Some("query.q"),
                payload: Some("' union select 1--"),
                evidence: &json!({"baseline": 200, "probe": 500}),
                dedup_key: "search-q",
            },
        )
        .await
        .expect("incident");
    let d = read(&w, &format!("/api/v1/attacks/{id}")).await;
    assert_eq!(d["scan_jobs"][0]["payload_family"], "union");
    assert_eq!(d["scan_jobs"][0]["endpoint"], "GET /search");
    assert_eq!(d["incidents"][0]["id"], opened.incident.id);
    assert_eq!(d["incidents"][0]["severity"], "critical");
    assert_eq!(d["incidents"][0]["endpoint"], "GET /search");
    let x = read(&w, &format!("/api/v1/attacks/{}", ids(&xss)[0])).await;
    assert_eq!(x["scan_jobs"], json!([]), "another endpoint");
    assert_eq!(x["incidents"], json!([]));

    for (path, says) in [
        ("/api/v1/attacks/999999", "999999"),
        ("/api/v1/attacks/abc", "abc"),
    ] {
        let v = expect_error(&w.api.get(&w.admin(), path).await, 404, "not_found", path);
        assert!(v["message"].as_str().unwrap_or("").contains(says), "{v}");
    }
    w.cloud.stop().await;
}

/// The latest pack as the node gets it: downloaded with the node's
/// credential, verified with the keys from enrollment, compiled.
async fn node_pack(w: &World) -> (Pack, rampart_dsl::ir::Program) {
    let bearer = w.node.bearer();
    let r = send(
        w.cloud.addr,
        "GET",
        "/v1/packs/latest",
        &[("authorization", bearer.as_str())],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", body_text(&r));
    let trusted = TrustedKeys::new(
        w.node
            .pack_keys
            .iter()
            .map(|k| keys::read_verifying_key(k).expect("pack key"))
            .collect(),
    );
    let (pack, _, program) = Pack::open(&r.body, &trusted, Some("shop")).expect("a valid pack");
    (pack, program)
}

/// The node's engine with the pack's rules.
fn engine_with(pack: Option<rampart_dsl::ir::Program>) -> Engine {
    let engine = plain_engine();
    match pack {
        Some(p) => engine.with_rules(RuleSet::new(
            Backend::Interpreter
                .compile(p)
                .expect("the pack's rules compile"),
        )),
        None => engine,
    }
}

async fn false_positives_become_exceptions_on_the_node(db: &TestDb) {
    let w = world(db).await;
    w.traffic(1, 1).await;
    upload_xss(&w, 2).await;
    let api = &w.api;
    // A first pack with a rule of the operator's.
    let no_admin =
        "rule no-admin \"No admin area\" {\n    endpoint \"/admin/**\"\n    then block\n}\n";
    expect(
        &api.put(
            &w.admin(),
            &w.app_path("/rules/no-admin"),
            &json!({"source": no_admin}),
        )
        .await,
        201,
        "rule",
    );
    let v1 = expect(
        &api.post(&w.admin(), &w.app_path("/packs"), &json!({}))
            .await,
        201,
        "pack",
    )["version"]
        .as_i64()
        .expect("published");

    let sqli = read(&w, &w.app_path("/attacks?class=sqli&q=union")).await;
    let attack = items(&sqli)[0].clone();
    let id = attack["id"].as_i64().expect("id");
    // Refused: analysts, unknown events, bad bodies.
    for cred in [w.analyst(), w.analyst_bearer()] {
        expect_error(
            &api.post(
                &cred,
                &format!("/api/v1/attacks/{id}/false-positive"),
                &json!({}),
            )
            .await,
            403,
            "forbidden",
            "analyst",
        );
    }
    expect_error(
        &api.post(
            &w.admin(),
            "/api/v1/attacks/999999/false-positive",
            &json!({}),
        )
        .await,
        404,
        "not_found",
        "unknown attack",
    );
    expect_error(
        &api.post(
            &w.admin(),
            &format!("/api/v1/attacks/{id}/false-positive"),
            &json!({"note": 5}),
        )
        .await,
        400,
        "bad_request",
        "note not a string",
    );

    // Marked with the session: an exception rule, blocking, in a new pack.
    let r = api
        .post(
            &w.admin(),
            &format!("/api/v1/attacks/{id}/false-positive"),
            &json!({"note": "the search box takes SQL keywords"}),
        )
        .await;
    let fp = expect(&r, 201, "false positive");
    let rule = &fp["rule"];
    let rule_id = rule["id"].as_str().expect("rule id").to_owned();
    assert!(rule_id.starts_with("fp-sqli-"), "{rule_id}");
    assert_eq!(rule["origin"], "custom");
    assert_eq!(rule["state"], "blocking");
    let source = rule["source"].as_str().expect("source").to_owned();
    assert!(source.contains("allow(class = sqli"), "{source}");
    assert!(source.contains(&format!(
        "point = {}",
        attack["point"].as_str().unwrap_or("?")
    )));
    assert!(source.contains("endpoint \"/search\""), "{source}");
    assert!(source.contains("method GET"), "{source}");
    assert!(
        source.contains("the search box takes SQL keywords"),
        "{source}"
    );
    let v2 = fp["pack"]["version"].as_i64().expect("a new pack");
    assert_eq!(v2, v1 + 1);
    let stored = read(&w, &w.app_path(&format!("/rules/{rule_id}"))).await;
    assert_eq!(&stored, rule);

    // The second mark of the same kind is a conflict, whoever sends it.
    for cred in [w.admin(), w.admin_bearer()] {
        expect_error(
            &api.post(
                &cred,
                &format!("/api/v1/attacks/{id}/false-positive"),
                &json!({}),
            )
            .await,
            409,
            "conflict",
            "marked twice",
        );
    }
    let d = read(&w, &format!("/api/v1/attacks/{id}")).await;
    assert_eq!(
        d["exception"],
        json!({"rule_id": rule_id, "state": "blocking"})
    );

    // The packs list shows it, the diff says what it added.
    let packs = read(&w, &w.app_path("/packs")).await;
    let versions: Vec<i64> = packs
        .as_array()
        .expect("packs")
        .iter()
        .filter_map(|p| p["version"].as_i64())
        .collect();
    assert_eq!(versions, [v2, v1], "newest first");
    assert_eq!(packs[0]["published"], true);
    assert!(packs[0]["published_at"].is_string());
    assert_eq!(packs[0]["rules"], 2);
    assert_eq!(packs[1]["rules"], 1);
    assert_eq!(packs[0]["nodes"], json!([]), "no node reported it yet");
    let diff = read(&w, &w.app_path(&format!("/packs/{v2}/diff"))).await;
    assert_eq!(diff["from"], v1);
    assert_eq!(diff["to"], v2);
    assert_eq!(diff["added"], json!([{"id": rule_id, "source": source}]));
    assert_eq!(diff["removed"], json!([]));
    assert_eq!(diff["changed"], json!([]));

    // The node downloads the pack: it carries the exception, and the
    // request that was blocked passes now.
    let (pack, program) = node_pack(&w).await;
    assert_eq!(pack.manifest.version, v2 as u64);
    assert_eq!(
        pack.file(&format!("rules/{rule_id}.rules")),
        Some(source.as_str())
    );
    let attack_req = request("GET", SQLI, &[("Host", "shop.example")], "");
    assert!(
        engine_with(None).inspect(&attack_req).verdict.is_block(),
        "without the pack the injection is blocked"
    );
    let with_pack = engine_with(Some(program));
    let ins = with_pack.inspect(&attack_req);
    assert!(
        !ins.verdict.is_block(),
        "the exception lets the request through: {:?}",
        ins.verdict
    );
    // The exception is narrow: the same payload elsewhere is still blocked.
    let elsewhere = request(
        "GET",
        "/products?q=shoes%27%20UNION%20SELECT%20password%20FROM%20users--",
        &[("Host", "shop.example")],
        "",
    );
    assert!(with_pack.inspect(&elsewhere).verdict.is_block());

    // The node reports running it.
    w.heartbeat(Some(v2)).await;
    let packs = read(&w, &w.app_path("/packs")).await;
    assert_eq!(packs[0]["nodes"], json!(["edge-1"]));
    assert_eq!(packs[1]["nodes"], json!([]));
    let nodes = read(&w, &w.app_path("/nodes")).await;
    assert_eq!(nodes[0]["rule_pack_version"], v2);

    // Marked with a token: an XSS event on another endpoint and point.
    let xss = read(&w, &w.app_path("/attacks?class=xss")).await;
    let xattack = items(&xss)
        .iter()
        .find(|a| a["point"] == "body:form.text")
        .unwrap_or_else(|| panic!("an XSS event at body:form.text: {xss}"))
        .clone();
    let fp = expect(
        &api.post(
            &w.admin_bearer(),
            &format!("/api/v1/attacks/{}/false-positive", xattack["id"]),
            &json!({}),
        )
        .await,
        201,
        "false positive with a token",
    );
    let xrule = fp["rule"]["id"].as_str().expect("id").to_owned();
    assert!(xrule.starts_with("fp-xss-"), "{xrule}");
    assert_ne!(xrule, rule_id);
    let v3 = fp["pack"]["version"].as_i64().expect("a new pack");
    assert_eq!(v3, v2 + 1);
    let xsrc = fp["rule"]["source"].as_str().expect("source");
    assert_eq!(xattack["endpoint"], "POST /comments/{int}", "{xattack}");
    assert!(xsrc.contains("endpoint \"/comments/{p1}\""), "{xsrc}");
    assert!(xsrc.contains("method POST"), "{xsrc}");
    let xpoint = xattack["point"].as_str().expect("point");
    assert!(xpoint.starts_with("body:form"), "{xattack}");
    assert!(
        xsrc.contains(&format!("allow(class = xss, point = {xpoint})")),
        "{xsrc}"
    );
    // On the node: the findings of the comment's text are excepted, on
    // any comment; the other exception stays, and neither opens anything
    // else. (Whether the comment then passes depends on the detectors'
    // findings on the whole form string, outside the excepted point.)
    let (pack, program) = node_pack(&w).await;
    assert_eq!(pack.manifest.version, v3 as u64);
    let before = engine_with(None);
    let after = engine_with(Some(program));
    for id in [7, 8] {
        let was = before.inspect(&xss_comment(id));
        assert!(was.verdict.is_block());
        let now = after.inspect(&xss_comment(id)).verdict;
        assert!(
            now.score < was.verdict.score,
            "comment {id}: {now:?}, was {:?}",
            was.verdict
        );
        assert_ne!(
            now.point.as_deref(),
            Some(xpoint),
            "comment {id}: nothing at the excepted point decides"
        );
    }
    assert!(!after.inspect(&attack_req).verdict.is_block());
    let mut review = xss_comment(7);
    review.target = b"/reviews/7".to_vec();
    assert!(
        after.inspect(&review).verdict.is_block(),
        "another endpoint"
    );
    let sqli_comment = request(
        "POST",
        "/comments/7",
        &[
            ("Host", "shop.example"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        "author=eve&text=shoes%27%20UNION%20SELECT%20password%20FROM%20users--",
    );
    assert!(
        after.inspect(&sqli_comment).verdict.is_block(),
        "another class"
    );
    let diff = read(&w, &w.app_path(&format!("/packs/{v3}/diff"))).await;
    let added: Vec<&str> = diff["added"]
        .as_array()
        .expect("added")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(added, [xrule.as_str()]);
    let diff = read(&w, &w.app_path(&format!("/packs/{v3}/diff?from={v1}"))).await;
    assert_eq!(diff["from"], v1);
    assert_eq!(diff["added"].as_array().expect("added").len(), 2);
    w.cloud.stop().await;
}

async fn siem_exports(db: &TestDb) {
    let w = world(db).await;
    // Nothing yet: an empty body, no last id.
    let r = w.api.get(&w.admin(), &w.app_path("/attacks/export")).await;
    expect(&r, 200, "empty export");
    assert!(r.body.is_empty());
    assert!(r.header("x-rampart-last-id").is_none());

    w.traffic(1, 1).await;
    upload_xss(&w, 2).await;
    let newest_first = ids(&read(&w, &w.app_path("/attacks")).await);
    let mut oldest_first = newest_first.clone();
    oldest_first.reverse();

    // JSON lines, with a session and with a token.
    for cred in [w.admin(), w.admin_bearer(), w.analyst(), w.analyst_bearer()] {
        let r = w
            .api
            .get(&cred, &w.app_path("/attacks/export?format=jsonl"))
            .await;
        expect(&r, 200, "jsonl");
        assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
        let text = body_text(&r);
        assert!(text.ends_with('\n'));
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        let got: Vec<i64> = lines.iter().filter_map(|l| l["id"].as_i64()).collect();
        assert_eq!(got, oldest_first);
        for l in &lines {
            let problems = schema::check(
                &w.api.doc,
                schema::component(&w.api.doc, "ExportedAttack"),
                l,
            );
            assert!(problems.is_empty(), "{l}: {problems:?}");
            assert_eq!(l["application"], "shop");
        }
        assert_eq!(
            r.header("x-rampart-last-id"),
            Some(oldest_first.last().expect("events").to_string().as_str())
        );
    }
    // Polling: since the last id, nothing; a limit cuts the oldest first.
    let last = *oldest_first.last().expect("events");
    let r = w
        .api
        .get(
            &w.admin(),
            &w.app_path(&format!("/attacks/export?since={last}")),
        )
        .await;
    expect(&r, 200, "since the last");
    assert!(r.body.is_empty());
    let r = w
        .api
        .get(&w.admin(), &w.app_path("/attacks/export?limit=1"))
        .await;
    expect(&r, 200, "one");
    assert_eq!(body_text(&r).lines().count(), 1);
    let first = oldest_first[0];
    assert_eq!(
        r.header("x-rampart-last-id"),
        Some(first.to_string().as_str())
    );
    let r = w
        .api
        .get(
            &w.admin(),
            &w.app_path(&format!("/attacks/export?since={first}")),
        )
        .await;
    expect(&r, 200, "the rest");
    let rest: Vec<i64> = body_text(&r)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok()?["id"].as_i64())
        .collect();
    assert_eq!(rest, oldest_first[1..]);

    // Syslog (RFC 5424).
    let r = w
        .api
        .get(
            &w.admin_bearer(),
            &w.app_path("/attacks/export?format=syslog"),
        )
        .await;
    expect(&r, 200, "syslog");
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    let text = body_text(&r);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), oldest_first.len());
    for (line, id) in lines.iter().zip(&oldest_first) {
        // local0.warning for a block.
        assert!(line.starts_with("<132>1 "), "{line}");
        assert!(
            line.contains(" edge-1 rampart - attack [rampart@53595 "),
            "{line}"
        );
        assert!(
            line.contains(&format!("id=\"{id}\" app=\"shop\"")),
            "{line}"
        );
    }
    assert!(lines.iter().any(|l| l.contains("class=\"sqli\"")
        && l.contains("endpoint=\"GET /search\"")
        && l.to_lowercase().contains("union select")));
    assert!(lines.iter().any(|l| l.contains("class=\"xss\"")));

    for bad in ["format=csv", "since=x", "limit=many"] {
        expect_error(
            &w.api
                .get(&w.admin(), &w.app_path(&format!("/attacks/export?{bad}")))
                .await,
            400,
            "bad_request",
            bad,
        );
    }
    expect_error(
        &w.api.get(&Cred::None, &w.app_path("/attacks/export")).await,
        401,
        "unauthorized",
        "export without credentials",
    );
    w.cloud.stop().await;
}

/// Events name their points by shape: a member name fewer than k clients
/// sent is `{word}`, an index `[*]`. Marking such an event a false
/// positive makes an exception that compiles and covers it.
async fn false_positives_at_shaped_points(db: &TestDb) {
    let w = world(db).await;
    upload_xss(&w, 1).await;
    let xss = read(&w, &w.app_path("/attacks?class=xss")).await;
    let shaped = items(&xss)
        .iter()
        .find(|a| a["point"].as_str().is_some_and(|p| p.contains('{')))
        .unwrap_or_else(|| panic!("an event at a shaped point: {xss}"))
        .clone();
    let r = w
        .api
        .post(
            &w.admin(),
            &format!("/api/v1/attacks/{}/false-positive", shaped["id"]),
            &json!({}),
        )
        .await;
    let fp = expect(
        &r,
        201,
        &format!("false positive at the shaped point {}", shaped["point"]),
    );
    let src = fp["rule"]["source"].as_str().expect("source");
    let action = src
        .lines()
        .find(|l| l.trim_start().starts_with("then "))
        .unwrap_or_else(|| panic!("an action: {src}"));
    assert!(!action.contains('{'), "{src}");
    assert!(fp["pack"]["version"].is_i64(), "{fp}");
    let d = read(&w, &format!("/api/v1/attacks/{}", shaped["id"])).await;
    assert_eq!(d["exception"]["state"], "blocking", "{d}");
    w.cloud.stop().await;
}

/// An event a rule of the rule language decided (no detector finding of
/// its own: no point, no class) can be marked a false positive too: the
/// exception lets that rule's decision go on that endpoint.
async fn false_positives_of_rule_decisions(db: &TestDb) {
    let w = world(db).await;
    let src = "rule no-admin \"No admin area\" {\n    endpoint \"/admin/**\"\n    then block\n}\n";
    expect(
        &w.api
            .put(
                &w.admin(),
                &w.app_path("/rules/no-admin"),
                &json!({"source": src}),
            )
            .await,
        201,
        "rule",
    );
    expect(
        &w.api
            .post(&w.admin(), &w.app_path("/packs"), &json!({}))
            .await,
        201,
        "pack",
    );
    let (_, program) = node_pack(&w).await;
    let engine = engine_with(Some(program));
    let reqs = (1..=4u8)
        .map(|c| {
            (
                c,
                request("GET", "/admin/panel", &[("Host", "shop.example")], ""),
            )
        })
        .collect();
    let b = real_batch_with(&engine, 1, now_secs(), "admin", reqs);
    assert!(!b.attacks.is_empty(), "the rule blocks");
    let r = upload(w.cloud.addr, &w.node, &b, false).await;
    assert_eq!(r.status, 200, "{}", body_text(&r));
    let events = read(&w, &w.app_path("/attacks?q=no-admin")).await;
    let event = items(&events)
        .first()
        .unwrap_or_else(|| panic!("an event of rule no-admin: {events}"))
        .clone();
    assert_eq!(event["rule"], "no-admin", "{event}");
    let r = w
        .api
        .post(
            &w.admin(),
            &format!("/api/v1/attacks/{}/false-positive", event["id"]),
            &json!({}),
        )
        .await;
    let fp = expect(
        &r,
        201,
        &format!("false positive of a rule's decision {event}"),
    );
    assert!(fp["pack"]["version"].is_i64(), "{fp}");
    let (_, program) = node_pack(&w).await;
    let engine = engine_with(Some(program));
    let v = engine
        .inspect(&request(
            "GET",
            "/admin/panel",
            &[("Host", "shop.example")],
            "",
        ))
        .verdict;
    assert!(!v.is_block(), "{v:?}");
    w.cloud.stop().await;
}

crate::on_both!(
    search_page_and_detail,
    false_positives_of_rule_decisions,
    false_positives_become_exceptions_on_the_node,
    false_positives_at_shaped_points,
    siem_exports,
);
