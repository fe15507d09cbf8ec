//! Byte-level helpers: HTTP tokens, comma lists, optional whitespace and a
//! streaming percent-decoder. No allocation.

/// At most this many bytes of one value are parsed (lengths are still
/// measured on the whole value).
pub(crate) const INSPECT_CAP: usize = 64 * 1024;

/// The first [`INSPECT_CAP`] bytes of a value.
pub(crate) fn capped(v: &[u8]) -> &[u8] {
    &v[..v.len().min(INSPECT_CAP)]
}

/// `tchar` of RFC 9110 section 5.6.2.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A non-empty run of `tchar`.
pub(crate) fn is_token(v: &[u8]) -> bool {
    !v.is_empty() && v.iter().all(|&b| is_tchar(b))
}

/// Optional whitespace (SP / HTAB).
pub(crate) fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `(start, end)` of `v[start..end]` with OWS removed at both ends.
pub(crate) fn trim_ows(v: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && is_ows(v[start]) {
        start += 1;
    }
    while end > start && is_ows(v[end - 1]) {
        end -= 1;
    }
    (start, end)
}

/// The elements of a comma-separated list, as `(start, end)` offsets with
/// OWS trimmed; empty elements are yielded too (as empty ranges).
#[derive(Debug)]
pub(crate) struct CommaList<'a> {
    v: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> CommaList<'a> {
    pub(crate) fn new(v: &'a [u8]) -> CommaList<'a> {
        CommaList {
            v,
            pos: 0,
            done: false,
        }
    }
}

impl Iterator for CommaList<'_> {
    type Item = (usize, usize);
    fn next(&mut self) -> Option<(usize, usize)> {
        if self.done {
            return None;
        }
        let start = self.pos;
        let end = match self.v[start..].iter().position(|&b| b == b',') {
            Some(i) => {
                self.pos = start + i + 1;
                start + i
            }
            None => {
                self.done = true;
                self.v.len()
            }
        };
        Some(trim_ows(self.v, start, end))
    }
}

/// ASCII case-insensitive equality.
pub(crate) fn eq_ci(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Position of `needle` (lower-case ASCII) in `hay`, ignoring ASCII case.
pub(crate) fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| eq_ci(w, needle))
}

pub(crate) fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// One round of percent-decoding over a byte stream, left to right as
/// servers do it: `%XX` with two hex digits becomes one byte, anything else
/// passes literally (`%%41` reads `%A`). Rounds nest: `Pct::new(Pct::new(it))`
/// decodes twice.
#[derive(Debug)]
pub(crate) struct Pct<I> {
    inner: I,
    /// Bytes read ahead and given back (a stack: the last pushed is read first).
    back: [u8; 2],
    nback: usize,
}

impl<I: Iterator<Item = u8>> Pct<I> {
    pub(crate) fn new(inner: I) -> Pct<I> {
        Pct {
            inner,
            back: [0; 2],
            nback: 0,
        }
    }

    fn pull(&mut self) -> Option<u8> {
        if self.nback > 0 {
            self.nback -= 1;
            return Some(self.back[self.nback]);
        }
        self.inner.next()
    }

    fn give_back(&mut self, b: u8) {
        if self.nback < self.back.len() {
            self.back[self.nback] = b;
            self.nback += 1;
        }
    }
}

impl<I: Iterator<Item = u8>> Iterator for Pct<I> {
    type Item = u8;
    fn next(&mut self) -> Option<u8> {
        let b = self.pull()?;
        if b != b'%' {
            return Some(b);
        }
        let Some(h) = self.pull() else {
            return Some(b'%');
        };
        let Some(hv) = hex(h) else {
            self.give_back(h);
            return Some(b'%');
        };
        let Some(l) = self.pull() else {
            self.give_back(h);
            return Some(b'%');
        };
        match hex(l) {
            Some(lv) => Some(hv << 4 | lv),
            None => {
                self.give_back(l);
                self.give_back(h);
                Some(b'%')
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &[u8]) -> Vec<u8> {
        Pct::new(s.iter().copied()).collect()
    }

    #[test]
    fn percent_decoding_is_left_to_right() {
        assert_eq!(dec(b"a%41b"), b"aAb");
        assert_eq!(dec(b"%%41"), b"%A");
        assert_eq!(dec(b"%4"), b"%4");
        assert_eq!(dec(b"%4z%"), b"%4z%");
        assert_eq!(dec(b"%%%0a"), b"%%\n");
        let twice: Vec<u8> = Pct::new(Pct::new(b"%250a".iter().copied())).collect();
        assert_eq!(twice, b"\n");
    }

    #[test]
    fn comma_lists() {
        let v = b" a , b,,c ";
        let items: Vec<&[u8]> = CommaList::new(v).map(|(s, e)| &v[s..e]).collect();
        assert_eq!(items, [&b"a"[..], b"b", b"", b"c"]);
        assert_eq!(CommaList::new(b"").count(), 1);
    }

    #[test]
    fn tokens() {
        assert!(is_token(b"GET"));
        assert!(is_token(b"x-y_z.1~"));
        assert!(!is_token(b""));
        assert!(!is_token(b"a b"));
        assert!(!is_token(b"a:b"));
        assert_eq!(find_ci(b"xxBoundary=", b"boundary"), Some(2));
    }
}
