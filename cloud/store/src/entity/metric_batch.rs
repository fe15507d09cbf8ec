//! `metric_batches`: which metric uploads were ingested, for idempotence.

use sea_orm::entity::prelude::*;

/// A row of `metric_batches`; unique on (`node_id`, `seq`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "metric_batches")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning application.
    pub application_id: i64,
    /// Uploading node.
    pub node_id: i64,
    /// The node's batch sequence number.
    pub seq: i64,
    /// When it was ingested.
    pub received_at: DateTimeUtc,
    /// Size of the batch as the caller measures it (bytes or records).
    pub size: i64,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
