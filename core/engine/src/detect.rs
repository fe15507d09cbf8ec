//! Phase 2: every detector on every leaf.

use std::panic::{catch_unwind, AssertUnwindSafe};

use rampart_plugin_api::DetectCtx;
use rampart_types::{Class, Finding, Request, Span};

use crate::engine::Engine;
use crate::inspection::Inspection;

pub(crate) fn detect(engine: &Engine, req: &Request, ins: &mut Inspection) {
    if engine.detectors.is_empty() {
        return;
    }
    let endpoint = req.path();
    let content_type = req.header_value("content-type");
    let mut out = Vec::new();
    let leaves: Vec<_> = ins.tree.leaves().collect();
    for id in leaves {
        let value = ins.tree.value(id);
        let ctx = DetectCtx {
            tree: &ins.tree,
            point: id,
            source: ins.tree.source_of(id),
            endpoint,
            content_type,
        };
        for slot in &engine.detectors {
            out.clear();
            let ran = catch_unwind(AssertUnwindSafe(|| {
                slot.detector.inspect(value, &ctx, &mut out)
            }));
            match ran {
                Ok(()) => {
                    for mut f in out.drain(..) {
                        // A detector reports about the value it was given.
                        f.point = id;
                        let len = value.len() as u32;
                        f.span = Span {
                            start: f.span.start.min(len),
                            end: f.span.end.min(len).max(f.span.start.min(len)),
                        };
                        f.origin = slot.name;
                        ins.findings.push(f);
                    }
                }
                Err(_) => ins.findings.push(
                    Finding::new(
                        id,
                        Class::PluginError,
                        "plugin.panic",
                        100,
                        format!("detector {} panicked", slot.name),
                    )
                    .with_origin(slot.name),
                ),
            }
        }
    }
}
