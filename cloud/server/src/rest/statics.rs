//! The console's files (embedded at build time), the OpenAPI document,
//! the replica's metrics, and the headers every console answer carries.

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};

use crate::api::{ApiError, Body};
use crate::Shared;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/console.rs"));
}

/// The console runs only its own scripts and styles, in no frame.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

/// Headers of every console and REST answer.
pub(crate) fn security_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn file(name: &str) -> Option<&'static [u8]> {
    embedded::FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| *b)
}

fn bytes_response(status: StatusCode, ct: &'static str, body: Bytes) -> Response<Body> {
    let mut r = Response::new(Body::new(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r
}

/// `GET /api/v1/openapi.yaml`.
pub(crate) fn openapi() -> Response<Body> {
    bytes_response(
        StatusCode::OK,
        "application/yaml",
        Bytes::from_static(embedded::OPENAPI.as_bytes()),
    )
}

/// `/`, `/console/NAME`, `/favicon.ico` and `/metrics`.
pub(crate) async fn serve(
    st: &Shared,
    req: &Request<hyper::body::Incoming>,
    path: &str,
) -> Response<Body> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("{} is not allowed on {path}", req.method()),
        )
        .response();
    }
    if path == "/metrics" {
        let text = crate::metrics::render(st).await;
        return bytes_response(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            Bytes::from(text),
        );
    }
    let name = match path {
        "/" => "index.html",
        "/favicon.ico" => "favicon.ico",
        p => p.strip_prefix("/console/").unwrap_or(""),
    };
    let mut r = match file(name) {
        Some(b) => {
            let mut r = bytes_response(StatusCode::OK, content_type(name), Bytes::from_static(b));
            // The page itself is always fetched fresh; its scripts briefly cached.
            let cache = if name == "index.html" {
                "no-store"
            } else {
                "private, max-age=60"
            };
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            r
        }
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such resource: {path}"),
        )
        .response(),
    };
    security_headers(r.headers_mut());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_is_embedded() {
        let index = file("index.html").expect("index.html is embedded");
        let text = String::from_utf8_lossy(index);
        assert!(
            text.contains("/console/"),
            "the page loads its scripts from /console/"
        );
        assert!(!text.contains("<script>"), "no inline script (CSP)");
        assert!(embedded::OPENAPI.starts_with("openapi:"));
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
    }
}
