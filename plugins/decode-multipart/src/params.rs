//! The `; name=value` parameters of a header value, quoted strings
//! included, with what is odd about each (whitespace in a token, a broken
//! quoted string).

/// One `name=value` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Param<'a> {
    pub name: &'a [u8],
    /// Between the quotes when quoted (escapes still in), else the token.
    pub value: &'a [u8],
    pub quoted: bool,
    /// An unquoted value with whitespace inside.
    pub spaced: bool,
    /// An unterminated quoted string, or bytes after the closing quote.
    pub broken: bool,
}

/// The parameters after the first `;` of a header value.
#[derive(Debug)]
pub(crate) struct Params<'a> {
    rest: &'a [u8],
}

impl<'a> Params<'a> {
    pub fn new(value: &'a [u8]) -> Params<'a> {
        let rest = match value.iter().position(|&b| b == b';') {
            Some(i) => &value[i + 1..],
            None => &[],
        };
        Params { rest }
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        loop {
            let r = self.rest.trim_ascii_start();
            if r.is_empty() {
                return None;
            }
            let stop = r.iter().position(|&b| b == b'=' || b == b';');
            let (name, after) = match stop {
                Some(i) if r[i] == b'=' => (r[..i].trim_ascii(), r[i + 1..].trim_ascii_start()),
                _ => {
                    let i = stop.unwrap_or(r.len());
                    self.rest = r.get(i + 1..).unwrap_or_default();
                    if r[..i].trim_ascii().is_empty() {
                        continue;
                    }
                    let p = Param {
                        name: r[..i].trim_ascii(),
                        value: &[],
                        quoted: false,
                        spaced: false,
                        broken: false,
                    };
                    return Some(p);
                }
            };
            if let Some(body) = after.strip_prefix(b"\"") {
                let mut j = 0;
                while j < body.len() && body[j] != b'"' {
                    if body[j] == b'\\' && matches!(body.get(j + 1), Some(b'"' | b'\\')) {
                        j += 1;
                    }
                    j += 1;
                }
                let tail = body.get(j + 1..).unwrap_or_default();
                let semi = tail.iter().position(|&b| b == b';').unwrap_or(tail.len());
                self.rest = tail.get(semi + 1..).unwrap_or_default();
                let broken = j >= body.len() || !tail[..semi].trim_ascii().is_empty();
                let value = &body[..j.min(body.len())];
                return Some(Param {
                    name,
                    value,
                    quoted: true,
                    spaced: false,
                    broken,
                });
            }
            let semi = after.iter().position(|&b| b == b';').unwrap_or(after.len());
            self.rest = after.get(semi + 1..).unwrap_or_default();
            let value = after[..semi].trim_ascii_end();
            let spaced = value.iter().any(|&b| b == b' ' || b == b'\t');
            return Some(Param {
                name,
                value,
                quoted: false,
                spaced,
                broken: false,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(v: &str) -> Vec<(String, String, bool, bool, bool)> {
        let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        Params::new(v.as_bytes())
            .map(|p| (s(p.name), s(p.value), p.quoted, p.spaced, p.broken))
            .collect()
    }

    #[test]
    fn tokens_quoted_strings_and_oddities() {
        let got = all(r#"form-data; name="a;b" ; x = y z;; flag; q="\"x\\"; bad="open"#);
        let want = [
            ("name", "a;b", true, false, false),
            ("x", "y z", false, true, false),
            ("flag", "", false, false, false),
            ("q", r#"\"x\\"#, true, false, false),
            ("bad", "open", true, false, true),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|w| (w.0.to_string(), w.1.to_string(), w.2, w.3, w.4))
            .collect();
        assert_eq!(got, want);
        assert!(all("form-data").is_empty());
        assert!(all(r#"x; a="b"junk; c=d"#)[0].4);
        assert_eq!(all(r#"x; a="b"junk; c=d"#)[1].1, "d");
    }
}
