//! HTML character references, decoded the way a browser decodes them in
//! an attribute value: numeric references with any number of leading
//! zeros and an optional `;` (`&#0000106`, `&#x6A`), and the named
//! references that matter for script and URL syntax (`&colon;`,
//! `&lpar;`, `&Tab;`, `&NewLine;`, `&quot;`...). Names are case-sensitive
//! as in HTML; only the legacy five (`amp lt gt quot apos`) and `nbsp`
//! are decoded without their `;`.

/// Decodes the character references of `src` into `out` (cleared first),
/// writing at most `cap` bytes. Returns true if any reference was decoded.
pub fn decode(src: &[u8], out: &mut Vec<u8>, cap: usize) -> bool {
    out.clear();
    let mut any = false;
    let mut i = 0;
    while i < src.len() && out.len() < cap {
        let c = src[i];
        if c == b'&' {
            if let Some((used, ch)) = reference(&src[i + 1..]) {
                push_char(out, ch);
                i += 1 + used;
                any = true;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    any
}

/// Parses one reference after its `&`: bytes used and the character.
pub fn reference(s: &[u8]) -> Option<(usize, u32)> {
    if s.first() == Some(&b'#') {
        let (hex, mut i) = match s.get(1) {
            Some(b'x' | b'X') => (true, 2),
            _ => (false, 1),
        };
        let digits_start = i;
        let mut v: u32 = 0;
        while i < s.len() {
            let d = match s[i] {
                c @ b'0'..=b'9' => u32::from(c - b'0'),
                c @ b'a'..=b'f' if hex => u32::from(c - b'a' + 10),
                c @ b'A'..=b'F' if hex => u32::from(c - b'A' + 10),
                _ => break,
            };
            v = v
                .saturating_mul(if hex { 16 } else { 10 })
                .saturating_add(d);
            i += 1;
        }
        if i == digits_start {
            return None;
        }
        if s.get(i) == Some(&b';') {
            i += 1;
        }
        let ch = match v {
            0 => 0xfffd,
            0xd800..=0xdfff => 0xfffd,
            v if v > 0x10ffff => 0xfffd,
            // Windows-1252 remapping of C1 controls does not matter here.
            v => v,
        };
        return Some((i, ch));
    }
    let n = s
        .iter()
        .take(32)
        .position(|c| !c.is_ascii_alphanumeric())
        .unwrap_or(s.len().min(32));
    if n == 0 {
        return None;
    }
    let name = &s[..n];
    let semi = s.get(n) == Some(&b';');
    if semi {
        if let Ok(k) = NAMED.binary_search_by(|(k, _)| k.as_bytes().cmp(name)) {
            return Some((n + 1, NAMED[k].1));
        }
    }
    // Legacy references without `;`: the longest that prefixes the name.
    for (k, ch) in LEGACY {
        if name.starts_with(k.as_bytes()) {
            return Some((k.len(), *ch));
        }
    }
    None
}

fn push_char(out: &mut Vec<u8>, ch: u32) {
    let c = char::from_u32(ch).unwrap_or('\u{fffd}');
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// Decoded without a `;` too (the longest first where one prefixes another).
const LEGACY: &[(&str, u32)] = &[
    ("amp", 0x26),
    ("AMP", 0x26),
    ("apos", 0x27),
    ("gt", 0x3e),
    ("GT", 0x3e),
    ("lt", 0x3c),
    ("LT", 0x3c),
    ("nbsp", 0xa0),
    ("quot", 0x22),
    ("QUOT", 0x22),
];

/// Named references decoded with a `;`. Sorted by name (byte order).
const NAMED: &[(&str, u32)] = &[
    ("AMP", 0x26),
    ("GT", 0x3e),
    ("LT", 0x3c),
    ("NewLine", 0x0a),
    ("QUOT", 0x22),
    ("Tab", 0x09),
    ("amp", 0x26),
    ("apos", 0x27),
    ("ast", 0x2a),
    ("bsol", 0x5c),
    ("colon", 0x3a),
    ("comma", 0x2c),
    ("commat", 0x40),
    ("dollar", 0x24),
    ("equals", 0x3d),
    ("excl", 0x21),
    ("grave", 0x60),
    ("gt", 0x3e),
    ("hat", 0x5e),
    ("lbrack", 0x5b),
    ("lcub", 0x7b),
    ("lowbar", 0x5f),
    ("lpar", 0x28),
    ("lsqb", 0x5b),
    ("lt", 0x3c),
    ("midast", 0x2a),
    ("nbsp", 0xa0),
    ("num", 0x23),
    ("percnt", 0x25),
    ("period", 0x2e),
    ("plus", 0x2b),
    ("quest", 0x3f),
    ("quot", 0x22),
    ("rbrack", 0x5d),
    ("rcub", 0x7d),
    ("rpar", 0x29),
    ("rsqb", 0x5d),
    ("semi", 0x3b),
    ("sol", 0x2f),
    ("verbar", 0x7c),
    ("vert", 0x7c),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> String {
        let mut out = Vec::new();
        decode(s.as_bytes(), &mut out, 1 << 16);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn tables_sorted() {
        assert!(NAMED
            .windows(2)
            .all(|w| w[0].0.as_bytes() < w[1].0.as_bytes()));
    }

    #[test]
    fn references() {
        assert_eq!(
            d("j&#X41vascript:alert('test')"),
            "jAvascript:alert('test')"
        );
        assert_eq!(
            d("confirm&#0000000040document.domain)"),
            "confirm(document.domain)"
        );
        assert_eq!(
            d("jAvAsCrIpT&colon;alert&lpar;1&rpar;"),
            "jAvAsCrIpT:alert(1)"
        );
        assert_eq!(d("javas&Tab;cript:"), "javas\tcript:");
        assert_eq!(
            d("a &amp b &ampx &foo; &#; &#x;"),
            "a & b &x &foo; &#; &#x;"
        );
        assert_eq!(d("&#0;&#99999999999;"), "\u{fffd}\u{fffd}");
        assert_eq!(d("&quot;&QUOT;&quotx"), "\"\"\"x");
    }
}
