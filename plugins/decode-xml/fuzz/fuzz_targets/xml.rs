//! Fuzzes the `xml` decoder, declared and speculative, with small limits:
//! it must never panic, must stay within the budget, and a failed
//! speculative decoding must report nothing.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rampart_decode_xml::XmlDecoder;
use rampart_plugin_api::testing::run;
use rampart_plugin_api::{DecodeError, Decoder, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_nesting: 16,
        max_nodes: 200,
        max_bytes: 16 << 10,
        max_time: Duration::from_secs(5),
        ..Limits::default()
    };
    for declared in [true, false] {
        if !declared && !XmlDecoder.sniff(data) {
            continue;
        }
        let o = run(
            &XmlDecoder,
            data,
            Some(b"application/xml"),
            declared,
            limits,
        );
        assert!(o.tree.len() <= limits.max_nodes as usize);
        assert!(o.tree.bytes_len() <= data.len() + limits.byte_cap(data.len()));
        if o.result == Err(DecodeError::NotThisFormat) {
            assert!(!declared && o.state.findings.is_empty());
        }
        if let Err(DecodeError::Malformed { rule, .. }) = &o.result {
            assert_eq!(*rule, "xml.malformed");
        }
        // Every point path renders, and every finding names a point.
        for (path, _) in o.points() {
            assert!(path.starts_with("body:xml"));
        }
        for f in &o.state.findings {
            assert!(f.point.index() < o.tree.len());
        }
    }
});
