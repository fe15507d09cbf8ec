//! XML injection: values that inject markup into the XML document an
//! application builds around them.
//!
//! A small tag scanner (at most 256 tags, a stack of 32 open elements)
//! follows the markup of the value:
//!
//! - `xml-injection.element-breakout` (60; 75 when the value ends by
//!   reopening the element it closed): a closing tag of an element the
//!   value never opened, followed by an opening tag,
//!   `</name><admin>true</admin><name>`. HTML is the XSS detector's
//!   business: when both the closed and the next opened element are HTML
//!   (`text</p><p>more` pasted from a page), nothing is reported.
//! - `xml-injection.cdata-breakout` (70): `]]>` with no CDATA section
//!   opened in the value, followed by markup; `xml-injection.cdata` (30,
//!   40 with markup inside): a CDATA section in a value.
//! - `xml-injection.processing-instruction`: `<?xml-stylesheet` naming a
//!   URL (60, else 40), an
//!   XML declaration after other text (40), another complete processing
//!   instruction (40). `<?php` and `<?=` are left to code injection.
//! - `xml-injection.comment`: a comment left open at the end of the value
//!   (40) or a `-->` that closes a comment the value never opened, followed
//!   by a tag that is not HTML (50): the two halves of a comment that swallows the XML
//!   between two fields. Server-side includes (`<!--#`) are the SSI
//!   detector's.

use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo};

use crate::util::{find_byte, find_ci, head, in_table, is_ws, skip_ws, starts_ci, Reporter};

const NAME: &str = "xml-injection";

const MAX_TAGS: usize = 256;
const MAX_STACK: usize = 32;

/// The XML-injection detector (plugin `xml-injection`, class
/// [`Class::XmlInjection`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct XmlInjectionDetector;

impl Detector for XmlInjectionDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "XML injection: element, CDATA and comment breakouts, processing \
                          instructions",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::XmlInjection]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let mut rep = Reporter::new(out, ctx, Class::XmlInjection, NAME, value.len());
        let s = head(value);
        if s.contains(&b'<') || s.windows(3).any(|w| w == b"]]>") {
            scan(s, &mut rep);
        }
    }
}

/// HTML element names (lower case, sorted).
const HTML: &[&str] = &[
    "a",
    "abbr",
    "address",
    "area",
    "article",
    "aside",
    "audio",
    "b",
    "base",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "body",
    "br",
    "button",
    "canvas",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "data",
    "datalist",
    "dd",
    "del",
    "details",
    "dfn",
    "dialog",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "frame",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hr",
    "html",
    "i",
    "iframe",
    "img",
    "input",
    "ins",
    "kbd",
    "label",
    "legend",
    "li",
    "link",
    "main",
    "mark",
    "marquee",
    "math",
    "meta",
    "meter",
    "nav",
    "nobr",
    "noscript",
    "object",
    "ol",
    "optgroup",
    "option",
    "output",
    "p",
    "param",
    "picture",
    "plaintext",
    "pre",
    "progress",
    "q",
    "rp",
    "rt",
    "ruby",
    "s",
    "samp",
    "script",
    "section",
    "select",
    "small",
    "source",
    "span",
    "strike",
    "strong",
    "style",
    "sub",
    "summary",
    "sup",
    "svg",
    "table",
    "tbody",
    "td",
    "template",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "title",
    "tr",
    "track",
    "tt",
    "u",
    "ul",
    "var",
    "video",
    "wbr",
    "xmp",
];

fn qname_end(s: &[u8], mut i: usize) -> usize {
    while s
        .get(i)
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b) || b >= 0x80)
    {
        i += 1;
    }
    i
}

fn html(name: &[u8]) -> bool {
    in_table(HTML, name)
}

/// A tag at `s[p]` (`<` there).
#[derive(Debug, Clone, Copy)]
enum Tag {
    Open {
        name: (usize, usize),
        end: usize,
        empty: bool,
    },
    Close {
        name: (usize, usize),
        end: usize,
    },
}

fn tag_at(s: &[u8], p: usize) -> Option<Tag> {
    let close = s.get(p + 1) == Some(&b'/');
    let n0 = p + 1 + usize::from(close);
    if !s
        .get(n0)
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
    {
        return None;
    }
    let n1 = qname_end(s, n0);
    if close {
        let k = skip_ws(s, n1);
        return (s.get(k) == Some(&b'>')).then_some(Tag::Close {
            name: (n0, n1),
            end: k + 1,
        });
    }
    // Attributes up to `>`, quotes respected (at most 1 KiB).
    let lim = s.len().min(n1 + 1024);
    let mut k = n1;
    if !(k < s.len() && (is_ws(s[k]) || s[k] == b'>' || s[k] == b'/')) {
        return None;
    }
    while k < lim {
        match s[k] {
            b'>' => {
                let empty = s[k - 1] == b'/';
                return Some(Tag::Open {
                    name: (n0, n1),
                    end: k + 1,
                    empty,
                });
            }
            q @ (b'"' | b'\'') => k = find_byte(&s[..lim], k + 1, q)? + 1,
            b'<' => return None,
            _ => k += 1,
        }
    }
    None
}

struct Breakout {
    close: (usize, usize),
    at: usize,
    close_html: bool,
}

fn scan(s: &[u8], rep: &mut Reporter<'_>) {
    let mut stack: [(usize, usize); MAX_STACK] = [(0, 0); MAX_STACK];
    let mut depth = 0;
    let mut pending: Option<Breakout> = None;
    let mut seen_cdata = false;
    let mut seen_comment = false;
    let mut n = 0;
    let mut i = 0;
    while i < s.len() {
        let Some(p) = s[i..]
            .iter()
            .position(|&b| b == b'<' || b == b']' || b == b'-')
            .map(|k| i + k)
        else {
            break;
        };
        i = p + 1;
        match s[p] {
            b']' => {
                if s[p..].starts_with(b"]]>") && !seen_cdata {
                    let k = skip_ws(s, p + 3);
                    if markup_at(s, k) {
                        rep.report(
                            "xml-injection.cdata-breakout",
                            70,
                            || "]]> ends a CDATA section the value did not open, and markup follows",
                            p,
                            k + 1,
                        );
                    }
                }
                continue;
            }
            b'-' => {
                if s[p..].starts_with(b"-->") && !seen_comment {
                    let k = skip_ws(s, p + 3);
                    let xml_tag = match tag_at(s, k) {
                        Some(Tag::Open { name, .. } | Tag::Close { name, .. }) => {
                            !html(&s[name.0..name.1])
                        }
                        None => false,
                    };
                    if xml_tag {
                        rep.report(
                            "xml-injection.comment",
                            50,
                            || "--> closes a comment the value did not open, and markup follows",
                            p,
                            k + 1,
                        );
                    }
                    seen_comment = true;
                }
                continue;
            }
            _ => {}
        }
        n += 1;
        if n > MAX_TAGS {
            break;
        }
        if s[p..].starts_with(b"<!--") {
            seen_comment = true;
            match find_ci(s, p + 4, b"-->") {
                Some(e) => i = e + 3,
                None => {
                    if s.get(skip_ws(s, p + 4)) != Some(&b'#') {
                        rep.report(
                            "xml-injection.comment",
                            40,
                            || "a comment left open at the end of the value",
                            p,
                            s.len(),
                        );
                    }
                    break;
                }
            }
            continue;
        }
        if starts_ci(s, p, b"<![cdata[") {
            seen_cdata = true;
            let e = find_ci(s, p + 9, b"]]>");
            let inner = &s[p + 9..e.unwrap_or(s.len())];
            let score = if inner.contains(&b'<') { 40 } else { 30 };
            rep.report(
                "xml-injection.cdata",
                score,
                || "a CDATA section in the value",
                p,
                e.map_or(s.len(), |e| e + 3),
            );
            i = e.map_or(s.len(), |e| e + 3);
            continue;
        }
        if s.get(p + 1) == Some(&b'?') {
            i = pi(s, p, rep).max(i);
            continue;
        }
        match tag_at(s, p) {
            Some(Tag::Open { name, end, empty }) => {
                if let Some(b) = pending.take() {
                    let open_html = html(&s[name.0..name.1]);
                    if !(b.close_html && open_html) {
                        let close = b.close;
                        let reopen = reopens(s, &s[close.0..close.1]);
                        let score = if reopen { 75 } else { 60 };
                        rep.report(
                            "xml-injection.element-breakout",
                            score,
                            || {
                                format!(
                                    "</{}> closes an element the value did not open, and \
                                     new elements follow",
                                    String::from_utf8_lossy(&s[close.0..close.1])
                                )
                            },
                            b.at,
                            end,
                        );
                    }
                }
                if !empty {
                    if depth < MAX_STACK {
                        stack[depth] = name;
                    }
                    depth += 1;
                }
                i = end;
            }
            Some(Tag::Close { name, end }) => {
                let nm = &s[name.0..name.1];
                let top = depth.min(MAX_STACK);
                // The innermost open element of that name.
                match stack[..top].iter().rposition(|&(a, b)| &s[a..b] == nm) {
                    Some(k) => depth = k,
                    None if depth > MAX_STACK => depth -= 1,
                    None => {
                        if pending.is_none() {
                            pending = Some(Breakout {
                                close: name,
                                at: p,
                                close_html: html(nm),
                            });
                        }
                    }
                }
                i = end;
            }
            None => {}
        }
    }
}

/// The value ends with an opening tag of `name` left open.
fn reopens(s: &[u8], name: &[u8]) -> bool {
    let t = s.trim_ascii_end();
    if !t.ends_with(b">") {
        return false;
    }
    let Some(p) = t.iter().rposition(|&b| b == b'<') else {
        return false;
    };
    matches!(tag_at(t, p), Some(Tag::Open { name: (a, b), empty: false, .. }) if &t[a..b] == name)
}

/// `<`, then a name, `/`, `!` or `?`.
fn markup_at(s: &[u8], k: usize) -> bool {
    s.get(k) == Some(&b'<')
        && s.get(k + 1)
            .is_some_and(|&b| b.is_ascii_alphabetic() || matches!(b, b'/' | b'!' | b'?' | b'_'))
}

/// A processing instruction at `s[p]` (`<?`); returns where it ends.
fn pi(s: &[u8], p: usize, rep: &mut Reporter<'_>) -> usize {
    let t0 = p + 2;
    let t1 = qname_end(s, t0);
    let target = &s[t0..t1];
    let close = find_ci(s, t1, b"?>");
    let end = close.map_or(s.len(), |e| e + 2);
    if target.is_empty() || target.eq_ignore_ascii_case(b"php") {
        return end;
    }
    let (score, what) = if target.eq_ignore_ascii_case(b"xml-stylesheet") {
        // A stylesheet fetched from elsewhere runs XSLT on the server.
        let body = &s[t1..close.unwrap_or(s.len())];
        if find_ci(body, 0, b"://").is_some() || find_ci(body, 0, b"file:").is_some() {
            (60, "an xml-stylesheet processing instruction naming a URL")
        } else {
            (40, "an xml-stylesheet processing instruction")
        }
    } else if target.eq_ignore_ascii_case(b"xml") {
        if s[..p].iter().all(|&b| is_ws(b)) {
            (0, "")
        } else {
            (40, "an XML declaration after other text")
        }
    } else if close.is_some() && s.get(t1).is_some_and(|&b| is_ws(b)) {
        (40, "a processing instruction")
    } else {
        (0, "")
    };
    rep.report(
        "xml-injection.processing-instruction",
        score,
        || what,
        p,
        end,
    );
    end
}
