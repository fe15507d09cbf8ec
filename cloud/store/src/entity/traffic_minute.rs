//! `traffic_minutes`: an application's traffic per minute, summed over
//! its nodes' batches (the console's plots).

use sea_orm::entity::prelude::*;

/// A row of `traffic_minutes`; unique on (`application_id`, `minute`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "traffic_minutes")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning application.
    pub application_id: i64,
    /// Start of the minute, Unix seconds (node clock), a multiple of 60.
    pub minute: i64,
    /// Requests the nodes saw.
    pub requests: i64,
    /// Requests blocked.
    pub blocked: i64,
    /// Requests only logged (monitor mode, monitoring rules).
    pub monitored: i64,
    /// Attack events reported.
    pub attacks: i64,
}

/// No navigable relations: the repository joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
