//! A tiny HTTP/1.x request-head parser (the crate must not depend on the
//! engine) and the tree the engine would build from a head: `method`,
//! `uri`, `path`, `query` and one `header` leaf per line, names lower-cased.

use rampart_plugin_api::Tree;

use crate::add_point;

#[derive(Debug, Clone, Default)]
pub struct Head {
    pub method: Vec<u8>,
    pub target: Vec<u8>,
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
}

fn trim(v: &[u8]) -> &[u8] {
    v.trim_ascii()
}

/// Parses a request line and header lines (CRLF or LF), up to the first
/// empty line or the end. An obsolete fold is joined to the previous value
/// with one space, as the engine does; a line without a colon is dropped.
pub fn parse_head(raw: &[u8]) -> Option<Head> {
    let mut lines = raw
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next()?;
    let mut parts = first.split(|&b| b == b' ').filter(|p| !p.is_empty());
    let mut head = Head {
        method: parts.next()?.to_vec(),
        target: parts.next()?.to_vec(),
        headers: Vec::new(),
    };
    for l in lines {
        if l.is_empty() {
            break;
        }
        if l[0] == b' ' || l[0] == b'\t' {
            if let Some((_, v)) = head.headers.last_mut() {
                v.push(b' ');
                v.extend_from_slice(trim(l));
            }
            continue;
        }
        let Some(colon) = l.iter().position(|&b| b == b':') else {
            continue;
        };
        head.headers
            .push((l[..colon].to_vec(), trim(&l[colon + 1..]).to_vec()));
    }
    Some(head)
}

/// The request's tree (without body).
pub fn tree_of(head: &Head) -> Tree {
    let mut tree = Tree::new();
    add_point(&mut tree, "method", &head.method);
    add_point(&mut tree, "uri", &head.target);
    let t = &head.target;
    let q = t.iter().position(|&b| b == b'?');
    add_point(&mut tree, "path", &t[..q.unwrap_or(t.len())]);
    if let Some(q) = q {
        for (i, pair) in t[q + 1..].split(|&b| b == b'&').enumerate().take(64) {
            let v = match pair.iter().position(|&b| b == b'=') {
                Some(e) => &pair[e + 1..],
                None => &[][..],
            };
            add_point(&mut tree, &format!("query[{i}]"), v);
        }
    }
    for (name, value) in &head.headers {
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        let path = format!("header[\"{}\"]", name.replace('"', "'"));
        add_point(&mut tree, &path, value);
    }
    tree
}

/// Request heads separated by empty lines; lines starting with `#` before
/// a head are comments.
pub fn heads_of_file(text: &str) -> Vec<Head> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let body: Vec<&str> = block
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .collect();
        if body.is_empty() {
            continue;
        }
        let raw = body.join("\n");
        if let Some(h) = parse_head(raw.as_bytes()) {
            out.push(h);
        }
    }
    out
}
