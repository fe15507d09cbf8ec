//! A parser for one raw HTTP/1.x request, as saved in a file (for
//! `rampart inspect`, bug reports and tests). Tolerates LF line ends.

use rampart_types::{Header, Request};

/// The request could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an HTTP/1.x request: {0}")]
pub struct ParseError(pub String);

fn line(buf: &[u8]) -> Option<(&[u8], &[u8])> {
    let nl = buf.iter().position(|&b| b == b'\n')?;
    let l = &buf[..nl];
    Some((l.strip_suffix(b"\r").unwrap_or(l), &buf[nl + 1..]))
}

/// Parses a request: request line, headers, then a body framed by
/// `Content-Length`, `Transfer-Encoding: chunked`, or the rest of the input.
pub fn parse_request(raw: &[u8]) -> Result<Request, ParseError> {
    let (first, mut rest) = line(raw).ok_or_else(|| ParseError("no request line".into()))?;
    let mut parts = first.split(|&b| b == b' ').filter(|p| !p.is_empty());
    let method = parts
        .next()
        .ok_or_else(|| ParseError("empty request line".into()))?;
    let target = parts
        .next()
        .ok_or_else(|| ParseError("no request target".into()))?;
    let version = parts.next().unwrap_or(b"HTTP/1.1");
    if !version.starts_with(b"HTTP/1.") {
        return Err(ParseError(format!(
            "unsupported version {:?}",
            String::from_utf8_lossy(version)
        )));
    }
    let mut req = Request {
        method: method.to_vec(),
        target: target.to_vec(),
        ..Request::default()
    };
    loop {
        let (l, r) = line(rest)
            .ok_or_else(|| ParseError("headers not terminated by an empty line".into()))?;
        rest = r;
        if l.is_empty() {
            break;
        }
        if (l[0] == b' ' || l[0] == b'\t') && !req.headers.is_empty() {
            // Obsolete line folding: append to the previous value.
            if let Some(h) = req.headers.last_mut() {
                h.value.push(b' ');
                h.value.extend_from_slice(l.trim_ascii());
            }
            continue;
        }
        let colon = l.iter().position(|&b| b == b':').ok_or_else(|| {
            ParseError(format!(
                "header line without ':': {:?}",
                String::from_utf8_lossy(l)
            ))
        })?;
        req.headers.push(Header {
            name: l[..colon].to_vec(),
            value: l[colon + 1..].trim_ascii().to_vec(),
        });
    }
    let chunked = req
        .header_value("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().windows(7).any(|w| w == b"chunked"));
    if chunked {
        req.body = dechunk(rest)?;
    } else if let Some(cl) = req.header_value("content-length") {
        let n: usize = std::str::from_utf8(cl)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| ParseError("invalid Content-Length".into()))?;
        req.body = rest[..n.min(rest.len())].to_vec();
    } else {
        req.body = rest.to_vec();
    }
    Ok(req)
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, ParseError> {
    let mut body = Vec::new();
    loop {
        let (l, r) = line(rest).ok_or_else(|| ParseError("truncated chunk size".into()))?;
        let size_txt = l.split(|&b| b == b';').next().unwrap_or_default();
        let size = usize::from_str_radix(std::str::from_utf8(size_txt).unwrap_or("").trim(), 16)
            .map_err(|_| ParseError("invalid chunk size".into()))?;
        if size == 0 {
            return Ok(body);
        }
        let data = r
            .get(..size)
            .ok_or_else(|| ParseError("truncated chunk".into()))?;
        body.extend_from_slice(data);
        rest = &r[size..];
        rest = rest
            .strip_prefix(b"\r\n")
            .or_else(|| rest.strip_prefix(b"\n"))
            .unwrap_or(rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_requests_with_each_framing() {
        let r =
            parse_request(b"POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcdef")
                .unwrap();
        assert_eq!(r.body, b"abc");
        assert_eq!(r.header_value("host"), Some(&b"x"[..]));
        let r = parse_request(
            b"POST / HTTP/1.1\nTransfer-Encoding: chunked\n\n3\nabc\n2;x=y\nde\n0\n\n",
        )
        .unwrap();
        assert_eq!(r.body, b"abcde");
        let r = parse_request(b"GET / HTTP/1.1\nX: a\n  b\n\nrest").unwrap();
        assert_eq!(r.header_value("x"), Some(&b"a b"[..]));
        assert_eq!(r.body, b"rest");
        assert!(parse_request(b"GET / HTTP/2\r\n\r\n").is_err());
        assert!(parse_request(b"GET /\r\nBad header\r\n\r\n").is_err());
        assert!(parse_request(b"").is_err());
    }
}
