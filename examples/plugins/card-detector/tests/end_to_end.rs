//! End to end: builds this crate's shared library, loads it into the real
//! `rampart` binary (`rampart inspect --json --plugin ...`) and checks the
//! findings it reports.
//!
//! The binary is `$RAMPART_BIN`, by default `target/debug/rampart` of the
//! Rampart workspace this example lives in (`cargo build -p rampart`
//! there). When it does not exist the tests print a notice and pass.


use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value as Json;

const CARD: &str = "4111-1111-1111-1111";
const KEY: &str = "AKIAIOSFODNN7EXAMPLE";

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where this test writes: the library build, requests, node.toml files.
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
            "{}card_detector{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        );
        let lib = target.join("debug").join(name);
        assert!(lib.is_file(), "{} was not built", lib.display());
        lib
    })
}

/// Writes `contents` to `target/e2e/<name>` and returns the path.
fn write(name: &str, contents: &[u8]) -> PathBuf {
    let dir = work_dir().join("files");
    std::fs::create_dir_all(&dir).expect("create the work dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write a test file");
    path
}

fn run(bin: &Path, args: &[&str], extra: &[&Path]) -> Output {
    Command::new(bin)
        .args(args)
        .args(extra)
        .output()
        .expect("rampart can be run")
}

/// `rampart inspect --json [args] <request>`, parsed.
fn inspect(bin: &Path, args: &[&str], request: &Path) -> Json {
    let mut all = vec!["inspect", "--json"];
    all.extend_from_slice(args);
    let out = run(bin, &all, &[request]);
    assert!(
        out.status.success(),
        "rampart inspect failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str::<Json>(&String::from_utf8_lossy(&out.stdout)).expect("valid JSON")
}

fn findings<'j>(inspection: &'j Json, rule: &str) -> Vec<&'j Json> {
    inspection["findings"]
        .as_array().map(Vec::as_slice).unwrap_or_default()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap_or_default() == rule)
        .collect()
}

fn request() -> PathBuf {
    let raw = format!(
        "POST /pay?card={CARD} HTTP/1.1\r\nHost: shop.example\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{{\"key\":\"{KEY}\"}}",
        KEY.len() + 10
    );
    write("card.http", raw.as_bytes())
}

#[test]
fn the_node_reports_a_card_number_through_the_loaded_plugin() {
    let Some(bin) = rampart() else { return };
    let lib = plugin_library().to_str().expect("UTF-8 path");
    let ins = inspect(&bin, &["--plugin", lib], &request());

    let cards = findings(&ins, "secrets.card-number");
    let at_query = cards
        .iter()
        .find(|f| f["point"].as_str().unwrap_or_default() == "query.card")
        .unwrap_or_else(|| panic!("no card finding at query.card: {cards:?}"));
    assert_eq!(at_query["class"].as_str().unwrap_or_default(), "anomaly");
    assert_eq!(at_query["origin"].as_str().unwrap_or_default(), "leaked-secrets");
    assert_eq!(at_query["span"], serde_json::json!([0, 19]));
    assert_eq!(at_query["excerpt"].as_str().unwrap_or_default(), CARD);
    let msg = at_query["message"].as_str().unwrap_or_default();
    assert_eq!(msg, "Visa card number ************1111");
    // The raw request-target holds the number too, but the node offers it
    // to protocol and scanner detectors only: this one reads the decoded
    // query, so the number is reported once.
    assert!(!cards.iter().any(|f| f["point"].as_str().unwrap_or_default() == "uri"));
    for f in &cards {
        assert!(!f["message"].as_str().unwrap_or_default().contains("41111111"));
    }

    let keys = findings(&ins, "secrets.aws-access-key");
    assert!(
        keys.iter()
            .any(|f| f["point"].as_str().unwrap_or_default() == "body:json.key" && f["excerpt"].as_str().unwrap_or_default() == KEY),
        "{keys:?}"
    );
    // Anomalies alone do not block under the default policy.
    assert_eq!(ins["verdict"]["action"].as_str().unwrap_or_default(), "allow");
}

#[test]
fn node_toml_loads_and_configures_the_plugin() {
    let Some(bin) = rampart() else { return };
    let lib = plugin_library();
    let toml = format!(
        "plugins = [{:?}]\n\n[plugin.leaked-secrets]\ncards = \"false\"\n",
        lib.display().to_string()
    );
    let config = write("cards-off.toml", toml.as_bytes());
    let config = config.to_str().expect("UTF-8 path");
    let ins = inspect(&bin, &["--config", config], &request());
    assert!(findings(&ins, "secrets.card-number").is_empty());
    assert!(!findings(&ins, "secrets.aws-access-key").is_empty());
}

#[test]
fn the_node_refuses_a_bad_configuration_and_a_second_copy() {
    let Some(bin) = rampart() else { return };
    let lib = plugin_library();
    let toml = format!(
        "plugins = [{:?}]\n\n[plugin.leaked-secrets]\ncard = \"false\"\n",
        lib.display().to_string()
    );
    let config = write("bad-key.toml", toml.as_bytes());
    let out = run(
        &bin,
        &["inspect", "--config", config.to_str().expect("UTF-8 path")],
        &[&request()],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("leaked-secrets: unknown setting \"card\""),
        "{err}"
    );

    let lib = lib.to_str().expect("UTF-8 path");
    let out = run(
        &bin,
        &["inspect", "--plugin", lib, "--plugin", lib],
        &[&request()],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("detector plugin \"leaked-secrets\" from")
            && err.contains("a detector of that name is already registered"),
        "{err}"
    );
}
