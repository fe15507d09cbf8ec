//! The pages the node itself answers with: blocked, too large, upstream
//! errors. JSON for API clients, HTML for browsers, chosen by `Accept`.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full};

use crate::body::ProxyBody;

fn wants_html(accept: Option<&[u8]>) -> bool {
    let Some(a) = accept.and_then(|v| std::str::from_utf8(v).ok()) else {
        return false;
    };
    let pos = |needle: &str| a.find(needle);
    match (pos("text/html"), pos("application/json")) {
        (Some(h), Some(j)) => h < j,
        (Some(_), None) => true,
        _ => false,
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The body and content type of a page answered by the node: `error` is a
/// stable code (`blocked`, `body_too_large`, `upstream_unavailable`...).
/// JSON unless `accept` prefers HTML. Adapters embedded in another server
/// answer with the same page.
pub fn page_body(
    status: u16,
    error: &str,
    message: &str,
    request_id: &str,
    accept: Option<&[u8]>,
) -> (&'static str, String) {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    if wants_html(accept) {
        let reason = status.canonical_reason().unwrap_or("Error");
        let body = format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{code} {reason}</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;color:#222}}code{{background:#eee;padding:.1rem .3rem}}</style></head>\
<body><h1>{code} {reason}</h1><p>{msg}</p><p>Request id: <code>{id}</code></p>\
<p>If you believe this is a mistake, contact the site's administrators and quote the request id.</p></body></html>\n",
            code = status.as_u16(),
            msg = escape_html(message),
            id = escape_html(request_id),
        );
        ("text/html; charset=utf-8", body)
    } else {
        let body = serde_json::json!({
            "error": error,
            "message": message,
            "request_id": request_id,
        })
        .to_string()
            + "\n";
        ("application/json", body)
    }
}

/// A page answered by the node (see [`page_body`]).
pub fn page(
    status: u16,
    error: &str,
    message: &str,
    request_id: &str,
    accept: Option<&HeaderValue>,
) -> Response<ProxyBody> {
    let (ctype, body) = page_body(
        status,
        error,
        message,
        request_id,
        accept.map(|a| a.as_bytes()),
    );
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    let mut resp = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|e| match e {})
            .boxed_unsync(),
    );
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-request-id", v);
    }
    resp
}

/// The page of a request shed under overload: 503 with `Retry-After`
/// (seconds).
pub fn overloaded(
    request_id: &str,
    accept: Option<&HeaderValue>,
    retry_after_s: u32,
) -> Response<ProxyBody> {
    let mut resp = page(
        503,
        "overloaded",
        "The site is handling too many requests right now. Please try again in a moment.",
        request_id,
        accept,
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
    resp
}
