//! HAProxy's `req.hdrs_bin`: the request headers in binary form.
//!
//! `*(<str:name><str:value>) <empty string><empty string>`, each string a
//! varint length and its bytes (HAProxy's configuration manual, section
//! 7.3.6). HAProxy gives the header names in lower case.

use rampart_types::Header;

use crate::codec::{DecodeError, Reader};

/// The most headers read from one block (HAProxy itself allows 101 by
/// default, `tune.http.maxhdr`).
pub const MAX_HEADERS: usize = 1024;

/// Decodes a header block. A block without its terminating pair, with a
/// length past its end, with bytes after the terminator or with more than
/// [`MAX_HEADERS`] headers is an error.
pub fn decode(block: bytes::Bytes) -> Result<Vec<Header>, DecodeError> {
    let mut r = Reader::new(block);
    let mut out = Vec::new();
    loop {
        let name = r.string()?;
        let value = r.string()?;
        if name.is_empty() && value.is_empty() {
            break;
        }
        if out.len() == MAX_HEADERS {
            return Err(DecodeError::invalid("too many headers"));
        }
        out.push(Header {
            name: name.to_vec(),
            value: value.to_vec(),
        });
    }
    if !r.is_empty() {
        return Err(DecodeError::invalid(
            "bytes after the end of the header block",
        ));
    }
    Ok(out)
}

/// Encodes a header block as HAProxy does (used by the tests).
pub fn encode(headers: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (n, v) in headers {
        crate::codec::data::put_bytes(n, &mut out);
        crate::codec::data::put_bytes(v, &mut out);
    }
    out.extend_from_slice(&[0, 0]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn round_trip() {
        let long = vec![b'x'; 5000];
        let block = encode(&[
            (b"host", b"example.com"),
            (b"cookie", &long),
            (b"x-empty", b""),
        ]);
        let h = decode(Bytes::from(block)).unwrap();
        assert_eq!(h.len(), 3);
        assert_eq!(h[0].name, b"host");
        assert_eq!(h[0].value, b"example.com");
        assert_eq!(h[1].value.len(), 5000);
        assert!(h[2].value.is_empty());
        assert!(decode(Bytes::from_static(&[0, 0])).unwrap().is_empty());
    }

    #[test]
    fn hostile_blocks_are_errors() {
        let good = encode(&[(b"a", b"b")]);
        for cut in 0..good.len() {
            assert!(
                decode(Bytes::copy_from_slice(&good[..cut])).is_err(),
                "{cut}"
            );
        }
        let mut trailing = good.clone();
        trailing.push(1);
        assert!(decode(Bytes::from(trailing)).is_err());
        // A name length far past the block.
        assert!(decode(Bytes::from_static(&[0xFF, 0xFF, 0x7F, b'a'])).is_err());
        let many: Vec<(&[u8], &[u8])> = vec![(b"a", b"b"); MAX_HEADERS + 1];
        assert!(decode(Bytes::from(encode(&many))).is_err());
    }
}
