//! The suite's client: one request per connection, written byte for byte
//! (no HTTP library that would re-encode the target or reorder headers),
//! the answer read until the server closes.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::cases::Case;

/// A server's answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

/// The bytes of a case's request, with the marker header added.
pub fn encode(case: &Case, host: &str, marker: &str) -> Vec<u8> {
    let r = &case.request;
    let mut out = format!(
        "{} {} HTTP/1.1\r\nHost: {host}\r\n",
        r.method,
        case.target()
    )
    .into_bytes();
    for (n, v) in &r.headers {
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(
        format!("X-Conformance-Marker: {marker}\r\nConnection: close\r\n").as_bytes(),
    );
    if r.chunked {
        out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        for chunk in r.body.chunks(8 << 10) {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    } else {
        if !r.body.is_empty() || r.method == "POST" {
            out.extend_from_slice(format!("Content-Length: {}\r\n", r.body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&r.body);
    }
    out
}

/// Sends a case to `addr` and reads the answer (30 s at most).
pub async fn send(addr: SocketAddr, case: &Case, marker: &str) -> anyhow::Result<Response> {
    let host = format!("conformance.test:{}", addr.port());
    let bytes = encode(case, &host, marker);
    let go = async {
        let mut s = TcpStream::connect(addr)
            .await
            .with_context(|| format!("cannot connect to {addr}"))?;
        // A server may answer (413, 403) and close before reading the whole
        // body: a failed write is not an error as long as an answer came.
        let write_err = s.write_all(&bytes).await.err();
        let _ = s.flush().await;
        let mut raw = Vec::new();
        let read = s.read_to_end(&mut raw).await;
        if raw.is_empty() {
            if let Some(e) = write_err {
                return Err(anyhow::anyhow!("sending failed: {e}"));
            }
            read.context("no answer")?;
            anyhow::bail!("the connection closed without an answer");
        }
        parse(&raw)
    };
    tokio::time::timeout(Duration::from_secs(30), go)
        .await
        .map_err(|_| anyhow::anyhow!("no answer within 30 s"))?
}

/// Parses a whole HTTP/1.1 response.
pub fn parse(raw: &[u8]) -> anyhow::Result<Response> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of the response head")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
    });
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(len) = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        rest[..len.min(rest.len())].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let i = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("truncated chunk size")?;
        let size_text = String::from_utf8_lossy(&rest[..i]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| anyhow::anyhow!("bad chunk size {size_text:?}"))?;
        rest = &rest[i + 2..];
        if size == 0 {
            return Ok(body);
        }
        anyhow::ensure!(rest.len() >= size, "truncated chunk");
        body.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
}
