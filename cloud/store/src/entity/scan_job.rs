//! `scan_jobs`: payloads the scanner replays against an endpoint.

use sea_orm::entity::prelude::*;

use super::ScanJobState;

/// A row of `scan_jobs`; unique on (`application_id`, `dedup_key`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scan_jobs")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning application.
    pub application_id: i64,
    /// Target endpoint.
    pub endpoint_id: i64,
    /// Target request point.
    pub point: String,
    /// Attack class probed.
    pub class: String,
    /// Payload family (strategy) the payload comes from.
    pub payload_family: String,
    /// The payload to replay.
    pub payload: String,
    /// Life-cycle state.
    pub state: ScanJobState,
    /// Claims so far.
    pub attempts: i32,
    /// Pending: not before this time. Running: the claim expires at this time.
    pub next_attempt_at: DateTimeUtc,
    /// Error of the last failed attempt.
    pub last_error: Option<String>,
    /// Caller-built key; a job with the same key is not enqueued twice.
    pub dedup_key: String,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
