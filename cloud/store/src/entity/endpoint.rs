//! `endpoints`: an application endpoint (method + path template) found by the learners.

use sea_orm::entity::prelude::*;

/// A row of `endpoints`; unique on (`application_id`, `method`, `template`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "endpoints")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning application.
    pub application_id: i64,
    /// HTTP method, upper case.
    pub method: String,
    /// Path template, e.g. `/users/{id}`.
    pub template: String,
    /// Business function label (e.g. `login`), when classified.
    pub function_label: Option<String>,
    /// Confidence of `function_label`, 0..=1.
    pub function_confidence: Option<f64>,
    /// First time seen.
    pub first_seen_at: DateTimeUtc,
    /// Last time seen.
    pub last_seen_at: DateTimeUtc,
    /// Aggregated statistics, a JSON document as text; `None` before the first merge.
    pub stats: Option<String>,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
