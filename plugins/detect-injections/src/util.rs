//! Byte helpers, tree context and the finding reporter shared by the
//! detectors of this crate.

use std::borrow::Cow;

use rampart_plugin_api::types::{Seg, Source};
use rampart_plugin_api::{Class, DetectCtx, Finding, NodeId, Span};

/// Every detector looks at most at the first 64 KiB of a value: attacks
/// that matter sit near the start of the field they target, and the cap
/// bounds the work on megabyte values.
pub(crate) const MAX_SCAN: usize = 64 * 1024;

/// Steps walked up the tree from a point (layers, keys, indexes).
const MAX_WALK: usize = 64;

/// The inspected prefix of a value.
pub(crate) fn head(v: &[u8]) -> &[u8] {
    &v[..v.len().min(MAX_SCAN)]
}

pub(crate) fn lower(b: u8) -> u8 {
    b.to_ascii_lowercase()
}

/// `s[at..]` starts with `pat` (given in lower case), ASCII case ignored.
pub(crate) fn starts_ci(s: &[u8], at: usize, pat: &[u8]) -> bool {
    s.get(at..at + pat.len())
        .is_some_and(|w| w.iter().zip(pat).all(|(a, b)| lower(*a) == *b))
}

/// `a` equals `pat` (given in lower case), ASCII case ignored.
pub(crate) fn eq_ci(a: &[u8], pat: &[u8]) -> bool {
    a.len() == pat.len() && starts_ci(a, 0, pat)
}

/// The first `pat` (lower case) in `s` at or after `from`, case ignored.
/// Patterns are short, so the naive search stays linear in practice.
pub(crate) fn find_ci(s: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
    let first = *pat.first()?;
    let up = first.to_ascii_uppercase();
    let mut i = from;
    while i + pat.len() <= s.len() {
        let off = s[i..=s.len() - pat.len()]
            .iter()
            .position(|&b| b == first || b == up)?;
        let p = i + off;
        if starts_ci(s, p, pat) {
            return Some(p);
        }
        i = p + 1;
    }
    None
}

/// The first `b` in `s` at or after `from`.
pub(crate) fn find_byte(s: &[u8], from: usize, b: u8) -> Option<usize> {
    s.get(from..)?
        .iter()
        .position(|&c| c == b)
        .map(|k| from + k)
}

pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// After the whitespace starting at `i`.
pub(crate) fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while s.get(i).is_some_and(|&b| is_ws(b)) {
        i += 1;
    }
    i
}

/// After the blanks (space, tab) starting at `i`.
pub(crate) fn skip_blank(s: &[u8], mut i: usize) -> usize {
    while matches!(s.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

pub(crate) fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// After the identifier characters starting at `i`.
pub(crate) fn ident_end(s: &[u8], mut i: usize) -> usize {
    while s.get(i).is_some_and(|&b| is_ident(b)) {
        i += 1;
    }
    i
}

/// Binary search of a sorted table of lower-case words, case ignored.
pub(crate) fn in_table(table: &[&str], word: &[u8]) -> bool {
    if word.is_empty() || word.len() > 32 {
        return false;
    }
    let mut buf = [0u8; 32];
    for (d, s) in buf.iter_mut().zip(word) {
        *d = lower(*s);
    }
    let w = &buf[..word.len()];
    table.binary_search_by(|t| t.as_bytes().cmp(w)).is_ok()
}

/// The node of the point, when the context names one of the tree.
fn node_ok(ctx: &DetectCtx<'_>, id: NodeId) -> bool {
    id.index() < ctx.tree.len()
}

/// Calls `f(level, key)` for the keys above the point, its own first
/// (`level` 0 is the point's own key), walking through layers and indexes,
/// up to its source; stops when `f` returns false.
pub(crate) fn keys_up<'t>(ctx: &DetectCtx<'t>, mut f: impl FnMut(usize, &'t [u8]) -> bool) {
    let tree = ctx.tree;
    let mut id = ctx.point;
    let mut level = 0;
    for _ in 0..MAX_WALK {
        if !node_ok(ctx, id) {
            return;
        }
        let node = tree.node(id);
        match node.seg {
            Seg::Key { .. } => {
                if let Some(k) = tree.key(node.seg) {
                    if !f(level, k) {
                        return;
                    }
                }
                level += 1;
            }
            Seg::Root | Seg::Source(_) => return,
            Seg::Index(_) | Seg::Layer(_) => {}
        }
        match node.parent() {
            Some(p) => id = p,
            None => return,
        }
    }
}

/// How many keys lie between the point and the nearest `layer` layer above
/// it (`None` when it is not under one). Those keys are written in that
/// layer's language: under `:graphql`, `$x` is a variable, not an operator.
pub(crate) fn keys_below_layer(ctx: &DetectCtx<'_>, layer: &str) -> Option<usize> {
    let tree = ctx.tree;
    let mut id = ctx.point;
    let mut keys = 0;
    for _ in 0..MAX_WALK {
        if !node_ok(ctx, id) {
            return None;
        }
        let node = tree.node(id);
        match node.seg {
            Seg::Key { .. } => keys += 1,
            Seg::Layer(l) if l == layer => return Some(keys),
            Seg::Root | Seg::Source(_) => return None,
            _ => {}
        }
        id = node.parent()?;
    }
    None
}

/// Whether the point's value was decoded as `layer` (it has that layer
/// below it): its text is written in that language.
pub(crate) fn decoded_as(ctx: &DetectCtx<'_>, layer: &str) -> bool {
    node_ok(ctx, ctx.point) && ctx.tree.layer_child(ctx.point, layer).is_some()
}

/// The point's own key, through layers (`query.q:base64` is keyed `q`).
pub(crate) fn own_key<'t>(ctx: &DetectCtx<'t>) -> Option<&'t [u8]> {
    let tree = ctx.tree;
    let mut id = ctx.point;
    for _ in 0..MAX_WALK {
        if !node_ok(ctx, id) {
            return None;
        }
        let node = tree.node(id);
        match node.seg {
            Seg::Key { .. } => return tree.key(node.seg),
            Seg::Layer(_) => id = node.parent()?,
            _ => return None,
        }
    }
    None
}

/// The point is a decoding layer of another value (`query.q:base64`): what
/// its key says was already reported at the value itself.
pub(crate) fn is_layer(ctx: &DetectCtx<'_>) -> bool {
    node_ok(ctx, ctx.point) && matches!(ctx.tree.node(ctx.point).seg, Seg::Layer(_))
}

/// The node of the point's own key (see [`own_key`]) and its parent.
pub(crate) fn own_key_node(ctx: &DetectCtx<'_>) -> Option<(NodeId, NodeId)> {
    let tree = ctx.tree;
    let mut id = ctx.point;
    for _ in 0..MAX_WALK {
        if !node_ok(ctx, id) {
            return None;
        }
        let node = tree.node(id);
        match node.seg {
            Seg::Key { .. } => return Some((id, node.parent()?)),
            Seg::Layer(_) => id = node.parent()?,
            _ => return None,
        }
    }
    None
}

/// The key of a node, if it has one.
pub(crate) fn key_of<'t>(ctx: &DetectCtx<'t>, id: NodeId) -> Option<&'t [u8]> {
    if !node_ok(ctx, id) {
        return None;
    }
    ctx.tree.key(ctx.tree.node(id).seg)
}

/// The point hangs below a layer of this name (`xml`, `json`...).
pub(crate) fn under_layer(ctx: &DetectCtx<'_>, layer: &str) -> bool {
    let tree = ctx.tree;
    let mut id = ctx.point;
    for _ in 0..MAX_WALK {
        if !node_ok(ctx, id) {
            return false;
        }
        let node = tree.node(id);
        match node.seg {
            Seg::Layer(l) if l == layer => return true,
            Seg::Root | Seg::Source(_) => return false,
            _ => {}
        }
        match node.parent() {
            Some(p) => id = p,
            None => return false,
        }
    }
    false
}

/// Where a value sits, as far as scoring cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// The path or one of its segments.
    Path,
    Query,
    Header,
    Cookie,
    /// The body or anything decoded from it (form fields, JSON, XML...).
    Body,
    /// The method, the raw request-target, or no source.
    Other,
}

pub(crate) fn place(ctx: &DetectCtx<'_>) -> Place {
    match ctx.source {
        Some(Source::Path) => Place::Path,
        Some(Source::Query) => Place::Query,
        Some(Source::Header) => Place::Header,
        Some(Source::Cookie) => Place::Cookie,
        Some(Source::Body) => Place::Body,
        _ => Place::Other,
    }
}

/// Appends findings for one detector and one value, keeping one finding
/// per rule (the strongest) and at most [`Reporter::MAX`] in all.
#[derive(Debug)]
pub(crate) struct Reporter<'o> {
    out: &'o mut Vec<Finding>,
    base: usize,
    point: NodeId,
    class: Class,
    origin: &'static str,
    len: usize,
}

impl<'o> Reporter<'o> {
    /// Findings per value and detector.
    pub(crate) const MAX: usize = 4;

    pub(crate) fn new(
        out: &'o mut Vec<Finding>,
        ctx: &DetectCtx<'_>,
        class: Class,
        origin: &'static str,
        len: usize,
    ) -> Reporter<'o> {
        let base = out.len();
        Reporter {
            out,
            base,
            point: ctx.point,
            class,
            origin,
            len,
        }
    }

    /// The highest score reported so far for this value.
    pub(crate) fn best(&self) -> u8 {
        self.out[self.base..]
            .iter()
            .map(|f| f.score)
            .max()
            .unwrap_or(0)
    }

    /// Reports `rule` unless it was reported with a score at least as
    /// high; the message is built only when the finding is kept.
    pub(crate) fn report<M: Into<Cow<'static, str>>>(
        &mut self,
        rule: &'static str,
        score: u8,
        msg: impl FnOnce() -> M,
        start: usize,
        end: usize,
    ) {
        if score == 0 {
            return;
        }
        let end = end.min(self.len);
        let start = start.min(end);
        let new = &mut self.out[self.base..];
        if let Some(f) = new.iter_mut().find(|f| f.rule == rule) {
            if f.score < score {
                f.score = score;
                f.span = Span::new(start, end);
                f.message = msg().into();
            }
            return;
        }
        if new.len() >= Self::MAX {
            // Replace the weakest when the new one is stronger.
            if let Some(w) = new.iter_mut().min_by_key(|f| f.score) {
                if w.score < score {
                    *w = Finding::new(self.point, self.class, rule, score, msg())
                        .with_span(Span::new(start, end))
                        .with_origin(self.origin);
                }
            }
            return;
        }
        self.out.push(
            Finding::new(self.point, self.class, rule, score, msg())
                .with_span(Span::new(start, end))
                .with_origin(self.origin),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(find_ci(b"xxABCd", 0, b"bcd"), Some(3));
        assert_eq!(find_ci(b"abc", 0, b"abcd"), None);
        assert_eq!(find_ci(b"aaab", 1, b"ab"), Some(2));
        assert!(starts_ci(b"<!DocType", 0, b"<!doctype"));
        assert!(!starts_ci(b"<!Doc", 0, b"<!doctype"));
        assert!(in_table(&["a", "bcc", "to"], b"BCC"));
        assert!(!in_table(&["a", "bcc", "to"], b"b"));
        assert_eq!(skip_ws(b"  \tx", 0), 3);
        assert_eq!(ident_end(b"ab_1-", 0), 4);
    }
}
