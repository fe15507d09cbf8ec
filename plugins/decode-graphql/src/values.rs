//! Values, arguments, directives, variable definitions and type
//! references. Nested list and object values use an explicit stack.

use rampart_plugin_api::{DecodeError, Key, LimitKind, NodeId, Span};

use crate::lexer::{Tok, Token};
use crate::parser::Parser;
use crate::strings::{block, unescape, StrInfo};

/// An open list or object value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum VFrame {
    /// A list and the index of its next element.
    List(NodeId, u32),
    Object(NodeId),
}

impl<'i> Parser<'i, '_, '_> {
    /// Writes `prefix` and `name` to the tree's buffer as a key.
    pub(crate) fn key(&mut self, prefix: &[u8], name: &[u8]) -> Result<Key<'static>, DecodeError> {
        let mark = self.out.mark();
        self.push(prefix)?;
        self.push(name)?;
        let (s, e) = self.out.span_from(mark)?;
        Ok(Key::Span(s, e))
    }

    /// Appends bytes to the tree's buffer, within the byte budget.
    fn push(&mut self, bytes: &[u8]) -> Result<(), DecodeError> {
        if bytes.len() > self.out.bytes_left() {
            return Err(DecodeError::Exhausted(LimitKind::Bytes));
        }
        self.out.buf().extend_from_slice(bytes);
        Ok(())
    }

    /// Reports what decoding a string noticed, once per document each.
    fn report(&mut self, node: NodeId, info: StrInfo) {
        if !self.declared {
            return;
        }
        if let (Some((s, e)), false) = (info.bad_escape, self.flagged_escape) {
            self.flagged_escape = true;
            let msg = "invalid escape or lone surrogate in a string";
            self.out
                .flag(node, "graphql.invalid-escape", 20, Span::new(s, e), msg);
        }
        if let (Some(s), false) = (info.bad_utf8, self.flagged_utf8) {
            self.flagged_utf8 = true;
            let msg = "string is not valid UTF-8";
            self.out
                .flag(node, "graphql.invalid-utf8", 20, Span::new(s, s + 1), msg);
        }
    }

    /// Emits a string or block string token, decoded, as a leaf.
    fn string(&mut self, parent: NodeId, key: Key<'_>, t: Token) -> Result<(), DecodeError> {
        let raw = self.lx.text(t);
        let q = if t.kind == Tok::Block { 3 } else { 1 };
        let body = &raw[q..raw.len() - q];
        if body.len() > self.out.bytes_left() {
            return Err(DecodeError::Exhausted(LimitKind::Bytes));
        }
        let mark = self.out.mark();
        let info = if t.kind == Tok::Block {
            block(body, self.out.buf())
        } else {
            match unescape(body, self.out.buf(), !self.declared) {
                Ok(info) => info,
                Err(at) => {
                    self.out.buf().truncate(mark as usize);
                    return Err(self.fail(t.start + q + at, "invalid escape"));
                }
            }
        };
        let span = self.out.span_from(mark)?;
        let node = self.out.leaf_span(parent, key, span)?;
        self.report(node, info);
        Ok(())
    }

    /// Parses one value and emits it under `parent` as `key`: scalars as
    /// leaves (strings decoded, the rest as written, variables as `$name`),
    /// lists and objects as containers. `depth` is the nesting used so far.
    pub(crate) fn value(
        &mut self,
        parent: NodeId,
        key: Key<'i>,
        depth: usize,
    ) -> Result<(), DecodeError> {
        let mut stack = std::mem::take(&mut self.values);
        stack.clear();
        let result = self.value_in(&mut stack, parent, key, depth);
        self.values = stack;
        result
    }

    fn value_in(
        &mut self,
        stack: &mut Vec<VFrame>,
        mut parent: NodeId,
        mut key: Key<'i>,
        depth: usize,
    ) -> Result<(), DecodeError> {
        let max = usize::from(self.out.limits().max_nesting);
        loop {
            self.out.tick()?;
            let t = self.next()?;
            match t.kind {
                Tok::Punct(b'$') => {
                    let name = self.expect(Tok::Name, "expected a variable name")?;
                    let mark = self.out.mark();
                    self.push(b"$")?;
                    self.push(self.lx.text(name))?;
                    let span = self.out.span_from(mark)?;
                    self.out.leaf_span(parent, key, span)?;
                }
                Tok::Int | Tok::Float | Tok::Name => {
                    self.out.leaf(parent, key, self.lx.text(t))?;
                }
                Tok::Str | Tok::Block => self.string(parent, key, t)?,
                Tok::Punct(b @ (b'[' | b'{')) => {
                    if depth + stack.len() >= max {
                        return Err(DecodeError::Exhausted(LimitKind::Nesting));
                    }
                    let node = self.out.container(parent, key, b"")?;
                    stack.push(if b == b'[' {
                        VFrame::List(node, 0)
                    } else {
                        VFrame::Object(node)
                    });
                }
                _ => return Err(self.unexpected(t, "expected a value")),
            }
            // Where the next value goes, closing finished lists and objects.
            loop {
                let Some(top) = stack.last_mut() else {
                    return Ok(());
                };
                match *top {
                    VFrame::List(node, index) => {
                        if self.eat(Tok::Punct(b']'))? {
                            stack.pop();
                            continue;
                        }
                        *top = VFrame::List(node, index.saturating_add(1));
                        (parent, key) = (node, Key::Index(index));
                    }
                    VFrame::Object(node) => {
                        let f = self.next()?;
                        match f.kind {
                            Tok::Punct(b'}') => {
                                stack.pop();
                                continue;
                            }
                            Tok::Name => self.expect(Tok::Punct(b':'), "expected ':'")?,
                            _ => return Err(self.unexpected(f, "expected an object field")),
                        };
                        (parent, key) = (node, Key::Name(self.lx.text(f)));
                    }
                }
                break;
            }
        }
    }

    /// `(name: value, ...)`: each argument a `@name` point under `parent`.
    pub(crate) fn arguments(&mut self, parent: NodeId, depth: usize) -> Result<(), DecodeError> {
        self.expect(Tok::Punct(b'('), "expected '('")?;
        let mut any = false;
        loop {
            let t = self.next()?;
            match t.kind {
                Tok::Punct(b')') if any => return Ok(()),
                Tok::Name => {
                    self.expect(Tok::Punct(b':'), "expected ':'")?;
                    let key = self.key(b"@", self.lx.text(t))?;
                    self.value(parent, key, depth)?;
                    any = true;
                }
                _ => return Err(self.unexpected(t, "expected an argument")),
            }
        }
    }

    /// `@name(args) ...`: each directive a `#name` container under `parent`.
    pub(crate) fn directives(&mut self, parent: NodeId, depth: usize) -> Result<(), DecodeError> {
        while self.eat(Tok::Punct(b'@'))? {
            let name = self.expect(Tok::Name, "expected a directive name")?;
            let key = self.key(b"#", self.lx.text(name))?;
            let node = self.out.container(parent, key, b"")?;
            if self.peek()?.kind == Tok::Punct(b'(') {
                self.arguments(node, depth)?;
            }
        }
        Ok(())
    }

    /// `($name: Type = default @directives, ...)`: each variable a `$name`
    /// leaf under `op` holding the type, its default value as `@default`.
    pub(crate) fn variables(&mut self, op: NodeId) -> Result<(), DecodeError> {
        self.expect(Tok::Punct(b'('), "expected '('")?;
        let mut any = false;
        loop {
            let t = self.next()?;
            match t.kind {
                Tok::Punct(b')') if any => return Ok(()),
                Tok::Punct(b'$') => {}
                _ => return Err(self.unexpected(t, "expected a variable definition")),
            }
            let name = self.expect(Tok::Name, "expected a variable name")?;
            let key = self.key(b"$", self.lx.text(name))?;
            self.expect(Tok::Punct(b':'), "expected ':'")?;
            let ty = self.type_ref()?;
            let var = self.out.leaf_span(op, key, ty)?;
            if self.eat(Tok::Punct(b'='))? {
                self.value(var, Key::Name(b"@default"), 0)?;
            }
            self.directives(var, 0)?;
            any = true;
        }
    }

    /// A type reference (`[Int!]!`), written to the buffer without the
    /// ignored tokens around its parts.
    fn type_ref(&mut self) -> Result<(u32, u32), DecodeError> {
        let max = usize::from(self.out.limits().max_nesting);
        let mark = self.out.mark();
        let mut open = 0usize;
        loop {
            let t = self.next()?;
            match t.kind {
                Tok::Punct(b'[') if open < max => open += 1,
                Tok::Punct(b'[') => return Err(DecodeError::Exhausted(LimitKind::Nesting)),
                Tok::Name => {
                    self.push(self.lx.text(t))?;
                    break;
                }
                _ => return Err(self.unexpected(t, "expected a type")),
            }
            self.push(b"[")?;
        }
        loop {
            if self.eat(Tok::Punct(b'!'))? {
                self.push(b"!")?;
            }
            if open == 0 {
                return Ok(self.out.span_from(mark)?);
            }
            self.expect(Tok::Punct(b']'), "expected ']'")?;
            self.push(b"]")?;
            open -= 1;
        }
    }
}
