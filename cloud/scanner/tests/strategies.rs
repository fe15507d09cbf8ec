//! Each built-in strategy against a deliberately vulnerable handler
//! (Confirmed) and its patched twin (NotConfirmed), over real HTTP on
//! 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::process::Command;
use std::sync::Arc;

use common::*;
use rampart_scanner::{Scanner, Target, Verdict};

async fn scan(server: &TestServer, target: Target) -> rampart_scanner::ScanReport {
    let scanner = Scanner::new(config(&[server.allow()])).await.unwrap();
    let report = scanner.scan(&target).await;
    eprintln!("{}", serde_json::to_string_pretty(&report).unwrap());
    report
}

fn assert_confirmed(r: &rampart_scanner::ScanReport) {
    assert_eq!(r.verdict, Verdict::Confirmed, "{r:?}");
    assert!(!r.evidence.is_empty());
    assert!(r.error.is_none(), "{r:?}");
    assert!(r.requests_sent <= 60);
}

fn assert_not_confirmed(r: &rampart_scanner::ScanReport) {
    assert_eq!(r.verdict, Verdict::NotConfirmed, "{r:?}");
    assert!(r.error.is_none(), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqli_vulnerable_is_confirmed_and_patched_is_not() {
    let db = shop_db();
    let before = checksum(&db);
    let vuln = serve(sqli_handler(db.clone(), true, false)).await;
    let target = Target::new(
        vuln.base(),
        "GET",
        "/product",
        "query.id",
        "1' OR '1'='1",
        "sqli",
    )
    .with_original("1");
    let r = scan(&vuln, target).await;
    assert_confirmed(&r);
    assert_eq!(r.strategy, "builtin:sqli");
    assert!(r.summary.contains("boolean"), "{}", r.summary);
    assert!(
        r.evidence
            .iter()
            .any(|e| e.request.url.contains("%27%20AND%20%27")),
        "{:?}",
        r.evidence
    );
    assert!(r.evidence[0].response_excerpt.starts_with("HTTP 200"));
    assert_eq!(
        checksum(&db),
        before,
        "a SQL injection scan must not change the database"
    );

    let patched = serve(sqli_handler(db.clone(), false, false)).await;
    let target = Target::new(
        patched.base(),
        "GET",
        "/product",
        "query.id",
        "1' OR '1'='1",
        "sqli",
    )
    .with_original("1");
    let r = scan(&patched, target).await;
    assert_not_confirmed(&r);
    assert_eq!(checksum(&db), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xss_raw_reflection_is_confirmed_and_escaped_is_not() {
    let vuln = serve(blocking(|s| {
        Reply::html(format!(
            "<html><body><p>Results for {}</p></body></html>",
            s.q("q")
        ))
    }))
    .await;
    let r = scan(
        &vuln,
        Target::new(
            vuln.base(),
            "GET",
            "/search",
            "query.q",
            "<script>alert(1)</script>",
            "xss",
        ),
    )
    .await;
    assert_confirmed(&r);
    assert!(
        r.evidence[0].response_excerpt.contains("<rmp"),
        "{:?}",
        r.evidence
    );

    let patched = serve(blocking(|s| {
        Reply::html(format!(
            "<html><body><p>Results for {}</p><input value=\"{}\"></body></html>",
            html_escape(&s.q("q")),
            html_escape(&s.q("q"))
        ))
    }))
    .await;
    let r = scan(
        &patched,
        Target::new(
            patched.base(),
            "GET",
            "/search",
            "query.q",
            "<script>alert(1)</script>",
            "xss",
        ),
    )
    .await;
    assert_not_confirmed(&r);

    // Raw reflection, but not HTML: not executable.
    let json = serve(blocking(|s| Reply {
        content_type: "application/json",
        ..Reply::text(200, format!("{{\"q\":\"{}\"}}", s.q("q")))
    }))
    .await;
    let r = scan(
        &json,
        Target::new(json.base(), "GET", "/api", "query.q", "<script>", "xss"),
    )
    .await;
    assert_not_confirmed(&r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xss_attribute_breakout_is_confirmed() {
    let vuln = serve(blocking(|s| {
        Reply::html(format!(
            "<form><input name=q value=\"{}\"></form>",
            s.q("q").replace('<', "&lt;").replace('>', "&gt;")
        ))
    }))
    .await;
    let r = scan(
        &vuln,
        Target::new(
            vuln.base(),
            "GET",
            "/f",
            "query.q",
            "\" onfocus=alert(1) x=\"",
            "xss",
        ),
    )
    .await;
    assert_confirmed(&r);
    assert!(r.summary.contains("attribute"), "{}", r.summary);
}

fn traversal_root() -> std::path::PathBuf {
    let root = temp_dir("trav");
    std::fs::create_dir_all(root.join("public")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("public/hello.txt"), "hello\n").unwrap();
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1::/:/usr/sbin/nologin\n",
    )
    .unwrap();
    root
}

/// Joins `name` under `root/public` lexically; `..` may leave `public`
/// (the vulnerability) but never the sandbox `root`.
fn read_vulnerable(root: &std::path::Path, name: &str) -> Reply {
    let mut parts: Vec<&str> = vec!["public"];
    for seg in name.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Reply::text(403, "outside the sandbox");
                }
            }
            s => parts.push(s),
        }
    }
    let p = parts.iter().fold(root.to_path_buf(), |p, s| p.join(s));
    match std::fs::read_to_string(p) {
        Ok(s) => Reply::text(200, s),
        Err(_) => Reply::text(404, "no such file"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traversal_vulnerable_is_confirmed_and_patched_is_not() {
    let root = traversal_root();
    let _cleanup = DirGuard(root.clone());
    let r1 = root.clone();
    let vuln = serve(blocking(move |s| read_vulnerable(&r1, &s.q("name")))).await;
    let t = Target::new(
        vuln.base(),
        "GET",
        "/file",
        "query.name",
        "../../etc/passwd",
        "lfi",
    )
    .with_original("hello.txt");
    let r = scan(&vuln, t).await;
    assert_confirmed(&r);
    assert!(
        r.evidence[1].response_excerpt.contains("root:x:0:0"),
        "{:?}",
        r.evidence
    );

    let r2 = root.clone();
    let patched = serve(blocking(move |s| {
        let name = s.q("name");
        if name.contains("..") || name.starts_with('/') || name.contains('\\') {
            return Reply::text(400, "bad name");
        }
        read_vulnerable(&r2, &name)
    }))
    .await;
    let t = Target::new(
        patched.base(),
        "GET",
        "/file",
        "query.name",
        "../../etc/passwd",
        "path_traversal",
    )
    .with_original("hello.txt");
    let r = scan(&patched, t).await;
    assert_not_confirmed(&r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmdi_vulnerable_is_confirmed_and_patched_is_not() {
    let vuln = serve(blocking(|s| {
        let out = Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("echo {}", s.q("host")))
            .output()
            .unwrap();
        Reply::text(200, String::from_utf8_lossy(&out.stdout))
    }))
    .await;
    let r = scan(
        &vuln,
        Target::new(vuln.base(), "GET", "/ping", "query.host", ";id", "rce"),
    )
    .await;
    assert_confirmed(&r);
    assert!(r.summary.contains("computed product"), "{}", r.summary);

    let patched = serve(blocking(|s| {
        let out = Command::new("echo").arg(s.q("host")).output().unwrap();
        Reply::text(200, String::from_utf8_lossy(&out.stdout))
    }))
    .await;
    let r = scan(
        &patched,
        Target::new(patched.base(), "GET", "/ping", "query.host", ";id", "cmdi"),
    )
    .await;
    assert_not_confirmed(&r);
}

/// Template rendering that evaluates `{{a*b}}` wherever it appears.
fn render(t: &str) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(p) = rest.find("{{") {
        out.push_str(&rest[..p]);
        let after = &rest[p + 2..];
        let Some(e) = after.find("}}") else {
            out.push_str(&rest[p..]);
            return out;
        };
        let expr = after[..e].trim();
        let value = expr
            .split_once('*')
            .and_then(|(a, b)| Some(a.trim().parse::<i64>().ok()? * b.trim().parse::<i64>().ok()?));
        match value {
            Some(v) => out.push_str(&v.to_string()),
            None => out.push_str(&rest[p..p + 2 + e + 2]),
        }
        rest = &after[e + 2..];
    }
    out.push_str(rest);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssti_vulnerable_is_confirmed_and_patched_is_not() {
    let vuln = serve(blocking(|s| {
        Reply::html(render(&format!("<p>Hello {}</p>", s.q("name"))))
    }))
    .await;
    let r = scan(
        &vuln,
        Target::new(
            vuln.base(),
            "GET",
            "/hello",
            "query.name",
            "{{7*7}}",
            "ssti",
        ),
    )
    .await;
    assert_confirmed(&r);

    // The patched twin renders its own template, then inserts the value.
    let patched = serve(blocking(|s| {
        Reply::html(render("<p>Hello {{name}}</p>").replace("{{name}}", &html_escape(&s.q("name"))))
    }))
    .await;
    let r = scan(
        &patched,
        Target::new(
            patched.base(),
            "GET",
            "/hello",
            "query.name",
            "{{7*7}}",
            "ssti",
        ),
    )
    .await;
    assert_not_confirmed(&r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_vulnerable_is_confirmed_and_patched_is_not() {
    let vuln = serve(Arc::new(|s: Seen| -> BoxFut {
        Box::pin(async move {
            match http_get(&s.q("url")).await {
                Some(b) => Reply::text(200, format!("fetched {} bytes", b.len())),
                None => Reply::text(502, "fetch failed"),
            }
        })
    }))
    .await;
    let r = scan(
        &vuln,
        Target::new(
            vuln.base(),
            "GET",
            "/fetch",
            "query.url",
            "http://169.254.169.254/",
            "ssrf",
        ),
    )
    .await;
    assert_confirmed(&r);

    let patched = serve(blocking(|_| {
        Reply::text(400, "remote URLs are not allowed")
    }))
    .await;
    let r = scan(
        &patched,
        Target::new(
            patched.base(),
            "GET",
            "/fetch",
            "query.url",
            "http://169.254.169.254/",
            "ssrf",
        ),
    )
    .await;
    assert_not_confirmed(&r);
}

/// The SYSTEM identifiers of `<!ENTITY name SYSTEM "url">` and
/// `<!ENTITY % name SYSTEM "url">` declarations.
fn system_entities(doc: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = doc;
    while let Some(p) = rest.find("<!ENTITY") {
        rest = &rest[p + 8..];
        let decl = &rest[..rest.find('>').unwrap_or(rest.len())];
        if let Some(sp) = decl.find("SYSTEM") {
            let after = decl[sp + 6..].trim_start();
            if let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') {
                if let Some(end) = after[1..].find(q) {
                    out.push(after[1..1 + end].to_string());
                }
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xxe_vulnerable_is_confirmed_and_patched_is_not() {
    let vuln = serve(Arc::new(|s: Seen| -> BoxFut {
        Box::pin(async move {
            for url in system_entities(&s.body) {
                let _ = http_get(&url).await;
            }
            Reply {
                content_type: "application/xml",
                ..Reply::text(200, "<ok/>")
            }
        })
    }))
    .await;
    let r = scan(
        &vuln,
        Target::new(
            vuln.base(),
            "POST",
            "/orders",
            "body",
            "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>",
            "xxe",
        ),
    )
    .await;
    assert_confirmed(&r);
    assert_eq!(r.evidence[0].request.method, "POST");
    assert!(r.evidence[0]
        .request
        .body
        .as_deref()
        .unwrap_or("")
        .contains("<!ENTITY"));
    assert!(r.evidence[0]
        .request
        .headers
        .iter()
        .any(|(k, v)| k == "content-type" && v == "application/xml"));

    let patched = serve(blocking(|_| Reply {
        content_type: "application/xml",
        ..Reply::text(200, "<ok/>")
    }))
    .await;
    let r = scan(
        &patched,
        Target::new(
            patched.base(),
            "POST",
            "/orders",
            "body:xml.order.note",
            "<!DOCTYPE x>",
            "xxe",
        ),
    )
    .await;
    assert_not_confirmed(&r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blind_command_injection_is_confirmed_by_calibrated_timing() {
    // The output never reaches the response: only the time-based probe can tell.
    let vuln = serve(blocking(|s| {
        let _ = Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("echo {} >/dev/null", s.q("host")))
            .output();
        Reply::text(200, "done")
    }))
    .await;
    let r = scan(
        &vuln,
        Target::new(
            vuln.base(),
            "GET",
            "/ping",
            "query.host",
            "$(sleep 5)",
            "cmdi",
        ),
    )
    .await;
    assert_confirmed(&r);
    assert!(r.summary.contains("time-based"), "{}", r.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xxe_through_a_parameter_entity_only_is_confirmed() {
    // A parser that expands only parameter entities (DTD processing on,
    // general external entities off).
    let vuln = serve(Arc::new(|s: Seen| -> BoxFut {
        Box::pin(async move {
            if s.body.contains("<!ENTITY %") {
                for url in system_entities(&s.body) {
                    let _ = http_get(&url).await;
                }
            }
            Reply {
                content_type: "application/xml",
                ..Reply::text(200, "<ok/>")
            }
        })
    }))
    .await;
    let t = Target::new(
        vuln.base(),
        "POST",
        "/orders",
        "body:xml.order",
        "<!DOCTYPE x>",
        "xxe",
    );
    let r = scan(&vuln, t).await;
    assert_confirmed(&r);
    assert!(r.summary.contains("parameter entity"), "{}", r.summary);
}
