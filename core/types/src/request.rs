use std::net::IpAddr;

/// One header as it arrived: name and value bytes, unmodified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

/// The raw view of an HTTP request that an adapter hands to the engine.
///
/// Everything is bytes as received: the engine decides how to decode it.
/// `body` holds at most the adapter's inspection limit; `body_truncated` says
/// whether more followed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub method: Vec<u8>,
    /// The request-target exactly as on the request line (`/a/b?x=1`).
    pub target: Vec<u8>,
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
    /// True when the body was longer than what the adapter buffered.
    pub body_truncated: bool,
    /// The client address as the adapter determined it (after trusted proxies).
    pub client_ip: Option<IpAddr>,
}

impl Request {
    /// A request with the given method and target and no headers or body.
    pub fn new(method: &str, target: &str) -> Self {
        Request {
            method: method.as_bytes().to_vec(),
            target: target.as_bytes().to_vec(),
            ..Request::default()
        }
    }

    /// Adds a header (builder style).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push(Header {
            name: name.as_bytes().to_vec(),
            value: value.as_bytes().to_vec(),
        });
        self
    }

    /// Sets the body (builder style).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The first header with this name (ASCII case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name.as_bytes()))
            .map(|h| h.value.as_slice())
    }

    /// The path part of the target (before `?`), without a fragment.
    pub fn path(&self) -> &[u8] {
        let t = self.target.as_slice();
        let end = t
            .iter()
            .position(|&b| b == b'?' || b == b'#')
            .unwrap_or(t.len());
        &t[..end]
    }

    /// The query part of the target (after the first `?`, before `#`), if any.
    pub fn query(&self) -> Option<&[u8]> {
        let t = self.target.as_slice();
        let q = t.iter().position(|&b| b == b'?')?;
        let rest = &t[q + 1..];
        let end = rest.iter().position(|&b| b == b'#').unwrap_or(rest.len());
        Some(&rest[..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_and_query_split_on_first_question_mark() {
        let r = Request::new("GET", "/a/b?x=1?y#frag");
        assert_eq!(r.path(), b"/a/b");
        assert_eq!(r.query(), Some(&b"x=1?y"[..]));
        assert_eq!(Request::new("GET", "/p").query(), None);
    }
}
