//! Fuzzes the `multipart` decoder declared (with and without a boundary in
//! the media type) and speculatively, under small limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_decode_multipart::MultipartDecoder;
use rampart_plugin_api::testing::run;
use rampart_plugin_api::{Decoder, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_nodes: 300,
        max_bytes: 64 << 10,
        ..Limits::default()
    };
    let d = MultipartDecoder;
    let media: [Option<&[u8]>; 3] = [
        Some(b"multipart/form-data; boundary=b"),
        Some(b"multipart/mixed"),
        None,
    ];
    for mt in media {
        let o = run(&d, data, mt, true, limits);
        assert!(o.tree.len() <= limits.max_nodes as usize + 2);
        assert!(o.tree.bytes_len() <= o.state.byte_cap);
    }
    let _ = d.sniff(data);
    let o = run(&d, data, None, false, limits);
    assert!(o.result.is_err() || o.state.findings.is_empty());
});
