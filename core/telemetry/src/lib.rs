//! What a Rampart node tells the cloud, and nothing more.
//!
//! A node folds every inspected request into the aggregates of a window
//! ([`Aggregator`]) and uploads them as a [`Batch`]: per endpoint (a method
//! and a path *shape* such as `/api/users/{int}`) and per request point,
//! counts, length histograms, character-class distributions, format votes
//! and distinct-value sketches over keyed hashes; status and latency
//! distributions; per-client behaviour keyed by salted hashes of the
//! client's address and session. No value of ordinary traffic leaves: a
//! path segment or member name is reported as itself only when it looks
//! like a route word and at least k distinct clients sent it, otherwise
//! as the placeholder of its format. The only raw bytes in a batch are the
//! payloads of attack events, each cut to its finding's span, with masked
//! points left out. `spec/metrics-privacy.md` is the contract.

#![forbid(unsafe_code)]

pub mod aggregate;
pub mod batch;
pub mod shape;
pub mod sketch;

pub use aggregate::{Aggregator, Config, Observation};
pub use batch::{AttackEvent, Batch, ClientStats, EndpointStats, FindingEvent, PointStats};
pub use shape::{format_of, Format};
pub use sketch::{Distinct, LogHistogram};
