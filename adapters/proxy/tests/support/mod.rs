//! Test support: a capturing upstream, a raw HTTP client, a node in-process.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rampart_core::{Engine, EngineConfig};
use rampart_proxy::{Node, NodeConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the upstream received it, bytes exactly.
#[derive(Debug, Clone)]
pub struct Captured {
    pub head: Vec<u8>,
    pub body: Vec<u8>,
}

/// An HTTP/1.1 upstream that records every request and answers 200 `ok`
/// (after `delay`, if set), keeping connections alive.
#[derive(Clone)]
pub struct Upstream {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Captured>>>,
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

fn content_length(head: &[u8]) -> Option<usize> {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    text.lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
}

fn is_chunked(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    text.lines()
        .any(|l| l.starts_with("transfer-encoding:") && l.contains("chunked"))
}

/// Reads one HTTP/1.1 message (head and body) from `buf`+`s`; returns None at EOF.
async fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Captured> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        let mut tmp = [0u8; 8192];
        let n = s.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = buf[..head_end].to_vec();
    buf.drain(..head_end);
    let body = if is_chunked(&head) {
        // Read until the terminating chunk, then de-chunk.
        loop {
            if find(buf, b"0\r\n\r\n").is_some() {
                break;
            }
            let mut tmp = [0u8; 8192];
            let n = s.read(&mut tmp).await.ok()?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&tmp[..n]);
        }
        let mut out = Vec::new();
        let mut rest: &[u8] = buf;
        while let Some(nl) = find(rest, b"\r\n") {
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap_or("0").trim(), 16)
                    .unwrap_or(0);
            rest = &rest[nl + 2..];
            if size == 0 {
                rest = rest.get(2..).unwrap_or_default();
                break;
            }
            out.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        let consumed = buf.len() - rest.len();
        buf.drain(..consumed);
        out
    } else {
        let n = content_length(&head).unwrap_or(0);
        while buf.len() < n {
            let mut tmp = [0u8; 65536];
            let r = s.read(&mut tmp).await.ok()?;
            if r == 0 {
                return None;
            }
            buf.extend_from_slice(&tmp[..r]);
        }
        buf.drain(..n).collect()
    };
    Some(Captured { head, body })
}

impl Upstream {
    pub async fn start(delay: Option<Duration>) -> Upstream {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = l.accept().await else {
                    return;
                };
                let seen = s2.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    while let Some(c) = read_request(&mut s, &mut buf).await {
                        seen.lock().unwrap().push(c.clone());
                        if let Some(d) = delay {
                            tokio::time::sleep(d).await;
                        }
                        // `X-Want-Status: N` asks for status N.
                        let status = String::from_utf8_lossy(&c.head)
                            .to_ascii_lowercase()
                            .lines()
                            .find_map(|l| {
                                l.strip_prefix("x-want-status:")
                                    .map(|v| v.trim().to_string())
                            })
                            .and_then(|v| v.parse::<u16>().ok())
                            .unwrap_or(200);
                        let resp = format!("HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nX-Upstream: yes\r\n\r\nok");
                        if s.write_all(resp.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Upstream { addr, seen }
    }

    pub fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

/// A response as read off the wire.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        let want = format!("{}:", name.to_ascii_lowercase());
        self.head.lines().find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with(&want)
                .then(|| l[want.len()..].trim().to_string())
        })
    }
}

/// Sends raw bytes on a new connection and reads the response until the
/// server closes (requests are sent with `Connection: close`).
pub async fn send_raw(addr: SocketAddr, raw: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(raw).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut buf)).await;
    let head_end = find(&buf, b"\r\n\r\n").map(|i| i + 4).unwrap_or(buf.len());
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Resp {
        status,
        head,
        body: buf[head_end..].to_vec(),
    }
}

/// A running node.
pub struct TestNode {
    pub addr: SocketAddr,
    pub admin: Option<SocketAddr>,
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub done: tokio::task::JoinHandle<anyhow::Result<()>>,
}

pub fn config(upstream: SocketAddr, mode: &str) -> NodeConfig {
    NodeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        upstream: format!("http://{upstream}"),
        admin_listen: Some("127.0.0.1:0".parse().unwrap()),
        mode: mode.to_string(),
        ..NodeConfig::default()
    }
}

pub async fn start_node(cfg: NodeConfig) -> TestNode {
    let reg = rampart_builtin_plugins::registry().unwrap();
    let engine = Engine::new(
        &reg,
        cfg.engine().unwrap_or_else(|_| EngineConfig::default()),
    )
    .unwrap();
    let node = Node::bind(cfg, engine).await.unwrap();
    let addr = node.local_addr().unwrap();
    let admin = node.admin_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(node.serve(async move {
        let _ = rx.await;
    }));
    TestNode {
        addr,
        admin,
        stop: tx,
        done,
    }
}

/// Parses a raw HTTP/1.1 head into (request line, headers in order).
pub fn split_head(head: &[u8]) -> (String, Vec<(String, Vec<u8>)>) {
    let text = &head[..head.len().saturating_sub(4)];
    let mut lines = text
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let headers = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let c = l.iter().position(|&b| b == b':').unwrap_or(l.len());
            let v = l.get(c + 1..).unwrap_or_default();
            let v = v.strip_prefix(b" ").unwrap_or(v);
            (String::from_utf8_lossy(&l[..c]).into_owned(), v.to_vec())
        })
        .collect();
    (first, headers)
}
