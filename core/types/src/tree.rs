//! The request-point tree. Syntax of paths: `spec/request-points.md`.
//!
//! The tree is an arena: nodes in a `Vec`, all key and value bytes in one
//! byte buffer. Building a tree for a typical request costs a handful of
//! allocations, and a tree can be cleared and reused across requests.

use std::fmt;

/// Index of a node in a [`Tree`]. The root is `NodeId::ROOT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

impl NodeId {
    pub const ROOT: NodeId = NodeId(0);
    const NONE: u32 = u32::MAX;

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where a top-level point comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Method,
    /// The raw request-target.
    Uri,
    /// The path, one child per segment.
    Path,
    /// The query string, one child per parameter.
    Query,
    /// The headers, one child per header (lower-case name).
    Header,
    /// The cookies, one child per cookie.
    Cookie,
    /// The request body.
    Body,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Method => "method",
            Source::Uri => "uri",
            Source::Path => "path",
            Source::Query => "query",
            Source::Header => "header",
            Source::Cookie => "cookie",
            Source::Body => "body",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        Some(match s {
            "method" => Source::Method,
            "uri" => Source::Uri,
            "path" => Source::Path,
            "query" => Source::Query,
            "header" => Source::Header,
            "cookie" => Source::Cookie,
            "body" => Source::Body,
            _ => return None,
        })
    }
}

/// One step of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg {
    /// The request itself (only the root has it).
    Root,
    /// A top-level source.
    Source(Source),
    /// A named member: query parameter, JSON key, XML element, cookie name...
    /// The bytes live in the tree's buffer at `start..end`.
    Key { start: u32, end: u32 },
    /// A position: array element, repeated element, path segment.
    Index(u32),
    /// A decoding layer: `base64`, `json`, `gzip`... Written `:name`.
    Layer(&'static str),
}

/// What a node is for the detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// Structure that was decoded into children; its own value is not inspected.
    Container,
    /// A value that detectors inspect (it may also have layer children).
    Leaf,
}

/// One request point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub seg: Seg,
    pub kind: NodeKind,
    /// Number of layers between the root and this node.
    pub depth: u16,
    parent: u32,
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
    value_start: u32,
    value_end: u32,
}

impl Node {
    pub fn parent(&self) -> Option<NodeId> {
        (self.parent != NodeId::NONE).then_some(NodeId(self.parent))
    }

    /// Length of the value in bytes.
    pub fn value_len(&self) -> usize {
        (self.value_end - self.value_start) as usize
    }
}

/// The request-point tree of one request.
#[derive(Debug)]
pub struct Tree {
    nodes: Vec<Node>,
    buf: Vec<u8>,
    generation: u64,
}

/// Source of tree generations: unique in the process.
static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Clone for Tree {
    /// A copy is a different tree: it gets its own generation.
    fn clone(&self) -> Tree {
        Tree {
            nodes: self.nodes.clone(),
            buf: self.buf.clone(),
            generation: GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    /// A tree holding only the root.
    pub fn new() -> Tree {
        let mut t = Tree {
            nodes: Vec::with_capacity(32),
            buf: Vec::with_capacity(1024),
            generation: 0,
        };
        t.clear();
        t
    }

    /// Removes everything but the root, keeping the allocations.
    pub fn clear(&mut self) {
        self.generation = GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.nodes.clear();
        self.buf.clear();
        self.nodes.push(Node {
            seg: Seg::Root,
            kind: NodeKind::Container,
            depth: 0,
            parent: NodeId::NONE,
            first_child: NodeId::NONE,
            last_child: NodeId::NONE,
            next_sibling: NodeId::NONE,
            value_start: 0,
            value_end: 0,
        });
    }

    /// An id unique in the process for this tree's current contents since
    /// the last [`Tree::clear`] (nodes are only appended in between): lets a
    /// cache of a tree's view be reused across calls about one request.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Number of nodes, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when only the root is there.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 1
    }

    /// Bytes held in the buffer (keys and values).
    pub fn bytes_len(&self) -> usize {
        self.buf.len()
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// All node ids in creation order (the root first).
    pub fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// The value bytes of a node.
    pub fn value(&self, id: NodeId) -> &[u8] {
        let n = &self.nodes[id.index()];
        &self.buf[n.value_start as usize..n.value_end as usize]
    }

    /// Bytes of the buffer at a span (as returned by [`Tree::push_bytes`]).
    pub fn value_bytes(&self, span: (u32, u32)) -> &[u8] {
        let len = self.buf.len();
        let end = (span.1 as usize).min(len);
        let start = (span.0 as usize).min(end);
        &self.buf[start..end]
    }

    /// The key bytes of a `Seg::Key`, or `None` for other segments.
    pub fn key(&self, seg: Seg) -> Option<&[u8]> {
        match seg {
            Seg::Key { start, end } => Some(&self.buf[start as usize..end as usize]),
            _ => None,
        }
    }

    /// Children of a node, in insertion order.
    pub fn children(&self, id: NodeId) -> Children<'_> {
        Children {
            tree: self,
            next: self.nodes[id.index()].first_child,
        }
    }

    /// The first child whose segment is the given layer.
    pub fn layer_child(&self, id: NodeId, layer: &str) -> Option<NodeId> {
        self.children(id)
            .find(|&c| matches!(self.node(c).seg, Seg::Layer(l) if l == layer))
    }

    /// The first child with this key.
    pub fn child_by_key(&self, id: NodeId, key: &[u8]) -> Option<NodeId> {
        self.children(id)
            .find(|&c| self.key(self.node(c).seg) == Some(key))
    }

    /// The top-level node of a source, if present.
    pub fn source(&self, source: Source) -> Option<NodeId> {
        self.children(NodeId::ROOT)
            .find(|&c| self.node(c).seg == Seg::Source(source))
    }

    /// The source a node descends from.
    pub fn source_of(&self, id: NodeId) -> Option<Source> {
        let mut cur = id;
        loop {
            let n = self.node(cur);
            if let Seg::Source(s) = n.seg {
                return Some(s);
            }
            cur = n.parent()?;
        }
    }

    /// Displays the full path of a node (`body:json.user.bio`).
    pub fn path(&self, id: NodeId) -> PathDisplay<'_> {
        PathDisplay { tree: self, id }
    }

    /// The buffer position where the next pushed bytes will start.
    pub fn mark(&self) -> u32 {
        self.buf.len() as u32
    }

    /// Appends bytes to the buffer and returns where they are.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> (u32, u32) {
        let start = self.mark();
        self.buf.extend_from_slice(bytes);
        (start, self.mark())
    }

    /// Direct access to the buffer, for decoders that write decoded bytes in
    /// place. Only appending is meaningful; use [`Tree::mark`] before and
    /// after to know the span written.
    pub fn buf_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Appends a node whose value is `buf[value.0..value.1]`.
    ///
    /// # Panics
    /// Never for a span returned by [`Tree::push_bytes`] or taken between two
    /// [`Tree::mark`] calls; a span outside the buffer is clamped to it.
    pub fn push_node(
        &mut self,
        parent: NodeId,
        seg: Seg,
        kind: NodeKind,
        value: (u32, u32),
    ) -> NodeId {
        let len = self.buf.len() as u32;
        let (start, end) = (value.0.min(len), value.1.min(len));
        let start = start.min(end);
        let id = self.nodes.len() as u32;
        let pdepth = self.nodes[parent.index()].depth;
        let depth = if matches!(seg, Seg::Layer(_)) {
            pdepth.saturating_add(1)
        } else {
            pdepth
        };
        self.nodes.push(Node {
            seg,
            kind,
            depth,
            parent: parent.0,
            first_child: NodeId::NONE,
            last_child: NodeId::NONE,
            next_sibling: NodeId::NONE,
            value_start: start,
            value_end: end,
        });
        let p = &mut self.nodes[parent.index()];
        if p.last_child == NodeId::NONE {
            p.first_child = id;
        } else {
            let last = p.last_child as usize;
            self.nodes[last].next_sibling = id;
        }
        self.nodes[parent.index()].last_child = id;
        NodeId(id)
    }

    /// Sets a node's value to a span of the buffer (a layer node whose
    /// decoded bytes were written after the node was created).
    pub fn set_value(&mut self, id: NodeId, value: (u32, u32)) {
        let len = self.buf.len() as u32;
        let end = value.1.min(len);
        let n = &mut self.nodes[id.index()];
        n.value_start = value.0.min(end);
        n.value_end = end;
    }

    /// Changes a node's kind (a leaf that a structural decoder took apart
    /// becomes a container).
    pub fn set_kind(&mut self, id: NodeId, kind: NodeKind) {
        self.nodes[id.index()].kind = kind;
    }

    /// A checkpoint to roll back to (see [`Tree::rollback`]).
    pub fn checkpoint(&self) -> (usize, usize) {
        (self.nodes.len(), self.buf.len())
    }

    /// Removes every node and byte added since the checkpoint. Used when a
    /// speculative decoding (a string that only looked like JSON) fails.
    pub fn rollback(&mut self, cp: (usize, usize)) {
        let (n, b) = cp;
        self.buf.truncate(b);
        if n >= self.nodes.len() {
            return;
        }
        let limit = n as u32;
        // Survivors that lost children: removed nodes are always a suffix of
        // their parent's child list, because nodes are only appended.
        let mut parents: Vec<u32> = self.nodes[n..]
            .iter()
            .map(|node| node.parent)
            .filter(|&p| p < limit)
            .collect();
        parents.dedup();
        self.nodes.truncate(n);
        for p in parents {
            let first = self.nodes[p as usize].first_child;
            if first >= limit {
                self.nodes[p as usize].first_child = NodeId::NONE;
                self.nodes[p as usize].last_child = NodeId::NONE;
                continue;
            }
            let mut c = first;
            loop {
                let next = self.nodes[c as usize].next_sibling;
                if next == NodeId::NONE || next >= limit {
                    self.nodes[c as usize].next_sibling = NodeId::NONE;
                    break;
                }
                c = next;
            }
            self.nodes[p as usize].last_child = c;
        }
    }

    /// Leaves: nodes the detectors inspect, in creation order.
    pub fn leaves(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.ids()
            .filter(|&id| self.node(id).kind == NodeKind::Leaf)
    }
}

/// Iterator over the children of a node.
#[derive(Debug)]
pub struct Children<'a> {
    tree: &'a Tree,
    next: u32,
}

impl Iterator for Children<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        if self.next == NodeId::NONE {
            return None;
        }
        let id = NodeId(self.next);
        self.next = self.tree.nodes[id.index()].next_sibling;
        Some(id)
    }
}

/// Formats a path; see `spec/request-points.md`.
#[derive(Debug, Clone, Copy)]
pub struct PathDisplay<'a> {
    tree: &'a Tree,
    id: NodeId,
}

fn is_ident(key: &[u8]) -> bool {
    match key.first() {
        Some(b) if b.is_ascii_alphabetic() || *b == b'_' => {}
        _ => return false,
    }
    key.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// Writes a key in quoted form: `"..."` with `\"`, `\\` and `\xNN` escapes.
fn write_quoted(f: &mut fmt::Formatter<'_>, key: &[u8]) -> fmt::Result {
    f.write_str("\"")?;
    for chunk in key.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if c.is_control() => write!(f, "\\x{:02x}", c as u32 & 0xff)?,
                c => write!(f, "{c}")?,
            }
        }
        for b in chunk.invalid() {
            write!(f, "\\x{b:02x}")?;
        }
    }
    f.write_str("\"")
}

impl fmt::Display for PathDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chain = Vec::with_capacity(8);
        let mut cur = Some(self.id);
        while let Some(id) = cur {
            chain.push(id);
            cur = self.tree.node(id).parent();
        }
        let mut first = true;
        for &id in chain.iter().rev() {
            let seg = self.tree.node(id).seg;
            match seg {
                Seg::Root => {
                    if chain.len() == 1 {
                        f.write_str("request")?;
                    }
                    continue;
                }
                Seg::Source(s) => f.write_str(s.as_str())?,
                Seg::Key { .. } => {
                    let key = self.tree.key(seg).unwrap_or_default();
                    if is_ident(key) {
                        if !first {
                            f.write_str(".")?;
                        }
                        f.write_str(std::str::from_utf8(key).unwrap_or_default())?;
                    } else {
                        f.write_str("[")?;
                        write_quoted(f, key)?;
                        f.write_str("]")?;
                    }
                }
                Seg::Index(i) => write!(f, "[{i}]")?,
                Seg::Layer(l) => write!(f, ":{l}")?,
            }
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(t: &mut Tree, k: &str) -> Seg {
        let (start, end) = t.push_bytes(k.as_bytes());
        Seg::Key { start, end }
    }

    #[test]
    fn paths_render_per_spec() {
        let mut t = Tree::new();
        let body = t.push_node(
            NodeId::ROOT,
            Seg::Source(Source::Body),
            NodeKind::Container,
            (0, 0),
        );
        let json = t.push_node(body, Seg::Layer("json"), NodeKind::Container, (0, 0));
        let k = key(&mut t, "user");
        let user = t.push_node(json, k, NodeKind::Container, (0, 0));
        let k = key(&mut t, "first name");
        let name = t.push_node(user, k, NodeKind::Leaf, (0, 0));
        let arr = t.push_node(user, Seg::Index(3), NodeKind::Leaf, (0, 0));
        assert_eq!(t.path(name).to_string(), "body:json.user[\"first name\"]");
        assert_eq!(t.path(arr).to_string(), "body:json.user[3]");
        assert_eq!(t.path(NodeId::ROOT).to_string(), "request");
        let k = key(&mut t, "a\"\u{1}");
        let odd = t.push_node(json, k, NodeKind::Leaf, (0, 0));
        assert_eq!(t.path(odd).to_string(), "body:json[\"a\\\"\\x01\"]");
        assert_eq!(t.node(name).depth, 1);
    }

    #[test]
    fn children_and_rollback() {
        let mut t = Tree::new();
        let q = t.push_node(
            NodeId::ROOT,
            Seg::Source(Source::Query),
            NodeKind::Container,
            (0, 0),
        );
        let v = t.push_bytes(b"abc");
        let a = t.push_node(q, Seg::Index(0), NodeKind::Leaf, v);
        let cp = t.checkpoint();
        let b = t.push_node(q, Seg::Index(1), NodeKind::Leaf, (0, 0));
        t.push_node(b, Seg::Layer("json"), NodeKind::Leaf, (0, 0));
        assert_eq!(t.children(q).count(), 2);
        t.rollback(cp);
        assert_eq!(t.children(q).collect::<Vec<_>>(), vec![a]);
        assert_eq!(t.value(a), b"abc");
        let c = t.push_node(q, Seg::Index(2), NodeKind::Leaf, (0, 0));
        assert_eq!(t.children(q).collect::<Vec<_>>(), vec![a, c]);
    }
}
