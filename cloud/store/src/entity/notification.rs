//! `notifications`: outgoing messages about incidents (webhooks...).

use sea_orm::entity::prelude::*;

use super::NotificationState;

/// A row of `notifications`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Incident notified about.
    pub incident_id: i64,
    /// Channel name (e.g. a configured webhook).
    pub channel: String,
    /// Message, a JSON document as text.
    pub payload: String,
    /// Delivery state.
    pub state: NotificationState,
    /// Claims so far.
    pub attempts: i32,
    /// Pending: not before this time. Sending: the claim expires at this time.
    pub next_attempt_at: DateTimeUtc,
    /// Error of the last failed attempt.
    pub last_error: Option<String>,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
