//! Job leases: one cloud replica runs each periodic job.
//!
//! A lease is a row (job name, holder, expiry). Taking it is one atomic
//! statement either way: an `UPDATE ... WHERE name = ? AND (expires_at < now
//! OR holder = me)` that takes over an expired lease or renews one's own, or
//! an `INSERT ... ON CONFLICT DO NOTHING` that creates it. On PostgreSQL a
//! concurrent UPDATE waits for the row lock and re-checks its condition
//! against the committed row, and a concurrent INSERT of the same name waits
//! for the first and then does nothing; on SQLite writes are serialised. So
//! at most one holder gets a given lease, whatever the interleaving.
//!
//! Times come from each replica's clock: keep clocks in sync (NTP) and TTLs
//! well above the skew; renew at a fraction of the TTL.

use std::time::Duration as StdDuration;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TryInsertResult};

use super::{non_empty, ttl};
use crate::entity::job_lease;
use crate::error::Result;
use crate::{micros, now, Store, Timestamp};

impl Store {
    /// Takes or renews the lease of job `name` for `holder` (an identity
    /// unique per replica), for `ttl`. Returns whether `holder` now holds it.
    pub async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: StdDuration,
    ) -> Result<bool> {
        self.try_acquire_lease_at(name, holder, ttl, now()).await
    }

    /// [`Store::try_acquire_lease`] as if the time were `at` (for tests and
    /// callers with their own clock).
    pub async fn try_acquire_lease_at(
        &self,
        name: &str,
        holder: &str,
        ttl_: StdDuration,
        at: Timestamp,
    ) -> Result<bool> {
        non_empty(name, "lease name")?;
        non_empty(holder, "lease holder")?;
        let at = micros(at);
        let until = at + ttl(ttl_, "lease TTL")?;
        use job_lease::Column as L;
        let taken = job_lease::Entity::update_many()
            .col_expr(L::Holder, Expr::value(holder))
            .col_expr(L::AcquiredAt, Expr::value(at))
            .col_expr(L::ExpiresAt, Expr::value(until))
            .filter(L::Name.eq(name))
            .filter(L::ExpiresAt.lt(at).or(L::Holder.eq(holder)))
            .exec(&self.db)
            .await?;
        if taken.rows_affected == 1 {
            return Ok(true);
        }
        let row = job_lease::ActiveModel {
            name: Set(name.to_owned()),
            holder: Set(holder.to_owned()),
            acquired_at: Set(at),
            expires_at: Set(until),
        };
        let res = job_lease::Entity::insert(row)
            .on_conflict_do_nothing_on([L::Name])
            .exec_without_returning(&self.db)
            .await?;
        Ok(matches!(res, TryInsertResult::Inserted(1)))
    }

    /// Gives up the lease if `holder` has it. Returns whether it did.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<bool> {
        use job_lease::Column as L;
        let res = job_lease::Entity::delete_many()
            .filter(L::Name.eq(name))
            .filter(L::Holder.eq(holder))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// The current lease row of job `name`, if any (it may be expired).
    pub async fn lease(&self, name: &str) -> Result<Option<job_lease::Model>> {
        Ok(job_lease::Entity::find_by_id(name.to_owned())
            .one(&self.db)
            .await?)
    }
}
