//! SPOP typed data (SPOE.txt 3.1) and a bounds-checked reader over a frame.
//!
//! `TYPED-DATA: <TYPE:4 bits><FLAGS:4 bits><DATA>`: the type is the low
//! nibble of the first byte, the flags the high nibble (a boolean's value is
//! flag bit 0, i.e. `0x10`). Strings and binaries carry a varint length.

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::Bytes;

use super::error::DecodeError;
use super::varint;

pub const TYPE_NULL: u8 = 0;
pub const TYPE_BOOL: u8 = 1;
pub const TYPE_INT32: u8 = 2;
pub const TYPE_UINT32: u8 = 3;
pub const TYPE_INT64: u8 = 4;
pub const TYPE_UINT64: u8 = 5;
pub const TYPE_IPV4: u8 = 6;
pub const TYPE_IPV6: u8 = 7;
pub const TYPE_STRING: u8 = 8;
pub const TYPE_BINARY: u8 = 9;
const FLAG_TRUE: u8 = 0x10;

/// One typed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedData {
    Null,
    Bool(bool),
    Int32(i32),
    Uint32(u32),
    Int64(i64),
    Uint64(u64),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    String(Bytes),
    Binary(Bytes),
}

impl TypedData {
    /// The value as an unsigned integer, whatever integer type carried it
    /// (HAProxy sends every integer sample as INT64); negative values give
    /// `None`.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            TypedData::Int32(v) => u64::try_from(v).ok(),
            TypedData::Uint32(v) => Some(u64::from(v)),
            TypedData::Int64(v) => u64::try_from(v).ok(),
            TypedData::Uint64(v) => Some(v),
            _ => None,
        }
    }

    /// The bytes of a string or a binary.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            TypedData::String(b) | TypedData::Binary(b) => Some(b),
            _ => None,
        }
    }

    /// Appends the encoding of the value to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            TypedData::Null => out.push(TYPE_NULL),
            TypedData::Bool(b) => out.push(TYPE_BOOL | if *b { FLAG_TRUE } else { 0 }),
            // Signed values travel as their two's-complement 64-bit pattern,
            // as HAProxy writes them.
            TypedData::Int32(v) => {
                out.push(TYPE_INT32);
                varint::encode(i64::from(*v) as u64, out);
            }
            TypedData::Uint32(v) => {
                out.push(TYPE_UINT32);
                varint::encode(u64::from(*v), out);
            }
            TypedData::Int64(v) => {
                out.push(TYPE_INT64);
                varint::encode(*v as u64, out);
            }
            TypedData::Uint64(v) => {
                out.push(TYPE_UINT64);
                varint::encode(*v, out);
            }
            TypedData::Ipv4(a) => {
                out.push(TYPE_IPV4);
                out.extend_from_slice(&a.octets());
            }
            TypedData::Ipv6(a) => {
                out.push(TYPE_IPV6);
                out.extend_from_slice(&a.octets());
            }
            TypedData::String(b) => {
                out.push(TYPE_STRING);
                put_bytes(b, out);
            }
            TypedData::Binary(b) => {
                out.push(TYPE_BINARY);
                put_bytes(b, out);
            }
        }
    }
}

/// Appends an untyped string (`<LENGTH:varint><BYTES>`): names of keys,
/// messages, arguments and variables.
pub fn put_bytes(b: &[u8], out: &mut Vec<u8>) {
    varint::encode(b.len() as u64, out);
    out.extend_from_slice(b);
}

/// A cursor over a frame's bytes: every read checks what is left first, so a
/// length larger than the frame is an error and never an allocation.
#[derive(Debug, Clone)]
pub struct Reader {
    buf: Bytes,
}

impl Reader {
    pub fn new(buf: Bytes) -> Reader {
        Reader { buf }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        let Some(&b) = self.buf.first() else {
            return Err(DecodeError::invalid("truncated frame"));
        };
        self.buf = self.buf.slice(1..);
        Ok(b)
    }

    pub fn u32_be(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let (v, n) = varint::decode(&self.buf)?;
        self.buf = self.buf.slice(n..);
        Ok(v)
    }

    /// The next `n` bytes, shared with the frame (no copy).
    pub fn take(&mut self, n: usize) -> Result<Bytes, DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError::invalid("length past the end of the frame"));
        }
        Ok(self.buf.split_to(n))
    }

    /// An untyped string: a varint length and that many bytes.
    pub fn string(&mut self) -> Result<Bytes, DecodeError> {
        let n = self.varint()?;
        let n = usize::try_from(n)
            .map_err(|_| DecodeError::invalid("length past the end of the frame"))?;
        self.take(n)
    }

    /// One typed value.
    pub fn typed(&mut self) -> Result<TypedData, DecodeError> {
        let tag = self.u8()?;
        Ok(match tag & 0x0F {
            TYPE_NULL => TypedData::Null,
            TYPE_BOOL => TypedData::Bool(tag & FLAG_TRUE != 0),
            TYPE_INT32 => {
                let v = self.varint()? as i64;
                TypedData::Int32(
                    i32::try_from(v).map_err(|_| DecodeError::invalid("INT32 out of range"))?,
                )
            }
            TYPE_UINT32 => {
                let v = self.varint()?;
                TypedData::Uint32(
                    u32::try_from(v).map_err(|_| DecodeError::invalid("UINT32 out of range"))?,
                )
            }
            TYPE_INT64 => TypedData::Int64(self.varint()? as i64),
            TYPE_UINT64 => TypedData::Uint64(self.varint()?),
            TYPE_IPV4 => {
                let b = self.take(4)?;
                TypedData::Ipv4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
            }
            TYPE_IPV6 => {
                let b = self.take(16)?;
                let mut o = [0u8; 16];
                o.copy_from_slice(&b);
                TypedData::Ipv6(Ipv6Addr::from(o))
            }
            TYPE_STRING => TypedData::String(self.string()?),
            TYPE_BINARY => TypedData::Binary(self.string()?),
            _ => return Err(DecodeError::invalid("unknown data type")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(v: TypedData) {
        let mut out = Vec::new();
        v.encode(&mut out);
        let mut r = Reader::new(Bytes::from(out));
        assert_eq!(r.typed().unwrap(), v);
        assert!(r.is_empty());
    }

    #[test]
    fn every_type_round_trips() {
        round(TypedData::Null);
        round(TypedData::Bool(true));
        round(TypedData::Bool(false));
        for v in [0, 1, -1, i32::MIN, i32::MAX] {
            round(TypedData::Int32(v));
        }
        for v in [0, 239, 240, u32::MAX] {
            round(TypedData::Uint32(v));
        }
        for v in [0, -1, i64::MIN, i64::MAX] {
            round(TypedData::Int64(v));
        }
        round(TypedData::Uint64(u64::MAX));
        round(TypedData::Ipv4(Ipv4Addr::new(127, 0, 0, 1)));
        round(TypedData::Ipv6(Ipv6Addr::LOCALHOST));
        round(TypedData::String(Bytes::from_static(b"GET")));
        round(TypedData::Binary(Bytes::from(vec![0u8; 70_000])));
        round(TypedData::String(Bytes::new()));
    }

    #[test]
    fn boolean_flag_is_the_high_nibble() {
        let mut out = Vec::new();
        TypedData::Bool(true).encode(&mut out);
        assert_eq!(out, [0x11]);
    }

    #[test]
    fn hostile_typed_data_is_an_error() {
        for bad in [
            &[0x0A][..],               // type 10: reserved
            &[0x0F],                   // type 15
            &[0x08, 0x05, b'a'],       // string longer than the frame
            &[0x09, 0xFF, 0xFF, 0xFF], // truncated length varint
            &[0x06, 127, 0],           // truncated IPv4
            &[0x07, 0, 0, 0],          // truncated IPv6
            &[],
        ] {
            assert!(
                Reader::new(Bytes::copy_from_slice(bad)).typed().is_err(),
                "{bad:?}"
            );
        }
        // UINT32 and INT32 out of their range.
        let mut big = vec![TYPE_UINT32];
        varint::encode(u64::from(u32::MAX) + 1, &mut big);
        assert!(Reader::new(Bytes::from(big)).typed().is_err());
        let mut big = vec![TYPE_INT32];
        varint::encode(i64::from(i32::MIN) as u64 - 1, &mut big);
        assert!(Reader::new(Bytes::from(big)).typed().is_err());
        // A huge declared length (u64::MAX) is an error, not an allocation.
        let mut huge = vec![TYPE_BINARY];
        varint::encode(u64::MAX, &mut huge);
        assert!(Reader::new(Bytes::from(huge)).typed().is_err());
    }
}
