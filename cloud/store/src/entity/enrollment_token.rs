//! `enrollment_tokens`: one-time tokens a node trades for its credential.

use sea_orm::entity::prelude::*;

/// A row of `enrollment_tokens`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enrollment_tokens")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Application the enrolled node will belong to.
    pub application_id: i64,
    /// SHA-256 (hex) of the token; the token is never stored.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// The token is refused from this time on.
    pub expires_at: DateTimeUtc,
    /// When it was used (a token is used at most once).
    pub used_at: Option<DateTimeUtc>,
    /// The node it enrolled.
    pub used_by_node_id: Option<i64>,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
