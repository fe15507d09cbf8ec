//! `learned_endpoints`: an endpoint template the learners reconstructed from
//! the path shapes nodes report, with its business function.
//!
//! The `endpoints` rows are the shapes as reported (`/users/{int}`); a
//! template (`/users/{user_id}`) covers one or more of them and survives a
//! release that changes them (`change` says how it moved in the last run).

use sea_orm::entity::prelude::*;

/// A row of `learned_endpoints`; unique on (`application_id`, `method`,
/// `template`, `operation`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "learned_endpoints")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning application.
    pub application_id: i64,
    /// HTTP method, upper case.
    pub method: String,
    /// Template in the rule language's syntax, e.g. `/users/{user_id}`.
    pub template: String,
    /// A GraphQL operation or SOAP action inside the endpoint; empty for none.
    pub operation: String,
    /// Business function label (e.g. `login`), when classified.
    pub function_label: Option<String>,
    /// Confidence of `function_label`, 0..=1.
    pub function_confidence: Option<f64>,
    /// How the last learning run found it: `new`, `changed`, `same` or `gone`.
    pub change: String,
    /// What the learner knows of it (shapes, parameters, points), a JSON document as text.
    pub detail: String,
    /// First time a learning run found it.
    pub first_seen_at: DateTimeUtc,
    /// Last time a learning run found it.
    pub last_seen_at: DateTimeUtc,
    /// Last write.
    pub updated_at: DateTimeUtc,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
