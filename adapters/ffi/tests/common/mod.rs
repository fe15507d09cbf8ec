//! Helpers shared by the integration tests: the static library this test
//! run built, scratch folders, external tools.
#![allow(dead_code, clippy::panic)] // shared by several test binaries; failures are test failures

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The crate's folder (adapters/ffi).
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace root.
pub fn repo_root() -> PathBuf {
    crate_dir()
        .parent()
        .and_then(Path::parent)
        .expect("adapters/ffi is two levels down")
        .to_path_buf()
}

/// `librampart_ffi.a` as built by this `cargo test` (the library target is
/// built with all its crate types): the newest of the uplifted archive next
/// to `deps/` and the hashed ones inside it.
pub fn staticlib() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps folder").to_path_buf();
    let profile_dir = deps.parent().expect("profile folder").to_path_buf();
    let mut candidates = vec![profile_dir.join("librampart_ffi.a")];
    if let Ok(rd) = std::fs::read_dir(&deps) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("librampart_ffi-") && name.ends_with(".a") {
                candidates.push(e.path());
            }
        }
    }
    candidates
        .into_iter()
        .filter_map(|p| {
            let m = std::fs::metadata(&p).ok()?.modified().ok()?;
            Some((m, p))
        })
        .max()
        .map(|(_, p)| p)
        .expect("librampart_ffi.a not found next to the test binary: run through cargo test -p rampart-ffi")
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A new empty folder under the target's tmp dir.
pub fn scratch(name: &str) -> PathBuf {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let d = base.join(format!(
        "{name}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// True when `prog` runs (`prog --version` or the given probe args).
pub fn have(prog: &str, args: &[&str]) -> bool {
    Command::new(prog)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Whether CI demands the real servers (RAMPART_REQUIRE_SERVERS=1).
pub fn servers_required() -> bool {
    std::env::var("RAMPART_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

/// Compiles a C program against the header and the static library.
pub fn compile_c(src: &Path, out: &Path) {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let o = Command::new(&cc)
        .arg("-std=c99")
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-O1", "-g"])
        .arg("-D_POSIX_C_SOURCE=200809L")
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg("-o")
        .arg(out)
        .arg(src)
        .arg(staticlib())
        .args(["-lpthread", "-ldl", "-lm"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
    assert!(
        o.status.success(),
        "{cc} failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
