//! `learned_profiles`: what a learner concluded about an endpoint or one of
//! its points (a format profile, a behaviour profile...).
//!
//! Kept apart from the statistics in `endpoints`/`parameters`: statistics are
//! raw aggregates merged on every upload, profiles are learner output replaced
//! wholesale on retraining and tagged with the model version that produced
//! them, so neither write path can clobber the other.

use sea_orm::entity::prelude::*;

/// A row of `learned_profiles`; unique on (`endpoint_id`, `point`, `kind`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "learned_profiles")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning application (denormalised for listing).
    pub application_id: i64,
    /// Endpoint the profile is about.
    pub endpoint_id: i64,
    /// Request point the profile is about; empty for an endpoint-level profile.
    pub point: String,
    /// Kind of profile (e.g. `format`, `behaviour`).
    pub kind: String,
    /// Version of the model that produced it.
    pub model_version: String,
    /// The profile, a JSON document as text.
    pub profile: String,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last replacement.
    pub updated_at: DateTimeUtc,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
