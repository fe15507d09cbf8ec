//! The node API (`spec/node-protocol.md`): routing, authentication, bodies,
//! and the four endpoints.

use std::io::Read as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use rampart_store::entity::node;
use rampart_store::Heartbeat;
use rampart_telemetry::Batch;
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::{debug, error, info, warn};

use crate::ingest;
use crate::metrics::NodeCall;
use crate::Shared;

/// The body of every response.
pub(crate) type Body = Full<Bytes>;

/// The media type of rule packs.
pub const PACK_MEDIA_TYPE: &str = "application/vnd.rampart.pack";

/// The largest enrollment or heartbeat body.
const SMALL_BODY: usize = 64 << 10;
/// Longest node name and software version.
const MAX_NODE_NAME: usize = 128;
const MAX_VERSION: usize = 64;
/// Longest `pack_error` kept from a heartbeat.
const MAX_PACK_ERROR: usize = 4096;

/// An error answer: `{"error": code, "message": text}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// One more member of the answer (e.g. a rule's `diagnostics`).
    detail: Option<(&'static str, Value)>,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            detail: None,
        }
    }

    /// Adds `name: value` to the answer's JSON.
    pub(crate) fn with_detail(mut self, name: &'static str, value: Value) -> ApiError {
        self.detail = Some((name, value));
        self
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub(crate) fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is larger than {limit} bytes"),
        )
    }

    pub(crate) fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the cloud could not complete the request; retry later",
        )
    }

    /// A store error: the caller's fault for refused arguments, ours
    /// otherwise (logged here, not shown to the node).
    pub(crate) fn store(e: rampart_store::Error) -> ApiError {
        match e {
            rampart_store::Error::Invalid(m) => ApiError::bad_request(m),
            rampart_store::Error::NotFound(m) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no {m}"))
            }
            rampart_store::Error::Conflict(m) => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("{m} already exists"),
            ),
            e => {
                error!(error = %e, "database error");
                ApiError::internal()
            }
        }
    }

    pub(crate) fn response(self) -> Response<Body> {
        let mut body = json!({"error": self.code, "message": self.message});
        if let Some((k, v)) = self.detail {
            body[k] = v;
        }
        let mut r = json_response(self.status, &body);
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"rampart\""),
            );
        }
        r
    }
}

impl From<rampart_store::Error> for ApiError {
    fn from(e: rampart_store::Error) -> Self {
        ApiError::store(e)
    }
}

pub(crate) type ApiResult = Result<Response<Body>, ApiError>;

pub(crate) fn json_response(status: StatusCode, v: &Value) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn ok(v: &Value) -> ApiResult {
    Ok(json_response(StatusCode::OK, v))
}

/// Answers one request.
pub(crate) async fn handle(st: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    if crate::rest::serves(&path) {
        return crate::rest::handle(st, req).await;
    }
    let res = match (req.method(), path.as_str()) {
        (&Method::POST, "/v1/enroll") => enroll(&st, req).await,
        (&Method::POST, "/v1/batches") => batches(&st, req).await,
        (&Method::GET, "/v1/packs/latest") => pack_latest(&st, req).await,
        (&Method::POST, "/v1/heartbeat") => heartbeat(&st, req).await,
        (_, "/v1/enroll" | "/v1/batches" | "/v1/packs/latest" | "/v1/heartbeat") => {
            Err(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{} is not allowed on {path}", req.method()),
            ))
        }
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such resource: {path}"),
        )),
    };
    res.unwrap_or_else(ApiError::response)
}

/// The node presenting `Authorization: Bearer <credential>`.
async fn authenticate(st: &Shared, headers: &HeaderMap) -> Result<node::Model, ApiError> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("a credential is required (Authorization: Bearer)")
    })?;
    let text = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the credential is not valid"))?;
    let credential = text
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, c)| c.trim())
        .filter(|c| !c.is_empty() && c.len() <= 512)
        .ok_or_else(|| ApiError::unauthorized("the credential must be sent as Bearer"))?;
    match st.store.authenticate_node(credential).await? {
        Some(node) => Ok(node),
        None => {
            debug!("a request with an unknown or revoked credential was refused");
            Err(ApiError::unauthorized(
                "unknown or revoked credential: the node must enroll again",
            ))
        }
    }
}

/// Reads the whole body, refusing more than `limit` bytes.
pub(crate) async fn read_body(
    req: Request<Incoming>,
    limit: usize,
) -> Result<(HeaderMap, Bytes), ApiError> {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok((parts.headers, c.to_bytes())),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(ApiError::too_large(limit)),
        Err(e) => Err(ApiError::bad_request(format!("cannot read the body: {e}"))),
    }
}

/// The body as sent, or decompressed when it is gzip, at most `limit` bytes
/// either way.
pub(crate) fn decode_body(
    headers: &HeaderMap,
    body: Bytes,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("" | "identity") => Ok(body),
        Some("gzip" | "x-gzip") => {
            let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
            let over = gunzip_capped(&body, limit, &mut out)
                .map_err(|e| ApiError::bad_request(format!("the body is not valid gzip: {e}")))?;
            if over {
                return Err(ApiError::too_large(limit));
            }
            Ok(Bytes::from(out))
        }
        Some(other) => Err(ApiError::bad_request(format!(
            "content encoding {other:?} is not supported (gzip or none)"
        ))),
    }
}

/// Decompresses `gz` into `out`, stopping as soon as it would exceed
/// `limit` bytes (returns `true` then): a small body cannot expand into an
/// unbounded allocation.
fn gunzip_capped(gz: &[u8], limit: usize, out: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut dec = flate2::read::GzDecoder::new(gz);
    let mut buf = [0u8; 16 << 10];
    loop {
        let n = match dec.read(&mut buf) {
            Ok(0) => return Ok(false),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if out.len() + n > limit {
            return Ok(true);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Parses a JSON body.
fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not the expected JSON: {e}")))
}

#[derive(Deserialize)]
struct EnrollRequest {
    token: String,
    name: String,
    #[serde(default)]
    version: String,
}

async fn enroll(st: &Shared, req: Request<Incoming>) -> ApiResult {
    // The call itself; the wrapper counts its answer (`GET /metrics`).
    async fn call(st: &Shared, req: Request<Incoming>) -> ApiResult {
        let (headers, body) = read_body(req, SMALL_BODY).await?;
        let body = decode_body(&headers, body, SMALL_BODY)?;
        let r: EnrollRequest = parse_json(&body)?;
        let name = r.name.trim();
        if name.is_empty() || name.len() > MAX_NODE_NAME {
            return Err(ApiError::bad_request("name must be 1 to 128 bytes"));
        }
        if r.version.len() > MAX_VERSION {
            return Err(ApiError::bad_request("version must be at most 64 bytes"));
        }
        if r.token.is_empty() || r.token.len() > 512 {
            return Err(ApiError::unauthorized("the enrollment token is refused"));
        }
        let Some(issued) = st.store.enroll_node(&r.token, name, &r.version).await? else {
            info!(
                name,
                "an enrollment with an unknown, expired or used token was refused"
            );
            return Err(ApiError::unauthorized(
                "the enrollment token is unknown, expired or already used",
            ));
        };
        let node = issued.row;
        let app = st
            .store
            .application(node.application_id)
            .await?
            .ok_or_else(ApiError::internal)?;
        info!(
            node_id = node.id,
            application = %app.name,
            name,
            version = %r.version,
            "node enrolled"
        );
        ok(&json!({
            "node_id": node.id,
            "credential": issued.secret,
            "application": app.name,
            "pack_keys": st.pack_keys,
        }))
    }
    let res = call(st, req).await;
    let status = res.as_ref().map_or_else(|e| e.status, |r| r.status());
    st.metrics.node_call(NodeCall::Enroll, status);
    res
}

async fn batches(st: &Shared, req: Request<Incoming>) -> ApiResult {
    // The call itself; the wrapper counts its answer (`GET /metrics`).
    async fn call(st: &Shared, req: Request<Incoming>) -> ApiResult {
        let node = authenticate(st, req.headers()).await?;
        let limit = st.cfg.body_limit_bytes;
        let (headers, body) = read_body(req, limit).await.inspect_err(|e| {
            if e.status == StatusCode::PAYLOAD_TOO_LARGE {
                st.metrics.batch_refused();
            }
        })?;
        let size = body.len();
        // Decompressing and parsing up to 16 MiB is CPU work: off the reactor.
        let parsed = tokio::task::spawn_blocking(move || {
            let body = decode_body(&headers, body, limit)?;
            let batch: Batch = parse_json(&body)?;
            ingest::validate(&batch).map_err(ApiError::bad_request)?;
            Ok::<_, ApiError>(batch)
        })
        .await
        .map_err(|e| {
            error!(error = %e, "batch parsing task failed");
            ApiError::internal()
        })?;
        let batch = match parsed {
            Ok(b) => b,
            Err(e) => {
                warn!(node_id = node.id, reason = %e.message, "a batch was refused");
                st.metrics.batch_refused();
                return Err(e);
            }
        };
        let (seq, requests, blocked, monitored) =
            (batch.seq, batch.requests, batch.blocked, batch.monitored);
        let r = ingest::ingest(&st.store, node.application_id, node.id, batch, size).await?;
        if r.accepted {
            st.metrics
                .batch_ingested(requests, blocked, monitored, r.events);
            debug!(
                node_id = node.id,
                seq,
                endpoints = r.endpoints,
                points = r.points,
                events = r.events,
                "batch ingested"
            );
        } else {
            st.metrics.batch_duplicate();
            debug!(node_id = node.id, seq, "batch already ingested (a retry)");
        }
        ok(&json!({"accepted": r.accepted}))
    }
    let res = call(st, req).await;
    let status = res.as_ref().map_or_else(|e| e.status, |r| r.status());
    st.metrics.node_call(NodeCall::Batches, status);
    res
}

/// The version in `If-None-Match` (`"12"`, `W/"12"` or `12`; the first
/// that is a number), 0 when there is none.
fn if_none_match(headers: &HeaderMap) -> u64 {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|tag| {
            let t = tag.trim();
            let t = t.strip_prefix("W/").unwrap_or(t);
            t.trim_matches('"').parse::<u64>().ok()
        })
        .max()
        .unwrap_or(0)
}

/// The seconds of `Prefer: wait=N` (RFC 7240), 0 without it.
fn prefer_wait(headers: &HeaderMap) -> u64 {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("wait")
                .then(|| v.trim().trim_matches('"').parse::<u64>().ok())
                .flatten()
        })
        .next()
        .unwrap_or(0)
}

fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

fn not_modified(have: u64) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::NOT_MODIFIED;
    if have > 0 {
        r.headers_mut().insert(header::ETAG, etag(have));
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The latest published pack when it is newer than `have`.
async fn newer_pack(st: &Shared, app: i64, have: u64) -> Result<Option<Response<Body>>, ApiError> {
    // The version first: most polls find nothing newer and load no pack.
    let latest = st.store.latest_published_version(app).await?;
    if latest.and_then(|v| u64::try_from(v).ok()).unwrap_or(0) <= have {
        return Ok(None);
    }
    let Some(pack) = st.store.latest_published_pack(app).await? else {
        return Ok(None);
    };
    let version = u64::try_from(pack.version).unwrap_or(0);
    if version <= have {
        return Ok(None);
    }
    let mut r = Response::new(Full::new(Bytes::from(pack.bytes)));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PACK_MEDIA_TYPE),
    );
    h.insert(header::ETAG, etag(version));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(Some(r))
}

async fn pack_latest(st: &Shared, req: Request<Incoming>) -> ApiResult {
    // The call itself; the wrapper counts its answer (`GET /metrics`).
    async fn call(st: &Shared, req: Request<Incoming>) -> ApiResult {
        let node = authenticate(st, req.headers()).await?;
        let app = node.application_id;
        let have = if_none_match(req.headers());
        let wait = prefer_wait(req.headers()).min(st.cfg.long_poll_max_secs);
        // Subscribe before reading the database: a pack published in between
        // is then seen by the loop below.
        let mut rx = st.watch.subscribe(app);
        if let Some(r) = newer_pack(st, app, have).await? {
            return Ok(r);
        }
        if wait == 0 {
            return Ok(not_modified(have));
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
        let mut stop = st.stop.subscribe();
        loop {
            let known = u64::try_from(*rx.borrow_and_update()).unwrap_or(0);
            if known > have {
                if let Some(r) = newer_pack(st, app, have).await? {
                    return Ok(r);
                }
            }
            if *stop.borrow_and_update() {
                break;
            }
            tokio::select! {
                r = rx.changed() => if r.is_err() { break },
                _ = tokio::time::sleep_until(deadline) => break,
                _ = stop.changed() => break,
            }
        }
        Ok(not_modified(have))
    }
    let res = call(st, req).await;
    let status = res.as_ref().map_or_else(|e| e.status, |r| r.status());
    st.metrics.node_call(NodeCall::PackLatest, status);
    res
}

#[derive(Deserialize)]
struct HeartbeatRequest {
    #[serde(default)]
    version: String,
    #[serde(default)]
    pack_version: Option<u64>,
    #[serde(default)]
    pack_error: Option<String>,
    #[serde(default)]
    counters: serde_json::Map<String, Value>,
}

async fn heartbeat(st: &Shared, req: Request<Incoming>) -> ApiResult {
    // The call itself; the wrapper counts its answer (`GET /metrics`).
    async fn call(st: &Shared, req: Request<Incoming>) -> ApiResult {
        let node = authenticate(st, req.headers()).await?;
        let (headers, body) = read_body(req, SMALL_BODY).await?;
        let body = decode_body(&headers, body, SMALL_BODY)?;
        let hb: HeartbeatRequest = parse_json(&body)?;
        if hb.version.len() > MAX_VERSION {
            return Err(ApiError::bad_request("version must be at most 64 bytes"));
        }
        let pack_version = hb
            .pack_version
            .map(i64::try_from)
            .transpose()
            .map_err(|_| ApiError::bad_request("pack_version is out of range"))?;
        let mut counters = hb.counters;
        if let Some(e) = hb.pack_error.filter(|e| !e.is_empty()) {
            let mut end = e.len().min(MAX_PACK_ERROR);
            while !e.is_char_boundary(end) {
                end -= 1;
            }
            let e = &e[..end];
            warn!(node_id = node.id, error = %e, "a node refused a rule pack");
            counters.insert("pack_error".into(), Value::String(e.to_owned()));
        }
        let counters = Value::Object(counters);
        let version = if hb.version.is_empty() {
            node.version.as_str()
        } else {
            hb.version.as_str()
        };
        st.store
            .record_heartbeat(
                node.id,
                Heartbeat {
                    version,
                    rule_pack_version: pack_version,
                    counters: &counters,
                },
            )
            .await?;
        debug!(node_id = node.id, pack_version = ?pack_version, "heartbeat");
        ok(&json!({"ok": true}))
    }
    let res = call(st, req).await;
    let status = res.as_ref().map_or_else(|e| e.status, |r| r.status());
    st.metrics.node_call(NodeCall::Heartbeat, status);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn etags_and_prefer() {
        assert_eq!(if_none_match(&headers(&[])), 0);
        assert_eq!(if_none_match(&headers(&[("if-none-match", "\"12\"")])), 12);
        assert_eq!(
            if_none_match(&headers(&[("if-none-match", "W/\"3\", \"x\"")])),
            3
        );
        assert_eq!(if_none_match(&headers(&[("if-none-match", "*")])), 0);
        assert_eq!(prefer_wait(&headers(&[("prefer", "wait=30")])), 30);
        assert_eq!(
            prefer_wait(&headers(&[("prefer", "respond-async, Wait = 5")])),
            5
        );
        assert_eq!(prefer_wait(&headers(&[("prefer", "return=minimal")])), 0);
    }

    #[test]
    fn gzip_bodies_are_bounded() {
        use std::io::Write as _;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&vec![b'a'; 100_000]).expect("gzip");
        let gz = Bytes::from(enc.finish().expect("gzip"));
        let h = headers(&[("content-encoding", "gzip")]);
        assert_eq!(
            decode_body(&h, gz.clone(), 200_000).expect("fits").len(),
            100_000
        );
        let e = decode_body(&h, gz, 50_000).expect_err("too large");
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        let e = decode_body(&h, Bytes::from_static(b"not gzip"), 1000).expect_err("bad");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let br = headers(&[("content-encoding", "br")]);
        assert!(decode_body(&br, Bytes::new(), 10).is_err());
    }
}
