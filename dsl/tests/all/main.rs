//! The crate's integration tests, one binary.

mod diagnostics;
mod golden;
#[cfg(feature = "jit")]
mod jit;
mod language;
mod robustness;
mod spec;
mod support;
