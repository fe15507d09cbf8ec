//! Fuzzes the `url` layer in both modes (see `common.rs` for the checks).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use rampart_decode_layers::UrlDecoder;

fuzz_target!(|data: &[u8]| common::check(&UrlDecoder, data, true));
