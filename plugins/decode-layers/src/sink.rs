//! Writing a transforming decoder's output into the tree, inside the budget.

use rampart_plugin_api::{DecodeError, Emitter, LimitKind};

/// How many input bytes a decoder may process between two time checks.
pub(crate) const TICK_EVERY: usize = 1024;

/// The decoded bytes of one layer, appended to the tree's buffer.
///
/// Nothing is ever written past the byte budget: a write that does not fit
/// is cut at the cap and the sink turns *full*; [`Sink::finish`] then makes
/// what fits the layer's value and reports [`LimitKind::Bytes`].
#[derive(Debug)]
pub(crate) struct Sink<'o, 'e> {
    out: &'o mut Emitter<'e>,
    mark: u32,
    /// Buffer length the output must not pass.
    limit: usize,
    full: bool,
}

impl<'o, 'e> Sink<'o, 'e> {
    /// Starts the output at the end of the tree's buffer.
    pub(crate) fn new(out: &'o mut Emitter<'e>) -> Sink<'o, 'e> {
        let mark = out.mark();
        let limit = (mark as usize).saturating_add(out.bytes_left());
        Sink {
            out,
            mark,
            limit,
            full: false,
        }
    }

    /// The emitter, for flags.
    pub(crate) fn out(&mut self) -> &mut Emitter<'e> {
        self.out
    }

    /// Bytes that may still be written.
    pub(crate) fn room(&mut self) -> usize {
        self.limit.saturating_sub(self.out.buf().len())
    }

    /// True once a write was cut at the byte budget.
    pub(crate) fn is_full(&self) -> bool {
        self.full
    }

    /// Marks the output as cut at the budget (a decoder found more to write
    /// after filling the room exactly).
    pub(crate) fn set_full(&mut self) {
        self.full = true;
    }

    /// The bytes written so far.
    pub(crate) fn written(&mut self) -> &[u8] {
        let start = (self.mark as usize).min(self.out.buf().len());
        &self.out.buf()[start..]
    }

    /// Number of bytes written so far.
    pub(crate) fn len(&mut self) -> usize {
        self.out.buf().len().saturating_sub(self.mark as usize)
    }

    /// The tree's buffer, for decoders that append in bulk. They must check
    /// [`Sink::room`] first.
    pub(crate) fn buf(&mut self) -> &mut Vec<u8> {
        self.out.buf()
    }

    /// Reserves room for about `n` more bytes (never more than the budget).
    pub(crate) fn reserve(&mut self, n: usize) {
        let n = n.min(self.room());
        self.out.buf().reserve(n);
    }

    /// Appends one byte; false (and full) when the budget is spent.
    #[inline]
    pub(crate) fn push(&mut self, b: u8) -> bool {
        let buf = self.out.buf();
        if buf.len() >= self.limit {
            self.full = true;
            return false;
        }
        buf.push(b);
        true
    }

    /// Appends bytes, cut at the budget; false (and full) when cut.
    #[inline]
    pub(crate) fn extend(&mut self, bytes: &[u8]) -> bool {
        let room = self.room();
        if bytes.len() <= room {
            self.out.buf().extend_from_slice(bytes);
            return true;
        }
        self.out.buf().extend_from_slice(&bytes[..room]);
        self.full = true;
        false
    }

    /// Appends a character as UTF-8.
    #[inline]
    pub(crate) fn push_char(&mut self, c: char) -> bool {
        let mut tmp = [0u8; 4];
        self.extend(c.encode_utf8(&mut tmp).as_bytes())
    }

    /// Checks the time budget.
    pub(crate) fn tick(&mut self) -> Result<(), DecodeError> {
        Ok(self.out.tick()?)
    }

    /// Makes the output the layer's value and returns `result`, or
    /// [`LimitKind::Bytes`] when the output was cut at the budget.
    pub(crate) fn finish(self, result: Result<(), DecodeError>) -> Result<(), DecodeError> {
        let span = match self.out.span_from(self.mark) {
            Ok(span) => span,
            Err(e) => {
                let end = self.out.mark();
                self.out.set_root_value((self.mark, end));
                return Err(e.into());
            }
        };
        self.out.set_root_value(span);
        if self.full {
            return Err(DecodeError::Exhausted(LimitKind::Bytes));
        }
        result
    }

    /// Ends the output without making it the layer's value: the span
    /// written (for a child point) and whether it was cut at the budget.
    pub(crate) fn close(self) -> Result<((u32, u32), bool), DecodeError> {
        let span = self.out.span_from(self.mark)?;
        Ok((span, self.full))
    }

    /// Drops everything written (a speculative decoding that failed) and
    /// returns [`DecodeError::NotThisFormat`].
    pub(crate) fn reject(self) -> Result<(), DecodeError> {
        let mark = self.mark as usize;
        self.out.buf().truncate(mark);
        Err(DecodeError::NotThisFormat)
    }
}
