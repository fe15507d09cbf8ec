//! The Rampart reverse-proxy node.
//!
//! A [`Node`] accepts HTTP/1.1 and HTTP/2 (cleartext) connections, buffers
//! each request body up to the inspection limit, asks the engine for a
//! verdict, and either answers with the block page or forwards the request
//! to the upstream over a pooled HTTP/1.1 client, streaming the response
//! back. Health and Prometheus metrics are served on a separate admin
//! listener. Configuration: [`NodeConfig`] (node.toml).

#![forbid(unsafe_code)]

mod body;
mod config;
mod forward;
mod metrics;
mod pages;
mod proxy;
mod server;

pub use config::{Cidr, Inspection, NodeConfig, OverLimit, Timeouts};
pub use metrics::Metrics;
pub use server::Node;
