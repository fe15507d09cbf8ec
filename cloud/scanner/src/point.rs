//! Request points (spec/request-points.md) and the request a probe builds
//! from a [`Target`](crate::Target) with one point set to a value.
//!
//! Supported points: `query.NAME` (nested members become `a[b]`),
//! `path[N]`, `body` (the raw body), `body:form.NAME`, `body:json...`
//! (members and indexes, nested), `header["name"]` / `header.name` and
//! `cookie.NAME`. Anything else (other layers such as `:xml` or
//! `:base64`, `method`, `uri`, framing headers) is
//! [`PointError::Unsupported`].

use std::fmt;

use serde_json::Value;

/// An error about a request point or the value it should hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PointError {
    /// The point is well formed but the scanner cannot set it.
    #[error("unsupported point `{point}`: {why}")]
    Unsupported { point: String, why: String },
    /// The point is not written as spec/request-points.md says.
    #[error("malformed point `{point}`: {why}")]
    Syntax { point: String, why: String },
    /// The value cannot be placed at the point (e.g. a line break in a header).
    #[error("value cannot be placed at `{point}`: {why}")]
    Value { point: String, why: String },
}

/// One step inside a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonStep {
    Key(String),
    Index(usize),
}

/// A parsed, supported request point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Point {
    /// `query.NAME`; nested members are flattened to `a[b][c]`.
    Query(String),
    /// `path[N]`, 0-based over the path segments.
    PathSegment(usize),
    /// `body`: the whole raw body.
    Body,
    /// `body:form.NAME` (nested members flattened like `query`).
    Form(String),
    /// `body:json` followed by members and indexes (empty: the whole document).
    Json(Vec<JsonStep>),
    /// `header["name"]` or `header.name` (lower-cased).
    Header(String),
    /// `cookie.NAME`.
    Cookie(String),
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Point::Query(k) => write!(f, "query[{k:?}]"),
            Point::PathSegment(n) => write!(f, "path[{n}]"),
            Point::Body => write!(f, "body"),
            Point::Form(k) => write!(f, "body:form[{k:?}]"),
            Point::Json(steps) => {
                write!(f, "body:json")?;
                for s in steps {
                    match s {
                        JsonStep::Key(k) => write!(f, "[{k:?}]")?,
                        JsonStep::Index(i) => write!(f, "[{i}]")?,
                    }
                }
                Ok(())
            }
            Point::Header(h) => write!(f, "header[{h:?}]"),
            Point::Cookie(c) => write!(f, "cookie[{c:?}]"),
        }
    }
}

/// Headers a point or a parameter may not set: framing and routing are the
/// sender's business.
const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
    "expect",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Member(String),
    Index(usize),
    Layer(String),
}

fn syntax(point: &str, why: impl Into<String>) -> PointError {
    PointError::Syntax {
        point: point.to_string(),
        why: why.into(),
    }
}

fn unsupported(point: &str, why: impl Into<String>) -> PointError {
    PointError::Unsupported {
        point: point.to_string(),
        why: why.into(),
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits a point into its source and steps (section 1 of the spec).
fn lex_point(point: &str) -> Result<(String, Vec<Step>), PointError> {
    let chars: Vec<char> = point.chars().collect();
    let mut i = 0;
    let mut source = String::new();
    while i < chars.len() && chars[i].is_ascii_alphabetic() {
        source.push(chars[i]);
        i += 1;
    }
    if source.is_empty() {
        return Err(syntax(point, "expected a source such as `query` or `body`"));
    }
    let ident = |i: &mut usize| -> Result<String, PointError> {
        let mut s = String::new();
        if *i >= chars.len() || !is_ident_start(chars[*i]) {
            return Err(syntax(point, "expected a name"));
        }
        while *i < chars.len() && is_ident_char(chars[*i]) {
            s.push(chars[*i]);
            *i += 1;
        }
        Ok(s)
    };
    let mut steps = Vec::new();
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                steps.push(Step::Member(ident(&mut i)?));
            }
            ':' => {
                i += 1;
                steps.push(Step::Layer(ident(&mut i)?));
            }
            '[' => {
                i += 1;
                if i < chars.len() && chars[i] == '"' {
                    i += 1;
                    let mut s = String::new();
                    let mut closed = false;
                    while i < chars.len() {
                        let c = chars[i];
                        i += 1;
                        match c {
                            '"' => {
                                closed = true;
                                break;
                            }
                            '\\' => {
                                let Some(&e) = chars.get(i) else {
                                    return Err(syntax(point, "dangling backslash"));
                                };
                                i += 1;
                                match e {
                                    '"' | '\\' => s.push(e),
                                    'x' => {
                                        let hex: String = chars.iter().skip(i).take(2).collect();
                                        let Ok(b) = u8::from_str_radix(&hex, 16) else {
                                            return Err(syntax(point, "bad \\x escape"));
                                        };
                                        i += 2;
                                        s.push(char::from(b));
                                    }
                                    _ => return Err(syntax(point, "bad escape in quoted name")),
                                }
                            }
                            _ => s.push(c),
                        }
                    }
                    if !closed {
                        return Err(syntax(point, "unterminated quoted name"));
                    }
                    if chars.get(i) != Some(&']') {
                        return Err(syntax(point, "expected `]`"));
                    }
                    i += 1;
                    steps.push(Step::Member(s));
                } else {
                    let mut n = String::new();
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        n.push(chars[i]);
                        i += 1;
                    }
                    if chars.get(i) != Some(&']') || n.is_empty() {
                        return Err(syntax(point, "expected an index `[N]` or a quoted name"));
                    }
                    i += 1;
                    let Ok(idx) = n.parse::<usize>() else {
                        return Err(syntax(point, "index too large"));
                    };
                    steps.push(Step::Index(idx));
                }
            }
            c => return Err(syntax(point, format!("unexpected character {c:?}"))),
        }
    }
    Ok((source, steps))
}

/// Flattens members into a form key: `a`, `a[b]`, `a[b][c]`.
fn form_key(point: &str, steps: &[Step]) -> Result<String, PointError> {
    let mut key = String::new();
    for (n, s) in steps.iter().enumerate() {
        match s {
            Step::Member(m) if n == 0 => key.push_str(m),
            Step::Member(m) => {
                key.push('[');
                key.push_str(m);
                key.push(']');
            }
            Step::Index(_) => {
                return Err(unsupported(
                    point,
                    "array parameters (`x[0]`) are not replayed",
                ))
            }
            Step::Layer(l) => {
                return Err(unsupported(
                    point,
                    format!("the `:{l}` layer is not replayed"),
                ))
            }
        }
    }
    if key.is_empty() {
        return Err(unsupported(point, "a parameter name is needed"));
    }
    Ok(key)
}

/// Parses a request point the scanner can set.
pub fn parse_point(point: &str) -> Result<Point, PointError> {
    let (source, steps) = lex_point(point)?;
    match source.as_str() {
        "query" => Ok(Point::Query(form_key(point, &steps)?)),
        "path" => match steps.as_slice() {
            [Step::Index(n)] => Ok(Point::PathSegment(*n)),
            [] => Err(unsupported(
                point,
                "the whole path cannot be replaced; use `path[N]`",
            )),
            _ => Err(unsupported(point, "only `path[N]` is supported")),
        },
        "header" => match steps.as_slice() {
            [Step::Member(name)] => {
                let name = name.to_ascii_lowercase();
                if FORBIDDEN_HEADERS.contains(&name.as_str()) || name.starts_with("proxy-") {
                    return Err(unsupported(
                        point,
                        format!("header `{name}` is set by the sender"),
                    ));
                }
                if name == "cookie" {
                    return Err(unsupported(point, "use `cookie.NAME` for cookies"));
                }
                if name.is_empty() || !name.bytes().all(is_token_byte) {
                    return Err(syntax(point, "not a valid header name"));
                }
                Ok(Point::Header(name))
            }
            _ => Err(unsupported(
                point,
                "only whole header values (`header[\"name\"]`) are supported",
            )),
        },
        "cookie" => match steps.as_slice() {
            [Step::Member(name)] if !name.is_empty() && name.bytes().all(is_token_byte) => {
                Ok(Point::Cookie(name.clone()))
            }
            [Step::Member(_)] => Err(syntax(point, "not a valid cookie name")),
            _ => Err(unsupported(point, "only `cookie.NAME` is supported")),
        },
        "body" => match steps.split_first() {
            None => Ok(Point::Body),
            Some((Step::Layer(l), rest)) if l == "form" => Ok(Point::Form(form_key(point, rest)?)),
            Some((Step::Layer(l), rest)) if l == "json" => {
                let mut out = Vec::new();
                for s in rest {
                    match s {
                        Step::Member(m) => out.push(JsonStep::Key(m.clone())),
                        Step::Index(i) => {
                            if *i > 1024 {
                                return Err(unsupported(point, "JSON index above 1024"));
                            }
                            out.push(JsonStep::Index(*i))
                        }
                        Step::Layer(l) => {
                            return Err(unsupported(
                                point,
                                format!("the `:{l}` layer inside JSON is not replayed"),
                            ))
                        }
                    }
                }
                Ok(Point::Json(out))
            }
            Some((Step::Layer(l), _)) => Err(unsupported(
                point,
                format!(
                    "the `:{l}` body layer is not replayed (use `body` to send a whole document)"
                ),
            )),
            Some(_) => Err(syntax(point, "expected a layer such as `body:json`")),
        },
        "method" | "uri" => Err(unsupported(point, "the request line is not replayed")),
        other => Err(syntax(point, format!("unknown source `{other}`"))),
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Percent-encodes every byte except the RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Percent-decodes a string (`+` is a space when `plus` is true); invalid
/// escapes are kept as written.
pub fn percent_decode(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hi = (b[i + 1] as char).to_digit(16);
                let lo = (b[i + 2] as char).to_digit(16);
                match (hi, lo) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The body a probe carries.
#[derive(Debug, Clone, PartialEq)]
enum BodyState {
    None,
    Raw(String),
    /// Encoded `key=value` pairs in order.
    Form(Vec<(String, String)>),
    Json(Value),
}

/// A request under construction: the target's request with parameters and
/// the probed point applied.
#[derive(Debug, Clone)]
pub(crate) struct RequestDraft {
    pub method: String,
    base: String,
    /// Raw (already encoded) path segments.
    segments: Vec<String>,
    trailing_slash: bool,
    /// Raw query pairs (`None` value: a key without `=`); `None`: no `?`.
    query: Option<Vec<(String, Option<String>)>>,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    /// Encoded cookie pairs.
    cookies: Vec<(String, String)>,
    body: BodyState,
}

impl RequestDraft {
    /// Starts from `base` (`http://host:port`, optionally with a path prefix)
    /// and the concrete `path` (which may carry a query string).
    pub fn new(method: &str, base: &str, path: &str) -> Self {
        let (p, q) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        let p = p.strip_prefix('/').unwrap_or(p);
        let trailing_slash = p.ends_with('/');
        let p = p.strip_suffix('/').unwrap_or(p);
        let segments = if p.is_empty() {
            Vec::new()
        } else {
            p.split('/').map(str::to_string).collect()
        };
        let query = q.map(|q| {
            q.split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| match kv.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (kv.to_string(), None),
                })
                .collect()
        });
        RequestDraft {
            method: method.to_ascii_uppercase(),
            base: base.trim_end_matches('/').to_string(),
            segments,
            trailing_slash,
            query,
            headers: Vec::new(),
            cookies: Vec::new(),
            body: BodyState::None,
        }
    }

    /// Sets `point` to `value`. `json_literal`: a JSON body value that parses
    /// as JSON is inserted as such (used for parameters), otherwise as a string.
    pub fn set(
        &mut self,
        point: &Point,
        value: &str,
        json_literal: bool,
    ) -> Result<(), PointError> {
        let name = point.to_string();
        match point {
            Point::Query(key) => {
                let q = self.query.get_or_insert_with(Vec::new);
                let enc = percent_encode(value);
                let mut found = false;
                for (k, v) in q.iter_mut() {
                    if percent_decode(k, true) == *key {
                        if found {
                            continue;
                        }
                        *v = Some(enc.clone());
                        found = true;
                    }
                }
                // Repeated keys: every other occurrence is dropped so the probe
                // value is the only one the application sees.
                if found {
                    let mut seen = false;
                    q.retain(|(k, _)| {
                        if percent_decode(k, true) == *key {
                            if seen {
                                return false;
                            }
                            seen = true;
                        }
                        true
                    });
                } else {
                    q.push((percent_encode(key), Some(enc)));
                }
            }
            Point::PathSegment(n) => {
                let len = self.segments.len();
                let Some(seg) = self.segments.get_mut(*n) else {
                    return Err(PointError::Value {
                        point: name,
                        why: format!("the path has {len} segment(s)"),
                    });
                };
                *seg = percent_encode(value);
            }
            Point::Body => {
                if matches!(self.body, BodyState::Form(_) | BodyState::Json(_)) {
                    return Err(PointError::Value {
                        point: name,
                        why: "the body is already a form or JSON document".into(),
                    });
                }
                self.body = BodyState::Raw(value.to_string());
            }
            Point::Form(key) => {
                if matches!(self.body, BodyState::None) {
                    self.body = BodyState::Form(Vec::new());
                }
                let BodyState::Form(pairs) = &mut self.body else {
                    return Err(PointError::Value {
                        point: name,
                        why: "the body is already raw or JSON".into(),
                    });
                };
                let enc = percent_encode(value);
                if let Some(pair) = pairs
                    .iter_mut()
                    .find(|(k, _)| percent_decode(k, true) == *key)
                {
                    pair.1 = enc;
                } else {
                    pairs.push((percent_encode(key), enc));
                }
            }
            Point::Json(steps) => {
                let v = if json_literal {
                    serde_json::from_str::<Value>(value)
                        .unwrap_or_else(|_| Value::String(value.to_string()))
                } else {
                    Value::String(value.to_string())
                };
                if matches!(self.body, BodyState::None) {
                    self.body = BodyState::Json(Value::Null);
                }
                let BodyState::Json(root) = &mut self.body else {
                    return Err(PointError::Value {
                        point: name,
                        why: "the body is already raw or a form".into(),
                    });
                };
                json_set(root, steps, v).map_err(|why| PointError::Value { point: name, why })?;
            }
            Point::Header(h) => {
                if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                    return Err(PointError::Value {
                        point: name,
                        why: "a header value cannot hold CR, LF or NUL".into(),
                    });
                }
                self.headers.retain(|(k, _)| k != h);
                self.headers.push((h.clone(), value.to_string()));
            }
            Point::Cookie(c) => {
                let enc = percent_encode(value);
                if let Some(pair) = self.cookies.iter_mut().find(|(k, _)| k == c) {
                    pair.1 = enc;
                } else {
                    self.cookies.push((c.clone(), enc));
                }
            }
        }
        Ok(())
    }

    /// The URL the probe goes to.
    pub fn url(&self) -> String {
        let mut url = self.base.clone();
        url.push('/');
        url.push_str(&self.segments.join("/"));
        if self.trailing_slash && !self.segments.is_empty() {
            url.push('/');
        }
        if let Some(q) = &self.query {
            url.push('?');
            let parts: Vec<String> = q
                .iter()
                .map(|(k, v)| match v {
                    Some(v) => format!("{k}={v}"),
                    None => k.clone(),
                })
                .collect();
            url.push_str(&parts.join("&"));
        }
        url
    }

    /// The cookie pairs, encoded.
    pub fn cookie_header(&self) -> Option<String> {
        if self.cookies.is_empty() {
            return None;
        }
        Some(
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }

    pub fn clear_cookies(&mut self) {
        self.cookies.clear();
    }

    /// Keeps only the cookie `name`.
    pub fn retain_cookie(&mut self, name: &str) {
        self.cookies.retain(|(k, _)| k == name);
    }

    /// The body text and its default content type.
    pub fn body(&self) -> Option<(String, &'static str)> {
        match &self.body {
            BodyState::None => None,
            BodyState::Raw(s) => {
                let t = s.trim_start();
                let ct = if t.starts_with('<') {
                    "application/xml"
                } else if t.starts_with('{') || t.starts_with('[') {
                    "application/json"
                } else {
                    "text/plain; charset=utf-8"
                };
                Some((s.clone(), ct))
            }
            BodyState::Form(p) => Some((
                p.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&"),
                "application/x-www-form-urlencoded",
            )),
            BodyState::Json(v) => Some((v.to_string(), "application/json")),
        }
    }
}

fn json_set(root: &mut Value, steps: &[JsonStep], v: Value) -> Result<(), String> {
    let Some((first, rest)) = steps.split_first() else {
        *root = v;
        return Ok(());
    };
    match first {
        JsonStep::Key(k) => {
            if root.is_null() {
                *root = Value::Object(serde_json::Map::new());
            }
            let Value::Object(map) = root else {
                return Err(format!("`{k}`: the value there is not an object"));
            };
            let child = map.entry(k.clone()).or_insert(Value::Null);
            json_set(child, rest, v)
        }
        JsonStep::Index(i) => {
            if root.is_null() {
                *root = Value::Array(Vec::new());
            }
            let Value::Array(arr) = root else {
                return Err(format!("[{i}]: the value there is not an array"));
            };
            while arr.len() <= *i {
                arr.push(Value::Null);
            }
            json_set(&mut arr[*i], rest, v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_supported_points() {
        assert_eq!(parse_point("query.id").unwrap(), Point::Query("id".into()));
        assert_eq!(
            parse_point("query.u.name").unwrap(),
            Point::Query("u[name]".into())
        );
        assert_eq!(
            parse_point("query[\"a b\"]").unwrap(),
            Point::Query("a b".into())
        );
        assert_eq!(parse_point("path[2]").unwrap(), Point::PathSegment(2));
        assert_eq!(parse_point("body").unwrap(), Point::Body);
        assert_eq!(parse_point("body:form.q").unwrap(), Point::Form("q".into()));
        assert_eq!(
            parse_point("body:json.user.tags[1]").unwrap(),
            Point::Json(vec![
                JsonStep::Key("user".into()),
                JsonStep::Key("tags".into()),
                JsonStep::Index(1)
            ])
        );
        assert_eq!(
            parse_point("header[\"X-Token\"]").unwrap(),
            Point::Header("x-token".into())
        );
        assert_eq!(
            parse_point("header.referer").unwrap(),
            Point::Header("referer".into())
        );
        assert_eq!(
            parse_point("cookie.sid").unwrap(),
            Point::Cookie("sid".into())
        );
        assert_eq!(
            parse_point("query[\"\\x41\\\"\"]").unwrap(),
            Point::Query("A\"".into())
        );
    }

    #[test]
    fn rejects_unsupported_points_without_panicking() {
        for p in [
            "body:xml.order.note",
            "query.q:base64",
            "method",
            "uri",
            "header[\"host\"]",
            "header[\"content-length\"]",
            "header.authorization:basic.user",
            "query.x[0]",
            "path",
            "",
            "query.",
            "query[\"x",
            "query[99999999999999999999999]",
            "nope.x",
            "body:json.a[5000]",
            "cookie[\"a b\"]",
            "query.1a",
        ] {
            let e = parse_point(p).unwrap_err();
            assert!(!e.to_string().is_empty(), "{p}");
        }
        assert!(matches!(
            parse_point("body:xml.a").unwrap_err(),
            PointError::Unsupported { .. }
        ));
    }

    #[test]
    fn encodes_values_where_they_go() {
        let mut d = RequestDraft::new(
            "get",
            "http://127.0.0.1:8080/",
            "/products/12?id=1&x=a%20b&id=3",
        );
        d.set(&Point::Query("id".into()), "1' OR '1'='1 & ü", false)
            .unwrap();
        d.set(&Point::PathSegment(1), "../etc/passwd", false)
            .unwrap();
        assert_eq!(
            d.url(),
            "http://127.0.0.1:8080/products/..%2Fetc%2Fpasswd?id=1%27%20OR%20%271%27%3D%271%20%26%20%C3%BC&x=a%20b"
        );
        let mut d = RequestDraft::new("POST", "http://h", "/f");
        d.set(&Point::Form("q".into()), "a+b=c&d", false).unwrap();
        d.set(&Point::Form("z".into()), "1", false).unwrap();
        assert_eq!(d.body().unwrap().0, "q=a%2Bb%3Dc%26d&z=1");
        assert!(d.set(&Point::Body, "x", false).is_err());
        assert!(d.set(&Point::PathSegment(3), "x", false).is_err());
    }

    #[test]
    fn builds_nested_json() {
        let mut d = RequestDraft::new("POST", "http://h", "/j");
        d.set(&parse_point("body:json.qty").unwrap(), "2", true)
            .unwrap();
        d.set(&parse_point("body:json.user.name").unwrap(), "x\"y", false)
            .unwrap();
        d.set(&parse_point("body:json.user.tags[1]").unwrap(), "t", false)
            .unwrap();
        let (b, ct) = d.body().unwrap();
        assert_eq!(ct, "application/json");
        let v: Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["qty"], 2);
        assert_eq!(v["user"]["name"], "x\"y");
        assert_eq!(v["user"]["tags"][1], "t");
        assert!(d
            .set(&parse_point("body:json.qty.x").unwrap(), "1", false)
            .is_err());
    }

    #[test]
    fn headers_and_cookies() {
        let mut d = RequestDraft::new("GET", "http://h", "/");
        assert!(d
            .set(&Point::Header("x-a".into()), "a\r\nb", false)
            .is_err());
        d.set(&Point::Header("x-a".into()), "v", false).unwrap();
        d.set(&Point::Cookie("sid".into()), "a;b c", false).unwrap();
        assert_eq!(d.cookie_header().unwrap(), "sid=a%3Bb%20c");
        assert_eq!(d.url(), "http://h/");
    }

    #[test]
    fn decodes() {
        assert_eq!(percent_decode("a%20b+c%zz%4", true), "a b c%zz%4");
        assert_eq!(percent_decode("%", false), "%");
    }
}
