//! `rules`: the rules (DSL source) of an application.

use sea_orm::entity::prelude::*;

use super::{RuleOrigin, RuleState};

/// A row of `rules`; unique on (`application_id`, `rule_id`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "rules")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning application.
    pub application_id: i64,
    /// Rule identifier as written in the rule language.
    pub rule_id: String,
    /// Rule source text.
    pub source: String,
    /// Custom or learned.
    pub origin: RuleOrigin,
    /// Monitoring, blocking or disabled.
    pub state: RuleState,
    /// Why the rule exists (for learned rules: what the learner saw).
    pub explanation: String,
    /// Learner confidence, 0..=1 (custom rules: none).
    pub confidence: Option<f64>,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
