//! What a back-end reads about one request: [`RequestView`], implemented by
//! the engine (later) and by [`StaticView`] for tests and tools.

use std::collections::HashMap;

use rampart_types::{Class, Finding, NodeId, Seg, Source, Tree};

use crate::path::{PointPath, Scratch};
use crate::profile::CharProfile;

/// One request as the rules see it.
pub trait RequestView {
    /// The decoded request-point tree.
    fn tree(&self) -> &Tree;

    /// Every finding of the decoders and detectors for this request.
    fn findings(&self) -> &[Finding];

    /// `client.ip`, as text.
    fn client_ip(&self) -> Option<&[u8]>;

    /// `client.session`: the session key the engine derives (a session
    /// cookie, an API key, a JWT subject), when there is one.
    fn client_session(&self) -> Option<&[u8]> {
        None
    }

    /// `response.status`, known in the response phase.
    fn response_status(&self) -> Option<u16> {
        None
    }

    /// True when some finding is at `at` or below it (anywhere when
    /// `None`), of `class` (any attack class when `None`), with the rule
    /// name `rule` when given, and a score of at least `min_score`. An
    /// engine may answer from an index of its findings.
    fn has_finding(
        &self,
        at: Option<NodeId>,
        class: Option<Class>,
        rule: Option<&[u8]>,
        min_score: u8,
    ) -> bool {
        let tree = self.tree();
        self.findings().iter().any(|f| {
            let class_ok = match class {
                Some(c) => f.class == c,
                None => f.class.is_attack(),
            };
            class_ok
                && f.score >= min_score
                && rule.is_none_or(|r| f.rule.as_bytes() == r)
                && at.is_none_or(|a| is_at_or_below(tree, f.point, a))
        })
    }

    /// The learned profile of a point (for `deviation` and `length_z`).
    fn profile(&self, _node: NodeId) -> Option<&CharProfile> {
        None
    }

    /// Appends the nodes carrying `path`; see [`PointPath::lookup`]. An
    /// engine may answer from an index of the tree.
    fn lookup(&self, path: &PointPath, out: &mut Vec<NodeId>, scratch: &mut Scratch) {
        path.lookup(self.tree(), out, scratch);
    }

    /// The request method.
    fn method(&self) -> &[u8] {
        source_value(self.tree(), Source::Method)
    }

    /// The percent-decoded path.
    fn path(&self) -> &[u8] {
        source_value(self.tree(), Source::Path)
    }

    /// The `Host` header without its port (not lower-cased).
    fn host(&self) -> &[u8] {
        let t = self.tree();
        let Some(h) = t.source(Source::Header) else {
            return b"";
        };
        let Some(node) = t.child_by_key(h, b"host") else {
            return b"";
        };
        let v = t.value(node);
        if v.starts_with(b"[") {
            // [v6]:port
            return match v.iter().position(|&b| b == b']') {
                Some(i) => &v[..=i],
                None => v,
            };
        }
        match v.iter().rposition(|&b| b == b':') {
            Some(i) => &v[..i],
            None => v,
        }
    }
}

/// True when `n` is `target` or lies below it.
pub fn is_at_or_below(tree: &Tree, mut n: NodeId, target: NodeId) -> bool {
    if n.index() >= tree.len() {
        return false;
    }
    loop {
        if n == target {
            return true;
        }
        match tree.node(n).parent() {
            Some(p) => n = p,
            None => return false,
        }
    }
}

/// The node whose key is the name of `n` (`name(POINT)`,
/// spec/rule-language.md section 6.5): `n` itself when it is a member
/// (a key), else the nearest member above it through index and layer
/// steps (`body:json.tags[2]` and `query.q:base64` are named by `tags`
/// and `q`). `None` when a source or the root comes first (`path[1]`,
/// `body:json`, `method`), or for a node not in the tree.
pub fn named_node(tree: &Tree, mut n: NodeId) -> Option<NodeId> {
    if n.index() >= tree.len() {
        return None;
    }
    loop {
        let node = tree.node(n);
        match node.seg {
            Seg::Key { .. } => return Some(n),
            Seg::Index(_) | Seg::Layer(_) => n = node.parent()?,
            Seg::Source(_) | Seg::Root => return None,
        }
    }
}

/// The name of a point (see [`named_node`]): the key bytes as the tree
/// holds them (header names lower-case).
pub fn point_name(tree: &Tree, n: NodeId) -> Option<&[u8]> {
    named_node(tree, n).and_then(|k| tree.key(tree.node(k).seg))
}

fn source_value(t: &Tree, s: Source) -> &[u8] {
    t.source(s).map(|n| t.value(n)).unwrap_or(b"")
}

/// A [`RequestView`] over owned data.
#[derive(Debug, Default)]
pub struct StaticView {
    pub tree: Tree,
    pub findings: Vec<Finding>,
    pub client_ip: Option<Vec<u8>>,
    pub client_session: Option<Vec<u8>>,
    pub response_status: Option<u16>,
    /// Profiles by point path as displayed (`query.q`).
    pub profiles: HashMap<String, CharProfile>,
}

impl RequestView for StaticView {
    fn tree(&self) -> &Tree {
        &self.tree
    }

    fn findings(&self) -> &[Finding] {
        &self.findings
    }

    fn client_ip(&self) -> Option<&[u8]> {
        self.client_ip.as_deref()
    }

    fn client_session(&self) -> Option<&[u8]> {
        self.client_session.as_deref()
    }

    fn response_status(&self) -> Option<u16> {
        self.response_status
    }

    fn profile(&self, node: NodeId) -> Option<&CharProfile> {
        if self.profiles.is_empty() {
            return None;
        }
        self.profiles.get(&self.tree.path(node).to_string())
    }
}
