//! Test support shared by Rampart's test suites (a dev-dependency only).
//!
//! [`gotestwaf_requests`] turns the GoTestWAF corpus of `../shared/corpus`
//! into the exact raw requests `../shared/bench/wafbench.py` sends, by
//! running wafbench's own request builder (`gotestwaf_requests.py` beside
//! this crate), so that tests replay the corpus byte for byte.
//! [`crs_requests`] does the same for the CRS regression tests
//! (`crs_requests.py`).

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared folder: `$RAMPART_SHARED`, else `../shared` beside the
/// repository.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("RAMPART_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

/// The raw requests of the GoTestWAF test sets whose name matches the regex
/// `test_set` (`.` for all), addressed to `hostport`: `(id, bytes)` pairs.
///
/// # Panics
/// When python3 or PyYAML is missing or the corpus is not there: a test
/// that needs the corpus cannot run without it.
pub fn gotestwaf_requests(test_set: &str, hostport: &str) -> Vec<(String, Vec<u8>)> {
    let sh = shared_dir();
    let corpus = sh.join("corpus/gotestwaf/testcases");
    let corpus = corpus.to_string_lossy();
    builder_lines("gotestwaf_requests.py", &[&corpus, test_set, hostport])
        .iter()
        .filter_map(|v| {
            let raw = hex(v["raw"].as_str()?)?;
            Some((v["pid"].as_str()?.to_string(), raw))
        })
        .collect()
}

/// Runs one of the request builders beside this crate (`SCRIPT WAFBENCH_DIR
/// ARGS...`) and parses its JSON lines.
#[allow(clippy::panic)]
fn builder_lines(script: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(script))
        .arg(shared_dir().join("bench"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("python3 does not run: {e}"));
    assert!(
        out.status.success(),
        "{script} failed (is PyYAML installed? pip install pyyaml): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// One stage of a CRS regression test, as wafbench sends it.
#[derive(Debug, Clone)]
pub struct CrsCase {
    /// `SET/RULE-TEST` (plus `/sN` for multi-stage tests), wafbench's id.
    pub pid: String,
    /// The test file's folder, e.g. `REQUEST-942-APPLICATION-ATTACK-SQLI`.
    pub set: String,
    /// The CRS rule id the test belongs to, e.g. `942100`.
    pub rule: String,
    /// `attack` (the rule is expected to fire), `benign` (a rule is
    /// expected not to fire: not a clean benign label) or `unscored`.
    pub class: String,
    /// The raw request bytes.
    pub raw: Vec<u8>,
}

impl CrsCase {
    /// The test id without the set: `942100-3` (or `942100-3/s2`).
    pub fn test_id(&self) -> &str {
        self.pid.split_once('/').map_or(&self.pid, |(_, t)| t)
    }
}

/// The CRS regression cases of the test sets matching the regex `test_set`.
///
/// # Panics
/// When python3 or PyYAML is missing or the corpus is not there.
pub fn crs_requests(test_set: &str) -> Vec<CrsCase> {
    let corpus = shared_dir().join("corpus/crs-regression/tests");
    let corpus = corpus.to_string_lossy();
    builder_lines("crs_requests.py", &[&corpus, test_set])
        .iter()
        .filter_map(|v| {
            Some(CrsCase {
                pid: v["pid"].as_str()?.to_string(),
                set: v["set"].as_str()?.to_string(),
                rule: v["rule"].as_str()?.to_string(),
                class: v["cls"].as_str()?.to_string(),
                raw: hex(v["raw"].as_str()?)?,
            })
        })
        .collect()
}

fn hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}
