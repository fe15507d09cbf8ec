//! SPOP variable-length integers (HAProxy's "peers" encoding, SPOE.txt 3.1).
//!
//! A value below 240 is one byte. Otherwise the first byte carries the low
//! four bits of the value with its high nibble set (`0xF0 | x`), and each
//! following byte carries seven more bits; a byte with its high bit set says
//! another byte follows. Each step subtracts the marker it set (240, then
//! 128) before shifting, so every value has exactly one encoding length.

use super::error::{DecodeError, Status};

/// The longest encoding of a `u64`: 4 bits in the first byte, then 7 per byte.
pub const MAX_LEN: usize = 10;

/// Appends the encoding of `v` to `out`.
pub fn encode(mut v: u64, out: &mut Vec<u8>) {
    if v < 240 {
        out.push(v as u8);
        return;
    }
    out.push((v as u8) | 0xF0);
    v = (v - 240) >> 4;
    while v >= 128 {
        out.push((v as u8) | 0x80);
        v = (v - 128) >> 7;
    }
    out.push(v as u8);
}

/// The number of bytes `encode(v)` writes.
pub fn encoded_len(v: u64) -> usize {
    if v < 240 {
        return 1;
    }
    let mut n = 2;
    let mut v = (v - 240) >> 4;
    while v >= 128 {
        n += 1;
        v = (v - 128) >> 7;
    }
    n
}

/// Decodes one varint from the front of `buf`: the value and the bytes it
/// took. A truncated varint, one longer than [`MAX_LEN`] or one whose value
/// does not fit in 64 bits is an invalid frame.
pub fn decode(buf: &[u8]) -> Result<(u64, usize), DecodeError> {
    let Some(&first) = buf.first() else {
        return Err(DecodeError::new(Status::Invalid, "truncated varint"));
    };
    if first < 240 {
        return Ok((u64::from(first), 1));
    }
    let mut value = u128::from(first);
    let mut shift = 4u32;
    let mut i = 1;
    loop {
        let Some(&b) = buf.get(i) else {
            return Err(DecodeError::new(Status::Invalid, "truncated varint"));
        };
        i += 1;
        if i > MAX_LEN {
            return Err(DecodeError::new(Status::Invalid, "varint too long"));
        }
        value += u128::from(b) << shift;
        shift += 7;
        if b < 128 {
            break;
        }
    }
    u64::try_from(value)
        .map(|v| (v, i))
        .map_err(|_| DecodeError::new(Status::Invalid, "varint overflows 64 bits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        encode(v, &mut out);
        out
    }

    #[test]
    fn boundaries_have_the_documented_lengths() {
        // SPOE.txt 3.1: 1 byte below 240, 2 below 2288, 3 below 264432,
        // 4 below 33818864, 5 below 4328786160.
        for (v, len) in [
            (0u64, 1usize),
            (239, 1),
            (240, 2),
            (2287, 2),
            (2288, 3),
            (264_431, 3),
            (264_432, 4),
            (33_818_863, 4),
            (33_818_864, 5),
            (4_328_786_159, 5),
            (4_328_786_160, 6),
            (u64::MAX, MAX_LEN),
        ] {
            let e = enc(v);
            assert_eq!(e.len(), len, "length of {v}");
            assert_eq!(encoded_len(v), len, "encoded_len of {v}");
            assert_eq!(decode(&e).unwrap(), (v, len), "round trip of {v}");
        }
    }

    #[test]
    fn known_encodings() {
        assert_eq!(enc(240), [0xF0, 0x00]);
        assert_eq!(enc(2287), [0xFF, 0x7F]);
        assert_eq!(enc(2288), [0xF0, 0x80, 0x00]);
    }

    #[test]
    fn round_trips_many_values() {
        let mut v: u64 = 1;
        while v < u64::MAX / 3 {
            for x in [v - 1, v, v + 1, v * 2 + 7] {
                let e = enc(x);
                assert_eq!(decode(&e).unwrap(), (x, e.len()));
            }
            v = v * 3 + 1;
        }
    }

    #[test]
    fn decode_stops_at_the_varint() {
        let mut e = enc(300);
        e.extend_from_slice(b"rest");
        assert_eq!(decode(&e).unwrap(), (300, 2));
    }

    #[test]
    fn hostile_varints_are_errors() {
        assert!(decode(&[]).is_err());
        assert!(decode(&[0xF0]).is_err());
        assert!(decode(&[0xFF, 0x80, 0x80]).is_err());
        // Eleven bytes: too long.
        let mut long = vec![0xFF];
        long.extend(std::iter::repeat_n(0xFF, 9));
        long.push(0x01);
        assert!(decode(&long).is_err());
        // Ten bytes whose value passes 64 bits.
        let mut big = vec![0xFF];
        big.extend(std::iter::repeat_n(0xFF, 8));
        big.push(0x7F);
        assert!(decode(&big).is_err());
        // Never panics on any two-byte input.
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let _ = decode(&[a, b]);
            }
        }
    }
}
