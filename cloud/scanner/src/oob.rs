//! The out-of-band listener: a small HTTP server the scanner starts so
//! that SSRF and XXE strategies can see the target call back.
//!
//! URLs look like `<base>/rmp/<marker>`; a request whose path starts with
//! `/rmp/<marker>` counts as a hit for that marker when a job registered it
//! (through `oob_url`). Unregistered markers are ignored, so the table
//! cannot be grown from outside. Every request gets `200` with an empty
//! body (a valid, empty external DTD).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::ScanError;

/// Markers a listener tracks at most at once.
const MAX_MARKERS: usize = 4096;

#[derive(Debug)]
pub(crate) struct Oob {
    addr: SocketAddr,
    base: String,
    hits: Arc<Mutex<HashMap<String, u32>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Oob {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Keeps only ASCII letters and digits (at most 64).
pub(crate) fn clean_marker(m: &str) -> String {
    m.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(64)
        .collect()
}

impl Oob {
    pub async fn start(listen: &str, public: Option<&str>) -> Result<Oob, ScanError> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| ScanError::Config(format!("out-of-band listener on `{listen}`: {e}")))?;
        let addr = listener.local_addr()?;
        let base = match public {
            Some(p) => p.trim_end_matches('/').to_string(),
            None => format!("http://{addr}"),
        };
        let hits: Arc<Mutex<HashMap<String, u32>>> = Arc::new(Mutex::new(HashMap::new()));
        let h = hits.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _peer)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let h = h.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                        let h = h.clone();
                        async move {
                            record(&h, req.uri().path());
                            Ok::<_, Infallible>(
                                Response::builder()
                                    .header("content-type", "text/plain")
                                    .body(Full::new(Bytes::new()))
                                    .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))),
                            )
                        }
                    });
                    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
                    let _ = tokio::time::timeout(Duration::from_secs(30), conn).await;
                });
            }
        });
        Ok(Oob {
            addr,
            base,
            hits,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Registers `marker` and returns its callback URL.
    pub fn url(&self, marker: &str) -> String {
        let m = clean_marker(marker);
        if let Ok(mut h) = self.hits.lock() {
            if h.len() < MAX_MARKERS {
                h.entry(m.clone()).or_insert(0);
            }
        }
        format!("{}/rmp/{m}", self.base)
    }

    pub fn hits(&self, marker: &str) -> u32 {
        let m = clean_marker(marker);
        self.hits
            .lock()
            .ok()
            .and_then(|h| h.get(&m).copied())
            .unwrap_or(0)
    }

    pub fn forget(&self, markers: &[String]) {
        if let Ok(mut h) = self.hits.lock() {
            for m in markers {
                h.remove(m);
            }
        }
    }
}

fn record(hits: &Mutex<HashMap<String, u32>>, path: &str) {
    let Some(rest) = path.strip_prefix("/rmp/") else {
        return;
    };
    let marker: String = rest
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    if let Ok(mut h) = hits.lock() {
        if let Some(n) = h.get_mut(&marker) {
            *n = n.saturating_add(1);
        }
    }
}
