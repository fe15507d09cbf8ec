//! HTTP plumbing: errors, bounded bodies, form and query decoding, response builders.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};

pub(crate) type Resp = Response<Full<Bytes>>;

/// Largest request body accepted: 1 MiB.
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// What can go wrong while handling a request. Each surface (HTML, JSON, GraphQL, SOAP) renders
/// these in its own format.
#[derive(Debug)]
pub(crate) enum AppError {
    BadRequest(String),
    Unauthorized,
    Forbidden,
    NotFound,
    /// Validation failed: one message per problem.
    Invalid(Vec<String>),
    MethodNotAllowed(&'static str),
    PayloadTooLarge,
    UnsupportedMediaType(&'static str),
    Internal,
}

impl AppError {
    pub(crate) fn bad(msg: impl Into<String>) -> Self {
        AppError::BadRequest(msg.into())
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        AppError::Invalid(vec![msg.into()])
    }

    pub(crate) fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub(crate) fn message(&self) -> String {
        match self {
            AppError::BadRequest(m) => m.clone(),
            AppError::Unauthorized => "authentication required".into(),
            AppError::Forbidden => "you are not allowed to do that".into(),
            AppError::NotFound => "not found".into(),
            AppError::Invalid(msgs) => msgs.join("; "),
            AppError::MethodNotAllowed(_) => "method not allowed".into(),
            AppError::PayloadTooLarge => format!("request body larger than {MAX_BODY} bytes"),
            AppError::UnsupportedMediaType(expected) => format!("expected content type {expected}"),
            AppError::Internal => "internal server error".into(),
        }
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        tracing::error!(error = %e, "database error");
        AppError::Internal
    }
}

pub(crate) type AppResult<T> = Result<T, AppError>;

/// Reads a body, refusing more than [`MAX_BODY`] bytes.
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: hyper::body::Incoming,
) -> AppResult<Bytes> {
    if let Some(len) = headers.get(header::CONTENT_LENGTH) {
        match len.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok()) {
            Some(n) if n > MAX_BODY as u64 => return Err(AppError::PayloadTooLarge),
            Some(_) => {}
            None => return Err(AppError::bad("invalid Content-Length")),
        }
    }
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(AppError::PayloadTooLarge)
        }
        Err(_) => Err(AppError::bad("could not read the request body")),
    }
}

/// The media type of a request, lowercased, without parameters.
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    Some(essence)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes one `application/x-www-form-urlencoded` component.
pub(crate) fn url_decode(s: &str) -> AppResult<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(AppError::bad("malformed percent-encoding")),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| AppError::bad("parameters must be UTF-8"))
}

/// Encodes a string for use in a query string or form.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decoded name/value pairs of a query string or urlencoded form.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn parse(s: &str) -> AppResult<Params> {
        let mut pairs = Vec::new();
        for part in s.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((url_decode(k)?, url_decode(v)?));
            if pairs.len() > 256 {
                return Err(AppError::bad("too many parameters"));
            }
        }
        Ok(Params(pairs))
    }

    /// Parses a urlencoded form body, checking the content type.
    pub(crate) fn form(headers: &HeaderMap, body: &[u8]) -> AppResult<Params> {
        match media_type(headers).as_deref() {
            None | Some("application/x-www-form-urlencoded") => {}
            Some(_) => {
                return Err(AppError::UnsupportedMediaType(
                    "application/x-www-form-urlencoded",
                ))
            }
        }
        let text = std::str::from_utf8(body).map_err(|_| AppError::bad("form must be UTF-8"))?;
        Params::parse(text)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value, or empty when absent.
    pub(crate) fn str(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// An optional integer parameter; present but not an integer is a 400.
    pub(crate) fn int(&self, name: &str) -> AppResult<Option<i64>> {
        match self.get(name).map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(Some)
                .map_err(|_| AppError::bad(format!("parameter {name} must be an integer"))),
        }
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn base(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Resp {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

pub(crate) fn html(status: StatusCode, body: String) -> Resp {
    let mut resp = base(status, "text/html; charset=utf-8", body);
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Resp {
    let mut resp = base(status, "application/json", value.to_string());
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub(crate) fn xml(status: StatusCode, body: String) -> Resp {
    base(status, "text/xml; charset=utf-8", body)
}

pub(crate) fn bytes(content_type: &'static str, body: impl Into<Bytes>) -> Resp {
    base(StatusCode::OK, content_type, body)
}

/// A `303 See Other` redirect to a local path.
pub(crate) fn redirect(location: &str) -> Resp {
    let mut resp = base(
        StatusCode::SEE_OTHER,
        "text/plain; charset=utf-8",
        "See Other",
    );
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

pub(crate) fn with_cookie(mut resp: Resp, cookie: &str) -> Resp {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

pub(crate) fn with_header(mut resp: Resp, name: header::HeaderName, value: &str) -> Resp {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
    resp
}

/// Only local, absolute paths are followed after login: no open redirects.
pub(crate) fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok {
        next
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_forms() {
        let p = Params::parse("a=1&b=hello+world&c=%C3%A9&d&=x").unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), Some("hello world"));
        assert_eq!(p.get("c"), Some("é"));
        assert_eq!(p.get("d"), Some(""));
        assert!(Params::parse("a=%zz").is_err());
        assert!(Params::parse("a=%").is_err());
        assert!(Params::parse("a=%ff").is_err());
        assert_eq!(url_decode(&url_encode("a b/é&?")).unwrap(), "a b/é&?");
    }

    #[test]
    fn escapes_html() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn next_is_local() {
        assert_eq!(safe_next("/cart"), "/cart");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil"), "/");
    }
}
