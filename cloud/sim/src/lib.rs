//! Rampart's traffic simulator, the ground truth of the learners' evaluation.
//!
//! - [`app`]: the model of an application (endpoints, their business
//!   functions, parameters and formats, objects, users);
//! - [`mod@generate`]: synthetic applications of several styles from a seed, and
//!   [`generate::demo_shop`], the ground truth of the built-in demo shop;
//! - [`values`]: realistic values of every [`rampart_learn::ParamFormat`];
//! - [`traffic`]: normal user sessions and attack scenarios as timed requests,
//!   each with its ground truth;
//! - [`server`]: an upstream server that answers a synthetic application's
//!   requests like the real thing;
//! - [`driver`]: replays requests over HTTP/1.1 with bounded concurrency.
//!
//! Everything is deterministic for a seed.

#![warn(missing_docs)]

pub mod app;
pub mod driver;
pub mod generate;
pub mod rng;
pub mod server;
pub mod traffic;
pub mod values;

pub use app::{App, BodyKind, EndpointSpec, IdKind, Loc, ParamSpec, PathParam, Style, User};
pub use generate::{demo_shop, generate};
pub use rng::Rng;
pub use traffic::{Schedule, SimRequest, Truth};
pub use values::ValueGen;
