//! `attack_events`: attacks reported by nodes.

use sea_orm::entity::prelude::*;

/// A row of `attack_events`; unique on (`node_id`, `request_id`, `rule`) so
/// that a retried upload does not duplicate events.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attack_events")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning application.
    pub application_id: i64,
    /// Reporting node.
    pub node_id: i64,
    /// When the request was seen (node clock).
    pub occurred_at: DateTimeUtc,
    /// Endpoint as the node names it (e.g. `POST /login`).
    pub endpoint: String,
    /// Request point of the malicious value.
    pub point: String,
    /// Attack class (e.g. `sqli`).
    pub class: String,
    /// Rule or detector that fired.
    pub rule: String,
    /// Score given.
    pub score: i32,
    /// What the node did (e.g. `block`, `monitor`).
    pub action: String,
    /// Malicious span of the payload, already cut and masked by the node.
    pub payload: String,
    /// Node-assigned request id.
    pub request_id: String,
    /// When the cloud stored it.
    pub received_at: DateTimeUtc,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
