//! Table tests: `testdata/<class>.json`.
//!
//! A case names one or more request points and their values in `points`
//! (`[["query.q", "*)(uid=*"]]`; several points make one tree, as the XML
//! decoder's `!doctype` and `!entity` siblings) and lists in `findings`
//! the rule names reported over all its points, plus `block` when the
//! summed score of a class reaches the engine's threshold (50).

use rampart_plugin_api::testing::load_table;
use rampart_plugin_api::Tree;

use crate::support::{add_path, blocks, describe, inspect_at, rules, set_leaf};

fn run(file: &str, min_cases: usize) {
    let path = format!("{}/testdata/{file}.json", env!("CARGO_MANIFEST_DIR"));
    let cases = load_table(&path);
    assert!(
        cases.len() >= min_cases,
        "{file}: only {} cases",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let mut tree = Tree::new();
        let leaves: Vec<_> = case
            .points
            .iter()
            .map(|(p, v)| {
                let n = add_path(&mut tree, p);
                set_leaf(&mut tree, n, v.as_bytes());
                n
            })
            .collect();
        let mut found = Vec::new();
        for (&leaf, (_, v)) in leaves.iter().zip(&case.points) {
            found.extend(inspect_at(&tree, leaf, v.as_bytes()));
        }
        let mut got = rules(&found);
        got.dedup();
        if blocks(&found) {
            got.push("block".into());
            got.sort();
        }
        let mut want = case.findings.clone();
        want.sort();
        if got != want {
            failures.push(format!(
                "{:?}: want {want:?} got {got:?} [{}]",
                case.name,
                describe(&found)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{file}: {} of {} failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn xxe() {
    run("xxe", 30);
}

#[test]
fn xml_injection() {
    run("xml-injection", 30);
}

#[test]
fn xpath() {
    run("xpath", 30);
}

#[test]
fn ldap() {
    run("ldap", 30);
}

#[test]
fn nosql() {
    run("nosql", 30);
}

#[test]
fn crlf() {
    run("crlf", 30);
}

#[test]
fn mail_injection() {
    run("mail-injection", 30);
}

#[test]
fn ssi() {
    run("ssi", 30);
}

#[test]
fn session_fixation() {
    run("session-fixation", 30);
}
