//! Test support shared by Rampart's test suites (a dev-dependency only).
//!
//! [`gotestwaf_requests`] turns the GoTestWAF corpus of `../shared/corpus`
//! into the exact raw requests `../shared/bench/wafbench.py` sends, by
//! running wafbench's own request builder (`gotestwaf_requests.py` beside
//! this crate), so that tests replay the corpus byte for byte.

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
#[allow(clippy::panic)]
pub fn gotestwaf_requests(test_set: &str, hostport: &str) -> Vec<(String, Vec<u8>)> {
    let sh = shared_dir();
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("gotestwaf_requests.py"))
        .arg(sh.join("bench"))
        .arg(sh.join("corpus/gotestwaf/testcases"))
        .arg(test_set)
        .arg(hostport)
        .output()
        .unwrap_or_else(|e| panic!("python3 does not run: {e}"));
    assert!(
        out.status.success(),
        "the GoTestWAF request builder failed (is PyYAML installed? pip install pyyaml): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            let raw = hex(v["raw"].as_str()?)?;
            Some((v["pid"].as_str()?.to_string(), raw))
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
