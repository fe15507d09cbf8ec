//! Test support: trees built from point paths, a small model of the
//! engine's decoding of a whole request, and readers of the corpus
//! formats (go-ftw YAML, GoTestWAF payload lists).

#![allow(dead_code, clippy::panic)]

use std::path::PathBuf;

use rampart_detect_files::{RfiDetector, SsrfDetector, TraversalDetector};
use rampart_plugin_api::text::percent_decode;
use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, NodeId, Tree};

pub const CLASSES: [Class; 3] = [Class::Traversal, Class::Rfi, Class::Ssrf];

/// Runs the three detectors on one point.
pub fn inspect_at(tree: &Tree, point: NodeId, value: &[u8]) -> Vec<Finding> {
    let ctx = DetectCtx {
        tree,
        point,
        source: tree.source_of(point),
        endpoint: b"/",
        content_type: None,
    };
    let mut out = Vec::new();
    TraversalDetector.inspect(value, &ctx, &mut out);
    RfiDetector.inspect(value, &ctx, &mut out);
    SsrfDetector.inspect(value, &ctx, &mut out);
    for f in &out {
        assert_eq!(f.point, point);
        assert!(f.span.start <= f.span.end && f.span.end as usize <= value.len());
        assert!(f.score > 0 && f.score <= 100);
    }
    out
}

// ---------------------------------------------------------------- paths

/// A tree holding one leaf at `path` with `value`; returns the leaf.
pub fn build(path: &str, value: &[u8]) -> (Tree, NodeId) {
    let mut tree = Tree::new();
    let leaf = add_path(&mut tree, path, value);
    (tree, leaf)
}

/// Adds a leaf at `path` (creating its ancestors) to a tree.
pub fn add_path(tree: &mut Tree, path: &str, value: &[u8]) -> NodeId {
    let b = path.as_bytes();
    let mut i = b
        .iter()
        .position(|c| !c.is_ascii_lowercase())
        .unwrap_or(b.len());
    let source = Source::parse(&path[..i]).unwrap_or_else(|| panic!("bad source in {path}"));
    let kind = if i == b.len() {
        NodeKind::Leaf
    } else {
        NodeKind::Container
    };
    let mut node = match tree.source(source) {
        Some(n) if i < b.len() => n,
        _ => tree.push_node(NodeId::ROOT, Seg::Source(source), kind, (0, 0)),
    };
    while i < b.len() {
        let seg = match b[i] {
            b'.' => {
                let s = i + 1;
                i = s + b[s..]
                    .iter()
                    .position(|c| b".:[".contains(c))
                    .unwrap_or(b.len() - s);
                key(tree, &b[s..i])
            }
            b'[' if b.get(i + 1) == Some(&b'"') => {
                let s = i + 2;
                let e = s + b[s..]
                    .windows(2)
                    .position(|w| w == b"\"]")
                    .expect("closing quote");
                i = e + 2;
                key(tree, &unquote(&b[s..e]))
            }
            b'[' => {
                let e = i + b[i..]
                    .iter()
                    .position(|&c| c == b']')
                    .expect("closing bracket");
                let n = path[i + 1..e].parse().expect("index");
                i = e + 1;
                Seg::Index(n)
            }
            b':' => {
                let s = i + 1;
                i = s + b[s..]
                    .iter()
                    .position(|c| b".:[".contains(c))
                    .unwrap_or(b.len() - s);
                Seg::Layer(layer(&path[s..i]))
            }
            _ => panic!("bad path {path}"),
        };
        node = tree.push_node(node, seg, NodeKind::Container, (0, 0));
    }
    let span = tree.push_bytes(value);
    tree.set_value(node, span);
    tree.set_kind(node, NodeKind::Leaf);
    node
}

fn unquote(k: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < k.len() {
        if k[i] == b'\\' && i + 1 < k.len() {
            out.push(k[i + 1]);
            i += 2;
        } else {
            out.push(k[i]);
            i += 1;
        }
    }
    out
}

fn key(tree: &mut Tree, name: &[u8]) -> Seg {
    let (start, end) = tree.push_bytes(name);
    Seg::Key { start, end }
}

pub fn layer(name: &str) -> &'static str {
    match name {
        "json" => "json",
        "base64" => "base64",
        "form" => "form",
        "xml" => "xml",
        "multipart" => "multipart",
        "url" => "url",
        "html" => "html",
        "cookie" => "cookie",
        other => panic!("unknown layer {other}"),
    }
}

// -------------------------------------------------------------- requests

/// An HTTP request, as the corpora describe one.
#[derive(Debug, Clone, Default)]
pub struct Req {
    pub method: String,
    pub uri: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn get(uri: &[u8]) -> Req {
        Req {
            method: "GET".into(),
            uri: uri.to_vec(),
            ..Req::default()
        }
    }

    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

fn pct(v: &[u8], plus: bool) -> Vec<u8> {
    let mut out = Vec::new();
    percent_decode(v, plus, &mut out);
    out
}

fn has_escape(v: &[u8]) -> bool {
    v.windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

fn leaf(t: &mut Tree, parent: NodeId, seg: Seg, value: &[u8]) -> NodeId {
    let span = t.push_bytes(value);
    t.push_node(parent, seg, NodeKind::Leaf, span)
}

fn container(t: &mut Tree, parent: NodeId, seg: Seg) -> NodeId {
    t.push_node(parent, seg, NodeKind::Container, (0, 0))
}

/// The request-point tree of a request: a model of the engine's decoding
/// (the real one lives in `core/engine`): method and raw target; the
/// percent-decoded path and its segments; query, form, JSON, XML and
/// multipart fields; headers and cookies; and a `:url` layer on every
/// leaf that still holds escapes.
pub fn tree_of(req: &Req) -> Tree {
    let mut t = Tree::new();
    leaf(
        &mut t,
        NodeId::ROOT,
        Seg::Source(Source::Method),
        req.method.as_bytes(),
    );
    leaf(&mut t, NodeId::ROOT, Seg::Source(Source::Uri), &req.uri);
    let (path, query) = match req.uri.iter().position(|&b| b == b'?') {
        Some(q) => (&req.uri[..q], Some(&req.uri[q + 1..])),
        None => (&req.uri[..], None),
    };
    let p = leaf(
        &mut t,
        NodeId::ROOT,
        Seg::Source(Source::Path),
        &pct(path, false),
    );
    let trimmed = path.strip_prefix(b"/").unwrap_or(path);
    let trimmed = trimmed.strip_suffix(b"/").unwrap_or(trimmed);
    if !trimmed.is_empty() {
        for (i, seg) in trimmed.split(|&b| b == b'/').enumerate() {
            leaf(&mut t, p, Seg::Index(i as u32), &pct(seg, false));
        }
    }
    if let Some(q) = query {
        let qn = container(&mut t, NodeId::ROOT, Seg::Source(Source::Query));
        form_into(&mut t, qn, q);
    }
    if !req.headers.is_empty() {
        let h = container(&mut t, NodeId::ROOT, Seg::Source(Source::Header));
        let mut cookie = None;
        for (name, value) in &req.headers {
            let k = key(&mut t, name.to_ascii_lowercase().as_bytes());
            leaf(&mut t, h, k, value);
            if name.eq_ignore_ascii_case("cookie") {
                let c = *cookie.get_or_insert_with(|| {
                    container(&mut t, NodeId::ROOT, Seg::Source(Source::Cookie))
                });
                for pair in value.split(|&b| b == b';') {
                    let pair = pair.trim_ascii();
                    if pair.is_empty() {
                        continue;
                    }
                    let (n, v) = match pair.iter().position(|&b| b == b'=') {
                        Some(i) => (&pair[..i], &pair[i + 1..]),
                        None => (pair, &pair[pair.len()..]),
                    };
                    let k = key(&mut t, n.trim_ascii());
                    leaf(&mut t, c, k, &pct(v.trim_ascii(), false));
                }
            }
        }
    }
    if !req.body.is_empty() {
        let body = leaf(&mut t, NodeId::ROOT, Seg::Source(Source::Body), &req.body);
        let ct = req
            .header("content-type")
            .map(|c| String::from_utf8_lossy(c).to_ascii_lowercase())
            .unwrap_or_default();
        let b = req.body.trim_ascii_start();
        let decoded = if ct.contains("multipart") || (ct.is_empty() && b.starts_with(b"--")) {
            let l = container(&mut t, body, Seg::Layer("multipart"));
            let raw_ct = String::from_utf8_lossy(req.header("content-type").unwrap_or_default())
                .into_owned();
            multipart_into(&mut t, l, &req.body, &raw_ct)
        } else if ct.contains("json") || (!ct.contains("xml") && b.starts_with(b"{")) {
            let l = container(&mut t, body, Seg::Layer("json"));
            let mut j = Json { v: &req.body, i: 0 };
            j.value(&mut t, l, 0).is_some()
        } else if ct.contains("xml") || b.starts_with(b"<") {
            let l = container(&mut t, body, Seg::Layer("xml"));
            xml_into(&mut t, l, &req.body);
            true
        } else if ct.contains("x-www-form-urlencoded") || (ct.is_empty() && b.contains(&b'=')) {
            let l = container(&mut t, body, Seg::Layer("form"));
            form_into(&mut t, l, &req.body);
            true
        } else {
            false
        };
        if decoded {
            t.set_kind(body, NodeKind::Container);
        }
    }
    url_layers(&mut t);
    t
}

fn form_into(t: &mut Tree, parent: NodeId, raw: &[u8]) {
    for pair in raw.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &pair[pair.len()..]),
        };
        let kd = pct(k, true);
        let vd = pct(v, true);
        match (kd.iter().position(|&b| b == b'['), kd.last()) {
            (Some(o), Some(b']')) if o > 0 => {
                let outer = key(t, &kd[..o]);
                let c = container(t, parent, outer);
                let inner = &kd[o + 1..kd.len() - 1];
                let seg = if inner.is_empty() {
                    Seg::Index(0)
                } else {
                    key(t, inner)
                };
                leaf(t, c, seg, &vd);
            }
            _ => {
                let s = key(t, &kd);
                leaf(t, parent, s, &vd);
            }
        }
    }
}

fn url_layers(t: &mut Tree) {
    let mut i = 1;
    while i < t.len() {
        let id = NodeId(i as u32);
        i += 1;
        let n = *t.node(id);
        if n.kind != NodeKind::Leaf
            || matches!(n.seg, Seg::Source(Source::Method | Source::Uri))
            || n.depth >= 3
        {
            continue;
        }
        let v = t.value(id).to_vec();
        if has_escape(&v) {
            let d = pct(&v, false);
            if d != v {
                leaf(t, id, Seg::Layer("url"), &d);
            }
        }
    }
}

fn multipart_into(t: &mut Tree, parent: NodeId, body: &[u8], ct: &str) -> bool {
    let lower = ct.to_ascii_lowercase();
    let boundary: Vec<u8> = match lower.find("boundary=") {
        Some(p) => ct[p + 9..]
            .trim_matches('"')
            .split(';')
            .next()
            .unwrap_or("")
            .as_bytes()
            .to_vec(),
        None => {
            let first = body.split(|&b| b == b'\n').next().unwrap_or_default();
            first
                .trim_ascii()
                .strip_prefix(b"--")
                .unwrap_or_default()
                .to_vec()
        }
    };
    if boundary.is_empty() {
        return false;
    }
    let mut delim = b"--".to_vec();
    delim.extend_from_slice(&boundary);
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(p) = find(rest, &delim) {
        rest = &rest[p + delim.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let end = find(rest, &delim).unwrap_or(rest.len());
        parts.push(&rest[..end]);
    }
    for (n, part) in parts.into_iter().enumerate() {
        let part = part
            .strip_prefix(b"\r\n")
            .or_else(|| part.strip_prefix(b"\n"))
            .unwrap_or(part);
        let (head, data) = match find(part, b"\r\n\r\n") {
            Some(p) => (&part[..p], &part[p + 4..]),
            None => match find(part, b"\n\n") {
                Some(p) => (&part[..p], &part[p + 2..]),
                None => (part, &part[part.len()..]),
            },
        };
        let data = data
            .strip_suffix(b"\r\n")
            .or_else(|| data.strip_suffix(b"\n"))
            .unwrap_or(data);
        let mut name = None;
        let mut filename = None;
        let mut headers = Vec::new();
        for line in head.split(|&b| b == b'\n') {
            let line = line.trim_ascii();
            let Some(c) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let hn = String::from_utf8_lossy(&line[..c]).to_ascii_lowercase();
            let hv = line[c + 1..].trim_ascii().to_vec();
            if hn == "content-disposition" {
                name = param(&hv, b"name");
                filename = param(&hv, b"filename");
            }
            headers.push((hn, hv));
        }
        let seg = match &name {
            Some(nm) => key(t, nm),
            None => Seg::Index(n as u32),
        };
        let p = leaf(t, parent, seg, data);
        if let Some(f) = filename {
            let k = key(t, b"@filename");
            leaf(t, p, k, &f);
        }
        for (hn, hv) in headers {
            let k = key(t, format!("@{hn}").as_bytes());
            leaf(t, p, k, &hv);
        }
    }
    true
}

fn param(h: &[u8], name: &[u8]) -> Option<Vec<u8>> {
    for item in h.split(|&b| b == b';') {
        let item = item.trim_ascii();
        if let Some(eq) = item.iter().position(|&b| b == b'=') {
            if item[..eq].trim_ascii().eq_ignore_ascii_case(name) {
                let v = item[eq + 1..].trim_ascii();
                let v = v.strip_prefix(b"\"").unwrap_or(v);
                let v = v.strip_suffix(b"\"").unwrap_or(v);
                return Some(v.to_vec());
            }
        }
    }
    None
}

pub fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    h.windows(n.len()).position(|w| w == n)
}

/// A small JSON reader: strings, numbers and literals as leaves.
struct Json<'a> {
    v: &'a [u8],
    i: usize,
}

impl Json<'_> {
    fn ws(&mut self) {
        while self.i < self.v.len() && self.v[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn value(&mut self, t: &mut Tree, node: NodeId, depth: u32) -> Option<()> {
        self.ws();
        if depth > 32 {
            return None;
        }
        match *self.v.get(self.i)? {
            b'{' => {
                self.i += 1;
                loop {
                    self.ws();
                    if self.v.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Some(());
                    }
                    let k = self.string()?;
                    self.ws();
                    (self.v.get(self.i) == Some(&b':')).then_some(())?;
                    self.i += 1;
                    let seg = key(t, &k);
                    self.member(t, node, seg, depth)?;
                    self.ws();
                    match self.v.get(self.i)? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut n = 0;
                loop {
                    self.ws();
                    if self.v.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Some(());
                    }
                    self.member(t, node, Seg::Index(n), depth)?;
                    n += 1;
                    self.ws();
                    match self.v.get(self.i)? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            _ => {
                let s = self.scalar()?;
                let span = t.push_bytes(&s);
                t.set_value(node, span);
                t.set_kind(node, NodeKind::Leaf);
                Some(())
            }
        }
    }

    fn member(&mut self, t: &mut Tree, parent: NodeId, seg: Seg, depth: u32) -> Option<()> {
        self.ws();
        let c = *self.v.get(self.i)?;
        if c == b'{' || c == b'[' {
            let n = container(t, parent, seg);
            self.value(t, n, depth + 1)
        } else {
            let s = self.scalar()?;
            leaf(t, parent, seg, &s);
            Some(())
        }
    }

    fn scalar(&mut self) -> Option<Vec<u8>> {
        if self.v.get(self.i) == Some(&b'"') {
            return self.string();
        }
        let s = self.i;
        while self.i < self.v.len() && !b",}] \t\r\n".contains(&self.v[self.i]) {
            self.i += 1;
        }
        (self.i > s).then(|| self.v[s..self.i].to_vec())
    }

    fn string(&mut self) -> Option<Vec<u8>> {
        (self.v.get(self.i) == Some(&b'"')).then_some(())?;
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = *self.v.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return Some(out),
                b'\\' => {
                    let e = *self.v.get(self.i)?;
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let h = std::str::from_utf8(self.v.get(self.i..self.i + 4)?).ok()?;
                            let cp = u32::from_str_radix(h, 16).ok()?;
                            self.i += 4;
                            let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                            out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
    }
}

fn xml_unescape(v: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(v)
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    s.into_bytes()
}

/// A small XML reader: attribute values as `@name` leaves, text runs as
/// leaves keyed by their element.
fn xml_into(t: &mut Tree, parent: NodeId, body: &[u8]) {
    let mut stack: Vec<NodeId> = vec![parent];
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'<' {
            let end = match body[i..].iter().position(|&b| b == b'>') {
                Some(e) => i + e,
                None => return,
            };
            let tag = &body[i + 1..end];
            i = end + 1;
            if tag.starts_with(b"?") || tag.starts_with(b"!") {
                continue;
            }
            if tag.starts_with(b"/") {
                if stack.len() > 1 {
                    stack.pop();
                }
                continue;
            }
            let self_close = tag.ends_with(b"/");
            let tag = tag.strip_suffix(b"/").unwrap_or(tag);
            let name_end = tag
                .iter()
                .position(|b| b.is_ascii_whitespace())
                .unwrap_or(tag.len());
            let k = key(t, &tag[..name_end]);
            let top = *stack.last().unwrap_or(&parent);
            let el = container(t, top, k);
            // Attributes.
            let mut a = &tag[name_end..];
            while let Some(eq) = a.iter().position(|&b| b == b'=') {
                let name = a[..eq].trim_ascii();
                let rest = a[eq + 1..].trim_ascii_start();
                let Some(&q) = rest.first() else { break };
                if q != b'"' && q != b'\'' {
                    break;
                }
                let Some(close) = rest[1..].iter().position(|&b| b == q) else {
                    break;
                };
                let val = xml_unescape(&rest[1..1 + close]);
                let mut an = b"@".to_vec();
                an.extend_from_slice(name);
                let k = key(t, &an);
                leaf(t, el, k, &val);
                a = &rest[close + 2..];
            }
            if !self_close {
                stack.push(el);
            }
        } else {
            let end = body[i..]
                .iter()
                .position(|&b| b == b'<')
                .map_or(body.len(), |e| i + e);
            let text = body[i..end].trim_ascii();
            if !text.is_empty() {
                let top = *stack.last().unwrap_or(&parent);
                let k = key(t, b"#text");
                leaf(t, top, k, &xml_unescape(text));
            }
            i = end;
        }
    }
}

/// Score sums per class of [`CLASSES`] for a whole request, and the rules
/// that fired.
pub fn score_request(req: &Req) -> ([u32; 3], Vec<String>) {
    let t = tree_of(req);
    let mut sums = [0u32; 3];
    let mut rules = Vec::new();
    let leaves: Vec<NodeId> = t.leaves().collect();
    for id in leaves {
        let v = t.value(id).to_vec();
        for f in inspect_at(&t, id, &v) {
            if let Some(k) = CLASSES.iter().position(|&c| c == f.class) {
                sums[k] += u32::from(f.score);
            }
            rules.push(format!("{}@{}={}", f.rule, t.path(id), f.score));
        }
    }
    (sums, rules)
}

pub fn blocked(sums: &[u32; 3]) -> bool {
    sums.iter().any(|&s| s >= 50)
}

// --------------------------------------------------------------- corpora

/// The shared corpus folder (`RAMPART_SHARED` overrides).
pub fn shared() -> PathBuf {
    match std::env::var_os("RAMPART_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")),
    }
}

pub fn corpus(rel: &str) -> Option<String> {
    let p = shared().join("corpus").join(rel);
    std::fs::read(&p)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn indent(l: &str) -> usize {
    l.len() - l.trim_start().len()
}

/// Reads a YAML scalar starting at `lines[i]` after `col` bytes; returns
/// the value and the index of the next line to read.
pub fn scalar(lines: &[&str], i: usize, col: usize) -> (String, usize) {
    let first = &lines[i][col.min(lines[i].len())..];
    let rest = first.trim_start();
    let own = indent(lines[i]);
    if rest.starts_with('|') || rest.starts_with('>') {
        let fold = rest.starts_with('>');
        let mut j = i + 1;
        let mut block: Vec<&str> = Vec::new();
        let mut ind = None;
        while j < lines.len() {
            let l = lines[j];
            if l.trim().is_empty() {
                block.push("");
                j += 1;
                continue;
            }
            if indent(l) <= own {
                break;
            }
            let n = *ind.get_or_insert(indent(l));
            block.push(&l[n.min(indent(l))..]);
            j += 1;
        }
        while block.last() == Some(&"") {
            block.pop();
        }
        let mut s = block.join(if fold { " " } else { "\n" });
        if !rest.starts_with("|-") && !rest.starts_with(">-") {
            s.push('\n');
        }
        return (s, j);
    }
    if let Some(body) = rest.strip_prefix('"') {
        let mut out = String::new();
        let mut text = body.to_string();
        let mut j = i + 1;
        loop {
            let mut chars = text.chars().peekable();
            let mut closed = false;
            let mut cont = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some('n') => out.push('\n'),
                        Some('t') => out.push('\t'),
                        Some('r') => out.push('\r'),
                        Some('0') => out.push('\0'),
                        Some('x') => {
                            let h: String = chars.by_ref().take(2).collect();
                            if let Ok(b) = u8::from_str_radix(&h, 16) {
                                out.push(char::from(b));
                            }
                        }
                        Some('u') => {
                            let h: String = chars.by_ref().take(4).collect();
                            if let Some(ch) =
                                u32::from_str_radix(&h, 16).ok().and_then(char::from_u32)
                            {
                                out.push(ch);
                            }
                        }
                        Some(other) => out.push(other),
                        None => cont = true,
                    },
                    c => out.push(c),
                }
            }
            if closed || j >= lines.len() {
                return (out, j);
            }
            if !cont {
                out.push(' ');
            }
            text = lines[j].trim_start().to_string();
            j += 1;
        }
    }
    if let Some(body) = rest.strip_prefix('\'') {
        let mut out = String::new();
        let mut text = body.to_string();
        let mut j = i + 1;
        loop {
            let mut chars = text.chars().peekable();
            let mut closed = false;
            while let Some(c) = chars.next() {
                if c == '\'' {
                    if chars.peek() == Some(&'\'') {
                        chars.next();
                        out.push('\'');
                    } else {
                        closed = true;
                        break;
                    }
                } else {
                    out.push(c);
                }
            }
            if closed || j >= lines.len() {
                return (out, j);
            }
            out.push(' ');
            text = lines[j].trim_start().to_string();
            j += 1;
        }
    }
    (rest.trim_end().to_string(), i + 1)
}

/// The items of a top-level YAML list (`payload:`) of a GoTestWAF file.
pub fn yaml_list(text: &str, name: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let head = format!("{name}:");
    while i < lines.len() {
        if lines[i].trim_end() != head {
            i += 1;
            continue;
        }
        i += 1;
        while i < lines.len() {
            let l = lines[i];
            let t = l.trim_start();
            if indent(l) == 0 && !t.starts_with('-') && !t.is_empty() {
                break;
            }
            if let Some(item) = t.strip_prefix("- ") {
                let col = l.len() - item.len();
                let (v, next) = scalar(&lines, i, col);
                out.push(v);
                i = next;
            } else {
                i += 1;
            }
        }
    }
    out
}

/// One go-ftw test stage.
#[derive(Debug, Clone)]
pub struct FtwCase {
    pub id: String,
    /// `expect_ids` non-empty: an attack of the rule's class.
    pub attack: bool,
    pub req: Req,
}

/// Reads the stages of a go-ftw YAML file.
pub fn read_ftw(text: &str) -> Vec<FtwCase> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<FtwCase> = Vec::new();
    let mut rule = String::new();
    let mut test = String::new();
    let mut cur: Option<FtwCase> = None;
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        let t = l.trim_start();
        let t = t.strip_prefix("- ").unwrap_or(t);
        let col = l.len() - t.len();
        let (k, after) = match t.find(':') {
            Some(c) => (&t[..c], c + 1),
            None => {
                i += 1;
                continue;
            }
        };
        match k {
            "rule_id" => {
                rule = t[after..].trim().to_string();
                i += 1;
            }
            "test_id" => {
                test = t[after..].trim().to_string();
                i += 1;
            }
            "input" => {
                if let Some(c) = cur.take() {
                    out.push(c);
                }
                cur = Some(FtwCase {
                    id: format!("{rule}-{test}"),
                    attack: false,
                    req: Req {
                        method: "GET".into(),
                        uri: b"/".to_vec(),
                        ..Req::default()
                    },
                });
                i += 1;
            }
            "method" | "uri" | "data" => {
                let (v, next) = scalar(&lines, i, col + after);
                if let Some(c) = cur.as_mut() {
                    match k {
                        "method" => c.req.method = v,
                        "uri" => c.req.uri = v.into_bytes(),
                        _ => c.req.body = v.into_bytes(),
                    }
                }
                i = next;
            }
            "headers" => {
                let own = indent(l);
                i += 1;
                while i < lines.len() && (lines[i].trim().is_empty() || indent(lines[i]) > own) {
                    let hl = lines[i];
                    let ht = hl.trim_start();
                    match ht.find(':') {
                        Some(c) if !ht.is_empty() => {
                            let name = ht[..c].trim().trim_matches('"').to_string();
                            let (v, next) = scalar(&lines, i, indent(hl) + c + 1);
                            if let Some(cc) = cur.as_mut() {
                                cc.req.headers.push((name, v.into_bytes()));
                            }
                            i = next;
                        }
                        _ => i += 1,
                    }
                }
            }
            "expect_ids" => {
                let v = t[after..].trim();
                let nonempty = if v.is_empty() {
                    lines
                        .get(i + 1)
                        .is_some_and(|n| n.trim_start().starts_with("- "))
                } else {
                    v != "[]"
                };
                if let Some(c) = cur.as_mut() {
                    c.attack |= nonempty;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    if let Some(c) = cur.take() {
        out.push(c);
    }
    out
}

/// Percent-encodes everything but unreserved characters.
pub fn pct_encode(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in v {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    out
}

/// JSON string escaping.
pub fn json_str(v: &str) -> String {
    let mut s = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if (c as u32) < 0x20 => s.push_str(&format!("\\u{:04x}", c as u32)),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// A request carrying `payload` in a GoTestWAF placeholder.
pub fn placed(placeholder: &str, key: &str, payload: &str) -> Req {
    let enc = String::from_utf8_lossy(&pct_encode(payload.as_bytes())).into_owned();
    match placeholder {
        "URLPath" => Req::get(format!("/{}", enc.trim_start_matches("%2F")).as_bytes()),
        "URLParam" => Req::get(format!("/search?{key}={enc}").as_bytes()),
        "HTMLForm" => Req {
            method: "POST".into(),
            uri: b"/submit".to_vec(),
            headers: vec![(
                "Content-Type".into(),
                b"application/x-www-form-urlencoded".to_vec(),
            )],
            body: format!("{key}={enc}").into_bytes(),
        },
        "HTMLMultipartForm" => Req {
            method: "POST".into(),
            uri: b"/submit".to_vec(),
            headers: vec![(
                "Content-Type".into(),
                b"multipart/form-data; boundary=xyzzy".to_vec(),
            )],
            body: format!(
                "--xyzzy\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n{payload}\r\n--xyzzy--\r\n"
            )
            .into_bytes(),
        },
        "MultipartName" => Req {
            method: "POST".into(),
            uri: b"/".to_vec(),
            headers: vec![(
                "Content-Type".into(),
                b"multipart/form-data; boundary=xyzzy".to_vec(),
            )],
            body: format!(
                "--xyzzy\r\nContent-disposition: form-data; name=\"{payload}\"\r\n\r\nTest\r\n--xyzzy--\r\n"
            )
            .into_bytes(),
        },
        "JSONRequest" => Req {
            method: "POST".into(),
            uri: b"/api".to_vec(),
            headers: vec![("Content-Type".into(), b"application/json".to_vec())],
            body: format!("{{\"{key}\": {}}}", json_str(payload)).into_bytes(),
        },
        other => panic!("unknown placeholder {other}"),
    }
}
