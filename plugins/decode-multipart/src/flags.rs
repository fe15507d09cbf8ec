//! The anomalies of one part, flagged once it is emitted.

use rampart_plugin_api::text::PctReport;
use rampart_plugin_api::{Emitter, NodeId, Span};

use crate::part::{Run, Seen};

/// What the flags of a part depend on besides its headers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PartFlags {
    pub ambiguous: bool,
    pub encoded: bool,
    pub named: bool,
    pub spaced: bool,
    pub no_end: bool,
}

impl Run<'_> {
    pub(crate) fn pct_flags(&self, out: &mut Emitter<'_>, node: NodeId, rep: &PctReport) {
        let checks = [
            (
                rep.invalid_escape,
                "url.invalid-escape",
                10,
                "invalid percent escape",
            ),
            (
                rep.overlong,
                "url.overlong-utf8",
                40,
                "overlong UTF-8 sequence",
            ),
            (rep.nul, "url.nul-byte", 30, "percent-encoded NUL byte"),
        ];
        for (at, rule, score, msg) in checks {
            if let Some(o) = at {
                self.flag(out, node, rule, score, Span::new(o, o + 1), msg);
            }
        }
    }

    pub(crate) fn part_flags(
        &self,
        out: &mut Emitter<'_>,
        node: NodeId,
        seen: &Seen,
        f: PartFlags,
    ) {
        let has_disp = seen.disposition.is_some();
        let checks: [(bool, &'static str, u8, &'static str); 10] = [
            (
                f.ambiguous,
                "multipart.ambiguous-disposition",
                30,
                "duplicate or conflicting name or filename: parsers disagree",
            ),
            (
                !has_disp && self.form_data,
                "multipart.no-disposition",
                10,
                "form-data part without Content-Disposition",
            ),
            (
                has_disp && self.form_data && !f.named,
                "multipart.no-name",
                10,
                "form-data part without a name",
            ),
            (
                f.spaced,
                "multipart.unquoted-space",
                10,
                "unquoted parameter value with whitespace",
            ),
            (
                seen.long,
                "multipart.long-header",
                10,
                "part header line over 8 KiB",
            ),
            (
                seen.folded,
                "multipart.folded-header",
                10,
                "part header folded over several lines",
            ),
            (
                seen.bad,
                "multipart.bad-header",
                10,
                "part header line that is not `Name: value`",
            ),
            (
                f.no_end,
                "multipart.no-header-end",
                10,
                "part without the blank line after its headers",
            ),
            (
                seen.dup_other,
                "multipart.duplicate-header",
                10,
                "repeated Content-Type or Content-Transfer-Encoding",
            ),
            (
                f.encoded,
                "multipart.transfer-encoding",
                5,
                "part body with a Content-Transfer-Encoding",
            ),
        ];
        for (on, rule, score, msg) in checks {
            if on {
                self.flag(out, node, rule, score, Span::default(), msg);
            }
        }
    }
}
