//! Ending a text run: emitting the pending element, its attributes, its
//! text (as its value or as `#text`), and the comments and processing
//! instructions queued during the run.

use rampart_plugin_api::{DecodeError, Key, NodeId, Span};

use crate::chars::{Ref, CLASS, CTRL};
use crate::parser::{Item, Open, Parser, Sp};

const TEXT_KEY: usize = 0;
const COMMENT_KEY: usize = 1;
const KEY_NAMES: [&[u8]; 2] = [b"#text", b"#comment"];

impl Parser<'_, '_, '_> {
    /// Starts a new text run at the current end of the tree's buffer.
    pub(crate) fn start_run(&mut self) {
        self.run_mark = self.out.mark();
        self.run_text = false;
        self.run_ref = None;
    }

    /// Ends the current run. `close`: the pending element (if any) is closed
    /// and becomes a leaf; otherwise it becomes an open container.
    pub(crate) fn end_run(&mut self, close: bool) -> Result<(), DecodeError> {
        let mut items = std::mem::take(&mut self.items);
        let r = self.flush(close, &items);
        items.clear();
        self.items = items;
        r?;
        self.start_run();
        Ok(())
    }

    fn flush(&mut self, close: bool, items: &[Item]) -> Result<(), DecodeError> {
        let s = self.s;
        let (node, text) = match self.pending.take() {
            Some(p) if close => {
                let span = self.out.span_from(self.run_mark)?;
                let node = self
                    .out
                    .leaf_span(p.parent, Key::Name(&s[p.name.0..p.name.1]), span)?;
                self.attrs(node, items)?;
                (node, Some(node))
            }
            Some(p) => {
                let span = self.run_span()?;
                let node = self
                    .out
                    .container(p.parent, Key::Name(&s[p.name.0..p.name.1]), b"")?;
                self.stack.push(Open { name: p.name, node });
                self.attrs(node, items)?;
                (node, self.text_leaf(node, span)?)
            }
            None => {
                let node = self.parent();
                let span = self.run_span()?;
                let text = self.text_leaf(node, span)?;
                if let (Some(t), true) = (text, self.stack.is_empty()) {
                    self.flag_malformed(t, Span::default(), "text outside the root element");
                }
                (node, text)
            }
        };
        if let (Some(t), Some(at)) = (text, self.run_ref) {
            self.flag_entity_ref(t, at);
        }
        for item in items {
            match *item {
                Item::Attr { .. } => {}
                Item::Comment(c) => {
                    let key = self.const_key(COMMENT_KEY)?;
                    self.out.leaf(node, key, &s[c.0..c.1])?;
                }
                Item::Pi { target, data } => {
                    let key = self.prefixed_key(b'?', target)?;
                    self.out.leaf(node, key, &s[data.0..data.1])?;
                }
            }
        }
        Ok(())
    }

    /// The run's span when it holds text; a run of whitespace only is
    /// dropped from the buffer.
    fn run_span(&mut self) -> Result<Option<(u32, u32)>, DecodeError> {
        if self.run_text {
            return Ok(Some(self.out.span_from(self.run_mark)?));
        }
        let mark = self.run_mark as usize;
        self.out.buf().truncate(mark);
        Ok(None)
    }

    fn text_leaf(
        &mut self,
        node: NodeId,
        span: Option<(u32, u32)>,
    ) -> Result<Option<NodeId>, DecodeError> {
        let Some(span) = span else { return Ok(None) };
        let key = self.const_key(TEXT_KEY)?;
        Ok(Some(self.out.leaf_span(node, key, span)?))
    }

    /// Emits the `@name` members of an element.
    fn attrs(&mut self, node: NodeId, items: &[Item]) -> Result<(), DecodeError> {
        for item in items {
            if let Item::Attr { name, value } = *item {
                let key = self.prefixed_key(b'@', name)?;
                let mark = self.out.mark();
                let first_ref = self.attr_value(value)?;
                let span = self.out.span_from(mark)?;
                let attr = self.out.leaf_span(node, key, span)?;
                if let Some(at) = first_ref {
                    self.flag_entity_ref(attr, at);
                }
            }
        }
        Ok(())
    }

    /// Decodes an attribute value into the buffer; returns where its first
    /// unexpanded entity reference is.
    fn attr_value(&mut self, v: Sp) -> Result<Option<(u32, u32)>, DecodeError> {
        let s = self.s;
        let mark = self.out.mark();
        let mut first_ref = None;
        let mut i = v.0;
        while i < v.1 {
            let start = i;
            let plain = |&b: &u8| b != b'&' && b != b'<' && CLASS[usize::from(b)] != CTRL;
            i += s[i..v.1].iter().position(|b| !plain(b)).unwrap_or(v.1 - i);
            self.append(&s[start..i])?;
            match s.get(i) {
                Some(b'&') if i < v.1 => {
                    let before = self.out.mark() - mark;
                    let (end, r) = self.reference(i, v.1)?;
                    if r == Ref::Entity && first_ref.is_none() {
                        first_ref = Some((before, self.out.mark() - mark));
                    }
                    i = end;
                }
                Some(&b) if i < v.1 => {
                    let msg = if b == b'<' {
                        "'<' in an attribute value"
                    } else {
                        "control character in an attribute value"
                    };
                    self.malformed(i, msg)?;
                    self.append(&s[i..=i])?;
                    i += 1;
                }
                _ => {}
            }
        }
        Ok(first_ref)
    }

    /// `#text` or `#comment`, written to the buffer once per document.
    fn const_key(&mut self, which: usize) -> Result<Key<'static>, DecodeError> {
        if let Some((a, b)) = self.keys[which] {
            return Ok(Key::Span(a, b));
        }
        let mark = self.out.mark();
        self.append(KEY_NAMES[which])?;
        let span = self.out.span_from(mark)?;
        self.keys[which] = Some(span);
        Ok(Key::Span(span.0, span.1))
    }

    /// A key made of a one-byte prefix and a name from the input (`@id`,
    /// `?xml`, `%param`).
    pub(crate) fn prefixed_key(
        &mut self,
        prefix: u8,
        name: Sp,
    ) -> Result<Key<'static>, DecodeError> {
        let s = self.s;
        let mark = self.out.mark();
        self.append(&[prefix])?;
        self.append(&s[name.0..name.1])?;
        let span = self.out.span_from(mark)?;
        Ok(Key::Span(span.0, span.1))
    }
}
