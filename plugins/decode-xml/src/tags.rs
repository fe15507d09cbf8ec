//! Markup dispatch, start tags with their attributes, and end tags.

use rampart_plugin_api::{DecodeError, LimitKind};

use crate::chars::{is_name_start, is_ws, name_end, skip_ws, starts_with_ci};
use crate::parser::{Item, Open, Parser, Pending, Sp};

/// How far down the stack an end tag that does not match the innermost
/// element is looked for (bounds the work a flood of stray end tags costs).
const END_TAG_SEARCH: usize = 32;

impl Parser<'_, '_, '_> {
    /// Handles the markup starting at `s[pos] == b'<'`.
    pub(crate) fn markup(&mut self) -> Result<(), DecodeError> {
        let rest = &self.s[self.pos..];
        if rest.starts_with(b"</") {
            self.end_tag()
        } else if rest.starts_with(b"<?") {
            self.pi()
        } else if rest.starts_with(b"<!--") {
            self.comment()
        } else if rest.starts_with(b"<![CDATA[") {
            self.cdata()
        } else if starts_with_ci(rest, b"<!DOCTYPE") {
            self.doctype()
        } else if starts_with_ci(rest, b"<!ENTITY") {
            self.stray_entity()
        } else if rest.starts_with(b"<!") {
            self.unknown_declaration()
        } else if rest.get(1).is_some_and(|&b| is_name_start(b)) {
            self.start_tag()
        } else if rest.len() == 1 {
            self.truncated(self.pos, "document ends inside a tag");
            self.pos += 1;
            Ok(())
        } else {
            self.malformed(self.pos, "'<' that starts no markup")?;
            self.append(b"<")?;
            self.saw_text()?;
            self.pos += 1;
            Ok(())
        }
    }

    /// `<name attr="value" ...>` or `<name .../>`.
    fn start_tag(&mut self) -> Result<(), DecodeError> {
        let at = self.pos;
        let name = Sp(at + 1, name_end(self.s, at + 1));
        if self.top_level() {
            if self.root_seen {
                self.malformed(at, "more than one root element")?;
            }
            self.root_seen = true;
        }
        // The enclosing element (if pending) becomes a container now.
        self.end_run(false)?;
        if self.stack.len() >= usize::from(self.out.limits().max_nesting) {
            return Err(DecodeError::Exhausted(LimitKind::Nesting));
        }
        let parent = self.parent();
        self.pending = Some(Pending { name, parent });
        self.pos = name.1;
        if self.attributes()? {
            self.end_run(true)?;
        }
        Ok(())
    }

    /// Reads attributes up to the end of the start tag; true for `/>`.
    /// Recovers from bad syntax (flagged) and from truncation (what was
    /// read is kept).
    fn attributes(&mut self) -> Result<bool, DecodeError> {
        let s = self.s;
        let n = s.len();
        let mut i = self.pos;
        loop {
            let gap = i;
            i = skip_ws(s, i);
            let Some(&b) = s.get(i) else {
                self.truncated(gap, "document ends inside a start tag");
                self.pos = n;
                return Ok(false);
            };
            match b {
                b'>' => {
                    self.pos = i + 1;
                    return Ok(false);
                }
                b'/' if s.get(i + 1) == Some(&b'>') => {
                    self.pos = i + 2;
                    return Ok(true);
                }
                b if is_name_start(b) => {
                    self.out.tick()?;
                    if i == gap {
                        self.malformed(i, "attribute not preceded by whitespace")?;
                    }
                    i = self.attribute(i)?;
                }
                _ => {
                    self.malformed(i, "unexpected character in a start tag")?;
                    i += 1;
                }
            }
        }
    }

    /// One `name="value"` at `s[i]`; returns where it ends.
    fn attribute(&mut self, i: usize) -> Result<usize, DecodeError> {
        let s = self.s;
        let n = s.len();
        let name = Sp(i, name_end(s, i));
        let mut j = skip_ws(s, name.1);
        let value = if s.get(j) == Some(&b'=') {
            j = skip_ws(s, j + 1);
            match s.get(j) {
                None => {
                    self.truncated(j, "document ends inside a start tag");
                    Sp(n, n)
                }
                Some(&q) if q == b'"' || q == b'\'' => {
                    match s[j + 1..].iter().position(|&c| c == q) {
                        Some(k) => {
                            let v = Sp(j + 1, j + 1 + k);
                            j = v.1 + 1;
                            v
                        }
                        None => {
                            self.truncated(j, "document ends inside an attribute value");
                            let v = Sp(j + 1, n);
                            j = n;
                            v
                        }
                    }
                }
                Some(_) => {
                    self.malformed(j, "unquoted attribute value")?;
                    let len = s[j..].iter().position(|&c| is_ws(c) || c == b'>');
                    let v = Sp(j, len.map_or(n, |k| j + k));
                    j = v.1;
                    v
                }
            }
        } else {
            self.malformed(name.1, "attribute without a value")?;
            j = name.1;
            Sp(j, j)
        };
        self.push_item(Item::Attr { name, value })?;
        Ok(j)
    }

    /// Queues an attribute, comment or processing instruction for the end of
    /// the run. More of them than the node budget allows cannot all be
    /// emitted: flushing them now stops the decoding at the node limit
    /// instead of queueing without bound.
    pub(crate) fn push_item(&mut self, item: Item) -> Result<(), DecodeError> {
        if self.items.len() >= self.out.limits().max_nodes as usize {
            self.end_run(false)?;
        }
        self.items.push(item);
        Ok(())
    }

    /// `</name>`: closes the innermost element, or recovers from a mismatch.
    fn end_tag(&mut self) -> Result<(), DecodeError> {
        let s = self.s;
        let at = self.pos;
        let name = Sp(at + 2, name_end(s, at + 2));
        let j = skip_ws(s, name.1);
        match s.get(j) {
            None => {
                self.truncated(at, "document ends inside an end tag");
                self.pos = s.len();
                return Ok(());
            }
            Some(b'>') if name.1 > name.0 => self.pos = j + 1,
            Some(_) => {
                self.malformed(at, "malformed end tag")?;
                self.pos = s[j..]
                    .iter()
                    .position(|&c| c == b'>')
                    .map_or(s.len(), |k| j + k + 1);
                if name.1 == name.0 {
                    return Ok(());
                }
            }
        }
        let name = &s[name.0..name.1];
        let open = |e: Sp| &s[e.0..e.1] == name;
        if let Some(p) = self.pending {
            if open(p.name) {
                return self.end_run(true);
            }
        } else if let Some(top) = self.stack.last() {
            if open(top.name) {
                self.end_run(true)?;
                self.stack.pop();
                return Ok(());
            }
        } else {
            return self.malformed(at, "end tag outside the root element");
        }
        let found = self
            .stack
            .iter()
            .rev()
            .take(END_TAG_SEARCH)
            .position(|o: &Open| open(o.name));
        match found {
            Some(k) => {
                self.malformed(at, "end tag closes elements left open")?;
                self.end_run(true)?;
                // The pending element (if any) was closed by the run's end;
                // with none, the innermost container is `stack[len - 1]`.
                let keep = self.stack.len() - (k + 1);
                self.stack.truncate(keep);
                Ok(())
            }
            None => self.malformed(at, "end tag matches no open element"),
        }
    }
}
