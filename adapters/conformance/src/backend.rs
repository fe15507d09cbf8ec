//! The echo backend: the application behind the server under test. It
//! records every request it receives exactly as it arrived (raw HTTP/1.1
//! over TCP, no HTTP library in between to tidy it up) under the marker
//! the suite put in `X-Conformance-Marker`, and answers 200 with a body
//! that names the marker.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the backend received it.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub method: String,
    pub target: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body, de-chunked when it came chunked.
    pub body: Vec<u8>,
}

/// The body the backend answers with for a marker.
pub fn answer(marker: &str) -> Vec<u8> {
    format!("conformance-echo {marker}\n").into_bytes()
}

/// A running echo backend.
#[derive(Debug)]
pub struct Echo {
    addr: SocketAddr,
    seen: Arc<Mutex<HashMap<String, Seen>>>,
    counter: AtomicU64,
    task: tokio::task::JoinHandle<()>,
}

impl Echo {
    /// Listens on `addr` (port 0: any free port).
    pub async fn start(addr: SocketAddr) -> anyhow::Result<Echo> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("the echo backend cannot listen on {addr}: {e}"))?;
        let addr = listener.local_addr()?;
        let seen: Arc<Mutex<HashMap<String, Seen>>> = Arc::default();
        let s = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, s).await;
                });
            }
        });
        Ok(Echo {
            addr,
            seen,
            counter: AtomicU64::new(0),
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A marker no earlier request of this backend used.
    pub fn next_marker(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("m{}-{n}", std::process::id())
    }

    /// What the backend received under `marker`, if anything.
    pub fn take(&self, marker: &str) -> Option<Seen> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(marker)
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves one connection: requests one after another (keep-alive), each
/// recorded and answered.
async fn serve(
    mut stream: TcpStream,
    seen: Arc<Mutex<HashMap<String, Seen>>>,
) -> anyhow::Result<()> {
    let mut buf = Vec::new();
    loop {
        let Some((req, used)) = read_request(&mut stream, &mut buf).await? else {
            return Ok(());
        };
        buf.drain(..used);
        let marker = req
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("x-conformance-marker"))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default();
        let body = answer(&marker);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}\r\n",
            body.len(),
            if close_requested(&req) {
                "Connection: close\r\n"
            } else {
                ""
            }
        );
        let is_head = req.method == "HEAD";
        let close = close_requested(&req);
        seen.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(marker, req);
        stream.write_all(head.as_bytes()).await?;
        if !is_head {
            stream.write_all(&body).await?;
        }
        if close {
            // The client reads the answer to the end of the connection.
            stream.shutdown().await?;
            return Ok(());
        }
    }
}

/// True when the request asked for the connection to end after it.
fn close_requested(req: &Seen) -> bool {
    req.headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("connection")
            && String::from_utf8_lossy(v)
                .to_ascii_lowercase()
                .contains("close")
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> anyhow::Result<bool> {
    let mut chunk = [0u8; 16 << 10];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

/// Reads one request from the connection; `None` at a clean end. Returns
/// the request and how many bytes of `buf` it used.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> anyhow::Result<Option<(Seen, usize)>> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 1 << 20 {
            anyhow::bail!("request head over 1 MiB");
        }
        if !fill(stream, buf).await? {
            if buf.is_empty() {
                return Ok(None);
            }
            anyhow::bail!("connection closed inside a request head");
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let line = lines.next().unwrap_or_default();
    let mut parts = line.splitn(3, ' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().as_bytes().to_vec();
    // Header values as bytes: the head is re-sliced from `buf` so that
    // non-UTF-8 values arrive unchanged.
    let mut headers = Vec::new();
    let mut pos = buf[..head_end]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(head_end, |i| i + 1);
    while pos < head_end {
        let end = find(&buf[pos..head_end], b"\r\n").map_or(head_end, |i| pos + i);
        let l = &buf[pos..end];
        if let Some(c) = l.iter().position(|&b| b == b':') {
            let name = String::from_utf8_lossy(&l[..c]).trim().to_string();
            let value = l[c + 1..].trim_ascii().to_vec();
            headers.push((name, value));
        }
        pos = end + 2;
    }
    let header = |n: &str| {
        headers
            .iter()
            .find(|(h, _): &&(String, Vec<u8>)| h.eq_ignore_ascii_case(n))
            .map(|(_, v)| String::from_utf8_lossy(v).to_ascii_lowercase())
    };
    let mut at = head_end + 4;
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(&buf[at..], b"\r\n") {
                    break at + i;
                }
                if !fill(stream, buf).await? {
                    anyhow::bail!("connection closed inside a chunk size");
                }
            };
            let size_text = String::from_utf8_lossy(&buf[at..line_end]).into_owned();
            let size_text = size_text.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| anyhow::anyhow!("bad chunk size {size_text:?}"))?;
            at = line_end + 2;
            if size == 0 {
                // Trailers, then the blank line.
                loop {
                    if let Some(i) = find(&buf[at..], b"\r\n") {
                        let empty = i == 0;
                        at += i + 2;
                        if empty {
                            break;
                        }
                    } else if !fill(stream, buf).await? {
                        anyhow::bail!("connection closed inside trailers");
                    }
                }
                break body;
            }
            while buf.len() < at + size + 2 {
                if !fill(stream, buf).await? {
                    anyhow::bail!("connection closed inside a chunk");
                }
            }
            body.extend_from_slice(&buf[at..at + size]);
            at += size + 2;
        }
    } else {
        let len = header("content-length")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        while buf.len() < at + len {
            if !fill(stream, buf).await? {
                anyhow::bail!("connection closed inside a body");
            }
        }
        let b = buf[at..at + len].to_vec();
        at += len;
        b
    };
    Ok(Some((
        Seen {
            method,
            target,
            headers,
            body,
        },
        at,
    )))
}
