//! Corpus loading for the measurement tests: GoTestWAF payload lists,
//! go-ftw (CRS regression) requests, and a small stand-in for the
//! engine's decoding layers.

#![allow(dead_code)]

use std::path::PathBuf;

/// The shared corpus directory (`RAMPART_SHARED` overrides).
pub fn shared() -> PathBuf {
    match std::env::var_os("RAMPART_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")),
    }
}

pub fn corpus(rel: &str) -> PathBuf {
    shared().join("corpus").join(rel)
}

fn hex(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

/// The items of the `payload:` list of a GoTestWAF YAML file.
pub fn payloads(text: &str) -> Vec<Vec<u8>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut in_list = false;
    let mut i = 0;
    while i < b.len() {
        let e = b[i..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(b.len(), |p| i + p);
        let line = &b[i..e];
        if !line.is_empty() && !line[0].is_ascii_whitespace() && line[0] != b'-' {
            in_list = line.starts_with(b"payload:");
            i = e + 1;
            continue;
        }
        let t = line
            .iter()
            .position(|c| !c.is_ascii_whitespace())
            .unwrap_or(line.len());
        if in_list && line[t..].starts_with(b"- ") {
            let (v, next) = scalar(b, i + t + 2);
            out.push(v);
            i = next;
            continue;
        }
        i = e + 1;
    }
    out
}

/// Reads a YAML scalar at `i` (plain, '...' or "..."); returns it and the
/// index of the next line.
pub fn scalar(b: &[u8], i: usize) -> (Vec<u8>, usize) {
    let mut v = Vec::new();
    match b.get(i) {
        Some(b'\'') => {
            let mut j = i + 1;
            while j < b.len() {
                match b[j] {
                    b'\'' if b.get(j + 1) == Some(&b'\'') => {
                        v.push(b'\'');
                        j += 2;
                    }
                    b'\'' => {
                        j += 1;
                        break;
                    }
                    b'\n' => {
                        v.push(b' ');
                        j += 1;
                        while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                            j += 1;
                        }
                    }
                    c => {
                        v.push(c);
                        j += 1;
                    }
                }
            }
            (v, next_line(b, j))
        }
        Some(b'"') => {
            let mut j = i + 1;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j += 1;
                        break;
                    }
                    b'\\' => {
                        let c = b.get(j + 1).copied().unwrap_or(b'\\');
                        j += 2;
                        match c {
                            b'\n' => {
                                while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                                    j += 1;
                                }
                            }
                            b'n' => v.push(b'\n'),
                            b't' => v.push(b'\t'),
                            b'r' => v.push(b'\r'),
                            b'0' => v.push(0),
                            b'x' | b'u' | b'U' => {
                                let n = match c {
                                    b'x' => 2,
                                    b'u' => 4,
                                    _ => 8,
                                };
                                let mut cp = 0u32;
                                for k in 0..n {
                                    cp = cp * 16 + b.get(j + k).copied().and_then(hex).unwrap_or(0);
                                }
                                j += n;
                                let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                                let mut tmp = [0u8; 4];
                                v.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                            }
                            other => v.push(other),
                        }
                    }
                    b'\n' => {
                        v.push(b' ');
                        j += 1;
                        while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                            j += 1;
                        }
                    }
                    c => {
                        v.push(c);
                        j += 1;
                    }
                }
            }
            (v, next_line(b, j))
        }
        _ => {
            let e = b[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |p| i + p);
            let mut line = &b[i..e];
            while line.last().is_some_and(|c| c.is_ascii_whitespace()) {
                line = &line[..line.len() - 1];
            }
            (line.to_vec(), e + 1)
        }
    }
}

fn next_line(b: &[u8], j: usize) -> usize {
    b[j.min(b.len())..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| j + p + 1)
}

/// One go-ftw test stage.
#[derive(Debug, Default, Clone)]
pub struct FtwCase {
    pub rule: String,
    pub id: String,
    pub positive: bool,
    pub negative: bool,
    pub uri: Vec<u8>,
    pub data: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub encoded: Vec<u8>,
}

/// Reads the stages of a go-ftw YAML file (the subset CRS uses).
pub fn ftw(text: &str) -> Vec<FtwCase> {
    let b = text.as_bytes();
    let mut out: Vec<FtwCase> = Vec::new();
    let mut rule = String::new();
    let mut id = String::new();
    let mut cur: Option<FtwCase> = None;
    let mut hdr_indent: Option<usize> = None;
    let mut i = 0;
    while i < b.len() {
        let e = b[i..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(b.len(), |p| i + p);
        let line = &b[i..e];
        let ind = line
            .iter()
            .position(|c| !c.is_ascii_whitespace())
            .unwrap_or(line.len());
        let mut t = &line[ind..];
        let dash = t.starts_with(b"- ");
        if dash {
            t = &t[2..];
        }
        let key_end = t.iter().position(|&c| c == b':');
        let Some(ke) = key_end else {
            i = e + 1;
            continue;
        };
        let key = String::from_utf8_lossy(&t[..ke]).trim().to_string();
        let vstart = i + ind + if dash { 2 } else { 0 } + ke + 1;
        let vs = b[vstart..e]
            .iter()
            .position(|c| !c.is_ascii_whitespace())
            .map_or(e, |p| vstart + p);
        if let Some(h) = hdr_indent {
            if ind > h && !dash {
                let (v, next) = scalar(b, vs);
                if let Some(c) = cur.as_mut() {
                    c.headers.push((key, v));
                }
                i = next;
                continue;
            }
            hdr_indent = None;
        }
        match key.as_str() {
            "rule_id" => {
                rule = String::from_utf8_lossy(&b[vs..e]).trim().to_string();
            }
            "test_id" => {
                id = String::from_utf8_lossy(&b[vs..e]).trim().to_string();
            }
            "input" => {
                if let Some(c) = cur.take() {
                    out.push(c);
                }
                cur = Some(FtwCase {
                    rule: rule.clone(),
                    id: id.clone(),
                    ..FtwCase::default()
                });
            }
            "headers" => hdr_indent = Some(ind),
            "uri" | "data" | "encoded_request" => {
                let (v, next) = if b.get(vs) == Some(&b'|') || b.get(vs) == Some(&b'>') {
                    block(b, e + 1, b[vs] == b'>')
                } else {
                    scalar(b, vs)
                };
                if let Some(c) = cur.as_mut() {
                    match key.as_str() {
                        "uri" => c.uri = v,
                        "data" => c.data = v,
                        _ => c.encoded = v,
                    }
                }
                i = next;
                continue;
            }
            "expect_ids" => {
                if let Some(c) = cur.as_mut() {
                    c.positive = b[vs..e].iter().any(|c| c.is_ascii_digit());
                }
            }
            "no_expect_ids" => {
                if let Some(c) = cur.as_mut() {
                    c.negative = true;
                }
            }
            _ => {}
        }
        i = e + 1;
    }
    if let Some(c) = cur.take() {
        out.push(c);
    }
    out
}

/// A `|` or `>` block scalar starting on the line at `i`.
fn block(b: &[u8], mut i: usize, fold: bool) -> (Vec<u8>, usize) {
    let mut v = Vec::new();
    let mut indent: Option<usize> = None;
    while i < b.len() {
        let e = b[i..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(b.len(), |p| i + p);
        let line = &b[i..e];
        let ind = line
            .iter()
            .position(|c| !c.is_ascii_whitespace())
            .unwrap_or(usize::MAX);
        if ind == usize::MAX {
            v.push(b'\n');
            i = e + 1;
            continue;
        }
        let base = *indent.get_or_insert(ind);
        if ind < base {
            break;
        }
        v.extend_from_slice(&line[base..]);
        v.push(if fold { b' ' } else { b'\n' });
        i = e + 1;
    }
    (v, i)
}

pub fn pct(v: &[u8], plus: bool) -> Vec<u8> {
    let mut o = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        let c = v[i];
        if c == b'%' && i + 2 < v.len() {
            if let (Some(a), Some(b)) = (hex(v[i + 1]), hex(v[i + 2])) {
                o.push((a * 16 + b) as u8);
                i += 3;
                continue;
            }
        }
        o.push(if plus && c == b'+' { b' ' } else { c });
        i += 1;
    }
    o
}

/// Decodes `&#NN;`, `&#xHH;` and a few named entities.
pub fn entities(v: &[u8]) -> Vec<u8> {
    let mut o = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'&' {
            if let Some(semi) = v[i..v.len().min(i + 80)].iter().position(|&c| c == b';') {
                let name = &v[i + 1..i + semi];
                let cp = if let Some(n) = name.strip_prefix(b"#") {
                    if let Some(h) = n.strip_prefix(b"x").or_else(|| n.strip_prefix(b"X")) {
                        u32::from_str_radix(std::str::from_utf8(h).unwrap_or("z"), 16).ok()
                    } else {
                        std::str::from_utf8(n)
                            .ok()
                            .and_then(|s| s.parse::<u64>().ok())
                            .map(|x| x.min(0x10ffff) as u32)
                    }
                } else {
                    match name.to_ascii_lowercase().as_slice() {
                        b"amp" => Some(38),
                        b"lt" => Some(60),
                        b"gt" => Some(62),
                        b"quot" => Some(34),
                        b"apos" => Some(39),
                        b"lbrace" | b"lcub" => Some(123),
                        b"rbrace" | b"rcub" => Some(125),
                        b"dollar" => Some(36),
                        b"colon" => Some(58),
                        b"sol" => Some(47),
                        b"lpar" => Some(40),
                        b"rpar" => Some(41),
                        b"semi" => Some(59),
                        b"num" => Some(35),
                        _ => None,
                    }
                };
                if let Some(ch) = cp.and_then(char::from_u32) {
                    let mut tmp = [0u8; 4];
                    o.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                    i += semi + 1;
                    continue;
                }
            }
        }
        o.push(v[i]);
        i += 1;
    }
    o
}

/// Decodes `\uXXXX` and `\xHH` escapes.
pub fn js_unescape(v: &[u8]) -> Vec<u8> {
    let mut o = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' && i + 1 < v.len() {
            let simple = match v[i + 1] {
                b'n' => Some(b'\n'),
                b'r' => Some(b'\r'),
                b't' => Some(b'\t'),
                _ => None,
            };
            if let Some(c) = simple {
                o.push(c);
                i += 2;
                continue;
            }
            let n = match v[i + 1] {
                b'u' => 4,
                b'x' => 2,
                _ => 0,
            };
            if n > 0 && i + 2 + n <= v.len() {
                let digits = &v[i + 2..i + 2 + n];
                if digits.iter().all(|c| c.is_ascii_hexdigit()) {
                    let cp = digits
                        .iter()
                        .fold(0u32, |a, &c| a * 16 + hex(c).unwrap_or(0));
                    if let Some(ch) = char::from_u32(cp) {
                        let mut tmp = [0u8; 4];
                        o.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                        i += 2 + n;
                        continue;
                    }
                }
            }
        }
        o.push(v[i]);
        i += 1;
    }
    o
}

/// Standard or URL-safe base64, padding optional; `None` unless the
/// result is mostly printable text.
pub fn base64(v: &[u8]) -> Option<Vec<u8>> {
    if v.len() < 8
        || !v
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"+/=-_".contains(&c))
    {
        return None;
    }
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        })
    };
    let mut o = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in v.iter().filter(|&&c| c != b'=') {
        acc = (acc << 6) | val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            o.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    let printable = o
        .iter()
        .filter(|&&c| (32..127).contains(&c) || c == b'\n' || c == b'\t' || c == b'\r')
        .count();
    (printable * 10 >= o.len() * 9 && !o.is_empty()).then_some(o)
}

/// The values the engine would show the detectors for one raw value: the
/// value and its decoded layers (percent, entities, JS escapes, base64),
/// three levels deep.
pub fn layers(v: &[u8], out: &mut Vec<Vec<u8>>) {
    fn go(v: Vec<u8>, depth: u32, out: &mut Vec<Vec<u8>>) {
        if out.contains(&v) {
            return;
        }
        out.push(v.clone());
        if depth == 0 {
            return;
        }
        if v.contains(&b'%') {
            go(pct(&v, false), depth - 1, out);
        }
        if v.contains(&b'&') {
            go(entities(&v), depth - 1, out);
        }
        if v.windows(2)
            .any(|p| matches!(p, b"\\u" | b"\\x" | b"\\n" | b"\\r" | b"\\t"))
        {
            go(js_unescape(&v), depth - 1, out);
        }
        if let Some(d) = base64(&v) {
            go(d, depth - 1, out);
        }
    }
    go(v.to_vec(), 3, out);
}

/// Splits `k=v&k=v` and adds the values (form-decoded). Keys are not
/// inspected by the engine on their own; they are seen in the raw query
/// string and body.
pub fn form(q: &[u8], out: &mut Vec<Vec<u8>>) {
    for pair in q.split(|&c| c == b'&') {
        let mut kv = pair.splitn(2, |&c| c == b'=');
        let _key = kv.next();
        if let Some(v) = kv.next() {
            out.push(pct(v, true));
        }
    }
}

/// Strings inside quotes and text between tags (JSON, XML, multipart).
pub fn strings(d: &[u8], out: &mut Vec<Vec<u8>>) {
    let mut i = 0;
    while i < d.len() {
        if d[i] == b'"' {
            let mut j = i + 1;
            let mut s = Vec::new();
            while j < d.len() && d[j] != b'"' {
                if d[j] == b'\\' && j + 1 < d.len() {
                    match d[j + 1] {
                        b'u' => {
                            // `\uXXXX` only: decoded on its own.
                            let u = js_unescape(&d[j..(j + 6).min(d.len())]);
                            s.extend_from_slice(&u);
                            j += 6;
                            continue;
                        }
                        b'n' => s.push(b'\n'),
                        b't' => s.push(b'\t'),
                        b'r' => s.push(b'\r'),
                        c => s.push(c),
                    }
                    j += 2;
                    continue;
                }
                s.push(d[j]);
                j += 1;
            }
            out.push(s);
            i = j + 1;
            continue;
        }
        if d[i] == b'>' {
            if let Some(e) = d[i + 1..].iter().position(|&c| c == b'<') {
                if e > 0 {
                    out.push(entities(&d[i + 1..i + 1 + e]));
                }
            }
        }
        i += 1;
    }
    for line in d.split(|&c| c == b'\n') {
        if !line.is_empty() {
            out.push(line.to_vec());
        }
    }
}

/// The values of one go-ftw stage as the engine would split them.
pub fn case_values(c: &FtwCase) -> Vec<Vec<u8>> {
    let mut raw: Vec<Vec<u8>> = Vec::new();
    if !c.uri.is_empty() {
        raw.push(c.uri.clone());
        let (path, query) = match c.uri.iter().position(|&x| x == b'?') {
            Some(q) => (&c.uri[..q], &c.uri[q + 1..]),
            None => (&c.uri[..], &[][..]),
        };
        raw.push(pct(path, false));
        for seg in path.split(|&x| x == b'/') {
            raw.push(pct(seg, false));
        }
        form(query, &mut raw);
    }
    for (k, v) in &c.headers {
        let k = k.to_ascii_lowercase();
        if matches!(
            k.as_str(),
            "host"
                | "accept"
                | "content-type"
                | "content-length"
                | "connection"
                | "accept-encoding"
                | "accept-language"
                | "accept-charset"
                | "keep-alive"
                | "proxy-connection"
                | "cache-control"
                | "pragma"
        ) {
            continue;
        }
        if v == b"OWASP CRS test agent" {
            continue;
        }
        raw.push(v.clone());
        if k == "cookie" {
            for part in v.split(|&x| x == b';') {
                let part = part.strip_prefix(b" ").unwrap_or(part);
                let mut kv = part.splitn(2, |&x| x == b'=');
                let _name = kv.next();
                raw.push(pct(kv.next().unwrap_or(&[]), false));
            }
        }
    }
    if !c.data.is_empty() {
        raw.push(c.data.clone());
        form(&c.data, &mut raw);
        strings(&c.data, &mut raw);
    }
    if !c.encoded.is_empty() {
        if let Some(d) = base64(
            &c.encoded
                .iter()
                .copied()
                .filter(|c| !c.is_ascii_whitespace())
                .collect::<Vec<_>>(),
        ) {
            if let Some(p) = d.windows(4).position(|w| w == b"\r\n\r\n") {
                raw.push(d[p + 4..].to_vec());
            }
            raw.push(d);
        }
    }
    let mut out = Vec::new();
    for r in raw {
        layers(&r, &mut out);
    }
    out
}
