//! End to end with Debian's real HAProxy 2.6: the shipped
//! examples/haproxy/haproxy.cfg and spoe-rampart.conf, unchanged, started
//! with `haproxy -f ... -db` on 127.0.0.1 with the agent and an echo
//! backend of the test's own (hyper). Attacks get 403, benign requests
//! reach the backend byte-identical, bodies over the limit get 413, the
//! monitor agent passes attacks, and a missing agent follows the fail mode.
//!
//! Without the haproxy binary the test is skipped with a notice, unless
//! RAMPART_REQUIRE_SERVERS=1 (CI), where it fails.

#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

mod common;

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// `$HAPROXY` when set (missing when that file does not exist), else
/// `haproxy` in PATH, /usr/sbin or /usr/local/sbin.
fn haproxy_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HAPROXY") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|d| d.join("haproxy"))
        .find(|p| p.is_file())
}

/// The haproxy binary, or None (skip) when it is missing and not required.
fn haproxy_or_skip() -> Option<PathBuf> {
    match haproxy_binary() {
        Some(p) => Some(p),
        None if std::env::var("RAMPART_REQUIRE_SERVERS").as_deref() == Ok("1") => panic!(
            "haproxy is not installed (apt-get install haproxy) and RAMPART_REQUIRE_SERVERS=1"
        ),
        None => {
            eprintln!(
                "SKIPPED: the HAProxy end-to-end test needs haproxy (apt-get install haproxy)"
            );
            None
        }
    }
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/haproxy")
}

fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
}

/// The echo backend: answers `METHOD URI\n`, the headers as `name: value`
/// lines, an empty line, then the body, byte for byte.
fn echo_backend() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(l.local_addr().expect("addr")).expect("send");
            loop {
                let Ok((s, _)) = l.accept().await else {
                    continue;
                };
                tokio::spawn(async move {
                    let svc = service_fn(|req: hyper::Request<Incoming>| async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let mut out = format!("{} {}\n", parts.method, parts.uri).into_bytes();
                        for (k, v) in &parts.headers {
                            out.extend_from_slice(k.as_str().as_bytes());
                            out.extend_from_slice(b": ");
                            out.extend_from_slice(v.as_bytes());
                            out.push(b'\n');
                        }
                        out.push(b'\n');
                        out.extend_from_slice(&body);
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(out))))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(s), svc)
                        .await;
                });
            }
        });
    });
    rx.recv().expect("backend address")
}

/// A running haproxy, killed (by its PID) when dropped.
struct Haproxy {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts haproxy on the shipped configuration, with the addresses given
/// through its environment variables.
fn start_haproxy(
    bin: &Path,
    dir: &Path,
    name: &str,
    backend: SocketAddr,
    agent: SocketAddr,
    on_error: Option<&str>,
) -> Haproxy {
    let addr = free_port();
    let log = dir.join(format!("{name}.log"));
    let out = std::fs::File::create(&log).expect("log file");
    let mut cmd = Command::new(bin);
    cmd.arg("-f")
        .arg(examples().join("haproxy.cfg"))
        .arg("-db")
        .env("RAMPART_FRONTEND", addr.to_string())
        .env("RAMPART_UPSTREAM", backend.to_string())
        .env("RAMPART_SPOA", agent.to_string())
        .env("RAMPART_SPOE_CONF", examples().join("spoe-rampart.conf"))
        .env_remove("RAMPART_ON_ERROR")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("log"))
        .stderr(out);
    if let Some(m) = on_error {
        cmd.env("RAMPART_ON_ERROR", m);
    }
    let child = cmd.spawn().expect("haproxy starts");
    Haproxy { child, addr, log }
}

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one raw HTTP/1.1 request (with `Connection: close`) and reads the
/// response to the end of the connection.
fn send(addr: SocketAddr, head: &str, body: &[u8]) -> Option<Response> {
    let mut s = TcpStream::connect(addr).ok()?;
    // Only so that a broken setup fails the test instead of hanging it.
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let mut req = head.replace('\n', "\r\n").into_bytes();
    req.extend_from_slice(b"Connection: close\r\n\r\n");
    req.extend_from_slice(body);
    s.write_all(&req).ok()?;
    let mut raw = Vec::new();
    // Bounded read: the largest response here is a 64 KiB echo.
    s.take(16 << 20).read_to_end(&mut raw).ok()?;
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Some(Response {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    })
}

fn get(addr: SocketAddr, target: &str, extra: &str) -> Response {
    send(
        addr,
        &format!("GET {target} HTTP/1.1\nHost: shop.test\n{extra}"),
        b"",
    )
    .expect("response")
}

fn post(addr: SocketAddr, target: &str, ctype: &str, body: &[u8]) -> Response {
    send(
        addr,
        &format!(
            "POST {target} HTTP/1.1\nHost: shop.test\nContent-Type: {ctype}\nContent-Length: {}\n",
            body.len()
        ),
        body,
    )
    .expect("response")
}

/// A chunked POST (no Content-Length): HAProxy can only tell the agent
/// what it buffered.
fn post_chunked(addr: SocketAddr, target: &str, body: &[u8]) -> Response {
    let mut b = Vec::new();
    for c in body.chunks(8192) {
        b.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        b.extend_from_slice(c);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(b"0\r\n\r\n");
    send(
        addr,
        &format!("POST {target} HTTP/1.1\nHost: shop.test\nTransfer-Encoding: chunked\n"),
        &b,
    )
    .expect("response")
}

/// Waits until haproxy answers through the agent: a benign request passes
/// with the request id the agent gave (set as a header by haproxy.cfg).
fn wait_ready(h: &Haproxy) {
    for _ in 0..300 {
        if let Some(r) = send(h.addr, "GET /ready HTTP/1.1\nHost: shop.test\n", b"") {
            if r.status == 200 && r.body.windows(14).any(|w| w == b"x-request-id: ") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = std::fs::read_to_string(&h.log).unwrap_or_default();
    panic!("haproxy did not come up with the agent; its log:\n{log}");
}

/// The echo of a request that passed: the request line, header lines and
/// the body as the backend received them.
struct Echo {
    line: String,
    headers: Vec<String>,
    body: Vec<u8>,
}

fn echo(r: &Response) -> Echo {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let end = r
        .body
        .windows(2)
        .position(|w| w == b"\n\n")
        .expect("echo head");
    let head = String::from_utf8_lossy(&r.body[..end]).into_owned();
    let mut lines = head.lines().map(str::to_string);
    Echo {
        line: lines.next().unwrap_or_default(),
        headers: lines.collect(),
        body: r.body[end + 2..].to_vec(),
    }
}

const SQLI: &str = "1'%20union%20select%20password%20from%20users--";

/// Requests that must be blocked, by where the attack is.
fn attacks(addr: SocketAddr) -> Vec<(&'static str, Response)> {
    vec![
        ("query", get(addr, &format!("/search?q={SQLI}"), "")),
        ("query-xss", get(addr, "/?q=%3Cscript%3Ealert(1)%3C/script%3E", "")),
        ("path", get(addr, "/files/..%2f..%2f..%2fetc%2fpasswd", "")),
        (
            "header",
            get(addr, "/", "User-Agent: <script>alert(1)</script>\n"),
        ),
        (
            "cookie",
            get(
                addr,
                "/",
                "Cookie: session=1' union select password from users--\n",
            ),
        ),
        (
            "form",
            post(
                addr,
                "/comment",
                "application/x-www-form-urlencoded",
                b"name=bob&text=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            ),
        ),
        (
            "json",
            post(
                addr,
                "/api",
                "application/json",
                br#"{"q":"1' union select password from users--"}"#,
            ),
        ),
        (
            "multipart",
            post(
                addr,
                "/upload",
                "multipart/form-data; boundary=XyZ",
                b"--XyZ\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n<script>alert(1)</script>\r\n--XyZ--\r\n",
            ),
        ),
        (
            "xml",
            post(
                addr,
                "/x",
                "application/xml",
                br#"<?xml version="1.0"?><!DOCTYPE f [<!ENTITY x SYSTEM "file:///etc/passwd">]><f>&x;</f>"#,
            ),
        ),
        ("body-tail", {
            let mut b = b"pad=".to_vec();
            b.extend(std::iter::repeat_n(b'a', 60_000));
            b.extend_from_slice(b"&q=1%27%20union%20select%20password%20from%20users--");
            post(addr, "/big", "application/x-www-form-urlencoded", &b)
        }),
    ]
}

fn text_body(n: usize) -> Vec<u8> {
    b"lorem ipsum dolor sit amet consectetur adipiscing elit "
        .iter()
        .copied()
        .cycle()
        .take(n)
        .collect()
}

#[test]
fn haproxy_with_the_rampart_agent() {
    let Some(bin) = haproxy_or_skip() else {
        return;
    };
    let dir = common::temp_dir("haproxy");
    let backend = echo_backend();
    let block_agent = common::agent(common::guard("block"), None);
    let monitor_agent = common::agent(common::guard("block"), Some(rampart_spoa::Mode::Monitor));
    let block = start_haproxy(&bin, &dir, "block", backend, block_agent.addr, None);
    let monitor = start_haproxy(&bin, &dir, "monitor", backend, monitor_agent.addr, None);
    wait_ready(&block);
    wait_ready(&monitor);
    let a = block.addr;

    // Benign traffic reaches the backend byte-identical.
    let e = echo(&get(
        a,
        "/search?q=running+shoes&page=2&sort=price%20asc",
        "X-Custom: Hello, World\nAccept: text/html\n",
    ));
    assert_eq!(
        e.line,
        "GET /search?q=running+shoes&page=2&sort=price%20asc"
    );
    assert!(
        e.headers.iter().any(|h| h == "x-custom: Hello, World"),
        "{:?}",
        e.headers
    );
    assert!(e.headers.iter().any(|h| h == "host: shop.test"));
    assert!(e.headers.iter().any(|h| h.starts_with("x-request-id: ")));
    assert!(e.body.is_empty());

    let form = b"name=alice&comment=nice+shoes%2C+thanks";
    let e = echo(&post(
        a,
        "/comment",
        "application/x-www-form-urlencoded",
        form,
    ));
    assert_eq!(e.line, "POST /comment");
    assert_eq!(e.body, form);

    let json = br#"{"name":"Alice","items":[1,2,3],"note":"hello world"}"#;
    assert_eq!(echo(&post(a, "/api", "application/json", json)).body, json);

    let binary: Vec<u8> = (0..=255u8).cycle().take(16 * 1024).collect();
    let e = echo(&post(a, "/bin", "application/octet-stream", &binary));
    assert_eq!(e.body, binary);

    // Exactly the body limit passes, with and without Content-Length.
    let limit = text_body(common::BODY_LIMIT);
    assert_eq!(echo(&post(a, "/t", "text/plain", &limit)).body, limit);
    assert_eq!(echo(&post_chunked(a, "/t", &limit)).body, limit);

    // Attacks in each part of a request: 403 with the block page.
    for (what, r) in attacks(a) {
        assert_eq!(
            r.status,
            403,
            "{what}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let id = r.header("x-request-id").expect("request id").to_string();
        assert_eq!(r.header("content-type"), Some("application/json"), "{what}");
        let page = String::from_utf8_lossy(&r.body);
        assert!(
            page.contains("\"error\":\"blocked\"") && page.contains(&id),
            "{what}: {page}"
        );
    }
    // The HTML page for a browser.
    let r = get(a, &format!("/search?q={SQLI}"), "Accept: text/html\n");
    assert_eq!(r.status, 403);
    assert!(r
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/html"));
    assert!(String::from_utf8_lossy(&r.body).starts_with("<!doctype html><html>"));

    // Bodies over the limit: 413, by Content-Length or by what arrived.
    let over = text_body(common::BODY_LIMIT + 1);
    let r = post(a, "/t", "text/plain", &over);
    assert_eq!(r.status, 413);
    assert!(String::from_utf8_lossy(&r.body).contains("body_too_large"));
    assert_eq!(post_chunked(a, "/t", &over).status, 413);
    assert_eq!(post_chunked(a, "/t", &text_body(200_000)).status, 413);

    // Many requests at once: HAProxy pipelines them on its agent
    // connections; each gets its own verdict.
    let threads: Vec<_> = (0..16)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..10 {
                    if (t + i) % 2 == 0 {
                        let r = get(a, &format!("/search?q={SQLI}&t={t}&i={i}"), "");
                        assert_eq!(r.status, 403);
                    } else {
                        let body = format!("thread={t}&i={i}");
                        let e = echo(&post(
                            a,
                            "/c",
                            "application/x-www-form-urlencoded",
                            body.as_bytes(),
                        ));
                        assert_eq!(e.body, body.as_bytes());
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }

    // Monitor mode: the same attacks pass to the backend unchanged.
    for (what, r) in attacks(monitor.addr) {
        assert_eq!(r.status, 200, "{what} in monitor mode");
    }
    let e = echo(&get(monitor.addr, &format!("/search?q={SQLI}"), ""));
    assert_eq!(e.line, format!("GET /search?q={SQLI}"));
}

#[test]
fn a_missing_agent_follows_the_fail_mode() {
    let Some(bin) = haproxy_or_skip() else {
        return;
    };
    let dir = common::temp_dir("haproxy-down");
    let backend = echo_backend();
    // Nothing listens there.
    let nowhere = free_port();
    let open = start_haproxy(&bin, &dir, "open", backend, nowhere, None);
    let closed = start_haproxy(&bin, &dir, "closed", backend, nowhere, Some("closed"));
    // Fail open: the request passes, uninspected (no request id).
    let mut passed = None;
    for _ in 0..300 {
        if let Some(r) = send(open.addr, "GET /?q=1 HTTP/1.1\nHost: shop.test\n", b"") {
            passed = Some(r);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = passed.expect("haproxy answers");
    let e = echo(&r);
    assert_eq!(e.line, "GET /?q=1");
    assert!(!e.headers.iter().any(|h| h.starts_with("x-request-id")));
    // Fail closed: 503.
    let mut refused = None;
    for _ in 0..300 {
        if let Some(r) = send(closed.addr, "GET /?q=1 HTTP/1.1\nHost: shop.test\n", b"") {
            refused = Some(r);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(refused.expect("haproxy answers").status, 503);
}
