//! JSON lexical pieces: string unescaping straight into the tree's buffer,
//! number and literal scanning.

/// What unescaping one string noticed (offsets relative to the start of
/// the decoded bytes).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StrInfo {
    /// Offset just past the closing quote in the input.
    pub end: usize,
    /// Decoded range of the first invalid escape (kept literally) or lone
    /// surrogate (written as U+FFFD).
    pub bad_escape: Option<(usize, usize)>,
    /// Decoded offset of the first byte that is not UTF-8.
    pub bad_utf8: Option<usize>,
}

/// Why a string could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrError {
    /// The input ended before the closing quote.
    Unterminated,
    /// An invalid escape at this input offset (strict mode only).
    BadEscape(usize),
    /// The decoded string would exceed the byte budget.
    TooLong,
}

/// A scanned scalar.
pub(crate) enum Scalar {
    /// A string decoded into the tree's buffer.
    Str((u32, u32), StrInfo),
    /// A number or literal, as written: `input[start..end]`.
    Raw(usize, usize),
}

const REPLACEMENT: &[u8] = "\u{fffd}".as_bytes();

fn hex4(input: &[u8], at: usize) -> Option<u32> {
    let digits = input.get(at..at + 4)?;
    let mut v = 0u32;
    for &d in digits {
        let h = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return None,
        };
        v = v << 4 | u32::from(h);
    }
    Some(v)
}

fn push_char(buf: &mut Vec<u8>, cp: u32) {
    let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
    let mut tmp = [0u8; 4];
    buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
}

/// Unescapes the string whose body starts at `start` (just after the
/// opening quote), appending the decoded bytes to `buf`, at most `limit`
/// of them. On error `buf` may hold a partial string: the caller truncates.
///
/// `strict` (speculative mode) rejects invalid escapes; otherwise they are
/// kept literally and reported in [`StrInfo::bad_escape`]. Lone surrogates
/// become U+FFFD in both modes and are reported. Bytes that are not UTF-8
/// are kept as they are (checked only when `check_utf8`).
pub(crate) fn unescape(
    input: &[u8],
    start: usize,
    buf: &mut Vec<u8>,
    limit: usize,
    strict: bool,
    check_utf8: bool,
) -> Result<StrInfo, StrError> {
    let base = buf.len();
    let mut info = StrInfo::default();
    let mut i = start;
    loop {
        let run_start = i;
        while i < input.len() && input[i] != b'"' && input[i] != b'\\' {
            i += 1;
        }
        let run = &input[run_start..i];
        if buf.len() - base + run.len() > limit {
            return Err(StrError::TooLong);
        }
        if check_utf8 && info.bad_utf8.is_none() && !run.is_ascii() {
            if let Err(e) = std::str::from_utf8(run) {
                info.bad_utf8 = Some(buf.len() - base + e.valid_up_to());
            }
        }
        buf.extend_from_slice(run);
        let Some(&b) = input.get(i) else {
            return Err(StrError::Unterminated);
        };
        if b == b'"' {
            info.end = i + 1;
            return Ok(info);
        }
        // A backslash: every escape decodes to at most 4 bytes.
        if buf.len() - base + 4 > limit {
            return Err(StrError::TooLong);
        }
        let Some(&e) = input.get(i + 1) else {
            return Err(StrError::Unterminated);
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
        let at = buf.len() - base;
        if e == b'u' {
            if let Some(cp) = hex4(input, i + 2) {
                i += 6;
                if !(0xD800..0xE000).contains(&cp) {
                    push_char(buf, cp);
                    continue;
                }
                if cp < 0xDC00 && input.get(i..i + 2) == Some(b"\\u") {
                    if let Some(lo) = hex4(input, i + 2).filter(|lo| (0xDC00..0xE000).contains(lo))
                    {
                        push_char(buf, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
                        i += 6;
                        continue;
                    }
                }
                buf.extend_from_slice(REPLACEMENT);
                info.bad_escape.get_or_insert((at, at + REPLACEMENT.len()));
                continue;
            }
        }
        // An escape JSON does not know: keep the backslash, go on with the
        // next byte as ordinary text.
        if strict {
            return Err(StrError::BadEscape(i));
        }
        buf.push(b'\\');
        info.bad_escape.get_or_insert((at, at + 1));
        i += 1;
    }
}

/// Scans a number starting at `pos`; returns its end, or the offset of the
/// first byte that breaks the JSON number grammar.
pub(crate) fn scan_number(input: &[u8], pos: usize) -> Result<usize, usize> {
    let digit = |i: usize| input.get(i).is_some_and(u8::is_ascii_digit);
    let mut i = pos;
    if input.get(i) == Some(&b'-') {
        i += 1;
    }
    match input.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while digit(i) {
                i += 1;
            }
        }
        _ => return Err(i),
    }
    if input.get(i) == Some(&b'.') {
        i += 1;
        if !digit(i) {
            return Err(i);
        }
        while digit(i) {
            i += 1;
        }
    }
    if matches!(input.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(input.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digit(i) {
            return Err(i);
        }
        while digit(i) {
            i += 1;
        }
    }
    Ok(i)
}

/// The end of the literal `true`, `false` or `null` at `pos`; `Err(true)`
/// when the input ends inside one (`tr`), `Err(false)` when there is none.
pub(crate) fn scan_literal(input: &[u8], pos: usize) -> Result<usize, bool> {
    let rest = &input[pos..];
    let mut truncated = false;
    for lit in [&b"true"[..], b"false", b"null"] {
        if rest.starts_with(lit) {
            return Ok(pos + lit.len());
        }
        truncated |= !rest.is_empty() && lit.starts_with(rest);
    }
    Err(truncated)
}

/// JSON whitespace.
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The first offset at or after `pos` that is not JSON whitespace.
pub(crate) fn skip_ws(input: &[u8], mut pos: usize) -> usize {
    while pos < input.len() && is_ws(input[pos]) {
        pos += 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    fn un(s: &[u8], strict: bool) -> Result<(Vec<u8>, StrInfo), StrError> {
        let mut buf = b"xx".to_vec();
        let info = unescape(s, 1, &mut buf, 1 << 20, strict, true)?;
        Ok((buf[2..].to_vec(), info))
    }

    #[test]
    fn escapes_and_surrogates() {
        let (v, i) = un(br#""a\n\u00e9\ud83d\ude00\/""#, true).unwrap();
        assert_eq!(v, "a\n\u{e9}\u{1f600}/".as_bytes());
        assert!(i.bad_escape.is_none());
        let (v, i) = un(br#""\ud800x""#, true).unwrap();
        assert_eq!(v, "\u{fffd}x".as_bytes());
        assert_eq!(i.bad_escape, Some((0, 3)));
        let (v, i) = un(br#""\udc00\ud800\u0041""#, false).unwrap();
        assert_eq!(v, "\u{fffd}\u{fffd}A".as_bytes());
        assert_eq!(i.bad_escape, Some((0, 3)));
        assert_eq!(un(br#""\q""#, true).unwrap_err(), StrError::BadEscape(1));
        let (v, i) = un(br#""a\q\u12g""#, false).unwrap();
        assert_eq!(v, br"a\q\u12g");
        assert_eq!(i.bad_escape, Some((1, 2)));
        assert_eq!(un(b"\"ab\\", false).unwrap_err(), StrError::Unterminated);
        let (v, i) = un(b"\"a\xffb\"", false).unwrap();
        assert_eq!(v, b"a\xffb");
        assert_eq!(i.bad_utf8, Some(1));
        let mut buf = Vec::new();
        assert_eq!(
            unescape(b"\"abcdef\"", 1, &mut buf, 3, false, true).unwrap_err(),
            StrError::TooLong
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(scan_number(b"-12.5e+3,", 0), Ok(8));
        assert_eq!(scan_number(b"0123", 0), Ok(1));
        assert_eq!(scan_number(b"-", 0), Err(1));
        assert_eq!(scan_number(b"1.", 0), Err(2));
        assert_eq!(scan_number(b"1e", 0), Err(2));
        assert_eq!(scan_literal(b"nulls", 0), Ok(4));
        assert_eq!(scan_literal(b"nul", 0), Err(true));
        assert_eq!(scan_literal(b"nux", 0), Err(false));
    }
}
