//! Fuzzes the `gzip` layer in both modes (see `common.rs` for the checks).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use rampart_decode_layers::GzipDecoder;

fuzz_target!(|data: &[u8]| common::check(&GzipDecoder, data, false));
