//! The safe sender: the only way a probe leaves the scanner.
//!
//! Before a request goes out it checks, in this order: the
//! non-destructive guard on the value placed at the point, the target's
//! host against the allowlist, the method (the job's own, GET or HEAD),
//! the job's wall-time deadline and its request budget; then it waits for
//! the target's token bucket. Redirects are never followed, no proxy is
//! used (the environment's proxy variables are ignored), nothing is
//! retried, and credential headers are stripped unless test credentials
//! are configured.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue};

use crate::config::{normalize_host, parse_allow, AllowEntry, ScannerConfig};
use crate::guard::{self, Refusal};
use crate::point::{Point, RequestDraft};
use crate::report::ProbeRequest;
use crate::ScanError;

/// Why a probe was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The host is not in the allowlist; nothing was sent.
    #[error("target `{0}` is not in the scanner's allowlist; nothing was sent")]
    NotAllowed(String),
    /// The method is neither the job's nor GET/HEAD.
    #[error("method {0} is not allowed for this job")]
    Method(String),
    /// The non-destructive guard refused the value.
    #[error("{0}")]
    Guard(Refusal),
    /// The job's request budget is spent.
    #[error("budget exhausted: the job's {0} requests are spent")]
    Budget(u32),
    /// The job's wall time is over.
    #[error("wall time exceeded: the job's {0} ms are over")]
    Deadline(u64),
    /// The request could not be built (bad URL, header, point).
    #[error("invalid probe: {0}")]
    Invalid(String),
}

impl SendError {
    /// True for the errors that end a job (everything but `Invalid`).
    pub fn is_fatal(&self) -> bool {
        !matches!(self, SendError::Invalid(_))
    }
}

/// A response as strategies see it.
#[derive(Debug, Clone)]
pub(crate) struct ProbeResponse {
    pub id: usize,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub time_ms: f64,
    pub error: Option<String>,
}

/// One request and its response, kept for evidence.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    pub request: ProbeRequest,
    pub status: u16,
    pub body: String,
    pub error: Option<String>,
}

/// The state of one job (one scan).
#[derive(Debug)]
pub(crate) struct JobState {
    pub method: String,
    pub max_requests: u32,
    pub sent: AtomicU32,
    pub deadline: Instant,
    pub wall_ms: u64,
    pub exchanges: Mutex<Vec<Exchange>>,
    /// The first error that ended a probe and should end the job.
    pub fatal: Mutex<Option<SendError>>,
}

impl JobState {
    pub fn new(method: &str, max_requests: u32, wall: Duration) -> Self {
        JobState {
            method: method.to_ascii_uppercase(),
            max_requests,
            sent: AtomicU32::new(0),
            deadline: Instant::now() + wall,
            wall_ms: u64::try_from(wall.as_millis()).unwrap_or(u64::MAX),
            exchanges: Mutex::new(Vec::new()),
            fatal: Mutex::new(None),
        }
    }

    pub fn requests_sent(&self) -> u32 {
        self.sent.load(Ordering::SeqCst)
    }

    pub fn record_fatal(&self, e: &SendError) {
        if e.is_fatal() {
            if let Ok(mut f) = self.fatal.lock() {
                if f.is_none() {
                    *f = Some(e.clone());
                }
            }
        }
    }

    pub fn fatal(&self) -> Option<SendError> {
        self.fatal.lock().ok().and_then(|f| f.clone())
    }

    pub fn exchange(&self, id: usize) -> Option<Exchange> {
        self.exchanges.lock().ok().and_then(|x| x.get(id).cloned())
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets per target (`host:port`).
#[derive(Debug)]
struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// How long to wait before a token is available (taking it when zero).
    fn try_take(&self, key: &str) -> Duration {
        let Ok(mut b) = self.buckets.lock() else {
            return Duration::from_millis(100);
        };
        let now = Instant::now();
        let bucket = b.entry(key.to_string()).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let elapsed = now.duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Duration::ZERO
        } else {
            Duration::from_secs_f64(((1.0 - bucket.tokens) / self.rate).max(0.001))
        }
    }

    async fn acquire(&self, key: &str) {
        loop {
            let wait = self.try_take(key);
            if wait.is_zero() {
                return;
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// Header names treated as credentials (also any name containing `token`,
/// `auth`, `session`, `secret`, `password`, `apikey`, `api-key`,
/// `credential` or `cookie`).
const CREDENTIAL_HEADERS: &[&str] = &[
    "cookie",
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "apikey",
    "x-amz-security-token",
];

/// True for a header name that carries a credential.
pub fn is_credential_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    CREDENTIAL_HEADERS.contains(&n.as_str())
        || [
            "token",
            "auth",
            "session",
            "secret",
            "password",
            "apikey",
            "api-key",
            "credential",
            "cookie",
        ]
        .iter()
        .any(|s| n.contains(s))
}

type Headers = Vec<(String, String)>;

/// The sender shared by the jobs of a scanner.
#[derive(Debug)]
pub(crate) struct SafeSender {
    client: reqwest::Client,
    allow: Vec<AllowEntry>,
    limiter: RateLimiter,
    credentials: Option<Vec<(String, String)>>,
    max_body: usize,
    timeout_ms: u64,
}

/// Host (normalized) and port of a URL.
pub(crate) fn host_port(url: &reqwest::Url) -> Result<(String, u16), String> {
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!("scheme `{}` is not http or https", url.scheme()));
    }
    let host = url
        .host_str()
        .ok_or_else(|| "the URL has no host".to_string())?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| "the URL has no port".to_string())?;
    Ok((normalize_host(host), port))
}

/// The allowlist entry (`host:port`, the scheme's port when the URL names
/// none) that lets probes reach the application at `url` and nowhere else.
pub fn allow_entry_of(url: &str) -> Result<String, ScanError> {
    let bad = |why: String| ScanError::Config(format!("target `{url}`: {why}"));
    let u = reqwest::Url::parse(url).map_err(|e| bad(e.to_string()))?;
    let (host, port) = host_port(&u).map_err(bad)?;
    Ok(format!("{host}:{port}"))
}

impl SafeSender {
    pub fn new(cfg: &ScannerConfig) -> Result<Self, ScanError> {
        // reqwest is built without a default crypto provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .no_proxy()
            .referer(false)
            .timeout(Duration::from_millis(cfg.request_timeout_ms))
            .connect_timeout(Duration::from_millis(cfg.request_timeout_ms))
            .user_agent(cfg.user_agent.clone())
            .build()
            .map_err(|e| ScanError::Client(e.to_string()))?;
        let allow = cfg
            .allow
            .iter()
            .map(|a| parse_allow(a))
            .collect::<Result<Vec<_>, _>>()?;
        let credentials = cfg.test_credentials.as_ref().map(|c| {
            c.iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect::<Vec<_>>()
        });
        Ok(SafeSender {
            client,
            allow,
            limiter: RateLimiter {
                rate: cfg.rate_limit,
                burst: cfg.rate_limit.max(1.0),
                buckets: Mutex::new(HashMap::new()),
            },
            credentials,
            max_body: cfg.max_body_bytes,
            timeout_ms: cfg.request_timeout_ms,
        })
    }

    /// Checks a URL against the allowlist; the error names the host.
    pub fn check_allowed(&self, url: &str) -> Result<(), SendError> {
        let u = reqwest::Url::parse(url)
            .map_err(|e| SendError::Invalid(format!("bad URL `{url}`: {e}")))?;
        let (host, port) = host_port(&u).map_err(SendError::Invalid)?;
        if self
            .allow
            .iter()
            .any(|a| a.host == host && a.port.is_none_or(|p| p == port))
        {
            Ok(())
        } else {
            Err(SendError::NotAllowed(format!("{host}:{port}")))
        }
    }

    /// Final headers: what is sent and what is shown in reports.
    fn headers(&self, draft: &RequestDraft, point: &Point) -> (Headers, Headers) {
        let exempt = match point {
            Point::Header(h) => Some(h.as_str()),
            _ => None,
        };
        let mut sent: Vec<(String, String)> = Vec::new();
        let mut shown: Vec<(String, String)> = Vec::new();
        let mut draft = draft.clone();
        match &self.credentials {
            None => {
                for (k, v) in &draft.headers {
                    if is_credential_header(k) && Some(k.as_str()) != exempt {
                        continue;
                    }
                    sent.push((k.clone(), v.clone()));
                    shown.push((k.clone(), v.clone()));
                }
                // Only the probed cookie survives.
                if let Point::Cookie(name) = point {
                    draft.retain_cookie(name);
                    if let Some(c) = draft.cookie_header() {
                        sent.push(("cookie".into(), c.clone()));
                        shown.push(("cookie".into(), c));
                    }
                } else {
                    draft.clear_cookies();
                }
            }
            Some(creds) => {
                for (k, v) in &draft.headers {
                    if creds.iter().any(|(ck, _)| ck == k) && Some(k.as_str()) != exempt {
                        continue;
                    }
                    sent.push((k.clone(), v.clone()));
                    shown.push((k.clone(), v.clone()));
                }
                let mut cookie_done = false;
                for (k, v) in creds {
                    if Some(k.as_str()) == exempt {
                        continue;
                    }
                    if k == "cookie" {
                        cookie_done = true;
                        match draft.cookie_header() {
                            Some(c) => {
                                sent.push((k.clone(), format!("{v}; {c}")));
                                shown.push((k.clone(), format!("<redacted>; {c}")));
                            }
                            None => {
                                sent.push((k.clone(), v.clone()));
                                shown.push((k.clone(), "<redacted>".into()));
                            }
                        }
                    } else {
                        sent.push((k.clone(), v.clone()));
                        shown.push((k.clone(), "<redacted>".into()));
                    }
                }
                if !cookie_done {
                    if let Some(c) = draft.cookie_header() {
                        sent.push(("cookie".into(), c.clone()));
                        shown.push(("cookie".into(), c));
                    }
                }
            }
        }
        if let Some((_, ct)) = draft.body() {
            if !sent.iter().any(|(k, _)| k == "content-type") {
                sent.push(("content-type".into(), ct.to_string()));
                shown.push(("content-type".into(), ct.to_string()));
            }
        }
        (sent, shown)
    }

    /// Sends one probe: `draft` with `value` already at `point`.
    pub async fn send(
        &self,
        job: &JobState,
        draft: RequestDraft,
        point: &Point,
        value: &str,
    ) -> Result<ProbeResponse, SendError> {
        let r = self.send_inner(job, draft, point, value).await;
        if let Err(e) = &r {
            job.record_fatal(e);
        }
        r
    }

    async fn send_inner(
        &self,
        job: &JobState,
        draft: RequestDraft,
        point: &Point,
        value: &str,
    ) -> Result<ProbeResponse, SendError> {
        guard::check(value).map_err(SendError::Guard)?;
        let url = draft.url();
        self.check_allowed(&url)?;
        let parsed = reqwest::Url::parse(&url)
            .map_err(|e| SendError::Invalid(format!("bad URL `{url}`: {e}")))?;
        let (host, port) = host_port(&parsed).map_err(SendError::Invalid)?;
        let method = draft.method.clone();
        if method != job.method && method != "GET" && method != "HEAD" {
            return Err(SendError::Method(method));
        }
        let m = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| SendError::Invalid(e.to_string()))?;
        let (headers, shown) = self.headers(&draft, point);
        let mut hm = reqwest::header::HeaderMap::new();
        for (k, v) in &headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| SendError::Invalid(format!("header `{k}`: {e}")))?;
            let val = HeaderValue::from_str(v)
                .map_err(|e| SendError::Invalid(format!("header `{k}`: {e}")))?;
            hm.append(name, val);
        }
        let body = draft.body().map(|(b, _)| b);
        if Instant::now() >= job.deadline {
            return Err(SendError::Deadline(job.wall_ms));
        }
        // Count the request before it can leave.
        job.sent
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < job.max_requests).then_some(n + 1)
            })
            .map_err(|_| SendError::Budget(job.max_requests))?;
        self.limiter.acquire(&format!("{host}:{port}")).await;
        if Instant::now() >= job.deadline {
            return Err(SendError::Deadline(job.wall_ms));
        }
        let mut rb = self.client.request(m, parsed).headers(hm);
        if let Some(b) = &body {
            rb = rb.body(b.clone());
        }
        tracing::debug!(target: "rampart_scanner", %method, %url, "probe");
        let start = Instant::now();
        let (status, resp_headers, resp_body, error) = match rb.send().await {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let mut hs: Vec<(String, String)> = Vec::new();
                for (k, v) in resp.headers() {
                    let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                    if let Some(e) = hs.iter_mut().find(|(n, _)| n == k.as_str()) {
                        e.1.push_str(", ");
                        e.1.push_str(&v);
                    } else {
                        hs.push((k.as_str().to_string(), v));
                    }
                }
                let mut buf: Vec<u8> = Vec::new();
                let mut error = None;
                loop {
                    match resp.chunk().await {
                        Ok(Some(c)) => {
                            let room = self.max_body.saturating_sub(buf.len());
                            if c.len() >= room {
                                buf.extend_from_slice(&c[..room]);
                                break;
                            }
                            buf.extend_from_slice(&c);
                        }
                        Ok(None) => break,
                        Err(e) => {
                            error = Some(describe(&e, self.timeout_ms));
                            break;
                        }
                    }
                }
                (
                    status,
                    hs,
                    String::from_utf8_lossy(&buf).into_owned(),
                    error,
                )
            }
            Err(e) => (
                0,
                Vec::new(),
                String::new(),
                Some(describe(&e, self.timeout_ms)),
            ),
        };
        let time_ms = start.elapsed().as_secs_f64() * 1000.0;
        let request = ProbeRequest {
            method,
            url,
            headers: shown,
            body,
        };
        let id = match job.exchanges.lock() {
            Ok(mut x) => {
                x.push(Exchange {
                    request,
                    status,
                    body: resp_body.clone(),
                    error: error.clone(),
                });
                x.len() - 1
            }
            Err(_) => usize::MAX,
        };
        Ok(ProbeResponse {
            id,
            status,
            headers: resp_headers,
            body: resp_body,
            time_ms,
            error,
        })
    }
}

fn describe(e: &reqwest::Error, timeout_ms: u64) -> String {
    if e.is_timeout() {
        return format!("timeout after {timeout_ms} ms");
    }
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_entries_of_urls() {
        assert_eq!(
            allow_entry_of("http://127.0.0.1:8081/lab/x?y=1#z")
                .ok()
                .as_deref(),
            Some("127.0.0.1:8081")
        );
        assert_eq!(
            allow_entry_of("HTTPS://Shop.example?q=1").ok().as_deref(),
            Some("shop.example:443")
        );
        assert_eq!(
            allow_entry_of("http://[::1]/a").ok().as_deref(),
            Some("[::1]:80")
        );
        assert_eq!(
            allow_entry_of("http://[::1]:9/a").ok().as_deref(),
            Some("[::1]:9")
        );
        assert!(allow_entry_of("ftp://x/").is_err());
        assert!(allow_entry_of("nope").is_err());
    }
}
