//! End to end: builds this crate's shared library, loads it into the real
//! `rampart` binary (`rampart inspect --json --plugin ...`) and checks what
//! the node sees in a MessagePack request body.
//!
//! The binary is `$RAMPART_BIN`, by default `target/debug/rampart` of the
//! Rampart workspace this example lives in (`cargo build -p rampart`
//! there). When it does not exist the tests print a notice and pass.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value as Json;

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where this test writes: the library build and the requests.
fn work_dir() -> PathBuf {
    crate_dir().join("target").join("e2e")
}

/// The rampart binary, or `None` (with a notice) when it is not built.
fn rampart() -> Option<PathBuf> {
    let bin = std::env::var_os("RAMPART_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir().join("../../../target/debug/rampart"));
    if bin.is_file() {
        Some(bin)
    } else {
        eprintln!(
            "NOTICE: skipping the end-to-end test: {} does not exist \
             (run `cargo build -p rampart` in the Rampart workspace, or set RAMPART_BIN)",
            bin.display()
        );
        None
    }
}

/// Builds the plugin library once per test run, with `cargo build` on this
/// crate's manifest, into `target/e2e` (not `target/`, whose lock the
/// running `cargo test` may hold).
fn plugin_library() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        let target = work_dir();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .arg("build")
            .arg("--lib")
            .arg("--manifest-path")
            .arg(crate_dir().join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .expect("cargo can be run");
        assert!(
            out.status.success(),
            "building the plugin failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let name = format!(
            "{}msgpack_decoder{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        );
        let lib = target.join("debug").join(name);
        assert!(lib.is_file(), "{} was not built", lib.display());
        lib
    })
}

/// A raw HTTP/1.1 request with a body of the given type.
fn request(name: &str, content_type: &str, body: &[u8]) -> PathBuf {
    let mut raw = format!(
        "POST /api/orders HTTP/1.1\r\nHost: shop.example\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    let dir = work_dir().join("files");
    std::fs::create_dir_all(&dir).expect("create the work dir");
    let path = dir.join(name);
    std::fs::write(&path, raw).expect("write the request");
    path
}

/// `rampart inspect --json [args] --plugin <lib> <request>`, parsed.
fn inspect(bin: &Path, args: &[&str], request: &Path) -> Json {
    let out = Command::new(bin)
        .arg("inspect")
        .arg("--json")
        .args(args)
        .arg("--plugin")
        .arg(plugin_library())
        .arg(request)
        .output()
        .expect("rampart can be run");
    assert!(
        out.status.success(),
        "rampart inspect failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str::<Json>(&String::from_utf8_lossy(&out.stdout)).expect("valid JSON")
}

/// The values of every point with this path.
fn values<'j>(ins: &'j Json, path: &str) -> Vec<&'j str> {
    ins["points"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|p| p["path"].as_str().unwrap_or_default() == path)
        .map(|p| p["value"].as_str().unwrap_or_default())
        .collect()
}

fn has_finding(ins: &Json, rule: &str, point: &str) -> bool {
    ins["findings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .any(|f| {
            f["rule"].as_str().unwrap_or_default() == rule
                && f["point"].as_str().unwrap_or_default() == point
        })
}

fn str8(s: &str) -> Vec<u8> {
    let mut v = vec![0xd9, s.len() as u8];
    v.extend_from_slice(s.as_bytes());
    v
}

/// `{"user": {"name": "alice", "note": "{\"a\":1}"}, "ids": [1, -2],
///   "when": <timestamp 1700000000>, "price": 1.5}`
fn order() -> Vec<u8> {
    let mut v = vec![0x84];
    v.extend(str8("user"));
    v.push(0x82);
    v.extend(str8("name"));
    v.extend(str8("alice"));
    v.extend(str8("note"));
    v.extend(str8("{\"a\":1}"));
    v.extend(str8("ids"));
    v.extend([0x92, 0x01, 0xfe]);
    v.extend(str8("when"));
    v.extend([0xd6, 0xff, 0x65, 0x53, 0xf1, 0x00]);
    v.extend(str8("price"));
    v.extend([0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
    v
}

#[test]
fn the_node_decodes_a_msgpack_body_through_the_loaded_plugin() {
    let Some(bin) = rampart() else { return };
    let req = request("order.http", "application/msgpack", &order());
    let ins = inspect(&bin, &[], &req);
    for (path, want) in [
        ("body:msgpack.user.name", "alice"),
        ("body:msgpack.user.note", "{\"a\":1}"),
        ("body:msgpack.ids[0]", "1"),
        ("body:msgpack.ids[1]", "-2"),
        ("body:msgpack.when", "2023-11-14T22:13:20Z"),
        ("body:msgpack.price", "1.5"),
        // A str holding JSON is sniffed further by the built-in decoder.
        ("body:msgpack.user.note:json.a", "1"),
    ] {
        assert_eq!(values(&ins, path), [want], "{path}");
    }
    assert!(
        ins["findings"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .is_empty(),
        "{:?}",
        ins["findings"]
    );
    assert_eq!(
        ins["verdict"]["action"].as_str().unwrap_or_default(),
        "allow"
    );
}

#[test]
fn the_plugin_works_without_the_builtin_plugins() {
    let Some(bin) = rampart() else { return };
    let req = request(
        "order-x.http",
        "application/x-msgpack; charset=binary",
        &order(),
    );
    let ins = inspect(&bin, &["--no-builtin-plugins"], &req);
    assert_eq!(values(&ins, "body:msgpack.user.name"), ["alice"]);
    assert!(values(&ins, "body:msgpack.user.note:json.a").is_empty());
}

#[test]
fn a_truncated_body_keeps_what_was_decoded_and_is_flagged() {
    let Some(bin) = rampart() else { return };
    let body = order();
    let cut = &body[..body.len() - 4];
    let req = request("truncated.http", "application/msgpack", cut);
    let ins = inspect(&bin, &[], &req);
    assert_eq!(values(&ins, "body:msgpack.user.name"), ["alice"]);
    assert!(values(&ins, "body:msgpack.price").is_empty());
    let f = ins["findings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .find(|f| f["rule"].as_str().unwrap_or_default() == "msgpack.malformed")
        .unwrap_or_else(|| panic!("no msgpack.malformed finding: {:?}", ins["findings"]));
    assert_eq!(f["class"].as_str().unwrap_or_default(), "anomaly");
    assert_eq!(f["origin"].as_str().unwrap_or_default(), "msgpack");
    assert!(
        f["message"]
            .as_str()
            .unwrap_or_default()
            .contains("truncated"),
        "{:?}",
        f["message"]
    );
}

#[test]
fn deep_nesting_hits_the_node_budget_across_the_abi() {
    let Some(bin) = rampart() else { return };
    let mut body = vec![0x91u8; 100_000];
    body.push(0xc0);
    let req = request("deep.http", "application/msgpack", &body);
    let ins = inspect(&bin, &[], &req);
    assert!(
        has_finding(&ins, "limit.nesting", "body:msgpack"),
        "{:?}",
        ins["findings"]
    );
    // An exhausted budget blocks under the default `limits.action`.
    assert_eq!(
        ins["verdict"]["action"].as_str().unwrap_or_default(),
        "block"
    );
}
