//! `rampart scan` end to end: the built binary against the demo shop's
//! vulnerability lab, served in this process on 127.0.0.1 with its own
//! SQLite database; `--from-attacks` reads a real cloud store (SQLite)
//! filled through rampart-store.

#![cfg(feature = "cloud")]
// Test helpers outside `#[test]` functions unwrap and panic too, and tests
// read whole responses.
#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use rampart_store::{chrono, NewAttackEvent, Store};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh folder under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let p =
            std::env::temp_dir().join(format!("rampart-scan-cli-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The demo shop with its lab on, on 127.0.0.1 and a port of its own.
struct Shop {
    rt: tokio::runtime::Runtime,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    db: PathBuf,
    _dir: TempDir,
}

impl Shop {
    fn start(tag: &str) -> Shop {
        let dir = TempDir::new(tag);
        let db = dir.0.join("shop.sqlite");
        let rt = tokio::runtime::Runtime::new().unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let cfg = rampart_demo_shop::ShopConfig {
            db_path: Some(db.clone()),
            files_dir: Some(dir.0.join("files")),
            lab: true,
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = rt.spawn(rampart_demo_shop::serve(listener, cfg, async move {
            let _ = rx.await;
        }));
        let shop = Shop {
            rt,
            addr,
            stop: Some(tx),
            task: Some(task),
            db,
            _dir: dir,
        };
        // The shop opens (and seeds) its database before it answers.
        let (status, body) = shop.get("/lab/");
        assert_eq!(status, 200, "{body}");
        shop
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn get(&self, path: &str) -> (u16, String) {
        let mut s = TcpStream::connect(self.addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text)
    }

    /// Every row of every table of the shop's database, in order.
    fn dump(&self) -> String {
        dump_db(&self.db)
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = self.rt.block_on(task);
        }
    }
}

fn dump_db(path: &Path) -> String {
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    tables.retain(|t: &String| !t.starts_with("sqlite_"));
    assert!(tables.iter().any(|t| t == "products"), "{tables:?}");
    let mut out = String::new();
    for t in tables {
        let mut st = c
            .prepare(&format!("SELECT * FROM \"{t}\" ORDER BY rowid"))
            .unwrap();
        let n = st.column_count();
        let mut rows = st.query([]).unwrap();
        let mut count = 0;
        while let Some(row) = rows.next().unwrap() {
            count += 1;
            out.push_str(&t);
            for i in 0..n {
                let v: rusqlite::types::Value = row.get(i).unwrap();
                out.push_str(&format!("|{v:?}"));
            }
            out.push('\n');
        }
        out.push_str(&format!("{t}: {count} rows\n"));
    }
    out
}

fn rampart_scan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("scan")
        .args(args)
        .output()
        .unwrap()
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn sqli_is_confirmed_on_the_vulnerable_endpoint_without_changing_the_database() {
    let shop = Shop::start("sqli");
    let before = shop.dump();
    let target = shop.url("/lab/vuln/products?category=shoes");
    let out = rampart_scan(&["--target", &target, "--class", "sqli", "--rate", "50"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stdout.contains("CONFIRMED sqli (critical)"),
        "{}",
        show(&out)
    );
    assert!(
        stdout.contains("point:       query.category"),
        "{}",
        show(&out)
    );
    assert!(stdout.contains("reproduce: curl "), "{}", show(&out));
    assert!(
        stdout.contains("remediation: Build SQL with parameterized"),
        "{}",
        show(&out)
    );
    assert!(stdout.contains("Summary: 1 confirmed"), "{}", show(&out));
    // Progress went to stderr, one plain line per scan (not a terminal).
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[1/1] sqli query.category ... confirmed ("),
        "{}",
        show(&out)
    );

    // SARIF: one result, for the vulnerable endpoint.
    let out = rampart_scan(&[
        "--target", &target, "--class", "sqli", "--rate", "50", "--format", "sarif",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"].as_str().unwrap().contains("sarif"));
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "rampart-scan");
    assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "sqli");
    assert!(run["tool"]["driver"]["rules"][0]["properties"]["security-severity"].is_string());
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{sarif:#}");
    assert_eq!(results[0]["ruleId"], "sqli");
    assert_eq!(results[0]["level"], "error");
    let loc = &results[0]["locations"][0];
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        target.as_str()
    );
    assert_eq!(loc["logicalLocations"][0]["name"], "query.category");
    assert!(results[0]["properties"]["curl"]
        .as_str()
        .unwrap()
        .starts_with("curl "));

    // No probe changed the shop's data.
    assert_eq!(before, shop.dump());
}

#[test]
fn sqli_is_not_confirmed_on_the_patched_twin() {
    let shop = Shop::start("safe");
    let target = shop.url("/lab/safe/products?category=shoes");
    let out = rampart_scan(&["--target", &target, "--class", "sqli", "--rate", "50"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(stdout.contains("not confirmed sqli: GET"), "{}", show(&out));
    assert!(
        stdout.contains("Summary: 0 confirmed, 1 not confirmed"),
        "{}",
        show(&out)
    );

    // SARIF of a clean scan: valid, no result.
    let out = rampart_scan(&[
        "--target", &target, "--class", "sqli", "--rate", "50", "--format", "sarif",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 0);
}

#[test]
fn xss_is_confirmed_in_json() {
    let shop = Shop::start("xss");
    let dir = TempDir::new("xss-out");
    let report = dir.0.join("report.json");
    let target = shop.url("/lab/vuln/greet?name=bob");
    let out = rampart_scan(&[
        "--target",
        &target,
        "--class",
        "xss",
        "--rate",
        "50",
        "--format",
        "json",
        "--output",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(out.stdout.is_empty(), "{}", show(&out));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(v["tool"], "rampart-scan");
    assert_eq!(v["summary"]["confirmed"], 1);
    let r = &v["results"][0];
    assert_eq!(r["report"]["verdict"], "confirmed", "{v:#}");
    assert_eq!(r["report"]["class"], "xss");
    assert_eq!(r["report"]["strategy"], "builtin:xss");
    assert_eq!(r["target"]["point"], "query.name");
    assert_eq!(r["target"]["original"], "bob");
    assert_eq!(r["url"], target.as_str());
    assert!(!r["report"]["evidence"].as_array().unwrap().is_empty());
    assert!(r["curl"][0]
        .as_str()
        .unwrap()
        .contains("/lab/vuln/greet?name="));
    assert!(r["remediation"].as_str().unwrap().contains("Encode"));
}

#[test]
fn a_script_replaces_the_strategies() {
    let shop = Shop::start("script");
    let dir = TempDir::new("script");
    let script = dir.0.join("trivial.rhai");
    std::fs::write(
        &script,
        "let r = baseline();\nnot_confirmed(\"trivial strategy saw HTTP \" + r.status)\n",
    )
    .unwrap();
    let target = shop.url("/lab/vuln/greet?name=bob");
    let out = rampart_scan(&["--target", &target, "--script", script.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        stdout.contains("[script:trivial.rhai, 1 request]"),
        "{}",
        show(&out)
    );
    assert!(
        stdout.contains("trivial strategy saw HTTP 200"),
        "{}",
        show(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[1/1] custom query.name ... not confirmed (1 request)"),
        "{}",
        show(&out)
    );

    // A script whose probe the guard refuses: nothing is sent, exit 2.
    let before = shop.dump();
    std::fs::write(
        &script,
        "send(\"x'; DELETE FROM products; --\");\nnot_confirmed(\"sent\")\n",
    )
    .unwrap();
    let target = shop.url("/lab/vuln/products?category=Books");
    let out = rampart_scan(&["--target", &target, "--script", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("refused custom:"), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refused by the scanner's safety checks"),
        "{}",
        show(&out)
    );
    assert_eq!(before, shop.dump());
}

#[test]
fn attacks_from_the_cloud_store_are_replayed() {
    let shop = Shop::start("attacks");
    let dir = TempDir::new("cloud");
    let db_url = format!("sqlite://{}?mode=rwc", dir.0.join("cloud.sqlite").display());
    shop.rt.block_on(async {
        let store = Store::connect(&db_url).await.unwrap();
        store.migrate().await.unwrap();
        let app = store.create_application("lab-shop").await.unwrap();
        let tok = store
            .create_enrollment_token(app.id, std::time::Duration::from_secs(60))
            .await
            .unwrap();
        let node = store
            .enroll_node(&tok.secret, "node-1", "1")
            .await
            .unwrap()
            .unwrap()
            .row
            .id;
        let ev = |id: &str, endpoint: &str, point: &str, class: &str, rule: &str, payload: &str| {
            NewAttackEvent {
                occurred_at: chrono::Utc::now(),
                endpoint: endpoint.into(),
                point: point.into(),
                class: class.into(),
                rule: rule.into(),
                score: 90,
                action: "block".into(),
                payload: payload.into(),
                request_id: id.into(),
            }
        };
        let events = [
            ev(
                "r1",
                "GET /lab/vuln/greet",
                "query.name",
                "xss",
                "xss-tag",
                "<script>alert(1)</script>",
            ),
            // The same attack again: one scan for both.
            ev(
                "r2",
                "GET /lab/vuln/greet",
                "query.name",
                "xss",
                "xss-tag",
                "<img src=x onerror=alert(1)>",
            ),
            // A class without a strategy: left out, with a note.
            ev(
                "r3",
                "GET /lab/",
                "header[\"user-agent\"]",
                "scanner",
                "sqlmap-ua",
                "sqlmap/1.7",
            ),
            // A state-changing method: not replayed.
            ev(
                "r4",
                "DELETE /api/users/{int}",
                "body:json.name",
                "xss",
                "xss-tag",
                "<script>",
            ),
            // As a fresh node reports it: words it has not seen from enough
            // clients are shaped, in the path and in the point.
            ev(
                "r5",
                "GET /{word}/{word}/{word}",
                "query.{word}:xml.{word}",
                "xss",
                "xss-js",
                "alert(1)",
            ),
        ];
        assert_eq!(store.insert_attack_events(node, &events).await.unwrap(), 5);
        store.close().await.unwrap();
    });
    let before = shop.dump();
    let out = rampart_scan(&[
        "--from-attacks",
        "--db",
        &db_url,
        "--target",
        &shop.url("/"),
        "--rate",
        "50",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["mode"], "attacks");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{v:#}");
    let r = &results[0];
    assert_eq!(r["report"]["verdict"], "confirmed", "{v:#}");
    assert_eq!(r["target"]["point"], "query.name");
    assert_eq!(r["target"]["path"], "/lab/vuln/greet");
    assert_eq!(r["attack"]["endpoints"][0], "GET /lab/vuln/greet");
    assert_eq!(r["attack"]["events"], 2);
    let notes = v["notes"].to_string();
    assert!(notes.contains("scanner (1)"), "{notes}");
    assert!(notes.contains("DELETE (1)"), "{notes}");
    assert!(notes.contains("query.{word}:xml.{word} (1)"), "{notes}");

    // The endpoint's URL as the target resolves the shaped event too: the
    // three events are one scan, at the target's own parameter value.
    let target = shop.url("/lab/vuln/greet?name=bob");
    let out = rampart_scan(&[
        "--from-attacks",
        "--db",
        &db_url,
        "--app",
        "lab-shop",
        "--target",
        &target,
        "--rate",
        "50",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("CONFIRMED xss (medium)"), "{}", show(&out));
    assert!(
        stdout.contains("attacks:     3 event(s) at GET /lab/vuln/greet, GET /{word}/{word}/{word} query.name, query.{word}:xml.{word}"),
        "{}",
        show(&out)
    );
    assert!(
        stdout.contains("Summary: 1 confirmed, 0 not confirmed"),
        "{}",
        show(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[1/1] xss GET /lab/vuln/greet?name=bob query.name ... confirmed"),
        "{}",
        show(&out)
    );
    assert_eq!(before, shop.dump());

    // Several applications and no --app: a clear error.
    shop.rt.block_on(async {
        let store = Store::connect(&db_url).await.unwrap();
        store.create_application("other").await.unwrap();
        store.close().await.unwrap();
    });
    let out = rampart_scan(&[
        "--from-attacks",
        "--db",
        &db_url,
        "--target",
        &shop.url("/"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("choose one with --app"),
        "{}",
        show(&out)
    );
}

#[test]
fn usage_errors_exit_2_and_send_nothing() {
    // No shop listens: any request would fail; these stop before sending.
    let cases: &[(&[&str], &str)] = &[
        (
            &["--target", "http://127.0.0.1:9/nothing"],
            "nothing to probe",
        ),
        (
            &[
                "--target",
                "http://127.0.0.1:9/a?id=1",
                "--method",
                "DELETE",
            ],
            "method DELETE is not scanned",
        ),
        (
            &["--target", "http://127.0.0.1:9/a?id=1", "--class", "nope"],
            "no strategy for class `nope`",
        ),
        (
            &["--target", "ftp://127.0.0.1/a?id=1"],
            "only http and https",
        ),
        (
            &["--target", "http://127.0.0.1:9/a?id=1", "--point", "query"],
            "--point query",
        ),
        (
            &[
                "--target",
                "http://127.0.0.1:9/a?id=1",
                "--oob-url",
                "ftp://x",
            ],
            "must be an http or https URL",
        ),
        (
            &[
                "--from-attacks",
                "--target",
                "http://127.0.0.1:9/",
                "--db",
                "sqlite:///nonexistent/rampart/cloud.sqlite?mode=rwc",
            ],
            "no cloud database at",
        ),
    ];
    for (args, message) in cases {
        let out = rampart_scan(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{}", show(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(message),
            "{args:?}\n{}",
            show(&out)
        );
    }
}
