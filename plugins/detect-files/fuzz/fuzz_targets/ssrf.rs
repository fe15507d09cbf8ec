//! Fuzzes the `ssrf` detector: the first byte picks where the value sits
//! (a query parameter, the URL path, an upload file name, a header, a
//! JSON key, under zero to three decoding layers); the rest is the value.
//! The detector must never panic, report only `ssrf.*` findings of its
//! class about the point it was given, with spans inside the value and
//! scores in 1..=100, each rule once.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use rampart_detect_files::SsrfDetector;
use rampart_plugin_api::Class;

fuzz_target!(|data: &[u8]| common::check(&SsrfDetector, Class::Ssrf, "ssrf.", data));
