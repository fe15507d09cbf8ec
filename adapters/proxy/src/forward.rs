//! What a reverse proxy owes the upstream and the client: hop-by-hop
//! headers removed, client address and request id determined and passed on.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::config::Cidr;

/// Headers that belong to one connection, never forwarded (RFC 9110 7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Removes hop-by-hop headers, including those named by `Connection`.
pub fn strip_hop_by_hop(h: &mut HeaderMap) {
    let named: Vec<HeaderName> = h
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        h.remove(n);
    }
    for n in HOP_BY_HOP {
        h.remove(n);
    }
}

fn trusted(ip: IpAddr, proxies: &[Cidr]) -> bool {
    proxies.iter().any(|c| c.contains(ip))
}

/// The client address: the peer, unless the peer is a trusted proxy, in
/// which case the right-most untrusted address of `X-Forwarded-For` (or of
/// `Forwarded: for=`) is the client.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, proxies: &[Cidr]) -> IpAddr {
    if !trusted(peer, proxies) {
        return peer;
    }
    let mut chain: Vec<IpAddr> = Vec::new();
    for v in headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        for elem in v.split(',') {
            for pair in elem.split(';') {
                if let Some((k, val)) = pair.split_once('=') {
                    if k.trim().eq_ignore_ascii_case("for") {
                        if let Some(ip) = parse_node(val.trim().trim_matches('"')) {
                            chain.push(ip);
                        }
                    }
                }
            }
        }
    }
    if chain.is_empty() {
        for v in headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            chain.extend(v.split(',').filter_map(|s| parse_node(s.trim())));
        }
    }
    chain
        .iter()
        .rev()
        .find(|&&ip| !trusted(ip, proxies))
        .copied()
        .or(chain.first().copied())
        .unwrap_or(peer)
}

/// `1.2.3.4`, `1.2.3.4:80`, `[::1]:80`, `::1`.
fn parse_node(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    s.rsplit_once(':').and_then(|(h, _)| h.parse().ok())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new request id: 16 hex digits, unique within the process and unlikely
/// to repeat across processes (time and counter mixed).
pub fn new_request_id() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let pid = u64::from(std::process::id());
    // splitmix64 over the mix, so ids do not look sequential.
    let mut z = t ^ n.rotate_left(32) ^ pid.rotate_left(17);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    format!("{z:016x}")
}

/// The request id to use: the incoming one from a trusted peer when sane,
/// else a new one.
pub fn request_id(peer: IpAddr, headers: &HeaderMap, proxies: &[Cidr]) -> String {
    let incoming = trusted(peer, proxies)
        .then(|| headers.get("x-request-id").map(|v| v.as_bytes()))
        .flatten();
    request_id_or_new(incoming)
}

/// A trusted peer's `X-Request-Id` when sane (1 to 128 visible ASCII
/// characters), else a new id. Adapters embedded in other servers decide
/// trust themselves and call this.
pub fn request_id_or_new(incoming: Option<&[u8]>) -> String {
    match incoming {
        Some(v) if !v.is_empty() && v.len() <= 128 && v.iter().all(u8::is_ascii_graphic) => {
            String::from_utf8_lossy(v).into_owned()
        }
        _ => new_request_id(),
    }
}

/// Adds the forwarding headers to a request going upstream. From a trusted
/// peer, `X-Forwarded-For` is extended; from anyone else it is replaced, so
/// that a client cannot choose the address the application sees.
pub fn add_forwarded(h: &mut HeaderMap, peer: IpAddr, proxies: &[Cidr], request_id: &str) {
    let is_trusted = trusted(peer, proxies);
    let xff = match h.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(prev) if is_trusted => format!("{prev}, {peer}"),
        _ => peer.to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&xff) {
        h.insert("x-forwarded-for", v);
    }
    if !is_trusted || !h.contains_key("x-forwarded-proto") {
        h.insert("x-forwarded-proto", HeaderValue::from_static("http"));
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-request-id", v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hm(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn client_ip_believes_only_trusted_peers() {
        let proxies = vec![Cidr::parse("10.0.0.0/8").unwrap()];
        let h = hm(&[("x-forwarded-for", "203.0.113.9, 10.1.1.1")]);
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(
            client_ip(peer, &h, &proxies),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        let outsider: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(client_ip(outsider, &h, &proxies), outsider);
        let h = hm(&[(
            "forwarded",
            "for=\"[2001:db8::1]:4711\";proto=http, for=10.0.0.9",
        )]);
        assert_eq!(
            client_ip(peer, &h, &proxies),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn hop_by_hop_headers_go_including_connection_named_ones() {
        let mut h = hm(&[
            ("connection", "close, x-secret"),
            ("x-secret", "1"),
            ("te", "trailers"),
            ("x-keep", "1"),
        ]);
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-keep"));
    }

    #[test]
    fn forwarded_headers_extend_or_replace() {
        let proxies = vec![Cidr::parse("127.0.0.1").unwrap()];
        let mut h = hm(&[("x-forwarded-for", "1.2.3.4")]);
        add_forwarded(&mut h, "127.0.0.1".parse().unwrap(), &proxies, "abc");
        assert_eq!(h["x-forwarded-for"], "1.2.3.4, 127.0.0.1");
        let mut h = hm(&[("x-forwarded-for", "1.2.3.4")]);
        add_forwarded(&mut h, "192.0.2.1".parse().unwrap(), &proxies, "abc");
        assert_eq!(h["x-forwarded-for"], "192.0.2.1");
        assert_eq!(h["x-request-id"], "abc");
        assert_ne!(new_request_id(), new_request_id());
    }
}
