//! The `rampart` binary: `inspect` on saved requests with several layers of
//! nesting in mixed order, and argument errors.

// Test helpers outside `#[test]` functions unwrap and panic too, and tests
// read whole responses.
#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

use std::path::Path;
use std::process::{Command, Stdio};

fn rampart() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
}

fn inspect_json(file: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/requests")
        .join(file);
    let out = rampart()
        .args(["inspect", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn has_point(v: &serde_json::Value, path: &str, value: &str) -> bool {
    v["points"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["path"] == path && p["value"] == value)
}

fn assert_point(file: &str, path: &str, value: &str) {
    let v = inspect_json(file);
    assert!(
        has_point(&v, path, value),
        "{file}: no point {path} = {value:?}; points:\n{}",
        serde_json::to_string_pretty(&v["points"]).unwrap()
    );
}

#[test]
fn multipart_base64_xml_json() {
    assert_point(
        "multipart-base64-xml-json.http",
        "body:multipart.doc:base64:xml.order.note:json.comment",
        "deep value",
    );
}

#[test]
fn json_base64_gzip_form() {
    assert_point(
        "json-base64-gzip-form.http",
        "body:json.payload:base64:gzip:form.q",
        "hidden needle",
    );
}

#[test]
fn query_base64_json_html() {
    assert_point(
        "query-base64-json-html.http",
        "query.data:base64:json.msg:html",
        "café <b>",
    );
}

#[test]
fn cookie_jwt_and_basic_auth() {
    let v = inspect_json("cookie-jwt-basic.http");
    assert!(
        has_point(&v, "cookie.token:jwt.payload:json.sub", "alice"),
        "{v:#}"
    );
    assert!(has_point(
        &v,
        "header.authorization:basic.password",
        "s3cret"
    ));
    assert!(has_point(&v, "cookie.theme", "dark"));
}

#[test]
fn soap_cdata_json_base64_form() {
    assert_point(
        "soap-cdata-json-base64-form.http",
        "body:xml[\"soap:Envelope\"][\"soap:Body\"].importOrder.note:json.blob:base64:form.cmd",
        "status",
    );
}

#[test]
fn text_output_and_stdin() {
    let mut child = rampart()
        .arg("inspect")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"GET /a/b?q=%3Cx%3E HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("query.q = \"<x>\""), "{text}");
    assert!(text.contains("path[1] = \"b\""), "{text}");
    assert!(text.contains("verdict: allow"), "{text}");
}

#[test]
fn a_gzip_bomb_is_stopped_and_blocked() {
    // 64 MiB of zeros, gzip-compressed, built in memory by the test.
    let mut gz = Vec::new();
    {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            enc.write_all(&zeros).unwrap();
        }
        enc.finish().unwrap();
    }
    let mut raw = format!(
        "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        gz.len()
    )
    .into_bytes();
    raw.extend_from_slice(&gz);
    let mut child = rampart()
        .args(["inspect", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&raw).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"]["action"], "block");
    assert_eq!(v["verdict"]["rule"], "limit.bytes");
}

#[test]
fn bad_arguments_and_input_are_clear_errors() {
    let out = rampart().args(["node"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--upstream"));
    let out = rampart()
        .args(["node", "--upstream", "ftp://x", "--mode", "loud"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("upstream") && err.contains("loud"), "{err}");
    let mut child = rampart()
        .arg("inspect")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"not http").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an HTTP/1.x request"));
}
