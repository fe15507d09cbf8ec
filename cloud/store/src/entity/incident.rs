//! `incidents`: confirmed findings (e.g. a scan that got through).

use sea_orm::entity::prelude::*;

use super::{IncidentStatus, Severity};

/// A row of `incidents`; unique on (`application_id`, `dedup_key`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incidents")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning application.
    pub application_id: i64,
    /// One-line summary.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Endpoint concerned, if any.
    pub endpoint_id: Option<i64>,
    /// Request point concerned, if any.
    pub point: Option<String>,
    /// Payload that showed the problem, if any.
    pub payload: Option<String>,
    /// Evidence, a JSON document as text.
    pub evidence: String,
    /// Triage status.
    pub status: IncidentStatus,
    /// Caller-built key; the same problem found again reuses the incident.
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
