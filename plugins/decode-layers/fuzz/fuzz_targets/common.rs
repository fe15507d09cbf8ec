//! The checks every layer target makes: the decoder runs declared and
//! speculative with small limits, never panics, stays within the budget,
//! leaves nothing behind when it rejects, and agrees with itself: what
//! decodes speculatively decodes the same when declared.

use rampart_plugin_api::testing::{run, Outcome};
use rampart_plugin_api::{DecodeError, Decoder, Limits};

fn bounded(d: &dyn Decoder, data: &[u8], out: &Outcome, limits: Limits) {
    let cap = limits.byte_cap(data.len()).max(data.len());
    assert!(out.tree.bytes_len() <= cap + 64, "past the byte cap");
    assert!(out.tree.len() <= limits.max_nodes as usize + 3);
    if out.result == Err(DecodeError::NotThisFormat) {
        assert_eq!(
            out.tree.bytes_len(),
            data.len(),
            "{}: rejection left bytes",
            d.layer()
        );
        assert_eq!(out.tree.len(), 3, "{}: rejection left nodes", d.layer());
        assert!(out.state.findings.is_empty());
    }
}

pub fn check(d: &dyn Decoder, data: &[u8], flags_when_sniffed: bool) {
    let _ = d.sniff(data);
    let limits = Limits {
        max_nodes: 200,
        max_bytes: 1 << 16,
        ..Limits::default()
    };
    let declared = run(d, data, None, true, limits);
    let sniffed = run(d, data, None, false, limits);
    bounded(d, data, &declared, limits);
    bounded(d, data, &sniffed, limits);
    assert_ne!(
        declared.result,
        Err(DecodeError::NotThisFormat),
        "{} declared",
        d.layer()
    );
    if !flags_when_sniffed {
        assert!(
            sniffed.state.findings.is_empty(),
            "{} flagged speculatively",
            d.layer()
        );
    }
    if sniffed.result.is_ok() {
        assert_eq!(
            declared.result,
            Ok(()),
            "{}: speculative ok, declared not",
            d.layer()
        );
        assert!(declared.tree.value(declared.layer) == sniffed.tree.value(sniffed.layer));
        assert_eq!(declared.points(), sniffed.points());
    }
}
