//! The path decoder: never panics, stays in budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_decode_url::PathDecoder;
use rampart_plugin_api::testing::run;
use rampart_plugin_api::Limits;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_nodes: 200, max_bytes: 1 << 16, ..Limits::default() };
    let o = run(&PathDecoder, data, None, true, limits);
    assert!(o.tree.len() <= limits.max_nodes as usize + 3);
});
