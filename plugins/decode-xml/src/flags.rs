//! Findings: anomalies flagged at once in declared mode, held back in
//! speculative mode until the decoding is known to succeed (a failed
//! speculative decoding must leave no trace), and bounded in number.

use rampart_plugin_api::{DecodeError, NodeId, Span};

use crate::parser::Parser;

/// A finding held back until a speculative decoding is known to succeed.
#[derive(Debug)]
pub(crate) struct Note {
    node: NodeId,
    rule: &'static str,
    score: u8,
    span: Span,
    message: &'static str,
}

pub(crate) const MALFORMED: &str = "xml.malformed";
pub(crate) const ENTITY_REF: &str = "xml.entity-reference";
const ENTITY_REF_MSG: &str = "reference to an entity that is not predefined (left unexpanded)";
/// At most this many `xml.malformed` flags per document.
const MAX_MALFORMED: u8 = 16;
/// At most this many findings held back in speculative mode.
const MAX_NOTES: usize = 64;

impl Parser<'_, '_, '_> {
    /// The document ends inside a construct (the first one is reported).
    pub(crate) fn truncated(&mut self, at: usize, msg: &'static str) {
        self.eof.get_or_insert((at, msg));
    }

    /// A defect at input offset `at`: not XML at all when speculative;
    /// otherwise flagged on the layer point and decoding goes on.
    pub(crate) fn malformed(&mut self, at: usize, msg: &'static str) -> Result<(), DecodeError> {
        if !self.declared {
            return Err(DecodeError::NotThisFormat);
        }
        let root = self.out.root();
        self.flag_malformed(root, Span::new(at, at + 1), msg);
        Ok(())
    }

    /// Flags `xml.malformed` on a point (a bounded number of times).
    pub(crate) fn flag_malformed(&mut self, node: NodeId, span: Span, msg: &'static str) {
        if self.malformed_flags < MAX_MALFORMED {
            self.malformed_flags += 1;
            self.note(node, MALFORMED, 10, span, msg);
        }
    }

    /// Flags an unexpanded entity reference found at `at..end` of a value.
    pub(crate) fn flag_entity_ref(&mut self, node: NodeId, at: (u32, u32)) {
        let span = Span::new(at.0 as usize, at.1 as usize);
        self.note(node, ENTITY_REF, 20, span, ENTITY_REF_MSG);
    }

    /// Reports a finding: at once when declared, held back when speculative.
    pub(crate) fn note(
        &mut self,
        node: NodeId,
        rule: &'static str,
        score: u8,
        span: Span,
        message: &'static str,
    ) {
        if self.declared {
            self.out.flag(node, rule, score, span, message);
        } else if self.notes.len() < MAX_NOTES {
            self.notes.push(Note {
                node,
                rule,
                score,
                span,
                message,
            });
        }
    }

    /// Reports the findings held back by a speculative decoding.
    pub(crate) fn flush_notes(&mut self) {
        for n in self.notes.drain(..) {
            self.out.flag(n.node, n.rule, n.score, n.span, n.message);
        }
    }
}
