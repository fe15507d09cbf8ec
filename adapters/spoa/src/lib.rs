//! Rampart as a HAProxy SPOE agent (`rampart spoa`).
//!
//! HAProxy's SPOE filter sends each HTTP request (method, path, query,
//! headers, the buffered body, the client address) to this agent in a
//! `rampart-req` message over SPOP; the agent inspects it with the same
//! engine, node.toml, rules, rule packs and cloud sync as the proxy node
//! ([`rampart_embed::Guard`]) and answers transaction variables that
//! `http-request deny` rules act on. See the README and
//! examples/haproxy/ for the HAProxy side.
//!
//! Layers: [`codec`] (SPOP frames, no I/O), [`server`] and the connection
//! loop (tokio, pipelined NOTIFY/ACK, a [`Handler`] per NOTIFY on the
//! blocking pool), [`request`] and [`verdict`] (the Rampart handler).

#![forbid(unsafe_code)]

pub mod codec;
mod conn;
pub mod headers;
pub mod request;
pub mod server;
pub mod verdict;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use rampart_embed::{Guard, Mode, NodeConfig};
pub use server::{Agent, AgentConfig, Handler};
pub use verdict::RampartHandler;

/// Room for the request line, headers and message overhead on top of the
/// body in one NOTIFY frame.
pub const FRAME_HEADROOM: usize = 256 * 1024;

/// The agent's limits for a guard: frames up to the body limit plus
/// [`FRAME_HEADROOM`] (at least 64 KiB), node.toml's `max_connections` and
/// shutdown grace.
pub fn agent_config(guard: &Guard) -> AgentConfig {
    let c = guard.config();
    let frame = guard
        .body_limit()
        .saturating_add(FRAME_HEADROOM)
        .max(64 * 1024);
    AgentConfig {
        max_frame_size: u32::try_from(frame).unwrap_or(u32::MAX),
        max_connections: c.max_connections.max(1),
        shutdown_grace: Duration::from_millis(c.timeouts.shutdown_ms),
        ..AgentConfig::default()
    }
}

/// Binds the agent for `guard` on `listen`. `mode` overrides node.toml's.
pub async fn bind(
    guard: Guard,
    listen: SocketAddr,
    mode: Option<Mode>,
) -> std::io::Result<Agent<RampartHandler>> {
    let config = agent_config(&guard);
    Agent::bind(listen, Arc::new(RampartHandler::new(guard, mode)), config).await
}
