//! Golden tests: the rule files in tests/golden/ against requests, with the
//! expected fired actions. Every back-end must give the same answer.

use rampart_dsl::ir::RulePhase;
use rampart_types::{Action, Class, Mode};

use crate::support::{Req, Rules};

const SHOP: &str = include_str!("../golden/shop.rules");
const COMMON: &str = include_str!("../golden/common.rules");

fn shop() -> Rules {
    Rules::files(&[("shop.rules", SHOP), ("common.rules", COMMON)])
}

fn host(r: Req) -> Req {
    r.header("Host", "shop.example.com:8443")
}

#[test]
fn shop_compiles_in_priority_order() {
    let rules = shop();
    let ids: Vec<&str> = rules
        .program()
        .rules
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "cve-2021-44228",
            "legacy-upload",
            "search-debug-exception",
            "search-sqli",
            "user-id-format",
            "bola-guard",
            "login-bruteforce",
            "card-mask",
            "bio-xss",
            "scanner-ua",
            "php-probe",
        ]
    );
}

#[test]
fn benign_search_passes() {
    let mut r = shop();
    let req = host(Req::get("/search?q=red+shoes"));
    assert!(r.run(&req).is_empty());
}

#[test]
fn sqli_in_search_blocks_on_the_shop_host_only() {
    let mut r = shop();
    let req = host(Req::get("/search?q=1'or'1'='1")).finding("query.q", Class::Sqli, 80);
    assert_eq!(
        r.run(&req),
        ["search-sqli: block 403", "search-sqli: tag search-attack"]
    );
    let weak = host(Req::get("/search?q=x")).finding("query.q", Class::Sqli, 20);
    assert!(r.run(&weak).is_empty(), "below min_score");
    let other = Req::get("/search?q=1'or'1'='1")
        .header("Host", "blog.example.com")
        .finding("query.q", Class::Sqli, 80);
    assert!(r.run(&other).is_empty(), "another host");
    let sub = Req::get("/search?q=1")
        .header("Host", "eu.shop.example.com")
        .finding("query.q", Class::Sqli, 80);
    assert_eq!(r.run(&sub).len(), 2, "host glob");
}

#[test]
fn exception_suppresses_named_rule() {
    let mut r = shop();
    let req = host(Req::get("/search?q=x&debug=1"))
        .ip("10.1.2.3")
        .finding("query.q", Class::Sqli, 80);
    let (d, out) = r.run_phase(&req, RulePhase::Request, 0);
    assert_eq!(d, ["search-debug-exception: allow rules search-sqli"]);
    assert_eq!(out.suppressed.len(), 1);
    // Not from the office network: the exception does not apply.
    let outside = host(Req::get("/search?q=x&debug=1"))
        .ip("198.51.100.1")
        .finding("query.q", Class::Sqli, 80);
    assert_eq!(r.run(&outside).len(), 2);
}

#[test]
fn log4shell_virtual_patch_blocks_in_monitor_mode() {
    let mut r = shop();
    let req = Req::get("/").header("X-Api-Version", "${JNDI:ldap://x/a}");
    let (d, out) = r.run_phase(&req, RulePhase::Request, 0);
    assert_eq!(d, ["cve-2021-44228: virtual_patch 403"]);
    let dec = out.decide(r.program(), Mode::Monitor);
    assert_eq!(dec.action, Action::Block);
    let q = Req::get("/a?x=${jndi:dns://y}");
    assert_eq!(r.run(&q), ["cve-2021-44228: virtual_patch 403"]);
}

#[test]
fn legacy_upload_patch() {
    let mut r = shop();
    let req = Req::post("/legacy/upload").leaf("body:multipart.file[\"@filename\"]", "shell.php");
    assert_eq!(r.run(&req), ["legacy-upload: virtual_patch 403"]);
    let ok = Req::post("/legacy/upload").leaf("body:multipart.file[\"@filename\"]", "cat.png");
    assert!(r.run(&ok).is_empty());
    let get = Req::get("/legacy/upload").leaf("body:multipart.file[\"@filename\"]", "shell.php");
    assert!(r.run(&get).is_empty(), "method scope");
}

#[test]
fn path_parameter_format() {
    let mut r = shop();
    assert!(r.run(&host(Req::get("/api/users/42"))).is_empty());
    assert_eq!(
        r.run(&host(Req::get("/api/users/42%20or%201=1"))),
        ["user-id-format: block 400"]
    );
}

#[test]
fn bola_guard_counts_distinct_ids_per_session() {
    let mut r = shop();
    for i in 0..20 {
        let req = host(Req::get(&format!("/api/users/{i}"))).session("s1");
        assert!(r.run_at(&req, i * 1000).is_empty(), "request {i}");
    }
    // The same id again is not a new one.
    let again = host(Req::get("/api/users/3")).session("s1");
    assert!(r.run_at(&again, 21_000).is_empty());
    let req = host(Req::get("/api/users/20")).session("s1");
    assert_eq!(
        r.run_at(&req, 22_000),
        ["bola-guard: block 403 page bola", "bola-guard: tag bola"]
    );
    // Another session is counted apart.
    let other = host(Req::get("/api/users/21")).session("s2");
    assert!(r.run_at(&other, 23_000).is_empty());
    // Five minutes later the window has moved on.
    let later = host(Req::get("/api/users/22")).session("s1");
    assert!(r.run_at(&later, 23_000 + 300_000).is_empty());
}

#[test]
fn login_rate_limit_bans_then_expires() {
    let mut r = shop();
    let login = || host(Req::post("/login")).ip("198.51.100.9");
    for i in 0..5 {
        assert!(r.run_at(&login(), i * 1000).is_empty(), "attempt {i}");
    }
    assert_eq!(
        r.run_at(&login(), 5000),
        ["login-bruteforce: rate_limit 429"]
    );
    // Banned for ten minutes, however slowly it comes back.
    assert_eq!(
        r.run_at(&login(), 5000 + 9 * 60_000),
        ["login-bruteforce: rate_limit 429"]
    );
    // Another client is not affected.
    assert!(r
        .run_at(&host(Req::post("/login")).ip("192.0.2.1"), 6000)
        .is_empty());
    assert!(r.run_at(&login(), 5000 + 11 * 60_000).is_empty());
}

#[test]
fn card_numbers_are_masked() {
    let mut r = shop();
    let req = host(Req::post("/checkout")).leaf("body:json.card.number", "4111111111111111");
    assert_eq!(
        r.run(&req),
        [
            "card-mask: mask body:json.card.number",
            "card-mask: score +5"
        ]
    );
    let (_, out) = r.run_phase(&req, RulePhase::Request, 0);
    assert_eq!(out.scores(r.program()), [(None, 5)]);
}

#[test]
fn bio_markup_is_scored_and_monitored() {
    let mut r = shop();
    let req = host(Req::new("PUT", "/api/users/7"))
        .leaf("body:json.user.bio", "<b>hi</b><script>x</script>")
        .finding("body:json.user.bio", Class::Xss, 70);
    let (d, out) = r.run_phase(&req, RulePhase::Request, 0);
    assert_eq!(d, ["bio-xss: score +20 xss", "bio-xss: monitor"]);
    assert_eq!(out.decide(r.program(), Mode::Block).action, Action::Monitor);
    assert_eq!(out.scores(r.program()), [(Some(Class::Xss), 20)]);
}

#[test]
fn included_rules_apply_everywhere() {
    let mut r = shop();
    let scan = Req::get("/").header("User-Agent", "sqlmap/1.7");
    assert_eq!(
        r.run(&scan),
        ["scanner-ua: block 403", "scanner-ua: tag scanner"]
    );
    assert_eq!(r.run(&Req::get("/index.php")), ["php-probe: block 404"]);
    assert!(r.run(&Req::post("/index.php")).is_empty());
}

#[test]
fn scope_index_evaluates_only_applicable_rules() {
    let mut r = shop();
    let (_, out) = r.run_phase(&host(Req::get("/api/users/7")), RulePhase::Request, 0);
    // Global rules: cve-2021-44228, scanner-ua, php-probe; for the endpoint:
    // user-id-format, bola-guard (bio-xss is PUT/PATCH only).
    assert_eq!(out.evaluated, 5);
}

#[test]
fn the_program_keeps_the_backend_contract() {
    let r = shop();
    let p = r.program();
    p.validate().expect("IR invariants");
    assert!(p.rules.iter().all(|r| r.location.contains(".rules:")));
}

#[test]
fn outcome_helpers() {
    let mut r = shop();
    let req = host(Req::post("/checkout")).leaf("body:json.card.number", "4111");
    let (_, out) = r.run_phase(&req, RulePhase::Request, 0);
    let masks: Vec<String> = out
        .masks(r.program())
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(masks, ["body:json.card.number"]);
    let scan = Req::get("/").header("User-Agent", "Nikto");
    let (_, out) = r.run_phase(&scan, RulePhase::Request, 0);
    assert_eq!(out.tags(r.program()), ["scanner"]);
    let ex = Req::get("/search?debug=1")
        .header("Host", "shop.example.com")
        .ip("10.0.0.1");
    let (_, out) = r.run_phase(&ex, RulePhase::Request, 0);
    assert_eq!(out.exceptions(r.program())[0].rules, ["search-sqli"]);
}

const API: &str = include_str!("../golden/api.rules");

fn api() -> Rules {
    Rules::files(&[("api.rules", API)])
}

fn api_host(r: Req) -> Req {
    r.header("Host", "API.example.com")
}

#[test]
fn api_decoded_layers() {
    let mut r = api();
    let admin = api_host(Req::get("/")).leaf("header.authorization:basic.user", "Admin");
    assert_eq!(r.run(&admin), ["basic-admin: block 401"]);
    let user = api_host(Req::get("/")).leaf("header.authorization:basic.user", "alice");
    assert!(r.run(&user).is_empty());
    let b64 = api_host(Req::get("/?a=x&b=PHNjcmlwdD4=")).leaf("query.b:base64", "<SCRIPT>");
    assert_eq!(
        r.run(&b64),
        ["b64-script: score +30 xss", "b64-script: tag encoded"]
    );
    let xml = api_host(Req::post("/soap/orders")).leaf("body:xml.order[\"@id\"]", "1 or 1=1");
    assert_eq!(r.run(&xml), ["xml-order-id: block 400"]);
    let good = api_host(Req::post("/soap/orders")).leaf(
        "body:xml.order[\"@id\"]",
        "123e4567-e89b-12d3-a456-426614174000",
    );
    assert!(r.run(&good).is_empty());
}

#[test]
fn api_learned_profile() {
    use rampart_dsl::profile::{distribution, CharProfile};
    let mut r = api();
    let with_profile = |v: &str| {
        let mut req = api_host(Req::post("/api/reviews")).leaf("body:json.comment", v);
        req.view.profiles.insert(
            "body:json.comment".into(),
            CharProfile {
                classes: distribution(b"great shoes fit well and look nice"),
                len_mean: 120.0,
                len_std: 60.0,
            },
        );
        req
    };
    assert!(r
        .run(&with_profile("comfortable and light enough for running"))
        .is_empty());
    assert_eq!(
        r.run(&with_profile("';!--\"<XSS>=&{()}")),
        ["odd-comment: score +15", "odd-comment: monitor"]
    );
    // Without a profile the statistics are absent: nothing fires.
    let bare = api_host(Req::post("/api/reviews")).leaf("body:json.comment", "';!--\"<XSS>=&{()}");
    assert!(r.run(&bare).is_empty());
}

#[test]
fn api_response_phase() {
    let mut r = api();
    let err = api_host(Req::get("/api/x")).status(502);
    for t in 0..2 {
        assert!(r
            .run_phase(&err, RulePhase::Response, t * 1000)
            .0
            .is_empty());
    }
    assert!(
        r.run_phase(&err, RulePhase::Request, 2500).0.is_empty(),
        "request phase"
    );
    assert_eq!(
        r.run_phase(&err, RulePhase::Response, 3000).0,
        [
            "server-errors: tag error-farming",
            "server-errors: score +10"
        ]
    );
    let ok = api_host(Req::get("/api/x")).status(200);
    assert!(r.run_phase(&ok, RulePhase::Response, 3500).0.is_empty());
}
