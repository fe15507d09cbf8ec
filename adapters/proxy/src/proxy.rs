//! The request path: read, inspect, decide, forward.

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::header::{ACCEPT, CONTENT_LENGTH, HOST};
use http::{HeaderValue, Request, Response, StatusCode, Uri, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use rampart_core::Engine;
use rampart_types::{Action, Header, Mode};
use tokio::sync::Notify;
use tracing::{debug, info, warn};

use crate::body::{PrefixedBody, ProxyBody};
use crate::config::{Cidr, NodeConfig, OverLimit, Overload, OverloadPolicy};
use crate::forward;
use crate::metrics::Metrics;
use crate::pages::{overloaded, page};

/// Everything a request handler needs, shared by all connections.
pub struct State {
    pub engine: Arc<Engine>,
    pub client: Client<HttpConnector, ProxyBody>,
    pub upstream: Uri,
    pub trusted: Vec<Cidr>,
    pub config: NodeConfig,
    pub metrics: Arc<Metrics>,
    pub telemetry: Option<Arc<crate::telemetry::Telemetry>>,
    /// The bound on requests in flight (`[overload]`).
    pub gate: Gate,
}

/// The bound on requests in flight. Taking and giving back a slot is an
/// atomic compare-and-swap and a subtraction, with no lock; only requests
/// that find no slot under `policy = "queue"` wait, on a [`Notify`] that
/// a finishing request wakes (in arrival order).
#[derive(Debug)]
pub struct Gate {
    limit: usize,
    in_flight: AtomicUsize,
    policy: OverloadPolicy,
    queue: Duration,
    queue_max: usize,
    waiting: AtomicUsize,
    wake: Notify,
    retry_after_s: u32,
    shed: AtomicU64,
    /// Request body bytes held in memory now, and the bound.
    body_bytes: AtomicUsize,
    body_memory: usize,
}

/// Body bytes a request holds against `overload.body_memory`, given back
/// when the request is answered (or its connection goes away).
struct BodyCharge<'a> {
    gate: &'a Gate,
    bytes: usize,
}

impl BodyCharge<'_> {
    /// Takes `n` more bytes; false (nothing taken) when that would go over
    /// the bound.
    fn take(&mut self, n: usize) -> bool {
        let g = self.gate;
        let mut used = g.body_bytes.load(SeqCst);
        loop {
            let Some(after) = used.checked_add(n).filter(|a| *a <= g.body_memory) else {
                return false;
            };
            match g
                .body_bytes
                .compare_exchange_weak(used, after, SeqCst, SeqCst)
            {
                Ok(_) => {
                    self.bytes += n;
                    return true;
                }
                Err(now) => used = now,
            }
        }
    }
}

impl Drop for BodyCharge<'_> {
    fn drop(&mut self) {
        self.gate.body_bytes.fetch_sub(self.bytes, SeqCst);
    }
}

/// A slot: given back when the request is answered (its response head is
/// ready), also when its connection goes away first.
struct Slot<'a>(&'a Gate);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let g = self.0;
        g.in_flight.fetch_sub(1, SeqCst);
        if g.waiting.load(SeqCst) > 0 {
            g.wake.notify_one();
        }
    }
}

/// Counts a request among those waiting for as long as it waits (also when
/// its connection goes away while it waits).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

impl Gate {
    pub fn new(o: &Overload) -> Gate {
        let limit = o.limit().max(1);
        Gate {
            limit,
            in_flight: AtomicUsize::new(0),
            policy: o.policy,
            queue: Duration::from_millis(o.queue_ms),
            queue_max: o.queue_max(),
            waiting: AtomicUsize::new(0),
            wake: Notify::new(),
            retry_after_s: o.retry_after_s.max(1),
            shed: AtomicU64::new(0),
            body_bytes: AtomicUsize::new(0),
            body_memory: o.body_memory(),
        }
    }

    fn body_charge(&self) -> BodyCharge<'_> {
        BodyCharge {
            gate: self,
            bytes: 0,
        }
    }

    /// Request body bytes held in memory now.
    pub fn body_bytes(&self) -> usize {
        self.body_bytes.load(SeqCst)
    }

    fn try_take(&self) -> Option<Slot<'_>> {
        let mut n = self.in_flight.load(SeqCst);
        while n < self.limit {
            match self
                .in_flight
                .compare_exchange_weak(n, n + 1, SeqCst, SeqCst)
            {
                Ok(_) => return Some(Slot(self)),
                Err(now) => n = now,
            }
        }
        None
    }

    /// A slot, or None: the request is to be shed.
    async fn enter(&self) -> Option<Slot<'_>> {
        // Requests already waiting go first.
        if self.waiting.load(SeqCst) == 0 {
            if let Some(slot) = self.try_take() {
                return Some(slot);
            }
        }
        if self.policy == OverloadPolicy::Shed || self.queue.is_zero() {
            return None;
        }
        if self.waiting.fetch_add(1, SeqCst) >= self.queue_max {
            self.waiting.fetch_sub(1, SeqCst);
            return None;
        }
        let _waiting = Waiting(&self.waiting);
        let deadline = tokio::time::Instant::now() + self.queue;
        loop {
            // Registered before the check, so a slot given back between the
            // check and the wait still wakes this request.
            let woken = self.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if let Some(slot) = self.try_take() {
                return Some(slot);
            }
            // Dropping a woken `Notified` passes the wake-up on.
            tokio::time::timeout_at(deadline, woken).await.ok()?;
        }
    }

    fn shed(&self, request_id: &str, accept: Option<&HeaderValue>) -> Response<ProxyBody> {
        let n = self.shed.fetch_add(1, Relaxed) + 1;
        // One line at the first shed request and at each doubling: a flood
        // of 503s does not become a flood of log lines.
        if n.is_power_of_two() {
            warn!(request_id = %request_id, shed_total = n, in_flight_limit = self.limit, "overloaded: request answered 503 (load shedding)");
        } else {
            debug!(request_id = %request_id, "overloaded: request answered 503");
        }
        overloaded(request_id, accept, self.retry_after_s)
    }

    /// The bound in force.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Requests holding a slot now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Relaxed)
    }

    /// Requests waiting for a slot now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Relaxed)
    }

    /// Requests shed since the node started.
    pub fn shed_total(&self) -> u64 {
        self.shed.load(Relaxed)
    }

    /// The overload families, in the Prometheus text format.
    pub fn render(&self, o: &mut String) {
        use std::fmt::Write;
        for (name, help, kind, v) in [
            (
                "rampart_shed_total",
                "Requests answered 503 because the node was overloaded (overload.max_in_flight or overload.body_memory).",
                "counter",
                self.shed_total(),
            ),
            (
                "rampart_in_flight",
                "Requests being handled (body read, inspection, waiting for the upstream).",
                "gauge",
                self.in_flight() as u64,
            ),
            (
                "rampart_in_flight_limit",
                "The bound on requests in flight (overload.max_in_flight).",
                "gauge",
                self.limit as u64,
            ),
            (
                "rampart_overload_waiting",
                "Requests waiting for a slot (overload.policy = queue).",
                "gauge",
                self.waiting() as u64,
            ),
            (
                "rampart_body_memory_bytes",
                "Request body bytes held in memory for inspection, all requests together.",
                "gauge",
                self.body_bytes() as u64,
            ),
            (
                "rampart_body_memory_limit_bytes",
                "The bound on request body bytes held in memory (overload.body_memory).",
                "gauge",
                self.body_memory as u64,
            ),
        ] {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        }
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("upstream", &self.upstream)
            .finish()
    }
}

/// Bodies above this size are inspected on the blocking pool, so a large
/// document never stalls the connections sharing a runtime worker.
const INLINE_INSPECTION: usize = 64 << 10;

enum BodyRead {
    Whole(Bytes),
    Prefix(Bytes, Incoming),
    /// Holding it would take the node over `overload.body_memory`.
    NoMemory,
}

/// Reads the body, or its first `limit` bytes and a little more, charging
/// every byte held to `charge` (the buffer is sized once from the declared
/// length, so it does not grow by doubling past what is read).
async fn read_body(
    mut body: Incoming,
    limit: usize,
    declared: Option<usize>,
    charge: &mut BodyCharge<'_>,
) -> Result<BodyRead, hyper::Error> {
    let mut buf = BytesMut::with_capacity(declared.map_or(0, |n| n.min(limit + 1)));
    if !charge.take(buf.capacity()) {
        return Ok(BodyRead::NoMemory);
    }
    loop {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    let need = (buf.len() + data.len()).saturating_sub(charge.bytes);
                    if need > 0 && !charge.take(need) {
                        return Ok(BodyRead::NoMemory);
                    }
                    buf.extend_from_slice(&data);
                    if buf.len() > limit {
                        return Ok(BodyRead::Prefix(buf.freeze(), body));
                    }
                }
            }
            Some(Err(e)) => return Err(e),
            None => return Ok(BodyRead::Whole(buf.freeze())),
        }
    }
}

fn upstream_uri(base: &Uri, pq: Option<&str>) -> Result<Uri, http::Error> {
    let prefix = base.path().trim_end_matches('/');
    let pq = pq.unwrap_or("/");
    let mut b = Uri::builder();
    if let Some(s) = base.scheme() {
        b = b.scheme(s.clone());
    }
    if let Some(a) = base.authority() {
        b = b.authority(a.clone());
    }
    b.path_and_query(format!("{prefix}{pq}")).build()
}

pub async fn handle(
    state: Arc<State>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<ProxyBody> {
    let started = Instant::now();
    state.metrics.request();
    let (mut parts, body) = req.into_parts();
    let peer_ip = peer.ip();
    let request_id = forward::request_id(peer_ip, &parts.headers, &state.trusted);
    let accept = parts.headers.get(ACCEPT).cloned();
    // A slot among `overload.max_in_flight`, held until the response head
    // is ready; none: 503 (overload fails closed, whatever the mode).
    let Some(_slot) = state.gate.enter().await else {
        return state.gate.shed(&request_id, accept.as_ref());
    };
    let mode = state.engine.mode();
    let cfg = &state.config;

    // HTTP/2 carries the host in :authority; HTTP/1.1 upstreams need Host.
    if !parts.headers.contains_key(HOST) {
        if let Some(a) = parts.uri.authority() {
            if let Ok(v) = HeaderValue::from_str(a.as_str()) {
                parts.headers.insert(HOST, v);
            }
        }
    }

    let limit = cfg.inspection.body_limit;
    let declared_len = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if mode != Mode::Off
        && cfg.inspection.over_limit == OverLimit::Block
        && declared_len.is_some_and(|n| n > limit as u64)
    {
        state.metrics.too_large();
        return page(
            413,
            "body_too_large",
            "The request body is larger than this site accepts.",
            &request_id,
            accept.as_ref(),
        );
    }

    if mode == Mode::Off {
        state.metrics.verdict(Action::Allow, None);
        let body = body.map_err(Into::into).boxed_unsync();
        return send_upstream(state.clone(), parts, body, peer, request_id, accept).await;
    }

    // Read the body (or its first `limit` bytes) for inspection.
    let t = Duration::from_millis(cfg.timeouts.body_read_ms);
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let mut charge = state.gate.body_charge();
    let read = match tokio::time::timeout(t, read_body(body, limit, declared, &mut charge)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            warn!(request_id = %request_id, client = %peer_ip, error = %e, "client body read failed");
            return page(
                400,
                "bad_request",
                "The request body could not be read.",
                &request_id,
                accept.as_ref(),
            );
        }
        Err(_) => {
            warn!(request_id = %request_id, client = %peer_ip, "client body read timed out");
            return page(
                408,
                "request_timeout",
                "The request body was not sent in time.",
                &request_id,
                accept.as_ref(),
            );
        }
    };
    let (upstream_body, inspected, truncated): (ProxyBody, Bytes, bool) = match read {
        BodyRead::NoMemory => return state.gate.shed(&request_id, accept.as_ref()),
        BodyRead::Whole(b) => (
            Full::new(b.clone()).map_err(|e| match e {}).boxed_unsync(),
            b,
            false,
        ),
        BodyRead::Prefix(prefix, rest) => {
            if cfg.inspection.over_limit == OverLimit::Block {
                state.metrics.too_large();
                return page(
                    413,
                    "body_too_large",
                    "The request body is larger than this site accepts.",
                    &request_id,
                    accept.as_ref(),
                );
            }
            let inspected = prefix.slice(..limit);
            (
                PrefixedBody::new(prefix, rest).boxed_unsync(),
                inspected,
                true,
            )
        }
    };

    // Inspect.
    let client_ip = forward::client_ip(peer_ip, &parts.headers, &state.trusted);
    let target = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().as_bytes().to_vec())
        .unwrap_or_else(|| b"/".to_vec());
    let rreq = rampart_types::Request {
        method: parts.method.as_str().as_bytes().to_vec(),
        target,
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| Header {
                name: n.as_str().as_bytes().to_vec(),
                value: v.as_bytes().to_vec(),
            })
            .collect(),
        body_truncated: truncated,
        body: inspected.to_vec(),
        client_ip: Some(client_ip),
    };
    let mut ins = if rreq.body.len() > INLINE_INSPECTION {
        let engine = state.engine.clone();
        match tokio::task::spawn_blocking(move || engine.inspect(&rreq)).await {
            Ok(i) => i,
            Err(_) => {
                return page(
                    500,
                    "internal_error",
                    "The request could not be inspected.",
                    &request_id,
                    accept.as_ref(),
                )
            }
        }
    } else {
        let ins = state.engine.inspect(&rreq);
        // Not kept across the wait for the upstream: a copy of the head
        // and the inspected body per request in flight.
        drop(rreq);
        ins
    };
    let v = &ins.verdict;
    state.metrics.verdict(v.action, v.class);
    state
        .metrics
        .timing(ins.decode_time, ins.decode_time + ins.detect_time);
    if v.action != Action::Allow {
        let line = (
            v.class.map(|c| c.as_str()).unwrap_or("-"),
            v.rule.as_deref().unwrap_or("-"),
            v.point.as_deref().unwrap_or("-"),
        );
        let log_path = String::from_utf8_lossy(parts.uri.path().as_bytes()).into_owned();
        if v.action == Action::Block {
            warn!(target: "rampart::verdict", request_id = %request_id, action = "block", class = line.0, rule = line.1, point = line.2, score = v.score, client = %client_ip, method = %parts.method, path = %log_path, "request blocked");
            let resp = blocked(v.status, &request_id, accept.as_ref());
            observe(&state, &ins, v.status, started, client_ip, &request_id);
            return resp;
        }
        info!(target: "rampart::verdict", request_id = %request_id, action = "monitor", class = line.0, rule = line.1, point = line.2, score = v.score, client = %client_ip, method = %parts.method, path = %log_path, "request would have been blocked (monitor mode)");
    }
    tracing::trace!(request_id = %request_id, elapsed_us = started.elapsed().as_micros() as u64, "inspected");
    if !state.engine.wants_response(&ins) {
        let resp = send_upstream(
            state.clone(),
            parts,
            upstream_body,
            peer,
            request_id.clone(),
            accept,
        )
        .await;
        observe(
            &state,
            &ins,
            resp.status().as_u16(),
            started,
            client_ip,
            &request_id,
        );
        return resp;
    }
    // Response-phase rules (failed logins, error ratios) see the status.
    let method = parts.method.clone();
    let log_path = String::from_utf8_lossy(parts.uri.path().as_bytes()).into_owned();
    let resp = send_upstream(
        state.clone(),
        parts,
        upstream_body,
        peer,
        request_id.clone(),
        accept.clone(),
    )
    .await;
    let before = ins.verdict.action;
    state
        .engine
        .inspect_response(&mut ins, resp.status().as_u16());
    let v = &ins.verdict;
    if v.action == Action::Block && before != Action::Block {
        state.metrics.response_blocked();
        let rule = v.rule.as_deref().unwrap_or("-");
        warn!(target: "rampart::verdict", request_id = %request_id, action = "block", phase = "response", rule, upstream_status = resp.status().as_u16(), client = %client_ip, method = %method, path = %log_path, "response replaced by the block page");
        observe(&state, &ins, v.status, started, client_ip, &request_id);
        return blocked(v.status, &request_id, accept.as_ref());
    }
    observe(
        &state,
        &ins,
        resp.status().as_u16(),
        started,
        client_ip,
        &request_id,
    );
    resp
}

/// Folds the request into the traffic aggregates, when they are on.
fn observe(
    state: &State,
    ins: &rampart_core::Inspection,
    status: u16,
    started: Instant,
    client_ip: std::net::IpAddr,
    request_id: &str,
) {
    if let Some(t) = &state.telemetry {
        t.observe(ins, status, started.elapsed(), client_ip, request_id);
    }
}

/// The block page.
fn blocked(status: u16, request_id: &str, accept: Option<&HeaderValue>) -> Response<ProxyBody> {
    page(
        status,
        "blocked",
        "This request was blocked by the web application firewall.",
        request_id,
        accept,
    )
}

async fn send_upstream(
    state: Arc<State>,
    mut parts: http::request::Parts,
    body: ProxyBody,
    peer: SocketAddr,
    request_id: String,
    accept: Option<HeaderValue>,
) -> Response<ProxyBody> {
    let uri = match upstream_uri(
        &state.upstream,
        parts.uri.path_and_query().map(|p| p.as_str()),
    ) {
        Ok(u) => u,
        Err(_) => {
            return page(
                400,
                "bad_request",
                "The request target is not valid.",
                &request_id,
                accept.as_ref(),
            )
        }
    };
    forward::strip_hop_by_hop(&mut parts.headers);
    if state.config.forwarded_headers {
        forward::add_forwarded(&mut parts.headers, peer.ip(), &state.trusted, &request_id);
    }
    parts.uri = uri;
    parts.version = Version::HTTP_11;
    let up = Request::from_parts(parts, body);
    let t = Duration::from_millis(state.config.timeouts.upstream_ms);
    match tokio::time::timeout(t, state.client.request(up)).await {
        Ok(Ok(resp)) => {
            let (mut rp, rb) = resp.into_parts();
            forward::strip_hop_by_hop(&mut rp.headers);
            Response::from_parts(rp, rb.map_err(Into::into).boxed_unsync())
        }
        Ok(Err(e)) => {
            state.metrics.upstream_error();
            warn!(request_id = %request_id, error = %e, upstream = %state.upstream, "upstream request failed");
            page(
                StatusCode::BAD_GATEWAY.as_u16(),
                "upstream_unavailable",
                "The application behind this firewall could not be reached.",
                &request_id,
                accept.as_ref(),
            )
        }
        Err(_) => {
            state.metrics.upstream_error();
            warn!(request_id = %request_id, upstream = %state.upstream, "upstream timed out");
            page(
                504,
                "upstream_timeout",
                "The application behind this firewall did not answer in time.",
                &request_id,
                accept.as_ref(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(toml: &str) -> Gate {
        Gate::new(&toml::from_str::<Overload>(toml).expect("overload"))
    }

    #[test]
    fn body_memory_is_shared_by_all_requests_and_given_back() {
        let g = gate("body_memory = 1000");
        let mut a = g.body_charge();
        let mut b = g.body_charge();
        assert!(a.take(600));
        assert!(!b.take(500), "600 + 500 is over 1000");
        assert!(b.take(400));
        assert_eq!(g.body_bytes(), 1000);
        assert!(!a.take(1));
        drop(a);
        assert_eq!(g.body_bytes(), 400);
        assert!(b.take(600));
        drop(b);
        assert_eq!(g.body_bytes(), 0);
        assert_eq!(gate("").body_memory, Overload::BODY_MEMORY);
    }

    #[tokio::test]
    async fn shed_refuses_over_the_bound_and_a_slot_given_back_is_taken_again() {
        let g = gate("max_in_flight = 2\npolicy = \"shed\"");
        let a = g.enter().await.expect("first slot");
        let b = g.enter().await.expect("second slot");
        assert_eq!(g.in_flight(), 2);
        assert!(g.enter().await.is_none());
        drop(a);
        let c = g.enter().await.expect("a slot given back");
        assert_eq!(g.in_flight(), 2);
        drop((b, c));
        assert_eq!((g.in_flight(), g.waiting()), (0, 0));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn queued_requests_all_get_in_and_never_more_than_the_bound() {
        let g = Arc::new(gate(
            "max_in_flight = 3\npolicy = \"queue\"\nqueue_ms = 20000\nqueue_max = 1000",
        ));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let (g, peak) = (g.clone(), peak.clone());
                tokio::spawn(async move {
                    for _ in 0..20 {
                        let slot = g.enter().await;
                        assert!(slot.is_some(), "shed while queued");
                        peak.fetch_max(g.in_flight(), SeqCst);
                        tokio::task::yield_now().await;
                        drop(slot);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("task");
        }
        assert!(peak.load(SeqCst) <= 3, "{}", peak.load(SeqCst));
        assert_eq!((g.in_flight(), g.waiting(), g.shed_total()), (0, 0, 0));
    }
}
