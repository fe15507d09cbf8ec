//! The iterative JSON parser: an explicit stack of open containers, one
//! step per token, no recursion.

use rampart_plugin_api::{DecodeError, Emitter, Key, LimitKind, NodeId, Span};

use crate::string::{scan_literal, scan_number, skip_ws, unescape, Scalar, StrError, StrInfo};

const MALFORMED: &str = "json.malformed";
const INVALID_ESCAPE: &str = "json.invalid-escape";
const INVALID_UTF8: &str = "json.invalid-utf8";

/// One open object or array.
#[derive(Debug, Clone, Copy)]
struct Frame {
    node: NodeId,
    obj: bool,
    /// Index of the current element (arrays).
    index: u32,
}

/// What the parser expects next.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// A value, to be emitted under `parent` with `key`.
    Value(NodeId, Key<'static>),
    /// A `,` or the end of the innermost container.
    After,
}

/// Parser state for one document.
pub(crate) struct Parser<'i, 'o, 'e> {
    input: &'i [u8],
    pos: usize,
    declared: bool,
    out: &'o mut Emitter<'e>,
    flagged_escape: bool,
    flagged_utf8: bool,
    /// Defects of the last key, reported on the member once it exists.
    key_info: Option<StrInfo>,
}

impl<'i, 'o, 'e> Parser<'i, 'o, 'e> {
    pub(crate) fn new(
        input: &'i [u8],
        pos: usize,
        declared: bool,
        out: &'o mut Emitter<'e>,
    ) -> Self {
        Parser {
            input,
            pos,
            declared,
            out,
            flagged_escape: false,
            flagged_utf8: false,
            key_info: None,
        }
    }

    /// The error for a defect at `at`: `Malformed` when declared, else
    /// `NotThisFormat`.
    fn fail(&self, at: usize, message: &'static str) -> DecodeError {
        if self.declared {
            DecodeError::malformed(MALFORMED, message, at)
        } else {
            DecodeError::NotThisFormat
        }
    }

    fn eof(&self) -> DecodeError {
        self.fail(self.input.len(), "unexpected end of input")
    }

    /// Reports what a string's decoding noticed, once per document each.
    fn report(&mut self, node: NodeId, info: StrInfo, in_key: bool) {
        if !self.declared {
            return;
        }
        if let (Some((s, e)), false) = (info.bad_escape, self.flagged_escape) {
            self.flagged_escape = true;
            let span = if in_key {
                Span::default()
            } else {
                Span::new(s, e)
            };
            let msg = "invalid escape or lone surrogate in a string";
            self.out.flag(node, INVALID_ESCAPE, 20, span, msg);
        }
        if let (Some(s), false) = (info.bad_utf8, self.flagged_utf8) {
            self.flagged_utf8 = true;
            let span = if in_key {
                Span::default()
            } else {
                Span::new(s, s + 1)
            };
            self.out
                .flag(node, INVALID_UTF8, 20, span, "string is not valid UTF-8");
        }
    }

    /// Decodes the string whose opening quote is at `self.pos` into the
    /// tree's buffer; returns its span.
    fn string(&mut self) -> Result<((u32, u32), StrInfo), DecodeError> {
        let mark = self.out.mark();
        let limit = self.out.bytes_left();
        let (input, strict, check) = (self.input, !self.declared, self.declared);
        let res = unescape(input, self.pos + 1, self.out.buf(), limit, strict, check);
        match res {
            Ok(info) => {
                self.pos = info.end;
                Ok((self.out.span_from(mark)?, info))
            }
            Err(e) => {
                self.out.buf().truncate(mark as usize);
                Err(match e {
                    StrError::Unterminated => self.eof(),
                    StrError::BadEscape(at) => self.fail(at, "invalid escape"),
                    StrError::TooLong => DecodeError::Exhausted(LimitKind::Bytes),
                })
            }
        }
    }

    /// Reads `"key" :` of an object member.
    fn key(&mut self) -> Result<Key<'static>, DecodeError> {
        self.pos = skip_ws(self.input, self.pos);
        match self.input.get(self.pos) {
            Some(b'"') => {}
            Some(_) => return Err(self.fail(self.pos, "expected a member name")),
            None => return Err(self.eof()),
        }
        let ((s, e), info) = self.string()?;
        self.key_info = (info.bad_escape.is_some() || info.bad_utf8.is_some()).then_some(info);
        self.pos = skip_ws(self.input, self.pos);
        match self.input.get(self.pos) {
            Some(b':') => self.pos += 1,
            Some(_) => return Err(self.fail(self.pos, "expected ':'")),
            None => return Err(self.eof()),
        }
        Ok(Key::Span(s, e))
    }

    /// Refuses to open one more container than `max_nesting` allows.
    fn check_nesting(&self, open: usize) -> Result<(), DecodeError> {
        if open >= usize::from(self.out.limits().max_nesting) {
            return Err(DecodeError::Exhausted(LimitKind::Nesting));
        }
        Ok(())
    }

    /// After the opening bracket of `frame`: either it closes at once or
    /// its first value follows.
    fn open(&mut self, stack: &mut Vec<Frame>, frame: Frame) -> Result<Step, DecodeError> {
        self.pos = skip_ws(self.input, self.pos + 1);
        let close = if frame.obj { b'}' } else { b']' };
        if self.input.get(self.pos) == Some(&close) {
            self.pos += 1;
            return Ok(Step::After);
        }
        stack.push(frame);
        if frame.obj {
            Ok(Step::Value(frame.node, self.key()?))
        } else {
            Ok(Step::Value(frame.node, Key::Index(0)))
        }
    }

    /// Scans the scalar at `self.pos`: a string is decoded into the tree's
    /// buffer, a number or literal only delimited.
    fn scalar(&mut self) -> Result<Scalar, DecodeError> {
        let at = self.pos;
        match self.input.get(at) {
            Some(b'"') => {
                let (span, info) = self.string()?;
                Ok(Scalar::Str(span, info))
            }
            Some(b'-' | b'0'..=b'9') => match scan_number(self.input, at) {
                Ok(end) => Ok(Scalar::Raw(at, end)),
                Err(bad) if bad >= self.input.len() => Err(self.eof()),
                Err(bad) => Err(self.fail(bad, "invalid number")),
            },
            Some(_) => match scan_literal(self.input, at) {
                Ok(end) => Ok(Scalar::Raw(at, end)),
                Err(true) => Err(self.eof()),
                Err(false) => Err(self.fail(at, "expected a value")),
            },
            None => Err(self.eof()),
        }
    }

    /// Parses a document whose first byte (at `self.pos`) is `{` or `[`;
    /// returns the offset after it.
    pub(crate) fn document(mut self) -> Result<usize, DecodeError> {
        let root = self.out.root();
        let mut stack: Vec<Frame> = Vec::with_capacity(16);
        let first = Frame {
            node: root,
            obj: self.input[self.pos] == b'{',
            index: 0,
        };
        self.check_nesting(0)?;
        let mut step = self.open(&mut stack, first)?;
        loop {
            self.out.tick()?;
            match step {
                Step::Value(parent, key) => {
                    self.pos = skip_ws(self.input, self.pos);
                    let node = match self.input.get(self.pos) {
                        Some(&b @ (b'{' | b'[')) => {
                            self.check_nesting(stack.len())?;
                            let node = self.out.container(parent, key, b"")?;
                            self.flush_key(node);
                            let frame = Frame {
                                node,
                                obj: b == b'{',
                                index: 0,
                            };
                            step = self.open(&mut stack, frame)?;
                            continue;
                        }
                        _ => match self.scalar()? {
                            Scalar::Str(span, info) => {
                                let node = self.out.leaf_span(parent, key, span)?;
                                self.report(node, info, false);
                                node
                            }
                            Scalar::Raw(s, e) => {
                                self.pos = e;
                                self.out.leaf(parent, key, &self.input[s..e])?
                            }
                        },
                    };
                    self.flush_key(node);
                    step = Step::After;
                }
                Step::After => {
                    self.pos = skip_ws(self.input, self.pos);
                    let Some(top) = stack.last_mut() else {
                        return Ok(self.pos);
                    };
                    let close = if top.obj { b'}' } else { b']' };
                    match self.input.get(self.pos) {
                        Some(b',') => {
                            self.pos += 1;
                            let (node, obj) = (top.node, top.obj);
                            top.index = top.index.saturating_add(1);
                            let key = if obj {
                                self.key()?
                            } else {
                                Key::Index(top.index)
                            };
                            step = Step::Value(node, key);
                        }
                        Some(&b) if b == close => {
                            self.pos += 1;
                            stack.pop();
                        }
                        Some(_) => {
                            return Err(self.fail(self.pos, "expected ',' or a closing bracket"))
                        }
                        None => return Err(self.eof()),
                    }
                }
            }
        }
    }

    /// Reports the pending defects of the last key on its member.
    fn flush_key(&mut self, node: NodeId) {
        if let Some(info) = self.key_info.take() {
            self.report(node, info, true);
        }
    }

    /// Parses a top-level scalar (declared mode) and makes it the value of
    /// the layer point; returns the offset after it.
    pub(crate) fn root_scalar(mut self) -> Result<usize, DecodeError> {
        let root = self.out.root();
        let span = match self.scalar()? {
            Scalar::Str(span, info) => {
                self.report(root, info, false);
                span
            }
            Scalar::Raw(s, e) => {
                self.pos = e;
                if e - s > self.out.bytes_left() {
                    return Err(DecodeError::Exhausted(LimitKind::Bytes));
                }
                let mark = self.out.mark();
                self.out.buf().extend_from_slice(&self.input[s..e]);
                self.out.span_from(mark)?
            }
        };
        self.out.set_root_value(span);
        Ok(self.pos)
    }
}
