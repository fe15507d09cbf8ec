//! An upstream server for a synthetic application, answering like the
//! real thing: pages or JSON for known endpoints and existing objects, 404
//! for unknown paths and objects, 405 for other methods, sign-in with the
//! application's users (200 and a session, else 401), 401 without a session
//! where one is needed, 403 for others' objects and admin pages, 400 when a
//! required parameter is missing.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rampart_learn::{Function, ParamFormat};
use tokio::net::TcpListener;

use crate::app::{App, BodyKind, Loc, Route};
use crate::rng::{hash_str, Rng};
use crate::values::{self, ValueGen};

/// Largest request body read.
const MAX_BODY: usize = 4 << 20;

type Resp = Response<Full<Bytes>>;

/// The server's state: the application, its object sets and the sessions
/// it opened.
#[derive(Debug)]
pub struct Upstream {
    app: Arc<App>,
    sets: Vec<HashSet<String>>,
    /// Session token -> user index (`None` for accounts registered at run
    /// time).
    sessions: Mutex<HashMap<String, Option<usize>>>,
    issued: AtomicU64,
}

impl Upstream {
    /// The state for `app`.
    pub fn new(app: Arc<App>) -> Upstream {
        let sets = app
            .collections
            .iter()
            .map(|c| c.ids.iter().cloned().collect())
            .collect();
        Upstream {
            app,
            sets,
            sessions: Mutex::new(HashMap::new()),
            issued: AtomicU64::new(0),
        }
    }

    fn issue(&self, user: Option<usize>) -> String {
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        let mut r = Rng::new(hash_str(n, &self.app.name));
        let token = match self.app.session_format {
            ParamFormat::Uuid => values::uuid(&mut r),
            ParamFormat::Base64 => ValueGen::Base64(32).value(ParamFormat::Base64, &mut r),
            _ => ValueGen::Hex(64).value(ParamFormat::Hex, &mut r),
        };
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(token.clone(), user);
        token
    }

    /// The session a request presents: `Some(user)` when signed in.
    fn session(&self, headers: &http::HeaderMap) -> Option<(String, Option<usize>)> {
        let mut candidates = Vec::new();
        if let Some(a) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
            if let Some(t) = a.strip_prefix("Bearer ") {
                candidates.push(t.trim().to_string());
            }
        }
        for v in headers.get_all("cookie") {
            let Ok(v) = v.to_str() else { continue };
            for kv in v.split(';') {
                if let Some((k, val)) = kv.trim().split_once('=') {
                    if k == self.app.session_cookie {
                        candidates.push(val.to_string());
                    }
                }
            }
        }
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        candidates
            .into_iter()
            .find_map(|t| sessions.get(&t).map(|u| (t.clone(), *u)))
    }

    fn end_session(&self, token: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(token);
    }

    /// Answers one request.
    pub fn answer(
        &self,
        method: &str,
        target: &str,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Resp {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target, None),
        };
        let json_body: Option<serde_json::Value> = if body.is_empty() {
            None
        } else {
            serde_json::from_slice(body).ok()
        };
        let op: Option<String> =
            if let Some(a) = headers.get("soapaction").and_then(|v| v.to_str().ok()) {
                let a = a.trim().trim_matches('"');
                Some(a.rsplit(['#', '/']).next().unwrap_or(a).to_string())
            } else {
                json_body
                    .as_ref()
                    .and_then(|j| j.get("operationName"))
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
        let html_default = self.app.endpoints.iter().any(|e| e.html);
        let (i, values) = match self
            .app
            .route_with(method, path, op.as_deref(), Some(&self.sets))
        {
            Route::Found(i, v) => (i, v),
            Route::UnknownObject(i) => {
                let html = self.app.endpoints[i].html;
                return error(StatusCode::NOT_FOUND, html, "not found");
            }
            Route::MethodNotAllowed(allow) => {
                let mut r = error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    html_default,
                    "method not allowed",
                );
                if let Ok(v) = http::HeaderValue::from_str(&allow.join(", ")) {
                    r.headers_mut().insert(http::header::ALLOW, v);
                }
                return r;
            }
            Route::NotFound => return error(StatusCode::NOT_FOUND, html_default, "not found"),
        };
        let ep = &self.app.endpoints[i];
        let html = ep.html;
        let session = self.session(headers);
        let user = session
            .as_ref()
            .and_then(|(_, u)| *u)
            .and_then(|u| self.app.users.get(u));
        if ep.auth && session.is_none() {
            return error(StatusCode::UNAUTHORIZED, html, "sign in first");
        }
        let is_admin = user.is_some_and(|u| u.admin);
        if ep.admin && !is_admin {
            return error(StatusCode::FORBIDDEN, html, "forbidden");
        }
        for (k, p) in ep.path_params.iter().enumerate() {
            if p.owner && !is_admin && user.map(|u| u.id.to_string()) != values.get(k).cloned() {
                return error(StatusCode::FORBIDDEN, html, "forbidden");
            }
        }
        // Parameters as sent.
        let query_map = parse_form(query.unwrap_or(""));
        let form_map = if ep.body == BodyKind::Form {
            parse_form(std::str::from_utf8(body).unwrap_or(""))
        } else {
            HashMap::new()
        };
        let body_text = String::from_utf8_lossy(body);
        let lookup = |loc: &Loc| -> Option<String> {
            match loc {
                Loc::Query(n) => query_map.get(n).cloned(),
                Loc::Form(n) => form_map.get(n).cloned(),
                Loc::Json(path) => {
                    let mut v = json_body.as_ref()?;
                    for p in path {
                        v = v.get(p)?;
                    }
                    Some(match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                }
                Loc::GraphQl(n) => json_body
                    .as_ref()?
                    .get("variables")?
                    .get(n)
                    .map(|v| v.to_string()),
                Loc::Multipart(n) | Loc::File(n) => body_text
                    .contains(&format!("name=\"{n}\""))
                    .then(String::new),
                Loc::Header(n) => headers
                    .get(n.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
                Loc::Cookie(_) => Some(String::new()),
                Loc::Soap { field, .. } => {
                    let last = field.rsplit('/').next().unwrap_or(field);
                    let name = last.strip_prefix('@').unwrap_or(last);
                    body_text.contains(name).then(String::new)
                }
            }
        };
        if ep
            .params
            .iter()
            .any(|p| p.required && lookup(&p.loc).is_none())
        {
            return error(
                StatusCode::BAD_REQUEST,
                html,
                "a required parameter is missing",
            );
        }
        let title = ep.template.clone();
        match ep.function {
            Function::Login if ep.method != "GET" => {
                let id = ep
                    .params
                    .iter()
                    .find(|p| matches!(p.gen, ValueGen::Username | ValueGen::LoginEmail))
                    .and_then(|p| lookup(&p.loc));
                let pw = ep
                    .params
                    .iter()
                    .find(|p| p.gen == ValueGen::Password)
                    .and_then(|p| lookup(&p.loc));
                let found = id.as_deref().and_then(|id| {
                    self.app
                        .users
                        .iter()
                        .position(|u| u.username == id || u.email.eq_ignore_ascii_case(id))
                });
                match (found, pw) {
                    (Some(u), Some(pw)) if self.app.users[u].password == pw => {
                        let token = self.issue(Some(u));
                        self.signed_in(StatusCode::OK, html, &token, u as u64 + 1)
                    }
                    _ => error(StatusCode::UNAUTHORIZED, html, "invalid credentials"),
                }
            }
            Function::Registration if ep.method != "GET" => {
                let token = self.issue(None);
                let n = 1000 + self.issued.load(Ordering::Relaxed);
                self.signed_in(StatusCode::CREATED, html, &token, n)
            }
            Function::Logout => {
                if let Some((t, _)) = &session {
                    self.end_session(t);
                }
                let mut r = page(StatusCode::OK, html, "Signed out", &self.app.name, &[]);
                if let Ok(v) = http::HeaderValue::from_str(&format!(
                    "{}=; Path=/; Max-Age=0",
                    self.app.session_cookie
                )) {
                    r.headers_mut().insert(http::header::SET_COOKIE, v);
                }
                r
            }
            Function::Static => static_file(path),
            Function::Download if ep.method == "GET" => {
                let mut r = Response::new(Full::new(Bytes::from(format!(
                    "id,name,amount\n1,{},{}\n",
                    path,
                    hash_str(1, path) % 1000
                ))));
                r.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("text/csv"),
                );
                r
            }
            _ => {
                let status = match ep.method.as_str() {
                    "POST" if matches!(ep.function, Function::ApiWrite | Function::Upload) => {
                        StatusCode::CREATED
                    }
                    "DELETE" => StatusCode::NO_CONTENT,
                    _ => StatusCode::OK,
                };
                if ep.body == BodyKind::Soap {
                    let op = ep.operation.clone().unwrap_or_default();
                    return xml(
                        StatusCode::OK,
                        format!(
                            "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><{op}Response><status>ok</status><id>{}</id></{op}Response></soap:Body></soap:Envelope>",
                            hash_str(2, path) % 100_000
                        ),
                    );
                }
                if status == StatusCode::NO_CONTENT {
                    let mut r = Response::new(Full::new(Bytes::new()));
                    *r.status_mut() = status;
                    return r;
                }
                page(status, html, &title, &self.app.name, &values)
            }
        }
    }

    fn signed_in(&self, status: StatusCode, html: bool, token: &str, id: u64) -> Resp {
        if html {
            let mut r = page(status, true, "Welcome", &self.app.name, &[]);
            if let Ok(v) = http::HeaderValue::from_str(&format!(
                "{}={token}; Path=/; HttpOnly; SameSite=Lax",
                self.app.session_cookie
            )) {
                r.headers_mut().insert(http::header::SET_COOKIE, v);
            }
            r
        } else {
            json(
                status,
                serde_json::json!({ "token": token, "token_type": "Bearer", "expires_in": 3600, "user": { "id": id } }),
            )
        }
    }
}

fn parse_form(s: &str) -> HashMap<String, String> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (unpct(k), unpct(v)),
            None => (unpct(kv), String::new()),
        })
        .collect()
}

fn unpct(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match h {
                    Some(x) => {
                        out.push(x);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn with_type(mut r: Resp, ct: &'static str) -> Resp {
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(ct),
    );
    r
}

fn json(status: StatusCode, v: serde_json::Value) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    *r.status_mut() = status;
    with_type(r, "application/json")
}

fn xml(status: StatusCode, s: String) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(s)));
    *r.status_mut() = status;
    with_type(r, "text/xml; charset=utf-8")
}

fn html_page(status: StatusCode, title: &str, app: &str, body: &str) -> Resp {
    let s = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} | {app}</title><link rel=\"stylesheet\" href=\"/static/css/main.css\"></head><body><header><a href=\"/\">{app}</a></header><main><h1>{title}</h1>{body}</main></body></html>"
    );
    let mut r = Response::new(Full::new(Bytes::from(s)));
    *r.status_mut() = status;
    with_type(r, "text/html; charset=utf-8")
}

fn error(status: StatusCode, html: bool, message: &str) -> Resp {
    if html {
        html_page(status, message, "error", &format!("<p>{message}</p>"))
    } else {
        json(
            status,
            serde_json::json!({ "error": message, "status": status.as_u16() }),
        )
    }
}

/// A plausible page or JSON document for a resource, the same for the same
/// path values.
fn page(status: StatusCode, html: bool, title: &str, app: &str, values: &[String]) -> Resp {
    let mut r = Rng::new(hash_str(7, &format!("{title}{values:?}")));
    if html {
        let items: String = (0..r.range(2, 6))
            .map(|_| format!("<li>{}</li>", values::words(&mut r, 3, " ")))
            .collect();
        html_page(
            status,
            title,
            app,
            &format!("<p>{}</p><ul>{items}</ul>", values::words(&mut r, 8, " ")),
        )
    } else {
        let id = values
            .last()
            .cloned()
            .unwrap_or_else(|| r.range(1, 999).to_string());
        json(
            status,
            serde_json::json!({
                "id": id,
                "name": values::words(&mut r, 2, " "),
                "updated_at": "2024-05-12T10:00:00Z",
                "items": (0..r.range(0, 4)).map(|k| serde_json::json!({ "id": k + 1, "label": values::words(&mut r, 2, " ") })).collect::<Vec<_>>(),
            }),
        )
    }
}

fn static_file(path: &str) -> Resp {
    let ct = match path.rsplit('.').next().unwrap_or("") {
        "css" => "text/css",
        "js" => "application/javascript",
        "png" => "image/png",
        "jpg" => "image/jpeg",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "json" => "application/json",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    };
    let r = Response::new(Full::new(Bytes::from(format!("/* {path} */\n"))));
    with_type(r, ct)
}

async fn handle(up: &Upstream, req: Request<Incoming>) -> Resp {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return error(StatusCode::PAYLOAD_TOO_LARGE, false, "body too large"),
    };
    let target = parts.uri.path_and_query().map_or_else(
        || parts.uri.path().to_string(),
        |pq| pq.as_str().to_string(),
    );
    up.answer(parts.method.as_str(), &target, &parts.headers, &body)
}

/// Serves `app` on `listener` over HTTP/1.1 (keep-alive) until the future
/// is dropped.
pub async fn serve(app: Arc<App>, listener: TcpListener) {
    let up = Arc::new(Upstream::new(app));
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let up = Arc::clone(&up);
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let up = Arc::clone(&up);
                async move { Ok::<_, Infallible>(handle(&up, req).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
