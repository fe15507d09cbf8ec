//! `spec/rule-language.md` stays true to the code: its grammar block is the
//! grammar file, and its examples compile.

use rampart_dsl::{compile, MemoryLoader};

const SPEC: &str = include_str!("../../../spec/rule-language.md");
const GRAMMAR: &str = include_str!("../../src/grammar.pest");

#[test]
fn spec_holds_the_grammar_verbatim() {
    assert!(
        SPEC.contains(&format!("```pest\n{GRAMMAR}```")),
        "spec/rule-language.md section 2 must reproduce dsl/src/grammar.pest"
    );
}

#[test]
fn spec_examples_compile() {
    let mut n = 0;
    for block in untagged_blocks(SPEC) {
        if block.starts_with("error[") {
            continue;
        }
        n += 1;
        let mut l = MemoryLoader::new()
            .with("example.rules", &block)
            .with("common.rules", "");
        if let Err(d) = compile("example.rules", &mut l) {
            panic!("example does not compile:\n{block}\n{}", d.render());
        }
    }
    assert_eq!(n, 3);
}

/// The contents of the fenced blocks without a language tag.
fn untagged_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<(bool, String)> = None;
    for line in md.lines() {
        if let Some(tag) = line.strip_prefix("```") {
            match cur.take() {
                Some((true, text)) => out.push(text),
                Some((false, _)) => {}
                None => cur = Some((tag.is_empty(), String::new())),
            }
            continue;
        }
        if let Some((_, text)) = cur.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    out
}
