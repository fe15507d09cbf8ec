use std::borrow::Cow;
use std::time::Instant;

use rampart_types::{
    Class, Exhausted, Finding, LimitKind, Limits, NodeId, NodeKind, Seg, Span, Tree,
};

/// The engine's running account of one request's decoding budget, plus what
/// decoders leave for the engine (findings, content-type hints).
#[derive(Debug)]
pub struct DecodeState {
    pub limits: Limits,
    /// Byte cap for this request (see [`Limits::byte_cap`]).
    pub byte_cap: usize,
    pub deadline: Instant,
    /// Findings reported while decoding (anomalies, limits).
    pub findings: Vec<Finding>,
    /// Declared media types of child points (a multipart part's
    /// `Content-Type`): the engine decodes those points as declared.
    pub hints: Vec<(NodeId, (u32, u32))>,
    /// The first limit that was hit, if any.
    pub exhausted: Option<LimitKind>,
    ticks: u32,
}

impl DecodeState {
    pub fn new(limits: Limits, raw_len: usize) -> DecodeState {
        DecodeState {
            limits,
            byte_cap: limits.byte_cap(raw_len),
            deadline: Instant::now() + limits.max_time,
            findings: Vec::new(),
            hints: Vec::new(),
            exhausted: None,
            ticks: 0,
        }
    }

    /// Resets for a new request, keeping allocations.
    pub fn reset(&mut self, limits: Limits, raw_len: usize) {
        self.limits = limits;
        self.byte_cap = limits.byte_cap(raw_len);
        self.deadline = Instant::now() + limits.max_time;
        self.findings.clear();
        self.hints.clear();
        self.exhausted = None;
        self.ticks = 0;
    }

    /// Records that a limit was reached (the first one wins).
    pub fn exhaust(&mut self, kind: LimitKind) -> Exhausted {
        self.exhausted.get_or_insert(kind);
        Exhausted(kind)
    }
}

/// A key for a new point.
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    /// A name, copied into the tree.
    Name(&'a [u8]),
    /// A name already written to the tree's buffer (see [`Emitter::mark`]).
    Span(u32, u32),
    /// A position.
    Index(u32),
}

/// Where a decoder writes the points it finds.
///
/// Every method that adds to the tree checks the budget and returns
/// [`Exhausted`] once a limit is reached; a decoder propagates it with `?`.
#[derive(Debug)]
pub struct Emitter<'a> {
    tree: &'a mut Tree,
    state: &'a mut DecodeState,
    root: NodeId,
    origin: &'static str,
}

impl<'a> Emitter<'a> {
    /// Used by the engine: decoded points go under `root`.
    pub fn new(
        tree: &'a mut Tree,
        state: &'a mut DecodeState,
        root: NodeId,
        origin: &'static str,
    ) -> Emitter<'a> {
        Emitter {
            tree,
            state,
            root,
            origin,
        }
    }

    /// The node the decoded points belong under.
    pub fn root(&self) -> NodeId {
        self.root
    }

    pub fn limits(&self) -> &Limits {
        &self.state.limits
    }

    /// Read access to the tree built so far.
    pub fn tree(&self) -> &Tree {
        self.tree
    }

    /// Bytes that may still be added to the tree.
    pub fn bytes_left(&self) -> usize {
        self.state.byte_cap.saturating_sub(self.tree.bytes_len())
    }

    /// The current end of the tree's buffer; bytes written with
    /// [`Emitter::buf`] after this mark form a span ([`Emitter::span_from`]).
    pub fn mark(&self) -> u32 {
        self.tree.mark()
    }

    /// The tree's buffer, to write decoded bytes without a copy. Write at
    /// most [`Emitter::bytes_left`] bytes.
    pub fn buf(&mut self) -> &mut Vec<u8> {
        self.tree.buf_mut()
    }

    /// The span written since `mark`, after checking the byte budget.
    pub fn span_from(&mut self, mark: u32) -> Result<(u32, u32), Exhausted> {
        if self.tree.bytes_len() > self.state.byte_cap {
            let cap = self.state.byte_cap;
            self.tree.buf_mut().truncate(cap.max(mark as usize));
            return Err(self.state.exhaust(LimitKind::Bytes));
        }
        Ok((mark, self.tree.mark()))
    }

    /// Records that a limit was reached (for limits a decoder checks
    /// itself, such as nesting); return the result as the decoder's error.
    pub fn exhaust(&mut self, kind: LimitKind) -> Exhausted {
        self.state.exhaust(kind)
    }

    /// Checks the time budget; call it every few hundred steps of a loop
    /// that does not emit.
    pub fn tick(&mut self) -> Result<(), Exhausted> {
        self.state.ticks = self.state.ticks.wrapping_add(1);
        if self.state.ticks.is_multiple_of(64) && Instant::now() > self.state.deadline {
            return Err(self.state.exhaust(LimitKind::Time));
        }
        Ok(())
    }

    fn seg(&mut self, key: Key<'_>) -> Result<Seg, Exhausted> {
        Ok(match key {
            Key::Name(k) => {
                self.check_bytes(k.len())?;
                let (start, end) = self.tree.push_bytes(k);
                Seg::Key { start, end }
            }
            Key::Span(start, end) => Seg::Key { start, end },
            Key::Index(i) => Seg::Index(i),
        })
    }

    fn check_bytes(&mut self, more: usize) -> Result<(), Exhausted> {
        if self.tree.bytes_len() + more > self.state.byte_cap {
            return Err(self.state.exhaust(LimitKind::Bytes));
        }
        Ok(())
    }

    fn push(
        &mut self,
        parent: NodeId,
        seg: Seg,
        kind: NodeKind,
        value: (u32, u32),
    ) -> Result<NodeId, Exhausted> {
        if self.tree.len() >= self.state.limits.max_nodes as usize {
            return Err(self.state.exhaust(LimitKind::Nodes));
        }
        self.tick()?;
        Ok(self.tree.push_node(parent, seg, kind, value))
    }

    /// Adds a value point (inspected by detectors) with a copied value.
    pub fn leaf(
        &mut self,
        parent: NodeId,
        key: Key<'_>,
        value: &[u8],
    ) -> Result<NodeId, Exhausted> {
        let seg = self.seg(key)?;
        self.check_bytes(value.len())?;
        let span = self.tree.push_bytes(value);
        self.push(parent, seg, NodeKind::Leaf, span)
    }

    /// Adds a value point whose bytes were written since a mark.
    pub fn leaf_span(
        &mut self,
        parent: NodeId,
        key: Key<'_>,
        span: (u32, u32),
    ) -> Result<NodeId, Exhausted> {
        let seg = self.seg(key)?;
        self.push(parent, seg, NodeKind::Leaf, span)
    }

    /// Adds a structural point (an object, an element with children). Its
    /// value (`raw`, often empty) is kept for display but not inspected.
    pub fn container(
        &mut self,
        parent: NodeId,
        key: Key<'_>,
        raw: &[u8],
    ) -> Result<NodeId, Exhausted> {
        let seg = self.seg(key)?;
        self.check_bytes(raw.len())?;
        let span = self.tree.push_bytes(raw);
        self.push(parent, seg, NodeKind::Container, span)
    }

    /// Sets the value of the root point: a transforming decoder (base64,
    /// gzip, percent-decoding) writes its output with [`Emitter::buf`] and
    /// makes it the value of the layer point it decodes into.
    pub fn set_root_value(&mut self, span: (u32, u32)) {
        self.tree.set_value(self.root, span);
    }

    /// Turns a point emitted as a leaf into a container (an XML element that
    /// turned out to have child elements).
    pub fn make_container(&mut self, node: NodeId) {
        self.tree.set_kind(node, NodeKind::Container);
    }

    /// Declares the media type of a point's value (a multipart part's
    /// `Content-Type`), so the engine decodes it as declared.
    pub fn hint(&mut self, node: NodeId, media_type: &[u8]) -> Result<(), Exhausted> {
        self.check_bytes(media_type.len())?;
        let span = self.tree.push_bytes(media_type);
        self.state.hints.push((node, span));
        Ok(())
    }

    /// Reports an anomaly of the encoding at a point (`anomaly` class).
    pub fn flag(
        &mut self,
        node: NodeId,
        rule: &'static str,
        score: u8,
        span: Span,
        message: impl Into<Cow<'static, str>>,
    ) {
        // Bound the number of findings a hostile value can produce.
        if self.state.findings.len() >= 1024 {
            return;
        }
        let f = Finding::new(node, Class::Anomaly, rule, score, message)
            .with_span(span)
            .with_origin(self.origin);
        self.state.findings.push(f);
    }

    /// Reports a finding of any class (an XML DOCTYPE with external
    /// entities is `xxe`, not a mere anomaly).
    pub fn report(&mut self, finding: Finding) {
        if self.state.findings.len() >= 1024 {
            return;
        }
        self.state.findings.push(finding.with_origin(self.origin));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_types::Source;

    #[test]
    fn node_and_byte_budgets_stop_emission() {
        let limits = Limits {
            max_nodes: 4,
            ..Limits::default()
        };
        let mut tree = Tree::new();
        let mut state = DecodeState::new(limits, 0);
        let root = tree.push_node(
            NodeId::ROOT,
            Seg::Source(Source::Query),
            NodeKind::Container,
            (0, 0),
        );
        let mut out = Emitter::new(&mut tree, &mut state, root, "test");
        assert!(out.leaf(root, Key::Name(b"a"), b"1").is_ok());
        assert!(out.leaf(root, Key::Name(b"b"), b"2").is_ok());
        assert_eq!(
            out.leaf(root, Key::Name(b"c"), b"3"),
            Err(Exhausted(LimitKind::Nodes))
        );
        assert_eq!(state.exhausted, Some(LimitKind::Nodes));

        let mut tree = Tree::new();
        let mut state = DecodeState::new(Limits::default(), 0);
        let cap = state.byte_cap;
        let mut out = Emitter::new(&mut tree, &mut state, NodeId::ROOT, "test");
        let big = vec![b'x'; cap + 1];
        assert_eq!(
            out.leaf(NodeId::ROOT, Key::Index(0), &big),
            Err(Exhausted(LimitKind::Bytes))
        );
        let m = out.mark();
        out.buf().extend_from_slice(&big);
        assert!(out.span_from(m).is_err());
        assert!(tree.bytes_len() <= cap);
    }
}
