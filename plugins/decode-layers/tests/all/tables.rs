//! The tables in `testdata/`: points, findings, errors and the value of the
//! layer point itself (`value`), checked by `check_table`; plus, for every
//! case rejected as not-this-format, that nothing was left behind.

use rampart_decode_layers::{
    Base64Decoder, DeflateDecoder, GzipDecoder, HtmlEntityDecoder, JsEscapeDecoder, JwtDecoder,
    UrlDecoder,
};
use rampart_plugin_api::testing::{check_table, load_table, run};
use rampart_plugin_api::{Decoder, Limits};

fn table(decoder: &dyn Decoder, file: &str, values: bool) {
    let path = format!("{}/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
    check_table(decoder, &path);
    let mut failures = Vec::new();
    for case in load_table(&path) {
        let input = case.input_bytes();
        let out = run(decoder, &input, None, case.declared, Limits::default());
        if case.error.as_deref() == Some("not-this-format") {
            // A failed speculative decoding leaves nothing behind.
            if out.tree.bytes_len() != input.len() || out.tree.len() != 3 {
                failures.push(format!("{}: rejected but left bytes or nodes", case.name));
            }
            continue;
        }
        if values && case.value.is_none() {
            failures.push(format!("{}: no \"value\"", case.name));
        }
    }
    assert!(failures.is_empty(), "{file}:\n{}", failures.join("\n"));
}

#[test]
fn base64_table() {
    table(&Base64Decoder, "base64.json", true);
}

#[test]
fn gzip_table() {
    table(&GzipDecoder, "gzip.json", true);
}

#[test]
fn deflate_table() {
    table(&DeflateDecoder, "deflate.json", true);
}

#[test]
fn html_table() {
    table(&HtmlEntityDecoder, "html.json", true);
}

#[test]
fn jsesc_table() {
    table(&JsEscapeDecoder, "jsesc.json", true);
}

#[test]
fn url_table() {
    table(&UrlDecoder, "url.json", true);
}

#[test]
fn jwt_table() {
    table(&JwtDecoder, "jwt.json", false);
}
