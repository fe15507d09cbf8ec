use rampart_plugin_api::text::PctReport;
use rampart_plugin_api::{Emitter, NodeId, Span};

/// Turns a percent-decoding report into anomaly findings on `node`.
/// `raw_len` is the length of the encoded input (for spans of escapes);
/// `out_len` the length of the decoded value (for spans in the output).
pub fn flag_report(out: &mut Emitter<'_>, node: NodeId, rep: &PctReport, raw_len: usize) {
    if let Some(at) = rep.invalid_escape {
        let span = Span::new(at, (at + 3).min(raw_len));
        out.flag(
            node,
            "url.invalid-escape",
            10,
            span,
            "'%' not followed by two hex digits",
        );
    }
    if let Some(at) = rep.u_escape {
        let span = Span::new(at, (at + 6).min(raw_len));
        out.flag(node, "url.u-escape", 20, span, "non-standard %uXXXX escape");
    }
    if let Some(at) = rep.overlong {
        out.flag(
            node,
            "url.overlong-utf8",
            40,
            Span::new(at, at + 1),
            "overlong UTF-8 sequence (normalised)",
        );
    }
    if let Some(at) = rep.nul {
        out.flag(
            node,
            "url.nul-byte",
            30,
            Span::new(at, at + 1),
            "NUL byte in value",
        );
    }
    if rep.invalid_utf8 {
        out.flag(
            node,
            "url.invalid-utf8",
            10,
            Span::default(),
            "value is not valid UTF-8",
        );
    }
}
