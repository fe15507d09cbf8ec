//! Fuzzes the `ssti` detector: any bytes as a query parameter value.
//! It must never panic, report at most three findings about the point it
//! was given, of its class, with spans inside the value, each rule once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_detect_rce::SstiDetector;
use rampart_plugin_api::Class;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::check(&SstiDetector, Class::Ssti, "ssti", data);
});
