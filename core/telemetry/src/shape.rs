//! Shapes: what a value looks like, without the value. Path segments and
//! member names are either kept as words (once enough distinct clients
//! sent them, see [`crate::aggregate`]) or replaced by a placeholder such
//! as `{int}`; values are counted by [`Format`].

use serde::{Deserialize, Serialize};

/// The data format a value looks like. Votes for these are what the
/// cloud's format learner reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Empty,
    Int,
    Decimal,
    Bool,
    Uuid,
    Hex,
    Base64,
    Jwt,
    Email,
    Url,
    Ip,
    Date,
    DateTime,
    Phone,
    Card,
    Json,
    Xml,
    Html,
    FilePath,
    /// One word of letters (a name, an enumeration member, a slug).
    Word,
    /// Words with spaces: free text.
    Text,
    Other,
}

impl Format {
    pub const ALL: [Format; 22] = [
        Format::Empty,
        Format::Int,
        Format::Decimal,
        Format::Bool,
        Format::Uuid,
        Format::Hex,
        Format::Base64,
        Format::Jwt,
        Format::Email,
        Format::Url,
        Format::Ip,
        Format::Date,
        Format::DateTime,
        Format::Phone,
        Format::Card,
        Format::Json,
        Format::Xml,
        Format::Html,
        Format::FilePath,
        Format::Word,
        Format::Text,
        Format::Other,
    ];

    /// The placeholder a path segment or name of this format becomes.
    pub fn placeholder(self) -> &'static str {
        match self {
            Format::Empty => "{empty}",
            Format::Int => "{int}",
            Format::Decimal => "{decimal}",
            Format::Bool => "{bool}",
            Format::Uuid => "{uuid}",
            Format::Hex => "{hex}",
            Format::Base64 => "{base64}",
            Format::Jwt => "{jwt}",
            Format::Email => "{email}",
            Format::Url => "{url}",
            Format::Ip => "{ip}",
            Format::Date => "{date}",
            Format::DateTime => "{datetime}",
            Format::Phone => "{phone}",
            Format::Card => "{card}",
            Format::Json => "{json}",
            Format::Xml => "{xml}",
            Format::Html => "{html}",
            Format::FilePath => "{path}",
            Format::Word => "{word}",
            Format::Text => "{text}",
            Format::Other => "{token}",
        }
    }
}

fn all(v: &[u8], f: impl Fn(u8) -> bool) -> bool {
    !v.is_empty() && v.iter().all(|&b| f(b))
}

fn is_uuid(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fn is_date(v: &[u8]) -> bool {
    v.len() >= 10
        && all(&v[..4], |b| b.is_ascii_digit())
        && v[4] == b'-'
        && all(&v[5..7], |b| b.is_ascii_digit())
        && v[7] == b'-'
        && all(&v[8..10], |b| b.is_ascii_digit())
}

/// The Luhn check over the digits of `v`, skipping anything else.
fn luhn_skipping(v: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in v.iter().rev().filter(|b| b.is_ascii_digit()).enumerate() {
        let mut x = u32::from(d - b'0');
        if i % 2 == 1 {
            x *= 2;
            if x > 9 {
                x -= 9;
            }
        }
        sum += x;
    }
    sum.is_multiple_of(10)
}

fn is_ipv4(v: &[u8]) -> bool {
    let mut n = 0;
    for p in v.split(|&b| b == b'.') {
        n += 1;
        if n > 4 || p.is_empty() || p.len() > 3 || !all(p, |b| b.is_ascii_digit()) {
            return false;
        }
    }
    n == 4
}

fn is_email(v: &[u8]) -> bool {
    let Some(at) = v.iter().position(|&b| b == b'@') else {
        return false;
    };
    let (local, domain) = (&v[..at], &v[at + 1..]);
    !local.is_empty()
        && domain.contains(&b'.')
        && !domain.starts_with(b".")
        && !domain.ends_with(b".")
        && all(local, |b| {
            b.is_ascii_alphanumeric() || b"._%+-".contains(&b)
        })
        && all(domain, |b| b.is_ascii_alphanumeric() || b".-".contains(&b))
}

fn is_base64(v: &[u8]) -> bool {
    v.len() >= 16
        && v.len().is_multiple_of(4)
        && all(v, |b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
        && v.iter().any(|b| b.is_ascii_digit())
        && v.iter().any(|b| b.is_ascii_uppercase())
        && v.iter().any(|b| b.is_ascii_lowercase())
}

/// The format a value looks like.
pub fn format_of(v: &[u8]) -> Format {
    let t = v.trim_ascii();
    if t.is_empty() {
        return Format::Empty;
    }
    let digits = t.iter().filter(|b| b.is_ascii_digit()).count();
    if all(t, |b| b.is_ascii_digit())
        || (t[0] == b'-' && t.len() > 1 && all(&t[1..], |b| b.is_ascii_digit()))
    {
        if (13..=19).contains(&t.len()) && luhn_skipping(t) {
            return Format::Card;
        }
        return Format::Int;
    }
    if matches!(t, b"true" | b"false" | b"on" | b"off" | b"yes" | b"no") {
        return Format::Bool;
    }
    if all(t, |b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && t.iter().filter(|&&b| b == b'.').count() == 1
    {
        return Format::Decimal;
    }
    if is_uuid(t) {
        return Format::Uuid;
    }
    if is_ipv4(t)
        || (t.contains(&b':') && all(t, |b| b.is_ascii_hexdigit() || b == b':') && t.len() >= 3)
    {
        return Format::Ip;
    }
    if is_date(t) {
        return if t.len() == 10 {
            Format::Date
        } else {
            Format::DateTime
        };
    }
    // Card numbers and phones written with spaces or dashes.
    let sep = |b: u8| b" -.()".contains(&b);
    let body = t.strip_prefix(b"+").unwrap_or(t);
    if all(body, |b| b.is_ascii_digit() || sep(b)) {
        let n = body.iter().filter(|b| b.is_ascii_digit()).count();
        if t[0] != b'+' && (13..=19).contains(&n) && luhn_skipping(body) {
            return Format::Card;
        }
        if (t[0] == b'+' && n >= 8)
            || ((7..=15).contains(&n) && body.iter().any(|b| b" -()".contains(b)))
        {
            return Format::Phone;
        }
    }
    if is_email(t) {
        return Format::Email;
    }
    if t.len() >= 8 && all(t, |b| b.is_ascii_hexdigit()) && digits > 0 {
        return Format::Hex;
    }
    if t.starts_with(b"eyJ") && t.iter().filter(|&&b| b == b'.').count() == 2 {
        return Format::Jwt;
    }
    let starts = |p: &[u8]| t.len() >= p.len() && t[..p.len()].eq_ignore_ascii_case(p);
    if starts(b"http://") || starts(b"https://") || starts(b"ftp://") {
        return Format::Url;
    }
    if (t[0] == b'{' && t[t.len() - 1] == b'}') || (t[0] == b'[' && t[t.len() - 1] == b']') {
        return Format::Json;
    }
    if t[0] == b'<' && t[t.len() - 1] == b'>' {
        return if starts(b"<?xml") {
            Format::Xml
        } else {
            Format::Html
        };
    }
    if is_base64(t) {
        return Format::Base64;
    }
    if (t[0] == b'/' || t.starts_with(b"./") || (t.len() > 2 && t[1] == b':' && t[2] == b'\\'))
        && !t.contains(&b' ')
    {
        return Format::FilePath;
    }
    if all(t, |b| {
        b.is_ascii_alphabetic() || b == b'-' || b == b'_' || b == b'\''
    }) || (!t.is_ascii() && !t.contains(&b' '))
    {
        return Format::Word;
    }
    if t.contains(&b' ') {
        return Format::Text;
    }
    Format::Other
}

/// How a path segment or member name is reported: as itself (a route
/// word such as `orders`, `v2`, `index.html`, once enough clients sent it)
/// or as the placeholder of its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentKind {
    /// Could be a route word: short, starts with a letter, letters and
    /// digits and `-_.~` only, mostly letters.
    Word,
    /// Data: reported as this placeholder.
    Data(Format),
}

/// Classifies a path segment or member name.
pub fn segment_kind(s: &[u8]) -> SegmentKind {
    let f = format_of(s);
    if !matches!(
        f,
        Format::Word | Format::Text | Format::Other | Format::FilePath
    ) {
        return SegmentKind::Data(f);
    }
    let digits = s.iter().filter(|b| b.is_ascii_digit()).count();
    let route_like = !s.is_empty()
        && s.len() <= 40
        && s[0].is_ascii_alphabetic()
        && all(s, |b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
        && digits * 2 <= s.len() + 1;
    if route_like {
        return SegmentKind::Word;
    }
    match f {
        Format::Word | Format::Text => SegmentKind::Data(Format::Word),
        f => SegmentKind::Data(f),
    }
}

/// Byte classes of the character distribution.
pub const CHAR_CLASSES: [&str; 11] = [
    "lower",
    "upper",
    "digit",
    "space",
    "safe_punct",
    "quote",
    "bracket",
    "operator",
    "other_punct",
    "control",
    "non_ascii",
];

/// The class of a byte, an index into [`CHAR_CLASSES`].
pub fn char_class(b: u8) -> usize {
    match b {
        b'a'..=b'z' => 0,
        b'A'..=b'Z' => 1,
        b'0'..=b'9' => 2,
        b' ' | b'\t' => 3,
        b'.' | b'-' | b'_' | b',' | b':' | b'@' => 4,
        b'\'' | b'"' | b'`' => 5,
        b'<' | b'>' | b'(' | b')' | b'{' | b'}' | b'[' | b']' => 6,
        b'=' | b'+' | b'*' | b'/' | b'%' | b'&' | b'|' | b'^' | b'!' | b'~' => 7,
        0..=31 | 127 => 9,
        128..=255 => 10,
        _ => 8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        for (v, f) in [
            ("", Format::Empty),
            ("42", Format::Int),
            ("-7", Format::Int),
            ("4111111111111111", Format::Card),
            ("4111 1111 1111 1111", Format::Card),
            ("3.14", Format::Decimal),
            ("true", Format::Bool),
            ("550e8400-e29b-41d4-a716-446655440000", Format::Uuid),
            ("10.0.0.1", Format::Ip),
            ("2024-05-01", Format::Date),
            ("2024-05-01T10:00:00Z", Format::DateTime),
            ("+33 6 12 34 56 78", Format::Phone),
            ("(555) 123-4567", Format::Phone),
            ("ann@example.com", Format::Email),
            ("deadbeef42", Format::Hex),
            ("eyJhbGciOi.eyJzdWIi.sig", Format::Jwt),
            ("https://example.com/a", Format::Url),
            ("{\"a\":1}", Format::Json),
            ("<b>hi</b>", Format::Html),
            ("<?xml version=\"1.0\"?><a/>", Format::Xml),
            ("SGVsbG8gV29ybGQxMjM0", Format::Base64),
            ("/var/www/index.php", Format::FilePath),
            ("Alice", Format::Word),
            ("red running shoes", Format::Text),
            ("a1!b2", Format::Other),
        ] {
            assert_eq!(format_of(v.as_bytes()), f, "{v}");
        }
    }

    #[test]
    fn segments() {
        for w in ["orders", "v2", "index.html", "api", "user_profile"] {
            assert_eq!(segment_kind(w.as_bytes()), SegmentKind::Word, "{w}");
        }
        for (s, f) in [
            ("123", Format::Int),
            ("550e8400-e29b-41d4-a716-446655440000", Format::Uuid),
            ("ann@example.com", Format::Email),
            ("a1b2c3d4e5f6", Format::Hex),
            ("2024-05-01", Format::Date),
            ("Zm9vYmFyMTIzNDU2Nzg5MA==", Format::Base64),
        ] {
            assert_eq!(segment_kind(s.as_bytes()), SegmentKind::Data(f), "{s}");
        }
    }
}
