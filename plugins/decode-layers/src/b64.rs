//! The base64 decoding core shared by the `base64` and `jwt` layers: both
//! alphabets (standard `+/` and URL-safe `-_`), optional padding, optional
//! whitespace, streaming (input may be fed in chunks between time checks).

use crate::sink::Sink;

const INVALID: u8 = 0xFF;
const PAD: u8 = 0xFE;
const SPACE: u8 = 0xFD;

/// `+` or `/` was seen.
pub(crate) const STD: u8 = 1;
/// `-` or `_` was seen.
pub(crate) const URL: u8 = 2;

/// Sextet value of each byte, or `INVALID`, `PAD`, `SPACE`.
static VALUE: [u8; 256] = values();
/// Which alphabet a byte belongs to only (`STD`, `URL`, or 0 for both).
static CLASS: [u8; 256] = classes();

const fn values() -> [u8; 256] {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'-' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'_' as usize] = 63;
    t[b'=' as usize] = PAD;
    t[b' ' as usize] = SPACE;
    t[b'\t' as usize] = SPACE;
    t[b'\r' as usize] = SPACE;
    t[b'\n' as usize] = SPACE;
    t[0x0B] = SPACE;
    t[0x0C] = SPACE;
    t
}

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    t[b'+' as usize] = STD;
    t[b'/' as usize] = STD;
    t[b'-' as usize] = URL;
    t[b'_' as usize] = URL;
    t
}

/// True for the 64 characters of either alphabet (not `=`).
#[inline]
pub(crate) fn is_b64_char(b: u8) -> bool {
    VALUE[b as usize] < 64
}

/// Why decoding stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// A byte that is not base64 (or data after padding), at this offset.
    Invalid(usize),
    /// One character was left over at the end (six bits, not a byte).
    Truncated,
    /// The byte budget is spent.
    Full,
}

/// Decoder state between chunks.
#[derive(Debug, Default)]
pub(crate) struct B64 {
    acc: u32,
    n: u8,
    pad: u8,
    /// `STD | URL` bits of the alphabet-specific characters seen.
    pub(crate) alphabets: u8,
    /// Whitespace was skipped.
    pub(crate) saw_space: bool,
}

impl B64 {
    /// Decodes `chunk`, found at offset `base` of the whole input, into the
    /// sink. Whitespace is skipped when `space` is true, invalid otherwise.
    pub(crate) fn feed(
        &mut self,
        chunk: &[u8],
        base: usize,
        space: bool,
        sink: &mut Sink<'_, '_>,
    ) -> Result<(), Stop> {
        let mut room = sink.room();
        let buf = sink.buf();
        let mut i = 0;
        while i < chunk.len() {
            // Fast path: four characters of the alphabet at a quantum boundary.
            if self.n == 0 && self.pad == 0 && room >= 3 {
                while i + 4 <= chunk.len() && room >= 3 {
                    let (c0, c1, c2, c3) = (chunk[i], chunk[i + 1], chunk[i + 2], chunk[i + 3]);
                    let (a, b, c, d) = (
                        VALUE[c0 as usize],
                        VALUE[c1 as usize],
                        VALUE[c2 as usize],
                        VALUE[c3 as usize],
                    );
                    if (a | b | c | d) & 0xC0 != 0 {
                        break;
                    }
                    self.alphabets |= CLASS[c0 as usize]
                        | CLASS[c1 as usize]
                        | CLASS[c2 as usize]
                        | CLASS[c3 as usize];
                    let v =
                        u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
                    buf.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]);
                    room -= 3;
                    i += 4;
                }
                if i >= chunk.len() {
                    break;
                }
            }
            let ch = chunk[i];
            let v = VALUE[ch as usize];
            if v < 64 {
                if self.pad > 0 {
                    return Err(Stop::Invalid(base + i));
                }
                self.alphabets |= CLASS[ch as usize];
                self.acc = self.acc << 6 | u32::from(v);
                self.n += 1;
                if self.n == 4 {
                    let bytes = [
                        (self.acc >> 16) as u8,
                        (self.acc >> 8) as u8,
                        self.acc as u8,
                    ];
                    if room < 3 {
                        buf.extend_from_slice(&bytes[..room]);
                        return Err(Stop::Full);
                    }
                    buf.extend_from_slice(&bytes);
                    room -= 3;
                    self.acc = 0;
                    self.n = 0;
                }
            } else if v == PAD {
                if self.n < 2 || usize::from(self.pad) >= 4 - usize::from(self.n) {
                    return Err(Stop::Invalid(base + i));
                }
                self.pad += 1;
            } else if v == SPACE && space {
                self.saw_space = true;
            } else {
                return Err(Stop::Invalid(base + i));
            }
            i += 1;
        }
        Ok(())
    }

    /// Ends the input: writes the bytes of a partial last quantum.
    pub(crate) fn finish(&mut self, sink: &mut Sink<'_, '_>) -> Result<(), Stop> {
        let ok = match self.n {
            0 => true,
            1 => return Err(Stop::Truncated),
            2 => sink.push((self.acc >> 4) as u8),
            _ => sink.extend(&[(self.acc >> 10) as u8, (self.acc >> 2) as u8]),
        };
        self.n = 0;
        self.acc = 0;
        if ok {
            Ok(())
        } else {
            Err(Stop::Full)
        }
    }
}
