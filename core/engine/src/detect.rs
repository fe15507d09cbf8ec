//! Phase 2: every detector on every leaf value, and on the names of the
//! members of structured documents.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

use rampart_plugin_api::{member_name, DetectCtx};
use rampart_types::{Class, Finding, NodeId, Request, Seg, Source, Span, Tree};

use crate::engine::Engine;
use crate::inspection::Inspection;

/// Names inspected per request at most (distinct names; a document with
/// more keeps the first ones).
const MAX_NAMES: usize = 1024;

pub(crate) fn detect(engine: &Engine, req: &Request, ins: &mut Inspection) {
    if engine.detectors.is_empty() {
        return;
    }
    let run = Run {
        engine,
        endpoint: req.path(),
        content_type: req.header_value("content-type"),
    };
    let mut out = Vec::with_capacity(8);
    let tree = &ins.tree;
    for id in tree.leaves() {
        let raw = matches!(tree.node(id).seg, Seg::Source(Source::Method | Source::Uri))
            || negotiation_header(tree, id);
        run.point(
            tree,
            id,
            tree.value(id),
            false,
            raw,
            &mut out,
            &mut ins.findings,
        );
    }
    let mut seen = Seen::default();
    for id in tree.ids().skip(1) {
        let Some(name) = member_name(tree, id) else {
            continue;
        };
        if seen.contains(name) {
            continue;
        }
        if seen.len() == MAX_NAMES {
            break;
        }
        seen.insert(name);
        run.point(tree, id, name, true, false, &mut out, &mut ins.findings);
    }
}

/// A well-formed content-negotiation header (`wellformed`): like the raw
/// request line, offered only to the protocol and scanner detectors.
fn negotiation_header(tree: &Tree, id: NodeId) -> bool {
    let node = tree.node(id);
    let Some(name) = tree.key(node.seg) else {
        return false;
    };
    node.parent()
        .is_some_and(|p| tree.node(p).seg == Seg::Source(Source::Header))
        && crate::wellformed::is_negotiation(name)
        && crate::wellformed::negotiation_list(tree.value(id))
}

/// The distinct names inspected so far: a short list searched in order
/// (documents repeat a few keys), and a hash set once it grows, so that a
/// document of many distinct keys does not cost a quadratic search.
#[derive(Default)]
struct Seen<'t> {
    few: Vec<&'t [u8]>,
    /// Made only when needed (a hash set seeds its hasher when built).
    many: Option<HashSet<&'t [u8]>>,
}

impl<'t> Seen<'t> {
    const FEW: usize = 32;

    fn len(&self) -> usize {
        self.few.len() + self.many.as_ref().map_or(0, HashSet::len)
    }

    fn contains(&self, name: &[u8]) -> bool {
        self.few.contains(&name) || self.many.as_ref().is_some_and(|m| m.contains(name))
    }

    fn insert(&mut self, name: &'t [u8]) {
        if self.few.len() < Self::FEW {
            self.few.push(name);
        } else {
            self.many.get_or_insert_with(HashSet::new).insert(name);
        }
    }
}

struct Run<'e> {
    engine: &'e Engine,
    endpoint: &'e [u8],
    content_type: Option<&'e [u8]>,
}

impl Run<'_> {
    /// Every detector on `value`, the value or (`on_name`) the name of
    /// point `id`; for the raw request line's leaves and well-formed
    /// negotiation headers (`raw`), only the protocol and scanner ones.
    #[allow(clippy::too_many_arguments)]
    fn point(
        &self,
        tree: &Tree,
        id: NodeId,
        value: &[u8],
        on_name: bool,
        raw: bool,
        out: &mut Vec<Finding>,
        findings: &mut Vec<Finding>,
    ) {
        let ctx = DetectCtx {
            tree,
            point: id,
            source: tree.source_of(id),
            endpoint: self.endpoint,
            content_type: self.content_type,
        };
        for slot in &self.engine.detectors {
            if raw && !slot.raw_target {
                continue;
            }
            // `out` is empty here: drained after every call that filled it.
            let ran = catch_unwind(AssertUnwindSafe(|| slot.detector.inspect(value, &ctx, out)));
            match ran {
                Ok(()) if out.is_empty() => {}
                Ok(()) => {
                    let len = value.len() as u32;
                    for mut f in out.drain(..) {
                        // A detector reports about the value it was given.
                        f.point = id;
                        f.on_name = on_name;
                        f.span = Span {
                            start: f.span.start.min(len),
                            end: f.span.end.min(len).max(f.span.start.min(len)),
                        };
                        f.origin = slot.name;
                        findings.push(f);
                    }
                }
                Err(_) => {
                    // What it reported before panicking is discarded.
                    out.clear();
                    findings.push(
                        Finding::new(
                            id,
                            Class::PluginError,
                            "plugin.panic",
                            100,
                            format!("detector {} panicked", slot.name),
                        )
                        .with_origin(slot.name),
                    );
                }
            }
        }
    }
}
