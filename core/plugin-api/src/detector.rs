use rampart_types::{Class, Finding, NodeId, Seg, Source, Tree};

use crate::registry::{PluginConfig, PluginError, PluginInfo};

/// What a detector knows about the value it inspects.
#[derive(Debug, Clone, Copy)]
pub struct DetectCtx<'a> {
    /// The whole request-point tree (for the path and neighbours).
    pub tree: &'a Tree,
    /// The point being inspected.
    pub point: NodeId,
    /// The source the point descends from.
    pub source: Option<Source>,
    /// The request path (the endpoint as received).
    pub endpoint: &'a [u8],
    /// The request's declared content type, if any.
    pub content_type: Option<&'a [u8]>,
}

impl DetectCtx<'_> {
    /// True when `value` is the point's own value. The engine also offers
    /// every detector the *names* of the members of structured documents
    /// (a JSON key, an XML element name) with `point` set to that member: a
    /// detector whose finding rests on the point's place in the tree rather
    /// than on the bytes it is given reports it only when this is true, so
    /// that it is reported once.
    pub fn is_value(&self, value: &[u8]) -> bool {
        if self.point.index() >= self.tree.len() {
            return false;
        }
        let own = self.tree.value(self.point);
        // The engine passes the tree's own bytes: equal without comparing.
        (own.as_ptr() == value.as_ptr() && own.len() == value.len()) || own == value
    }
}

/// A detector: one value in, findings out.
///
/// `inspect` must be total and never panic; it appends to `out` and must set
/// each finding's `point` to `ctx.point` and its span inside `value`.
pub trait Detector: Send + Sync + 'static {
    fn info(&self) -> PluginInfo;

    /// Applies the plugin's configuration (`[plugin.NAME]` of node.toml)
    /// once, before the first call. The default accepts only an empty one.
    fn configure(&mut self, config: &PluginConfig) -> Result<(), PluginError> {
        match config.keys().next() {
            None => Ok(()),
            Some(k) => Err(PluginError(format!(
                "{}: unknown setting {k:?}",
                self.info().name
            ))),
        }
    }

    /// The classes this detector can report.
    fn classes(&self) -> &'static [Class];

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>);
}

/// The name the engine offers detectors for point `id`, if any (see
/// [`DetectCtx::is_value`]): the name of a member of a structured document
/// (JSON, XML, GraphQL, multipart and plugin formats), which the sender
/// chose as freely as the value: the key of a point whose nearest layer or
/// source above is a decoded layer. Not the members of sources (header names, the query's
/// and cookies' names, which the raw header and query string values hold),
/// nor of the `form` layer (its value is the whole decoded string), nor,
/// outside JSON, metadata members (`@attr`, `#text`, `?pi`, `!doctype`,
/// `$var`) whose names the decoder wrote.
pub fn member_name(tree: &Tree, id: NodeId) -> Option<&[u8]> {
    if id.index() >= tree.len() {
        return None;
    }
    let node = tree.node(id);
    let name = tree.key(node.seg)?;
    let mut up = node.parent();
    while let Some(p) = up {
        match tree.node(p).seg {
            Seg::Layer("form") | Seg::Source(_) | Seg::Root => return None,
            Seg::Layer("json") => return Some(name),
            Seg::Layer(_) => {
                let meta = matches!(name.first(), Some(b'@' | b'#' | b'?' | b'!' | b'$'));
                return (!meta && !name.starts_with(b"...")).then_some(name);
            }
            _ => up = tree.node(p).parent(),
        }
    }
    None
}
