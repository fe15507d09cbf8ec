//! Plugins loaded from shared libraries through the C ABI: the built-in
//! decoders (and detectors) built as libraries behave exactly like the
//! statically linked ones, and every way a library can be wrong is refused
//! or contained with a clear message.

// Test helpers outside `#[test]` functions unwrap and panic too, and tests
// read whole responses.
#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use rampart_core::loader::{load_library, LoadError};
use rampart_core::{Action, Class, Engine, EngineConfig, PluginFailure, Policy, Registry, Request};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The built-in plugin crates, in the order the binary registers them.
const BUILTIN: [&str; 14] = [
    "rampart-decode-url",
    "rampart-decode-http",
    "rampart-decode-multipart",
    "rampart-decode-json",
    "rampart-decode-xml",
    "rampart-decode-graphql",
    "rampart-decode-layers",
    "rampart-detect-scanner",
    "rampart-detect-protocol",
    "rampart-detect-xss",
    "rampart-detect-injections",
    "rampart-detect-sqli",
    "rampart-detect-files",
    "rampart-detect-rce",
];

fn cargo() -> Command {
    let mut c = Command::new(env!("CARGO"));
    c.current_dir(ROOT);
    c
}

fn run_ok(mut c: Command) {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds the built-in plugin crates as loadable libraries (once).
fn builtin_libs() -> &'static [PathBuf] {
    static LIBS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    LIBS.get_or_init(|| {
        let target = Path::new(ROOT).join("target/plugin-libs");
        let mut c = cargo();
        c.args(["build", "--quiet", "--target-dir"]).arg(&target);
        let mut features = Vec::new();
        for p in BUILTIN {
            c.args(["-p", p]);
            features.push(format!("{p}/plugin-export"));
        }
        c.args(["--features", &features.join(",")]);
        run_ok(c);
        BUILTIN
            .iter()
            .map(|p| {
                target
                    .join("debug")
                    .join(format!("lib{}.so", p.replace('-', "_")))
            })
            .collect()
    })
}

/// Builds a fixture library under tests/fixtures/plugins with features.
fn fixture(name: &str, features: &str) -> PathBuf {
    let target = Path::new(ROOT).join(format!(
        "target/fixtures/{name}-{}",
        if features.is_empty() {
            "default"
        } else {
            features
        }
    ));
    let mut c = cargo();
    c.args(["build", "--quiet", "--manifest-path"])
        .arg(Path::new(ROOT).join(format!("tests/fixtures/plugins/{name}/Cargo.toml")))
        .arg("--target-dir")
        .arg(&target);
    if !features.is_empty() {
        c.args(["--features", features]);
    }
    run_ok(c);
    target
        .join("debug")
        .join(format!("librampart_fixture_{}.so", name.replace('-', "_")))
}

fn static_engine(cfg: EngineConfig) -> Engine {
    let reg = rampart_builtin_plugins::registry().unwrap();
    Engine::new(&reg, cfg).unwrap()
}

fn dynamic_engine(cfg: EngineConfig) -> Engine {
    let mut reg = Registry::new();
    for lib in builtin_libs() {
        load_library(lib, &mut reg).unwrap();
    }
    Engine::new(&reg, cfg).unwrap()
}

fn without_timings(mut v: serde_json::Value) -> serde_json::Value {
    let o = v.as_object_mut().unwrap();
    o.remove("decode_us");
    o.remove("detect_us");
    v
}

#[test]
fn dynamic_builtins_inspect_the_gotestwaf_corpus_exactly_like_static_ones() {
    let cfg = EngineConfig::default();
    let (s, d) = (static_engine(cfg.clone()), dynamic_engine(cfg));
    let reqs = rampart_testkit::gotestwaf_requests(".", "localhost:8080");
    assert!(reqs.len() > 700);
    let mut blocked = 0;
    for (pid, raw) in &reqs {
        let Ok(req) = rampart_core::http1::parse_request(raw) else {
            continue;
        };
        let (a, b) = (s.inspect(&req), d.inspect(&req));
        blocked += usize::from(a.verdict.action == Action::Block);
        assert_eq!(
            without_timings(a.to_json()),
            without_timings(b.to_json()),
            "{pid}"
        );
    }
    assert!(
        blocked > 0,
        "the scanner detector blocks some of the corpus"
    );
}

/// A minimal upstream: answers 200 to every request, one per connection.
fn upstream() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 65536];
                // Read the head and a Content-Length body, then answer.
                loop {
                    let Ok(n) = s.read(&mut tmp) else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                    if let Some(h) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..h]).to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if buf.len() >= h + 4 + len {
                            break;
                        }
                    }
                }
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
            });
        }
    });
    addr
}

struct NodeProc {
    child: Child,
    addr: SocketAddr,
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `rampart node` with extra arguments; reads its address from the
/// JSON log line that announces it.
fn node(upstream: SocketAddr, extra: &[&str]) -> NodeProc {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args([
            "node",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--upstream",
        ])
        .arg(format!("http://{upstream}"))
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().expect("node exited before serving").unwrap();
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
            if let Some(l) = v["listen"].as_str() {
                break l.parse().unwrap();
            }
        }
    };
    // Keep draining the log so the node never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    NodeProc { child, addr }
}

fn status(addr: SocketAddr, raw: &[u8]) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(raw).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf)
        .split(' ')
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_node_with_only_dynamic_plugins_gives_the_static_nodes_verdicts() {
    let up = upstream();
    let libs = builtin_libs();
    let mut args: Vec<String> = vec!["--no-builtin-plugins".into()];
    for l in libs {
        args.push("--plugin".into());
        args.push(l.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let stat = node(up, &[]);
    let dynamic = node(up, &args);
    let reqs = rampart_testkit::gotestwaf_requests(".", &stat.addr.to_string());
    let mut differ = Vec::new();
    let mut blocked = 0;
    for (pid, raw) in &reqs {
        let (a, b) = (status(stat.addr, raw), status(dynamic.addr, raw));
        blocked += usize::from(a == 403);
        if a != b {
            differ.push(format!("{pid}: static {a}, dynamic {b}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    assert!(blocked > 0);
}

fn err_of(path: &Path) -> LoadError {
    let mut reg = Registry::new();
    load_library(path, &mut reg).unwrap_err()
}

#[test]
fn a_library_built_for_another_abi_version_is_refused() {
    let e = err_of(&fixture("raw-abi", "bad-version"));
    assert!(
        matches!(
            e,
            LoadError::AbiVersion {
                found: 999,
                expected: 1,
                ..
            }
        ),
        "{e}"
    );
    assert!(e
        .to_string()
        .contains("built for plugin ABI version 999, this node speaks version 1"));
}

#[test]
fn a_library_without_the_manifest_symbol_is_refused() {
    let e = err_of(&fixture("raw-abi", "no-manifest"));
    assert!(
        e.to_string()
            .contains("does not export `rampart_plugin_manifest`"),
        "{e}"
    );
    let e = err_of(Path::new("/nonexistent/libnothing.so"));
    assert!(
        e.to_string()
            .starts_with("cannot load plugin library /nonexistent/libnothing.so"),
        "{e}"
    );
}

#[test]
fn a_duplicate_plugin_name_is_refused_and_nothing_of_the_library_registered() {
    let lib = fixture("misbehaving", "");
    let mut reg = Registry::new();
    load_library(&lib, &mut reg).unwrap();
    let e = load_library(&lib, &mut reg).unwrap_err();
    assert!(
        e.to_string().contains("decoder plugin \"boom\" from"),
        "{e}"
    );
    assert!(e.to_string().contains("already registered from"), "{e}");
    assert_eq!(reg.decoders().len(), 1);
    assert_eq!(reg.detectors().len(), 1);
    // Through the command line: a clear error, exit status 1.
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["inspect", "--plugin"])
        .arg(builtin_libs()[3].as_os_str())
        .arg(Path::new(ROOT).join("tests/requests/graphql-get.http"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("decoder plugin \"json\"") && err.contains("already registered from builtin"),
        "{err}"
    );
}

fn misbehaving_engine(on_error: PluginFailure) -> Engine {
    let mut reg = rampart_builtin_plugins::registry().unwrap();
    load_library(&fixture("misbehaving", ""), &mut reg).unwrap();
    load_library(&fixture("raw-abi", ""), &mut reg).unwrap();
    let cfg = EngineConfig {
        policy: Policy {
            on_plugin_error: on_error,
            ..Policy::default()
        },
        ..EngineConfig::default()
    };
    Engine::new(&reg, cfg).unwrap()
}

fn plugin_errors(ins: &rampart_core::Inspection) -> Vec<(String, String)> {
    ins.findings
        .iter()
        .filter(|f| f.class == Class::PluginError)
        .map(|f| (f.rule.to_string(), f.origin.to_string()))
        .collect()
}

#[test]
fn panics_inside_a_library_are_caught_and_the_failure_policy_applies() {
    for (q, origin) in [("/?a=boom", "boom"), ("/?a=kaboom", "boom-detector")] {
        let open = misbehaving_engine(PluginFailure::Open).inspect(&Request::new("GET", q));
        let errs = plugin_errors(&open);
        assert!(
            errs.contains(&("plugin.panic".to_string(), origin.to_string())),
            "{q}: {errs:?}"
        );
        assert_eq!(open.verdict.action, Action::Allow, "{q}");
        let closed = misbehaving_engine(PluginFailure::Closed).inspect(&Request::new("GET", q));
        assert_eq!(closed.verdict.action, Action::Block, "{q}");
        assert_eq!(closed.verdict.class, Some(Class::PluginError));
    }
}

#[test]
fn malformed_data_from_a_library_is_refused_as_a_plugin_error() {
    let e = misbehaving_engine(PluginFailure::Open);
    // A span past the end of the value.
    let ins = e.inspect(&Request::new("GET", "/?a=overrun"));
    let errs = plugin_errors(&ins);
    assert!(
        errs.contains(&("plugin.malformed-data".into(), "boom-detector".into())),
        "{errs:?}"
    );
    assert!(!ins.findings.iter().any(|f| f.rule == "boom.overrun"));
    // An invalid class code.
    let errs = plugin_errors(&e.inspect(&Request::new("GET", "/?a=x")));
    assert!(
        errs.contains(&("plugin.malformed-data".into(), "bad-class".into())),
        "{errs:?}"
    );
    // A well-formed finding passes through with its span and decides.
    let ins = e.inspect(&Request::new("GET", "/?a=evil"));
    assert_eq!(ins.verdict.action, Action::Block);
    assert_eq!(ins.verdict.rule.as_deref(), Some("boom.evil"));
    assert_eq!(ins.verdict.point.as_deref(), Some("query.a"));
}
