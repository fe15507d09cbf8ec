//! Finding delimiter lines fast: a word-at-a-time search for line feeds,
//! then a check for `--boundary` right after each one. The work is linear in
//! the input whatever the boundary, because a comparison that starts after
//! a line feed fails at the latest on the next line feed (a boundary holds
//! none).

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Longest boundary inferred from a first line when none is declared.
pub(crate) const MAX_INFERRED: usize = 200;

/// Index of the first `needle` in `hay[from..]`, eight bytes at a time.
pub(crate) fn find_byte(hay: &[u8], needle: u8, from: usize) -> Option<usize> {
    let pat = LO.wrapping_mul(u64::from(needle));
    let mut i = from;
    while i + 8 <= hay.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&hay[i..i + 8]);
        let x = u64::from_le_bytes(w) ^ pat;
        // The lowest set bit marks the first zero byte of `x` exactly.
        let t = x.wrapping_sub(LO) & !x & HI;
        if t != 0 {
            return Some(i + (t.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    hay.get(i..)?
        .iter()
        .position(|&b| b == needle)
        .map(|p| i + p)
}

/// A character RFC 2046 allows in a boundary.
fn is_bchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b)
}

/// A boundary as RFC 2046 defines it: 1 to 70 `bchars`, not ending in a space.
pub(crate) fn valid_boundary(b: &[u8]) -> bool {
    (1..=70).contains(&b.len()) && b.iter().all(|&c| is_bchar(c)) && b.last() != Some(&b' ')
}

/// True when a body is ordinary bytes (not only whitespace).
pub(crate) fn has_text(bytes: &[u8]) -> bool {
    bytes.iter().any(|b| !b.is_ascii_whitespace())
}

/// The token of a first line `--token` (leading blank lines skipped), for a
/// body whose media type names no boundary.
pub(crate) fn infer(input: &[u8]) -> Option<&[u8]> {
    let start = input.iter().position(|&b| b != b'\r' && b != b'\n')?;
    let line = input[start..].strip_prefix(b"--")?;
    let window = &line[..line.len().min(MAX_INFERRED + 8)];
    let end = match find_byte(window, b'\n', 0) {
        Some(e) => e,
        None if window.len() == line.len() => line.len(),
        None => return None,
    };
    let tok = line[..end].trim_ascii_end();
    let plausible = !tok.is_empty()
        && tok.len() <= MAX_INFERRED
        && tok.iter().all(|&b| (0x21..0x7f).contains(&b) || b == b' ');
    plausible.then_some(tok)
}

/// A boundary that a value without a declared media type may use: valid,
/// not starting with a space, holding a letter or digit.
pub(crate) fn plausible_boundary(tok: &[u8]) -> bool {
    valid_boundary(tok) && tok[0] != b' ' && tok.iter().any(u8::is_ascii_alphanumeric)
}

/// The plausibility test: `--token` with a plausible boundary as the first
/// line, and a delimiter line with that token later on.
pub(crate) fn sniff(value: &[u8]) -> bool {
    let Some(line) = value.strip_prefix(b"--") else {
        return false;
    };
    let window = &line[..line.len().min(80)];
    let Some(nl) = window.iter().position(|&b| b == b'\n') else {
        return false;
    };
    let tok = window[..nl].trim_ascii_end();
    plausible_boundary(tok) && Scanner::new(value, tok).next(2 + nl).is_some()
}

/// True when the delimiter lines of `input` start it (after whitespace at
/// most) and end with the close delimiter: the check a speculative decoding
/// makes before it emits anything.
pub(crate) fn complete(input: &[u8], boundary: &[u8]) -> bool {
    let mut sc = Scanner::new(input, boundary);
    let Some(mut d) = sc.first() else {
        return false;
    };
    if has_text(&input[..d.start]) {
        return false;
    }
    while !d.close {
        match sc.next(d.end.saturating_sub(1)) {
            Some(n) => d = n,
            None => return false,
        }
    }
    true
}

/// One delimiter line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delim {
    /// Where the content before it ends: the CR (or bare LF) before `--`, or
    /// the `--` itself at the very start of the input.
    pub start: usize,
    /// Just after the line break that ends the delimiter line (the input
    /// end if there is none); for the close delimiter, just after its `--`.
    pub end: usize,
    /// `--boundary--`.
    pub close: bool,
    /// The line break before or after it was a bare LF.
    pub bare_lf: bool,
}

/// Finds the delimiter lines of one body.
#[derive(Debug)]
pub(crate) struct Scanner<'a> {
    input: &'a [u8],
    boundary: &'a [u8],
    /// First line that starts with `--boundary` but goes on with other
    /// bytes (not a delimiter, and a trap for parsers that accept it).
    pub prefix_at: Option<usize>,
}

impl<'a> Scanner<'a> {
    pub fn new(input: &'a [u8], boundary: &'a [u8]) -> Scanner<'a> {
        Scanner {
            input,
            boundary,
            prefix_at: None,
        }
    }

    fn dash_boundary_at(&self, at: usize) -> bool {
        let s = self.input;
        s.get(at..at + 2) == Some(b"--")
            && s.get(at + 2..at + 2 + self.boundary.len()) == Some(self.boundary)
    }

    /// Classifies the line at `at`, which starts with `--boundary`.
    fn classify(&self, at: usize) -> Option<Delim> {
        let s = self.input;
        let mut i = at + 2 + self.boundary.len();
        if s.get(i..i + 2) == Some(b"--") {
            return Some(Delim {
                start: at,
                end: i + 2,
                close: true,
                bare_lf: false,
            });
        }
        while i < s.len() && (s[i] == b' ' || s[i] == b'\t') {
            i += 1;
        }
        let (end, bare_lf) = match (s.get(i), s.get(i + 1)) {
            (None, _) => (i, false),
            (Some(b'\n'), _) => (i + 1, true),
            (Some(b'\r'), Some(b'\n')) => (i + 2, false),
            (Some(b'\r'), None) => (i + 1, false),
            _ => return None,
        };
        Some(Delim {
            start: at,
            end,
            close: false,
            bare_lf,
        })
    }

    /// The first delimiter line of the body: at the very start, or after
    /// any line feed.
    pub fn first(&mut self) -> Option<Delim> {
        if self.dash_boundary_at(0) {
            match self.classify(0) {
                Some(d) => return Some(d),
                None => {
                    self.prefix_at.get_or_insert(0);
                }
            }
        }
        self.next(0)
    }

    /// The first delimiter line whose preceding line feed is at or after
    /// `from`.
    pub fn next(&mut self, from: usize) -> Option<Delim> {
        let mut i = from;
        loop {
            let nl = find_byte(self.input, b'\n', i)?;
            let at = nl + 1;
            if self.dash_boundary_at(at) {
                match self.classify(at) {
                    Some(mut d) => {
                        let crlf = nl > 0 && self.input[nl - 1] == b'\r';
                        d.start = if crlf { nl - 1 } else { nl };
                        d.bare_lf |= !crlf;
                        return Some(d);
                    }
                    None => {
                        self.prefix_at.get_or_insert(at);
                    }
                }
            }
            i = at;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_byte_matches_a_plain_search() {
        let hay: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
        for needle in [0u8, 10, 13, 45, 200, 255] {
            for from in [0, 1, 7, 8, 9, 150, 299, 300, 400] {
                let want = hay
                    .get(from..)
                    .and_then(|h| h.iter().position(|&b| b == needle))
                    .map(|p| p + from);
                assert_eq!(
                    find_byte(&hay, needle, from),
                    want,
                    "needle {needle} from {from}"
                );
            }
        }
    }

    #[test]
    fn delimiters_and_prefixes() {
        let body = b"--b\r\nx\r\n--bx\r\n--b \r\n\n--b--";
        let mut sc = Scanner::new(body, b"b");
        let d = sc.first().unwrap();
        assert_eq!((d.start, d.end, d.close), (0, 5, false));
        let d = sc.next(4).unwrap();
        assert_eq!((d.start, d.end, d.close, d.bare_lf), (12, 20, false, false));
        assert_eq!(sc.prefix_at, Some(8));
        let d = sc.next(19).unwrap();
        assert_eq!((d.start, d.close, d.bare_lf), (20, true, true));
        assert!(sc.next(21).is_none());
    }

    #[test]
    fn sniff_and_infer() {
        assert!(sniff(b"--abc123\r\nx\r\n--abc123--"));
        assert!(!sniff(b"-- comment\n-- comment"));
        assert!(!sniff(b"--abc\r\nno second"));
        assert!(!sniff(b"hello world"));
        assert_eq!(infer(b"\r\n--tok \r\nx"), Some(&b"tok"[..]));
        assert_eq!(infer(b"x--tok"), None);
        assert!(valid_boundary(b"----WebKitFormBoundary7MA4YWxkTrZu0gW"));
        assert!(!valid_boundary(b"a b "));
    }
}
