//! What the tables cannot show: hints, node kinds, finding scores and
//! spans.

use rampart_decode_layers::{JwtDecoder, UrlDecoder};
use rampart_plugin_api::testing::run;
use rampart_plugin_api::types::{NodeKind, Span};
use rampart_plugin_api::Limits;

#[test]
fn jwt_declares_both_parts_json_and_flags_alg_none_in_the_header() {
    // {"alg":"none"} . {"sub":"1"} . (no signature)
    let mut out = run(
        &JwtDecoder,
        b"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
        None,
        false,
        Limits::default(),
    );
    assert_eq!(out.result, Ok(()));
    assert_eq!(out.tree.node(out.layer).kind, NodeKind::Container);
    let kids: Vec<_> = out.tree.children(out.layer).collect();
    assert_eq!(kids.len(), 2);
    assert_eq!(out.tree.value(kids[0]), br#"{"alg":"none"}"#);
    assert_eq!(out.tree.value(kids[1]), br#"{"sub":"1"}"#);
    let hints = out.state.hints.clone();
    assert_eq!(hints.iter().map(|h| h.0).collect::<Vec<_>>(), kids);
    for (_, (s, e)) in hints {
        assert_eq!(
            &out.tree.buf_mut()[s as usize..e as usize],
            b"application/json"
        );
    }
    let f = &out.state.findings[0];
    assert_eq!(
        (f.rule.as_ref(), f.score, f.point),
        ("jwt.alg-none", 50, kids[0])
    );
    let header = out.tree.value(kids[0]);
    assert_eq!(
        &header[f.span.start as usize..f.span.end as usize],
        br#""alg":"none""#
    );
    assert_eq!(f.origin, "jwt");
}

#[test]
fn url_findings_have_scores_and_spans_in_the_decoded_value() {
    let out = run(
        &UrlDecoder,
        b"ab%u0041%zz%00%c0%ae",
        None,
        false,
        Limits::default(),
    );
    assert_eq!(out.result, Ok(()));
    let value = out.tree.value(out.layer);
    assert_eq!(value, b"abA%zz\0.");
    let by_rule = |r: &str| out.state.findings.iter().find(|f| f.rule == r).unwrap();
    let expect = [
        ("url.double-encoding", 20, Span::new(0, 8)),
        ("url.u-escape", 30, Span::new(2, 3)),
        ("url.invalid-escape", 10, Span::new(3, 4)),
        ("url.nul-byte", 30, Span::new(6, 7)),
        ("url.overlong-utf8", 40, Span::new(7, 8)),
    ];
    for (rule, score, span) in expect {
        let f = by_rule(rule);
        assert_eq!(
            (f.score, f.span, f.point),
            (score, span, out.layer),
            "{rule}"
        );
    }
    assert_eq!(out.state.findings.len(), expect.len());
}
