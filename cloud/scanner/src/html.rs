//! Where a marker lands in an HTML document: a small tokenizer after the
//! HTML standard's states (data, tags and attributes, comments, raw text
//! and RCDATA elements), enough to tell an executable reflection (a new
//! element, a new attribute, a `javascript:` URL) from a harmless one
//! (escaped text, a comment, a `<textarea>`).

/// One occurrence of a marker in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reflection {
    /// `element` (in a start tag's name: an injected element),
    /// `attribute-name` (an injected attribute), `attribute-value`,
    /// `end-tag`, `text`, `comment`, `script` (inside `<script>`), `style`,
    /// `rcdata` (`<textarea>`, `<title>`), `rawtext` (`<xmp>`, `<iframe>`,
    /// `<noembed>`, `<noframes>`, `<noscript>`, `<plaintext>`).
    pub context: &'static str,
    /// The tag the occurrence is in or under (lower-cased), empty in text.
    pub tag: String,
    /// The attribute name for `attribute-value` (lower-cased).
    pub attr: String,
    /// The attribute value with character references decoded, for
    /// `attribute-value` (at most 512 characters).
    pub value: String,
}

const RAW: &[(&str, &str)] = &[
    ("script", "script"),
    ("style", "style"),
    ("textarea", "rcdata"),
    ("title", "rcdata"),
    ("xmp", "rawtext"),
    ("iframe", "rawtext"),
    ("noembed", "rawtext"),
    ("noframes", "rawtext"),
    ("noscript", "rawtext"),
    ("plaintext", "rawtext"),
];

fn find_ci(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from >= hay.len() || needle.len() > hay.len() - from {
        return None;
    }
    (from..=hay.len() - needle.len())
        .find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

fn count_in(hay: &[u8], needle: &[u8], a: usize, b: usize) -> usize {
    let b = b.min(hay.len());
    if a >= b {
        return 0;
    }
    let mut n = 0;
    let mut i = a;
    while let Some(p) = find_ci(&hay[..b], needle, i) {
        n += 1;
        i = p + needle.len().max(1);
    }
    n
}

/// Decodes the character references browsers decode in attribute values
/// (numeric ones and a few named ones).
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let body_end = rest[1..]
            .char_indices()
            .take(32)
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '#'))
            .map(|(i, _)| i + 1)
            .unwrap_or(rest.len().min(33));
        let body = &rest[1..body_end];
        let semi = rest[body_end..].starts_with(';');
        let decoded = if let Some(num) = body.strip_prefix('#') {
            let v = if let Some(h) = num.strip_prefix(['x', 'X']) {
                u32::from_str_radix(h, 16).ok()
            } else {
                num.parse::<u32>().ok()
            };
            v.and_then(char::from_u32)
        } else {
            match body.to_ascii_lowercase().as_str() {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "colon" => Some(':'),
                "sol" => Some('/'),
                "tab" => Some('\t'),
                "newline" => Some('\n'),
                "lpar" => Some('('),
                "rpar" => Some(')'),
                _ => None,
            }
        };
        match decoded {
            Some(c) if !body.is_empty() => {
                out.push(c);
                rest = &rest[body_end + usize::from(semi)..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every occurrence of `marker` (ASCII case-insensitive) in `body`, with
/// its HTML context.
pub fn reflections(body: &str, marker: &str) -> Vec<Reflection> {
    let mut out = Vec::new();
    let m = marker.as_bytes();
    if m.is_empty() {
        return out;
    }
    let b = body.as_bytes();
    let n = b.len();
    let push = |out: &mut Vec<Reflection>,
                count: usize,
                context: &'static str,
                tag: &str,
                attr: &str,
                value: &str| {
        for _ in 0..count.min(64) {
            out.push(Reflection {
                context,
                tag: tag.to_string(),
                attr: attr.to_string(),
                value: value.chars().take(512).collect(),
            });
        }
    };
    let mut i = 0;
    let mut raw: Option<(String, &'static str)> = None;
    while i < n {
        if let Some((tag, ctx)) = raw.take() {
            let end = if tag == "plaintext" {
                n
            } else {
                let close = format!("</{tag}");
                find_ci(b, close.as_bytes(), i).unwrap_or(n)
            };
            push(&mut out, count_in(b, m, i, end), ctx, &tag, "", "");
            i = end;
            continue;
        }
        if b[i] != b'<' {
            let end = b[i..].iter().position(|&c| c == b'<').map_or(n, |p| i + p);
            push(&mut out, count_in(b, m, i, end), "text", "", "", "");
            i = end;
            continue;
        }
        // b[i] == '<'
        if b[i..].starts_with(b"<!--") {
            let end = find_ci(b, b"-->", i + 4).map_or(n, |p| p + 3);
            push(&mut out, count_in(b, m, i, end), "comment", "", "", "");
            i = end;
            continue;
        }
        match b.get(i + 1) {
            Some(b'!') | Some(b'?') => {
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b'>')
                    .map_or(n, |p| i + p + 1);
                push(&mut out, count_in(b, m, i, end), "comment", "", "", "");
                i = end;
            }
            Some(b'/') if b.get(i + 2).is_some_and(|c| c.is_ascii_alphabetic()) => {
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b'>')
                    .map_or(n, |p| i + p + 1);
                push(&mut out, count_in(b, m, i, end), "end-tag", "", "", "");
                i = end;
            }
            Some(c) if c.is_ascii_alphabetic() => {
                i = parse_tag(b, i + 1, m, &mut out, &mut raw, &push);
            }
            _ => {
                // a lone '<' is text
                let end = b[i + 1..]
                    .iter()
                    .position(|&c| c == b'<')
                    .map_or(n, |p| i + 1 + p);
                push(&mut out, count_in(b, m, i, end), "text", "", "", "");
                i = end;
            }
        }
    }
    out
}

type Push<'a> = dyn Fn(&mut Vec<Reflection>, usize, &'static str, &str, &str, &str) + 'a;

/// Parses a start tag whose name starts at `i`; returns the index after it.
fn parse_tag(
    b: &[u8],
    mut i: usize,
    m: &[u8],
    out: &mut Vec<Reflection>,
    raw: &mut Option<(String, &'static str)>,
    push: &Push<'_>,
) -> usize {
    let n = b.len();
    let is_space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0c);
    let start = i;
    while i < n && !is_space(b[i]) && b[i] != b'/' && b[i] != b'>' {
        i += 1;
    }
    let name = String::from_utf8_lossy(&b[start..i]).to_ascii_lowercase();
    push(out, count_in(b, m, start, i), "element", &name, "", "");
    loop {
        while i < n && (is_space(b[i]) || b[i] == b'/') {
            i += 1;
        }
        if i >= n {
            return n;
        }
        if b[i] == b'>' {
            i += 1;
            break;
        }
        // attribute name (a leading '=' belongs to the name)
        let a0 = i;
        i += 1;
        while i < n && !is_space(b[i]) && b[i] != b'/' && b[i] != b'>' && b[i] != b'=' {
            i += 1;
        }
        let attr = String::from_utf8_lossy(&b[a0..i]).to_ascii_lowercase();
        push(
            out,
            count_in(b, m, a0, i),
            "attribute-name",
            &name,
            &attr,
            "",
        );
        let mut j = i;
        while j < n && is_space(b[j]) {
            j += 1;
        }
        if j < n && b[j] == b'=' {
            j += 1;
            while j < n && is_space(b[j]) {
                j += 1;
            }
            let (v0, v1, next) = match b.get(j) {
                Some(&q) if q == b'"' || q == b'\'' => {
                    let end = b[j + 1..]
                        .iter()
                        .position(|&c| c == q)
                        .map_or(n, |p| j + 1 + p);
                    (j + 1, end, (end + 1).min(n))
                }
                _ => {
                    let mut e = j;
                    while e < n && !is_space(b[e]) && b[e] != b'>' {
                        e += 1;
                    }
                    (j, e, e)
                }
            };
            let raw_value = String::from_utf8_lossy(&b[v0..v1]).into_owned();
            let value = decode_entities(&raw_value);
            let c = count_in(b, m, v0, v1).max(count_in(value.as_bytes(), m, 0, value.len()));
            push(out, c, "attribute-value", &name, &attr, &value);
            i = next;
        }
    }
    if let Some((_, ctx)) = RAW.iter().find(|(t, _)| *t == name) {
        *raw = Some((name, ctx));
    }
    i
}

/// True when an attribute takes a URL a browser may navigate to or load
/// (where `javascript:` runs).
pub fn is_url_attribute(attr: &str) -> bool {
    matches!(
        attr,
        "href"
            | "src"
            | "action"
            | "formaction"
            | "data"
            | "xlink:href"
            | "srcdoc"
            | "poster"
            | "background"
            | "lowsrc"
            | "dynsrc"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctxs(body: &str, m: &str) -> Vec<&'static str> {
        reflections(body, m)
            .into_iter()
            .map(|r| r.context)
            .collect()
    }

    #[test]
    fn element_and_attribute_injection() {
        assert_eq!(ctxs("<p>hi <rmpx1></p>", "rmpx1"), ["element"]);
        assert_eq!(ctxs("<p>hi &lt;rmpx1&gt;</p>", "rmpx1"), ["text"]);
        assert_eq!(
            ctxs("<input value=\"\"rmpx1\">", "rmpx1"),
            ["attribute-name"]
        );
        assert_eq!(
            ctxs("<input value=\"&quot;rmpx1\">", "rmpx1"),
            ["attribute-value"]
        );
        let r = reflections("<a href=\" javascript&#58;rmpx1(1)\">x</a>", "rmpx1");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].attr, "href");
        assert_eq!(r[0].value.trim_start(), "javascript:rmpx1(1)");
        assert!(is_url_attribute(&r[0].attr));
    }

    #[test]
    fn raw_text_and_comments() {
        assert_eq!(ctxs("<textarea><rmpx1></textarea><p>", "rmpx1"), ["rcdata"]);
        assert_eq!(ctxs("<textarea></textarea><rmpx1>", "rmpx1"), ["element"]);
        assert_eq!(
            ctxs("<script>var a='<rmpx1>';</script>", "rmpx1"),
            ["script"]
        );
        assert_eq!(ctxs("<!-- <rmpx1> -->", "rmpx1"), ["comment"]);
        assert_eq!(ctxs("<!-- x --><rmpx1>", "rmpx1"), ["element"]);
        assert_eq!(ctxs("</rmpx1>", "rmpx1"), ["end-tag"]);
        assert_eq!(ctxs("a < b rmpx1", "rmpx1"), ["text"]);
        assert!(ctxs("<a", "rmpx1").is_empty());
        assert_eq!(ctxs("<RMPX1 x='1", "rmpx1"), ["element"]);
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("a&amp;b&#60;&#x3e;&colon&bogus;&"),
            "a&b<>:&bogus;&"
        );
    }
}
