//! Fuzzes the GraphQL decoder in both modes with small limits: it must
//! never panic, stay within the budget, and agree with itself across modes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_decode_graphql::GraphqlDecoder;
use rampart_plugin_api::testing::run;
use rampart_plugin_api::{DecodeError, Decoder, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_nesting: 12,
        max_nodes: 200,
        max_bytes: 1 << 16,
        ..Limits::default()
    };
    let declared = run(
        &GraphqlDecoder,
        data,
        Some(b"application/graphql"),
        true,
        limits,
    );
    let sniffed = run(&GraphqlDecoder, data, None, false, limits);
    for o in [&declared, &sniffed] {
        assert!(o.tree.len() <= limits.max_nodes as usize + 3);
    }
    assert!(!matches!(declared.result, Err(DecodeError::NotThisFormat)));
    assert!(!matches!(
        sniffed.result,
        Err(DecodeError::Malformed { .. })
    ));
    assert!(sniffed
        .findings()
        .iter()
        .all(|f| f == "graphql.introspection"));
    let _ = GraphqlDecoder.sniff(data);
    if sniffed.result.is_ok() {
        // What is GraphQL speculatively is GraphQL when declared, same points.
        assert_eq!(declared.result, Ok(()));
        assert_eq!(declared.points(), sniffed.points());
    }
});
