// Test helpers outside `#[test]` functions unwrap and panic too, and tests
// read whole responses.
#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

use rampart_decode_url::{FormDecoder, PathDecoder};
use rampart_plugin_api::testing::{check_table, run};
use rampart_plugin_api::{Decoder, Limits};

fn data(name: &str) -> String {
    format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn form_table() {
    check_table(&FormDecoder, data("form.json"));
}

#[test]
fn path_table() {
    check_table(&PathDecoder, data("path.json"));
}

#[test]
fn path_root_value_is_the_decoded_path() {
    let o = run(
        &PathDecoder,
        b"/a%20b/%2e%2e/c",
        None,
        true,
        Limits::default(),
    );
    assert_eq!(o.tree.value(o.layer), b"/a b/../c");
}

#[test]
fn sniff_rejects_prose_and_accepts_forms() {
    let f = FormDecoder;
    assert!(f.sniff(b"a=1&b=2"));
    assert!(f.sniff(b"token=abc"));
    assert!(!f.sniff(b"hello world"));
    assert!(!f.sniff(b"I would like x=1 please"));
    assert!(!f.sniff(b"=x"));
}

#[test]
fn hostile_inputs_are_bounded() {
    // 100,000 pairs: stops at the node budget.
    let many = "a=1&".repeat(100_000);
    let o = run(&FormDecoder, many.as_bytes(), None, true, Limits::default());
    assert_eq!(o.error_name().as_deref(), Some("exhausted"));
    assert!(o.tree.len() <= Limits::default().max_nodes as usize);
    // Deeply bracketed key: nesting limit.
    let deep = format!("a{}=1", "[x]".repeat(100_000));
    let o = run(&FormDecoder, deep.as_bytes(), None, true, Limits::default());
    assert_eq!(o.error_name().as_deref(), Some("exhausted"));
    // 1 MB value within a small byte budget.
    let big = format!("a={}", "%41".repeat(350_000));
    let small = Limits {
        max_bytes: 256 << 10,
        ..Limits::default()
    };
    let o = run(&FormDecoder, big.as_bytes(), None, true, small);
    assert_eq!(o.error_name().as_deref(), Some("exhausted"));
    // Invalid UTF-8 and truncated escapes at every cut.
    let sample = b"q=%E2%82%AC&r=%c0%ae&s=\xff\xfe&t=%u00";
    for cut in 0..sample.len() {
        let o = run(&FormDecoder, &sample[..cut], None, true, Limits::default());
        assert!(o.result.is_ok());
        let o = run(&PathDecoder, &sample[..cut], None, true, Limits::default());
        assert!(o.result.is_ok());
    }
}
