//! Tests of the injection detectors: per-class tables (`testdata/*.json`),
//! the benign set (`testdata/benign.txt`), the public corpora and hostile
//! inputs. Timing is measured by `benches/injections.rs`, never asserted.

// Table and corpus loaders report malformed data by panicking.
#![allow(clippy::panic)]

mod corpus;
mod hostile;
mod support;
mod tables;
