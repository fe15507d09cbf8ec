//! The emitting state machine: an explicit stack of open arrays and maps,
//! one value per step, no recursion.

use std::io::Write;

use rampart_plugin_api::{DecodeError, Emitter, Key, LimitKind, NodeId, Span};

use crate::timestamp;
use crate::wire::{Defect, Item, Reader};

pub(crate) const MALFORMED: &str = "msgpack.malformed";
pub(crate) const COMPLEX_KEY: &str = "msgpack.complex-key";
pub(crate) const INVALID_UTF8: &str = "msgpack.invalid-utf8";

/// The key of a map member, read before its value.
#[derive(Debug, Clone, Copy)]
enum MemberKey<'i> {
    /// A str key, as it is.
    Str(&'i [u8]),
    /// An integer, boolean or nil key, as text.
    Text([u8; 20], u8),
    /// Any other key: the member's position in the map.
    Index(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Array,
    Map,
    /// The inside of an array or map used as a map key: read, not emitted.
    Skip,
}

/// One open array or map.
#[derive(Debug, Clone, Copy)]
struct Frame<'i> {
    /// The container its members are emitted under.
    node: NodeId,
    kind: Kind,
    /// Values left to read: elements of an array; keys and values of a map
    /// (a key is next when the number is even).
    left: u64,
    /// Position of the next element or member.
    index: u32,
    /// The key of the member whose value is next.
    key: MemberKey<'i>,
}

impl<'i> Frame<'i> {
    fn new(node: NodeId, kind: Kind, item: &Item<'i>) -> Frame<'i> {
        let left = match *item {
            Item::Array(n) => u64::from(n),
            Item::Map(n) => 2 * u64::from(n),
            _ => 0,
        };
        Frame {
            node,
            kind,
            left,
            index: 0,
            key: MemberKey::Index(0),
        }
    }
}

/// Decoding of one document.
pub(crate) struct Decoding<'i, 'o, 'e> {
    input: &'i [u8],
    reader: Reader<'i>,
    declared: bool,
    out: &'o mut Emitter<'e>,
    stack: Vec<Frame<'i>>,
    flagged_key: bool,
    flagged_utf8: bool,
}

/// Writes the decimal text of a scalar (not a str, bin or ext).
fn scalar_text(w: &mut impl Write, item: &Item<'_>) {
    // Writing to memory cannot fail.
    let _ = match *item {
        Item::Nil => w.write_all(b"nil"),
        Item::Bool(b) => write!(w, "{b}"),
        Item::Uint(v) => write!(w, "{v}"),
        Item::Int(v) => write!(w, "{v}"),
        // Debug: the shortest text that reads back as the same float, with
        // an exponent for very large and very small magnitudes.
        Item::F32(v) => write!(w, "{v:?}"),
        Item::F64(v) => write!(w, "{v:?}"),
        _ => Ok(()),
    };
}

/// `@ext<type>`: the member name of an extension payload.
fn ext_name(t: i8) -> ([u8; 8], usize) {
    let mut buf = [0u8; 8];
    let mut w = std::io::Cursor::new(&mut buf[..]);
    let _ = write!(w, "@ext{t}");
    let n = w.position() as usize;
    (buf, n)
}

impl<'i, 'o, 'e> Decoding<'i, 'o, 'e> {
    pub(crate) fn new(input: &'i [u8], declared: bool, out: &'o mut Emitter<'e>) -> Self {
        Decoding {
            input,
            reader: Reader::new(input),
            declared,
            out,
            stack: Vec::new(),
            flagged_key: false,
            flagged_utf8: false,
        }
    }

    /// `Malformed` when declared, else `NotThisFormat`.
    fn fail(&self, d: Defect) -> DecodeError {
        if self.declared {
            DecodeError::malformed(MALFORMED, d.message, d.offset)
        } else {
            DecodeError::NotThisFormat
        }
    }

    fn read(&mut self) -> Result<Item<'i>, DecodeError> {
        self.reader.item().map_err(|d| self.fail(d))
    }

    /// Refuses one more open container than `max_nesting` allows (the
    /// top-level one counts).
    fn check_nesting(&mut self) -> Result<(), DecodeError> {
        if self.stack.len() >= usize::from(self.out.limits().max_nesting) {
            return Err(self.out.exhaust(LimitKind::Nesting).into());
        }
        Ok(())
    }

    fn flag(&mut self, node: NodeId, rule: &'static str, score: u8, span: Span, msg: &'static str) {
        if self.declared {
            self.out.flag(node, rule, score, span, msg);
        }
    }

    /// Flags a str that is not UTF-8 (once per document).
    fn check_utf8(&mut self, node: NodeId, s: &[u8]) {
        if self.flagged_utf8 {
            return;
        }
        if let Err(e) = std::str::from_utf8(s) {
            self.flagged_utf8 = true;
            let at = e.valid_up_to();
            let msg = "a str that is not valid UTF-8 (kept as it is)";
            self.flag(node, INVALID_UTF8, 20, Span::new(at, at + 1), msg);
        }
    }

    /// Decodes the document: the top-level value, then every open
    /// container until none is left.
    pub(crate) fn document(mut self) -> Result<(), DecodeError> {
        if self.input.is_empty() {
            return if self.declared {
                Ok(())
            } else {
                Err(DecodeError::NotThisFormat)
            };
        }
        let root = self.out.root();
        let item = self.read()?;
        self.root_value(root, item)?;
        self.run()?;
        let end = self.reader.pos();
        if end < self.input.len() {
            if !self.declared {
                return Err(DecodeError::NotThisFormat);
            }
            let msg = "bytes after the MessagePack value (not decoded here; the raw body \
                       is still inspected)";
            self.out
                .flag(root, MALFORMED, 30, Span::new(end, self.input.len()), msg);
        }
        Ok(())
    }

    /// The top-level value: an array or map is the layer point itself, a
    /// scalar becomes its value.
    fn root_value(&mut self, root: NodeId, item: Item<'i>) -> Result<(), DecodeError> {
        match item {
            Item::Array(_) => {
                self.check_nesting()?;
                self.stack.push(Frame::new(root, Kind::Array, &item));
            }
            Item::Map(_) => {
                self.check_nesting()?;
                self.stack.push(Frame::new(root, Kind::Map, &item));
            }
            Item::Ext(t, data) => match timestamp::parse(t, data) {
                Some((secs, nanos)) => {
                    let mark = self.out.mark();
                    timestamp::write(self.out.buf(), secs, nanos);
                    let span = self.out.span_from(mark)?;
                    self.out.set_root_value(span);
                }
                None => {
                    let (name, n) = ext_name(t);
                    self.out.leaf(root, Key::Name(&name[..n]), data)?;
                }
            },
            Item::Str(s) => {
                self.set_root(s)?;
                self.check_utf8(root, s);
            }
            Item::Bin(b) => self.set_root(b)?,
            scalar => {
                let mark = self.out.mark();
                scalar_text(self.out.buf(), &scalar);
                let span = self.out.span_from(mark)?;
                self.out.set_root_value(span);
            }
        }
        Ok(())
    }

    fn set_root(&mut self, bytes: &[u8]) -> Result<(), DecodeError> {
        if bytes.len() > self.out.bytes_left() {
            return Err(self.out.exhaust(LimitKind::Bytes).into());
        }
        let mark = self.out.mark();
        self.out.buf().extend_from_slice(bytes);
        let span = self.out.span_from(mark)?;
        self.out.set_root_value(span);
        Ok(())
    }

    /// One value per step until every open container is complete.
    fn run(&mut self) -> Result<(), DecodeError> {
        while let Some(top) = self.stack.last_mut() {
            if top.left == 0 {
                self.stack.pop();
                continue;
            }
            let frame = *top;
            top.left -= 1;
            let top_i = self.stack.len() - 1;
            self.out.tick()?;
            let item = self.read()?;
            match frame.kind {
                Kind::Skip => {
                    if matches!(item, Item::Array(_) | Item::Map(_)) {
                        self.check_nesting()?;
                        self.stack.push(Frame::new(frame.node, Kind::Skip, &item));
                    }
                }
                Kind::Map if frame.left % 2 == 0 => {
                    let key = self.member_key(&item, frame.index);
                    self.stack[top_i].key = key;
                    if matches!(key, MemberKey::Index(_)) && !self.flagged_key {
                        self.flagged_key = true;
                        let msg = "a map key that is not a str, integer, boolean or nil: \
                                   its member is named by its position";
                        self.flag(frame.node, COMPLEX_KEY, 10, Span::default(), msg);
                    }
                    if matches!(item, Item::Array(_) | Item::Map(_)) {
                        self.check_nesting()?;
                        self.stack.push(Frame::new(frame.node, Kind::Skip, &item));
                    }
                }
                Kind::Map | Kind::Array => {
                    self.stack[top_i].index = frame.index.saturating_add(1);
                    let text;
                    let key = match (frame.kind, frame.key) {
                        (Kind::Array, _) => Key::Index(frame.index),
                        (_, MemberKey::Str(s)) => Key::Name(s),
                        (_, MemberKey::Text(buf, n)) => {
                            text = buf;
                            Key::Name(&text[..usize::from(n)])
                        }
                        (_, MemberKey::Index(i)) => Key::Index(i),
                    };
                    self.value(frame.node, key, item)?;
                }
            }
        }
        Ok(())
    }

    /// How the member whose key is `item` is named.
    fn member_key(&self, item: &Item<'i>, position: u32) -> MemberKey<'i> {
        match *item {
            Item::Str(s) => MemberKey::Str(s),
            Item::Nil | Item::Bool(_) | Item::Uint(_) | Item::Int(_) => {
                let mut buf = [0u8; 20];
                let mut w = std::io::Cursor::new(&mut buf[..]);
                scalar_text(&mut w, item);
                let n = w.position() as u8;
                MemberKey::Text(buf, n)
            }
            _ => MemberKey::Index(position),
        }
    }

    /// Emits one value under `parent`.
    fn value(&mut self, parent: NodeId, key: Key<'_>, item: Item<'i>) -> Result<(), DecodeError> {
        match item {
            Item::Array(_) | Item::Map(_) => {
                self.check_nesting()?;
                let node = self.out.container(parent, key, b"")?;
                let kind = if matches!(item, Item::Map(_)) {
                    Kind::Map
                } else {
                    Kind::Array
                };
                self.stack.push(Frame::new(node, kind, &item));
            }
            Item::Str(s) => {
                let node = self.out.leaf(parent, key, s)?;
                self.check_utf8(node, s);
            }
            Item::Bin(b) => {
                self.out.leaf(parent, key, b)?;
            }
            Item::Ext(t, data) => match timestamp::parse(t, data) {
                Some((secs, nanos)) => {
                    let mark = self.out.mark();
                    timestamp::write(self.out.buf(), secs, nanos);
                    let span = self.out.span_from(mark)?;
                    self.out.leaf_span(parent, key, span)?;
                }
                None => {
                    let node = self.out.container(parent, key, b"")?;
                    let (name, n) = ext_name(t);
                    self.out.leaf(node, Key::Name(&name[..n]), data)?;
                }
            },
            scalar => {
                // Decoded text goes straight into the tree's buffer.
                let mark = self.out.mark();
                scalar_text(self.out.buf(), &scalar);
                let span = self.out.span_from(mark)?;
                self.out.leaf_span(parent, key, span)?;
            }
        }
        Ok(())
    }
}
