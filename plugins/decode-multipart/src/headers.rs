//! The header lines of one part: `Name: value`, folded continuation lines
//! joined to the header they continue, up to the blank line.

use crate::scan::find_byte;

/// A header line longer than this is flagged (`multipart.long-header`).
pub(crate) const LONG_LINE: usize = 8 * 1024;

/// One header, as offsets into the body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Header {
    /// The name, trimmed (empty for a line without a colon).
    pub name: (usize, usize),
    /// The raw value, trimmed; folded lines keep their line breaks.
    pub value: (usize, usize),
    /// Continued on folded lines.
    pub folded: bool,
    /// A line of it is longer than [`LONG_LINE`].
    pub long: bool,
    /// Not a header: no colon, or a name that is not a token.
    pub bad: bool,
    /// Whitespace around the name (`Content-Type : x`): accepted, flagged.
    pub odd_name: bool,
}

/// Iterates the headers of the part `s[start..end]`.
#[derive(Debug)]
pub(crate) struct Headers<'a> {
    s: &'a [u8],
    pos: usize,
    end: usize,
    done: bool,
    /// Where the body starts, once the headers are read; `None` when the
    /// part ended on a header line without a line break (no blank line).
    pub body: Option<usize>,
    /// A line ended with a bare LF.
    pub bare_lf: bool,
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `(start, end)` with ASCII whitespace trimmed from both ends.
fn trim(s: &[u8], mut a: usize, mut b: usize) -> (usize, usize) {
    while a < b && s[a].is_ascii_whitespace() {
        a += 1;
    }
    while b > a && s[b - 1].is_ascii_whitespace() {
        b -= 1;
    }
    (a, b)
}

impl<'a> Headers<'a> {
    pub fn new(s: &'a [u8], start: usize, end: usize) -> Headers<'a> {
        Headers {
            s,
            pos: start,
            end,
            done: false,
            body: None,
            bare_lf: false,
        }
    }

    /// The line at `at`: (end of its content, start of the next line), or
    /// `None` for the second when the line has no line break.
    fn line(&mut self, at: usize) -> (usize, Option<usize>) {
        match find_byte(&self.s[..self.end], b'\n', at) {
            Some(n) if n > at && self.s[n - 1] == b'\r' => (n - 1, Some(n + 1)),
            Some(n) => {
                self.bare_lf = true;
                (n, Some(n + 1))
            }
            None if self.end > at && self.s[self.end - 1] == b'\r' => (self.end - 1, None),
            None => (self.end, None),
        }
    }
}

impl Iterator for Headers<'_> {
    type Item = Header;

    fn next(&mut self) -> Option<Header> {
        if self.done {
            return None;
        }
        let start = self.pos;
        if start >= self.end {
            // The part ended right after a header's line break: no body.
            self.done = true;
            self.body = Some(self.end);
            return None;
        }
        let (le, next) = self.line(start);
        if le == start {
            self.done = true;
            self.body = Some(next.unwrap_or(self.end));
            return None;
        }
        let s = self.s;
        let mut h = Header {
            long: le - start > LONG_LINE,
            ..Header::default()
        };
        let vstart = match s[start..le].iter().position(|&b| b == b':') {
            Some(c) => {
                h.name = trim(s, start, start + c);
                let name = &s[h.name.0..h.name.1];
                h.bad = name.is_empty() || !name.iter().all(|&b| is_tchar(b));
                h.odd_name = h.name != (start, start + c);
                start + c + 1
            }
            None => {
                h.bad = true;
                h.name = (start, start);
                start
            }
        };
        let mut vend = le;
        let mut next = next;
        while let Some(n) = next.filter(|&n| n < self.end && matches!(s[n], b' ' | b'\t')) {
            let (le2, n2) = self.line(n);
            h.folded = true;
            h.long |= le2 - n > LONG_LINE;
            vend = le2;
            next = n2;
        }
        h.value = trim(s, vstart, vend);
        match next {
            Some(n) => self.pos = n,
            None => {
                // The last line had no line break: the blank line is missing.
                self.pos = self.end;
                self.done = true;
            }
        }
        Some(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(s: &[u8]) -> (Vec<(String, String)>, Option<usize>, bool) {
        let mut hs = Headers::new(s, 0, s.len());
        let v = hs
            .by_ref()
            .map(|h| {
                let t = |r: (usize, usize)| String::from_utf8_lossy(&s[r.0..r.1]).into_owned();
                (t(h.name), t(h.value))
            })
            .collect();
        (v, hs.body, hs.bare_lf)
    }

    #[test]
    fn headers_folds_and_body() {
        let s = b"A: 1\r\nB:2\r\n  more\r\n\r\nbody";
        let (v, body, lf) = all(s);
        assert_eq!(
            v,
            [("A".into(), "1".into()), ("B".into(), "2\r\n  more".into())]
        );
        assert_eq!(body, Some(s.len() - 4));
        assert!(!lf);
        let (v, body, lf) = all(b"A: 1\n\nx");
        assert_eq!((v.len(), body, lf), (1, Some(6), true));
        let (v, body, _) = all(b"A: 1\r\n");
        assert_eq!((v.len(), body), (1, Some(6)));
        let (v, body, _) = all(b"value");
        assert_eq!((v, body), (vec![(String::new(), "value".into())], None));
        let (v, body, _) = all(b"");
        assert_eq!((v.len(), body), (0, Some(0)));
    }
}
