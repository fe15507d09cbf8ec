//! The closed sets of values some columns take, stored as short lowercase
//! text so that both databases read the same and a row is readable by eye.

use sea_orm::entity::prelude::*;

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum RuleOrigin {
    /// Written by a person.
    #[sea_orm(string_value = "custom")]
    Custom,
    /// Emitted by the learners.
    #[sea_orm(string_value = "learned")]
    Learned,
}

/// What a rule does when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum RuleState {
    /// Matches are recorded, requests pass.
    #[sea_orm(string_value = "monitoring")]
    Monitoring,
    /// Matching requests are blocked.
    #[sea_orm(string_value = "blocking")]
    Blocking,
    /// Not compiled into packs.
    #[sea_orm(string_value = "disabled")]
    Disabled,
}

/// A console user's or an API token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Role {
    /// Reads everything and changes everything.
    #[sea_orm(string_value = "admin")]
    Admin,
    /// Reads everything, triages incidents and rules.
    #[sea_orm(string_value = "analyst")]
    Analyst,
}

impl Role {
    /// Whether a holder of `self` may hand out `other` (an analyst may not
    /// create an admin token).
    pub fn covers(self, other: Role) -> bool {
        matches!(
            (self, other),
            (Role::Admin, _) | (Role::Analyst, Role::Analyst)
        )
    }
}

/// Life cycle of a scan job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum ScanJobState {
    /// Waiting for `next_attempt_at`.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Claimed by a worker until `next_attempt_at` (its lease).
    #[sea_orm(string_value = "running")]
    Running,
    /// Finished.
    #[sea_orm(string_value = "done")]
    Done,
    /// Given up.
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// Severity of an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Severity {
    /// Informational.
    #[sea_orm(string_value = "low")]
    Low,
    /// Should be looked at.
    #[sea_orm(string_value = "medium")]
    Medium,
    /// Exploitable.
    #[sea_orm(string_value = "high")]
    High,
    /// Exploitable with severe impact.
    #[sea_orm(string_value = "critical")]
    Critical,
}

/// Triage status of an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum IncidentStatus {
    /// New, nobody looked at it yet.
    #[sea_orm(string_value = "open")]
    Open,
    /// Someone is on it.
    #[sea_orm(string_value = "acknowledged")]
    Acknowledged,
    /// Fixed or accepted.
    #[sea_orm(string_value = "resolved")]
    Resolved,
    /// Not a real problem.
    #[sea_orm(string_value = "false_positive")]
    FalsePositive,
}

/// Delivery state of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum NotificationState {
    /// Waiting for `next_attempt_at`.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Claimed by a sender until `next_attempt_at` (its lease).
    #[sea_orm(string_value = "sending")]
    Sending,
    /// Delivered.
    #[sea_orm(string_value = "sent")]
    Sent,
    /// Given up.
    #[sea_orm(string_value = "failed")]
    Failed,
}
