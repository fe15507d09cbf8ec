//! `nodes`: an enrolled WAF node.

use sea_orm::entity::prelude::*;

/// A row of `nodes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "nodes")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning application.
    pub application_id: i64,
    /// Name the node gave itself (not unique: a replaced host may reuse it).
    pub name: String,
    /// SHA-256 (hex) of the node's credential; the credential is never stored.
    #[sea_orm(unique)]
    pub credential_hash: String,
    /// Node software version, as last reported.
    pub version: String,
    /// Rule-pack version the node last reported running.
    pub rule_pack_version: Option<i64>,
    /// Time of the last heartbeat.
    pub last_heartbeat_at: Option<DateTimeUtc>,
    /// Counters of the last heartbeat, a JSON document as text.
    pub counters: String,
    /// Enrollment time.
    pub enrolled_at: DateTimeUtc,
    /// Last change of this row.
    pub updated_at: DateTimeUtc,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
