//! The engine with rules in the rule language: how rule outcomes join the
//! detectors' findings (spec/rule-language.md section 13). Runs on the
//! back-end the build has by default: the JIT with the `jit` feature, the
//! reference interpreter without it (CI runs both).

#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use rampart_core::{Action, Backend, Engine, EngineConfig, Inspection, Mode, Request, RuleSet};
use rampart_dsl::pack::{keys, Installed, Pack, PackSlot, TrustedKeys};
use rampart_types::{Class, Header};

fn engine(mode: Mode, rules: &str) -> Engine {
    let reg = rampart_builtin_plugins::registry().unwrap();
    let cfg = EngineConfig {
        mode,
        ..EngineConfig::default()
    };
    let e = Engine::new(&reg, cfg).unwrap();
    if rules.is_empty() {
        return e;
    }
    let prog =
        rampart_dsl::compile_str("test.rules", rules).unwrap_or_else(|d| panic!("{}", d.render()));
    e.with_rules(RuleSet::new(Backend::default().compile(prog).unwrap()))
}

fn get(target: &str) -> Request {
    let mut r = Request::new("GET", target);
    r.headers.push(Header {
        name: b"Host".to_vec(),
        value: b"shop.example".to_vec(),
    });
    r.client_ip = Some("198.51.100.7".parse().unwrap());
    r
}

fn with_header(mut r: Request, name: &str, value: &str) -> Request {
    r.headers.push(Header {
        name: name.as_bytes().to_vec(),
        value: value.as_bytes().to_vec(),
    });
    r
}

const UNION: &str = "1%27%20UNION%20SELECT%20password%20FROM%20users--";

#[test]
fn without_rules_nothing_changes() {
    let e = engine(Mode::Block, "");
    let ins = e.inspect(&get(&format!("/search?q={UNION}")));
    assert_eq!(ins.verdict.action, Action::Block);
    assert_eq!(ins.verdict.class, Some(Class::Sqli));
    assert!(ins.rules.matched.is_empty() && ins.rules.decision.is_none());
    assert!(!e.wants_response(&ins));
}

#[test]
fn a_blocking_rule_decides_with_its_status_and_id() {
    let e = engine(
        Mode::Block,
        r#"rule no-php "No PHP here" { when path ~ "*.php" then block(404) }"#,
    );
    let ins = e.inspect(&get("/index.php"));
    assert_eq!(ins.verdict.action, Action::Block);
    assert_eq!(ins.verdict.status, 404);
    assert_eq!(ins.verdict.rule.as_deref(), Some("no-php"));
    assert_eq!(ins.verdict.class, None);
    assert_eq!(ins.rules.matched, ["no-php"]);
    let ok = e.inspect(&get("/index.html"));
    assert_eq!(ok.verdict.action, Action::Allow);
    assert!(ok.rules.matched.is_empty());
}

#[test]
fn monitor_mode_monitors_rules_but_virtual_patches_still_block() {
    let rules = r#"
        rule no-php "No PHP" { when path ~ "*.php" then block }
        rule patch "Old handler" { when path == "/legacy/upload" then virtual_patch(410) }
    "#;
    let e = engine(Mode::Monitor, rules);
    let php = e.inspect(&get("/x.php"));
    assert_eq!(php.verdict.action, Action::Monitor);
    assert_eq!(php.verdict.rule.as_deref(), Some("no-php"));
    let patched = e.inspect(&get("/legacy/upload"));
    assert_eq!(patched.verdict.action, Action::Block);
    assert_eq!(patched.verdict.status, 410);
    // A detector decision is only logged in monitor mode, and a rule that
    // monitors the same request is named as the reason.
    let both = engine(
        Mode::Monitor,
        r#"rule watch "Watch search" { when exists(query.q) then monitor }"#,
    )
    .inspect(&get(&format!("/search?q={UNION}")));
    assert_eq!(both.verdict.action, Action::Monitor);
    assert_eq!(both.verdict.rule.as_deref(), Some("watch"));
}

#[test]
fn a_detector_block_wins_over_a_rule_that_only_monitors() {
    let e = engine(
        Mode::Block,
        r#"rule watch "Watch search" { when exists(query.q) then monitor }"#,
    );
    let ins = e.inspect(&get(&format!("/search?q={UNION}")));
    assert_eq!(ins.verdict.action, Action::Block);
    assert_eq!(ins.verdict.class, Some(Class::Sqli));
    let benign = e.inspect(&get("/search?q=shoes"));
    assert_eq!(benign.verdict.action, Action::Monitor);
    assert_eq!(benign.verdict.rule.as_deref(), Some("watch"));
}

#[test]
fn a_point_exception_takes_that_parameter_out_of_the_detectors_scores() {
    let e = engine(
        Mode::Block,
        r#"rule reports "Report filters are SQL-like" {
               endpoint "/reports"
               then allow(class = sqli, point = query.filter)
           }"#,
    );
    // The filter's SQL no longer counts, in the parameter and in the whole
    // query string that holds it.
    let ins = e.inspect(&get(&format!("/reports?filter={UNION}&page=1")));
    assert_eq!(ins.verdict.action, Action::Allow, "{}", ins.to_text());
    assert!(ins.rules.excepted.len() >= 2, "{:?}", ins.rules.excepted);
    // The same SQL in another parameter still blocks.
    let other = e.inspect(&get(&format!("/reports?filter=x&page={UNION}")));
    assert_eq!(other.verdict.action, Action::Block);
    // ... and on another endpoint the exception does not apply.
    let elsewhere = e.inspect(&get(&format!("/search?filter={UNION}")));
    assert_eq!(elsewhere.verdict.action, Action::Block);
    // An exception for another class leaves SQL injection alone.
    let xss_only = engine(
        Mode::Block,
        r#"rule r "x" { then allow(class = xss, point = query.filter) }"#,
    )
    .inspect(&get(&format!("/reports?filter={UNION}")));
    assert_eq!(xss_only.verdict.action, Action::Block);
}

#[test]
fn allow_without_arguments_excepts_every_finding_and_later_rule() {
    let e = engine(
        Mode::Block,
        r#"
        ruleset "trusted" priority 100 {
            rule scanner-ip "Our own scanner" { when client.ip == "198.51.100.7" then allow }
        }
        rule no-php "No PHP" { when path ~ "*.php" then block }
        "#,
    );
    let ins = e.inspect(&get(&format!("/x.php?q={UNION}")));
    assert_eq!(ins.verdict.action, Action::Allow, "{}", ins.to_text());
    assert_eq!(ins.rules.suppressed, ["no-php"]);
    assert!(ins.findings.iter().all(|f| !f.class.is_attack()));
    let mut other = get(&format!("/x.php?q={UNION}"));
    other.client_ip = Some("203.0.113.9".parse().unwrap());
    assert_eq!(e.inspect(&other).verdict.action, Action::Block);
}

#[test]
fn scores_join_the_detectors_against_the_thresholds() {
    // `<b>` alone is markup the XSS detector scores below the threshold.
    let base = engine(Mode::Block, "").inspect(&get("/c?text=%3Cb%3Ehi%3C%2Fb%3E"));
    assert_eq!(base.verdict.action, Action::Allow);
    // A learned rule that says this parameter never holds markup.
    let e = engine(
        Mode::Block,
        r#"rule plain "text is plain" { when contains(query.text, "<") then score(60, class = xss) }"#,
    );
    let ins = e.inspect(&get("/c?text=%3Cb%3Ehi%3C%2Fb%3E"));
    assert_eq!(ins.verdict.action, Action::Block);
    assert_eq!(ins.verdict.class, Some(Class::Xss));
    // A negative score lowers a class below its threshold.
    let lowered = engine(
        Mode::Block,
        r#"rule calm "the search box is noisy" { endpoint "/search" then score(-100, class = sqli) }"#,
    )
    .inspect(&get(&format!("/search?q={UNION}")));
    assert_eq!(lowered.verdict.action, Action::Allow);
    // A total score alone decides once it reaches the threshold.
    let total = engine(
        Mode::Block,
        r#"
        rule odd-page "page is an integer" { when exists(query.page) and not is_int(query.page) then score(30) }
        rule odd-size "size is an integer" { when exists(query.size) and not is_int(query.size) then score(30) }
        "#,
    );
    let one = total.inspect(&get("/list?page=abc&size=10"));
    assert_eq!(one.verdict.action, Action::Allow);
    let two = total.inspect(&get("/list?page=abc&size=big"));
    assert_eq!(two.verdict.action, Action::Block);
    assert_eq!(two.verdict.class, None);
    assert_eq!(two.verdict.score, 60);
    assert_eq!(two.verdict.rule.as_deref(), Some("odd-page"));
}

#[test]
fn masked_points_never_show_their_values() {
    let e = engine(
        Mode::Block,
        r#"rule card "cards" { when exists(query.card) then mask(query.card), tag("pci") }"#,
    );
    let ins = e.inspect(&get(
        "/pay?card=4111111111111111&note=%3Cscript%3Ealert(1)%3C/script%3E",
    ));
    assert_eq!(ins.rules.tags, ["pci"]);
    let text = ins.to_text();
    let json = ins.to_json().to_string();
    for out in [&text, &json] {
        assert!(!out.contains("4111111111111111"), "{out}");
        assert!(out.contains("[masked]"), "{out}");
    }
    // Other points are shown as usual.
    assert!(text.contains("<script>"), "{text}");
}

#[test]
fn counters_are_shared_by_the_requests_of_one_engine() {
    let e = engine(
        Mode::Block,
        r#"rule login-rate "Logins" {
               method POST
               endpoint "/login"
               then rate_limit(client.ip, limit = 3, window = 1m, ban = 10m)
           }"#,
    );
    let login = |ip: &str| {
        let mut r = Request::new("POST", "/login");
        r.client_ip = Some(ip.parse().unwrap());
        r
    };
    let mut ins = Inspection::new();
    for n in 0..3 {
        e.inspect_at(&login("192.0.2.1"), &mut ins, 1000 * n);
        assert_eq!(ins.verdict.action, Action::Allow, "attempt {n}");
    }
    e.inspect_at(&login("192.0.2.1"), &mut ins, 3500);
    assert_eq!(ins.verdict.action, Action::Block);
    assert_eq!(ins.verdict.status, 429);
    // Another address has its own count; the banned one stays banned
    // after the window, until the ban ends.
    e.inspect_at(&login("192.0.2.2"), &mut ins, 4000);
    assert_eq!(ins.verdict.action, Action::Allow);
    e.inspect_at(&login("192.0.2.1"), &mut ins, 120_000);
    assert_eq!(ins.verdict.action, Action::Block);
    e.inspect_at(&login("192.0.2.1"), &mut ins, 700_000);
    assert_eq!(ins.verdict.action, Action::Allow);
}

#[test]
fn response_phase_rules_see_the_status() {
    let e = engine(
        Mode::Block,
        r#"rule login-failures "Failed logins" {
               method POST
               endpoint "/login"
               when response.status == 401 and count(client.ip, 30m) > 2
               then block(429), tag("brute-force")
           }"#,
    );
    let mut ins = Inspection::new();
    let mut req = Request::new("POST", "/login");
    req.client_ip = Some("192.0.2.1".parse().unwrap());
    for n in 0..2 {
        e.inspect_at(&req, &mut ins, n);
        assert!(e.wants_response(&ins));
        e.inspect_response_at(&mut ins, 401, n);
        assert_eq!(ins.verdict.action, Action::Allow);
    }
    // A success does not count.
    e.inspect_at(&req, &mut ins, 5);
    e.inspect_response_at(&mut ins, 200, 5);
    assert_eq!(ins.verdict.action, Action::Allow);
    e.inspect_at(&req, &mut ins, 6);
    e.inspect_response_at(&mut ins, 401, 6);
    assert_eq!(ins.verdict.action, Action::Block);
    assert_eq!(ins.verdict.status, 429);
    assert_eq!(ins.rules.tags, ["brute-force"]);
    // A request outside the rule's scope is not counted.
    e.inspect_at(&get("/search?q=a"), &mut ins, 7);
    e.inspect_response_at(&mut ins, 401, 7);
    assert_eq!(ins.verdict.action, Action::Allow);
    assert!(ins.rules.matched.is_empty());
}

#[test]
fn the_session_is_read_from_a_session_cookie_or_the_authorization_header() {
    let e = engine(
        Mode::Block,
        r#"rule bola "Few users per session" {
               endpoint "/api/users/{id}"
               when distinct(client.session, path.id, 5m) > 2
               then block(429)
           }"#,
    );
    let mut ins = Inspection::new();
    let read = |id: u32, h: (&str, &str)| with_header(get(&format!("/api/users/{id}")), h.0, h.1);
    for (id, now) in [(1, 1), (2, 2)] {
        e.inspect_at(
            &read(id, ("Cookie", "theme=dark; PHPSESSID=abc")),
            &mut ins,
            now,
        );
        assert_eq!(ins.verdict.action, Action::Allow);
    }
    e.inspect_at(&read(3, ("Cookie", "PHPSESSID=abc")), &mut ins, 3);
    assert_eq!(ins.verdict.action, Action::Block);
    // Another session (a bearer token) has its own count.
    for (id, now) in [(4, 4), (5, 5)] {
        e.inspect_at(&read(id, ("Authorization", "Bearer t1")), &mut ins, now);
        assert_eq!(ins.verdict.action, Action::Allow);
    }
}

fn pack(version: u64, rules: &str, key: &ed25519_dalek::SigningKey) -> Vec<u8> {
    let mut p = Pack::build(
        "shop",
        version,
        1_764_331_200,
        vec!["shop.rules".into()],
        vec![("shop.rules".into(), rules.into())],
    )
    .unwrap();
    p.sign(key);
    p.to_bytes()
}

#[test]
fn a_pack_is_swapped_in_and_a_bad_one_leaves_the_last_good_pack() {
    let key = keys::signing_key(&[7; 32]);
    let slot = Arc::new(PackSlot::new(
        TrustedKeys::new(vec![key.verifying_key()]),
        Some("shop".into()),
    ));
    let reg = rampart_builtin_plugins::registry().unwrap();
    let e = Engine::new(&reg, EngineConfig::default())
        .unwrap()
        .with_rules(RuleSet::new(
            Backend::default()
                .compile(
                    rampart_dsl::compile_str(
                        "local.rules",
                        r#"rule local-first "evaluated first" { when path == "/both" then block(451) }"#,
                    )
                    .unwrap(),
                )
                .unwrap(),
        ))
        .with_pack_slot(slot.clone());
    // No pack yet: the detectors and the local rules apply.
    assert_eq!(e.inspect(&get("/admin")).verdict.action, Action::Allow);
    let b = Backend::default();
    let v1 = pack(
        1,
        r#"rule no-admin "x" { when path == "/admin" then block(403) }
           rule both "x" { when path == "/both" then block(403) }"#,
        &key,
    );
    assert_eq!(
        b.install(&slot, &v1).unwrap(),
        Installed::Swapped {
            previous: None,
            version: 1
        }
    );
    // A request in flight keeps the pack it started with.
    let mut held = Inspection::new();
    e.inspect_into(&get("/admin"), &mut held);
    assert_eq!(held.verdict.action, Action::Block);
    assert_eq!(held.rules.pack_version, Some(1));
    // The node's own rules come first.
    let both = e.inspect(&get("/both"));
    assert_eq!(both.verdict.status, 451);
    assert_eq!(both.rules.matched, ["local-first", "both"]);
    let v2 = pack(
        2,
        r#"rule no-debug "x" { when path == "/debug" then block(403) }"#,
        &key,
    );
    b.install(&slot, &v2).unwrap();
    assert_eq!(e.inspect(&get("/admin")).verdict.action, Action::Allow);
    assert_eq!(e.inspect(&get("/debug")).verdict.action, Action::Block);
    // Refused: an older version, a broken rule, a stranger's signature, a
    // modified pack. The last good pack stays.
    let stranger = keys::signing_key(&[8; 32]);
    let mut tampered = pack(3, r#"rule a "x" { when path == "/a" then block }"#, &key);
    let n = tampered.len();
    tampered[n - 3] ^= 1;
    // A pack that says it has more rules than it compiles to.
    let mut miscounted = Pack::build(
        "shop",
        4,
        0,
        vec!["shop.rules".into()],
        vec![("shop.rules".into(), r#"rule a "x" { then block }"#.into())],
    )
    .unwrap();
    miscounted.manifest.rules = 2;
    miscounted.sign(&key);
    for bad in [
        v1,
        miscounted.to_bytes(),
        pack(
            5,
            r#"rule a "x" { when path == "/a" then block }"#,
            &stranger,
        ),
        tampered,
    ] {
        assert!(b.install(&slot, &bad).is_err());
        assert_eq!(e.inspect(&get("/debug")).verdict.action, Action::Block);
        assert_eq!(slot.current().unwrap().manifest.version, 2);
    }
    assert!(slot.last_error().is_some());
}

fn with_body(method: &str, target: &str, content_type: &str, body: &str) -> Request {
    let mut r = with_header(get(target), "Content-Type", content_type);
    r.method = method.as_bytes().to_vec();
    r.body = body.as_bytes().to_vec();
    r
}

#[test]
fn positive_security_rules_catch_unknown_names_and_unseen_characters() {
    // What the learners emit (spec/rule-language.md section 6.5): names
    // of parameters, members, fields and cookies never seen, and
    // characters a parameter never held.
    let e = engine(
        Mode::Block,
        r#"
        rule p-query "unknown query parameter" {
            origin learned "parameters seen on /search: q, page, sort"
            endpoint "/search"
            when any(query.*, name(it) not in ["q", "page", "sort"])
              or any(query.*.*, name(it) not in ["q", "page", "sort"])
            then score(20), tag("unknown-parameter")
        }
        rule p-json "unknown JSON member" {
            origin learned "members seen on /api/users: name, email, tags"
            method POST
            endpoint "/api/users"
            when any(body:json.**, name(it) not in ["name", "email", "tags"])
            then score(20), tag("unknown-member")
        }
        rule p-form "unknown form field" {
            origin learned "fields seen on /login: user, password"
            endpoint "/login"
            when any(body:form.*, name(it) not in ["user", "password"])
            then score(20), tag("unknown-field")
        }
        rule p-cookie "unknown cookie" {
            origin learned "cookies seen: sid, lang"
            when any(cookie.*, name(it) not in ["sid", "lang"])
            then tag("unknown-cookie")
        }
        rule c-quote "id never held a quote" {
            origin learned "no value of query.id held a quote in 1.2M requests"
            endpoint "/item"
            when char_ratio(query.id, quote) > 0 or char_ratio(query.id, bracket) > 0
            then score(25), tag("unseen-characters")
        }
        "#,
    );
    let tags = |r: Request| e.inspect(&r).rules.tags;
    // Known names: nothing fires.
    assert!(tags(get("/search?q=shoes&page=2&sort=price")).is_empty());
    assert!(tags(with_header(get("/"), "Cookie", "sid=abc; lang=en")).is_empty());
    assert!(tags(with_body(
        "POST",
        "/api/users",
        "application/json",
        r#"{"name":"ann","email":"a@b.co","tags":["x","y"]}"#,
    ))
    .is_empty());
    assert!(tags(with_body(
        "POST",
        "/login",
        "application/x-www-form-urlencoded",
        "user=ann&password=secret",
    ))
    .is_empty());
    assert!(tags(get("/item?id=A-1042")).is_empty());
    // Unknown names fire.
    assert_eq!(tags(get("/search?q=shoes&debug=1")), ["unknown-parameter"]);
    assert_eq!(
        tags(get("/search?q=shoes&admin[]=1")),
        ["unknown-parameter"],
        "a container parameter, seen through query.*.*"
    );
    assert!(
        tags(get("/other?debug=1")).is_empty(),
        "outside the endpoint"
    );
    assert_eq!(
        tags(with_header(get("/"), "Cookie", "sid=abc; tracking=1")),
        ["unknown-cookie"]
    );
    assert_eq!(
        tags(with_body(
            "POST",
            "/api/users",
            "application/json",
            r#"{"name":"ann","is_admin":true}"#,
        )),
        ["unknown-member"]
    );
    assert_eq!(
        tags(with_body(
            "POST",
            "/login",
            "application/x-www-form-urlencoded",
            "user=ann&password=secret&redirect=%2F%2Fevil",
        )),
        ["unknown-field"]
    );
    // Characters the parameter never held.
    let odd = e.inspect(&get("/item?id=1%22"));
    assert_eq!(odd.rules.tags, ["unseen-characters"]);
    assert_eq!(odd.rules.matched, ["c-quote"]);
    assert_eq!(tags(get("/item?id=%3C1%3E")), ["unseen-characters"]);
}
