//! Fuzzes the SessionFixationDetector: any value at any of the places of
//! `common` must leave the detector's invariants intact.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use rampart_detect_injections::SessionFixationDetector;

fuzz_target!(|data: &[u8]| common::run(&SessionFixationDetector, data));
