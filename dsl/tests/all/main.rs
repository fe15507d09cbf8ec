//! The crate's integration tests, one binary.

mod diagnostics;
mod golden;
mod language;
mod robustness;
mod spec;
mod support;
