//! Replays requests against a target over HTTP/1.1 keep-alive connections,
//! at their times (scaled) and with bounded concurrency. Each session keeps
//! the cookies the server set and a bearer token a JSON sign-in returned,
//! and sends its requests in order, one at a time, as a client would.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::traffic::SimRequest;

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Its index in the replayed list.
    pub index: usize,
    /// The response status; 0 when no response came (connection failed).
    pub status: u16,
    /// A Rampart node refused it: a 403 or 429 carrying the node's block
    /// page (an application's own 403 is not a block).
    pub blocked: bool,
    /// When it was sent, from the start of the replay.
    pub sent_at: Duration,
    /// Time until the response's body was read.
    pub latency: Duration,
}

/// Whether a response is a Rampart node's block: status 403 or 429 with
/// the node's block page (HTML quoting the request id, or JSON with
/// `request_id` and `error`).
pub fn is_block(status: u16, body: &[u8]) -> bool {
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    (status == 403 || status == 429)
        && (has(b"Request id: <code>") || (has(b"\"request_id\"") && has(b"\"error\"")))
}

/// A session's cookies and bearer token.
#[derive(Debug, Default)]
struct Jar {
    cookies: BTreeMap<String, String>,
    bearer: Option<String>,
}

impl Jar {
    fn update(&mut self, headers: &http::HeaderMap, body: &[u8]) {
        for v in headers.get_all(http::header::SET_COOKIE) {
            let Ok(v) = v.to_str() else { continue };
            let mut attrs = v.split(';');
            let Some((name, value)) = attrs.next().and_then(|kv| kv.trim().split_once('=')) else {
                continue;
            };
            let expired = attrs.any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
            if expired || value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        let json = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        if json {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
                if let Some(t) = v.get("token").and_then(|t| t.as_str()) {
                    self.bearer = Some(t.to_string());
                }
            }
        }
    }
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

async fn send(
    client: &HttpClient,
    target: SocketAddr,
    r: &SimRequest,
    jar: &mut Jar,
) -> (u16, bool) {
    let uri = format!("http://{target}{}", r.target());
    let mut b = http::Request::builder().method(r.method.as_str()).uri(uri);
    let mut cookie_sent = false;
    let mut auth_sent = false;
    for (k, v) in &r.headers {
        let v = if k == "cookie" && !jar.cookies.is_empty() {
            cookie_sent = true;
            let extra: Vec<String> = jar
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!("{v}; {}", extra.join("; "))
        } else {
            v.clone()
        };
        auth_sent |= k == "authorization";
        b = b.header(k.as_str(), v);
    }
    if !cookie_sent && !jar.cookies.is_empty() {
        let c: Vec<String> = jar
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        b = b.header("cookie", c.join("; "));
    }
    if let (Some(t), false) = (&jar.bearer, auth_sent) {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let Ok(req) = b.body(Full::new(Bytes::from(r.body.clone()))) else {
        return (0, false);
    };
    let Ok(resp) = client.request(req).await else {
        return (0, false);
    };
    let status = resp.status().as_u16();
    let (parts, body) = resp.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    jar.update(&parts.headers, &body);
    (status, is_block(status, &body))
}

/// Replays `reqs` against `target`: each request at its time multiplied by
/// `time_scale` (1.0 real time, 0 as fast as possible), at most
/// `concurrency` in flight. Requests of one session go one after the
/// other, in order. Outcomes come back in the order of `reqs`.
pub async fn replay(
    reqs: Vec<SimRequest>,
    target: SocketAddr,
    concurrency: usize,
    time_scale: f64,
) -> Vec<Outcome> {
    let concurrency = concurrency.max(1);
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(concurrency)
        .pool_idle_timeout(Duration::from_secs(30))
        .build_http();
    let reqs = Arc::new(reqs);
    let mut sessions: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, r) in reqs.iter().enumerate() {
        sessions.entry(r.truth.session).or_default().push(i);
    }
    let permits = Arc::new(Semaphore::new(concurrency));
    let start = Instant::now();
    let scale = if time_scale.is_finite() && time_scale > 0.0 {
        time_scale
    } else {
        0.0
    };
    let mut tasks = tokio::task::JoinSet::new();
    for (_, indexes) in sessions {
        let client = client.clone();
        let reqs = Arc::clone(&reqs);
        let permits = Arc::clone(&permits);
        tasks.spawn(async move {
            let mut jar = Jar::default();
            let mut out = Vec::with_capacity(indexes.len());
            for i in indexes {
                let r = &reqs[i];
                if scale > 0.0 {
                    let due = start + r.at.mul_f64(scale);
                    tokio::time::sleep_until(due.into()).await;
                }
                let Ok(_permit) = permits.acquire().await else {
                    break;
                };
                let sent = Instant::now();
                let (status, blocked) = send(&client, target, r, &mut jar).await;
                out.push(Outcome {
                    index: i,
                    status,
                    blocked,
                    sent_at: sent.duration_since(start),
                    latency: sent.elapsed(),
                });
            }
            out
        });
    }
    let mut all = Vec::with_capacity(reqs.len());
    while let Some(r) = tasks.join_next().await {
        if let Ok(v) = r {
            all.extend(v);
        }
    }
    all.sort_by_key(|o| o.index);
    all
}
