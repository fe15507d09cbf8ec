//! Damaged rule files: every prefix of the golden file and every one-byte
//! deletion compile or fail with located diagnostics, never panic. (The
//! fuzz target in dsl/fuzz explores further.)

use rampart_dsl::{compile_str, parser};

const SHOP: &str = include_str!("../golden/shop.rules");

fn check(text: &str) {
    match compile_str("t.rules", text) {
        Ok(_) => assert!(
            parser::matches_grammar(text),
            "compiled but not in the grammar:\n{text}"
        ),
        Err(d) => {
            assert!(!d.list.is_empty());
            let file = &d.sources.files[0];
            for x in &d.list {
                assert!(x.span.start as usize <= file.text.len() && x.span.end >= x.span.start);
            }
            assert!(d.render().contains("error["));
        }
    }
}

#[test]
fn every_prefix() {
    let mut i = 0;
    while i <= SHOP.len() {
        if SHOP.is_char_boundary(i) {
            check(&SHOP[..i]);
        }
        i += 3;
    }
}

#[test]
fn one_byte_deletions() {
    let b = SHOP.as_bytes();
    for i in (0..b.len()).step_by(5) {
        let mut v = b.to_vec();
        v.remove(i);
        if let Ok(s) = String::from_utf8(v) {
            check(&s);
        }
    }
}

#[test]
fn hostile_inputs() {
    for s in [
        "",
        "#",
        "rule",
        "rule r \"",
        "rule r \"x\" { when ((((((((((((((((((((true)))))))))))))))))))) then block }",
        "rule r \"x\" { when not not not not true then block }",
        "rule r \"x\" { when query.q ~ \"****************************a\" then block }",
        "rule r \"x\" { when count(client.ip, 99999999999999999999999m) > 1 then block }",
        "rule r \"x\" { when query[99999999999] == \"\" then block }",
        "rule r \"x\" { confidence 1e999 then block }",
        "rule r \"\\xff\\x00\" { then block }",
        "ruleset \"s\" priority 99999999999999999999 { }",
        "rule r \"x\" { when any(it, true) then block }",
        "\u{feff}rule r \"x\" { then block }",
    ] {
        check(s);
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!(
        "rule r \"x\" {{ when {}true{} then block }}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let d = compile_str("t.rules", &deep).expect_err("too deep");
    assert_eq!(
        d.list[0].message,
        "parentheses and brackets nest deeper than 32 levels"
    );
    let ok = format!(
        "rule r \"x\" {{ when {}true{} then block }}",
        "(".repeat(32),
        ")".repeat(32)
    );
    assert!(compile_str("t.rules", &ok).is_ok());
    let over = format!(
        "rule r \"x\" {{ when {}true{} then block }}",
        "(".repeat(33),
        ")".repeat(33)
    );
    assert!(compile_str("t.rules", &over).is_err());
    let nots = format!(
        "rule r \"x\" {{ when {}true then block }}",
        "not ".repeat(100_001)
    );
    let prog = compile_str("t.rules", &nots).expect("compiles");
    assert_eq!(prog.exprs.len(), 2, "one Not over one constant");
}
