//! `behaviour_alerts`: a client the behaviour layer found abusive.

use sea_orm::entity::prelude::*;

/// A row of `behaviour_alerts`; unique on (`application_id`, `client`,
/// `threat`, `window_end`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "behaviour_alerts")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning application.
    pub application_id: i64,
    /// The client's keyed hash (empty for an application-wide alert).
    pub client: String,
    /// `ip`, `session` or `application`.
    pub kind: String,
    /// The threat (`brute_force`, `credential_stuffing`, ...).
    pub threat: String,
    /// Anomaly score.
    pub score: f64,
    /// Why, in words.
    pub explanation: String,
    /// End of the window the alert is about, Unix seconds (node clock).
    pub window_end: i64,
    /// When the cloud raised it.
    pub created_at: DateTimeUtc,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
