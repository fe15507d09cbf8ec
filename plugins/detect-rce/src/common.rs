//! Helpers shared by the detectors of this crate: the inspection windows,
//! the per-value hit collector, small byte-string utilities, a glob matcher
//! and the table lookup.

use rampart_plugin_api::{Class, DetectCtx, Finding, Span};

/// Bytes inspected from the start of a value.
pub const HEAD: usize = 64 * 1024;
/// Bytes inspected from the end of a value longer than `HEAD + TAIL`
/// (padding attacks put the payload after kilobytes of filler).
pub const TAIL: usize = 64 * 1024;

/// The parts of a value a detector inspects, with their offsets: the whole
/// value when it is short, else its first `HEAD` and last `TAIL` bytes.
pub fn windows(v: &[u8]) -> [(usize, &[u8]); 2] {
    if v.len() <= HEAD + TAIL {
        [(0, v), (v.len(), &[])]
    } else {
        let t = v.len() - TAIL;
        [(0, &v[..HEAD]), (t, &v[t..])]
    }
}

/// Findings a detector reports about one value, at most this many.
pub const MAX_FINDINGS: usize = 3;
const SLOTS: usize = 8;

/// One candidate finding.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub rule: &'static str,
    pub score: u8,
    pub start: usize,
    pub end: usize,
    pub msg: &'static str,
}

/// Collects the strongest hit per rule for one value (fixed capacity, no
/// allocation).
#[derive(Debug)]
pub struct Hits {
    list: [Option<Hit>; SLOTS],
}

impl Default for Hits {
    fn default() -> Self {
        Hits {
            list: [None; SLOTS],
        }
    }
}

impl Hits {
    /// Moves every hit's span `by` bytes right (hits found in a suffix of
    /// the value, reported against the whole value).
    pub fn shift(&mut self, by: usize) {
        for h in self.list.iter_mut().flatten() {
            h.start += by;
            h.end += by;
        }
    }

    pub fn add(
        &mut self,
        rule: &'static str,
        score: u8,
        start: usize,
        end: usize,
        msg: &'static str,
    ) {
        if score == 0 {
            return;
        }
        let hit = Hit {
            rule,
            score: score.min(100),
            start,
            end: end.max(start),
            msg,
        };
        for slot in self.list.iter_mut() {
            match slot {
                Some(h) if h.rule == rule => {
                    if hit.score > h.score {
                        *h = hit;
                    }
                    return;
                }
                None => {
                    *slot = Some(hit);
                    return;
                }
                Some(_) => {}
            }
        }
        // Full: replace the weakest if the new one is stronger.
        let (mut wi, mut ws) = (0, u8::MAX);
        for (i, h) in self.list.iter().enumerate() {
            if let Some(h) = h {
                if h.score < ws {
                    ws = h.score;
                    wi = i;
                }
            }
        }
        if hit.score > ws {
            self.list[wi] = Some(hit);
        }
    }

    /// True when no hit is recorded (slots fill in order and are never
    /// emptied, so the first one tells).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.list[0].is_none()
    }

    /// The strongest score so far (0 when none).
    pub fn best(&self) -> u8 {
        self.list
            .iter()
            .flatten()
            .map(|h| h.score)
            .max()
            .unwrap_or(0)
    }

    /// What the engine adds up for this detector's class: the scores of
    /// the hits [`Hits::emit`] reports.
    pub fn class_score(&self) -> u32 {
        let limit = if self.best() >= BLOCK {
            MAX_FINDINGS
        } else {
            1
        };
        self.sorted().take(limit).map(|h| u32::from(h.score)).sum()
    }

    /// The hits, strongest first.
    pub fn sorted(&self) -> impl Iterator<Item = Hit> {
        let mut v: [Option<Hit>; SLOTS] = self.list;
        v.sort_by(|a, b| b.map_or(0, |h| h.score).cmp(&a.map_or(0, |h| h.score)));
        v.into_iter().flatten()
    }

    /// True when a hit of this rule is recorded.
    pub fn has(&self, rule: &str) -> bool {
        self.list.iter().flatten().any(|h| h.rule == rule)
    }

    /// Reports the hits: the strongest first, at most [`MAX_FINDINGS`];
    /// when none reaches the blocking score only the strongest is
    /// reported, so that correlated weak evidence of one detector is not
    /// summed by the engine into a block.
    pub fn emit(
        &self,
        ctx: &DetectCtx<'_>,
        class: Class,
        origin: &'static str,
        value_len: usize,
        out: &mut Vec<Finding>,
    ) {
        if self.is_empty() {
            return;
        }
        let mut v: [Option<Hit>; SLOTS] = self.list;
        v.sort_by(|a, b| {
            let sa = a.map_or(0, |h| h.score);
            let sb = b.map_or(0, |h| h.score);
            sb.cmp(&sa)
        });
        let best = self.best();
        let limit = if best >= BLOCK { MAX_FINDINGS } else { 1 };
        for h in v.iter().flatten().take(limit) {
            let end = h.end.min(value_len);
            let start = h.start.min(end);
            out.push(
                Finding::new(ctx.point, class, h.rule, h.score, h.msg)
                    .with_span(Span::new(start, end))
                    .with_origin(origin),
            );
        }
    }
}

/// A name made only of letters, digits and `_`, `-`, `.`: an identifier,
/// which holds no shell, template or lookup syntax.
pub fn plain_name(k: &[u8]) -> bool {
    k.iter()
        .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

/// The score at which the engine blocks by default.
pub const BLOCK: u8 = 50;

/// ASCII lower-case of one byte.
#[inline]
pub fn lc(b: u8) -> u8 {
    b.to_ascii_lowercase()
}

/// True for `[A-Za-z0-9_]`.
#[inline]
pub fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Byte equality without a library call (for the short names compared
/// against tables).
#[inline]
pub fn eq_short(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Case-insensitive prefix test.
#[inline]
pub fn starts_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

/// Case-insensitive search; `needle` must be lower-case. Linear in
/// `hay.len() * needle.len()` in the worst case; callers keep needles short.
pub fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let n = needle.len();
    if n == 0 || hay.len() < n {
        return None;
    }
    let first = needle[0];
    let mut i = 0;
    while i + n <= hay.len() {
        if lc(hay[i]) == first && hay[i..i + n].eq_ignore_ascii_case(needle) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Skips ASCII whitespace from `i`.
#[inline]
pub fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// First-byte ranges of a table sorted by name: `ranges[b]` is the slice
/// of entries whose name starts with the ASCII byte `b`, so that a lookup
/// is a binary search over a handful of entries; and an 8192-bit Bloom
/// filter of the names (two bits each, from the length, first, second,
/// middle and last byte), so that nearly every key not in the table is
/// rejected without comparing strings.
#[derive(Debug)]
pub struct Index {
    ranges: [(u16, u16); 128],
    filter: [u64; 128],
}

/// The two filter bits of a name (length, first, second, middle and last
/// byte, mixed two ways).
#[inline]
fn filter_bits(key: &[u8]) -> (usize, usize) {
    let n = key.len();
    let sample = match key {
        [] => [0; 4],
        [a] => [*a, 0, *a, *a],
        [a, b, ..] => [*a, *b, key[n / 2], key[n - 1]],
    };
    filter_bits_of(n, sample)
}

/// The filter bits of a name of length `n` whose first, second, middle
/// and last bytes are `sample` (see [`filter_bits`]).
#[inline]
fn filter_bits_of(n: usize, sample: [u8; 4]) -> (usize, usize) {
    let [a, b, m, z] = sample;
    let h = (n as u32)
        .wrapping_mul(0x9e37_79b9)
        .wrapping_add(u32::from(a).wrapping_mul(0x85eb_ca6b))
        .wrapping_add(u32::from(b).wrapping_mul(0xc2b2_ae35))
        .wrapping_add(u32::from(m).wrapping_mul(0x1656_67b1))
        .wrapping_add(u32::from(z).wrapping_mul(0x27d4_eb2f));
    let h = h ^ (h >> 15);
    let h = h.wrapping_mul(0x2c1b_3c6d);
    let h = h ^ (h >> 12);
    ((h & 8191) as usize, ((h >> 13) & 8191) as usize)
}

impl Index {
    /// Builds the index of a table sorted by name (names non-empty ASCII).
    pub fn new<T>(table: &[T], name: impl Fn(&T) -> &'static str) -> Index {
        let mut ranges = [(0u16, 0u16); 128];
        let mut filter = [0u64; 128];
        for (i, e) in table.iter().enumerate() {
            let nm = name(e).as_bytes();
            let (x, y) = filter_bits(nm);
            filter[x / 64] |= 1 << (x % 64);
            filter[y / 64] |= 1 << (y % 64);
            let b = usize::from(nm.first().copied().unwrap_or(0) & 0x7f);
            let i = u16::try_from(i).unwrap_or(u16::MAX);
            if ranges[b].1 == 0 {
                ranges[b] = (i, i + 1);
            } else {
                ranges[b].1 = i + 1;
            }
        }
        Index { ranges, filter }
    }

    /// The index range of the entries whose name starts with `first`.
    pub fn range(&self, first: u8) -> std::ops::Range<usize> {
        if first >= 128 {
            return 0..0;
        }
        let (a, z) = self.ranges[usize::from(first)];
        usize::from(a)..usize::from(z)
    }

    /// False when no name of the table can equal `key` (no false
    /// negatives; a true answer still needs the lookup).
    #[inline]
    pub fn may_hold(&self, key: &[u8]) -> bool {
        let (x, y) = filter_bits(key);
        self.filter[x / 64] & (1 << (x % 64)) != 0 && self.filter[y / 64] & (1 << (y % 64)) != 0
    }

    /// [`Index::may_hold`] for the lower-case form of `key` (ASCII), without
    /// building it.
    #[inline]
    pub fn may_hold_ci(&self, key: &[u8]) -> bool {
        let n = key.len();
        let sample = match key {
            [] => [0; 4],
            [a] => [*a, 0, *a, *a],
            [a, b, ..] => [*a, *b, key[n / 2], key[n - 1]],
        };
        let l = sample.map(|c| c.to_ascii_lowercase());
        let key = [l[0], l[1], l[2], l[3]];
        // The bits depend on the length and the sampled bytes only.
        let (x, y) = filter_bits_of(n, key);
        self.filter[x / 64] & (1 << (x % 64)) != 0 && self.filter[y / 64] & (1 << (y % 64)) != 0
    }

    /// Looks a lower-case key up.
    pub fn find<'a, T>(
        &self,
        table: &'a [T],
        key: &[u8],
        name: impl Fn(&T) -> &'static str,
    ) -> Option<&'a T> {
        let &first = key.first()?;
        if first >= 128 || !self.may_hold(key) {
            return None;
        }
        let (a, z) = self.ranges[usize::from(first)];
        let part = table.get(usize::from(a)..usize::from(z))?;
        lookup(part, key, name)
    }
}

/// Binary search of a lower-case key in a table sorted by name.
pub fn lookup<'a, T>(
    table: &'a [T],
    key: &[u8],
    name: impl Fn(&T) -> &'static str,
) -> Option<&'a T> {
    table
        .binary_search_by(|e| cmp_short(name(e).as_bytes(), key))
        .ok()
        .map(|i| &table[i])
}

/// Byte-wise order of two short strings without a library call (the
/// order of `<[u8]>::cmp`).
#[inline]
fn cmp_short(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

/// The index of the `close` matching an `open` just before `i`, looking
/// at most `max` bytes ahead (nesting counted, no quote handling).
pub fn close_within(w: &[u8], i: usize, open: u8, close: u8, max: usize) -> Option<usize> {
    let hi = w.len().min(i.saturating_add(max));
    let mut d = 1usize;
    let mut j = i;
    while j < hi {
        let c = w[j];
        if c == close {
            d -= 1;
            if d == 0 {
                return Some(j);
            }
        } else if c == open {
            d += 1;
        }
        j += 1;
    }
    None
}

/// A fixed-capacity byte string (no allocation).
#[derive(Clone, Copy)]
pub struct Small<const N: usize> {
    buf: [u8; N],
    len: usize,
    /// Bytes were dropped because the buffer was full.
    pub truncated: bool,
}

impl<const N: usize> std::fmt::Debug for Small<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

impl<const N: usize> Default for Small<N> {
    fn default() -> Self {
        Small {
            buf: [0; N],
            len: 0,
            truncated: false,
        }
    }
}

impl<const N: usize> Small<N> {
    #[inline]
    pub fn push(&mut self, b: u8) {
        if self.len < N {
            self.buf[self.len] = b;
            self.len += 1;
        } else {
            self.truncated = true;
        }
    }
    pub fn extend(&mut self, s: &[u8]) {
        let n = s.len().min(N - self.len.min(N));
        self.buf[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
        if n < s.len() {
            self.truncated = true;
        }
    }
    /// Appends `s` lower-cased (ASCII).
    pub fn extend_lower(&mut self, s: &[u8]) {
        let n = s.len().min(N - self.len.min(N));
        for (d, &c) in self.buf[self.len..self.len + n].iter_mut().zip(s) {
            *d = c.to_ascii_lowercase();
        }
        self.len += n;
        if n < s.len() {
            self.truncated = true;
        }
    }
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn clear(&mut self) {
        self.len = 0;
        self.truncated = false;
    }
    pub fn last(&self) -> Option<u8> {
        self.len.checked_sub(1).map(|i| self.buf[i])
    }
    pub fn truncate(&mut self, n: usize) {
        self.len = self.len.min(n);
    }
}

/// Shell-style glob match (`?`, `*`, `[set]`, `[!set]`, ranges) of a
/// pattern against a string, both short. The classic single-backtrack
/// algorithm: O(len(p) * len(s)).
pub fn glob_match(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                b'?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                b'[' => {
                    if let Some((ok, next)) = class_match(p, pi, s[si]) {
                        if ok {
                            pi = next;
                            si += 1;
                            continue;
                        }
                    } else if s[si] == b'[' {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
                c if c == s[si] => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// Matches one byte against the bracket expression at `p[i] == '['`:
/// `Some((matched, index after ']'))`, or `None` when unterminated.
fn class_match(p: &[u8], i: usize, c: u8) -> Option<(bool, usize)> {
    let mut j = i + 1;
    let neg = matches!(p.get(j), Some(b'!' | b'^'));
    if neg {
        j += 1;
    }
    let mut ok = false;
    let mut first = true;
    while j < p.len() {
        let a = p[j];
        if a == b']' && !first {
            return Some((ok != neg, j + 1));
        }
        first = false;
        if p.get(j + 1) == Some(&b'-') && p.get(j + 2).is_some_and(|&z| z != b']') {
            let z = p[j + 2];
            if a <= c && c <= z {
                ok = true;
            }
            j += 3;
        } else {
            if a == c {
                ok = true;
            }
            j += 1;
        }
    }
    None
}

/// Counts the words of a text that read like natural language: runs of
/// at least two letters (ASCII or any non-ASCII byte), optionally followed
/// by sentence punctuation, separated by spaces.
pub fn prose_words(b: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let s = i;
        while i < b.len() && b[i] != b' ' {
            i += 1;
        }
        if is_prose_word(&b[s..i]) {
            n += 1;
        }
    }
    n
}

/// True when a text reads as natural language: at least three prose
/// words, and at least half of its space-separated tokens are prose.
pub fn prose_like(b: &[u8]) -> bool {
    let mut tokens = 0;
    let mut prose = 0;
    for t in b.split(|&c| c == b' ' || c == b'\n' || c == b'\t') {
        if t.is_empty() {
            continue;
        }
        tokens += 1;
        if is_prose_word(t) {
            prose += 1;
        }
        if tokens > 4096 {
            break;
        }
    }
    prose >= 3 && prose * 2 >= tokens
}

/// English function words and search-intent words: a command followed
/// by these is being talked about (`uname meaning`, `zsh is the best`).
static FUNCTION_WORDS: &[&str] = &[
    "a",
    "about",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "best",
    "but",
    "by",
    "can",
    "command",
    "commands",
    "could",
    "did",
    "do",
    "does",
    "error",
    "example",
    "examples",
    "failed",
    "fails",
    "for",
    "found",
    "from",
    "gives",
    "guide",
    "has",
    "have",
    "help",
    "how",
    "i",
    "if",
    "in",
    "is",
    "it",
    "its",
    "meaning",
    "my",
    "no",
    "not",
    "of",
    "on",
    "or",
    "our",
    "prints",
    "returns",
    "says",
    "should",
    "shows",
    "so",
    "than",
    "that",
    "the",
    "their",
    "then",
    "this",
    "to",
    "tutorial",
    "tutorials",
    "usage",
    "vs",
    "was",
    "we",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "will",
    "with",
    "works",
    "would",
    "you",
    "your",
];

/// True for an English function word or search-intent word (any case,
/// trailing punctuation ignored).
pub fn is_function_word(w: &[u8]) -> bool {
    let mut end = w.len();
    while end > 0 && b".,!?;:".contains(&w[end - 1]) {
        end -= 1;
    }
    let w = &w[..end];
    if w.is_empty() || w.len() > 10 {
        return false;
    }
    let mut buf = [0u8; 10];
    for (i, &c) in w.iter().enumerate() {
        buf[i] = lc(c);
    }
    static INDEX: std::sync::OnceLock<Index> = std::sync::OnceLock::new();
    INDEX
        .get_or_init(|| Index::new(FUNCTION_WORDS, |f| f))
        .find(FUNCTION_WORDS, &buf[..w.len()], |f| f)
        .is_some()
}

/// A word of natural language: letters (an apostrophe or hyphen inside
/// allowed), then at most two of `.,!?;:)"`, at least two letters.
pub fn is_prose_word(w: &[u8]) -> bool {
    let mut end = w.len();
    let mut k = 0;
    while end > 0 && k < 2 && b".,!?;:)\"".contains(&w[end - 1]) {
        end -= 1;
        k += 1;
    }
    let mut start = 0;
    if start < end && matches!(w[start], b'(' | b'"') {
        start += 1;
    }
    let core = &w[start..end];
    if core.len() < 2 {
        return false;
    }
    let mut letters = 0;
    for (i, &c) in core.iter().enumerate() {
        if c.is_ascii_alphabetic() || c >= 0x80 {
            letters += 1;
        } else if (c == b'\'' || c == b'-') && i > 0 && i + 1 < core.len() {
        } else {
            return false;
        }
    }
    letters >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(b"c?t", b"cat"));
        assert!(glob_match(b"/???/c?t", b"/bin/cat"));
        assert!(glob_match(b"/e*c/pa*wd", b"/etc/passwd"));
        assert!(glob_match(b"pa[s]swd", b"passwd"));
        assert!(glob_match(b"[!q]asswd", b"passwd"));
        assert!(glob_match(b"[m-z]asswd", b"passwd"));
        assert!(!glob_match(b"[!p]asswd", b"passwd"));
        assert!(!glob_match(b"c?t", b"cart"));
        assert!(glob_match(b"*", b""));
        assert!(glob_match(b"[", b"["));
    }

    #[test]
    fn function_words_sorted() {
        for p in FUNCTION_WORDS.windows(2) {
            assert!(p[0] < p[1], "{}", p[1]);
        }
        assert!(is_function_word(b"Meaning"));
        assert!(is_function_word(b"is,"));
        assert!(!is_function_word(b"dump"));
    }

    #[test]
    fn prose() {
        assert_eq!(prose_words(b"zsh is the best!"), 4);
        assert_eq!(prose_words(b"/etc/passwd -la 300"), 0);
        assert!(is_prose_word(b"O'Brien's"));
        assert!(!is_prose_word(b"a"));
    }

    #[test]
    fn hits_keep_the_strongest_per_rule() {
        let mut h = Hits::default();
        h.add("a", 10, 0, 1, "");
        h.add("a", 30, 0, 1, "");
        h.add("a", 20, 0, 1, "");
        for i in 0..20u8 {
            h.add(
                ["b", "c", "d", "e", "f", "g", "h", "i", "j"][usize::from(i % 9)],
                i,
                0,
                0,
                "",
            );
        }
        assert_eq!(h.best(), 30);
        assert!(h.has("a"));
    }
}
