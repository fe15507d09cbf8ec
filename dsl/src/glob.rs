//! Glob patterns for `~`, host scopes and `allow`: `*` matches any run of
//! bytes (also none), `?` exactly one byte, `\` makes the next character
//! literal. Matching is byte-wise and case-sensitive, in O(len × pattern)
//! time at worst, without allocation.

/// A compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    toks: Vec<Tok>,
    source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(u8),
    One,
    Star,
}

impl Glob {
    pub fn new(pattern: &[u8]) -> Glob {
        let mut toks = Vec::with_capacity(pattern.len());
        let mut i = 0;
        while i < pattern.len() {
            match pattern[i] {
                b'\\' if i + 1 < pattern.len() => {
                    toks.push(Tok::Lit(pattern[i + 1]));
                    i += 1;
                }
                b'*' => {
                    if toks.last() != Some(&Tok::Star) {
                        toks.push(Tok::Star);
                    }
                }
                b'?' => toks.push(Tok::One),
                b => toks.push(Tok::Lit(b)),
            }
            i += 1;
        }
        Glob {
            toks,
            source: String::from_utf8_lossy(pattern).into_owned(),
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when the pattern has no `*` or `?`: it matches one text.
    pub fn is_literal(&self) -> bool {
        self.toks.iter().all(|t| matches!(t, Tok::Lit(_)))
    }

    pub fn matches(&self, text: &[u8]) -> bool {
        let (mut t, mut p) = (0usize, 0usize);
        // Position after the last star, and the text position it matched up to.
        let mut back: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.toks.get(p) {
                Some(Tok::Star) => {
                    back = Some((p + 1, t));
                    p += 1;
                    continue;
                }
                Some(Tok::One) => {
                    t += 1;
                    p += 1;
                    continue;
                }
                Some(Tok::Lit(b)) if *b == text[t] => {
                    t += 1;
                    p += 1;
                    continue;
                }
                _ => {}
            }
            match back {
                Some((bp, bt)) => {
                    p = bp;
                    t = bt + 1;
                    back = Some((bp, bt + 1));
                }
                None => return false,
            }
        }
        self.toks[p.min(self.toks.len())..]
            .iter()
            .all(|t| *t == Tok::Star)
    }
}

#[cfg(test)]
mod tests {
    use super::Glob;

    fn m(p: &str, t: &str) -> bool {
        Glob::new(p.as_bytes()).matches(t.as_bytes())
    }

    #[test]
    fn globs() {
        assert!(m("*.php", "index.php"));
        assert!(m("*.php", ".php"));
        assert!(!m("*.php", "index.php5"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("a*b*c", "acb"));
        assert!(m("?x", "ax"));
        assert!(!m("?x", "x"));
        assert!(m("*", ""));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("*.example.com", "api.example.com"));
        assert!(m("**a", "bba"));
        assert!(Glob::new(b"abc").is_literal());
    }
}
