//! Helpers shared by the corpus measurements: where the shared corpus is,
//! a small simulation of the decoding layers the engine adds below a
//! value (percent-decoding, HTML character references, JavaScript
//! escapes), and a minimal reader of the `payload:` lists of GoTestWAF
//! YAML files.

#![allow(dead_code)]

use std::path::PathBuf;

use rampart_detect_xss::XssDetector;
use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{DetectCtx, Detector, NodeId, Tree};

/// The shared directory (`RAMPART_SHARED`, else `../../../shared` from the crate).
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("RAMPART_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")),
    }
}

pub fn corpus_dir() -> PathBuf {
    shared_dir().join("corpus")
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Percent-decoding; `+` is a space when `plus`.
pub fn pct(s: &[u8], plus: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' if i + 2 < s.len() => match (hex(s[i + 1]), hex(s[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

fn has_pct(s: &[u8]) -> bool {
    s.windows(3)
        .any(|w| w[0] == b'%' && hex(w[1]).is_some() && hex(w[2]).is_some())
}

/// HTML character references (numeric, and the common named ones).
pub fn html_decode(s: &[u8]) -> Vec<u8> {
    const NAMED: &[(&str, char)] = &[
        ("lt", '<'),
        ("gt", '>'),
        ("quot", '"'),
        ("amp", '&'),
        ("apos", '\''),
        ("colon", ':'),
        ("lpar", '('),
        ("rpar", ')'),
        ("Tab", '\t'),
        ("NewLine", '\n'),
        ("sol", '/'),
        ("equals", '='),
        ("nbsp", '\u{a0}'),
        ("grave", '`'),
        ("period", '.'),
        ("semi", ';'),
    ];
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    'outer: while i < s.len() {
        if s[i] == b'&' {
            let rest = &s[i + 1..];
            if rest.first() == Some(&b'#') {
                let (hexa, mut j) = match rest.get(1) {
                    Some(b'x' | b'X') => (true, 2),
                    _ => (false, 1),
                };
                let st = j;
                let mut v: u32 = 0;
                while j < rest.len() && j - st < 10 {
                    let d = match (rest[j] as char).to_digit(if hexa { 16 } else { 10 }) {
                        Some(d) => d,
                        None => break,
                    };
                    v = v
                        .saturating_mul(if hexa { 16 } else { 10 })
                        .saturating_add(d);
                    j += 1;
                }
                if j > st {
                    if rest.get(j) == Some(&b';') {
                        j += 1;
                    }
                    let c = char::from_u32(v).unwrap_or('\u{fffd}');
                    let mut b = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                    i += 1 + j;
                    continue;
                }
            } else {
                for (n, c) in NAMED {
                    let nb = n.as_bytes();
                    if rest.starts_with(nb) && rest.get(nb.len()) == Some(&b';') {
                        let mut b = [0; 4];
                        out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                        i += 2 + nb.len();
                        continue 'outer;
                    }
                }
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// JavaScript escapes `\xXX`, `\uXXXX`, `\u{...}`.
pub fn js_unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' {
            let r = &s[i + 1..];
            let (len, v) = match r {
                [b'x', a, b, ..] => (3, hex(*a).zip(hex(*b)).map(|(a, b)| u32::from(a * 16 + b))),
                [b'u', b'{', ..] => {
                    let end = r.iter().position(|&c| c == b'}').unwrap_or(0);
                    let v = std::str::from_utf8(&r[2..end.max(2)])
                        .ok()
                        .and_then(|h| u32::from_str_radix(h, 16).ok());
                    (end + 1, v)
                }
                [b'u', a, b, c, d, ..] => {
                    let v = [*a, *b, *c, *d]
                        .iter()
                        .try_fold(0u32, |acc, &x| hex(x).map(|h| acc * 16 + u32::from(h)));
                    (5, v)
                }
                _ => (0, None),
            };
            if let Some(ch) = v.and_then(char::from_u32) {
                let mut b = [0; 4];
                out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                i += 1 + len;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// The decodings the engine would try on a value: a second round of
/// percent-decoding while escapes remain, HTML references, JS escapes.
fn decodings(cur: &[u8], depth: usize) -> Vec<(&'static str, Vec<u8>)> {
    let mut next = Vec::new();
    if has_pct(cur) && depth < 3 {
        next.push(("url", pct(cur, false)));
    }
    if cur
        .windows(2)
        .any(|w| w[0] == b'&' && (w[1] == b'#' || w[1].is_ascii_alphabetic()))
    {
        next.push(("html", html_decode(cur)));
    }
    if cur
        .windows(2)
        .any(|w| w[0] == b'\\' && (w[1] == b'u' || w[1] == b'x'))
    {
        next.push(("jsesc", js_unescape(cur)));
    }
    next
}

/// A request tree holding `first` as the query parameter `q` and, below
/// it, the layers the engine would decode (each a child of the value it
/// was decoded from); returns the tree and its leaves.
pub fn layered_tree(first: &[u8]) -> (Tree, Vec<NodeId>) {
    let mut tree = Tree::new();
    let q = tree.push_node(
        NodeId::ROOT,
        Seg::Source(Source::Query),
        NodeKind::Container,
        (0, 0),
    );
    let (s, e) = tree.push_bytes(b"q");
    let leaf = tree.push_node(q, Seg::Key { start: s, end: e }, NodeKind::Leaf, (0, 0));
    let span = tree.push_bytes(first);
    tree.set_value(leaf, span);
    let mut nodes = vec![(leaf, 0usize)];
    let mut seen = vec![first.to_vec()];
    let mut k = 0;
    while k < nodes.len() && nodes.len() < 8 {
        let (id, depth) = nodes[k];
        let cur = tree.value(id).to_vec();
        for (layer, dec) in decodings(&cur, depth) {
            if seen.contains(&dec) {
                continue;
            }
            let child = tree.push_node(id, Seg::Layer(layer), NodeKind::Leaf, (0, 0));
            let span = tree.push_bytes(&dec);
            tree.set_value(child, span);
            nodes.push((child, depth + 1));
            seen.push(dec);
        }
        k += 1;
    }
    (tree, nodes.into_iter().map(|(id, _)| id).collect())
}

/// The detector's best score over a value and its layers, as the engine
/// would run it.
pub fn best_score(first: Vec<u8>) -> u8 {
    let (tree, leaves) = layered_tree(&first);
    let mut best = 0;
    let mut out = Vec::new();
    for id in leaves {
        let ctx = DetectCtx {
            tree: &tree,
            point: id,
            source: tree.source_of(id),
            endpoint: b"/",
            content_type: None,
        };
        out.clear();
        XssDetector.inspect(tree.value(id), &ctx, &mut out);
        best = out.iter().map(|f| f.score).fold(best, u8::max);
    }
    best
}

/// Lines of a plain text corpus file (empty lines and `#` comments skipped).
pub fn text_lines(path: &std::path::Path) -> Vec<Vec<u8>> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty() && l[0] != b'#')
        .map(<[u8]>::to_vec)
        .collect()
}

/// The items of the `payload:` list of a GoTestWAF YAML file: plain,
/// single-quoted (`''` escapes) and double-quoted (backslash escapes,
/// lines continued with a trailing backslash or folded with a space).
pub fn yaml_payloads(path: &std::path::Path) -> Vec<Vec<u8>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut in_list = false;
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if !line.starts_with(' ') && !line.starts_with('-') {
            in_list = line.trim_end() == "payload:";
            continue;
        }
        if !in_list {
            continue;
        }
        let t = line.trim_start();
        let Some(item) = t.strip_prefix("- ") else {
            continue;
        };
        if let Some(body) = item.strip_prefix('"') {
            let mut s = body.to_string();
            while !ends_dq(&s) && i < lines.len() {
                let next = lines[i].trim_start();
                i += 1;
                if s.ends_with('\\') {
                    s.pop();
                    s.push_str(next);
                } else {
                    s.push(' ');
                    s.push_str(next);
                }
            }
            let s = s.trim_end();
            out.push(unescape_dq(s.strip_suffix('"').unwrap_or(s)));
        } else if let Some(body) = item.strip_prefix('\'') {
            let mut s = body.to_string();
            while !ends_sq(&s) && i < lines.len() {
                s.push(' ');
                s.push_str(lines[i].trim_start());
                i += 1;
            }
            let s = s.trim_end();
            out.push(
                s.strip_suffix('\'')
                    .unwrap_or(s)
                    .replace("''", "'")
                    .into_bytes(),
            );
        } else {
            out.push(item.trim_end().as_bytes().to_vec());
        }
    }
    out
}

fn ends_dq(s: &str) -> bool {
    let t = s.trim_end();
    if !t.ends_with('"') {
        return false;
    }
    let before = &t[..t.len() - 1];
    let slashes = before.chars().rev().take_while(|&c| c == '\\').count();
    slashes % 2 == 0
}

fn ends_sq(s: &str) -> bool {
    let t = s.trim_end();
    t.ends_with('\'') && !t.ends_with("''") || t.ends_with("'''")
}

fn unescape_dq(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut it = s.chars().peekable();
    let mut b = [0; 4];
    while let Some(c) = it.next() {
        if c != '\\' {
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            continue;
        }
        let Some(e) = it.next() else { break };
        let hexn = |n: usize, it: &mut std::iter::Peekable<std::str::Chars<'_>>| {
            let h: String = (0..n).filter_map(|_| it.next()).collect();
            u32::from_str_radix(&h, 16).ok()
        };
        match e {
            'n' => out.push(b'\n'),
            't' => out.push(b'\t'),
            'r' => out.push(b'\r'),
            '0' => out.push(0),
            'x' => {
                if let Some(v) = hexn(2, &mut it) {
                    // YAML \xXX is a code point.
                    let ch = char::from_u32(v).unwrap_or('\u{fffd}');
                    out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                }
            }
            'u' => {
                if let Some(ch) = hexn(4, &mut it).and_then(char::from_u32) {
                    out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                }
            }
            other => out.extend_from_slice(other.encode_utf8(&mut b).as_bytes()),
        }
    }
    out
}

/// Values of one CRS regression test: the path, query parameters, form
/// fields, the body as a whole and header values (Host, Accept... and
/// the test agent skipped); parameter names apart (the engine inspects
/// values only).
#[derive(Debug, Default)]
pub struct CrsTest {
    pub id: String,
    pub values: Vec<Vec<u8>>,
    pub names: Vec<Vec<u8>>,
    pub expect: Vec<String>,
    pub no_expect: Vec<String>,
}

fn params(t: &mut CrsTest, s: &str, sep: char) {
    for kv in s.split(sep) {
        let (k, v) = kv.split_once('=').unwrap_or(("", kv));
        t.names.push(pct(k.trim().as_bytes(), true));
        t.values.push(pct(v.trim().as_bytes(), true));
    }
}

/// Reads the tests of a go-ftw YAML file (single-line scalars and `|`
/// blocks).
pub fn crs_tests(path: &std::path::Path) -> Vec<CrsTest> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut tests: Vec<CrsTest> = Vec::new();
    let mut headers_indent: Option<usize> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        let indent = line.len() - line.trim_start().len();
        let t = line.trim_start();
        if let Some(id) = t.strip_prefix("- test_id:") {
            tests.push(CrsTest {
                id: id.trim().to_string(),
                ..CrsTest::default()
            });
            headers_indent = None;
            continue;
        }
        let Some(cur) = tests.last_mut() else {
            continue;
        };
        if headers_indent.is_some_and(|h| indent <= h) {
            headers_indent = None;
        }
        let Some((key, val)) = t.split_once(':') else {
            continue;
        };
        let mut val = unquote(val.trim());
        if val == "|" || val == "|-" || val == ">" {
            let mut block = Vec::new();
            while i < lines.len()
                && (lines[i].len() - lines[i].trim_start().len() > indent
                    || lines[i].trim().is_empty())
            {
                block.push(lines[i].trim());
                i += 1;
            }
            val = block.join("\n").trim().to_string();
        }
        if let Some(h) = headers_indent {
            if indent > h {
                let skip = [
                    "host",
                    "accept",
                    "accept-encoding",
                    "accept-language",
                    "content-type",
                    "content-length",
                    "connection",
                    "accept-charset",
                    "keep-alive",
                    "proxy-connection",
                ];
                let lk = key.to_ascii_lowercase();
                if !skip.contains(&lk.as_str()) && !val.starts_with("OWASP CRS") {
                    cur.values.push(val.as_bytes().to_vec());
                    if lk == "cookie" {
                        params(cur, &val, ';');
                    }
                }
                continue;
            }
        }
        match key {
            "headers" => headers_indent = Some(indent),
            "uri" => {
                let (path, query) = val.split_once('?').unwrap_or((&val, ""));
                cur.values.push(pct(path.as_bytes(), false));
                if !query.is_empty() {
                    params(cur, query, '&');
                }
            }
            "data" => {
                cur.values.push(val.as_bytes().to_vec());
                if val.starts_with('<') {
                    // XML: attribute values, entity-decoded (as the xml
                    // decoder emits them).
                    for part in val.split("=\"").skip(1) {
                        if let Some(end) = part.find('"') {
                            cur.values.push(html_decode(&part.as_bytes()[..end]));
                        }
                    }
                } else if !val.starts_with('{') {
                    params(cur, &val, '&');
                }
            }
            "expect_ids" => cur.expect.extend(ids(&val)),
            "no_expect_ids" => cur.no_expect.extend(ids(&val)),
            _ => {}
        }
    }
    tests
}

fn ids(v: &str) -> Vec<String> {
    v.trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn unquote(v: &str) -> String {
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        v[1..v.len() - 1].replace("''", "'")
    } else if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        String::from_utf8_lossy(&unescape_dq(&v[1..v.len() - 1])).into_owned()
    } else {
        v.to_string()
    }
}
