//! Text helpers shared by decoders: percent-decoding with the anomalies a
//! WAF cares about, and UTF-8 checks that see through overlong encodings.

/// What percent-decoding noticed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PctReport {
    /// `%` not followed by two hex digits (kept literally). First offset.
    pub invalid_escape: Option<usize>,
    /// `%uXXXX` escapes (IIS style), decoded. First offset.
    pub u_escape: Option<usize>,
    /// Overlong UTF-8 sequences in the decoded bytes, normalised to the
    /// character they encode. First offset in the output.
    pub overlong: Option<usize>,
    /// A decoded NUL byte. First offset in the output.
    pub nul: Option<usize>,
    /// The decoded bytes are not valid UTF-8 (after overlong repair).
    pub invalid_utf8: bool,
    /// At least one valid `%XX` escape was decoded.
    pub decoded_any: bool,
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `input` into `out` (appending). `plus_as_space` is for
/// form encoding. `%uXXXX` is decoded to UTF-8. Overlong UTF-8 sequences
/// in the result are replaced by the character they encode, so that
/// `%c0%ae%c0%ae/` reads `../` for the detectors.
pub fn percent_decode(input: &[u8], plus_as_space: bool, out: &mut Vec<u8>) -> PctReport {
    let mut rep = PctReport::default();
    let start = out.len();
    out.reserve(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'%' {
            if let (Some(h), Some(l)) = (
                input.get(i + 1).copied().and_then(hex),
                input.get(i + 2).copied().and_then(hex),
            ) {
                out.push(h << 4 | l);
                rep.decoded_any = true;
                i += 3;
                continue;
            }
            if matches!(input.get(i + 1), Some(b'u' | b'U')) {
                let digits = input.get(i + 2..i + 6);
                if let Some(d) = digits {
                    if d.iter().all(|&c| hex(c).is_some()) {
                        let cp = d
                            .iter()
                            .fold(0u32, |a, &c| a << 4 | u32::from(hex(c).unwrap_or(0)));
                        let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                        let mut tmp = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                        rep.u_escape.get_or_insert(i);
                        rep.decoded_any = true;
                        i += 6;
                        continue;
                    }
                }
            }
            rep.invalid_escape.get_or_insert(i);
            out.push(b'%');
            i += 1;
            continue;
        }
        out.push(if plus_as_space && b == b'+' { b' ' } else { b });
        i += 1;
    }
    let (overlong, invalid) = repair_overlong(out, start);
    rep.overlong = overlong;
    rep.invalid_utf8 = invalid;
    rep.nul = out[start..].iter().position(|&b| b == 0);
    rep
}

/// Replaces overlong UTF-8 sequences in `buf[start..]` by the character
/// they encode. Returns the offset (relative to `start`) of the first one,
/// and whether invalid UTF-8 remains.
pub fn repair_overlong(buf: &mut Vec<u8>, start: usize) -> (Option<usize>, bool) {
    let s = &buf[start..];
    if s.is_ascii() {
        return (None, false);
    }
    if std::str::from_utf8(s).is_ok() {
        return (None, false);
    }
    let mut first = None;
    let mut invalid = false;
    let mut fixed = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        // Two-byte overlong: C0/C1 xx encodes an ASCII character.
        if (b == 0xC0 || b == 0xC1) && s.get(i + 1).is_some_and(|&c| c & 0xC0 == 0x80) {
            let c = ((b & 0x1F) << 6) | (s[i + 1] & 0x3F);
            first.get_or_insert(fixed.len());
            fixed.push(c);
            i += 2;
            continue;
        }
        // Three-byte overlong: E0 80..9F xx.
        if b == 0xE0
            && s.get(i + 1).is_some_and(|&c| (0x80..0xA0).contains(&c))
            && s.get(i + 2).is_some_and(|&c| c & 0xC0 == 0x80)
        {
            let cp = (u32::from(s[i + 1] & 0x3F) << 6) | u32::from(s[i + 2] & 0x3F);
            first.get_or_insert(fixed.len());
            let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
            let mut tmp = [0u8; 4];
            fixed.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
            i += 3;
            continue;
        }
        // Four-byte overlong: F0 80..8F xx xx.
        if b == 0xF0
            && s.get(i + 1).is_some_and(|&c| (0x80..0x90).contains(&c))
            && s.get(i + 2).is_some_and(|&c| c & 0xC0 == 0x80)
            && s.get(i + 3).is_some_and(|&c| c & 0xC0 == 0x80)
        {
            let cp = (u32::from(s[i + 1] & 0x3F) << 12)
                | (u32::from(s[i + 2] & 0x3F) << 6)
                | u32::from(s[i + 3] & 0x3F);
            first.get_or_insert(fixed.len());
            let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
            let mut tmp = [0u8; 4];
            fixed.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
            i += 4;
            continue;
        }
        fixed.push(b);
        i += 1;
    }
    if first.is_some() {
        buf.truncate(start);
        buf.extend_from_slice(&fixed);
    }
    if std::str::from_utf8(&buf[start..]).is_err() {
        invalid = true;
    }
    (first, invalid)
}

/// Share of bytes that are printable text (ASCII graphic or space, common
/// whitespace, or part of a valid multi-byte UTF-8 character). 1.0 for an
/// empty input.
pub fn printable_ratio(bytes: &[u8]) -> f32 {
    if bytes.is_empty() {
        return 1.0;
    }
    let mut good = 0usize;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if !c.is_control() || matches!(c, '\n' | '\r' | '\t') {
                good += c.len_utf8();
            }
        }
    }
    good as f32 / bytes.len() as f32
}

/// The media type without parameters, lower-cased: `application/json` for
/// `Application/JSON; charset=utf-8`.
pub fn media_essence(content_type: &[u8]) -> Vec<u8> {
    let end = content_type
        .iter()
        .position(|&b| b == b';')
        .unwrap_or(content_type.len());
    content_type[..end].trim_ascii().to_ascii_lowercase()
}

/// The value of a parameter of a media type or a header with parameters
/// (`boundary` of `multipart/form-data; boundary="x y"`), unquoted.
/// Parameter names compare case-insensitively.
pub fn header_param<'a>(value: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let mut rest = value;
    // Skip the leading token (the media type or disposition type).
    let semi = rest.iter().position(|&b| b == b';')?;
    rest = &rest[semi + 1..];
    loop {
        let r = rest.trim_ascii_start();
        let eq = r.iter().position(|&b| b == b'=' || b == b';')?;
        let (pname, after) = (r[..eq].trim_ascii(), &r[eq..]);
        if after.first() == Some(&b';') {
            rest = &after[1..];
            continue;
        }
        let after = &after[1..];
        let after_ws = after.trim_ascii_start();
        let (val, next) = if after_ws.first() == Some(&b'"') {
            let body = &after_ws[1..];
            let mut i = 0;
            while i < body.len() && body[i] != b'"' {
                if body[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            let end = i.min(body.len());
            let next = body.get(end + 1..).unwrap_or_default();
            (&body[..end], next)
        } else {
            let end = after_ws
                .iter()
                .position(|&b| b == b';')
                .unwrap_or(after_ws.len());
            (after_ws[..end].trim_ascii_end(), &after_ws[end..])
        };
        if pname.eq_ignore_ascii_case(name.as_bytes()) {
            return Some(val);
        }
        let semi = next.iter().position(|&b| b == b';')?;
        rest = &next[semi + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str, plus: bool) -> (Vec<u8>, PctReport) {
        let mut out = Vec::new();
        let r = percent_decode(s.as_bytes(), plus, &mut out);
        (out, r)
    }

    #[test]
    fn percent_decoding_flags_what_matters() {
        assert_eq!(dec("a%20b+c", true).0, b"a b c");
        assert_eq!(dec("a+c", false).0, b"a+c");
        let (o, r) = dec("%zz%4", false);
        assert_eq!(o, b"%zz%4");
        assert_eq!(r.invalid_escape, Some(0));
        let (o, r) = dec("%u003cscript", false);
        assert_eq!(o, b"<script");
        assert_eq!(r.u_escape, Some(0));
        let (o, r) = dec("%c0%ae%c0%ae%c0%af", false);
        assert_eq!(o, b"../");
        assert_eq!(r.overlong, Some(0));
        assert!(!r.invalid_utf8);
        let (o, r) = dec("%2527", false);
        assert_eq!(o, b"%27");
        assert!(r.decoded_any);
        let (_, r) = dec("a%00b%ff", false);
        assert_eq!(r.nul, Some(1));
        assert!(r.invalid_utf8);
    }

    #[test]
    fn media_type_helpers() {
        assert_eq!(
            media_essence(b" Application/JSON ; charset=utf-8"),
            b"application/json"
        );
        let ct = b"multipart/form-data; charset=utf-8; Boundary=\"a b;c\"";
        assert_eq!(header_param(ct, "boundary"), Some(&b"a b;c"[..]));
        assert_eq!(
            header_param(b"form-data; name=x; filename=\"a.txt\"", "filename"),
            Some(&b"a.txt"[..])
        );
        assert_eq!(header_param(b"form-data; name=x", "filename"), None);
        assert_eq!(header_param(b"text/plain", "charset"), None);
    }
}
