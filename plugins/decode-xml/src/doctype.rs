//! `<!DOCTYPE ...>` and `<!ENTITY ...>`: surfaced and flagged, never
//! expanded and never fetched.
//!
//! The DOCTYPE becomes a `!doctype` leaf holding its raw text; each entity
//! declaration of the internal subset a leaf of the `!entity` container,
//! keyed by the entity's name (`%name` for parameter entities), holding the
//! literal value or the system identifier.

use rampart_plugin_api::{DecodeError, Key, NodeId, Span};

use crate::chars::{find, is_ws, name_end, skip_ws, starts_with_ci};
use crate::parser::{Parser, Sp};

const DOCTYPE: &str = "xml.doctype";
const ENTITY_DECL: &str = "xml.entity-declaration";
const EXTERNAL: &str = "xml.external-entity";

/// What a first pass over a DOCTYPE found.
struct Scan {
    /// After the closing `>` (the end of the input when truncated).
    end: usize,
    complete: bool,
    /// The internal subset, between `[` and `]`.
    subset: Option<Sp>,
    /// The DOCTYPE names an external DTD (`SYSTEM` or `PUBLIC`).
    external: bool,
}

/// After the closing quote of the literal opening at `s[i]`, or the end.
fn skip_quoted(s: &[u8], i: usize, q: u8) -> usize {
    s[i + 1..]
        .iter()
        .position(|&c| c == q)
        .map_or(s.len(), |k| i + 2 + k)
}

/// After the `>` closing the declaration at `s[i]` (quotes respected).
fn decl_end(s: &[u8], mut i: usize) -> Option<usize> {
    i += 2;
    while let Some(&b) = s.get(i) {
        match b {
            b'"' | b'\'' => i = skip_quoted(s, i, b),
            b'>' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The `]` closing the internal subset that starts at `i`, or the end.
fn subset_end(s: &[u8], mut i: usize) -> usize {
    while let Some(&b) = s.get(i) {
        i = match b {
            b']' => return i,
            b'"' | b'\'' => skip_quoted(s, i, b),
            b'<' if s[i..].starts_with(b"<!--") => {
                find(s, i + 4, b"-->").map_or(s.len(), |e| e + 3)
            }
            b'<' if s[i..].starts_with(b"<?") => find(s, i + 2, b"?>").map_or(s.len(), |e| e + 2),
            _ => i + 1,
        };
    }
    s.len()
}

fn scan(s: &[u8], start: usize) -> Scan {
    let head = skip_ws(s, name_end(s, skip_ws(s, start + 9)));
    let external = starts_with_ci(&s[head..], b"SYSTEM") || starts_with_ci(&s[head..], b"PUBLIC");
    let mut subset = None;
    let mut i = start + 9;
    while let Some(&b) = s.get(i) {
        match b {
            b'"' | b'\'' => i = skip_quoted(s, i, b),
            b'[' if subset.is_none() => {
                let e = subset_end(s, i + 1);
                subset = Some(Sp(i + 1, e));
                i = e + 1;
            }
            b'>' => {
                return Scan {
                    end: i + 1,
                    complete: true,
                    subset,
                    external,
                }
            }
            _ => i += 1,
        }
    }
    Scan {
        end: s.len(),
        complete: false,
        subset,
        external,
    }
}

/// A quoted literal at `s[i]`: its content and whether it is closed.
fn literal(s: &[u8], i: usize) -> Option<(Sp, bool)> {
    let q = *s.get(i).filter(|&&q| q == b'"' || q == b'\'')?;
    Some(match s[i + 1..].iter().position(|&c| c == q) {
        Some(k) => (Sp(i + 1, i + 1 + k), true),
        None => (Sp(i + 1, s.len()), false),
    })
}

impl Parser<'_, '_, '_> {
    /// `<!DOCTYPE name [SYSTEM "uri"] [ [internal subset] ]>`.
    pub(crate) fn doctype(&mut self) -> Result<(), DecodeError> {
        let s = self.s;
        let start = self.pos;
        if self.root_seen || !self.top_level() {
            self.malformed(start, "DOCTYPE after the root element")?;
        } else if self.doctype_seen {
            self.malformed(start, "more than one DOCTYPE")?;
        }
        self.doctype_seen = true;
        self.end_run(false)?;
        let d = scan(s, start);
        if !d.complete {
            self.truncated(start, "document ends inside the DOCTYPE");
        }
        self.pos = d.end;
        let root = self.out.root();
        let node = self
            .out
            .leaf(root, Key::Name(b"!doctype"), &s[start..d.end])?;
        let whole = Span::new(0, d.end - start);
        self.note(node, DOCTYPE, 10, whole, "document type declaration");
        if d.external {
            self.note(
                node,
                EXTERNAL,
                60,
                whole,
                "DOCTYPE names an external DTD (never fetched)",
            );
        }
        if let Some(sub) = d.subset {
            self.subset(node, start, sub)?;
        }
        self.start_run();
        Ok(())
    }

    /// The declarations of the internal subset `sub`; `base` is where the
    /// DOCTYPE starts (spans of findings on `node` are relative to it).
    fn subset(&mut self, node: NodeId, base: usize, sub: Sp) -> Result<(), DecodeError> {
        let s = &self.s[..sub.1];
        let mut i = sub.0;
        while let Some(&b) = s.get(i) {
            self.out.tick()?;
            let rest = &s[i..];
            i = if is_ws(b) {
                skip_ws(s, i)
            } else if rest.starts_with(b"<!--") {
                find(s, i + 4, b"-->").map_or(s.len(), |e| e + 3)
            } else if rest.starts_with(b"<?") {
                find(s, i + 2, b"?>").map_or(s.len(), |e| e + 2)
            } else if starts_with_ci(rest, b"<!ENTITY") {
                self.entity(i, sub.1)?
            } else if rest.starts_with(b"<!") {
                decl_end(s, i).unwrap_or(s.len())
            } else if b == b'%'
                && name_end(s, i + 1) > i + 1
                && s.get(name_end(s, i + 1)) == Some(&b';')
            {
                // A parameter-entity reference: the subset pulls in an entity.
                let end = name_end(s, i + 1) + 1;
                self.flag_entity_ref(node, ((i - base) as u32, (end - base) as u32));
                end
            } else {
                self.malformed(i, "unexpected character in the DOCTYPE internal subset")?;
                s[i + 1..]
                    .iter()
                    .position(|&c| c == b'<' || c == b'%')
                    .map_or(s.len(), |k| i + 1 + k)
            };
        }
        Ok(())
    }

    /// `<!ENTITY ...>` at `s[at]` that is not inside a DOCTYPE.
    pub(crate) fn stray_entity(&mut self) -> Result<(), DecodeError> {
        let at = self.pos;
        self.malformed(at, "entity declaration outside a DOCTYPE")?;
        self.end_run(false)?;
        self.pos = self.entity(at, self.s.len())?;
        self.start_run();
        Ok(())
    }

    /// One entity declaration at `s[at]`, looking no further than `lim`;
    /// returns where it ends.
    fn entity(&mut self, at: usize, lim: usize) -> Result<usize, DecodeError> {
        let s = &self.s[..lim];
        let end = match decl_end(s, at) {
            Some(e) => e,
            None => {
                self.truncated(at, "document ends inside an entity declaration");
                lim
            }
        };
        let mut k = skip_ws(s, at + 8);
        let param = k > at + 8 && s.get(k) == Some(&b'%');
        if param {
            k = skip_ws(s, k + 1);
        }
        let name = Sp(k, name_end(s, k));
        if k == at + 8 || name.1 == name.0 {
            self.malformed(at, "entity declaration without a name")?;
            return Ok(end);
        }
        k = skip_ws(s, name.1);
        let rest = &s[k..];
        let external = starts_with_ci(rest, b"SYSTEM") || starts_with_ci(rest, b"PUBLIC");
        let value = if external {
            let first = literal(s, skip_ws(s, k + 6));
            let second = match (starts_with_ci(rest, b"PUBLIC"), first) {
                (true, Some((p, true))) => literal(s, skip_ws(s, p.1 + 1)),
                _ => None,
            };
            second.or(first)
        } else {
            literal(s, k)
        };
        let value = match value {
            Some((v, closed)) => {
                if !closed {
                    self.malformed(v.0, "unterminated literal in an entity declaration")?;
                }
                v
            }
            None => {
                self.malformed(k, "entity declaration without a value")?;
                Sp(k, k)
            }
        };
        let ents = match self.entities {
            Some(e) => e,
            None => {
                let root = self.out.root();
                let e = self.out.container(root, Key::Name(b"!entity"), b"")?;
                self.entities = Some(e);
                e
            }
        };
        let key = if param {
            self.prefixed_key(b'%', name)?
        } else {
            Key::Name(&s[name.0..name.1])
        };
        let leaf = self.out.leaf(ents, key, &s[value.0..value.1])?;
        let whole = Span::new(0, value.1 - value.0);
        self.note(
            leaf,
            ENTITY_DECL,
            20,
            whole,
            "entity declaration (never expanded)",
        );
        if external {
            self.note(
                leaf,
                EXTERNAL,
                60,
                whole,
                "external entity declaration (never fetched)",
            );
        }
        Ok(end)
    }
}
