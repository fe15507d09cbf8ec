//! `parameters`: a request point of an endpoint (a query parameter, a JSON leaf...).

use sea_orm::entity::prelude::*;

/// A row of `parameters`; unique on (`endpoint_id`, `point`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "parameters")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning application (denormalised from the endpoint for listing).
    pub application_id: i64,
    /// Owning endpoint.
    pub endpoint_id: i64,
    /// Request-point path, e.g. `query["q"]` or `body > json > .user.email`.
    pub point: String,
    /// Learned format label (e.g. `email`, `integer`), when classified.
    pub format_label: Option<String>,
    /// Confidence of `format_label`, 0..=1.
    pub format_confidence: Option<f64>,
    /// Whether the values look like personal data (masked in events).
    pub personal_data: bool,
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
