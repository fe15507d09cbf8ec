//! sea-orm entities: one module per table.
//!
//! The repository functions on [`crate::Store`] are the supported way to
//! change these tables; the entities are public so that read-only queries the
//! repository does not offer (reports, consoles) can be written with sea-orm
//! directly through [`crate::Store::db`].
//!
//! Conventions: every table has a `BIGINT` surrogate key `id` (except
//! `job_leases`, keyed by the job name); timestamps are UTC; JSON documents
//! are stored as text and parsed by the repository; secrets are never stored,
//! only their hashes (see [`crate::secret`]).

pub mod api_token;
pub mod application;
pub mod attack_event;
pub mod behaviour_alert;
pub mod client_window;
pub mod console_session;
pub mod endpoint;
pub mod enrollment_token;
pub mod incident;
pub mod job_lease;
pub mod learned_endpoint;
pub mod learned_profile;
pub mod metric_batch;
pub mod node;
pub mod notification;
pub mod parameter;
pub mod rule;
pub mod rule_pack;
pub mod scan_job;
pub mod traffic_minute;
pub mod user;

mod enums;
pub use enums::{
    IncidentStatus, NotificationState, Role, RuleOrigin, RuleState, ScanJobState, Severity,
};
