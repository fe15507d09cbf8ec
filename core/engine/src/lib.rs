//! The Rampart engine: decode, detect, decide.
//!
//! An adapter builds an [`Engine`] once from a [`Registry`] of plugins and an
//! [`EngineConfig`], then calls [`Engine::inspect`] for every request. The
//! engine
//! 1. decodes the request into a tree of request points, recursively
//!    (`decode`), inside the per-request budget;
//! 2. runs every detector on every leaf (`detect`);
//! 3. evaluates the rule language's rules, its own and a rule pack's, over
//!    the points and findings (`rules`);
//! 4. turns the findings and what the rules said into a [`Verdict`] under
//!    the filtration mode and the policy (`decide`).
//!
//! See `docs/ARCHITECTURE.md` for the walk from configuration to verdict and
//! `examples/` for a runnable node.

mod config;
mod decide;
mod decode;
mod detect;
mod engine;
pub mod http1;
mod inspection;
pub mod loader;
pub mod rules;
mod wellformed;

pub use config::{ConfigError, EngineConfig, LimitAction, LimitsConfig, PluginFailure, Policy};
pub use engine::{BuildError, Engine};
pub use inspection::Inspection;
pub use rules::{Backend, RuleDecision, RuleSet, RulesReport};

pub use rampart_plugin_api::{Origin, Registry};
pub use rampart_types::{Action, Class, Finding, Mode, Request, Verdict};
