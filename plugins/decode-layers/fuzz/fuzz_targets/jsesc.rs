//! Fuzzes the `jsesc` layer in both modes (see `common.rs` for the checks).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use rampart_decode_layers::JsEscapeDecoder;

fuzz_target!(|data: &[u8]| common::check(&JsEscapeDecoder, data, false));
