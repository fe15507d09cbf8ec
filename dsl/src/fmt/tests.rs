#![allow(clippy::unwrap_used, clippy::panic)]

use super::comments::scan;
use super::*;
use crate::{compile, MemoryLoader};

fn fmt(src: &str) -> String {
    match format_source("t.rules", src) {
        Ok(s) => s,
        Err(e) => panic!("{e}\n---\n{src}"),
    }
}

const GOLDEN: [(&str, &str); 3] = [
    ("shop.rules", include_str!("../../tests/golden/shop.rules")),
    (
        "common.rules",
        include_str!("../../tests/golden/common.rules"),
    ),
    ("api.rules", include_str!("../../tests/golden/api.rules")),
];

fn program(files: &[(&str, String)], root: &str) -> String {
    let mut l = MemoryLoader::new();
    for (n, t) in files {
        l.insert(n, t);
    }
    let mut p = match compile(root, &mut l) {
        Ok(p) => p,
        Err(d) => panic!("{}", d.render()),
    };
    // Source locations move with the layout; nothing else may.
    for r in &mut p.rules {
        r.location.clear();
    }
    format!("{p:?}")
}

#[test]
fn golden_files_keep_their_meaning_and_comments() {
    let orig: Vec<(&str, String)> = GOLDEN.iter().map(|(n, t)| (*n, t.to_string())).collect();
    let done: Vec<(&str, String)> = GOLDEN.iter().map(|(n, t)| (*n, fmt(t))).collect();
    for root in ["shop.rules", "api.rules"] {
        assert_eq!(program(&orig, root), program(&done, root), "{root}");
    }
    for ((name, before), (_, after)) in orig.iter().zip(&done) {
        assert_eq!(&fmt(after), after, "{name} is not idempotent");
        let texts = |s: &str| scan(s).into_iter().map(|c| c.text).collect::<Vec<_>>();
        assert_eq!(texts(before), texts(after), "{name}: comments");
    }
}

#[test]
fn messy_input_gets_the_canonical_layout() {
    let src = r#"# header comment

include "a.rules"
include   "b.rules"   # why b
ruleset "x"   priority -5 {
  rule r1 "One" { then block(status=403) when not(query.a == "1") and (query.b ~ "*x*" or query.c != "2")
      tags "sqli", "two words" , "a-b"
    severity   high   # loud
  }
    host "a.example"
      # a comment about r2
  rule r2 "Two" {
     method GET,POST
     when (a.b and c.d) and e.f   then monitor()
     # before the brace
  }
}
rule r3 "Three"{when +5 > 2.50 and header["host"] == "x" and header["X-Y"] == "\t\x01é" and items[*].qty == 0 then block}
# the end
"#;
    let want = r#"# header comment

include "a.rules"
include "b.rules"  # why b

ruleset "x" priority -5 {
    host "a.example"

    rule r1 "One" {
        tags sqli, "two words", a-b
        severity high  # loud
        when not query.a == "1" and (query.b ~ "*x*" or query.c != "2")
        then block(status = 403)
    }

    # a comment about r2
    rule r2 "Two" {
        method GET, POST
        when (a.b and c.d) and e.f
        then monitor
        # before the brace
    }
}

rule r3 "Three" {
    when 5 > 2.5 and header.host == "x" and header["X-Y"] == "\t\x01é" and items[*].qty == 0
    then block
}
# the end
"#;
    // The long `when` of r3 is a chain of `and`s: it breaks.
    let got = fmt(src);
    let want = want.replace(
        "    when 5 > 2.5 and header.host == \"x\" and header[\"X-Y\"] == \"\\t\\x01é\" and items[*].qty == 0\n",
        "    when 5 > 2.5\n      and header.host == \"x\"\n      and header[\"X-Y\"] == \"\\t\\x01é\"\n      and items[*].qty == 0\n",
    );
    assert_eq!(got, want, "\n{got}");
    assert_eq!(fmt(&got), got);
}

#[test]
fn parentheses_only_where_the_tree_needs_them() {
    for (src, want) in [
        ("a and (b or c)", "a and (b or c)"),
        ("(a and b) or c", "a and b or c"),
        ("not (a or b)", "not (a or b)"),
        ("not (not a)", "not (not a)"),
        ("not not a", "a"),
        ("(a == 1) == true", "(a == 1) == true"),
        ("a or (b or c)", "a or (b or c)"),
        (
            "any(header.*, contains(lower(it), \"x\") or it == \"y\")",
            "any(header.*, contains(lower(it), \"x\") or it == \"y\")",
        ),
        ("x not in [1, 2,]", "x not in [1, 2]"),
        ("count(client.ip, 5m) > 10", "count(client.ip, 5m) > 10"),
        ("len(q) >= -0", "len(q) >= -0"),
        ("q == \"\\xff\\\"\\\\\"", "q == \"\\xff\\\"\\\\\""),
    ] {
        let text = format!("rule r \"r\" {{\n    when {src}\n    then block\n}}\n");
        let got = fmt(&text);
        assert_eq!(
            got,
            format!("rule r \"r\" {{\n    when {want}\n    then block\n}}\n"),
            "{src}"
        );
    }
}

#[test]
fn comments_inside_a_condition_move_before_it() {
    let src = "rule r \"r\" {\n    when a == \"1\"  # first\n      or b == \"2\"  # second\n    then block\n}\n";
    let got = fmt(src);
    assert_eq!(
        got,
        "rule r \"r\" {\n    # first\n    when a == \"1\" or b == \"2\"  # second\n    then block\n}\n"
    );
    assert_eq!(fmt(&got), got);
}

#[test]
fn hash_inside_a_string_is_not_a_comment() {
    let src = "rule r \"has # inside\" { when q == \"#x\" then block }\n";
    assert_eq!(
        fmt(src),
        "rule r \"has # inside\" {\n    when q == \"#x\"\n    then block\n}\n"
    );
}

#[test]
fn syntax_errors_are_refused() {
    let err = format_source("t.rules", "rule r \"r\" { when a == then block }\n").unwrap_err();
    let FmtError::Syntax(d) = &err else {
        panic!("{err}")
    };
    assert!(d.render().contains("error[E0001]"), "{}", d.render());
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("# only\n\n\n# comments\n"), "# only\n\n# comments\n");
}

/// `src` without comments, each run of whitespace between tokens replaced
/// by `ws`.
fn relayout(src: &str, ws: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let mut pending = false;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\r' | b'\n' => {
                pending = true;
                i += 1;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                pending = true;
            }
            _ => {
                if pending && !out.is_empty() {
                    out.push_str(ws);
                }
                pending = false;
                let start = i;
                if b[i] == b'"' {
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                }
                i += 1;
                out.push_str(&src[start..i.min(b.len())]);
            }
        }
    }
    out
}

#[test]
fn the_layout_of_the_input_does_not_matter() {
    for (name, text) in GOLDEN {
        let plain = relayout(text, " ");
        let want = fmt(&plain);
        assert_eq!(fmt(&relayout(text, "\n\t  \n ")), want, "{name}");
        assert_eq!(fmt(&relayout(&want, "   ")), want, "{name}");
        assert!(!want.contains('#'), "{name}");
    }
}
