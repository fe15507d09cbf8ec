//! UTF-16 documents, transcoded to UTF-8 before tokenizing.
//!
//! XML parsers behind a WAF accept UTF-16 (with a byte-order mark, or
//! recognised from `<?` / `<x` in the first four bytes), so a WAF that
//! only reads UTF-8 can be bypassed by re-encoding a payload. Only declared
//! documents are transcoded; the sniff never accepts UTF-16.

use crate::chars::is_name_start;

/// Byte order of a UTF-16 document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    Big,
    Little,
}

/// Recognises a UTF-16 document from its first bytes.
pub(crate) fn detect(s: &[u8]) -> Option<Order> {
    let markup = |b: u8| b == b'?' || b == b'!' || is_name_start(b) && b < 0x80;
    match *s {
        [0xFE, 0xFF, ..] => Some(Order::Big),
        [0xFF, 0xFE, ..] => Some(Order::Little),
        [0, b'<', 0, c, ..] if markup(c) => Some(Order::Big),
        [b'<', 0, c, 0, ..] if markup(c) => Some(Order::Little),
        _ => None,
    }
}

/// The document as UTF-8 (a byte-order mark dropped), and the offset in
/// the output of the first unpaired surrogate or odd trailing byte, which
/// become U+FFFD.
pub(crate) fn transcode(s: &[u8], order: Order) -> (Vec<u8>, Option<usize>) {
    let body = match (order, s) {
        (Order::Big, [0xFE, 0xFF, rest @ ..]) | (Order::Little, [0xFF, 0xFE, rest @ ..]) => rest,
        _ => s,
    };
    let units = body.chunks_exact(2).map(|p| match order {
        Order::Big => u16::from_be_bytes([p[0], p[1]]),
        Order::Little => u16::from_le_bytes([p[0], p[1]]),
    });
    let mut out = Vec::with_capacity(body.len() + body.len() / 2);
    let mut bad = None;
    let mut tmp = [0u8; 4];
    for c in char::decode_utf16(units) {
        let c = c.unwrap_or_else(|_| {
            bad.get_or_insert(out.len());
            char::REPLACEMENT_CHARACTER
        });
        out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
    }
    if body.len() % 2 == 1 {
        bad.get_or_insert(out.len());
        out.extend_from_slice("\u{FFFD}".as_bytes());
    }
    (out, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str, order: Order, bom: bool) -> Vec<u8> {
        let mut v = Vec::new();
        if bom {
            v.extend_from_slice(if order == Order::Big {
                &[0xFE, 0xFF]
            } else {
                &[0xFF, 0xFE]
            });
        }
        for u in s.encode_utf16() {
            v.extend_from_slice(&if order == Order::Big {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        v
    }

    #[test]
    fn detects_and_transcodes_both_orders() {
        for order in [Order::Big, Order::Little] {
            for bom in [true, false] {
                let doc = utf16("<a>é😀</a>", order, bom);
                assert_eq!(detect(&doc), Some(order));
                assert_eq!(
                    transcode(&doc, order),
                    ("<a>é😀</a>".as_bytes().to_vec(), None)
                );
            }
        }
        assert_eq!(detect(b"<a>x</a>"), None);
        assert_eq!(detect(b"<\0"), None);
        let (out, bad) = transcode(&[0xFF, 0xFE, b'a', 0, 0x00, 0xD8, b'b'], Order::Little);
        assert_eq!(out, "a\u{FFFD}\u{FFFD}".as_bytes());
        assert_eq!(bad, Some(1));
    }
}
