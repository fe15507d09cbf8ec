//! The MessagePack wire format: one value head at a time.
//!
//! [`Reader::item`] reads one value, or the head of an array or map (its
//! element count), and never allocates: strings, binaries and extension
//! payloads are borrowed from the input. Every length is checked against
//! the bytes left *before* it is used, so a 5-byte input claiming a 4 GiB
//! string, or an array of 4 billion elements, is refused at once.

use std::borrow::Cow;

/// One decoded value head.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Item<'i> {
    Nil,
    Bool(bool),
    /// Positive fixint and `uint 8/16/32/64`.
    Uint(u64),
    /// Negative fixint and `int 8/16/32/64`.
    Int(i64),
    F32(f32),
    F64(f64),
    Str(&'i [u8]),
    Bin(&'i [u8]),
    /// Extension type and payload.
    Ext(i8, &'i [u8]),
    /// An array head: the number of elements that follow.
    Array(u32),
    /// A map head: the number of key-value pairs that follow.
    Map(u32),
}

/// Why the input is not valid MessagePack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Defect {
    /// Offset of the value that could not be read.
    pub offset: usize,
    pub message: Cow<'static, str>,
}

/// A cursor over the input.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'i> {
    input: &'i [u8],
    pos: usize,
}

impl<'i> Reader<'i> {
    pub(crate) fn new(input: &'i [u8]) -> Reader<'i> {
        Reader { input, pos: 0 }
    }

    /// Offset of the next byte.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn left(&self) -> usize {
        self.input.len() - self.pos
    }

    /// The next `n` bytes of the value at `at`.
    fn take(&mut self, n: u64, what: &'static str, at: usize) -> Result<&'i [u8], Defect> {
        let left = self.left();
        match usize::try_from(n) {
            Ok(n) if n <= left => {
                let s = &self.input[self.pos..self.pos + n];
                self.pos += n;
                Ok(s)
            }
            _ => Err(Defect {
                offset: at,
                message: format!(
                    "truncated: {what} at byte {at} needs {n} more bytes, {left} are left"
                )
                .into(),
            }),
        }
    }

    /// A big-endian unsigned integer of `n` (1, 2, 4 or 8) bytes.
    fn uint(&mut self, n: u64, what: &'static str, at: usize) -> Result<u64, Defect> {
        let b = self.take(n, what, at)?;
        Ok(b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    /// The length of a collection of `count` elements of at least
    /// `min_size` bytes each, refused when they cannot fit in what is left.
    fn count(
        &mut self,
        count: u64,
        min_size: u64,
        what: &'static str,
        at: usize,
    ) -> Result<u32, Defect> {
        let left = self.left() as u64;
        if count.saturating_mul(min_size) > left {
            return Err(Defect {
                offset: at,
                message: format!(
                    "{what} at byte {at} claims {count} entries, but only {left} bytes are left"
                )
                .into(),
            });
        }
        Ok(count as u32)
    }

    /// Reads one value, or the head of an array or map.
    pub(crate) fn item(&mut self) -> Result<Item<'i>, Defect> {
        let at = self.pos;
        let m = self.uint(1, "a value", at)? as u8;
        Ok(match m {
            0x00..=0x7f => Item::Uint(u64::from(m)),
            0x80..=0x8f => Item::Map(self.count(u64::from(m & 0x0f), 2, "a map", at)?),
            0x90..=0x9f => Item::Array(self.count(u64::from(m & 0x0f), 1, "an array", at)?),
            0xa0..=0xbf => Item::Str(self.take(u64::from(m & 0x1f), "a str", at)?),
            0xc0 => Item::Nil,
            0xc1 => {
                return Err(Defect {
                    offset: at,
                    message: "byte 0xc1 at the start of a value is never used in MessagePack"
                        .into(),
                })
            }
            0xc2 => Item::Bool(false),
            0xc3 => Item::Bool(true),
            0xc4..=0xc6 => {
                let n = self.uint(1 << (m - 0xc4), "a bin length", at)?;
                Item::Bin(self.take(n, "a bin", at)?)
            }
            0xc7..=0xc9 => {
                let n = self.uint(1 << (m - 0xc7), "an ext length", at)?;
                let t = self.uint(1, "an ext type", at)? as u8 as i8;
                Item::Ext(t, self.take(n, "an ext", at)?)
            }
            0xca => Item::F32(f32::from_bits(self.uint(4, "a float 32", at)? as u32)),
            0xcb => Item::F64(f64::from_bits(self.uint(8, "a float 64", at)?)),
            0xcc..=0xcf => Item::Uint(self.uint(1 << (m - 0xcc), "a uint", at)?),
            0xd0..=0xd3 => {
                let n = 1u32 << (m - 0xd0);
                let v = self.uint(u64::from(n), "an int", at)?;
                // Sign-extend the n-byte two's complement value.
                let shift = 64 - 8 * n;
                Item::Int(((v << shift) as i64) >> shift)
            }
            0xd4..=0xd8 => {
                let t = self.uint(1, "an ext type", at)? as u8 as i8;
                Item::Ext(t, self.take(1 << (m - 0xd4), "a fixext", at)?)
            }
            0xd9..=0xdb => {
                let n = self.uint(1 << (m - 0xd9), "a str length", at)?;
                Item::Str(self.take(n, "a str", at)?)
            }
            0xdc | 0xdd => {
                let n = self.uint(2 << (m - 0xdc), "an array length", at)?;
                Item::Array(self.count(n, 1, "an array", at)?)
            }
            0xde | 0xdf => {
                let n = self.uint(2 << (m - 0xde), "a map length", at)?;
                Item::Map(self.count(n, 2, "a map", at)?)
            }
            0xe0..=0xff => Item::Int(i64::from(m as i8)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> Result<Item<'_>, Defect> {
        Reader::new(bytes).item()
    }

    #[test]
    fn integers_of_every_width() {
        assert_eq!(one(&[0x7f]), Ok(Item::Uint(127)));
        assert_eq!(one(&[0xe0]), Ok(Item::Int(-32)));
        assert_eq!(one(&[0xff]), Ok(Item::Int(-1)));
        assert_eq!(one(&[0xcc, 0xff]), Ok(Item::Uint(255)));
        assert_eq!(one(&[0xcd, 0x01, 0x00]), Ok(Item::Uint(256)));
        assert_eq!(
            one(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Ok(Item::Uint(u64::MAX))
        );
        assert_eq!(one(&[0xd0, 0x80]), Ok(Item::Int(-128)));
        assert_eq!(one(&[0xd1, 0xff, 0xfe]), Ok(Item::Int(-2)));
        assert_eq!(
            one(&[0xd2, 0x80, 0, 0, 0]),
            Ok(Item::Int(i64::from(i32::MIN)))
        );
        assert_eq!(
            one(&[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Ok(Item::Int(i64::MIN))
        );
        assert_eq!(
            one(&[0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Ok(Item::Int(i64::MAX))
        );
    }

    #[test]
    fn claimed_lengths_are_checked_against_the_input() {
        for bytes in [
            &[0xdd, 0xff, 0xff, 0xff, 0xff][..],
            &[0xdf, 0xff, 0xff, 0xff, 0xff],
            &[0xdb, 0xff, 0xff, 0xff, 0xff],
            &[0xc6, 0xff, 0xff, 0xff, 0xff],
            &[0xc9, 0xff, 0xff, 0xff, 0xff, 0x01],
            &[0x82, 0xc0, 0xc0, 0xc0],
            &[0x93, 0xc0, 0xc0],
        ] {
            let d = one(bytes).unwrap_err();
            assert_eq!(d.offset, 0, "{bytes:02x?}");
        }
        assert_eq!(one(&[0x82, 0xc0, 0xc0, 0xc0, 0xc0]), Ok(Item::Map(2)));
    }
}
