//! `rule_packs`: compiled, versioned rule packs of an application.

use sea_orm::entity::prelude::*;

/// A row of `rule_packs`; unique on (`application_id`, `version`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rule_packs")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning application.
    pub application_id: i64,
    /// Version, increasing per application from 1.
    pub version: i64,
    /// Digest of `bytes` as the pack format defines it (e.g. hex SHA-256).
    pub digest: String,
    /// The pack as distributed to nodes.
    pub bytes: Vec<u8>,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Whether nodes may download it.
    pub published: bool,
    /// When it was published.
    pub published_at: Option<DateTimeUtc>,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
