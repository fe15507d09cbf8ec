//! The request path: read, inspect, decide, forward.

use std::net::SocketAddr;
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
use tracing::{info, warn};

use crate::body::{PrefixedBody, ProxyBody};
use crate::config::{Cidr, NodeConfig, OverLimit};
use crate::forward;
use crate::metrics::Metrics;
use crate::pages::page;

/// Everything a request handler needs, shared by all connections.
pub struct State {
    pub engine: Arc<Engine>,
    pub client: Client<HttpConnector, ProxyBody>,
    pub upstream: Uri,
    pub trusted: Vec<Cidr>,
    pub config: NodeConfig,
    pub metrics: Arc<Metrics>,
    pub telemetry: Option<Arc<crate::telemetry::Telemetry>>,
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
}

async fn read_body(mut body: Incoming, limit: usize) -> Result<BodyRead, hyper::Error> {
    let mut buf = BytesMut::new();
    loop {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
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
        return send_upstream(state, parts, body, peer, request_id, accept).await;
    }

    // Read the body (or its first `limit` bytes) for inspection.
    let t = Duration::from_millis(cfg.timeouts.body_read_ms);
    let read = match tokio::time::timeout(t, read_body(body, limit)).await {
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
        state.engine.inspect(&rreq)
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
