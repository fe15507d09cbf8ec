//! Parser fuzz target: any text goes through load, parse, check and, when
//! it compiles, the interpreter on a small request. Nothing may panic; a
//! text that compiles must match the grammar's `file` rule as a whole; the
//! diagnostics of a text that does not must render.
//!
//! `cargo fuzz run parse fuzz/seeds/parse` (from dsl/)

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use rampart_dsl::ir::RulePhase;
use rampart_dsl::{
    compile_str, parser, Evaluator, Interpreter, MemoryCounters, Outcome, RuleBackend, StaticView,
};
use rampart_types::{NodeId, NodeKind, Seg, Source, Tree};

fn request() -> StaticView {
    let mut t = Tree::new();
    let v = t.push_bytes(b"GET");
    t.push_node(NodeId::ROOT, Seg::Source(Source::Method), NodeKind::Leaf, v);
    let v = t.push_bytes(b"/api/users/7");
    t.push_node(NodeId::ROOT, Seg::Source(Source::Path), NodeKind::Leaf, v);
    let v = t.push_bytes(b"q=x");
    let q = t.push_node(NodeId::ROOT, Seg::Source(Source::Query), NodeKind::Leaf, v);
    let k = t.push_bytes(b"q");
    let v = t.push_bytes(b"x");
    t.push_node(
        q,
        Seg::Key {
            start: k.0,
            end: k.1,
        },
        NodeKind::Leaf,
        v,
    );
    StaticView {
        tree: t,
        client_ip: Some(b"192.0.2.1".to_vec()),
        ..StaticView::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match compile_str("fuzz.rules", &text) {
        Ok(prog) => {
            assert!(
                parser::matches_grammar(&text),
                "compiled but the grammar refuses it"
            );
            let Ok(eval) = Interpreter.compile(Arc::new(prog)) else {
                return;
            };
            let req = request();
            let mut counters = MemoryCounters::default();
            let mut out = Outcome::default();
            for phase in [RulePhase::Request, RulePhase::Response] {
                eval.evaluate(&req, phase, &mut counters, 1_000, &mut out);
            }
        }
        Err(d) => {
            assert!(!d.list.is_empty());
            let _ = d.render();
        }
    }
});
