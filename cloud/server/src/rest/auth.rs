//! Who calls: console sessions (cookie + anti-CSRF header), API tokens,
//! sign-in with a per-user throttle, users and tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use rampart_store::entity::{console_session, user, Role};
use serde::Deserialize;
use serde_json::json;
use tracing::{info, warn};

use super::views::{name, parse, time, user_json};
use super::{created, no_content, not_found, ok, path_id, Call, Cx};
use crate::api::{json_response, ApiError, ApiResult};
use crate::Shared;

/// The session cookie.
const COOKIE: &str = "rampart_session";
/// How long a console session lasts.
const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Failed sign-ins of one user name allowed per window before the name is
/// refused until the window ends.
const MAX_FAILURES: u32 = 10;
const FAILURE_WINDOW: Duration = Duration::from_secs(300);
/// User names tracked at most (oldest windows are forgotten first).
const MAX_TRACKED: usize = 10_000;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    pub(crate) user: user::Model,
    /// Effective role (a token's role is capped by its user's).
    pub(crate) role: Role,
    /// The console session, when the caller signed in (else an API token).
    pub(crate) session: Option<console_session::Model>,
}

/// Failed sign-ins per user name, in fixed windows.
#[derive(Debug, Default)]
pub(crate) struct LoginThrottle {
    failures: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LoginThrottle {
    /// `Some(seconds to wait)` when `name` is refused for now.
    fn refused(&self, name: &str) -> Option<u64> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let (start, n) = map.get(&name.to_lowercase())?;
        let left = FAILURE_WINDOW.checked_sub(start.elapsed())?;
        (*n >= MAX_FAILURES).then(|| left.as_secs().max(1))
    }

    fn failed(&self, name: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_TRACKED {
            map.retain(|_, (start, _)| start.elapsed() < FAILURE_WINDOW);
        }
        if map.len() >= MAX_TRACKED {
            return;
        }
        let e = map
            .entry(name.to_lowercase())
            .or_insert((Instant::now(), 0));
        if e.0.elapsed() >= FAILURE_WINDOW {
            *e = (Instant::now(), 0);
        }
        e.1 += 1;
    }

    fn succeeded(&self, name: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&name.to_lowercase());
    }
}

/// The caller of an `/api/v1` request: an API token when `Authorization`
/// is present, else the session cookie; a cookie-authenticated write must
/// carry the session's `X-CSRF-Token`.
pub(crate) async fn authenticate(
    st: &Shared,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Principal, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("Authorization must be `Bearer <token>`"))?;
        let p = st
            .store
            .authenticate_api_token(token)
            .await?
            .ok_or_else(|| ApiError::unauthorized("unknown or revoked API token"))?;
        return Ok(Principal {
            user: p.user,
            role: p.role,
            session: None,
        });
    }
    let Some(cookie) = session_cookie(headers) else {
        return Err(ApiError::unauthorized(
            "sign in (POST /api/v1/login) or present an API token",
        ));
    };
    let (session, user) = st
        .store
        .console_session(&cookie)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the session has ended; sign in again"))?;
    if !matches!(*method, Method::GET | Method::HEAD) {
        let sent = headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !constant_time_eq(sent.as_bytes(), session.csrf.as_bytes()) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "a write from the console needs the session's X-CSRF-Token header",
            ));
        }
    }
    Ok(Principal {
        role: user.role,
        user,
        session: Some(session),
    })
}

/// The value of the session cookie, if the request carries one.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie(st: &Shared, value: &str, max_age: u64) -> HeaderValue {
    let secure = if st.cfg.tls_cert.is_some() {
        "; Secure"
    } else {
        ""
    };
    let c =
        format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&c)
        .unwrap_or_else(|_| HeaderValue::from_static("rampart_session=; Max-Age=0"))
}

#[derive(Deserialize)]
struct Login {
    name: String,
    password: String,
}

/// `POST /api/v1/login`.
pub(crate) async fn login(st: &Shared, call: &Call, _headers: &HeaderMap) -> ApiResult {
    let l: Login = call.json()?;
    if let Some(wait) = st.logins.refused(&l.name) {
        warn!(user = %l.name, "sign-in refused: too many failures");
        let mut r = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_failures",
            format!("too many failed sign-ins for this user; retry in {wait} s"),
        )
        .response();
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(r);
    }
    let Some(user) = st.store.authenticate_user(&l.name, &l.password).await? else {
        st.logins.failed(&l.name);
        warn!(user = %l.name, "sign-in failed");
        return Err(ApiError::unauthorized("unknown user or wrong password"));
    };
    st.logins.succeeded(&l.name);
    if let Err(e) = st.store.prune_console_sessions().await {
        warn!(error = %e, "cannot delete expired console sessions");
    }
    let s = st
        .store
        .create_console_session(user.id, SESSION_LIFETIME)
        .await?;
    info!(user = %user.name, "signed in");
    let mut r = json_response(
        StatusCode::OK,
        &json!({"user": user_json(&user), "csrf": s.csrf}),
    );
    r.headers_mut().insert(
        header::SET_COOKIE,
        cookie(st, &s.token, SESSION_LIFETIME.as_secs()),
    );
    Ok(r)
}

/// `POST /api/v1/logout`: ends the session (nothing for an API token).
pub(crate) async fn logout(cx: &Cx, headers: &HeaderMap) -> ApiResult {
    if cx.who.session.is_some() {
        if let Some(c) = session_cookie(headers) {
            cx.st.store.end_console_session(&c).await?;
        }
    }
    let mut r = no_content()?;
    r.headers_mut()
        .insert(header::SET_COOKIE, cookie(&cx.st, "", 0));
    Ok(r)
}

/// `GET /api/v1/me`.
pub(crate) fn me(cx: &Cx) -> ApiResult {
    let mut u = user_json(&cx.who.user);
    u["role"] = json!(name(cx.who.role));
    ok(&json!({
        "user": u,
        "csrf": cx.who.session.as_ref().map(|s| s.csrf.clone()),
    }))
}

fn parse_role(s: &str) -> Result<Role, ApiError> {
    parse(s).ok_or_else(|| ApiError::bad_request(format!("role {s:?}: admin or analyst")))
}

/// `GET /api/v1/users` (admin).
pub(crate) async fn list_users(cx: &Cx) -> ApiResult {
    cx.admin()?;
    let users = cx.st.store.list_users().await?;
    ok(&json!(users.iter().map(user_json).collect::<Vec<_>>()))
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
    password: String,
    role: String,
}

/// `POST /api/v1/users` (admin).
pub(crate) async fn create_user(cx: &Cx, call: &Call) -> ApiResult {
    cx.admin()?;
    let n: NewUser = call.json()?;
    let role = parse_role(&n.role)?;
    let u = cx.st.store.create_user(&n.name, &n.password, role).await?;
    info!(by = %cx.who.user.name, user = %u.name, "user created");
    created(&user_json(&u))
}

/// `DELETE /api/v1/users/{id}` (admin; not oneself).
pub(crate) async fn delete_user(cx: &Cx, id: &str) -> ApiResult {
    cx.admin()?;
    let id = path_id(id)?;
    if id == cx.who.user.id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "you cannot delete yourself",
        ));
    }
    if !cx.st.store.delete_user(id).await? {
        return Err(not_found(format!("no user {id}")));
    }
    info!(by = %cx.who.user.name, user = id, "user deleted");
    no_content()
}

/// `GET /api/v1/tokens`: the caller's own tokens.
pub(crate) async fn list_tokens(cx: &Cx) -> ApiResult {
    let tokens = cx.st.store.list_api_tokens(cx.who.user.id).await?;
    let v: Vec<_> = tokens
        .iter()
        .map(|t| {
            json!({
                "id": t.id, "label": t.label, "role": name(t.role),
                "created_at": time(t.created_at),
                "last_used_at": t.last_used_at.map(time),
                "revoked_at": t.revoked_at.map(time),
            })
        })
        .collect();
    ok(&json!(v))
}

#[derive(Deserialize)]
struct NewToken {
    label: String,
    role: Option<String>,
}

/// `POST /api/v1/tokens` (admin): a token of the caller's, shown once.
pub(crate) async fn create_token(cx: &Cx, call: &Call) -> ApiResult {
    cx.admin()?;
    let n: NewToken = call.json()?;
    let role = n
        .role
        .as_deref()
        .map(parse_role)
        .transpose()?
        .unwrap_or(cx.who.role);
    let issued = cx
        .st
        .store
        .create_api_token(cx.who.user.id, &n.label, role)
        .await?;
    info!(user = %cx.who.user.name, token = issued.row.id, "API token created");
    created(&json!({
        "id": issued.row.id, "label": issued.row.label, "role": name(issued.row.role),
        "created_at": time(issued.row.created_at), "token": issued.secret,
    }))
}

/// `DELETE /api/v1/tokens/{id}` (admin): revokes one of the caller's tokens.
pub(crate) async fn revoke_token(cx: &Cx, id: &str) -> ApiResult {
    cx.admin()?;
    let id = path_id(id)?;
    let mine = cx.st.store.list_api_tokens(cx.who.user.id).await?;
    if !mine.iter().any(|t| t.id == id && t.revoked_at.is_none()) {
        return Err(not_found(format!("no active token {id} of yours")));
    }
    cx.st.store.revoke_api_token(id).await?;
    info!(user = %cx.who.user.name, token = id, "API token revoked");
    no_content()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; rampart_session=abc ; b=2"),
        );
        assert_eq!(session_cookie(&h).as_deref(), Some("abc"));
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("rampart_session="));
        assert_eq!(session_cookie(&h), None);
    }

    #[test]
    fn throttle_refuses_after_the_limit() {
        let t = LoginThrottle::default();
        for _ in 0..MAX_FAILURES - 1 {
            t.failed("Admin");
        }
        assert_eq!(t.refused("admin"), None);
        t.failed("admin");
        assert!(t.refused("ADMIN").is_some());
        t.succeeded("admin");
        assert_eq!(t.refused("admin"), None);
    }

    #[test]
    fn csrf_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
