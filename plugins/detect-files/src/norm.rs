//! Reading a value as a stream of normalised units.
//!
//! A unit is one character of the value mapped to the ASCII byte it stands
//! for when it is used to disguise one: full-width forms (`．` `／` `＼`,
//! U+FF01..U+FF5E), look-alike slashes and dots (U+2215, U+2044, U+3002,
//! U+FF61 ...), circled and parenthesised letters and digits (`ⓛ`, `①`,
//! `⓪`), overlong UTF-8 (`C0 AE`), and the escapes that survive the
//! engine's decoding because they are not standard percent-encoding:
//! `%2e` `%2f` `%5c` `%00` left over by one decoding too few, IIS
//! `%u002e`, textual overlong escapes `%c0%ae`, and the `0x2e` `0x2f`
//! `0x5c` spellings. Such units are marked `odd`: a benign value never
//! writes a dot or a slash that way. (An escaped slash, `%2f` or `%5c`,
//! is read as a slash but not marked: query values carry them.)
//!
//! Any other non-ASCII character is [`OTHER`]; invalid UTF-8 is one
//! [`OTHER`] unit per byte. The reader never fails and never reads past
//! the value.

/// The unit of a non-ASCII character that stands for no ASCII byte.
pub const OTHER: u8 = 0xFF;

/// One unit: the byte it stands for, its length in the value, and whether
/// it was written in a disguised form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit {
    pub b: u8,
    pub len: usize,
    pub odd: bool,
}

impl Unit {
    const fn plain(b: u8) -> Unit {
        Unit {
            b,
            len: 1,
            odd: false,
        }
    }
    const fn odd(b: u8, len: usize) -> Unit {
        Unit { b, len, odd: true }
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn hex2(v: &[u8], i: usize) -> Option<u8> {
    Some(hex(*v.get(i)?)? << 4 | hex(*v.get(i + 1)?)?)
}

/// The unit starting at `v[i]` (`i < v.len()`). Inlined: most bytes are
/// plain ASCII and stand for themselves.
#[inline]
pub fn unit_at(v: &[u8], i: usize) -> Unit {
    let b = v[i];
    if b < 0x80 && b != b'%' && b != b'0' {
        return Unit::plain(b);
    }
    unit_slow(v, i, b)
}

#[inline(never)]
fn unit_slow(v: &[u8], i: usize, b: u8) -> Unit {
    match b {
        b'%' => escape(v, i).unwrap_or(Unit::plain(b)),
        b'0' => hex_word(v, i).unwrap_or(Unit::plain(b)),
        _ => multibyte(v, i),
    }
}

/// `%2e` `%2f` `%5c` `%00`, `%uXXXX` of a dot or slash, `%c0%ae`.
fn escape(v: &[u8], i: usize) -> Option<Unit> {
    if let Some(x) = hex2(v, i + 1) {
        return match x {
            // An encoded dot is always deliberate (a dot never needs
            // encoding); an encoded slash is ordinary in query values.
            b'.' | 0 => Some(Unit::odd(x, 3)),
            b'/' | b'\\' => Some(Unit {
                b: x,
                len: 3,
                odd: false,
            }),
            0xC0 | 0xC1 if v.get(i + 3) == Some(&b'%') => {
                let y = hex2(v, i + 4)?;
                (y & 0xC0 == 0x80).then(|| Unit::odd(((x & 0x1F) << 6) | (y & 0x3F), 6))
            }
            _ => None,
        };
    }
    if matches!(v.get(i + 1), Some(b'u' | b'U')) {
        let cp = u32::from(hex2(v, i + 2)?) << 8 | u32::from(hex2(v, i + 4)?);
        return map_cp(cp).map(|b| Unit::odd(b, 6));
    }
    None
}

/// `0x2e`, `0x2f`, `0x5c` written out (the hex spelling of `.` `/` `\`).
fn hex_word(v: &[u8], i: usize) -> Option<Unit> {
    if !matches!(v.get(i + 1), Some(b'x' | b'X')) {
        return None;
    }
    match hex2(v, i + 2)? {
        x @ (b'.' | b'/' | b'\\') => Some(Unit::odd(x, 4)),
        _ => None,
    }
}

fn cont(v: &[u8], i: usize) -> Option<u32> {
    let c = *v.get(i)?;
    (c & 0xC0 == 0x80).then_some(u32::from(c & 0x3F))
}

fn multibyte(v: &[u8], i: usize) -> Unit {
    let b = v[i];
    let other = Unit {
        b: OTHER,
        len: 1,
        odd: false,
    };
    let (cp, len) = match b {
        // Overlong two-byte forms of ASCII.
        0xC0 | 0xC1 => match cont(v, i + 1) {
            Some(c) => (u32::from(b & 0x1F) << 6 | c, 2),
            None => return other,
        },
        0xC2..=0xDF => match cont(v, i + 1) {
            Some(c) => (u32::from(b & 0x1F) << 6 | c, 2),
            None => return other,
        },
        0xE0..=0xEF => match (cont(v, i + 1), cont(v, i + 2)) {
            (Some(c1), Some(c2)) => (u32::from(b & 0x0F) << 12 | c1 << 6 | c2, 3),
            _ => return other,
        },
        0xF0..=0xF4 => match (cont(v, i + 1), cont(v, i + 2), cont(v, i + 3)) {
            (Some(c1), Some(c2), Some(c3)) => {
                (u32::from(b & 0x07) << 18 | c1 << 12 | c2 << 6 | c3, 4)
            }
            _ => return other,
        },
        _ => return other,
    };
    if cp < 0x80 {
        // Overlong encoding of an ASCII character.
        return Unit::odd(cp as u8, len);
    }
    match map_cp(cp) {
        Some(a) => Unit::odd(a, len),
        None => Unit {
            b: OTHER,
            len,
            odd: false,
        },
    }
}

/// The ASCII byte a look-alike code point stands for.
fn map_cp(cp: u32) -> Option<u8> {
    let a = match cp {
        0x00..=0x7F => cp,
        // Full-width ASCII.
        0xFF01..=0xFF5E => cp - 0xFEE0,
        // Dots: ideographic, half-width ideographic, small, one-dot leader.
        0x3002 | 0xFF61 | 0xFE52 | 0x2024 => u32::from(b'.'),
        // Slashes: division slash, fraction slash, big solidus, small solidus.
        0x2215 | 0x2044 | 0x29F8 => u32::from(b'/'),
        // Backslashes: set minus, big reverse solidus, small reverse solidus.
        0x2216 | 0x29F9 | 0xFE68 => u32::from(b'\\'),
        // Circled digits one to nine, and zero.
        0x2460..=0x2468 => cp - 0x2460 + u32::from(b'1'),
        0x24F5..=0x24FD => cp - 0x24F5 + u32::from(b'1'),
        0x2776..=0x277E => cp - 0x2776 + u32::from(b'1'),
        0x2780..=0x2788 => cp - 0x2780 + u32::from(b'1'),
        0x278A..=0x2792 => cp - 0x278A + u32::from(b'1'),
        0x24EA | 0x24FF | 0x1F10B | 0x1F10C => u32::from(b'0'),
        // Parenthesised, circled (both cases) and squared letters.
        0x249C..=0x24B5 => cp - 0x249C + u32::from(b'a'),
        0x24B6..=0x24CF => cp - 0x24B6 + u32::from(b'a'),
        0x24D0..=0x24E9 => cp - 0x24D0 + u32::from(b'a'),
        0x1F130..=0x1F149 => cp - 0x1F130 + u32::from(b'a'),
        0x1F150..=0x1F169 => cp - 0x1F150 + u32::from(b'a'),
        0x1F170..=0x1F189 => cp - 0x1F170 + u32::from(b'a'),
        _ => return None,
    };
    u8::try_from(a).ok()
}

/// True for ASCII whitespace.
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C)
}

/// Whether a value reads as natural-language text: at least four words
/// made of letters, and they are at least half of its whitespace-separated
/// tokens. Code, markup, URLs and paths are not prose even when long.
/// Looks at the first `cap` bytes.
pub fn is_prose(v: &[u8], cap: usize) -> bool {
    let v = &v[..v.len().min(cap)];
    let (mut tokens, mut words) = (0u32, 0u32);
    for tok in v.split(|&b| is_space(b)).filter(|t| !t.is_empty()) {
        tokens += 1;
        let core = trim_punct(tok);
        if core.len() >= 2
            && core
                .iter()
                .all(|b| b.is_ascii_alphabetic() || *b == b'\'' || *b == b'-' || *b >= 0x80)
        {
            words += 1;
        }
    }
    words >= 4 && words * 2 >= tokens
}

fn trim_punct(t: &[u8]) -> &[u8] {
    let is_p = |b: &u8| b",.;:!?()\"'".contains(b);
    let s = t.iter().position(|b| !is_p(b)).unwrap_or(t.len());
    let e = t.iter().rposition(|b| !is_p(b)).map_or(s, |e| e + 1);
    &t[s..e.max(s)]
}

/// The value without leading and trailing ASCII whitespace, with its start.
pub fn trim(v: &[u8]) -> (usize, &[u8]) {
    let s = v.iter().position(|&b| !is_space(b)).unwrap_or(v.len());
    let e = v.iter().rposition(|&b| !is_space(b)).map_or(s, |e| e + 1);
    (s, &v[s..e])
}

/// Case-insensitive ASCII prefix test.
pub fn starts_with_ci(v: &[u8], p: &[u8]) -> bool {
    v.len() >= p.len() && v[..p.len()].eq_ignore_ascii_case(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(v: &[u8]) -> Vec<u8> {
        let mut i = 0;
        let mut out = Vec::new();
        while i < v.len() {
            let u = unit_at(v, i);
            out.push(u.b);
            i += u.len;
        }
        out
    }

    #[test]
    fn disguised_dots_and_slashes() {
        assert_eq!(units(b"%2e%2E%2f%5c"), b"..\x2f\\");
        assert_eq!(units("．．／＼".as_bytes()), b"../\\");
        assert_eq!(units(b"0x2e0X2F0x5c0x41"), b"./\\0x41");
        assert_eq!(units(b"%c0%ae%c0%af"), b"./");
        assert_eq!(units(b"\xc0\xae\xc0\xaf"), b"./");
        assert_eq!(units(b"%u002e%u2215%uff0f"), b".//");
        assert_eq!(units("①②⑦。⓪".as_bytes()), b"127.0");
        assert_eq!(units("ⓛⓄ".as_bytes()), b"lo");
        assert_eq!(units(b"%zz%4"), b"%zz%4");
        assert_eq!(units(b"\xff\xe2\x88"), [OTHER, OTHER, OTHER]);
        assert_eq!(units("é".as_bytes()), [OTHER]);
    }

    #[test]
    fn prose() {
        assert!(is_prose(b"my server 192.168.1.10 is down again", 1000));
        assert!(!is_prose(
            b"<?xml version=\"1.0\"?><root><a probe=\"x\"></a></root>",
            1000
        ));
        assert!(!is_prose(b"cat /etc/passwd", 1000));
    }
}
