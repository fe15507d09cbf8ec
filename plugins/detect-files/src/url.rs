//! Finding URLs in a value and taking their authority apart the way
//! lenient parsers do.
//!
//! A URL starts at `scheme:` (a letter, then letters, digits, `+ . -`, at a
//! word start) followed by two slashes (`/` or `\` in any mix); the
//! schemes that parsers also accept without slashes (`http:127.0.0.1`,
//! `jar:`, `netdoc:`) are taken without. The authority is read through
//! the unit reader (circled digits, full-width letters and ideographic
//! dots are mapped and marked), a host split by backslashes
//! (`\l\o\c\a\l\h\o\s\t`) is joined, the last `@` starts the host, and
//! the tricks that make parsers disagree are noted: several `@`, an `@`
//! just after a `#`, `?`, `\` or `&` that ends the authority for one
//! parser and not another, `:...@host` in the first path segment, a
//! userinfo that looks like a host name.

use crate::norm::{is_space, unit_at, OTHER};

/// Bytes of a host kept.
pub const HOST_MAX: usize = 255;
/// URLs looked at per value.
const MAX_URLS: usize = 32;
/// Units of an authority read.
const MAX_AUTH: usize = 512;

/// A host as a parser would see it: lower-case ASCII, brackets removed.
#[derive(Clone, Copy)]
pub struct Host {
    buf: [u8; HOST_MAX],
    len: usize,
    /// Written with disguised characters (full-width, circled, ideographic
    /// dots, split by backslashes).
    pub odd: bool,
    /// Holds other non-ASCII characters (an IDN).
    pub other: bool,
    /// Written in brackets.
    pub bracket: bool,
    pub start: usize,
    pub end: usize,
}

impl Host {
    const EMPTY: Host = Host {
        buf: [0; HOST_MAX],
        len: 0,
        odd: false,
        other: false,
        bracket: false,
        start: 0,
        end: 0,
    };

    pub fn text(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The port after a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    None,
    Num,
    Bad,
}

/// One URL found in a value.
pub struct Url {
    pub start: usize,
    /// End of the URL (whitespace, quote, angle bracket or the value's end).
    pub end: usize,
    scheme: [u8; 32],
    scheme_len: usize,
    /// Slashes (or backslashes) after the colon.
    pub slashes: u32,
    pub host: Host,
    /// The userinfo looks like a host name or holds a slash: written to
    /// make a reader believe the URL goes there.
    pub user_hostlike: bool,
    /// Parsers would disagree on the host.
    pub confusion: bool,
    /// Other hosts a lenient parser might use: their extents, and whether
    /// backslashes split them.
    alts: [(usize, usize, bool); 3],
    n_alts: usize,
    /// The path, from its leading slash up to `?`, `#` or the end.
    pub path: (usize, usize),
    /// The query after `?` (empty when the URL ends with `?`).
    pub query: Option<(usize, usize)>,
    /// A `#` fragment is present.
    pub fragment: Option<(usize, usize)>,
    /// A NUL byte (or a literal `%00`) is in the URL.
    pub nul: bool,
}

impl Url {
    pub fn scheme(&self) -> &[u8] {
        &self.scheme[..self.scheme_len]
    }

    pub fn is(&self, s: &[u8]) -> bool {
        self.scheme() == s
    }

    /// Every other host a parser might contact, read from `v` (the value
    /// the URL was found in).
    pub fn alt_hosts<'a>(&'a self, v: &'a [u8]) -> impl Iterator<Item = Host> + 'a {
        self.alts[..self.n_alts]
            .iter()
            .map(move |&(s, e, split)| read_host(v, s, e, split))
    }
}

/// Schemes accepted without `//` (sorted).
const NO_SLASH: &[&str] = &[
    "dict",
    "file",
    "ftp",
    "ftps",
    "gopher",
    "http",
    "https",
    "jar",
    "ldap",
    "local_file",
    "netdoc",
    "tftp",
];

fn has(table: &[&str], s: &[u8]) -> bool {
    crate::lookup(table, s)
}

fn scheme_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'.' || b == b'-' || b == b'_'
}

/// Ends a URL.
fn url_end(b: u8) -> bool {
    is_space(b) || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`' | 0) || b < 0x20
}

/// Ends an authority.
fn auth_end(b: u8) -> bool {
    url_end(b) || matches!(b, b'/' | b'\\' | b'?' | b'#' | b'{' | b'}' | b'|' | b'^')
}

/// Calls `f` for each URL of the value (at most 32) until it returns
/// false.
pub fn each_url(v: &[u8], mut f: impl FnMut(&Url) -> bool) {
    let mut i = 0;
    let mut found = 0;
    while found < MAX_URLS {
        let Some(off) = v.get(i..).and_then(|r| r.iter().position(|&b| b == b':')) else {
            return;
        };
        let colon = i + off;
        i = colon + 1;
        let mut s = colon;
        while s > 0 && colon - s < 32 && scheme_char(v[s - 1]) {
            s -= 1;
        }
        while s < colon && !v[s].is_ascii_alphabetic() {
            s += 1;
        }
        if s == colon || (s > 0 && v[s - 1].is_ascii_alphanumeric()) {
            continue;
        }
        let mut scheme = [0u8; 32];
        let sl = colon - s;
        scheme[..sl].copy_from_slice(&v[s..colon]);
        scheme[..sl].make_ascii_lowercase();
        let mut j = colon + 1;
        let mut slashes = 0;
        while j < v.len() && slashes < 8 {
            let u = unit_at(v, j);
            if u.b != b'/' && u.b != b'\\' {
                break;
            }
            slashes += 1;
            j += u.len;
        }
        let known = has(NO_SLASH, &scheme[..sl]);
        if slashes < 2 && !known {
            continue;
        }
        if slashes == 0 && j < v.len() && url_end(v[j]) {
            continue;
        }
        found += 1;
        let url = parse(v, s, &scheme, sl, slashes, j);
        if !f(&url) {
            return;
        }
        // Nested URLs (`jar:http://`) are found from the next colon on.
    }
}

fn parse(v: &[u8], start: usize, scheme: &[u8; 32], sl: usize, slashes: u32, a: usize) -> Url {
    let mut auth = authority(v, a);
    // `jar:http://...`, `url:file:...`: the scheme wraps another URL.
    if slashes == 0 {
        let word = v[a..].iter().take_while(|&&b| scheme_char(b)).count();
        if word > 0 && v.get(a + word) == Some(&b':') {
            auth.host = Host::EMPTY;
            auth.host_span = (a, a, false);
            auth.end = a;
            auth.user = None;
            auth.ats = 0;
        }
    }
    let mut url = Url {
        start,
        end: a,
        scheme: *scheme,
        scheme_len: sl,
        slashes,
        host: auth.host,
        user_hostlike: false,
        confusion: auth.ats > 1,
        alts: [(0, 0, false); 3],
        n_alts: 0,
        path: (auth.end, auth.end),
        query: None,
        fragment: None,
        nul: false,
    };
    if let Some((us, ue)) = auth.user {
        let user = &v[us..ue];
        let name = match user.iter().position(|&b| b == b':') {
            Some(p) => &user[..p],
            None => user,
        };
        let dotted = name.contains(&b'.')
            && name.iter().any(u8::is_ascii_alphabetic)
            && name
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        let slashy = user.iter().any(|&b| b == b'/' || b == b'\\')
            || user
                .windows(3)
                .any(|w| w.eq_ignore_ascii_case(b"%2f") || w.eq_ignore_ascii_case(b"%5c"));
        url.user_hostlike = dotted || slashy;
        if dotted {
            url.push_alt((us, us + name.len(), false));
        }
    }
    // The rest of the URL.
    let mut e = auth.end;
    while e < v.len() && !url_end(v[e]) {
        e += 1;
    }
    if e == auth.end && auth.end < v.len() && v[auth.end] == 0 {
        url.nul = true;
    }
    url.end = e;
    let rest = &v[auth.end..e];
    let q = rest.iter().position(|&b| b == b'?');
    let h = rest.iter().position(|&b| b == b'#');
    let path_end = auth.end + q.unwrap_or(rest.len()).min(h.unwrap_or(rest.len()));
    url.path = (auth.end, path_end);
    if let Some(q) = q {
        if h.is_none_or(|h| q < h) {
            let qs = auth.end + q + 1;
            let qe = auth.end + h.unwrap_or(rest.len());
            url.query = Some((qs, qe.max(qs)));
        }
    }
    if let Some(h) = h {
        url.fragment = Some((auth.end + h + 1, e));
    }
    if e < v.len() && v[e] == 0 {
        url.nul = true;
    }
    if rest.windows(3).any(|w| w == b"%00") {
        url.nul = true;
    }
    // An `@` just after the character that ended the authority: one parser
    // stops at `#`, `?`, `\` or `&`, another reads on to the `@`.
    let mut stop = auth.end;
    for _ in 0..2 {
        if stop >= v.len() || !matches!(v[stop], b'#' | b'?' | b'\\' | b' ' | b'\t') {
            break;
        }
        let window = &v[stop..v.len().min(stop + 8)];
        let Some(at) = window.iter().position(|&b| b == b'@') else {
            break;
        };
        let between = &window[..at];
        let tricky = between
            .iter()
            .any(|&b| matches!(b, b'#' | b'?' | b'\\' | b'&' | b';'));
        if !tricky || between.contains(&b'/') {
            break;
        }
        url.confusion = true;
        let next = authority(v, stop + at + 1);
        url.push_alt(next.host_span);
        stop = next.end;
    }
    let stop = auth.end;
    // `http://a.com/:x@b.com/`: the first path segment holds `:...@host`.
    if stop < v.len() && v[stop] == b'/' {
        let seg_end = v[stop + 1..e]
            .iter()
            .position(|&b| b == b'/' || b == b'?' || b == b'#')
            .map_or(e, |p| stop + 1 + p);
        let seg = &v[stop + 1..seg_end];
        if let (Some(c), Some(at)) = (
            seg.iter().position(|&b| b == b':'),
            seg.iter().rposition(|&b| b == b'@'),
        ) {
            if c < at {
                let alt = authority(v, stop + 1 + at + 1);
                if alt.host.text().contains(&b'.') {
                    url.confusion = true;
                    url.push_alt(alt.host_span);
                }
            }
        }
    }
    url
}

impl Url {
    fn push_alt(&mut self, h: (usize, usize, bool)) {
        if h.1 > h.0 && self.n_alts < self.alts.len() {
            self.alts[self.n_alts] = h;
            self.n_alts += 1;
        }
    }
}

/// An authority taken apart.
pub struct Auth {
    pub host: Host,
    /// The host's extent, and whether backslashes split it.
    pub host_span: (usize, usize, bool),
    pub port: Port,
    /// The userinfo's extent.
    pub user: Option<(usize, usize)>,
    /// Number of `@`.
    pub ats: u32,
    /// Where the authority ends.
    pub end: usize,
}

/// Reads the authority starting at `a`.
pub fn authority(v: &[u8], a: usize) -> Auth {
    let split = backslash_split(v, a);
    let mut j = a;
    let mut last_at = None;
    let mut ats = 0;
    let mut bracket = false;
    let mut n = 0;
    while j < v.len() && n < MAX_AUTH {
        let u = unit_at(v, j);
        if u.b == b'\\' && split {
            j += u.len;
            n += 1;
            continue;
        }
        if u.b == b'[' {
            bracket = true;
        } else if u.b == b']' {
            bracket = false;
        }
        // Parsers split before they decode: `%2f` does not end it.
        if !bracket && v[j] < 0x80 && auth_end(v[j]) {
            break;
        }
        if u.b == b'@' {
            ats += 1;
            last_at = Some(j);
        }
        j += u.len;
        n += 1;
    }
    let end = j;
    let hs = last_at.map_or(a, |p| p + 1);
    let user = last_at.map(|p| (a, p));
    // Host and port.
    let hp = &v[hs..end];
    let (host_end, port) = if hp.first() == Some(&b'[') {
        match hp.iter().position(|&b| b == b']') {
            Some(c) => {
                let after = &hp[c + 1..];
                (hs + c + 1, port_of(after))
            }
            None => (end, Port::Bad),
        }
    } else {
        let colons = hp.iter().filter(|&&b| b == b':').count();
        if colons >= 2 {
            (end, Port::None) // an IPv6 address without brackets
        } else if let Some(c) = hp.iter().position(|&b| b == b':') {
            (hs + c, port_of(&hp[c..]))
        } else {
            (end, Port::None)
        }
    };
    let mut host = read_host(v, hs, host_end, split);
    host.odd |= split;
    Auth {
        host,
        host_span: (hs, host_end, split),
        port,
        user,
        ats,
        end,
    }
}

fn port_of(after: &[u8]) -> Port {
    match after.split_first() {
        None => Port::None,
        Some((b':', [])) => Port::None,
        Some((b':', digits)) if digits.len() <= 5 && digits.iter().all(u8::is_ascii_digit) => {
            Port::Num
        }
        _ => Port::Bad,
    }
}

/// Normalises `v[s..e]` into a host.
fn read_host(v: &[u8], s: usize, e: usize, split: bool) -> Host {
    let mut h = Host::EMPTY;
    h.odd = split;
    h.start = s;
    h.end = e;
    let mut j = s;
    while j < e {
        let u = unit_at(v, j);
        j += u.len;
        if u.b == b'\\' && split {
            continue;
        }
        if u.b == b'[' || u.b == b']' {
            h.bracket = true;
            continue;
        }
        if u.b == 0 {
            // `localhost%00.example.com`: C resolvers stop at the NUL.
            h.odd = true;
            break;
        }
        if u.b == OTHER {
            h.other = true;
        }
        h.odd |= u.odd;
        if h.len < HOST_MAX {
            h.buf[h.len] = u.b.to_ascii_lowercase();
            h.len += 1;
        }
    }
    // `%25zone` in a bracketed address: keep only the address.
    h
}

/// `\l\o\c\a\l\h\o\s\t`: single characters separated by backslashes, at
/// least four pieces, before the authority's end.
fn backslash_split(v: &[u8], a: usize) -> bool {
    let mut pieces = 0;
    let mut run = 0;
    let mut j = a;
    let mut n = 0;
    while j < v.len() && n < MAX_AUTH {
        let u = unit_at(v, j);
        if u.b == b'\\' {
            if run > 0 {
                pieces += 1;
            }
            run = 0;
        } else if v[j] < 0x80 && auth_end(v[j]) {
            break;
        } else {
            run += 1;
            if run > 2 {
                return false;
            }
        }
        j += u.len;
        n += 1;
    }
    if run > 0 {
        pieces += 1;
    }
    pieces >= 4
}

/// A whole value that is a host, without a scheme: `localhost/`,
/// `10.0.0.5:6379`, `[::1]`, `host.docker.internal`.
pub struct Bare {
    pub host: Host,
    pub port: Port,
    /// A path follows.
    pub path: bool,
}

/// What [`bare`] would make of a value, told cheaply where the value is
/// read byte for byte.
pub enum Quick {
    /// Not told: read it with [`bare`].
    Unknown,
    /// `bare` finds no host.
    NoHost,
    /// `bare` finds a host with this classification.
    Host(crate::host::HostInfo),
}

/// Longest host `quick_bare` tells.
pub const QUICK_MAX: usize = 64;

/// [`bare`] without building its host, for the common case: ASCII up to
/// the end of the authority, with no escape, `0x` spelling, backslash,
/// bracket or colon (so every unit is its byte and there is no port).
/// An `@` in the authority gives a userinfo, a character after it other
/// than `/` an authority that is no host: no host either way.
pub fn quick_bare(v: &[u8]) -> Quick {
    if v.is_empty() || v.len() > 2048 {
        return Quick::NoHost;
    }
    let mut buf = [0u8; QUICK_MAX];
    let mut n = 0;
    for (j, &b) in v.iter().enumerate() {
        match QB[b as usize] {
            QB_HOST => {}
            QB_ZERO => {
                if matches!(v.get(j + 1), Some(b'x' | b'X')) {
                    return Quick::Unknown;
                }
            }
            QB_SLASH => break,
            QB_UNKNOWN => return Quick::Unknown,
            // The authority ends with something other than `/`, holds a
            // userinfo, or its host a character no host name has (`bare`
            // drops only backslashes and brackets from a host).
            _ => return Quick::NoHost,
        }
        if n == QUICK_MAX {
            return Quick::Unknown;
        }
        buf[n] = b.to_ascii_lowercase();
        n += 1;
    }
    if n == 0 {
        return Quick::NoHost;
    }
    Quick::Host(crate::host::classify(&buf[..n]))
}

/// Byte classes of `quick_bare`.
const QB_HOST: u8 = 0;
const QB_ZERO: u8 = 1;
const QB_SLASH: u8 = 2;
const QB_UNKNOWN: u8 = 3;
const QB_NO_HOST: u8 = 4;

static QB: [u8; 256] = quick_classes();

const fn quick_classes() -> [u8; 256] {
    let mut t = [QB_NO_HOST; 256];
    let mut i = 0usize;
    while i < 256 {
        let b = i as u8;
        t[i] = if b == b'0' {
            QB_ZERO
        } else if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_' {
            QB_HOST
        } else if b == b'/' {
            QB_SLASH
        } else if b >= 0x80 || matches!(b, b'%' | b'\\' | b'[' | b']' | b':') {
            QB_UNKNOWN
        } else {
            QB_NO_HOST // `@`, an authority end, any other character
        };
        i += 1;
    }
    t
}

/// Reads a trimmed value as a scheme-less host, if it is one.
pub fn bare(v: &[u8], offset: usize) -> Option<Bare> {
    if v.is_empty() || v.len() > 2048 {
        return None;
    }
    let auth = authority(v, 0);
    if auth.user.is_some() || auth.port == Port::Bad || auth.host.is_empty() {
        return None;
    }
    let rest = &v[auth.end..];
    let path = match rest.first() {
        None => false,
        Some(b'/') => true,
        _ => return None,
    };
    let t = auth.host.text();
    let ok = t
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'%'));
    if !ok || auth.host.other {
        return None;
    }
    let mut host = auth.host;
    host.start += offset;
    host.end += offset;
    Some(Bare {
        host,
        port: auth.port,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(v: &str) -> Vec<(String, String, bool)> {
        let mut out = Vec::new();
        each_url(v.as_bytes(), |u| {
            let hosts: Vec<String> = u
                .alt_hosts(v.as_bytes())
                .map(|h| String::from_utf8_lossy(h.text()).into_owned())
                .collect();
            let first = String::from_utf8_lossy(u.host.text()).into_owned();
            out.push((
                String::from_utf8_lossy(u.scheme()).into_owned(),
                [first]
                    .into_iter()
                    .chain(hosts)
                    .collect::<Vec<_>>()
                    .join(","),
                u.confusion,
            ));
            true
        });
        out
    }

    fn u(s: &str, h: &str, c: bool) -> (String, String, bool) {
        (s.into(), h.into(), c)
    }

    #[test]
    fn finds_and_parses() {
        assert_eq!(
            urls("see https://example.com/a?b"),
            [u("https", "example.com", false)]
        );
        assert_eq!(urls("http:127.0.0.1"), [u("http", "127.0.0.1", false)]);
        assert_eq!(urls("http:/2852039166"), [u("http", "2852039166", false)]);
        assert_eq!(
            urls("http://good.com@127.0.0.1/"),
            [u("http", "127.0.0.1,good.com", false)]
        );
        assert_eq!(
            urls("http://127.0.0.1#@good.com"),
            [u("http", "127.0.0.1,good.com", true)]
        );
        assert_eq!(
            urls("http://google.com:80 &@google.com:80# @127.88.23.245:22/"),
            [u("http", "google.com,google.com,127.88.23.245", true)]
        );
        assert_eq!(
            urls("http://[::ffff:7f00:1]:80/"),
            [u("http", "::ffff:7f00:1", false)]
        );
        assert_eq!(urls("acap://①②⑦.⓪.⓪.①"), [u("acap", "127.0.0.1", false)]);
        assert_eq!(
            urls(r"http://\\l\\o\\c\\a\\l\\h\\o\\s\\t/"),
            [u("http", "localhost", false)]
        );
        assert_eq!(
            urls("jar:http://evil.co/b.zip!a"),
            [u("jar", "", false), u("http", "evil.co", false)]
        );
        assert_eq!(
            urls("http://example.com/:asd@evil.com/"),
            [u("http", "example.com,evil.com", true)]
        );
        assert!(urls("mailto:bob@example.com and note: this").is_empty());
        assert!(urls("12:30 example.com:8080").is_empty());
    }

    #[test]
    fn bare_hosts() {
        let b = bare(b"localhost/", 0).unwrap();
        assert_eq!(b.host.text(), b"localhost");
        assert!(b.path);
        let b = bare(b"10.0.0.5:6379", 0).unwrap();
        assert_eq!(b.port, Port::Num);
        assert!(bare(b"bob@example.com", 0).is_none());
        assert!(bare(b"hello world", 0).is_none());
        assert!(bare(b"[::1]", 0).is_some());
    }

    /// `quick_bare` says what `bare` says wherever it tells.
    #[test]
    fn quick_bare_agrees() {
        let vals: &[&[u8]] = &[
            b"localhost",
            b"LocalHost/",
            b"localhost/x",
            b"shop.example.com",
            b"40.99",
            b"127.0.0.1",
            b"127.0.0.1/a",
            b"10.0.0.5:80",
            b"bob@example.com",
            b"a b",
            b"Mozilla/5.0 (X11)",
            b"text/html,application/xml",
            b"en-US,en;q=0.7",
            b"application/json",
            b"metadata.google.internal",
            b"169.254.169.254",
            b"0x7f000001",
            b"a?b",
            b"a#b",
            b"a\\b",
            b"[::1]",
            b"x.internal/",
            b"a=b",
            b"host.docker.internal/x?y",
            b"2130706433",
            b"a/b@c",
            b"a@b/c",
            b"/x",
            b"",
            b"1.2.3.4.nip.io",
            b"10.0.0.1.nip.io/a",
            b"a\tb",
            b"a|b",
        ];
        for v in vals {
            let full = bare(v, 0);
            match quick_bare(v) {
                Quick::Unknown => {}
                Quick::NoHost => assert!(full.is_none(), "{:?}", String::from_utf8_lossy(v)),
                Quick::Host(info) => {
                    let b = full.expect("a host");
                    assert_eq!(crate::host::classify(b.host.text()), info);
                }
            }
        }
    }
}
