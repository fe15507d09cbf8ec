//! The REST API (`/api/v1`, `spec/console-api.openapi.yaml`), the web
//! console's files and the replica's Prometheus metrics, on the node API's
//! listener.
//!
//! Every `/api/v1` call but `login` is authenticated: a console session
//! (cookie `rampart_session`, with `X-CSRF-Token` on every write) or an API
//! token (`Authorization: Bearer`). `admin` may write, `analyst` only read.

mod attacks;
mod auth;
mod inventory;
mod rules;
mod statics;
mod views;

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use rampart_store::entity::{application, Role};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::{json_response, ApiError, ApiResult, Body};
use crate::Shared;

pub(crate) use auth::{LoginThrottle, Principal};

/// The largest JSON body of a REST call (rule sources are the big ones).
const BODY_LIMIT: usize = 1 << 20;

/// Whether this listener path belongs to the REST API, the console or the
/// metrics (the node protocol's `/v1/...` does not).
pub(crate) fn serves(path: &str) -> bool {
    path == "/"
        || path == "/metrics"
        || path == "/favicon.ico"
        || path == "/api"
        || path.starts_with("/api/")
        || path.starts_with("/console/")
}

/// One REST call, parsed: who, what, the query and the body.
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) query: HashMap<String, String>,
    pub(crate) body: Bytes,
}

impl Call {
    /// A query parameter, trimmed, `None` when absent or empty.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .get(name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// A numeric query parameter; 400 when it is not a number.
    pub(crate) fn number(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.param(name)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    ApiError::bad_request(format!("query parameter {name} must be an integer"))
                })
            })
            .transpose()
    }

    /// The body as JSON of type `T`; 400 with serde's reason otherwise.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let body: &[u8] = if self.body.is_empty() {
            b"{}"
        } else {
            &self.body
        };
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the body is not the expected JSON: {e}")))
    }
}

/// What a handler gets: the shared state, the authenticated caller.
pub(crate) struct Cx {
    pub(crate) st: Arc<Shared>,
    pub(crate) who: Principal,
}

impl Cx {
    /// 403 unless the caller may write.
    pub(crate) fn admin(&self) -> Result<(), ApiError> {
        if self.who.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this needs the admin role; the analyst role is read-only",
            ))
        }
    }

    /// The application named in the path; 404 when unknown.
    pub(crate) async fn app(&self, name: &str) -> Result<application::Model, ApiError> {
        self.st
            .store
            .application_by_name(name)
            .await?
            .ok_or_else(|| not_found(format!("no application {name:?}")))
    }
}

pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
}

pub(crate) fn ok(v: &Value) -> ApiResult {
    Ok(json_response(StatusCode::OK, v))
}

pub(crate) fn created(v: &Value) -> ApiResult {
    Ok(json_response(StatusCode::CREATED, v))
}

pub(crate) fn no_content() -> ApiResult {
    let mut r = Response::new(Body::default());
    *r.status_mut() = StatusCode::NO_CONTENT;
    Ok(r)
}

/// Answers one request on a path [`serves`] accepted.
pub(crate) async fn handle(st: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    if !path.starts_with("/api/") && path != "/api" {
        return statics::serve(&st, &req, &path).await;
    }
    let mut r = match api(st, req, &path).await {
        Ok(r) => r,
        Err(e) => e.response(),
    };
    statics::security_headers(r.headers_mut());
    r
}

async fn api(st: Arc<Shared>, req: Request<Incoming>, path: &str) -> ApiResult {
    let method = req.method().clone();
    let query = req
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let headers = req.headers().clone();
    let body = if matches!(method, Method::GET | Method::HEAD) {
        Bytes::new()
    } else {
        crate::api::read_body(req, BODY_LIMIT).await?.1
    };
    let call = Call {
        method,
        query,
        body,
    };
    // Segments are percent-decoded (a rule id or an application name may
    // be written encoded); one that is not UTF-8 matches no route.
    let decoded: Vec<String> = path
        .trim_start_matches("/api")
        .trim_start_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map_or_else(|_| "\u{fffd}".to_owned(), |c| c.into_owned())
        })
        .collect();
    let segs: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let Some(rest) = segs.strip_prefix(&["v1"]) else {
        return Err(not_found(format!("no such resource: {path}")));
    };
    // Without a caller: signing in, and the API's description.
    match (&call.method, rest) {
        (&Method::POST, ["login"]) => return auth::login(&st, &call, &headers).await,
        (&Method::GET, ["openapi.yaml"]) => return Ok(statics::openapi()),
        _ => {}
    }
    let who = auth::authenticate(&st, &call.method, &headers).await?;
    let cx = Cx { st, who };
    route(&cx, &call, rest, &headers).await
}

async fn route(cx: &Cx, call: &Call, segs: &[&str], headers: &http::HeaderMap) -> ApiResult {
    use Method as M;
    let m = &call.method;
    // HEAD is GET without the body (hyper leaves it out).
    let m = if *m == M::HEAD { &M::GET } else { m };
    match (m, segs) {
        (&M::POST, ["logout"]) => auth::logout(cx, headers).await,
        (&M::GET, ["me"]) => auth::me(cx),
        (&M::GET, ["users"]) => auth::list_users(cx).await,
        (&M::POST, ["users"]) => auth::create_user(cx, call).await,
        (&M::DELETE, ["users", id]) => auth::delete_user(cx, id).await,
        (&M::GET, ["tokens"]) => auth::list_tokens(cx).await,
        (&M::POST, ["tokens"]) => auth::create_token(cx, call).await,
        (&M::DELETE, ["tokens", id]) => auth::revoke_token(cx, id).await,

        (&M::GET, ["apps"]) => inventory::list_apps(cx).await,
        (&M::POST, ["apps"]) => inventory::create_app(cx, call).await,
        (&M::GET, ["apps", app, "overview"]) => inventory::overview(cx, call, app).await,
        (&M::GET, ["apps", app, "endpoints"]) => inventory::endpoints(cx, app).await,
        (&M::GET, ["apps", app, "nodes"]) => inventory::nodes(cx, app).await,
        (&M::GET, ["apps", app, "alerts"]) => inventory::alerts(cx, call, app).await,
        (&M::GET, ["apps", app, "scans"]) => inventory::scans(cx, app).await,
        (&M::GET, ["apps", app, "incidents"]) => inventory::incidents(cx, call, app).await,
        (&M::GET, ["incidents", id]) => inventory::incident(cx, id).await,
        (&M::POST, ["incidents", id, "status"]) => inventory::incident_status(cx, call, id).await,

        (&M::GET, ["apps", app, "attacks"]) => attacks::list(cx, call, app).await,
        (&M::GET, ["apps", app, "attacks", "export"]) => attacks::export(cx, call, app).await,
        (&M::GET, ["attacks", id]) => attacks::detail(cx, id).await,
        (&M::POST, ["attacks", id, "false-positive"]) => {
            attacks::false_positive(cx, call, id).await
        }

        (&M::GET, ["apps", app, "rules"]) => rules::list(cx, app).await,
        (&M::POST, ["apps", app, "rules", "check"]) => rules::check(cx, call, app).await,
        (&M::GET, ["apps", app, "rules", id]) => rules::get(cx, app, id).await,
        (&M::PUT, ["apps", app, "rules", id]) => rules::put(cx, call, app, id).await,
        (&M::DELETE, ["apps", app, "rules", id]) => rules::delete(cx, app, id).await,
        (&M::POST, ["apps", app, "rules", id, "state"]) => {
            rules::set_state(cx, call, app, id).await
        }
        (&M::GET, ["apps", app, "packs"]) => rules::packs(cx, app).await,
        (&M::POST, ["apps", app, "packs"]) => rules::deploy(cx, app).await,
        (&M::GET, ["apps", app, "packs", v, "diff"]) => rules::diff(cx, call, app, v).await,
        _ => Err(if known_path(segs) {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{m} is not allowed here"),
            )
        } else {
            not_found(format!("no such resource: /api/v1/{}", segs.join("/")))
        }),
    }
}

/// Whether some method serves this path (405 rather than 404).
fn known_path(segs: &[&str]) -> bool {
    matches!(
        segs,
        ["logout" | "me" | "users" | "tokens" | "apps" | "login"]
            | ["users" | "tokens" | "incidents" | "attacks", _]
            | ["incidents", _, "status"]
            | ["attacks", _, "false-positive"]
            | [
                "apps",
                _,
                "overview"
                    | "endpoints"
                    | "nodes"
                    | "alerts"
                    | "scans"
                    | "incidents"
                    | "attacks"
                    | "rules"
                    | "packs"
            ]
            | ["apps", _, "attacks", "export"]
            | ["apps", _, "rules", _]
            | ["apps", _, "rules", _, "state"]
            | ["apps", _, "packs", _, "diff"]
    )
}

/// A numeric id from the path; 404 when it is not one.
pub(crate) fn path_id(s: &str) -> Result<i64, ApiError> {
    s.parse::<i64>()
        .map_err(|_| not_found(format!("no such id: {s:?}")))
}
