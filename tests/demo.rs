//! `rampart demo`: the README's first command starts the shop behind a node,
//! prints working URLs, serves through the node, and stops cleanly on SIGTERM.

// Test helpers outside `#[test]` functions unwrap and panic too, and tests
// read whole responses.
#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

fn get(url_base: &str, path: &str) -> (u16, String) {
    let hostport = url_base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = TcpStream::connect(hostport).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let status = buf
        .split(' ')
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    (status, buf)
}

#[test]
fn demo_serves_the_shop_through_the_node() {
    let data = std::env::temp_dir().join(format!("rampart-demo-test-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--shop-listen",
            "127.0.0.1:0",
            "--admin",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut urls = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(i) = line.find("http://") {
            urls.push(line[i..].split_whitespace().next().unwrap().to_string());
        }
        if line.contains("Ctrl-C stops") {
            break;
        }
    }
    let (protected, direct, health) = (&urls[0], &urls[1], &urls[2]);
    let (status, body) = get(protected, "/");
    assert_eq!(status, 200);
    assert!(body.contains("Rampart Demo Shop"));
    let (status, body) = get(protected, "/api/products?q=head&limit=3");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"name\""));
    assert_eq!(get(direct, "/").0, 200);
    let (status, body) = get(health.trim_end_matches("/healthz"), "/healthz");
    assert_eq!(status, 200);
    assert!(body.contains("\"mode\":\"block\""));
    // SIGTERM: graceful shutdown, exit status 0.
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&data);
}
