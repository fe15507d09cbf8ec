//! The node protocol end to end over HTTP on 127.0.0.1, on SQLite always
//! and on PostgreSQL when `RAMPART_TEST_POSTGRES` is set (see `common.rs`).

// Test bodies are plain async fns run by the `on_both!` tests: a failed
// expectation is a panic, as in any test.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

mod batches;
mod enroll;
mod learning;
mod openapi;
mod packs;
mod replicas;
mod scanning;
