//! Line breaks inside a value, for the CRLF and mail detectors.
//!
//! A break is a run of CR and LF bytes; a character that some servers
//! truncate to CR or LF (a UTF-8 code point above U+00FF whose low byte is
//! 0x0A or 0x0D, such as U+560A and U+560D, and the Unicode line
//! separators U+0085, U+2028, U+2029); or the two-character escapes `\r`
//! and `\n` written literally. The line after a break is what the
//! detectors classify.

/// How a line break was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// CR and LF bytes.
    Real,
    /// A Unicode character that truncates to CR or LF.
    Lookalike,
    /// `\r`, `\n` written as backslash escapes.
    Escaped,
}

/// One line break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Break {
    /// Where the break starts.
    pub start: usize,
    /// Where the next line starts.
    pub end: usize,
    pub kind: Kind,
    /// The run holds an empty line (two LFs, or two CRs).
    pub blank: bool,
}

/// Breaks examined per value.
pub(crate) const MAX_BREAKS: usize = 256;

/// The code point of the UTF-8 sequence at `s[i]` (lead byte >= 0xC2) and
/// its length.
fn utf8_at(s: &[u8], i: usize) -> Option<(u32, usize)> {
    let b0 = *s.get(i)?;
    let (n, init) = match b0 {
        0xC2..=0xDF => (2, u32::from(b0 & 0x1F)),
        0xE0..=0xEF => (3, u32::from(b0 & 0x0F)),
        0xF0..=0xF4 => (4, u32::from(b0 & 0x07)),
        _ => return None,
    };
    let cont = s.get(i + 1..i + n)?;
    let mut cp = init;
    for &c in cont {
        if c & 0xC0 != 0x80 {
            return None;
        }
        cp = cp << 6 | u32::from(c & 0x3F);
    }
    Some((cp, n))
}

fn lookalike(cp: u32) -> bool {
    matches!(cp, 0x85 | 0x2028 | 0x2029) || (cp >= 0x100 && matches!(cp & 0xFF, 0x0A | 0x0D))
}

/// Calls `f` for each line break of `s` (at most [`MAX_BREAKS`]); stops
/// when `f` returns false.
pub(crate) fn breaks(s: &[u8], mut f: impl FnMut(Break) -> bool) {
    let mut i = 0;
    let mut n = 0;
    while i < s.len() {
        let b = s[i];
        let found = match b {
            b'\r' | b'\n' => {
                let (end, blank) = real_run(s, i);
                Some(Break {
                    start: i,
                    end,
                    kind: Kind::Real,
                    blank,
                })
            }
            b'\\' if matches!(s.get(i + 1), Some(b'r' | b'n')) => {
                let (end, blank) = escaped_run(s, i);
                Some(Break {
                    start: i,
                    end,
                    kind: Kind::Escaped,
                    blank,
                })
            }
            0xC2..=0xF4 => match utf8_at(s, i) {
                Some((cp, len)) if lookalike(cp) => Some(Break {
                    start: i,
                    end: i + len,
                    kind: Kind::Lookalike,
                    blank: false,
                }),
                Some((_, len)) => {
                    i += len;
                    continue;
                }
                None => None,
            },
            _ => None,
        };
        match found {
            Some(br) => {
                n += 1;
                i = br.end.max(i + 1);
                if !f(br) || n >= MAX_BREAKS {
                    return;
                }
            }
            None => i += 1,
        }
    }
}

/// The end of the CR/LF run at `s[i]` and whether it holds an empty line.
fn real_run(s: &[u8], mut i: usize) -> (usize, bool) {
    let (mut lf, mut cr) = (0, 0);
    while let Some(&b) = s.get(i) {
        match b {
            b'\n' => lf += 1,
            b'\r' => cr += 1,
            _ => break,
        }
        i += 1;
    }
    (i, lf >= 2 || (lf == 0 && cr >= 2))
}

/// The end of a run of `\r`/`\n` escapes at `s[i]`.
fn escaped_run(s: &[u8], mut i: usize) -> (usize, bool) {
    let (mut lf, mut cr) = (0, 0);
    while s.get(i) == Some(&b'\\') {
        match s.get(i + 1) {
            Some(b'n') => lf += 1,
            Some(b'r') => cr += 1,
            _ => break,
        }
        i += 2;
    }
    (i, lf >= 2 || (lf == 0 && cr >= 2))
}

/// The line starting at `i`: up to the next CR, LF, or `\r`/`\n` escape
/// (at most `max` bytes).
pub(crate) fn line_at(s: &[u8], i: usize, max: usize) -> &[u8] {
    let lim = s.len().min(i.saturating_add(max));
    let rest = s.get(i..lim).unwrap_or_default();
    let mut k = 0;
    while k < rest.len() {
        match rest[k] {
            b'\r' | b'\n' => break,
            b'\\' if matches!(rest.get(k + 1), Some(b'r' | b'n')) => break,
            _ => k += 1,
        }
    }
    &rest[..k]
}

/// RFC 9110 token character (header field names).
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A header-field shape at `s[at]`: a token of 1..=64
/// characters, optional blanks (and stray CRs), then `:`. Returns the name
/// and where its value starts.
pub(crate) fn header_at(s: &[u8], at: usize) -> Option<(usize, usize, usize)> {
    let mut k = at;
    while s.get(k).is_some_and(|&b| is_tchar(b)) && k - at <= 64 {
        k += 1;
    }
    let name_end = k;
    if name_end == at || name_end - at > 64 || !s[at].is_ascii_alphabetic() {
        return None;
    }
    while matches!(s.get(k), Some(b' ' | b'\t' | b'\r')) && k - name_end < 8 {
        k += 1;
    }
    (s.get(k) == Some(&b':')).then_some((at, name_end, k + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(s: &[u8]) -> Vec<(usize, usize, Kind, bool)> {
        let mut v = Vec::new();
        breaks(s, |b| {
            v.push((b.start, b.end, b.kind, b.blank));
            true
        });
        v
    }

    #[test]
    fn finds_breaks() {
        assert_eq!(all(b"a\r\nb"), [(1, 3, Kind::Real, false)]);
        assert_eq!(all(b"a\r\n\r\nb"), [(1, 5, Kind::Real, true)]);
        assert_eq!(all(b"a\\r\\nb"), [(1, 5, Kind::Escaped, false)]);
        assert_eq!(
            all("x\u{560d}Set".as_bytes()),
            [(1, 4, Kind::Lookalike, false)]
        );
        assert!(all("caf\u{e9} \u{4e2d}".as_bytes()).is_empty());
        assert!(all(b"a\\\\b").is_empty());
        assert_eq!(line_at(b"ab\\ncd", 0, 100), b"ab");
        assert_eq!(header_at(b"Set-Cookie: x", 0), Some((0, 10, 11)));
        assert_eq!(header_at(b"Remote-addr\r\r:", 0), Some((0, 11, 14)));
        assert_eq!(header_at(b"a b: x", 0), None);
    }
}
