//! The Rampart reverse-proxy node.
//!
//! A [`Node`] accepts HTTP/1.1 and HTTP/2 (cleartext) connections, buffers
//! each request body up to the inspection limit, asks the engine for a
//! verdict, and either answers with the block page or forwards the request
//! to the upstream over a pooled HTTP/1.1 client, streaming the response
//! back. Health and Prometheus metrics are served on a separate admin
//! listener. Rules in the rule language come from the node's own files
//! and from a signed rule pack that is reinstalled when its file changes.
//! Configuration: [`NodeConfig`] (node.toml).

#![forbid(unsafe_code)]

mod body;
mod config;
mod core;
mod forward;
mod metrics;
mod pages;
mod proxy;
mod rules;
mod server;
mod telemetry;

pub use crate::core::NodeCore;
pub use config::{Cidr, Inspection, NodeConfig, OverLimit, RulesConfig, Timeouts};
pub use forward::{new_request_id, request_id_or_new};
pub use metrics::Metrics;
pub use pages::page_body;
pub use server::Node;
pub use telemetry::{Telemetry, TelemetryConfig};
