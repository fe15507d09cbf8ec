//! The cheap rejection of values that cannot give a finding never changes
//! what the detector reports: every value of the shared corpora (and the
//! layers the engine would decode below it), the table and benign sets,
//! and random values built from the words and bytes the views react to
//! get the same findings with the rejection and without it.

mod common;

use common::*;
use rampart_detect_xss::{explain, explain_ungated};

fn same(v: &[u8], diffs: &mut Vec<String>) -> usize {
    let (tree, leaves) = layered_tree(v);
    for id in &leaves {
        let x = tree.value(*id);
        let a = explain(x);
        let b = explain_ungated(x);
        if a != b {
            diffs.push(format!(
                "{:?}: gated {a:?}, ungated {b:?}",
                String::from_utf8_lossy(x)
            ));
        }
    }
    leaves.len()
}

fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn corpora_get_the_same_findings() {
    let mut diffs = Vec::new();
    let mut n = 0;
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for line in text_lines(&crate_dir.join("testdata/benign.txt")) {
        n += same(&line, &mut diffs);
    }
    let table = std::fs::read_to_string(crate_dir.join("testdata/xss.json")).unwrap_or_default();
    for line in table.lines() {
        n += same(line.trim().as_bytes(), &mut diffs);
    }
    let dir = corpus_dir();
    let mut files = Vec::new();
    files_under(&dir.join("libinjection"), &mut files);
    files_under(&dir.join("gotestwaf/testcases"), &mut files);
    files_under(&dir.join("crs-regression/tests"), &mut files);
    files.sort();
    for f in &files {
        let name = f.to_string_lossy();
        if name.ends_with(".txt") {
            for line in text_lines(f) {
                n += same(&line, &mut diffs);
                n += same(&pct(&line, true), &mut diffs);
            }
        } else if name.ends_with(".yml") || name.ends_with(".yaml") {
            for p in yaml_payloads(f) {
                n += same(&p, &mut diffs);
            }
            for t in crs_tests(f) {
                for v in t.values.iter().chain(&t.names) {
                    n += same(v, &mut diffs);
                }
            }
        }
    }
    println!("{n} values compared");
    assert!(
        diffs.is_empty(),
        "{} differ:\n{}",
        diffs.len(),
        diffs[..diffs.len().min(30)].join("\n")
    );
}

#[test]
fn random_values_get_the_same_findings() {
    const PARTS: &[&str] = &[
        "on",
        "load",
        "error",
        "onload",
        "ONERROR",
        "onclick",
        "=",
        "==",
        " ",
        "  ",
        "/",
        ":",
        ".",
        "(",
        ")",
        ";",
        ",",
        "&",
        "&#",
        "60",
        "&lt;",
        "&colon;",
        "lt",
        "+AD",
        "+",
        "-",
        "*",
        "/**/",
        "alert",
        "Alert",
        "eval",
        "prompt",
        "confirm",
        "Function",
        "constructor",
        "document",
        "cookie",
        "domain",
        "location",
        "href",
        "innerHTML",
        "write",
        "setTimeout",
        "atob",
        "fetch",
        "import",
        "window",
        "self",
        "top",
        "javascript",
        "JaVaScRiPt",
        "vbscript",
        "livescript",
        "script",
        "data",
        "text/html",
        "base64",
        ",",
        "style",
        "expression",
        "behavior",
        "-moz-binding",
        "url",
        "dataformatas",
        "html",
        "src",
        "x",
        "1",
        "a",
        "ng-click",
        "v-on:click",
        "@click",
        ":x",
        "(click)",
        "x-on:",
        "hx-on",
        "srcdoc",
        "value",
        "msgbox",
        "$eval",
        "_",
        "$",
        "0",
        "%3C",
        "%",
        "#",
        "?",
        "!",
        "@",
        "~",
        "^",
        "|",
        "é",
        "\u{a0}",
        "onmouseover",
        "onfocus",
        "autofocus",
        "onx",
        "on_load",
        "Onload",
        "!",
        "[",
        "]",
        "![]",
        "+[]",
        "{",
        "}",
        "{{",
        "}}",
        "${",
        "'",
        "\"",
        "`",
        "\t",
        "\n",
        "\0",
        "java\tscript:",
        "javas\ncript:",
        "self[",
        "top[",
        "this",
        "globalThis",
        "call",
        ".call`",
        "apply",
        "-moz-binding:url(",
        "x:expression(",
        "behavior:url(",
        "<",
        ">",
        "<svg",
        "<img src=x ",
        "<script>",
        "</script>",
        "<a href=",
        "<style>",
        "+ADw-",
        "＜",
        "＞",
        "¼",
        "¾",
        "\\",
        "\\x24",
        "\\u0061",
        "//",
        "<!--",
        "-->",
        "&quot;",
        "&#x3c;",
    ];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |m: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % m as u64) as usize
    };
    let mut diffs = Vec::new();
    let mut v = Vec::new();
    for _ in 0..300_000 {
        v.clear();
        for _ in 0..1 + next(9) {
            v.extend_from_slice(PARTS[next(PARTS.len())].as_bytes());
        }
        if explain(&v) != explain_ungated(&v) {
            diffs.push(String::from_utf8_lossy(&v).into_owned());
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differ:\n{}",
        diffs.len(),
        diffs[..diffs.len().min(30)].join("\n")
    );
}
