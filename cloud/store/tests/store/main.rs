//! Repository tests, on SQLite always and on PostgreSQL when
//! `RAMPART_TEST_POSTGRES` is set (see `common.rs` and the crate README).

// Test bodies are plain async fns run by the `on_both!` tests: a failed
// expectation is a panic, as in any test.
#![allow(clippy::panic)]

mod common;

mod applications;
mod inventory;
mod learning;
mod leases;
mod nodes;
mod rules;
mod scanning;
mod schema;
mod telemetry;
mod users;
