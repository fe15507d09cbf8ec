//! What the detectors know about where a value sits: its source, the name
//! of the parameter (or field, header, cookie, part) it is the value of,
//! and the words of that name.

use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::DetectCtx;

/// Steps walked up from a point to find its name.
const MAX_STEPS: usize = 32;

/// Where a value sits.
#[derive(Debug, Clone, Copy, Default)]
pub struct Place<'t> {
    /// The name of the nearest named ancestor (through layers and array
    /// indexes): `file` for `query.file`, `query.file[2]` and
    /// `query.file:base64`.
    pub name: Option<&'t [u8]>,
    /// The point's own key, when the point itself is a named member (not
    /// a layer or an index): a key the client wrote, inspected as a value
    /// too. Header names are not included.
    pub own_key: Option<&'t [u8]>,
    /// The point is the whole URL path (`path`), not one of its segments.
    pub url_path: bool,
    /// The point is the raw request-target (`uri`).
    pub raw_uri: bool,
    /// The nearest name is a header's.
    pub header: bool,
    /// The point is a decoding layer of another value (`query.q:url`,
    /// `cookie.s:base64`): what its parent showed is already counted.
    pub layer: bool,
}

impl<'t> Place<'t> {
    pub fn of(ctx: &DetectCtx<'t>) -> Place<'t> {
        let tree = ctx.tree;
        let mut p = Place::default();
        let mut id = ctx.point;
        if id.index() >= tree.len() {
            return p;
        }
        let first = tree.node(id);
        match first.seg {
            Seg::Source(Source::Path) => p.url_path = true,
            Seg::Source(Source::Uri) => p.raw_uri = true,
            Seg::Layer(_) => p.layer = true,
            _ => {}
        }
        for step in 0..MAX_STEPS {
            let node = tree.node(id);
            match node.seg {
                Seg::Key { .. } => {
                    let parent = node.parent().map(|q| tree.node(q).seg);
                    p.header = parent == Some(Seg::Source(Source::Header));
                    p.name = tree.key(node.seg);
                    if step == 0 && !p.header && node.kind == NodeKind::Leaf {
                        p.own_key = p.name;
                    }
                    break;
                }
                Seg::Layer(_) | Seg::Index(_) => match node.parent() {
                    Some(q) => id = q,
                    None => break,
                },
                Seg::Source(_) | Seg::Root => break,
            }
        }
        p
    }

    /// The lower-cased header name, if the value is (decoded from) a header.
    pub fn header_is(&self, names: &[&[u8]]) -> bool {
        self.header
            && self
                .name
                .is_some_and(|n| names.iter().any(|h| n.eq_ignore_ascii_case(h)))
    }

    pub fn name_has(&self, set: &[&str]) -> bool {
        self.name.is_some_and(|n| name_has_word(n, set))
    }
}

/// Splits a parameter name into lower-case words (on `_ - . [ ] space`,
/// digits, and lower-to-upper camel-case steps) and reports whether one of
/// them is in `set` (sorted). `mosConfig_absolute_path` has the word
/// `path`; `profile` does not have `file`.
pub fn name_has_word(name: &[u8], set: &[&str]) -> bool {
    let name = &name[..name.len().min(128)];
    let mut buf = [0u8; 32];
    let mut n = 0usize;
    let mut hit = false;
    let mut flush = |buf: &[u8; 32], n: &mut usize| {
        if *n > 0 && *n <= buf.len() {
            let w = &buf[..*n];
            if crate::lookup(set, w) {
                hit = true;
            }
        }
        *n = 0;
    };
    let mut prev_lower = false;
    for &b in name {
        if b.is_ascii_alphabetic() {
            if b.is_ascii_uppercase() && prev_lower {
                flush(&buf, &mut n);
            }
            if n < buf.len() {
                buf[n] = b.to_ascii_lowercase();
            }
            n += 1;
            prev_lower = b.is_ascii_lowercase();
        } else {
            flush(&buf, &mut n);
            prev_lower = false;
        }
    }
    flush(&buf, &mut n);
    hit
}

/// Words of parameter names that take a file, a path or a page to
/// include (sorted). From the shape of remote and local file inclusion
/// bugs: `?page=`, `?file=`, `?include=`, `?template=`,
/// `mosConfig_absolute_path=`, `_CONF[path]=`, `?lang=`, `?style=`...
pub const INCLUDE_WORDS: &[&str] = &[
    "conf", "config", "dir", "doc", "document", "file", "folder", "inc", "include", "lang",
    "language", "layout", "load", "mod", "module", "page", "path", "pdf", "pg", "read", "require",
    "root", "skin", "style", "template", "theme", "tpl",
];

/// Words of parameter names that take a URL or a host to contact (sorted).
pub const URL_WORDS: &[&str] = &[
    "callback",
    "continue",
    "dest",
    "destination",
    "domain",
    "endpoint",
    "feed",
    "goto",
    "homepage",
    "host",
    "hostname",
    "href",
    "image",
    "img",
    "link",
    "next",
    "proxy",
    "redirect",
    "return",
    "server",
    "site",
    "src",
    "target",
    "uri",
    "url",
    "webhook",
    "website",
];

/// Words of parameter names that take a URL the browser is sent to (a
/// redirect, not a fetch by the server) (sorted).
pub const REDIRECT_WORDS: &[&str] = &["continue", "goto", "next", "redirect", "return"];

/// Headers that carry the client's or the server's own addresses, where
/// an internal host is normal (development, proxies).
pub const ADDRESS_HEADERS: &[&[u8]] = &[
    b"cf-connecting-ip",
    b"forwarded",
    b"host",
    b"origin",
    b"referer",
    b"true-client-ip",
    b"via",
    b"x-client-ip",
    b"x-forwarded-for",
    b"x-forwarded-host",
    b"x-forwarded-server",
    b"x-original-host",
    b"x-real-ip",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert!(name_has_word(b"mosConfig_absolute_path", INCLUDE_WORDS));
        assert!(name_has_word(b"filePath", INCLUDE_WORDS));
        assert!(name_has_word(b"page", INCLUDE_WORDS));
        assert!(!name_has_word(b"profile", INCLUDE_WORDS));
        assert!(!name_has_word(b"homepage", INCLUDE_WORDS));
        assert!(name_has_word(b"redirect_uri", URL_WORDS));
        assert!(name_has_word(b"imageUrl", URL_WORDS));
        let mut s = INCLUDE_WORDS.to_vec();
        s.sort_unstable();
        assert_eq!(s, INCLUDE_WORDS);
        // The SSRF detector asks for redirect words only after URL words.
        assert!(REDIRECT_WORDS.iter().all(|w| URL_WORDS.contains(w)));
        let mut s = REDIRECT_WORDS.to_vec();
        s.sort_unstable();
        assert_eq!(s, REDIRECT_WORDS);
        let mut s = URL_WORDS.to_vec();
        s.sort_unstable();
        assert_eq!(s, URL_WORDS);
    }
}
