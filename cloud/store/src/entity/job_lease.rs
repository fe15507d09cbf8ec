//! `job_leases`: which cloud replica runs a periodic job, until when.

use sea_orm::entity::prelude::*;

/// A row of `job_leases`, keyed by the job name.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_leases")]
pub struct Model {
    /// Job name.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// Identity of the replica holding the lease.
    pub holder: String,
    /// When the current holder took it.
    pub acquired_at: DateTimeUtc,
    /// The lease may be taken over from this time on.
    pub expires_at: DateTimeUtc,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
