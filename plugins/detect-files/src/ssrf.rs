//! Server-side request forgery: URLs and host values that make the server
//! contact itself, its network or its cloud's metadata service, or speak
//! another protocol.
//!
//! Every URL of the value (see [`crate::url`]) is taken apart; each host a
//! parser might contact (the host after the last `@`, a host-like
//! userinfo, the host after an `@` that follows a `#`, `?`, `\` or `&`)
//! is classified by [`crate::host`]. A whole value without a scheme is
//! read as `host[:port][/path]`; UNC paths (`\\host\share`) and
//! protocol-relative URLs (`//host/path`) as URLs.
//!
//! Rules (score):
//! - `ssrf.metadata`: a cloud metadata endpoint (`169.254.169.254` in
//!   every spelling, `169.254.170.2`, `fd00:ec2::254`, `100.100.100.200`,
//!   `192.0.0.192`, `metadata.google.internal`...): 90 in a URL, 80 as a
//!   bare host, 60 anywhere in a value.
//! - `ssrf.internal`: loopback, private, link-local, unique-local,
//!   reserved and unspecified addresses and internal names (`localhost`,
//!   `*.localhost`, `*.internal`, `*.local`, `*.svc.cluster.local`,
//!   Docker and Kubernetes host names, `localtest.me`, `lvh.me`, wildcard
//!   DNS names carrying an internal address): 60 in a URL, 80 when the
//!   address is disguised (`127.1`, `0x7f000001`, `[::ffff:7f00:1]`,
//!   `①②⑦.⓪.⓪.①`), 30 in a URL inside prose. As a bare host: loopback,
//!   reserved and internal names 50 with a port or a path, 40 in a
//!   URL-like parameter (`url`, `host`, `server`, `webhook`...), 30
//!   otherwise (20 for a lone `localhost`); private addresses 40 with
//!   both, 30 with either, 20 alone. A URL to an internal address in a
//!   redirect parameter (`redirect_uri`, `next`, `return`) scores 30: the
//!   browser follows it, the server does not fetch it.
//! - `ssrf.obfuscated-host`: a public host written to slip past filters
//!   (dotless decimal, hex, octal, circled or full-width characters,
//!   backslash-split): 50.
//! - `ssrf.parser-confusion`: parsers would not agree on the host (several
//!   `@`, `#@`, `\@`, `:...@host` in the first path segment): 50.
//! - `ssrf.userinfo`: a userinfo that looks like a host name
//!   (`http://trusted.com@evil.net/`): 50.
//! - `ssrf.scheme`: a scheme that smuggles another protocol: `gopher`,
//!   `dict`, `tftp`, `jar`, `netdoc`, `local_file` (70), `file` (50),
//!   `ldap` (40).
//!
//! Headers that carry the client's or the server's own address (`Host`,
//! `Origin`, `Referer`, `X-Forwarded-*`, `Forwarded`, `X-Real-IP`...)
//! name internal hosts in development and behind proxies: there only
//! metadata endpoints and protocol-smuggling schemes count.

use std::cell::OnceCell;

use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo};

use crate::context::{Place, ADDRESS_HEADERS, REDIRECT_WORDS, URL_WORDS};
use crate::host::{classify, named_internal, parse_v4, parse_v6, Kind};
use crate::norm::{is_prose, trim};
use crate::url::{authority, bare, each_url, quick_bare, Port, Quick, Url};
use crate::{Best, CAP};

const NAME: &str = "ssrf";

/// Tokens of a value looked at for a metadata address.
const MAX_TOKENS: usize = 4096;

/// The server-side-request-forgery detector.
#[derive(Debug, Clone, Copy, Default)]
pub struct SsrfDetector;

impl Detector for SsrfDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "server-side request forgery: internal and metadata addresses in every \
                          spelling, URL parser confusion, protocol-smuggling schemes",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Ssrf]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let place = Place::of(ctx);
        if place.raw_uri {
            return; // read again, decoded, in the path and the query
        }
        let v = &value[..value.len().min(CAP)];
        if plain(v) && place.own_key.is_none_or(plain) {
            // Only a single-label host given whole in a URL-like
            // parameter is left to judge (`url=intranet`, `localhost`,
            // `url=2130706433`); `bare` takes nothing else (a host of
            // letters, digits, `-` and `_`, then the end or a `/`).
            let (_, tv) = trim(v);
            let label = tv
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            // Other labels classify as public names, or all digits as
            // numbers no plain spelling of an address writes: `bare`
            // reports neither.
            if tv.is_empty() || !label || !named_internal(tv) {
                return;
            }
            if tv != b"localhost" && !place.name_has(URL_WORDS) {
                return;
            }
        }
        let mut best = Best::new(Class::Ssrf, NAME);
        let cx = Cx {
            place: &place,
            address: OnceCell::new(),
            url_key: OnceCell::new(),
            redirect: OnceCell::new(),
        };
        scan(v, &cx, true, &mut best);
        // A plain key has no URL (no colon) and no metadata address (no
        // dot or colon once decoded).
        if let Some(k) = place.own_key.filter(|k| !plain(k)) {
            let mut kb = Best::new(Class::Ssrf, NAME);
            scan(&k[..k.len().min(CAP)], &cx, false, &mut kb);
            best.merge_key(&kb);
        }
        best.emit(ctx, place.layer, out);
    }
}

/// A value (or key) without what a URL, a host with a dot or a port, an
/// address in brackets, a UNC or protocol-relative path, an escape or a
/// disguised character needs: no `.`, `:`, `[`, `/`, `\`, `%`, no `0x`
/// (hex-written dots) and only ASCII. `each_url` needs a `:`; a bare host
/// is judged only with one of these or in a URL-like parameter (checked by
/// the caller); a metadata address in a token needs a dot or a colon once
/// decoded. One pass, no state.
fn plain(v: &[u8]) -> bool {
    let acc = v.iter().fold(0u8, |a, &b| a | HOSTY[b as usize]);
    acc & H_STOP == 0
        && (acc & H_ZERO == 0 || !v.windows(2).any(|w| w[0] == b'0' && (w[1] | 0x20) == b'x'))
}

/// The bytes `plain` stops at (what hosts and URLs need), and `0` (of `0x`).
const H_STOP: u8 = 1;
const H_ZERO: u8 = 2;

static HOSTY: [u8; 256] = hosty();

const fn hosty() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        if b >= 0x80 || matches!(b as u8, b'.' | b':' | b'[' | b'/' | b'\\' | b'%') {
            t[b] = H_STOP;
        } else if b == b'0' as usize {
            t[b] = H_ZERO;
        }
        b += 1;
    }
    t
}

/// What the value's place says, each worked out on first use.
struct Cx<'p> {
    place: &'p Place<'p>,
    address: OnceCell<bool>,
    url_key: OnceCell<bool>,
    redirect: OnceCell<bool>,
}

impl Cx<'_> {
    /// A header that names the client's or the server's own address.
    fn address(&self) -> bool {
        *self
            .address
            .get_or_init(|| self.place.header_is(ADDRESS_HEADERS))
    }

    /// The parameter's name says it takes a URL or a host.
    fn url_key(&self) -> bool {
        *self.url_key.get_or_init(|| self.place.name_has(URL_WORDS))
    }

    /// The parameter's name says the browser is sent there (redirect
    /// words are URL words too).
    fn redirect(&self) -> bool {
        *self
            .redirect
            .get_or_init(|| self.url_key() && self.place.name_has(REDIRECT_WORDS))
    }
}

fn scan(v: &[u8], cx: &Cx<'_>, is_value: bool, best: &mut Best) {
    let mut prose = None;
    let mut urls = 0;
    // (Every URL has a colon: a word-at-a-time search first.)
    if v.contains(&b':') {
        each_url(v, |u| {
            urls += 1;
            let p = *prose.get_or_insert_with(|| is_prose(v, 4096));
            judge_url(v, u, cx, p, best);
            true
        });
    }
    let (t0, tv) = trim(v);
    if urls == 0 && is_value {
        let unc = tv.starts_with(b"\\\\") && tv.get(2).is_some_and(|&b| b != b'\\');
        let relative = tv.starts_with(b"//") && tv.get(2).is_some_and(|&b| b != b'/');
        if unc || relative {
            // `\\host\share` and protocol-relative `//host/path`.
            let auth = authority(tv, 2);
            let info = classify(auth.host.text());
            let odd = auth.host.odd || info.odd_form;
            let span = (t0 + auth.host.start, t0 + auth.host.end);
            host_kind(info.kind, true, if odd { 80 } else { 60 }, span, cx, best);
        } else if tv.iter().any(|&b| matches!(b, b'.' | b':' | b'[' | b'/'))
            || cx.url_key()
            || tv == b"localhost"
        {
            // A host has a dot, a port, brackets or a path, unless it is a
            // single internal label.
            if bare_may_report(tv) {
                if let Some(b) = bare(tv, t0) {
                    judge_bare(&b, cx, best);
                }
            }
        }
    }
    if best.max() < 60 {
        metadata_tokens(v, best);
    }
}

fn judge_url(v: &[u8], u: &Url, cx: &Cx<'_>, prose: bool, best: &mut Best) {
    let span = (u.start, u.end);
    let scheme = u.scheme();
    let smuggle = match scheme {
        b"gopher" | b"dict" | b"tftp" | b"jar" | b"netdoc" | b"local_file" => 70,
        b"file" if u.slashes >= 1 && (!u.host.is_empty() || u.path.1 > u.path.0) => {
            if prose {
                30
            } else {
                50
            }
        }
        b"ldap" | b"ldaps" | b"ldapi" => 40,
        _ => 0,
    };
    best.add(
        "ssrf.scheme",
        smuggle,
        span,
        "URL scheme that smuggles another protocol or reads local files",
    );
    for h in std::iter::once(u.host).chain(u.alt_hosts(v)) {
        if h.is_empty() {
            continue;
        }
        let info = classify(h.text());
        let odd = h.odd || info.odd_form;
        let hspan = (h.start, h.end.max(h.start));
        match info.kind {
            Kind::Public => {
                if odd && (info.ip || h.odd) {
                    best.add(
                        "ssrf.obfuscated-host",
                        50,
                        hspan,
                        "host written in a disguised form to slip past filters",
                    );
                }
            }
            kind => {
                // A redirect to an internal address is followed by the
                // browser (OAuth `redirect_uri=http://localhost:3000/cb`
                // in development), not fetched by the server.
                let base = if prose || cx.redirect() { 30 } else { 60 };
                let score = if odd && !prose { 80 } else { base };
                host_kind(kind, true, score, hspan, cx, best);
            }
        }
    }
    if u.confusion {
        best.add(
            "ssrf.parser-confusion",
            50,
            span,
            "URL written so that parsers disagree on its host",
        );
    }
    if u.user_hostlike {
        best.add(
            "ssrf.userinfo",
            if prose { 30 } else { 50 },
            span,
            "URL userinfo disguised as a host name",
        );
    }
}

/// Reports an internal or metadata host.
fn host_kind(
    kind: Kind,
    in_url: bool,
    score: u8,
    span: (usize, usize),
    cx: &Cx<'_>,
    best: &mut Best,
) {
    match kind {
        Kind::Public => {}
        Kind::Metadata => best.add(
            "ssrf.metadata",
            if in_url { 90 } else { 80 },
            span,
            "cloud metadata endpoint",
        ),
        _ if cx.address() => {}
        _ => best.add(
            "ssrf.internal",
            score,
            span,
            "URL to an internal, loopback or reserved address",
        ),
    }
}

/// Whether `judge_bare` could report the host `bare` reads in `v`:
/// without a host, with a public name, or with an address no plain
/// spelling writes (`40.99`, `2130706433`: numbers), it reports nothing.
fn bare_may_report(v: &[u8]) -> bool {
    // A decimal number (`40.99`, `1.5`, `12`): digits and dots, but not
    // the three dots of a plainly written IPv4 address (nor a final dot,
    // which an address may carry: `127.0.0.1.`).
    if v.iter().all(|&b| b.is_ascii_digit() || b == b'.')
        && v.last() != Some(&b'.')
        && v.iter().filter(|&&b| b == b'.').count() != 3
    {
        return false;
    }
    match quick_bare(v) {
        Quick::Unknown => true,
        Quick::NoHost => false,
        Quick::Host(info) => {
            if info.ip {
                // No colon or bracket here: IPv4, plainly spelt when its
                // form is not odd.
                !info.odd_form
            } else {
                info.kind != Kind::Public
            }
        }
    }
}

fn judge_bare(b: &crate::url::Bare, cx: &Cx<'_>, best: &mut Best) {
    let t = b.host.text();
    let info = classify(t);
    let hostish = b.path || b.port == Port::Num;
    let span = (b.host.start, b.host.end);
    if info.ip {
        // Only plain spellings: `123/456`, `1.5` and `2130706433` are
        // numbers, not hosts.
        if !plain_ip(b) {
            return;
        }
    } else if info.kind == Kind::Public {
        return;
    } else if !t.contains(&b'.') && !hostish && !cx.url_key() {
        // A single word (`localhost`, `kubernetes`, `metadata`) alone.
        if t == b"localhost" && !cx.address() {
            best.add("ssrf.internal", 20, span, "the word localhost as a value");
        }
        return;
    }
    let score = match info.kind {
        Kind::Public => 0,
        Kind::Metadata => 80,
        // Private addresses are configured by hand (`10.0.0.5:8080` in an
        // admin form); alone they never block.
        Kind::Private => match (hostish, cx.url_key()) {
            (true, true) => 40,
            (true, false) | (false, true) => 30,
            (false, false) => 20,
        },
        _ => match (hostish, cx.url_key()) {
            (true, _) => 50,
            (false, true) => 40,
            (false, false) => 30,
        },
    };
    if info.kind == Kind::Metadata {
        best.add("ssrf.metadata", score, span, "cloud metadata endpoint");
    } else if !cx.address() {
        best.add(
            "ssrf.internal",
            score,
            span,
            "host value naming an internal, loopback or reserved address",
        );
    }
}

/// An IP literal written as a host is: four decimal parts, or IPv6 in
/// brackets or with `::`.
fn plain_ip(b: &crate::url::Bare) -> bool {
    let t = b.host.text();
    if t.contains(&b':') {
        b.host.bracket || (t.len() >= 3 && parse_v6(t).is_some())
    } else {
        parse_v4(t).is_some_and(|(_, canonical)| canonical)
    }
}

/// What separates the tokens `metadata_tokens` looks at.
static TOKEN_SEP: [bool; 256] = token_sep();

const fn token_sep() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0usize;
    while i < 256 {
        let b = i as u8;
        t[i] = matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C)
            || matches!(
                b,
                b'"' | b'\'' | b'<' | b'>' | b'(' | b')' | b',' | b';' | b'=' | b'&' | b'`' | b'|'
            );
        i += 1;
    }
    t
}

/// A metadata address anywhere in the value (prose, markup, commands).
fn metadata_tokens(v: &[u8], best: &mut Best) {
    let sep = |b: &u8| TOKEN_SEP[*b as usize];
    let mut off = 0;
    for (n, tok) in v.split(sep).enumerate() {
        let start = off;
        off += tok.len() + 1;
        if n >= MAX_TOKENS {
            break;
        }
        if tok.len() < 7 || tok.len() > 300 {
            continue;
        }
        let first = tok[0];
        if !(first.is_ascii_digit()
            || first == b'['
            || first == b'm'
            || first == b'M'
            || first == b'i')
        {
            continue;
        }
        match quick_bare(tok) {
            Quick::NoHost => continue,
            Quick::Host(info) if info.kind != Kind::Metadata => continue,
            _ => {}
        }
        if let Some(b) = bare(tok, start) {
            let t = b.host.text();
            let info = classify(t);
            // A plainly written address or a dotted name: numbers (order
            // ids) and the word "metadata" are not hosts.
            let plain = if info.ip {
                plain_ip(&b)
            } else {
                t.contains(&b'.')
            };
            if info.kind == Kind::Metadata && plain {
                best.add(
                    "ssrf.metadata",
                    60,
                    (b.host.start, b.host.end),
                    "cloud metadata address",
                );
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `plain` stops at exactly what its comment names.
    /// Numbers are no hosts: whatever `quick_bare` would say, a value of
    /// digits and dots that is not a four-part address gets no report.
    #[test]
    fn numbers_are_not_hosts() {
        for v in [
            &b"40.99"[..],
            b"1.5",
            b"2130706433",
            b"0177.1",
            b"1.2.3",
            b"1.2.3.4.5",
            b"12.",
        ] {
            assert!(!bare_may_report(v));
            let b = bare(v, 0).expect("a host");
            let mut best = Best::new(Class::Ssrf, NAME);
            let place = Place::default();
            let cx = Cx {
                place: &place,
                address: OnceCell::new(),
                url_key: OnceCell::from(true),
                redirect: OnceCell::new(),
            };
            judge_bare(&b, &cx, &mut best);
            assert_eq!(best.max(), 0, "{}", String::from_utf8_lossy(v));
        }
        assert!(bare_may_report(b"127.0.0.1"));
        assert!(bare_may_report(b"127.0.0.1."));
    }

    #[test]
    fn plain_values() {
        for b in 0..=255u8 {
            let stop = b >= 0x80 || b".:[/\\%".contains(&b);
            assert_eq!(plain(&[b'a', b, b'a']), !stop, "{b:#x}");
        }
        assert!(plain(b"red running shoes 10"));
        assert!(!plain(b"0x7f000001"));
        assert!(!plain(b"a0X1"));
        assert!(!plain(b"127.0.0.1"));
        assert!(!plain("①②⑦".as_bytes()));
    }
}
