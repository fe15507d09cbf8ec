//! `applications`: one protected application (a set of nodes sharing rules).

use sea_orm::entity::prelude::*;

/// A row of `applications`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Unique name.
    #[sea_orm(unique)]
    pub name: String,
    /// How often the rule pack is rebuilt, in seconds (default 900).
    pub pack_schedule_secs: i64,
    /// Further settings, a JSON object as text (default `{}`).
    pub settings: String,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change of this row.
    pub updated_at: DateTimeUtc,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
