//! The `rampart-req` message, as HAProxy sends it, turned into the
//! engine's [`Request`].
//!
//! Arguments (by name; see examples/haproxy/spoe-rampart.conf):
//!
//! | name      | sample          | type           |                                        |
//! |-----------|-----------------|----------------|----------------------------------------|
//! | `method`  | `method`        | string         | required                               |
//! | `path`    | `path`          | string         | required unless `url` is given          |
//! | `query`   | `query`         | string or null | null when the target has no `?`        |
//! | `url`     | `url`           | string         | the target as on the request line       |
//! | `ver`     | `req.ver`       | string         | informational                          |
//! | `headers` | `req.hdrs_bin`  | binary         | required                               |
//! | `body`    | `req.body`      | binary or null | what HAProxy buffered                  |
//! | `ip`      | `src`           | ipv4 or ipv6   | the client address                     |
//! | `mode`    | `str(monitor)`  | string         | optional: overrides the mode           |

use std::net::IpAddr;

use rampart_types::{Header, Mode, Request};

use crate::codec::{Message, TypedData};
use crate::headers;

/// The message HAProxy sends for each request.
pub const REQUEST_MESSAGE: &str = "rampart-req";

/// A request as the agent received it.
#[derive(Debug)]
pub struct Received {
    pub request: Request,
    /// The `Content-Length` the client declared (none for a chunked or
    /// HTTP/2 body without one).
    pub declared: Option<u64>,
    /// The mode the HAProxy configuration asked for in this message.
    pub mode: Option<Mode>,
}

/// A string or binary argument.
fn bytes_arg<'a>(m: &'a Message, name: &str) -> Option<&'a [u8]> {
    m.arg(name)
        .and_then(TypedData::as_bytes)
        .map(|b| b.as_ref())
}

/// The single `Content-Length` of the headers: none when absent, malformed
/// or repeated with different values (HAProxy refuses those itself).
pub fn content_length(headers: &[Header]) -> Option<u64> {
    let mut found: Option<u64> = None;
    for h in headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(b"content-length"))
    {
        let v = h.value.trim_ascii();
        if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = std::str::from_utf8(v).ok()?.parse::<u64>().ok()?;
        match found {
            Some(f) if f != n => return None,
            _ => found = Some(n),
        }
    }
    found
}

/// Reads the arguments of a `rampart-req` message. The error names what is
/// missing or malformed (a configuration mistake on the HAProxy side).
pub fn from_message(m: &Message) -> Result<Received, &'static str> {
    let method = bytes_arg(m, "method").ok_or("no method argument")?;
    let target = match (bytes_arg(m, "path"), bytes_arg(m, "url")) {
        (Some(path), _) => {
            let mut t = path.to_vec();
            if let Some(q) = bytes_arg(m, "query") {
                t.push(b'?');
                t.extend_from_slice(q);
            }
            t
        }
        (None, Some(url)) => url.to_vec(),
        (None, None) => return Err("no path or url argument"),
    };
    let headers = match m.arg("headers") {
        Some(TypedData::Binary(b)) | Some(TypedData::String(b)) => {
            headers::decode(b.clone()).map_err(|_| "malformed headers argument")?
        }
        _ => return Err("no headers argument (req.hdrs_bin)"),
    };
    let body = match m.arg("body") {
        Some(TypedData::Binary(b)) | Some(TypedData::String(b)) => b.to_vec(),
        Some(TypedData::Null) | None => Vec::new(),
        Some(_) => return Err("body argument of the wrong type"),
    };
    let client_ip = match m.arg("ip") {
        Some(TypedData::Ipv4(a)) => Some(IpAddr::V4(*a)),
        Some(TypedData::Ipv6(a)) => Some(IpAddr::V6(*a)),
        Some(TypedData::String(s)) => std::str::from_utf8(s).ok().and_then(|s| s.parse().ok()),
        _ => None,
    };
    let mode = match bytes_arg(m, "mode") {
        Some(s) => Some(
            std::str::from_utf8(s)
                .ok()
                .and_then(Mode::parse)
                .ok_or("mode argument is not block, monitor or off")?,
        ),
        None => None,
    };
    let declared = content_length(&headers);
    Ok(Received {
        request: Request {
            method: method.to_vec(),
            target,
            headers,
            body,
            body_truncated: false,
            client_ip,
        },
        declared,
        mode,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::net::Ipv4Addr;

    fn s(v: &'static str) -> TypedData {
        TypedData::String(Bytes::from_static(v.as_bytes()))
    }

    fn msg(args: Vec<(&'static str, TypedData)>) -> Message {
        Message {
            name: Bytes::from_static(REQUEST_MESSAGE.as_bytes()),
            args: args
                .into_iter()
                .map(|(k, v)| (Bytes::from_static(k.as_bytes()), v))
                .collect(),
        }
    }

    fn hdrs(h: &[(&[u8], &[u8])]) -> TypedData {
        TypedData::Binary(Bytes::from(headers::encode(h)))
    }

    #[test]
    fn a_full_message() {
        let m = msg(vec![
            ("method", s("POST")),
            ("path", s("/a/b")),
            ("query", s("x=1&y=2")),
            ("ver", s("1.1")),
            (
                "headers",
                hdrs(&[(b"host", b"example"), (b"content-length", b"5")]),
            ),
            ("body", TypedData::Binary(Bytes::from_static(b"hello"))),
            ("ip", TypedData::Ipv4(Ipv4Addr::new(10, 0, 0, 1))),
            ("mode", s("monitor")),
        ]);
        let r = from_message(&m).unwrap();
        assert_eq!(r.request.method, b"POST");
        assert_eq!(r.request.target, b"/a/b?x=1&y=2");
        assert_eq!(r.request.headers.len(), 2);
        assert_eq!(r.request.body, b"hello");
        assert_eq!(r.request.client_ip, Some("10.0.0.1".parse().unwrap()));
        assert_eq!(r.declared, Some(5));
        assert_eq!(r.mode, Some(Mode::Monitor));
    }

    #[test]
    fn query_null_and_url_fallback() {
        let base = || {
            vec![
                ("method", s("GET")),
                ("headers", hdrs(&[])),
                ("body", TypedData::Null),
            ]
        };
        let mut a = base();
        a.push(("path", s("/p")));
        a.push(("query", TypedData::Null));
        assert_eq!(from_message(&msg(a)).unwrap().request.target, b"/p");
        let mut b = base();
        b.push(("url", s("/u?q=1")));
        let r = from_message(&msg(b)).unwrap();
        assert_eq!(r.request.target, b"/u?q=1");
        assert!(r.request.body.is_empty());
        assert_eq!(r.declared, None);
    }

    #[test]
    fn missing_or_bad_arguments_are_errors() {
        assert!(from_message(&msg(vec![("path", s("/"))])).is_err());
        assert!(from_message(&msg(vec![("method", s("GET")), ("path", s("/"))])).is_err());
        assert!(from_message(&msg(vec![
            ("method", s("GET")),
            ("path", s("/")),
            ("headers", TypedData::Binary(Bytes::from_static(&[5, b'a']))),
        ]))
        .is_err());
        assert!(from_message(&msg(vec![
            ("method", s("GET")),
            ("path", s("/")),
            ("headers", hdrs(&[])),
            ("mode", s("sideways")),
        ]))
        .is_err());
    }

    #[test]
    fn content_length_rules() {
        let h = |v: &[&[u8]]| -> Vec<Header> {
            v.iter()
                .map(|v| Header {
                    name: b"Content-Length".to_vec(),
                    value: v.to_vec(),
                })
                .collect()
        };
        assert_eq!(content_length(&h(&[b"12"])), Some(12));
        assert_eq!(content_length(&h(&[b" 12 "])), Some(12));
        assert_eq!(content_length(&h(&[b"12", b"12"])), Some(12));
        assert_eq!(content_length(&h(&[b"12", b"13"])), None);
        assert_eq!(content_length(&h(&[b"-1"])), None);
        assert_eq!(content_length(&h(&[b"99999999999999999999999"])), None);
        assert_eq!(content_length(&[]), None);
    }
}
