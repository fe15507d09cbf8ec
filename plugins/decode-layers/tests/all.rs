//! Integration tests of the layer decoders: the tables in `testdata/`
//! (points, findings and errors through `check_table`, the decoded layer
//! value through the extra `value` field), the sniffs, hostile input and
//! decompression bombs.

// Test helpers outside `#[test]` functions unwrap and panic too.
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "all/bombs.rs"]
mod bombs;
#[path = "all/budget.rs"]
mod budget;
#[path = "all/details.rs"]
mod details;
#[path = "all/hostile.rs"]
mod hostile;
#[path = "all/sniff.rs"]
mod sniff;
#[path = "all/tables.rs"]
mod tables;
