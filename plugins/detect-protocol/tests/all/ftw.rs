//! A minimal reader of go-ftw regression YAML: just what the CRS test
//! files use (test items, `input` maps with `headers`, quoted and block
//! scalars, `encoded_request`, `expect_ids` / `no_expect_ids`). Not YAML.

use crate::http::{parse_head, Head};

/// One stage of a test: a request and what CRS expects of the tested rule.
#[derive(Debug, Clone, Default)]
pub struct FtwCase {
    pub rule: String,
    pub test_id: String,
    pub desc: String,
    pub method: Option<String>,
    pub uri: Option<String>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub data: Option<Vec<u8>>,
    /// `encoded_request` (decoded) or `raw_request`.
    pub raw: Option<Vec<u8>>,
    pub autocomplete: bool,
    /// `Some(true)`: the rule must fire (an attack); `Some(false)`: must
    /// not; `None`: only a status is expected.
    pub attack: Option<bool>,
    pub status: Option<String>,
}

impl FtwCase {
    pub fn id(&self) -> String {
        format!("{}-{}", self.rule, self.test_id)
    }

    /// The request head as go-ftw would send it.
    pub fn head(&self) -> Option<Head> {
        if let Some(raw) = &self.raw {
            return parse_head(raw);
        }
        let mut h = Head {
            method: self.method.as_deref().unwrap_or("GET").as_bytes().to_vec(),
            target: self.uri.as_deref().unwrap_or("/").as_bytes().to_vec(),
            headers: self
                .headers
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.clone()))
                .collect(),
        };
        let has = |h: &Head, n: &str| {
            h.headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(n.as_bytes()))
        };
        if self.autocomplete {
            if let Some(d) = self.data.as_ref().filter(|d| !d.is_empty()) {
                if !has(&h, "content-type") {
                    h.headers.push((
                        b"Content-Type".to_vec(),
                        b"application/x-www-form-urlencoded".to_vec(),
                    ));
                }
                if !has(&h, "content-length") {
                    h.headers
                        .push((b"Content-Length".to_vec(), d.len().to_string().into_bytes()));
                }
            }
            if !has(&h, "connection") {
                h.headers.push((b"Connection".to_vec(), b"close".to_vec()));
            }
        }
        Some(h)
    }
}

fn indent(l: &str) -> usize {
    l.len() - l.trim_start_matches(' ').len()
}

/// Splits `key: value` (the colon followed by a space or the end).
fn key_value(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let mut in_quote = None;
    for (i, &c) in b.iter().enumerate() {
        match (c, in_quote) {
            (b'"' | b'\'', None) if i == 0 => in_quote = Some(c),
            (q, Some(o)) if q == o => in_quote = None,
            (b':', None) if i + 1 == b.len() || b[i + 1] == b' ' => {
                return Some((s[..i].trim().trim_matches(['"', '\'']), s[i + 1..].trim()));
            }
            _ => {}
        }
    }
    None
}

fn unescape_double(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match it.next() {
            Some('n') => out.push(b'\n'),
            Some('r') => out.push(b'\r'),
            Some('t') => out.push(b'\t'),
            Some('0') => out.push(0),
            Some('x') => {
                let h: String = it.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&h, 16).unwrap_or(b'?'));
            }
            Some('u') => {
                let h: String = it.by_ref().take(4).collect();
                let ch = u32::from_str_radix(&h, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('?');
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            Some(o) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(o.encode_utf8(&mut buf).as_bytes());
            }
            None => out.push(b'\\'),
        }
    }
    out
}

/// A scalar as written after `key:` (possibly continued on the next lines
/// for quoted scalars; the caller passes them in `more`).
fn scalar(v: &str) -> Vec<u8> {
    let v = v.trim();
    if let Some(inner) = v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        return unescape_double(inner);
    }
    if let Some(inner) = v.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return inner.replace("''", "'").into_bytes();
    }
    let plain = match v.find(" #") {
        Some(i) => &v[..i],
        None => v,
    };
    plain.trim().as_bytes().to_vec()
}

fn ids(v: &str) -> Vec<String> {
    v.trim_matches(['[', ']'])
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// False for a quoted scalar whose closing quote is on a later line.
fn quote_closed(v: &str) -> bool {
    let b = v.as_bytes();
    match b.first() {
        Some(b'"') => {
            let mut i = 1;
            while i < b.len() {
                match b[i] {
                    b'\\' => i += 2,
                    b'"' => return true,
                    _ => i += 1,
                }
            }
            false
        }
        Some(b'\'') => {
            let mut i = 1;
            while i < b.len() {
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return true;
                }
                i += 1;
            }
            false
        }
        _ => true,
    }
}

/// Decodes standard base64, newlines and padding ignored.
pub fn base64(s: &[u8]) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.iter().filter_map(|&c| val(c)) {
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// Reads every stage of every test of one file.
pub fn parse(text: &str) -> Vec<FtwCase> {
    let lines: Vec<&str> = text.lines().collect();
    let mut cases: Vec<FtwCase> = Vec::new();
    let mut rule = String::new();
    let mut test_id = String::new();
    let mut desc = String::new();
    let mut cur: Option<FtwCase> = None;
    let mut i = 0;
    let flush = |cur: &mut Option<FtwCase>, cases: &mut Vec<FtwCase>| {
        if let Some(c) = cur.take() {
            cases.push(c);
        }
    };
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let mut ind = indent(line);
        let mut content = content;
        if let Some(rest) =
            content
                .strip_prefix("- ")
                .or(if content == "-" { Some("") } else { None })
        {
            ind += 2;
            content = rest.trim_start();
            if content.is_empty() || content.starts_with('#') || content.starts_with("test_id") {
                flush(&mut cur, &mut cases);
                test_id.clear();
                desc.clear();
                if !content.starts_with("test_id") {
                    continue;
                }
            }
        }
        let Some((key, value)) = key_value(content) else {
            continue;
        };
        // Continuations: block scalars, multi-line quoted scalars, maps and lists.
        let mut block = Vec::new();
        let list_key = key.ends_with("ids");
        if value.starts_with('|')
            || value.starts_with('>')
            || (value.is_empty() && (key == "headers" || list_key))
        {
            while i < lines.len() {
                let l = lines[i];
                let li = indent(l);
                let item = list_key && l.trim_start().starts_with("- ");
                if !l.trim().is_empty() && (li < ind || (li == ind && !item)) {
                    break;
                }
                block.push(l);
                i += 1;
            }
        }
        let mut value = value.to_string();
        while !quote_closed(&value) && i < lines.len() {
            value.push(' ');
            value.push_str(lines[i].trim());
            i += 1;
        }
        let block_text = || -> Vec<u8> {
            let lines: Vec<&str> = block
                .iter()
                .map(|l| l.get(ind + 2..).unwrap_or("").trim_end())
                .collect();
            let mut s = lines.join(if value.starts_with('>') { " " } else { "\n" });
            if value.starts_with('|') && !value.starts_with("|-") {
                s.push('\n');
            }
            s.into_bytes()
        };
        match key {
            "rule_id" => rule = value.clone(),
            "test_id" => test_id = value.clone(),
            "desc" => {
                desc = String::from_utf8_lossy(&if block.is_empty() {
                    scalar(&value)
                } else {
                    block_text()
                })
                .trim()
                .to_string()
            }
            "input" => {
                flush(&mut cur, &mut cases);
                cur = Some(FtwCase {
                    rule: rule.clone(),
                    test_id: test_id.clone(),
                    desc: desc.clone(),
                    autocomplete: true,
                    ..FtwCase::default()
                });
            }
            _ => {
                let Some(c) = cur.as_mut() else { continue };
                match key {
                    "method" => {
                        c.method = Some(String::from_utf8_lossy(&scalar(&value)).into_owned())
                    }
                    "uri" => c.uri = Some(String::from_utf8_lossy(&scalar(&value)).into_owned()),
                    "data" => {
                        c.data = Some(if block.is_empty() {
                            scalar(&value)
                        } else {
                            block_text()
                        })
                    }
                    "encoded_request" => c.raw = Some(base64(&scalar(&value))),
                    "raw_request" => {
                        c.raw = Some(if block.is_empty() {
                            scalar(&value)
                        } else {
                            block_text()
                        })
                    }
                    "autocomplete_headers" => c.autocomplete = value.trim() != "false",
                    "stop_magic" if value.trim() == "true" => c.autocomplete = false,
                    "headers" => {
                        for l in block
                            .iter()
                            .map(|l| l.trim())
                            .filter(|l| !l.starts_with('#'))
                        {
                            if let Some((k, v)) = key_value(l) {
                                c.headers.push((k.to_string(), scalar(v)));
                            }
                        }
                    }
                    "expect_ids" | "log_contains" | "match_regex" => c.attack = Some(true),
                    "no_expect_ids" | "no_log_contains" | "no_match_regex"
                        if c.attack.is_none() && (!ids(&value).is_empty() || !block.is_empty()) =>
                    {
                        c.attack = Some(false)
                    }
                    "status" => c.status = Some(value.clone()),
                    _ => {}
                }
            }
        }
    }
    flush(&mut cur, &mut cases);
    // A stage where the server answers 400 is the server's business: the
    // rule's "no match" there says nothing about clients.
    for c in &mut cases {
        if c.attack == Some(false) && c.status.as_deref().is_some_and(|s| s.contains("400")) {
            c.attack = None;
        }
    }
    cases
}
