//! String values: escapes of `"..."` strings and the block string
//! algorithm of `"""..."""` (October 2021, section 2.9.4). Both decode to
//! at most as many bytes as they were written with.

/// What decoding one string noticed (offsets in the decoded bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct StrInfo {
    /// First invalid escape (kept literally) or lone surrogate (U+FFFD).
    pub bad_escape: Option<(usize, usize)>,
    /// First byte that is not UTF-8.
    pub bad_utf8: Option<usize>,
}

const REPLACEMENT: &[u8] = "\u{fffd}".as_bytes();

fn hex(d: u8) -> Option<u32> {
    char::from(d).to_digit(16)
}

fn hex4(s: &[u8], at: usize) -> Option<u32> {
    let d = s.get(at..at + 4)?;
    d.iter().try_fold(0u32, |v, &c| Some(v << 4 | hex(c)?))
}

/// `\u{H+}` at `at` (pointing at `{`): the code point (saturated) and the
/// length of the escape after `\u`.
fn braced(s: &[u8], at: usize) -> Option<(u32, usize)> {
    if s.get(at) != Some(&b'{') {
        return None;
    }
    let mut v = 0u32;
    let mut i = at + 1;
    while let Some(h) = s.get(i).copied().and_then(hex) {
        v = v.saturating_mul(16).saturating_add(h);
        i += 1;
    }
    (i > at + 1 && s.get(i) == Some(&b'}')).then_some((v, i + 1 - at))
}

fn check_utf8(run: &[u8], at: usize, info: &mut StrInfo) {
    if info.bad_utf8.is_none() && !run.is_ascii() {
        if let Err(e) = std::str::from_utf8(run) {
            info.bad_utf8 = Some(at + e.valid_up_to());
        }
    }
}

/// Unescapes the body of a `"..."` string (quotes excluded), appending to
/// `buf`. `strict` (speculative mode) fails on the first invalid escape or
/// lone surrogate, returning its offset in `body`; otherwise invalid
/// escapes are kept literally, lone surrogates become U+FFFD, and both are
/// reported.
pub(crate) fn unescape(body: &[u8], buf: &mut Vec<u8>, strict: bool) -> Result<StrInfo, usize> {
    let base = buf.len();
    let mut info = StrInfo::default();
    let mut i = 0;
    while i < body.len() {
        let run_end = body[i..]
            .iter()
            .position(|&b| b == b'\\')
            .map_or(body.len(), |p| i + p);
        check_utf8(&body[i..run_end], buf.len() - base, &mut info);
        buf.extend_from_slice(&body[i..run_end]);
        i = run_end;
        let Some(&e) = body.get(i + 1) else {
            if i < body.len() {
                // A lone backslash at the very end (cannot happen after the lexer).
                buf.push(b'\\');
            }
            break;
        };
        let simple = match e {
            b'"' | b'\\' | b'/' => Some(e),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(c) = simple {
            buf.push(c);
            i += 2;
            continue;
        }
        let (at, esc) = (buf.len() - base, i);
        let mut cp = None;
        if e == b'u' {
            if let Some((v, len)) = braced(body, i + 2) {
                cp = Some(v);
                i += 2 + len;
            } else if let Some(v) = hex4(body, i + 2) {
                i += 6;
                cp = Some(v);
                let lo = hex4(body, i + 2).filter(|_| body.get(i..i + 2) == Some(b"\\u"));
                if let Some(lo) =
                    lo.filter(|lo| (0xD800..0xDC00).contains(&v) && (0xDC00..0xE000).contains(lo))
                {
                    cp = Some(0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00));
                    i += 6;
                }
            }
        }
        match cp.map(char::from_u32) {
            Some(Some(ch)) => {
                let mut tmp = [0u8; 4];
                buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
            }
            // A surrogate or a code point beyond U+10FFFF.
            Some(None) => {
                if strict {
                    return Err(esc);
                }
                buf.extend_from_slice(REPLACEMENT);
                info.bad_escape.get_or_insert((at, at + REPLACEMENT.len()));
            }
            // Not an escape GraphQL knows: keep the backslash.
            None => {
                if strict {
                    return Err(esc);
                }
                buf.push(b'\\');
                info.bad_escape.get_or_insert((at, at + 1));
                i += 1;
            }
        }
    }
    Ok(info)
}

/// Lines of a block string: `(start, end)` without the terminator
/// (`\r\n`, `\n` or `\r`).
fn lines(raw: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut pos = Some(0);
    std::iter::from_fn(move || {
        let start = pos?;
        match raw[start..].iter().position(|&b| b == b'\n' || b == b'\r') {
            None => {
                pos = None;
                Some((start, raw.len()))
            }
            Some(p) => {
                let end = start + p;
                let crlf = raw[end] == b'\r' && raw.get(end + 1) == Some(&b'\n');
                pos = Some(end + 1 + usize::from(crlf));
                Some((start, end))
            }
        }
    })
}

fn indent(line: &[u8]) -> usize {
    line.iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count()
}

/// Decodes the body of a block string (between the `"""`s): `\"""`
/// unescaped, common indentation and leading and trailing blank lines
/// removed, lines joined with `\n`.
pub(crate) fn block(raw: &[u8], buf: &mut Vec<u8>) -> StrInfo {
    let base = buf.len();
    let mut info = StrInfo::default();
    let mut common = usize::MAX;
    let (mut first, mut last) = (usize::MAX, 0);
    for (n, (s, e)) in lines(raw).enumerate() {
        let ind = indent(&raw[s..e]);
        if ind < e - s {
            if n > 0 {
                common = common.min(ind);
            }
            first = first.min(n);
            last = n;
        }
    }
    for (n, (s, e)) in lines(raw)
        .enumerate()
        .skip(first)
        .take(last.saturating_sub(first) + 1)
    {
        if n > first {
            buf.push(b'\n');
        }
        let line = &raw[s..e];
        let line = if n > 0 {
            &line[common.min(indent(line))..]
        } else {
            line
        };
        let mut rest = line;
        while let Some(p) = rest.windows(4).position(|w| w == b"\\\"\"\"") {
            buf.extend_from_slice(&rest[..p]);
            buf.extend_from_slice(b"\"\"\"");
            rest = &rest[p + 4..];
        }
        buf.extend_from_slice(rest);
    }
    check_utf8(&buf[base..], 0, &mut info);
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    fn un(s: &str, strict: bool) -> Result<(String, StrInfo), usize> {
        let mut buf = Vec::new();
        let info = unescape(s.as_bytes(), &mut buf, strict)?;
        Ok((String::from_utf8_lossy(&buf).into_owned(), info))
    }

    fn bl(s: &str) -> String {
        let mut buf = Vec::new();
        block(s.as_bytes(), &mut buf);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn escapes() {
        assert_eq!(
            un(r#"a\"\\\/\b\f\n\r\t"#, true).unwrap().0,
            "a\"\\/\u{8}\u{c}\n\r\t"
        );
        assert_eq!(
            un(r"\u00e9\u{1F600}\uD83D\uDE00\u{41}", true).unwrap().0,
            "\u{e9}\u{1f600}\u{1f600}A"
        );
        assert_eq!(un(r"x\q", true), Err(1));
        assert_eq!(un(r"\ud800", true), Err(0));
        assert_eq!(un(r"a\u{110000}", true), Err(1));
        let (v, i) = un(r"a\qb\ud800\u{}", false).unwrap();
        assert_eq!(v, "a\\qb\u{fffd}\\u{}");
        assert_eq!(i.bad_escape, Some((1, 2)));
        let (v, i) = un(r"\uDE00\uD800x", false).unwrap();
        assert_eq!(v, "\u{fffd}\u{fffd}x");
        assert_eq!(i.bad_escape, Some((0, 3)));
    }

    #[test]
    fn block_strings() {
        assert_eq!(
            bl("\n    Hello,\n      World!\n\n    Yours,\n      GraphQL.\n  "),
            "Hello,\n  World!\n\nYours,\n  GraphQL."
        );
        assert_eq!(bl("first\n  second\n  third"), "first\nsecond\nthird");
        assert_eq!(bl("a \\\"\"\" b"), "a \"\"\" b");
        assert_eq!(bl("  \n \t \r\n"), "");
        assert_eq!(bl(""), "");
        assert_eq!(bl("\r\n  x\r  y\r\n"), "x\ny");
        assert_eq!(bl("  lead"), "  lead");
    }
}
