//! Repository functions, as `impl Store` blocks grouped by subject.

mod applications;
mod console;
mod inventory;
mod learning;
mod leases;
mod nodes;
mod rules;
mod scanning;
mod telemetry;
mod users;

pub use applications::DEFAULT_PACK_SCHEDULE_SECS;
pub use console::{AttackQuery, NewSession, TrafficCounts};
pub use inventory::Ingest;
pub use learning::{NewBehaviourAlert, NewClientWindow, NewLearnedEndpoint};
pub use nodes::Heartbeat;
pub use rules::NewRule;
pub use scanning::{NewIncident, NewScanJob, OpenedIncident};
pub use telemetry::NewAttackEvent;
pub use users::ApiPrincipal;

use std::time::Duration as StdDuration;

use sea_orm::sea_query::{Alias, Expr, Func, Query};
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::migration::MIGRATIONS_TABLE;

/// Highest applied schema version; 0 when the bookkeeping table is missing.
pub(crate) async fn schema_version<C: ConnectionTrait>(db: &C) -> Result<i64> {
    let q = Query::select()
        .expr_as(Func::max(Expr::col("version")), Alias::new("v"))
        .from(MIGRATIONS_TABLE)
        .take();
    match db.query_one(&q).await {
        Ok(Some(row)) => Ok(row.try_get::<Option<i64>>("", "v")?.unwrap_or(0)),
        Ok(None) => Ok(0),
        // The bookkeeping table does not exist yet: nothing was migrated.
        Err(DbErr::Exec(_)) | Err(DbErr::Query(_)) => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// Parses a JSON text column.
pub(crate) fn parse_json(text: &str, column: &'static str) -> Result<Value> {
    serde_json::from_str(text).map_err(|source| Error::Json { column, source })
}

/// A time-to-live as a chrono duration, refusing absurd values.
pub(crate) fn ttl(d: StdDuration, what: &str) -> Result<chrono::Duration> {
    chrono::Duration::from_std(d)
        .ok()
        .filter(|d| *d <= chrono::Duration::days(365 * 100))
        .ok_or_else(|| Error::Invalid(format!("{what} of {d:?} is too long")))
}

/// Refuses an empty (or blank) string argument.
pub(crate) fn non_empty(value: &str, what: &str) -> Result<()> {
    if value.trim().is_empty() {
        Err(Error::Invalid(format!("{what} must not be empty")))
    } else {
        Ok(())
    }
}

/// Maps sea-orm's "no row updated" to [`Error::NotFound`].
pub(crate) fn updated<T>(res: Result<T, DbErr>, what: impl FnOnce() -> String) -> Result<T> {
    match res {
        Ok(v) => Ok(v),
        Err(DbErr::RecordNotUpdated) | Err(DbErr::RecordNotFound(_)) => {
            Err(Error::NotFound(what()))
        }
        Err(e) => Err(e.into()),
    }
}

/// A caller's row limit as the databases take it: SQLite binds limits as
/// signed 64-bit integers (`u64::MAX` would not bind), so "no limit" is
/// capped at 2^40 rows.
pub(crate) fn row_limit(limit: u64) -> u64 {
    limit.min(1 << 40)
}
