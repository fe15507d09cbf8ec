//! `console_sessions`: signed-in console users.

use sea_orm::entity::prelude::*;

/// A row of `console_sessions`: a browser's session after a login.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "console_sessions")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// SHA-256 (hex) of the session cookie; the cookie is never stored.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// Who signed in.
    pub user_id: i64,
    /// The anti-CSRF token the console sends back on every write.
    pub csrf: String,
    /// Sign-in time.
    pub created_at: DateTimeUtc,
    /// The session ends at this time (or at logout).
    pub expires_at: DateTimeUtc,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
