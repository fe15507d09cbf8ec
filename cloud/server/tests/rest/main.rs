//! The console REST API (`/api/v1`, `spec/console-api.openapi.yaml`) end
//! to end over HTTP on 127.0.0.1: every endpoint with an admin's console
//! session and API token, the authorization failures, and every answer
//! checked against the OpenAPI document. On SQLite always and on
//! PostgreSQL when `RAMPART_TEST_POSTGRES` is set (see `../cloud/common.rs`).

// Test bodies are plain async fns run by the `on_both!` tests: a failed
// expectation is a panic, as in any test.
#![allow(clippy::panic, clippy::unwrap_used)]

#[path = "../cloud/common.rs"]
mod common;

mod client;
mod schema;

mod attacks;
mod auth;
mod incidents;
mod inventory;
mod openapi;
mod rules;
