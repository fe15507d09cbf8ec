//! The form decoder in both modes with small limits: never panics, stays in
//! budget, and what decodes speculatively decodes identically when declared.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_decode_url::FormDecoder;
use rampart_plugin_api::testing::run;
use rampart_plugin_api::{DecodeError, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_nesting: 8, max_nodes: 200, max_bytes: 1 << 16, ..Limits::default() };
    let declared = run(&FormDecoder, data, None, true, limits);
    let sniffed = run(&FormDecoder, data, None, false, limits);
    for o in [&declared, &sniffed] {
        assert!(o.tree.len() <= limits.max_nodes as usize + 3);
    }
    assert!(!matches!(declared.result, Err(DecodeError::NotThisFormat)));
    if sniffed.result.is_ok() {
        assert_eq!(declared.points(), sniffed.points());
    }
});
