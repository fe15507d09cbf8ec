//! URL schemes that run script, read the way a browser's URL parser reads
//! them: leading spaces and control characters stripped, tabs and line
//! breaks anywhere removed, letters case-folded (`  JaVa&Tab;ScRiPt:`).
//! NUL (and U+FFFD, which a NUL reference decodes to) and the other
//! control characters are skipped too, as legacy engines did.

/// What a URL's scheme is, for XSS purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `javascript:` (or `livescript:`); the code starts at the offset.
    Script(usize),
    /// `vbscript:`; the code starts at the offset.
    VbScript(usize),
    /// `data:` with the media type's class; the payload after `,` at the offset.
    Data(DataKind, usize),
    /// Anything else (including no scheme).
    Other,
}

/// The class of a `data:` URL's media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    /// A document type that runs script: HTML, XHTML, SVG, XML.
    Document,
    /// Script.
    Script,
    /// Anything else (images, text/plain, none).
    Other,
}

/// Longest scheme examined.
const SCHEME_CAP: usize = 16;

/// Reads the scheme at the start of `url` (an attribute value after
/// character references were decoded).
pub fn scheme(url: &[u8]) -> Scheme {
    let mut i = 0;
    while i < url.len() && url[i] <= 0x20 {
        i += 1;
    }
    let mut word = [0u8; SCHEME_CAP];
    let mut n = 0;
    while i < url.len() {
        let c = url[i];
        i += 1;
        if c < 0x20 {
            continue;
        }
        // U+FFFD: what a NUL reference (`j&#0;avascript:`) decodes to.
        if c == 0xef && url[i..].starts_with(&[0xbf, 0xbd]) {
            i += 2;
            continue;
        }
        if c == b':' {
            break;
        }
        if !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')) || n == SCHEME_CAP {
            return Scheme::Other;
        }
        word[n] = c.to_ascii_lowercase();
        n += 1;
        if i == url.len() {
            return Scheme::Other;
        }
    }
    match &word[..n] {
        b"javascript" | b"livescript" => Scheme::Script(i),
        b"vbscript" => Scheme::VbScript(i),
        b"data" => {
            let kind = data_kind(&url[i..]);
            let comma = url[i..]
                .iter()
                .position(|&c| c == b',')
                .map_or(url.len(), |k| i + k + 1);
            Scheme::Data(kind, comma)
        }
        _ => Scheme::Other,
    }
}

fn data_kind(rest: &[u8]) -> DataKind {
    let mut mime = [0u8; 32];
    let mut n = 0;
    let start = rest.iter().position(|&c| c > 0x20).unwrap_or(rest.len());
    for &c in &rest[start..] {
        if c == b';' || c == b',' || c <= 0x20 || n == mime.len() {
            break;
        }
        mime[n] = c.to_ascii_lowercase();
        n += 1;
    }
    match &mime[..n] {
        b"text/html"
        | b"application/xhtml+xml"
        | b"image/svg+xml"
        | b"text/xml"
        | b"application/xml"
        | b"text/xsl" => DataKind::Document,
        b"text/javascript"
        | b"application/javascript"
        | b"application/x-javascript"
        | b"text/ecmascript"
        | b"application/ecmascript"
        | b"text/vbscript" => DataKind::Script,
        _ => DataKind::Other,
    }
}

/// Finds script-scheme words (`javascript:`, `vbscript:`, `livescript:`)
/// anywhere in `text` that stand at a word start; calls `f(start,
/// code_start, vb)` for each, at most `max` times.
pub fn find_script_schemes(text: &[u8], max: usize, mut f: impl FnMut(usize, usize, bool)) {
    let mut found = 0;
    let mut i = 0;
    while let Some(k) = text[i..].iter().position(|&c| c == b':') {
        let colon = i + k;
        i = colon + 1;
        if let Some((start, vb)) = scheme_before(text, colon) {
            f(start, colon + 1, vb);
            found += 1;
            if found == max {
                return;
            }
        }
    }
}

/// Reads backwards from a colon: the start of a script-scheme word ending
/// there, tabs, line breaks and NUL inside it skipped.
fn scheme_before(text: &[u8], colon: usize) -> Option<(usize, bool)> {
    let mut rev = [0u8; 12];
    let mut n = 0;
    let mut j = colon;
    while j > 0 && n < rev.len() {
        let c = text[j - 1];
        if matches!(c, b'\t' | b'\n' | b'\r' | 0) {
            j -= 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            break;
        }
        rev[n] = c.to_ascii_lowercase();
        n += 1;
        j -= 1;
        let start = j;
        if n >= 8 {
            let word = &rev[..n];
            let is = |w: &[u8]| word.iter().rev().eq(w.iter());
            let vb = is(b"vbscript");
            if vb || is(b"javascript") || is(b"livescript") {
                // The word must not continue a longer scheme or word.
                let before = start.checked_sub(1).map(|p| text[p]);
                let ok = before.is_none_or(|c| {
                    !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.' | b'_'))
                });
                return ok.then_some((start, vb));
            }
        }
    }
    None
}

/// Percent-decodes `src` into `out` (for the code of a `javascript:`
/// URL, which the browser percent-decodes before running it).
pub fn percent_decode(src: &[u8], out: &mut Vec<u8>, cap: usize) {
    out.clear();
    let mut i = 0;
    while i < src.len() && out.len() < cap {
        let c = src[i];
        if c == b'%' && i + 2 < src.len() {
            if let (Some(h), Some(l)) = (hex(src[i + 1]), hex(src[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(scheme(b"javascript:alert(1)"), Scheme::Script(11));
        assert_eq!(scheme(b" \x01JaVa\tScR\nipt:x"), Scheme::Script(15));
        assert_eq!(scheme(b"java\0script:x"), Scheme::Script(12));
        assert_eq!(
            scheme("j\u{fffd}avascript:x".as_bytes()),
            Scheme::Script(14)
        );
        assert_eq!(scheme(b"java script:x"), Scheme::Other);
        assert_eq!(scheme(b"vbscript:msgbox(1)"), Scheme::VbScript(9));
        assert_eq!(scheme(b"https://x/javascript:"), Scheme::Other);
        assert_eq!(scheme(b"javascript"), Scheme::Other);
        assert_eq!(
            scheme(b"data:text/html;base64,PHN2Zz4="),
            Scheme::Data(DataKind::Document, 22)
        );
        assert_eq!(scheme(b"data:,alert(1)"), Scheme::Data(DataKind::Other, 6));
        assert_eq!(
            scheme(b"data:image/png;base64,x"),
            Scheme::Data(DataKind::Other, 22)
        );
    }

    #[test]
    fn schemes_in_text() {
        let mut v = Vec::new();
        find_script_schemes(
            b"a javascript:x (JavaScript:y) myjavascript:z java\tscript:w",
            8,
            |s, c, _| v.push((s, c)),
        );
        assert_eq!(v, [(2, 13), (16, 27), (45, 57)]);
    }

    #[test]
    fn percent() {
        let mut out = Vec::new();
        percent_decode(b"%61lert%281%29%", &mut out, 100);
        assert_eq!(out, b"alert(1)%");
    }
}
