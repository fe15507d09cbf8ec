//! Layer 1 of the learners: endpoints and what they do for the business.
//!
//! - [`templates`]: endpoint templates in the rule language's syntax
//!   (`/users/{id}/orders/{order_id}`) from the path shapes nodes report,
//!   with GraphQL operations and SOAP actions as endpoints of their own,
//!   lookup of raw paths and shapes, and reconciliation across releases.
//! - [`functions`]: the business function of each template (login, search,
//!   checkout, ...) from a burn classifier trained on the knowledge base
//!   shipped in `cloud/learn/kb/functions.tsv`.
//! - [`point`]: shaped point paths taken apart and written back.

pub mod functions;
pub mod point;
pub mod templates;

pub use functions::{Example, FunctionModel};
pub use templates::{
    learn, reconcile, Change, Operation, Param, ParamKind, Protocol, Template, TemplateSet,
};
