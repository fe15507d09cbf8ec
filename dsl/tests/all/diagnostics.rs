//! One test per diagnostic class: the exact code, message, line and column.

use rampart_dsl::{compile, compile_str, MemoryLoader};

/// (code, message, line, column) of every diagnostic.
fn diags(src: &str) -> Vec<(String, String, usize, usize)> {
    let d = compile_str("t.rules", src).expect_err("the rules must not compile");
    d.list
        .iter()
        .map(|x| {
            let loc = d.sources.locate(x.span);
            (x.code.to_string(), x.message.clone(), loc.line, loc.col)
        })
        .collect()
}

#[track_caller]
fn one(src: &str, code: &str, message: &str, line: usize, col: usize) {
    let got = diags(src);
    assert_eq!(
        got,
        [(code.to_string(), message.to_string(), line, col)],
        "source:\n{src}"
    );
}

/// Wraps a condition in a rule (the condition starts at line 2, column 10).
fn when(cond: &str) -> String {
    format!("rule r1 \"test\" {{\n    when {cond}\n    then block\n}}\n")
}

#[test]
fn e0001_syntax_error() {
    one(
        "rule r1 \"x\" {\n    when query.q ==\n    then block\n}\n",
        "E0001",
        "expected an expression, found `then`",
        3,
        5,
    );
}

#[test]
fn e0001_syntax_errors_in_several_rules_are_all_reported() {
    let src = "rule a \"x\" {\n  when query.q = \"1\"\n  then block\n}\nrule b \"y\" {\n  when len(query.q) > 3\n  then block\n}\nrule c \"z\" {\n  then blok(\n}\n";
    let got = diags(src);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].2, got[1].2), (2, 11));
    assert!(got.iter().all(|g| g.0 == "E0001"));
}

#[test]
fn e0002_include_not_found() {
    one(
        "include \"missing.rules\"\n",
        "E0002",
        "cannot include `missing.rules`: no such file",
        1,
        9,
    );
}

#[test]
fn e0003_include_cycle() {
    let mut l = MemoryLoader::new()
        .with("a.rules", "include \"b.rules\"\n")
        .with("b.rules", "\ninclude \"a.rules\"\n");
    let d = compile("a.rules", &mut l).expect_err("cycle");
    assert_eq!(d.list.len(), 1);
    let x = &d.list[0];
    let loc = d.sources.locate(x.span);
    assert_eq!(
        (x.code, x.message.as_str(), loc.file, loc.line, loc.col),
        ("E0003", "`a.rules` includes itself", "b.rules", 2, 9)
    );
}

#[test]
fn e0101_duplicate_rule_id() {
    one(
        "rule r1 \"a\" { then block }\nrule r1 \"b\" { then monitor }\n",
        "E0101",
        "rule id `r1` is defined twice",
        2,
        6,
    );
}

#[test]
fn e0102_duplicate_clause() {
    one(
        "rule r1 \"a\" {\n  when true\n  when false\n  then block\n}\n",
        "E0102",
        "duplicate `when` clause in rule `r1`",
        3,
        3,
    );
}

#[test]
fn e0103_rule_without_action() {
    one(
        "rule r1 \"a\" {\n  when true\n}\n",
        "E0103",
        "rule `r1` has no `then` clause",
        1,
        6,
    );
}

#[test]
fn e0104_bad_metadata() {
    one(
        "rule r1 \"a\" {\n  severity urgent\n  then block\n}\n",
        "E0104",
        "unknown severity `urgent`",
        2,
        12,
    );
    one(
        "rule r1 \"a\" {\n  confidence 150\n  then block\n}\n",
        "E0104",
        "confidence is an integer from 0 to 100, found 150",
        2,
        14,
    );
    one(
        "rule r1 \"a\" {\n  origin learned\n  then block\n}\n",
        "E0104",
        "a learned rule needs an explanation",
        2,
        10,
    );
}

#[test]
fn e0105_bad_scope() {
    one(
        "rule r1 \"a\" {\n  method get\n  then block\n}\n",
        "E0105",
        "method `get` must be written in upper case",
        2,
        10,
    );
    one(
        "rule r1 \"a\" {\n  endpoint \"/a/x{id}\"\n  then block\n}\n",
        "E0105",
        "bad endpoint template `/a/x{id}`: segment `x{id}`: a parameter or wildcard takes a whole segment",
        2,
        12,
    );
    one(
        "rule r1 \"a\" {\n  host \"shop.example.com/x\"\n  then block\n}\n",
        "E0105",
        "`shop.example.com/x` is not a host pattern",
        2,
        8,
    );
}

#[test]
fn e0106_duplicate_ruleset() {
    one(
        "ruleset \"s\" priority 1 { }\nruleset \"s\" priority 2 { }\n",
        "E0106",
        "rule set `s` is defined twice",
        2,
        9,
    );
}

#[test]
fn e0201_unknown_point_source() {
    one(
        &when("qurey.q == \"1\""),
        "E0201",
        "unknown point source `qurey`",
        2,
        10,
    );
}

#[test]
fn e0202_bad_point() {
    one(
        &when("method.x == \"GET\""),
        "E0202",
        "`method` is a single value and has no members",
        2,
        16,
    );
    one(
        &when("client.port == \"1\""),
        "E0202",
        "unknown context value `client.port`",
        2,
        10,
    );
}

#[test]
fn e0203_unknown_path_parameter() {
    one(
        "rule r1 \"a\" {\n  endpoint \"/users/{id}\"\n  when is_int(path.uid)\n  then block\n}\n",
        "E0203",
        "unknown path parameter `uid`: endpoint `/users/{id}` has {id}",
        3,
        19,
    );
    one(
        &when("path.id == \"1\""),
        "E0203",
        "`path.id` needs an endpoint template with `{id}`",
        2,
        14,
    );
}

#[test]
fn e0301_unknown_function() {
    one(
        &when("lenght(query.q) > 3"),
        "E0301",
        "unknown function `lenght`",
        2,
        10,
    );
}

#[test]
fn e0302_arity() {
    one(
        &when("contains(query.q)"),
        "E0302",
        "`contains` takes 2 arguments, found 1",
        2,
        10,
    );
    one(
        &when("count(5m) > 1"),
        "E0302",
        "`count` takes at least 2 arguments, found 1",
        2,
        10,
    );
}

#[test]
fn e0303_type_mismatch() {
    one(
        &when("query.page > 10"),
        "E0303",
        "cannot compare str with num using `>`",
        2,
        10,
    );
    one(
        &when("len(query.q)"),
        "E0303",
        "expected a condition (bool), found num",
        2,
        10,
    );
    one(
        &when("is_int(len(query.q))"),
        "E0303",
        "argument 1 of `is_int` must be str, found num",
        2,
        17,
    );
    one(
        &when("query.q in [\"a\", 1]"),
        "E0303",
        "list element is num, the value is str",
        2,
        27,
    );
}

#[test]
fn e0304_bad_argument() {
    one(
        &when("sqli(query.q, score = 5)"),
        "E0304",
        "`sqli` has no argument `score`",
        2,
        24,
    );
    one(
        &when("len(s = query.q) > 1"),
        "E0304",
        "`len` takes no named arguments",
        2,
        14,
    );
}

#[test]
fn e0305_unknown_detector_class() {
    one(
        &when("attack(any, class = sqlx)"),
        "E0305",
        "unknown detector class `sqlx`",
        2,
        30,
    );
}

#[test]
fn e0306_bad_duration() {
    one(
        &when("count(client.ip, 5min) > 10"),
        "E0306",
        "unknown duration unit `min`",
        2,
        27,
    );
    one(
        &when("count(client.ip, 0s) > 10"),
        "E0306",
        "a counter window must be longer than zero",
        2,
        27,
    );
    one(
        &when("count(client.ip, 2d) > 10"),
        "E0306",
        "a counter window is longer than 1d",
        2,
        27,
    );
    one(
        &when("count(client.ip, 60) > 10"),
        "E0306",
        "a counter window must be a duration, found a number",
        2,
        27,
    );
}

#[test]
fn e0307_it_outside_quantifier() {
    one(
        &when("it == \"x\""),
        "E0307",
        "`it` used outside any(..) or all(..)",
        2,
        10,
    );
}

#[test]
fn e0401_unknown_action() {
    one(
        "rule r1 \"a\" {\n  then blok\n}\n",
        "E0401",
        "unknown action `blok`",
        2,
        8,
    );
}

#[test]
fn e0402_conflicting_actions() {
    one(
        "rule r1 \"a\" {\n  then block, allow\n}\n",
        "E0402",
        "`allow` conflicts with `block`",
        2,
        15,
    );
    one(
        "rule r1 \"a\" {\n  then monitor, virtual_patch\n}\n",
        "E0402",
        "`virtual_patch` conflicts with `monitor`",
        2,
        17,
    );
    one(
        "rule r1 \"a\" {\n  then block, block(404)\n}\n",
        "E0402",
        "`block` is given twice",
        2,
        15,
    );
}

#[test]
fn e0403_bad_action_argument() {
    one(
        "rule r1 \"a\" {\n  then block(status = 200)\n}\n",
        "E0403",
        "status must be an integer from 400 to 599",
        2,
        23,
    );
}

#[test]
fn every_problem_at_once() {
    let src = "rule r1 \"a\" {\n  severity urgent\n  when qurey.q == \"x\" and lenght(query.q) > 1\n  then blok\n}\nrule r1 \"b\" { then block }\n";
    let got: Vec<String> = diags(src).into_iter().map(|d| d.0).collect();
    assert_eq!(got, ["E0104", "E0201", "E0301", "E0401", "E0101"]);
}

#[test]
fn rendering_shows_the_line_and_a_caret() {
    let d = compile_str("app.rules", &when("qurey.q == \"1\"")).expect_err("error");
    assert_eq!(
        d.render(),
        "error[E0201]: unknown point source `qurey`\n \
         --> app.rules:2:10\n  \
         |\n\
         2 |     when qurey.q == \"1\"\n  \
         |          ^^^^^\n  \
         = help: did you mean `query`?\n\n"
    );
}

#[test]
fn e0202_path_member_outside_a_value() {
    one(
        &when("exists(path.id)"),
        "E0202",
        "path segments are indexes (`path[2]`); `path.NAME` is a template parameter, a value",
        2,
        21,
    );
}

#[test]
fn a_syntax_error_inside_a_rule_set_hides_nothing() {
    let src = r#"ruleset "shop" priority 100 {
    rule search "Search" {
        endpoint "/search/{term}"
        when sqli(query.q) and len(path.trm) > 100
          and count(client.ip, 1min) > 10
        then block(status = 200), allow
    }
    rule x "y" {
        when header.host = "a"
        then block
    }
    rule z "z" {
        when attack(any, class = sqlinjection) or query.page > 3
        then score(20, class = xs)
    }
}
"#;
    let got: Vec<(String, usize)> = diags(src).into_iter().map(|d| (d.0, d.2)).collect();
    let want = [
        ("E0203", 4),
        ("E0306", 5),
        ("E0403", 6),
        ("E0402", 6),
        ("E0001", 9),
        ("E0305", 13),
        ("E0303", 13),
        ("E0305", 14),
    ];
    let want: Vec<(String, usize)> = want.iter().map(|(c, l)| (c.to_string(), *l)).collect();
    assert_eq!(got, want);
    let d = compile_str("t.rules", src).expect_err("errors");
    assert_eq!(
        d.list[4].message,
        "expected a clause (`when`, `then`, `tags`, ...), `and`, `or` or an operator, found `=`"
    );
    assert_eq!(
        d.list[4].help.as_deref(),
        Some("compare with `==`; `=` only names an argument: block(status = 403)")
    );
}

#[test]
fn name_takes_one_request_point() {
    one(
        &when("name(\"q\") == \"q\""),
        "E0303",
        "`name` takes a request point such as query.q",
        2,
        15,
    );
    one(
        &when("name(client.ip) == \"ip\""),
        "E0303",
        "`name` takes a request point, not a context value",
        2,
        15,
    );
    one(
        &when("name(lower(query.q)) == \"q\""),
        "E0303",
        "`name` takes a request point such as query.q",
        2,
        15,
    );
    one(
        &when("name() == \"q\""),
        "E0302",
        "`name` takes 1 argument, found 0",
        2,
        10,
    );
    one(
        &when("name(query.q, query.p) == \"q\""),
        "E0302",
        "`name` takes 1 argument, found 2",
        2,
        10,
    );
    one(
        &when("name(p = query.q) == \"q\""),
        "E0304",
        "`name` takes no named arguments",
        2,
        15,
    );
    one(
        &when("name(query.q) > 1"),
        "E0303",
        "cannot compare str with num using `>`",
        2,
        10,
    );
    one(
        &when("name(it) == \"q\""),
        "E0307",
        "`it` used outside any(..) or all(..)",
        2,
        15,
    );
    one(
        &when("count(name(query.q), 1m) > 1"),
        "E0303",
        "`name` cannot take a path in a counter or rate-limit key (a key takes a path's first value); use `it` inside any(PATH, ..)",
        2,
        21,
    );
}

#[test]
fn char_ratio_takes_a_known_class() {
    one(
        &when("char_ratio(query.q, quotes) > 0"),
        "E0304",
        "unknown character class",
        2,
        30,
    );
    let d = compile_str("t.rules", &when("char_ratio(query.q, quotes) > 0")).expect_err("error");
    assert_eq!(d.list[0].help.as_deref(), Some("did you mean `quote`?"));
    let d = compile_str("t.rules", &when("char_ratio(query.q, \"quote\") > 0")).expect_err("error");
    let help = d.list[0].help.as_deref().unwrap_or_default();
    assert!(
        help.contains("safe_punct, quote, bracket, operator, other_punct"),
        "{help}"
    );
    one(
        &when("char_ratio(query.q) > 0"),
        "E0302",
        "`char_ratio` takes 2 arguments, found 1",
        2,
        10,
    );
    for class in ["safe_punct", "quote", "bracket", "operator", "other_punct"] {
        compile_str(
            "t.rules",
            &when(&format!("char_ratio(query.q, {class}) > 0")),
        )
        .unwrap_or_else(|d| panic!("{class}: {}", d.render()));
    }
}
