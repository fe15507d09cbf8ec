//! What the console reads and keeps: sign-in sessions, traffic per minute,
//! attack search, rule packs by version.

use std::time::Duration as StdDuration;

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::inventory::Ingest;
use super::ttl;
use crate::entity::{attack_event, console_session, rule_pack, scan_job, traffic_minute, user};
use crate::error::Result;
use crate::secret::{generate_token, hash_secret};
use crate::{now, Store, Timestamp};

/// A console session just created: the cookie value and the anti-CSRF
/// token are shown here only.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The cookie value.
    pub token: String,
    /// The anti-CSRF token.
    pub csrf: String,
    /// The stored row.
    pub session: console_session::Model,
}

/// One minute of an application's traffic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrafficCounts {
    /// Requests seen.
    pub requests: i64,
    /// Requests blocked.
    pub blocked: i64,
    /// Requests only logged.
    pub monitored: i64,
    /// Attack events.
    pub attacks: i64,
}

/// A search of attack events; every field narrows it.
#[derive(Debug, Clone, Default)]
pub struct AttackQuery<'a> {
    /// Substring of the endpoint, point, payload, rule or request id
    /// (case-insensitive for ASCII).
    pub text: Option<&'a str>,
    /// Exact class.
    pub class: Option<&'a str>,
    /// Exact action (`block`, `monitor`, ...).
    pub action: Option<&'a str>,
    /// Only ids below this one (paging, newest first).
    pub before: Option<i64>,
    /// At most this many (capped at 500).
    pub limit: u64,
}

impl Store {
    /// Signs a user in for `lifetime`: a new session with fresh random
    /// cookie and anti-CSRF values (the cookie is stored hashed).
    pub async fn create_console_session(
        &self,
        user_id: i64,
        lifetime: StdDuration,
    ) -> Result<NewSession> {
        let token = generate_token()?;
        let csrf = generate_token()?;
        let t = now();
        let session = console_session::ActiveModel {
            token_hash: Set(hash_secret(&token)),
            user_id: Set(user_id),
            csrf: Set(csrf.clone()),
            created_at: Set(t),
            expires_at: Set(t + ttl(lifetime, "session lifetime")?),
            ..Default::default()
        };
        let session = sea_orm::ActiveModelTrait::insert(session, &self.db).await?;
        Ok(NewSession {
            token,
            csrf,
            session,
        })
    }

    /// The live session with this cookie value and its user; `None` when
    /// unknown, ended or expired.
    pub async fn console_session(
        &self,
        token: &str,
    ) -> Result<Option<(console_session::Model, user::Model)>> {
        use console_session::Column as S;
        let Some(s) = console_session::Entity::find()
            .filter(S::TokenHash.eq(hash_secret(token)))
            .filter(S::ExpiresAt.gt(now()))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let u = user::Entity::find_by_id(s.user_id).one(&self.db).await?;
        Ok(u.map(|u| (s, u)))
    }

    /// Ends the session with this cookie value; `false` when there was none.
    pub async fn end_console_session(&self, token: &str) -> Result<bool> {
        use console_session::Column as S;
        let res = console_session::Entity::delete_many()
            .filter(S::TokenHash.eq(hash_secret(token)))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Deletes expired sessions; returns how many.
    pub async fn prune_console_sessions(&self) -> Result<u64> {
        use console_session::Column as S;
        let res = console_session::Entity::delete_many()
            .filter(S::ExpiresAt.lte(now()))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }

    /// The application's traffic per minute from `from` (Unix seconds,
    /// node clock) on, oldest first; minutes without traffic are absent.
    pub async fn traffic_minutes(
        &self,
        application_id: i64,
        from: i64,
    ) -> Result<Vec<traffic_minute::Model>> {
        use traffic_minute::Column as T;
        Ok(traffic_minute::Entity::find()
            .filter(T::ApplicationId.eq(application_id))
            .filter(T::Minute.gte(from))
            .order_by_asc(T::Minute)
            .all(&self.db)
            .await?)
    }

    /// Deletes traffic minutes before `before` (Unix seconds).
    pub async fn prune_traffic_minutes(&self, before: i64) -> Result<u64> {
        let res = traffic_minute::Entity::delete_many()
            .filter(traffic_minute::Column::Minute.lt(before))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }

    /// One attack event by id.
    pub async fn attack_event(&self, id: i64) -> Result<Option<attack_event::Model>> {
        Ok(attack_event::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// An application's attack events matching `q`, newest first.
    pub async fn search_attack_events(
        &self,
        application_id: i64,
        q: &AttackQuery<'_>,
    ) -> Result<Vec<attack_event::Model>> {
        use attack_event::Column as A;
        let mut f = attack_event::Entity::find().filter(A::ApplicationId.eq(application_id));
        if let Some(c) = q.class {
            f = f.filter(A::Class.eq(c));
        }
        if let Some(a) = q.action {
            f = f.filter(A::Action.eq(a));
        }
        if let Some(b) = q.before {
            f = f.filter(A::Id.lt(b));
        }
        if let Some(text) = q.text.map(str::trim).filter(|t| !t.is_empty()) {
            let pattern = like_pattern(text);
            let mut any = Condition::any();
            for col in [A::Endpoint, A::Point, A::Payload, A::Rule, A::RequestId] {
                any = any.add(
                    Func::lower(Expr::col(col)).like(LikeExpr::new(pattern.clone()).escape('\\')),
                );
            }
            f = f.filter(any);
        }
        Ok(f.order_by_desc(A::Id)
            .limit(q.limit.clamp(1, 500))
            .all(&self.db)
            .await?)
    }

    /// An application's attack events with an id above `after`, oldest
    /// first, at most `limit` (exports).
    pub async fn attack_events_of_after(
        &self,
        application_id: i64,
        after: i64,
        limit: u64,
    ) -> Result<Vec<attack_event::Model>> {
        use attack_event::Column as A;
        Ok(attack_event::Entity::find()
            .filter(A::ApplicationId.eq(application_id))
            .filter(A::Id.gt(after))
            .order_by_asc(A::Id)
            .limit(super::row_limit(limit))
            .all(&self.db)
            .await?)
    }

    /// The application's attacked requests since `since` (distinct request
    /// ids: one request may give several events) counted by `column`
    /// (endpoint, class, ...), largest counts first, at most `limit`.
    pub async fn count_attack_events_by(
        &self,
        application_id: i64,
        column: attack_event::Column,
        since: Timestamp,
        limit: u64,
    ) -> Result<Vec<(String, i64)>> {
        use attack_event::Column as A;
        let rows: Vec<(String, i64)> = attack_event::Entity::find()
            .select_only()
            .column(column)
            .column_as(
                Expr::expr(Func::count_distinct(Expr::col(A::RequestId))),
                "n",
            )
            .filter(A::ApplicationId.eq(application_id))
            .filter(A::OccurredAt.gte(since))
            .group_by(column)
            .order_by_desc(Expr::col(sea_orm::sea_query::Alias::new("n")))
            .limit(super::row_limit(limit))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows)
    }

    /// The application's scan jobs, newest first, at most `limit`; only
    /// those at `point` of one of `endpoints` when given.
    pub async fn recent_scan_jobs(
        &self,
        application_id: i64,
        at: Option<(&[i64], &str)>,
        limit: u64,
    ) -> Result<Vec<scan_job::Model>> {
        use scan_job::Column as J;
        let mut q = scan_job::Entity::find().filter(J::ApplicationId.eq(application_id));
        if let Some((endpoints, point)) = at {
            q = q
                .filter(J::EndpointId.is_in(endpoints.iter().copied()))
                .filter(J::Point.eq(point));
        }
        Ok(q.order_by_desc(J::Id)
            .limit(Ord::min(limit, 10_000))
            .all(&self.db)
            .await?)
    }

    /// The application's rule packs, newest first, at most `limit`.
    pub async fn list_rule_packs(
        &self,
        application_id: i64,
        limit: u64,
    ) -> Result<Vec<rule_pack::Model>> {
        use rule_pack::Column as P;
        Ok(rule_pack::Entity::find()
            .filter(P::ApplicationId.eq(application_id))
            .order_by_desc(P::Version)
            .limit(super::row_limit(limit))
            .all(&self.db)
            .await?)
    }
}

impl Ingest {
    /// Adds one window's counts to the application's minute (several nodes
    /// and batches add to the same minute).
    pub async fn add_traffic(
        &self,
        application_id: i64,
        minute_start: i64,
        c: TrafficCounts,
    ) -> Result<()> {
        use traffic_minute::Column as T;
        let minute = minute_start - minute_start.rem_euclid(60);
        let row = traffic_minute::ActiveModel {
            application_id: Set(application_id),
            minute: Set(minute),
            requests: Set(c.requests),
            blocked: Set(c.blocked),
            monitored: Set(c.monitored),
            attacks: Set(c.attacks),
            ..Default::default()
        };
        let mut on = OnConflict::columns([T::ApplicationId, T::Minute]);
        on.value(
            T::Requests,
            Expr::col((traffic_minute::Entity, T::Requests)).add(c.requests),
        )
        .value(
            T::Blocked,
            Expr::col((traffic_minute::Entity, T::Blocked)).add(c.blocked),
        )
        .value(
            T::Monitored,
            Expr::col((traffic_minute::Entity, T::Monitored)).add(c.monitored),
        )
        .value(
            T::Attacks,
            Expr::col((traffic_minute::Entity, T::Attacks)).add(c.attacks),
        );
        traffic_minute::Entity::insert(row)
            .on_conflict(on)
            .exec_without_returning(&self.txn)
            .await?;
        Ok(())
    }
}

/// A LIKE pattern matching `text` anywhere, lower-cased, with `%`, `_` and
/// the escape character escaped.
fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("Union_Select%"), "%union\\_select\\%%");
        assert_eq!(like_pattern("a\\b"), "%a\\\\b%");
    }
}
