//! Content-negotiation headers that conform to a strict subset of their
//! grammar (RFC 9110, section 12.5) hold nothing an injection needs.
//!
//! `Accept`, `Accept-Language`, `Accept-Encoding` and `Accept-Charset` are
//! comma-separated lists of tokens with optional `;name=value` parameters.
//! Here a token is made of ASCII letters, digits and `-`, `+`, `.`, `_`, `*`
//! (RFC 9110 allows more: `!#$%&'^`|~`, which is exactly what attack syntax
//! is made of, so a value using those is not taken as well formed), at most
//! 64 bytes, a media range is `token/token`, a parameter is `token=token`,
//! the whole value at most 1,024 bytes with at most 64 elements and spaces
//! only around `,` and `;`. No quote, bracket, parenthesis, `$`, `%`, `&`,
//! `|`, backtick, backslash, `<`, `>`, `#`, `!`, control byte, `..` or space
//! inside an element can appear, and none of the attack classes' grammars
//! (SQL, shell, HTML and JavaScript, templates, lookups, paths) reads a
//! payload out of such a value: a well-formed value is offered to the
//! protocol and scanner detectors only.

/// The header names whose well-formed values skip attack detection.
pub(crate) fn is_negotiation(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"accept")
        || name.eq_ignore_ascii_case(b"accept-language")
        || name.eq_ignore_ascii_case(b"accept-encoding")
        || name.eq_ignore_ascii_case(b"accept-charset")
}

/// True when `v` is a list of `token[/token]` elements with `;token=token`
/// parameters in the strict subset described above.
pub(crate) fn negotiation_list(v: &[u8]) -> bool {
    const MAX_LEN: usize = 1024;
    const MAX_ELEMENTS: usize = 64;
    if v.is_empty() || v.len() > MAX_LEN || v.windows(2).any(|w| w == b"..") {
        return false;
    }
    let mut elements = 0;
    for element in v.split(|&b| b == b',') {
        elements += 1;
        if elements > MAX_ELEMENTS {
            return false;
        }
        let mut parts = element.split(|&b| b == b';');
        let Some(range) = parts.next() else {
            return false;
        };
        if !media_range(trim(range)) {
            return false;
        }
        for p in parts {
            let Some((name, value)) = split_once(trim(p), b'=') else {
                return false;
            };
            if !token(name) || !token(value) {
                return false;
            }
        }
    }
    true
}

/// `token` or `token/token`.
fn media_range(r: &[u8]) -> bool {
    match split_once(r, b'/') {
        Some((a, b)) => token(a) && token(b),
        None => token(r),
    }
}

fn token(t: &[u8]) -> bool {
    !t.is_empty()
        && t.len() <= 64
        && t.iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.' | b'_' | b'*'))
}

fn trim(s: &[u8]) -> &[u8] {
    let s = match s.iter().position(|&b| b != b' ' && b != b'\t') {
        Some(i) => &s[i..],
        None => return &[],
    };
    let end = s
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    &s[..end]
}

fn split_once(s: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let i = s.iter().position(|&b| b == sep)?;
    Some((&s[..i], &s[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_values_are_well_formed() {
        for v in [
            &b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"[..],
            b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
            b"application/json",
            b"*/*",
            b"en-US,en;q=0.7",
            b"de-CH, de;q=0.9, en;q=0.8, *;q=0.5",
            b"gzip, deflate, br, zstd",
            b"utf-8, iso-8859-1;q=0.5",
        ] {
            assert!(negotiation_list(v), "{}", String::from_utf8_lossy(v));
        }
    }

    #[test]
    fn anything_with_attack_syntax_is_not() {
        for v in [
            &b"text/html' or '1'='1"[..],
            b"en-US,en;q=0.7 union select 1",
            b"en;q=1 or 1=1",
            b"text/html;q=0.9<script>",
            b"../../etc/passwd",
            b"text/..;q=1",
            b"${jndi:ldap://x/a}",
            b"gzip;$(id)",
            b"text/html;q=\"0.9\"",
            b"text/html,",
            b"text/html;q",
            b"a/b/c",
            b"",
            b"text/html%27",
            b"en-US;q=0.7`id`",
            b"*/*;x=a|b",
        ] {
            assert!(!negotiation_list(v), "{}", String::from_utf8_lossy(v));
        }
        let long = "a,".repeat(100) + "a";
        assert!(!negotiation_list(long.as_bytes()));
    }
}
