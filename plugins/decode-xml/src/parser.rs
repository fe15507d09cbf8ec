//! The tokenizer's state and main loop: text runs, references, and the
//! bookkeeping shared by the other modules (flags, byte budget).
//!
//! Emission model. The innermost open element is *pending*: not emitted yet,
//! because it is a leaf holding its text unless a child element shows up.
//! Its attributes, and the comments and processing instructions met inside
//! it, wait as [`Item`]s; its text is decoded straight into the tree's
//! buffer as one *run*. The run ends at the element's end tag (the element
//! becomes a leaf valued by the run), or at a child's start tag (it becomes
//! a container, the run a `#text` member). Outer elements are containers on
//! an explicit stack, so nesting costs no call stack.

use rampart_plugin_api::{DecodeError, Emitter, LimitKind, NodeId};

use crate::chars::{self, Ref, CLASS, TEXT, WS};
use crate::flags::{Note, MALFORMED};

/// A byte range of the input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sp(pub usize, pub usize);

/// An element emitted as a container and not closed yet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Open {
    pub name: Sp,
    pub node: NodeId,
}

/// The innermost element, not emitted yet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending {
    pub name: Sp,
    pub parent: NodeId,
}

/// Something to emit when the current run ends.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Item {
    Attr { name: Sp, value: Sp },
    Comment(Sp),
    Pi { target: Sp, data: Sp },
}

/// One decoding of one document: the input, the emitter, and the state of
/// the tokenizer between calls.
#[derive(Debug)]
pub(crate) struct Parser<'i, 'e, 'o> {
    pub s: &'i [u8],
    pub pos: usize,
    pub out: &'e mut Emitter<'o>,
    pub declared: bool,
    pub stack: Vec<Open>,
    pub pending: Option<Pending>,
    pub items: Vec<Item>,
    /// Start of the current text run in the tree's buffer.
    pub run_mark: u32,
    /// The run holds more than whitespace.
    pub run_text: bool,
    /// The first unexpanded entity reference of the run (offsets in the run).
    pub run_ref: Option<(u32, u32)>,
    pub root_seen: bool,
    pub doctype_seen: bool,
    /// The `!entity` container, once created.
    pub entities: Option<NodeId>,
    /// Interned `#text` and `#comment` keys.
    pub keys: [Option<(u32, u32)>; 2],
    /// The document is truncated inside a construct: where, and which.
    pub eof: Option<(usize, &'static str)>,
    /// The XML declaration names an encoding other than UTF-8.
    pub other_encoding: bool,
    /// `xml.malformed` flags so far.
    pub malformed_flags: u8,
    /// Findings held back (speculative mode).
    pub notes: Vec<Note>,
}

impl<'i, 'e, 'o> Parser<'i, 'e, 'o> {
    pub(crate) fn new(s: &'i [u8], pos: usize, out: &'e mut Emitter<'o>, declared: bool) -> Self {
        let run_mark = out.mark();
        Parser {
            s,
            pos,
            out,
            declared,
            stack: Vec::new(),
            pending: None,
            items: Vec::new(),
            run_mark,
            run_text: false,
            run_ref: None,
            root_seen: false,
            doctype_seen: false,
            entities: None,
            keys: [None; 2],
            eof: None,
            other_encoding: false,
            malformed_flags: 0,
            notes: Vec::new(),
        }
    }

    /// Decodes the whole document.
    pub(crate) fn run(&mut self) -> Result<(), DecodeError> {
        while self.pos < self.s.len() {
            self.text()?;
            if self.pos < self.s.len() {
                self.out.tick()?;
                self.markup()?;
            }
        }
        self.finish()
    }

    /// True outside the root element.
    pub(crate) fn top_level(&self) -> bool {
        self.stack.is_empty() && self.pending.is_none()
    }

    /// The node new children of the current run belong to (when no element
    /// is pending).
    pub(crate) fn parent(&self) -> NodeId {
        self.stack.last().map_or(self.out.root(), |o| o.node)
    }

    /// Scans character data up to the next `<`, appending it to the run.
    fn text(&mut self) -> Result<(), DecodeError> {
        let s = self.s;
        let mut pos = self.pos;
        loop {
            let start = pos;
            let mut text = false;
            while let Some(&b) = s.get(pos) {
                let c = CLASS[usize::from(b)];
                if c > WS {
                    break;
                }
                text |= c == TEXT;
                pos += 1;
            }
            self.append(&s[start..pos])?;
            if text {
                self.saw_text()?;
            }
            match s.get(pos) {
                None | Some(b'<') => break,
                Some(b'&') => pos = self.run_reference(pos)?,
                Some(_) => {
                    self.malformed(pos, "control character in text")?;
                    self.append(&s[pos..=pos])?;
                    self.saw_text()?;
                    pos += 1;
                }
            }
        }
        self.pos = pos;
        Ok(())
    }

    /// Notes that the run holds character data other than whitespace.
    pub(crate) fn saw_text(&mut self) -> Result<(), DecodeError> {
        if !self.declared && self.top_level() {
            return Err(DecodeError::NotThisFormat);
        }
        self.run_text = true;
        Ok(())
    }

    /// Decodes the reference at `s[pos]` (looking no further than `lim`)
    /// into the buffer; returns where it ends and what it was.
    pub(crate) fn reference(
        &mut self,
        pos: usize,
        lim: usize,
    ) -> Result<(usize, Ref), DecodeError> {
        self.out.tick()?;
        let s = self.s;
        let (r, end) = chars::reference(&s[..lim], pos);
        match r {
            Ref::Char(c) => {
                let mut tmp = [0u8; 4];
                self.append(c.encode_utf8(&mut tmp).as_bytes())?;
            }
            Ref::Entity => self.append(&s[pos..end])?,
            Ref::BadChar => {
                self.malformed(pos, "character reference to a character XML does not allow")?;
                self.append(&s[pos..end])?;
            }
            Ref::Bare => {
                self.malformed(pos, "'&' that starts no reference")?;
                self.append(b"&")?;
            }
        }
        Ok((end, r))
    }

    /// A reference in a text run: marks the run as text and remembers the
    /// first unexpanded entity.
    fn run_reference(&mut self, pos: usize) -> Result<usize, DecodeError> {
        let before = self.out.mark();
        let (end, r) = self.reference(pos, self.s.len())?;
        match r {
            Ref::Char(' ' | '\t' | '\n' | '\r') => {}
            Ref::Entity => {
                self.saw_text()?;
                if self.run_ref.is_none() {
                    let at = before - self.run_mark;
                    self.run_ref = Some((at, at + (end - pos) as u32));
                }
            }
            _ => self.saw_text()?,
        }
        Ok(end)
    }

    /// Appends decoded bytes to the tree's buffer, within the byte budget.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> Result<(), DecodeError> {
        let left = self.out.bytes_left();
        if bytes.len() <= left {
            self.out.buf().extend_from_slice(bytes);
            return Ok(());
        }
        self.out.buf().extend_from_slice(&bytes[..left]);
        Err(self.out_of_bytes())
    }

    /// The byte budget is spent.
    fn out_of_bytes(&mut self) -> DecodeError {
        self.out.exhaust(LimitKind::Bytes).into()
    }

    /// The document ended: closes the current run and says what is missing.
    fn finish(&mut self) -> Result<(), DecodeError> {
        let unclosed = !self.top_level();
        if !self.declared && (unclosed || self.eof.is_some() || !self.root_seen) {
            return Err(DecodeError::NotThisFormat);
        }
        self.end_run(true)?;
        if let Some((at, msg)) = self.eof {
            return Err(DecodeError::malformed(MALFORMED, msg, at));
        }
        if unclosed {
            let msg = "document ends inside an open element";
            return Err(DecodeError::malformed(MALFORMED, msg, self.s.len()));
        }
        if !self.root_seen {
            return Err(DecodeError::malformed(
                MALFORMED,
                "no root element",
                self.s.len(),
            ));
        }
        Ok(())
    }
}
