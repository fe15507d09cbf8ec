//! Rampart's shared vocabulary, the leaf crate every other crate builds on.
//!
//! - [`Phase`]: where in a transaction the engine is.
//! - [`Request`]: the raw view of an HTTP request an adapter hands to the engine.
//! - [`Tree`], [`NodeId`], [`Seg`]: the request-point tree built by decoding
//!   (syntax in `spec/request-points.md`).
//! - [`Finding`], [`Class`]: what decoders and detectors report.
//! - [`Verdict`], [`Mode`]: what the engine decides and how the adapter acts.
//! - [`Limits`]: the per-request decoding budget.
//!
//! No tokio, no I/O: this crate is data and the few pure functions over it.

#![forbid(unsafe_code)]

mod budget;
mod finding;
mod phase;
mod request;
mod tree;
mod verdict;

pub use budget::{Exhausted, LimitKind, Limits};
pub use finding::{Class, Finding, Span};
pub use phase::Phase;
pub use request::{Header, Request};
pub use tree::{Node, NodeId, NodeKind, PathDisplay, Seg, Source, Tree};
pub use verdict::{Action, Mode, Verdict};
