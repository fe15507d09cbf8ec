//! Rampart as an NGINX dynamic module (`ngx_http_rampart_module`).
//!
//! Loaded with `load_module`, it inspects each request in NGINX's access
//! phase with the same engine, node.toml, rules, rule packs and cloud sync
//! as the proxy node (through `rampart-embed`), after NGINX buffered the
//! body (in memory or in its temp file), and answers a blocked request
//! with the node's block page. See README.md for the directives.
//!
//! `unsafe` lives in one module, [`ffi`]; the rest is safe code that the
//! unit tests run without NGINX.

// Without the FFI module (unit tests), the parts it calls look unused.
#![cfg_attr(test, allow(dead_code))]

mod conf;
#[cfg(not(test))]
mod ffi;
mod guard;
