//! Point paths (spec/request-points.md) with the rule language's
//! wildcards, their lookup over a [`Tree`], and endpoint templates.

use std::fmt;

use rampart_types::{NodeId, NodeKind, Seg, Source, Tree};

/// Buffers for [`PointPath::lookup`], reusable across calls.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    a: Vec<NodeId>,
    b: Vec<NodeId>,
}

/// One step of a [`PointPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PStep {
    Key(Box<[u8]>),
    Index(u32),
    Layer(String),
    /// Any one member or index (not a layer).
    Wild,
    /// One or more levels of anything, layers included.
    DeepWild,
}

/// A checked point path: a source and steps.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PointPath {
    pub source: Source,
    pub steps: Vec<PStep>,
}

impl PointPath {
    pub fn has_wildcard(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s, PStep::Wild | PStep::DeepWild))
    }

    /// Appends every node carrying this path to `out`, in tree order.
    /// When the last step is a wildcard only leaves are kept. `scratch`
    /// holds buffers the caller may reuse across calls.
    pub fn lookup(&self, tree: &Tree, out: &mut Vec<NodeId>, scratch: &mut Scratch) {
        let start = out.len();
        let mut cur = std::mem::take(&mut scratch.a);
        let mut next = std::mem::take(&mut scratch.b);
        cur.clear();
        cur.extend(
            tree.children(NodeId::ROOT)
                .filter(|&c| tree.node(c).seg == Seg::Source(self.source)),
        );
        for step in &self.steps {
            next.clear();
            for &n in &cur {
                match step {
                    PStep::Key(k) => next.extend(
                        tree.children(n)
                            .filter(|&c| tree.key(tree.node(c).seg) == Some(&k[..])),
                    ),
                    PStep::Index(i) => next.extend(
                        tree.children(n)
                            .filter(|&c| tree.node(c).seg == Seg::Index(*i)),
                    ),
                    PStep::Layer(l) => {
                        next.extend(tree.children(n).filter(
                            |&c| matches!(tree.node(c).seg, Seg::Layer(x) if x == l.as_str()),
                        ))
                    }
                    PStep::Wild => {
                        next.extend(tree.children(n).filter(|&c| {
                            matches!(tree.node(c).seg, Seg::Key { .. } | Seg::Index(_))
                        }))
                    }
                    PStep::DeepWild => descendants(tree, n, &mut next),
                }
            }
            std::mem::swap(&mut cur, &mut next);
            if cur.is_empty() {
                break;
            }
        }
        let leaves_only = matches!(self.steps.last(), Some(PStep::Wild | PStep::DeepWild));
        out.extend(
            cur.iter()
                .copied()
                .filter(|&n| !leaves_only || tree.node(n).kind == NodeKind::Leaf),
        );
        // DeepWild can reach one node twice through overlapping bases.
        if self.steps.iter().filter(|s| **s == PStep::DeepWild).count() > 1 {
            out[start..].sort_unstable();
            let mut w = start;
            for r in start..out.len() {
                if w == start || out[w - 1] != out[r] {
                    out[w] = out[r];
                    w += 1;
                }
            }
            out.truncate(w);
        }
        scratch.a = cur;
        scratch.b = next;
    }

    /// True when `node` is this path's point or lies below one of them.
    pub fn covers(&self, tree: &Tree, node: NodeId) -> bool {
        let mut found = Vec::new();
        self.lookup(tree, &mut found, &mut Scratch::default());
        let mut cur = Some(node);
        while let Some(n) = cur {
            if found.contains(&n) {
                return true;
            }
            cur = tree.node(n).parent();
        }
        false
    }
}

fn descendants(tree: &Tree, n: NodeId, out: &mut Vec<NodeId>) {
    // Nodes are appended after their parent, so a forward scan of the ids
    // after `n` with an ancestor check is simple; a stack walk is cheaper.
    let mut stack: Vec<NodeId> = tree.children(n).collect();
    stack.reverse();
    while let Some(c) = stack.pop() {
        out.push(c);
        let before = stack.len();
        stack.extend(tree.children(c));
        stack[before..].reverse();
    }
}

fn is_ident(key: &[u8]) -> bool {
    matches!(key.first(), Some(b) if b.is_ascii_alphabetic() || *b == b'_')
        && key.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

impl fmt::Display for PointPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.source.as_str())?;
        for s in &self.steps {
            match s {
                PStep::Key(k) if is_ident(k) => {
                    write!(f, ".{}", String::from_utf8_lossy(k))?;
                }
                PStep::Key(k) => {
                    f.write_str("[\"")?;
                    for &b in k.iter() {
                        match b {
                            b'"' => f.write_str("\\\"")?,
                            b'\\' => f.write_str("\\\\")?,
                            0x20..=0x7e => write!(f, "{}", b as char)?,
                            _ => write!(f, "\\x{b:02x}")?,
                        }
                    }
                    f.write_str("\"]")?;
                }
                PStep::Index(i) => write!(f, "[{i}]")?,
                PStep::Layer(l) => write!(f, ":{l}")?,
                PStep::Wild => f.write_str(".*")?,
                PStep::DeepWild => f.write_str(".**")?,
            }
        }
        Ok(())
    }
}

/// One segment of an endpoint template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TSeg {
    Lit(Box<[u8]>),
    /// `{name}`: any one segment, captured.
    Param(String),
    /// `*`: any one segment.
    Star,
    /// `**` (last only): any number of segments, none included.
    Rest,
}

/// An endpoint template such as `/api/users/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Template {
    pub segs: Vec<TSeg>,
    pub source: String,
}

/// Splits a path into segments: the leading `/` and one trailing `/` are
/// not segments.
pub fn segments(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    let p = path.strip_prefix(b"/").unwrap_or(path);
    let p = p.strip_suffix(b"/").unwrap_or(p);
    let empty = p.is_empty();
    p.split(|&b| b == b'/').filter(move |_| !empty)
}

impl Template {
    /// Parses a template; `Err` carries the problem in words.
    pub fn parse(s: &str) -> Result<Template, String> {
        let Some(rest) = s.strip_prefix('/') else {
            return Err("an endpoint template starts with `/`".into());
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let mut segs = Vec::new();
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        for (i, part) in parts.iter().enumerate() {
            let seg = if *part == "**" {
                if i + 1 != parts.len() {
                    return Err("`**` may only be the last segment".into());
                }
                TSeg::Rest
            } else if *part == "*" {
                TSeg::Star
            } else if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                let ok = matches!(name.as_bytes().first(), Some(b) if b.is_ascii_alphabetic() || *b == b'_')
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !ok {
                    return Err(format!("`{{{name}}}` is not a parameter name"));
                }
                if segs.contains(&TSeg::Param(name.to_string())) {
                    return Err(format!("parameter `{name}` appears twice"));
                }
                TSeg::Param(name.to_string())
            } else if part.contains(['{', '}', '*']) {
                return Err(format!(
                    "segment `{part}`: a parameter or wildcard takes a whole segment"
                ));
            } else {
                TSeg::Lit(part.as_bytes().into())
            };
            segs.push(seg);
        }
        Ok(Template {
            segs,
            source: s.to_string(),
        })
    }

    /// Names of the parameters, in order.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.segs.iter().filter_map(|s| match s {
            TSeg::Param(p) => Some(p.as_str()),
            _ => None,
        })
    }

    /// True when the path matches the template.
    pub fn matches(&self, path: &[u8]) -> bool {
        let mut it = segments(path);
        for seg in &self.segs {
            match seg {
                TSeg::Rest => return true,
                TSeg::Lit(l) => match it.next() {
                    Some(s) if s == &l[..] => {}
                    _ => return false,
                },
                TSeg::Param(_) | TSeg::Star => {
                    if it.next().is_none() {
                        return false;
                    }
                }
            }
        }
        it.next().is_none()
    }

    /// The value of the parameter `name` in a path the template matches.
    pub fn param<'a>(&self, path: &'a [u8], name: &str) -> Option<&'a [u8]> {
        if !self.matches(path) {
            return None;
        }
        let pos = self
            .segs
            .iter()
            .position(|s| matches!(s, TSeg::Param(p) if p == name))?;
        segments(path).nth(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let t = Template::parse("/api/users/{id}").unwrap();
        assert!(t.matches(b"/api/users/7"));
        assert!(t.matches(b"/api/users/7/"));
        assert!(!t.matches(b"/api/users"));
        assert!(!t.matches(b"/api/users/7/x"));
        assert_eq!(t.param(b"/api/users/42", "id"), Some(&b"42"[..]));
        let r = Template::parse("/static/**").unwrap();
        assert!(r.matches(b"/static"));
        assert!(r.matches(b"/static/a/b.css"));
        assert!(Template::parse("/").unwrap().matches(b"/"));
        assert!(Template::parse("api").is_err());
        assert!(Template::parse("/a/**/b").is_err());
        assert!(Template::parse("/a/{x}/{x}").is_err());
        assert!(Template::parse("/a/x{y}").is_err());
    }
}
