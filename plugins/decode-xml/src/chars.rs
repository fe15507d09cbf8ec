//! Byte classes, XML names, searching, and entity/character references.
//!
//! Everything here works on bytes: names accept any non-ASCII byte (the
//! decoder does not validate Unicode name classes), which keeps scanning a
//! table lookup per byte.

/// Byte class: ordinary character data other than whitespace.
pub(crate) const TEXT: u8 = 0;
/// Byte class: XML whitespace (space, tab, CR, LF).
pub(crate) const WS: u8 = 1;
/// Byte class: `<`, `&` (markup and references).
pub(crate) const MARKUP: u8 = 2;
/// Byte class: a C0 control character XML does not allow.
pub(crate) const CTRL: u8 = 3;

/// The class of every byte, for the text scanners.
pub(crate) static CLASS: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut t = [TEXT; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = CTRL;
        i += 1;
    }
    t[b'\t' as usize] = WS;
    t[b'\n' as usize] = WS;
    t[b'\r' as usize] = WS;
    t[b' ' as usize] = WS;
    t[b'<' as usize] = MARKUP;
    t[b'&' as usize] = MARKUP;
    t
}

pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

pub(crate) fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80
}

fn is_name_char(b: u8) -> bool {
    is_name_start(b) || b.is_ascii_digit() || b == b'-' || b == b'.'
}

/// The end of the XML name starting at `pos` (`pos` itself when there is none).
pub(crate) fn name_end(s: &[u8], pos: usize) -> usize {
    match s.get(pos) {
        Some(&b) if is_name_start(b) => {
            let rest = &s[pos + 1..];
            pos + 1
                + rest
                    .iter()
                    .position(|&c| !is_name_char(c))
                    .unwrap_or(rest.len())
        }
        _ => pos,
    }
}

/// The first position at or after `pos` that is not whitespace.
pub(crate) fn skip_ws(s: &[u8], pos: usize) -> usize {
    let rest = s.get(pos..).unwrap_or_default();
    pos + rest.iter().position(|&b| !is_ws(b)).unwrap_or(rest.len())
}

/// Where `needle` (non-empty) first occurs in `s` at or after `from`.
pub(crate) fn find(s: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let &first = needle.first()?;
    let mut i = from;
    while i + needle.len() <= s.len() {
        let k = s[i..=s.len() - needle.len()]
            .iter()
            .position(|&b| b == first)?;
        i += k;
        if s[i..].starts_with(needle) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// ASCII case-insensitive prefix test.
pub(crate) fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// What a `&` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ref {
    /// A predefined entity or a character reference to an allowed character.
    Char(char),
    /// A reference to an entity that is not predefined; never expanded.
    Entity,
    /// A character reference to a character XML forbids (NUL, a surrogate,
    /// beyond U+10FFFF).
    BadChar,
    /// A `&` that starts no reference at all.
    Bare,
}

/// Reads the reference at `s[pos]` (a `&`), looking no further than `s`.
/// Returns it and where it ends (after the `;`; `pos + 1` for
/// [`Ref::Bare`]).
pub(crate) fn reference(s: &[u8], pos: usize) -> (Ref, usize) {
    let not = (Ref::Bare, pos + 1);
    if s.get(pos + 1) == Some(&b'#') {
        let hex = s.get(pos + 2) == Some(&b'x');
        let start = pos + 2 + usize::from(hex);
        let mut i = start;
        let mut code: u32 = 0;
        while let Some(&b) = s.get(i) {
            let d = match (b, hex) {
                (b'0'..=b'9', _) => u32::from(b - b'0'),
                (b'a'..=b'f', true) => u32::from(b - b'a' + 10),
                (b'A'..=b'F', true) => u32::from(b - b'A' + 10),
                _ => break,
            };
            code = code
                .saturating_mul(if hex { 16 } else { 10 })
                .saturating_add(d)
                .min(0x11_0000);
            i += 1;
        }
        if i == start || s.get(i) != Some(&b';') {
            return not;
        }
        return match xml_char(code) {
            Some(c) => (Ref::Char(c), i + 1),
            None => (Ref::BadChar, i + 1),
        };
    }
    let end = name_end(s, pos + 1);
    if end == pos + 1 || s.get(end) != Some(&b';') {
        return not;
    }
    let c = match &s[pos + 1..end] {
        b"lt" => '<',
        b"gt" => '>',
        b"amp" => '&',
        b"apos" => '\'',
        b"quot" => '"',
        _ => return (Ref::Entity, end + 1),
    };
    (Ref::Char(c), end + 1)
}

/// The character for a code point XML allows in a document.
fn xml_char(code: u32) -> Option<char> {
    match code {
        0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x1_0000..=0x10_FFFF => {
            char::from_u32(code)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(reference(b"&lt;x", 0), (Ref::Char('<'), 4));
        assert_eq!(reference(b"a&quot;", 1), (Ref::Char('"'), 7));
        assert_eq!(reference(b"&#60;", 0), (Ref::Char('<'), 5));
        assert_eq!(reference(b"&#x3C;", 0), (Ref::Char('<'), 6));
        assert_eq!(reference(b"&#x1F600;", 0), (Ref::Char('\u{1F600}'), 9));
        assert_eq!(reference(b"&#0;", 0), (Ref::BadChar, 4));
        assert_eq!(reference(b"&#xD800;", 0), (Ref::BadChar, 8));
        assert_eq!(reference(b"&#99999999999999999999;", 0).0, Ref::BadChar);
        assert_eq!(reference(b"&#X3C;", 0), (Ref::Bare, 1));
        assert_eq!(reference(b"&#;", 0), (Ref::Bare, 1));
        assert_eq!(reference(b"&#x3C", 0), (Ref::Bare, 1));
        assert_eq!(reference(b"&xxe;", 0), (Ref::Entity, 5));
        assert_eq!(reference(b"& b", 0), (Ref::Bare, 1));
        assert_eq!(reference(b"&lt", 0), (Ref::Bare, 1));
        assert_eq!(reference(b"&", 0), (Ref::Bare, 1));
    }

    #[test]
    fn names_and_search() {
        assert_eq!(name_end(b"<soap:Body x", 1), 10);
        assert_eq!(name_end(b"<1a", 1), 1);
        assert_eq!(name_end(b"a", 5), 5);
        assert_eq!(skip_ws(b"a \t\nb", 1), 4);
        assert_eq!(skip_ws(b"a  ", 1), 3);
        assert_eq!(find(b"--->", 0, b"-->"), Some(1));
        assert_eq!(find(b"abc", 0, b"-->"), None);
        assert_eq!(find(b"ab-->", 3, b"-->"), None);
        assert_eq!(find(b"", 0, b"x"), None);
        assert!(starts_with_ci(b"<!doctype x", b"<!DOCTYPE"));
        assert!(!starts_with_ci(b"<!doc", b"<!DOCTYPE"));
    }
}
