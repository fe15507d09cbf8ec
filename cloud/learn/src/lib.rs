//! Rampart's learners: from the aggregates nodes send (`rampart-telemetry`
//! batches, never raw values) to endpoint templates and business functions,
//! parameter formats and client behaviour, and from those to rules in the
//! rule language.

pub mod behaviour;
pub mod endpoints;
pub mod formats;
pub mod labels;
pub mod nn;
pub mod rulegen;

pub use labels::{Function, ParamFormat, Threat};
