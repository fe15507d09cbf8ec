//! Fuzzes the `bearer` decoder, declared and speculatively, under small limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_decode_http::BearerDecoder;
use rampart_plugin_api::testing::run;
use rampart_plugin_api::Limits;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_nodes: 100,
        max_bytes: 64 << 10,
        ..Limits::default()
    };
    for declared in [true, false] {
        let o = run(&BearerDecoder, data, None, declared, limits);
        assert!(o.tree.len() <= limits.max_nodes as usize + 2);
        assert!(o.tree.bytes_len() <= o.state.byte_cap);
        if !declared {
            assert!(o.state.findings.is_empty());
        }
    }
});
