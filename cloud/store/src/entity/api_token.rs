//! `api_tokens`: bearer tokens of the REST API.

use sea_orm::entity::prelude::*;

use super::Role;

/// A row of `api_tokens`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// Free label (what the token is for).
    pub label: String,
    /// SHA-256 (hex) of the token; the token is never stored.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// Role the token grants (never above its user's).
    pub role: Role,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last successful authentication.
    pub last_used_at: Option<DateTimeUtc>,
    /// Revocation time; a revoked token no longer authenticates.
    pub revoked_at: Option<DateTimeUtc>,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
