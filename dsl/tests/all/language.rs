//! The semantics of conditions and actions, one behaviour per test.

use rampart_dsl::ir::RulePhase;
use rampart_dsl::profile::{distribution, CharProfile};
use rampart_types::Class;

use crate::support::{Req, Rules};

fn rule(cond: &str) -> Rules {
    Rules::new(&format!(
        "rule r \"t\" {{\n  when {cond}\n  then block\n}}\n"
    ))
}

#[track_caller]
fn hit(cond: &str, req: &Req) -> bool {
    !rule(cond).run(req).is_empty()
}

#[test]
fn comments_and_layout_are_free() {
    let mut r = Rules::new(
        "# a comment\nrule r \"t\" { # trailing\n when query.q == \"a\" # here too\n then block }\n",
    );
    assert_eq!(r.run(&Req::get("/?q=a")), ["r: block 403"]);
}

#[test]
fn repeated_points_are_existential() {
    let req = Req::get("/?id=1&id=abc");
    assert!(hit("query.id == \"abc\"", &req));
    assert!(hit("is_int(query.id)", &req));
    assert!(hit("not is_int(query.id)", &req) != hit("is_int(query.id)", &req));
    assert!(!hit("all(query.id, is_int(it))", &req));
    assert!(hit("any(query.id, is_int(it))", &req));
}

#[test]
fn absent_points_make_atoms_false() {
    let req = Req::get("/?a=1");
    assert!(!hit("query.b == \"1\"", &req));
    assert!(!hit("query.b != \"1\"", &req));
    assert!(hit("not exists(query.b)", &req));
    assert!(hit("all(query.b, is_int(it))", &req), "all over nothing");
    assert!(!hit("len(query.b) >= 0", &req));
}

#[test]
fn wildcards() {
    let req = Req::post("/api")
        .leaf("body:json.user.name", "bob")
        .leaf("body:json.user.tags[0]", "a")
        .leaf("body:json.user.tags[1]", "<script>")
        .leaf("query.x", "1");
    assert!(hit("body:json.** ~ \"<script*\"", &req));
    assert!(hit("any(body:json.user.tags[*], it == \"<script>\")", &req));
    assert!(!hit("all(body:json.**, is_alnum(it))", &req));
    assert!(hit("all(body:json.user.tags.*, len(it) < 10)", &req));
    assert!(hit("query.* == \"1\"", &req));
    assert!(!hit("body:json.user.* == \"a\"", &req), "one level only");
}

#[test]
fn cookies_and_context() {
    let req = Req::get("/").cookie("session", "abc").ip("10.0.0.8");
    assert!(hit(
        "cookie.session == \"abc\" and client.ip ~ \"10.*\"",
        &req
    ));
    assert!(
        !hit("client.session == \"abc\"", &req),
        "no session: absent"
    );
}

#[test]
fn headers_are_case_insensitive_in_rules() {
    let req = Req::get("/").header("User-Agent", "Mozilla/5.0");
    assert!(hit("header[\"User-Agent\"] ~ \"Mozilla*\"", &req));
    assert!(hit("starts_with(header[\"user-agent\"], \"Moz\")", &req));
}

#[test]
fn string_functions() {
    let req = Req::get("/?q=%20Hello%20&e=bob@example.com&n=12.5");
    assert!(hit("lower(query.q) == \"%20hello%20\"", &req));
    assert!(hit("upper(query.q) == \"%20HELLO%20\"", &req));
    assert!(hit(
        "contains(query.q, \"ll\") and ends_with(query.q, \"20\")",
        &req
    ));
    assert!(hit("len(query.q) == 11", &req));
    assert!(hit("num(query.n) > 12 and num(query.n) < 13", &req));
    assert!(!hit("num(query.q) > 0", &req));
    assert!(hit("query.e in [\"x\", \"bob@example.com\"]", &req));
    assert!(hit("query.e not in [\"x\"]", &req));
    assert!(hit("query.e !~ \"*@evil.*\"", &req));
    assert!(hit("trim(header.x) == \"\" or true", &req));
}

#[test]
fn format_tests() {
    let req = Req::get(
        "/?u=123e4567-e89b-12d3-a456-426614174000&e=a@b.io&b=aGVsbG8=&h=c0ffee&ip=::1&t=eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
    );
    for f in [
        "is_uuid(query.u)",
        "is_email(query.e)",
        "is_base64(query.b)",
        "is_hex(query.h)",
        "is_ip(query.ip)",
        "is_ipv6(query.ip)",
        "is_jwt(query.t)",
        "is_int(\"-3\")",
        "is_number(\"1e3\")",
        "is_alnum(\"abc1\")",
        "is_ascii(query.e)",
        "not is_ipv4(query.ip)",
    ] {
        assert!(hit(f, &req), "{f}");
    }
}

#[test]
fn detector_findings_at_a_point_or_below() {
    let req = Req::get("/?q=x&p=y")
        .leaf("query.q:base64", "decoded")
        .finding("query.q:base64", Class::Sqli, 60)
        .finding("query.p", Class::Anomaly, 10);
    assert!(hit("sqli(query.q)", &req));
    assert!(!hit("sqli(query.p)", &req));
    assert!(hit("sqli(query.*)", &req));
    assert!(hit("attack(any, class = sqli)", &req));
    assert!(hit("attack(any)", &req));
    assert!(!hit("attack(query.p)", &req), "anomalies are not attacks");
    assert!(hit("attack(query.p, class = anomaly)", &req));
    assert!(hit("sqli(any, rule = \"sqli.test\", min_score = 60)", &req));
    assert!(!hit("sqli(any, min_score = 61)", &req));
    assert!(!hit("xss(any)", &req));
    assert!(hit("any(query.*, sqli(it))", &req));
}

#[test]
fn character_statistics_against_a_profile() {
    let mut req = Req::get("/?q=%3Cscript%3E(1)&r=hello");
    req.view.profiles.insert(
        "query.q".into(),
        CharProfile {
            classes: distribution(b"red shoes"),
            len_mean: 9.0,
            len_std: 3.0,
        },
    );
    assert!(hit("deviation(query.q) > 0.3", &req));
    assert!(hit("length_z(query.q) >= 2", &req));
    assert!(!hit("deviation(query.r) >= 0", &req), "no profile: absent");
    assert!(hit("char_ratio(query.q, special) > 0.2", &req));
    assert!(hit("char_ratio(query.r, lower) == 1", &req));
    assert!(hit(
        "entropy(query.r) > 1.5 and entropy(\"aaaa\") == 0",
        &req
    ));
}

#[test]
fn counters_record_when_evaluated() {
    // The failed-login counter only counts requests that reach it.
    let mut r = Rules::new(
        "rule r \"t\" {\n  endpoint \"/login\"\n  when response.status == 401 and count(client.ip, 1m) >= 3\n  then block\n}\n",
    );
    let fail = Req::post("/login").status(401);
    let ok = Req::post("/login").status(200);
    assert_eq!(r.program().rules[0].phase, RulePhase::Response);
    for t in 0..2 {
        assert!(r.run_phase(&fail, RulePhase::Response, t).0.is_empty());
        assert!(r.run_phase(&ok, RulePhase::Response, t).0.is_empty());
    }
    assert!(
        r.run_phase(&fail, RulePhase::Request, 3).0.is_empty(),
        "wrong phase"
    );
    assert_eq!(
        r.run_phase(&fail, RulePhase::Response, 3).0,
        ["r: block 403"]
    );
    assert!(r.run_phase(&fail, RulePhase::Response, 70_000).0.is_empty());
}

#[test]
fn counters_with_several_keys() {
    let mut r = rule("count(client.ip, method, 1m) > 1");
    assert!(r.run_at(&Req::get("/"), 0).is_empty());
    assert!(r.run_at(&Req::post("/"), 1).is_empty());
    assert_eq!(r.run_at(&Req::get("/"), 2), ["r: block 403"]);
}

#[test]
fn allow_without_targets_suppresses_lower_priorities_only() {
    let mut r = Rules::new(
        r#"
ruleset "high" priority 10 {
    rule patch "x" { when query.a == "1" then virtual_patch }
}
ruleset "mid" priority 5 {
    rule ok "trusted partner" { when header["x-partner"] == "acme" then allow }
    rule same "same priority" { when query.a == "1" then tag("seen") }
}
rule low "default priority" { when query.a == "1" then block }
"#,
    );
    let req = Req::get("/?a=1").header("X-Partner", "acme");
    let (d, out) = r.run_phase(&req, RulePhase::Request, 0);
    assert_eq!(d, ["patch: virtual_patch 403", "ok: allow all"]);
    assert_eq!(out.suppressed.len(), 2);
    let plain = Req::get("/?a=1");
    assert_eq!(r.run(&plain).len(), 3);
}

#[test]
fn allow_by_tag_and_for_findings() {
    let mut r = Rules::new(
        r#"
ruleset "exceptions" priority 1 {
    rule ex-tag "x" { when query.t == "1" then allow(tags = ["noisy"]) }
    rule ex-find "y" { endpoint "/editor" then allow(class = xss, point = body:json.html) }
}
rule noisy "n" { tags noisy when query.t == "1" then score(10) }
rule other "o" { when query.t == "1" then tag("kept") }
"#,
    );
    assert_eq!(
        r.run(&Req::get("/?t=1")),
        ["ex-tag: allow tags noisy", "other: tag kept"]
    );
    assert_eq!(
        r.run(&Req::get("/editor")),
        ["ex-find: allow class xss point body:json.html"]
    );
}

#[test]
fn includes_are_read_once() {
    let mut r = Rules::files(&[
        ("main.rules", "include \"a.rules\"\ninclude \"b.rules\"\n"),
        (
            "a.rules",
            "include \"common.rules\"\nrule a \"a\" { when query.a == \"1\" then block }\n",
        ),
        ("b.rules", "include \"common.rules\"\n"),
        (
            "common.rules",
            "rule c \"c\" { when query.c == \"1\" then tag(\"c\") }\n",
        ),
    ]);
    assert_eq!(r.program().rules.len(), 2);
    assert_eq!(r.run(&Req::get("/?c=1")), ["c: tag c"]);
}

#[test]
fn rules_without_condition_match_their_scope() {
    let mut r = Rules::new("rule r \"t\" { method DELETE endpoint \"/admin/**\" then block(405) }");
    assert_eq!(
        r.run(&Req::new("DELETE", "/admin/users/3")),
        ["r: block 405"]
    );
    assert_eq!(r.run(&Req::new("DELETE", "/admin")), ["r: block 405"]);
    assert!(r.run(&Req::new("GET", "/admin/users/3")).is_empty());
    assert!(r.run(&Req::new("DELETE", "/public")).is_empty());
}

#[test]
fn quantifiers_nest() {
    let req = Req::get("/?a=1&b=2");
    assert!(hit(
        "any(query.*, any(query.*, it == \"2\") and it == \"1\")",
        &req
    ));
    assert!(hit("all(query.*, is_int(it) and query.a == \"1\")", &req));
}

#[test]
fn atoms_lower_to_existential_loops() {
    use rampart_dsl::ir::{Op, Ty};
    let r = rule("lower(query.q) == query.q");
    let p = r.program();
    let cond = p.rules[0].cond.expect("a condition");
    // One loop: both mentions of query.q are the same point.
    let Op::Any { slot, body, .. } = p.expr(cond).op else {
        panic!("not a loop: {:?}", p.expr(cond))
    };
    assert_eq!(slot, 0);
    assert!(matches!(p.expr(body).op, Op::Cmp(..)));
    assert_eq!(p.expr(body).ty, Ty::Bool);
    assert_eq!(p.rules[0].slots, 1);
    p.validate().expect("IR invariants");
    assert!(hit("lower(query.q) == query.q", &Req::get("/?q=abc")));
    assert!(!hit("lower(query.q) == query.q", &Req::get("/?q=aBc")));
}

#[test]
fn unknown_parameters_by_name() {
    let r = || {
        Rules::new(
            r#"rule p1 "unknown query parameter" {
    endpoint "/search"
    when any(query.*, name(it) not in ["q", "page", "sort"])
    then score(20)
}
rule p2 "unknown JSON member" {
    endpoint "/api/users"
    when any(body:json.*, name(it) not in ["name", "email"])
    then score(20)
}
rule p3 "unknown form field" {
    endpoint "/login"
    when any(body:form.*, name(it) not in ["user", "password"])
    then score(20)
}
rule p4 "unknown cookie" {
    when any(cookie.*, name(it) not in ["sid", "lang"])
    then tag("odd-cookie")
}
"#,
        )
    };
    let mut rules = r();
    assert!(rules
        .run(&Req::get("/search?q=shoes&page=2&sort=price"))
        .is_empty());
    assert!(rules.run(&Req::get("/search")).is_empty(), "no parameter");
    assert_eq!(
        rules.run(&Req::get("/search?q=shoes&debug=1")),
        ["p1: score +20"]
    );
    assert!(
        rules.run(&Req::get("/other?debug=1")).is_empty(),
        "out of scope"
    );
    let known = Req::post("/api/users")
        .leaf("body:json.name", "ann")
        .leaf("body:json.email", "a@b.co");
    assert!(rules.run(&known).is_empty());
    let extra = Req::post("/api/users")
        .leaf("body:json.name", "ann")
        .leaf("body:json.is_admin", "true");
    assert_eq!(rules.run(&extra), ["p2: score +20"]);
    let form = Req::post("/login")
        .leaf("body:form.user", "ann")
        .leaf("body:form.password", "x");
    assert!(rules.run(&form).is_empty());
    let form = form.leaf("body:form.redirect", "//evil");
    assert_eq!(rules.run(&form), ["p3: score +20"]);
    let cookies = Req::get("/").cookie("sid", "1").cookie("lang", "en");
    assert!(rules.run(&cookies).is_empty());
    assert_eq!(
        rules.run(&cookies.cookie("tracking", "x")),
        ["p4: tag odd-cookie"]
    );
}

#[test]
fn names_of_members_indexes_and_layers() {
    let req = Req::post("/api/v1/users?q=x&q=y&debug=1")
        .leaf("query.q:base64", "decoded")
        .leaf("body:json.tags[0]", "a")
        .leaf("body:json.user.bio", "hi")
        .leaf("body:json.user.roles[1].id", "7")
        .leaf("body:xml.order[\"@id\"]", "9")
        .header("User-Agent", "curl")
        .leaf("header.authorization:basic.user", "bob");
    // A member is named by its key; with a path argument the atom is
    // existential, like any other.
    assert!(hit("name(query.q) == \"q\"", &req));
    assert!(hit("name(query.*) == \"debug\"", &req));
    assert!(!hit("name(query.*) == \"nope\"", &req));
    assert!(hit("name(body:json.user.bio) == \"bio\"", &req));
    assert!(hit("name(body:xml.order[\"@id\"]) == \"@id\"", &req));
    assert!(hit("name(header[\"User-Agent\"]) == \"user-agent\"", &req));
    assert!(hit(
        "name(header.authorization:basic.user) == \"user\"",
        &req
    ));
    // Index and layer steps keep the name of the member above them.
    assert!(hit("name(body:json.tags[0]) == \"tags\"", &req));
    assert!(hit("name(body:json.user.roles[1]) == \"roles\"", &req));
    assert!(hit("name(query.q:base64) == \"q\"", &req));
    assert!(hit(
        "name(header.authorization:basic) == \"authorization\"",
        &req
    ));
    assert!(hit(
        "all(body:json.**, name(it) in [\"tags\", \"bio\", \"id\"])",
        &req
    ));
    // No member at or above the point within its source: absent.
    for p in ["path[1]", "path", "body", "body:json", "method", "query"] {
        assert!(!hit(&format!("name({p}) == \"\""), &req), "{p}");
        assert!(!hit(&format!("name({p}) != \"\""), &req), "{p}");
        assert!(!hit(&format!("len(name({p})) >= 0"), &req), "{p}");
    }
    assert!(!hit("name(query.nope) != \"x\"", &req), "no point");
    // `not in` of an absent name holds; `~ "*"` keeps named points only.
    let top = Req::post("/").leaf("body:json[0]", "a");
    assert!(hit("any(body:json.*, name(it) not in [\"a\"])", &top));
    assert!(!hit(
        "any(body:json.*, name(it) ~ \"*\" and name(it) not in [\"a\"])",
        &top
    ));
    // Container parameters (`a[]=1`, `u[x]=1`) are reached one level
    // further down.
    let nested = Req::get("/?q=1")
        .leaf("query.a[0]", "1")
        .leaf("query.u.x", "2");
    assert!(!hit("any(query.*, name(it) not in [\"q\"])", &nested));
    assert!(hit("any(query.*.*, name(it) == \"a\")", &nested));
    assert!(hit("any(query.*.*, name(it) == \"x\")", &nested));
    // A name is a value like any other.
    assert!(hit("any(query.*, upper(name(it)) == \"DEBUG\")", &req));
    assert!(hit(
        "any(query.*, name(it) ~ \"deb*\" and it == \"1\")",
        &req
    ));
    assert!(hit(
        "any(body:json.user.*, any(body:json.tags[*], name(it) == \"tags\"))",
        &req
    ));
    assert!(hit("any(query.*, starts_with(name(it), \"de\"))", &req));
    assert!(!hit("any(query.*, name(it) == it)", &req));
}

#[test]
fn names_in_counter_keys() {
    // Distinct unknown parameter names per client: the name of `it`
    // inside a quantifier is a key like any other.
    let mut r =
        rule("any(query.*, name(it) not in [\"q\"] and distinct(client.ip, name(it), 1m) >= 3)");
    assert!(r.run_at(&Req::get("/?q=1&a=1"), 0).is_empty());
    assert!(r.run_at(&Req::get("/?q=1&b=1"), 1).is_empty());
    assert!(r.run_at(&Req::get("/?q=1&a=2"), 2).is_empty());
    assert_eq!(r.run_at(&Req::get("/?c=1"), 3), ["r: block 403"]);
}

#[test]
fn telemetry_character_classes() {
    let req = Req::get("/?id=o'connor&b=<(a)>&o=a%3D1&x=a#b&s=a.b-c_d,e:f@g&t=a\tb&u=A1");
    for (cond, want) in [
        ("char_ratio(query.id, quote) > 0", true),
        ("char_ratio(query.id, quote) == 0.125", true),
        ("char_ratio(query.u, quote) > 0", false),
        ("char_ratio(query.b, bracket) == 0.8", true),
        ("char_ratio(query.o, operator) > 0.1", true),
        ("char_ratio(query.o, other_punct) == 0", true),
        ("char_ratio(query.x, other_punct) > 0.3", true),
        ("char_ratio(query.s, safe_punct) > 0.46", true),
        ("char_ratio(query.s, punct) > 0.3", true),
        // `space` is the space character only: tab is `control` (the
        // nodes' telemetry counts tab as space).
        ("char_ratio(query.t, space) == 0", true),
        ("char_ratio(query.t, control) > 0.3", true),
        ("char_ratio(query.u, upper) == 0.5", true),
        ("all(query.*, char_ratio(it, non_ascii) == 0)", true),
        ("any(query.*, char_ratio(lower(it), quote) > 0)", true),
    ] {
        assert_eq!(hit(cond, &req), want, "{cond}");
    }
}
