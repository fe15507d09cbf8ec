//! `client_windows`: the per-client aggregates of one node batch (keyed
//! hashes of client addresses and sessions, never the addresses), kept for
//! the behaviour layer and pruned after the retention period.

use sea_orm::entity::prelude::*;

/// A row of `client_windows`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client_windows")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning application.
    pub application_id: i64,
    /// Node that sent the batch.
    pub node_id: i64,
    /// Batch window start, Unix seconds (node clock).
    pub window_start: i64,
    /// Batch window end, Unix seconds (node clock).
    pub window_end: i64,
    /// The client's keyed hash, as the node sent it.
    pub client: String,
    /// `ip` or `session`.
    pub kind: String,
    /// The client's aggregates (`rampart_telemetry::ClientStats`), JSON as text.
    pub stats: String,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
