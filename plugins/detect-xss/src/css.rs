//! CSS that runs script: `expression(...)` (old IE), `behavior:` and
//! `-moz-binding` (HTC and XBL bindings), `javascript:` / `vbscript:`
//! URLs, Opera's `-o-link`, `@import` of a foreign style sheet. The text
//! is normalised before matching: comments removed (not inside strings),
//! backslash escapes decoded (`\65xpression`), white space dropped,
//! letters lower-cased.

/// Bytes of normalised CSS kept (the rest is not examined).
pub const CSS_CAP: usize = 8 * 1024;

/// A script-running construct found in CSS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CssHit {
    pub score: u8,
    pub what: &'static str,
}

/// Keywords, the score each earns and what it is.
const KEYWORDS: &[(&[u8], u8, &str)] = &[
    (b"expression(", 65, "CSS expression()"),
    (b"javascript:", 65, "javascript: URL in CSS"),
    (b"vbscript:", 65, "vbscript: URL in CSS"),
    (b"-moz-binding", 60, "-moz-binding in CSS"),
    (b"behavior:", 55, "behavior: binding in CSS"),
    (b"behaviour:", 55, "behavior: binding in CSS"),
    (b"binding:url(", 55, "binding in CSS"),
    (b"-o-link:", 50, "-o-link in CSS"),
    (b"@import", 50, "@import of a style sheet"),
];

/// The strongest script-running construct of `css`, if any.
pub fn scan(css: &[u8], buf: &mut Vec<u8>) -> Option<CssHit> {
    // Fast exit: every keyword holds `:`, `(` or `-`.
    if !css
        .iter()
        .any(|&c| matches!(c, b':' | b'(' | b'-' | b'\\' | b'@'))
    {
        return None;
    }
    normalise(css, buf, false);
    let mut best: Option<CssHit> = None;
    for &(kw, score, what) in KEYWORDS {
        if best.is_some_and(|b| b.score >= score) {
            continue;
        }
        if crate::html::find(buf, kw).is_some() {
            best = Some(CssHit { score, what });
        }
    }
    best
}

/// Syntax that no ordinary inline style has and that parser-confusion
/// vectors use to break out of a `style` attribute's declaration list:
/// braces or brackets, an unterminated comment, a string cut by a line
/// break, control characters.
pub fn attribute_anomaly(css: &[u8]) -> bool {
    let mut quote = 0u8;
    let mut i = 0;
    while i < css.len() {
        let c = css[i];
        match c {
            b'{' | b'}' | b'[' | b']' | 0x7f => return true,
            0..=0x08 | 0x0b | 0x0e..=0x1f => return true,
            b'\\' => i += 1,
            b'\n' | b'\r' | 0x0c if quote != 0 => return true,
            b'"' | b'\'' if quote == 0 => quote = c,
            _ if c == quote => quote = 0,
            b'/' if quote == 0 && css.get(i + 1) == Some(&b'*') => {
                match crate::html::find(&css[i + 2..], b"*/") {
                    Some(k) => i += k + 3,
                    None => return true,
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// Writes `css` into `out` with comments removed and escapes decoded;
/// white space is kept only when `keep_space`. Letters are lower-cased
/// unless `keep_space` (which serves re-tokenizing as markup).
pub fn normalise(css: &[u8], out: &mut Vec<u8>, keep_space: bool) {
    out.clear();
    let mut i = 0;
    let mut quote = 0u8;
    while i < css.len() && out.len() < CSS_CAP {
        let c = css[i];
        if quote != 0 {
            if c == quote || c == b'\n' {
                quote = 0;
            }
        } else if c == b'"' || c == b'\'' {
            quote = c;
        } else if c == b'/' && css.get(i + 1) == Some(&b'*') {
            i = crate::html::find(&css[i + 2..], b"*/").map_or(css.len(), |k| i + 2 + k + 2);
            continue;
        }
        if c == b'\\' {
            let (used, ch) = escape(&css[i + 1..]);
            i += 1 + used;
            if let Some(ch) = ch {
                push(out, ch, keep_space);
            }
            continue;
        }
        i += 1;
        if !keep_space && (crate::html::is_space(c) || c == 0) {
            continue;
        }
        out.push(if keep_space {
            c
        } else {
            c.to_ascii_lowercase()
        });
    }
}

fn push(out: &mut Vec<u8>, ch: u32, keep_space: bool) {
    if !keep_space && (ch <= 0x20) {
        return;
    }
    let c = char::from_u32(ch).unwrap_or('\u{fffd}');
    let c = if keep_space {
        c
    } else {
        c.to_ascii_lowercase()
    };
    let mut b = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
}

/// A CSS escape after its backslash: bytes used and the character (none
/// for an escaped line break, which is dropped).
fn escape(s: &[u8]) -> (usize, Option<u32>) {
    let n = s
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_hexdigit())
        .count();
    if n > 0 {
        let mut v: u32 = 0;
        for &c in &s[..n] {
            let d = (c as char).to_digit(16).unwrap_or(0);
            v = v * 16 + d;
        }
        let mut used = n;
        // One white space after a hex escape belongs to it.
        if s.get(n).is_some_and(|&c| crate::html::is_space(c)) {
            used += 1;
        }
        let v = if v == 0 || v > 0x10ffff || (0xd800..=0xdfff).contains(&v) {
            0xfffd
        } else {
            v
        };
        return (used, Some(v));
    }
    match s.first() {
        None => (0, None),
        Some(b'\n' | b'\r' | 0x0c) => (1, None),
        Some(&c) => (1, Some(u32::from(c))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(css: &str) -> Option<u8> {
        scan(css.as_bytes(), &mut Vec::new()).map(|h| h.score)
    }

    #[test]
    fn constructs() {
        assert_eq!(s("width: expression(alert(1))"), Some(65));
        assert_eq!(s("xss:ex/**/pression(alert(1))"), Some(65));
        assert_eq!(s("x:\\65 xpression(alert(1))"), Some(65));
        assert_eq!(s("background:url( 'JavaScript:alert(1)' )"), Some(65));
        assert_eq!(s("-moz-binding:url(http://x/xss.xml#xss)"), Some(60));
        assert_eq!(s("beh&#x41vior:url(#default#time2)"), None);
        assert_eq!(s("behavior:url(#default#time2)"), Some(55));
        assert_eq!(s("color: red; margin-top: 2px"), None);
        assert_eq!(s("font-family: 'an expression' serif"), None);
    }

    #[test]
    fn anomalies() {
        for a in [
            "font-family:'foo[a];color:red;';",
            "font-family:foo}color=red;",
            "background:url(http://foo.f/f oo/;color:red/*/foo.jpg);",
            "font-family:'foo\n;color:red;';",
            "background:url('x\x01;color:red;/*')",
        ] {
            assert!(attribute_anomaly(a.as_bytes()), "{a}");
        }
        for a in [
            "color: red; font-size: 12px",
            "background:url(http://x/a.png) no-repeat; /* c */ margin:0",
            "font-family: \"Helvetica Neue\", Arial",
            "content: \"\\201C\"",
        ] {
            assert!(!attribute_anomaly(a.as_bytes()), "{a}");
        }
    }

    #[test]
    fn markup_view() {
        let mut out = Vec::new();
        normalise(br"a\3c img\20 src\3d x\3e", &mut out, true);
        assert_eq!(out, b"a<img src=x>");
    }
}
