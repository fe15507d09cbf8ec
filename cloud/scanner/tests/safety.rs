//! Safety properties of the scanner, over real HTTP on 127.0.0.1: the
//! allowlist, the sandbox's limits, the non-destructive guard, the request
//! budget, credential stripping, redirects, methods and a SQLite database
//! left unchanged by a SQL injection scan.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use rampart_scanner::{curl_command, Scanner, ScannerConfig, Target, Verdict};
use std::collections::BTreeMap;

fn ok_server() -> Handler {
    blocking(|_| Reply::html("<p>ok</p>"))
}

/// A scanner whose user strategy for class `probe` is `script` (the folder
/// goes when the scanner does).
struct ScriptScanner {
    scanner: Scanner,
    _dir: DirGuard,
}

impl std::ops::Deref for ScriptScanner {
    type Target = Scanner;
    fn deref(&self) -> &Scanner {
        &self.scanner
    }
}

async fn scanner_with_script(cfg: ScannerConfig, script: &str) -> ScriptScanner {
    let dir = temp_dir("strategies");
    std::fs::write(dir.join("probe.rhai"), script).unwrap();
    let scanner = Scanner::new(ScannerConfig {
        strategies_dir: Some(dir.clone()),
        ..cfg
    })
    .await
    .unwrap();
    ScriptScanner {
        scanner,
        _dir: DirGuard(dir),
    }
}

fn probe_target(s: &TestServer) -> Target {
    Target::new(s.base(), "GET", "/p", "query.q", "x", "probe")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_not_allowlisted_is_refused_and_receives_nothing() {
    let server = serve(ok_server()).await;
    // Same host, other port; and the same address under another name.
    for allow in [
        vec!["127.0.0.1:1".to_string()],
        vec![format!("localhost:{}", server.addr.port())],
        vec![],
    ] {
        let scanner = Scanner::new(config(&allow)).await.unwrap();
        for class in ["sqli", "xss", "cmdi", "ssrf", "xxe", "traversal", "ssti"] {
            let t = Target::new(server.base(), "GET", "/p", "query.q", "x", class);
            let r = scanner.scan(&t).await;
            assert_eq!(r.verdict, Verdict::Refused, "{r:?}");
            assert_eq!(r.requests_sent, 0);
            assert!(
                r.error
                    .as_deref()
                    .unwrap()
                    .contains(&format!("127.0.0.1:{}", server.addr.port())),
                "{r:?}"
            );
        }
        assert!(!scanner.is_allowed(&server.base()));
    }
    // A strategy cannot reach a host outside the allowlist either.
    let other = serve(ok_server()).await;
    let scanner = scanner_with_script(
        config(&[server.allow()]),
        "let r = send_at(\"header[\\\"x-a\\\"]\", \"1\"); confirmed([])",
    )
    .await;
    let r = scanner
        .scan(&Target::new(
            other.base(),
            "GET",
            "/p",
            "query.q",
            "x",
            "probe",
        ))
        .await;
    assert_eq!(r.verdict, Verdict::Refused);
    assert_eq!(
        server.count(),
        0,
        "the server must not receive a single request"
    );
    assert_eq!(other.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_loop_is_stopped_by_the_sandbox() {
    let server = serve(ok_server()).await;
    // Operations limit.
    let scanner = scanner_with_script(config(&[server.allow()]), "loop { }").await;
    let r = scanner.scan(&probe_target(&server)).await;
    assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
    assert!(r.error.as_deref().unwrap().contains("operations"), "{r:?}");
    assert!(r.strategy.starts_with("user:"), "{r:?}");

    // Wall time: few operations, each slow (waiting on the listener).
    let cfg = ScannerConfig {
        script_max_operations: 1_000_000_000_000,
        script_timeout_ms: 1_500,
        ..config(&[server.allow()])
    };
    let scanner = scanner_with_script(cfg, "loop { oob_hits(\"nothing\", 100); }").await;
    let r = scanner.scan(&probe_target(&server)).await;
    assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
    assert!(r.error.as_deref().unwrap().contains("wall time"), "{r:?}");

    // Deep recursion and huge strings are limits too, not crashes.
    let scanner = scanner_with_script(config(&[server.allow()]), "fn f(x) { f(x + 1) } f(0)").await;
    let r = scanner.scan(&probe_target(&server)).await;
    assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
    let scanner =
        scanner_with_script(config(&[server.allow()]), "let s = \"x\"; loop { s += s; }").await;
    let r = scanner.scan(&probe_target(&server)).await;
    assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
    assert_eq!(server.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eval_and_imports_are_not_available() {
    let server = serve(ok_server()).await;
    for script in [
        "eval(\"1\")",
        "import \"os\" as os; 1",
        "let f = open_file(\"/etc/passwd\"); 1",
    ] {
        let scanner = scanner_with_script(config(&[server.allow()]), script).await;
        let r = scanner.scan(&probe_target(&server)).await;
        assert_eq!(r.verdict, Verdict::Inconclusive, "{script}: {r:?}");
        assert!(r.error.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_refuses_destructive_probes_before_sending() {
    let db = shop_db();
    let before = checksum(&db);
    let server = serve(sqli_handler(db.clone(), true, false)).await;
    let t = Target::new(server.base(), "GET", "/product", "query.id", "1", "probe");
    for (probe, what) in [("'; DROP TABLE users; --", "DROP"), ("; rm -rf /", "rm")] {
        let script = format!("let r = send({probe:?}); confirmed(evidence(\"x\", r, \"\"))");
        let scanner = scanner_with_script(config(&[server.allow()]), &script).await;
        let r = scanner.scan(&t).await;
        assert_eq!(r.verdict, Verdict::Refused, "{r:?}");
        let e = r.error.unwrap();
        assert!(
            e.contains("non-destructive guard") && e.contains(what),
            "{e}"
        );
        assert_eq!(r.requests_sent, 0);
        // Catching the error does not turn the refusal into "not confirmed".
        let script =
            format!("try {{ send({probe:?}); }} catch (e) {{ }} not_confirmed(\"nothing\")");
        let scanner = scanner_with_script(config(&[server.allow()]), &script).await;
        let r = scanner.scan(&t).await;
        assert_eq!(r.verdict, Verdict::Refused, "{r:?}");
    }
    assert_eq!(server.count(), 0);
    assert_eq!(checksum(&db), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_budget_holds() {
    let server = serve(ok_server()).await;
    let cfg = ScannerConfig {
        max_requests: 5,
        ..config(&[server.allow()])
    };
    let scanner = scanner_with_script(cfg.clone(), "loop { send(\"1\"); }").await;
    let r = scanner.scan(&probe_target(&server)).await;
    assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
    assert!(
        r.error.as_deref().unwrap().contains("budget exhausted"),
        "{r:?}"
    );
    assert_eq!(r.requests_sent, 5);
    assert_eq!(server.count(), 5);

    // A strategy that swallows the error still ends inconclusive.
    let scanner = scanner_with_script(
        cfg.clone(),
        "for i in 0..50 { try { send(\"1\"); } catch { } } not_confirmed(\"x\")",
    )
    .await;
    let r = scanner.scan(&probe_target(&server)).await;
    assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
    assert_eq!(server.count(), 10);

    // A built-in strategy hits the cap on a patched endpoint.
    let db = shop_db();
    let patched = serve(sqli_handler(db, false, false)).await;
    let scanner = Scanner::new(ScannerConfig {
        max_requests: 7,
        ..config(&[patched.allow()])
    })
    .await
    .unwrap();
    let r = scanner
        .scan(&Target::new(
            patched.base(),
            "GET",
            "/product",
            "query.id",
            "1'",
            "sqli",
        ))
        .await;
    assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
    assert!(r.error.as_deref().unwrap().contains("budget exhausted"));
    assert_eq!(patched.count(), 7);
}

fn header_target(s: &TestServer) -> Target {
    probe_target(s)
        .with_param("header[\"authorization\"]", "Bearer secret-from-event")
        .with_param("header[\"x-api-key\"]", "k")
        .with_param("header[\"x-session-token\"]", "t")
        .with_param("cookie.sid", "abc")
        .with_param("header[\"x-shop\"]", "kept")
}

const ONE_SEND: &str = "let r = send(\"1\"); confirmed(evidence(\"x\", r, \"\"))";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_stripped_unless_configured() {
    let server = serve(ok_server()).await;
    let scanner = scanner_with_script(config(&[server.allow()]), ONE_SEND).await;
    let r = scanner.scan(&header_target(&server)).await;
    assert_eq!(r.verdict, Verdict::Confirmed, "{r:?}");
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    for h in ["cookie", "authorization", "x-api-key", "x-session-token"] {
        assert!(
            seen[0].header(h).is_none(),
            "{h} must be stripped: {:?}",
            seen[0].headers
        );
    }
    assert_eq!(seen[0].header("x-shop").as_deref(), Some("kept"));

    // With test credentials: they are sent, and redacted in the report.
    let mut creds = BTreeMap::new();
    creds.insert("Cookie".to_string(), "session=test-user".to_string());
    creds.insert("Authorization".to_string(), "Bearer test-token".to_string());
    let cfg = ScannerConfig {
        test_credentials: Some(creds),
        ..config(&[server.allow()])
    };
    let scanner = scanner_with_script(cfg, ONE_SEND).await;
    let r = scanner.scan(&header_target(&server)).await;
    let seen = server.requests();
    let last = seen.last().unwrap();
    assert_eq!(
        last.header("authorization").as_deref(),
        Some("Bearer test-token")
    );
    assert_eq!(
        last.header("cookie").as_deref(),
        Some("session=test-user; sid=abc")
    );
    let req = &r.evidence[0].request;
    assert!(
        req.headers
            .contains(&("authorization".to_string(), "<redacted>".to_string())),
        "{req:?}"
    );
    let curl = curl_command(req);
    assert!(
        !curl.contains("test-token") && !curl.contains("test-user"),
        "{curl}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probed_cookie_or_header_is_kept() {
    let server = serve(ok_server()).await;
    let scanner = scanner_with_script(config(&[server.allow()]), ONE_SEND).await;
    let t = Target::new(server.base(), "GET", "/p", "cookie.sid", "x", "probe")
        .with_param("cookie.other", "secret");
    scanner.scan(&t).await;
    let t = Target::new(
        server.base(),
        "GET",
        "/p",
        "header[\"x-auth-token\"]",
        "x",
        "probe",
    );
    scanner.scan(&t).await;
    let seen = server.requests();
    assert_eq!(seen[0].header("cookie").as_deref(), Some("sid=1"));
    assert_eq!(seen[1].header("x-auth-token").as_deref(), Some("1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_not_followed() {
    let server = serve(blocking(|s| {
        if s.path == "/r" {
            Reply {
                status: 302,
                location: Some("/elsewhere".into()),
                ..Reply::text(302, "")
            }
        } else {
            Reply::text(200, "elsewhere")
        }
    }))
    .await;
    let scanner = scanner_with_script(
        config(&[server.allow()]),
        "let r = send(\"1\"); if r.status == 302 { not_confirmed(\"302\") } else { confirmed([]) }",
    )
    .await;
    let r = scanner
        .scan(&Target::new(
            server.base(),
            "GET",
            "/r",
            "query.q",
            "x",
            "probe",
        ))
        .await;
    assert_eq!(r.verdict, Verdict::NotConfirmed, "{r:?}");
    assert_eq!(server.count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_outside_the_configuration_are_refused() {
    let server = serve(ok_server()).await;
    let scanner = Scanner::new(config(&[server.allow()])).await.unwrap();
    for m in ["DELETE", "PUT", "PATCH"] {
        let r = scanner
            .scan(&Target::new(server.base(), m, "/p", "query.q", "x", "sqli"))
            .await;
        assert_eq!(r.verdict, Verdict::Refused, "{r:?}");
    }
    assert_eq!(server.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_points_and_unknown_classes_are_reported_not_fatal() {
    let server = serve(ok_server()).await;
    let scanner = Scanner::new(config(&[server.allow()])).await.unwrap();
    let r = scanner
        .scan(&Target::new(
            server.base(),
            "GET",
            "/p",
            "query.q:base64",
            "x",
            "sqli",
        ))
        .await;
    assert_eq!(r.verdict, Verdict::Inconclusive);
    assert!(r.error.unwrap().contains("unsupported point"));
    let r = scanner
        .scan(&Target::new(
            server.base(),
            "GET",
            "/p",
            "path[4]",
            "x",
            "sqli",
        ))
        .await;
    assert_eq!(r.verdict, Verdict::Inconclusive);
    let r = scanner
        .scan(&Target::new(
            server.base(),
            "GET",
            "/p",
            "query.q",
            "x",
            "ldap",
        ))
        .await;
    assert_eq!(r.verdict, Verdict::Inconclusive);
    assert_eq!(r.error.unwrap(), "no strategy for class ldap");
    assert!(!scanner.has_strategy("ldap"));
    assert!(scanner.has_strategy("rce") && scanner.has_strategy("lfi"));
    assert_eq!(server.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqli_scans_leave_the_database_unchanged() {
    let db = shop_db();
    let before = checksum(&db);
    let vuln = serve(sqli_handler(db.clone(), true, false)).await;
    let scanner = Scanner::new(config(&[vuln.allow()])).await.unwrap();
    let r = scanner
        .scan(
            &Target::new(
                vuln.base(),
                "GET",
                "/product",
                "query.id",
                "1'; DROP TABLE users; --",
                "sqli",
            )
            .with_original("2"),
        )
        .await;
    assert_eq!(r.verdict, Verdict::Confirmed, "{r:?}");
    // Blind: only the (read-only) heavy count can tell.
    let blind = serve(sqli_handler(db.clone(), true, true)).await;
    let scanner = Scanner::new(config(&[blind.allow()])).await.unwrap();
    let r = scanner
        .scan(&Target::new(
            blind.base(),
            "GET",
            "/product",
            "query.id",
            "1' OR 1=1 --",
            "sqli",
        ))
        .await;
    eprintln!("{r:?}");
    assert_eq!(r.verdict, Verdict::Confirmed, "{r:?}");
    assert!(r.summary.contains("time-based"));
    assert_eq!(checksum(&db), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scanners_are_cheap_to_share() {
    let server = serve(ok_server()).await;
    let scanner = Scanner::new(config(&[server.allow()])).await.unwrap();
    let t = Target::new(server.base(), "GET", "/search", "query.q", "<b>", "xss");
    let a = tokio::spawn({
        let s = scanner.clone();
        let t = t.clone();
        async move { s.scan(&t).await }
    });
    let b = scanner.scan(&t).await;
    let a = a.await.unwrap();
    assert_eq!(a.verdict, Verdict::NotConfirmed);
    assert_eq!(b.verdict, Verdict::NotConfirmed);
}
