//! Scan jobs, incidents and notifications.
//!
//! Jobs and notifications are work queues shared by all replicas: a worker
//! *claims* due items, which makes them `running`/`sending` until a lease
//! time; if the worker dies, the items fall due again when the lease ends.
//! Finishing an item takes the claimed row back, and only succeeds while the
//! claim is still the current one (fencing by attempt number), so a worker
//! whose lease was taken over cannot overwrite the new worker's outcome.

use std::time::Duration as StdDuration;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TryInsertResult,
};
use serde_json::Value;

use super::{non_empty, parse_json, ttl};
use crate::entity::{
    incident, notification, scan_job, IncidentStatus, NotificationState, ScanJobState, Severity,
};
use crate::error::{Error, Result};
use crate::{micros, now, write_txn, Store, Timestamp};

/// A scan job to enqueue.
#[derive(Debug, Clone, Copy)]
pub struct NewScanJob<'a> {
    /// Target endpoint.
    pub endpoint_id: i64,
    /// Target request point.
    pub point: &'a str,
    /// Attack class probed.
    pub class: &'a str,
    /// Payload family (strategy).
    pub payload_family: &'a str,
    /// Payload to replay.
    pub payload: &'a str,
    /// Key identifying the job; a second job with the same key is not enqueued.
    pub dedup_key: &'a str,
    /// Not before this time (now when `None`).
    pub not_before: Option<Timestamp>,
}

/// An incident to open.
#[derive(Debug, Clone, Copy)]
pub struct NewIncident<'a> {
    /// One-line summary.
    pub title: &'a str,
    /// Severity.
    pub severity: Severity,
    /// Endpoint concerned.
    pub endpoint_id: Option<i64>,
    /// Request point concerned.
    pub point: Option<&'a str>,
    /// Payload that showed the problem.
    pub payload: Option<&'a str>,
    /// Evidence (any JSON document).
    pub evidence: &'a Value,
    /// Key identifying the problem; the same key reuses the incident.
    pub dedup_key: &'a str,
}

/// Result of [`Store::open_incident`].
#[derive(Debug, Clone)]
pub struct OpenedIncident {
    /// The incident, new or existing.
    pub incident: incident::Model,
    /// Whether it was created by this call.
    pub created: bool,
}

impl Store {
    /// Enqueues a scan job; `None` when a job with the same dedup key exists
    /// for the application (whatever its state).
    pub async fn enqueue_scan_job(
        &self,
        application_id: i64,
        job: NewScanJob<'_>,
    ) -> Result<Option<scan_job::Model>> {
        non_empty(job.dedup_key, "dedup key")?;
        let t = now();
        let row = scan_job::ActiveModel {
            application_id: Set(application_id),
            endpoint_id: Set(job.endpoint_id),
            point: Set(job.point.to_owned()),
            class: Set(job.class.to_owned()),
            payload_family: Set(job.payload_family.to_owned()),
            payload: Set(job.payload.to_owned()),
            state: Set(ScanJobState::Pending),
            attempts: Set(0),
            next_attempt_at: Set(job.not_before.map_or(t, micros)),
            dedup_key: Set(job.dedup_key.to_owned()),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        };
        use scan_job::Column as J;
        let res = scan_job::Entity::insert(row)
            .on_conflict_do_nothing_on([J::ApplicationId, J::DedupKey])
            .exec_without_returning(&self.db)
            .await
            .map_err(|e| {
                Error::insert(
                    e,
                    || {
                        format!(
                            "application {application_id} or endpoint {}",
                            job.endpoint_id
                        )
                    },
                    || "scan job".into(),
                )
            })?;
        if !matches!(res, TryInsertResult::Inserted(1)) {
            return Ok(None);
        }
        // Jobs are never deleted, so the row just inserted is there.
        Ok(scan_job::Entity::find()
            .filter(J::ApplicationId.eq(application_id))
            .filter(J::DedupKey.eq(job.dedup_key))
            .one(&self.db)
            .await?)
    }

    /// Claims up to `limit` due scan jobs (pending ones whose time has come,
    /// and running ones whose claim expired) for `lease`; each claim counts
    /// as an attempt. Several workers may claim at once: each job goes to one.
    pub async fn claim_scan_jobs(
        &self,
        limit: u64,
        lease: StdDuration,
    ) -> Result<Vec<scan_job::Model>> {
        self.claim_scan_jobs_at(limit, lease, now()).await
    }

    /// [`Store::claim_scan_jobs`] as if the time were `at` (for tests and
    /// callers with their own clock).
    pub async fn claim_scan_jobs_at(
        &self,
        limit: u64,
        lease: StdDuration,
        at: Timestamp,
    ) -> Result<Vec<scan_job::Model>> {
        let at = micros(at);
        let until = at + claim_lease(lease, "scan job lease")?;
        use scan_job::Column as J;
        let due = || {
            J::State
                .is_in([ScanJobState::Pending, ScanJobState::Running])
                .and(J::NextAttemptAt.lte(at))
        };
        let candidates: Vec<i64> = scan_job::Entity::find()
            .select_only()
            .column(J::Id)
            .filter(due())
            .order_by_asc(J::NextAttemptAt)
            .order_by_asc(J::Id)
            .limit(super::row_limit(limit))
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut claimed = Vec::with_capacity(candidates.len());
        for id in candidates {
            // The condition is checked again by the UPDATE itself: a job
            // another worker claimed in between no longer matches it.
            let res = scan_job::Entity::update_many()
                .col_expr(J::State, Expr::value(ScanJobState::Running))
                .col_expr(J::Attempts, Expr::col(J::Attempts).add(1))
                .col_expr(J::NextAttemptAt, Expr::value(until))
                .col_expr(J::UpdatedAt, Expr::value(at))
                .filter(J::Id.eq(id))
                .filter(due())
                .exec(&self.db)
                .await?;
            if res.rows_affected == 1 {
                if let Some(m) = scan_job::Entity::find_by_id(id).one(&self.db).await? {
                    claimed.push(m);
                }
            }
        }
        Ok(claimed)
    }

    /// Marks a claimed job done. `false` when the claim was lost (the lease
    /// expired and another worker claimed the job).
    pub async fn complete_scan_job(&self, claimed: &scan_job::Model) -> Result<bool> {
        self.finish_scan_job(claimed, ScanJobState::Done, None, None)
            .await
    }

    /// Records a failed attempt of a claimed job: pending again at `retry_at`,
    /// or failed for good when `retry_at` is `None`. `false` when the claim
    /// was lost.
    pub async fn fail_scan_job(
        &self,
        claimed: &scan_job::Model,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<bool> {
        let state = if retry_at.is_some() {
            ScanJobState::Pending
        } else {
            ScanJobState::Failed
        };
        self.finish_scan_job(claimed, state, Some(error), retry_at)
            .await
    }

    async fn finish_scan_job(
        &self,
        claimed: &scan_job::Model,
        state: ScanJobState,
        error: Option<&str>,
        next: Option<Timestamp>,
    ) -> Result<bool> {
        use scan_job::Column as J;
        let t = now();
        let mut q = scan_job::Entity::update_many()
            .col_expr(J::State, Expr::value(state))
            .col_expr(J::UpdatedAt, Expr::value(t))
            .col_expr(J::LastError, Expr::value(error.map(str::to_owned)));
        if let Some(next) = next {
            q = q.col_expr(J::NextAttemptAt, Expr::value(micros(next)));
        }
        let res = q
            .filter(J::Id.eq(claimed.id))
            .filter(J::State.eq(ScanJobState::Running))
            .filter(J::Attempts.eq(claimed.attempts))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// Scan jobs of an application, optionally in one state, oldest first.
    pub async fn list_scan_jobs(
        &self,
        application_id: i64,
        state: Option<ScanJobState>,
        limit: u64,
    ) -> Result<Vec<scan_job::Model>> {
        use scan_job::Column as J;
        let mut q = scan_job::Entity::find().filter(J::ApplicationId.eq(application_id));
        if let Some(s) = state {
            q = q.filter(J::State.eq(s));
        }
        Ok(q.order_by_asc(J::Id)
            .limit(super::row_limit(limit))
            .all(&self.db)
            .await?)
    }

    /// Opens an incident, or finds the application's incident with the same
    /// dedup key. A found incident gets the new evidence; if it was resolved
    /// it is open again (the problem came back); one marked false positive
    /// keeps that status.
    pub async fn open_incident(
        &self,
        application_id: i64,
        new: NewIncident<'_>,
    ) -> Result<OpenedIncident> {
        non_empty(new.dedup_key, "dedup key")?;
        non_empty(new.title, "incident title")?;
        let t = now();
        let txn = write_txn(&self.db).await?;
        use incident::Column as I;
        let row = incident::ActiveModel {
            application_id: Set(application_id),
            title: Set(new.title.to_owned()),
            severity: Set(new.severity),
            endpoint_id: Set(new.endpoint_id),
            point: Set(new.point.map(str::to_owned)),
            payload: Set(new.payload.map(str::to_owned)),
            evidence: Set(new.evidence.to_string()),
            status: Set(IncidentStatus::Open),
            dedup_key: Set(new.dedup_key.to_owned()),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        };
        let res = incident::Entity::insert(row)
            .on_conflict_do_nothing_on([I::ApplicationId, I::DedupKey])
            .exec_without_returning(&txn)
            .await
            .map_err(|e| {
                Error::insert(
                    e,
                    || format!("application {application_id} or endpoint"),
                    || "incident".into(),
                )
            })?;
        let existing = incident::Entity::find()
            .filter(I::ApplicationId.eq(application_id))
            .filter(I::DedupKey.eq(new.dedup_key))
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("incident {:?}", new.dedup_key)))?;
        if matches!(res, TryInsertResult::Inserted(1)) {
            txn.commit().await?;
            return Ok(OpenedIncident {
                incident: existing,
                created: true,
            });
        }
        let status = match existing.status {
            IncidentStatus::Resolved => IncidentStatus::Open,
            s => s,
        };
        let incident = incident::ActiveModel {
            id: Set(existing.id),
            evidence: Set(new.evidence.to_string()),
            status: Set(status),
            updated_at: Set(t),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        txn.commit().await?;
        Ok(OpenedIncident {
            incident,
            created: false,
        })
    }

    /// Sets an incident's triage status.
    pub async fn set_incident_status(
        &self,
        id: i64,
        status: IncidentStatus,
    ) -> Result<incident::Model> {
        let res = incident::ActiveModel {
            id: Set(id),
            status: Set(status),
            updated_at: Set(now()),
            ..Default::default()
        }
        .update(&self.db)
        .await;
        super::updated(res, || format!("incident {id}"))
    }

    /// The incident with this id.
    pub async fn incident(&self, id: i64) -> Result<Option<incident::Model>> {
        Ok(incident::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Incidents of an application, optionally in one status, most recently
    /// changed first.
    pub async fn list_incidents(
        &self,
        application_id: i64,
        status: Option<IncidentStatus>,
    ) -> Result<Vec<incident::Model>> {
        use incident::Column as I;
        let mut q = incident::Entity::find().filter(I::ApplicationId.eq(application_id));
        if let Some(s) = status {
            q = q.filter(I::Status.eq(s));
        }
        Ok(q.order_by_desc(I::UpdatedAt)
            .order_by_desc(I::Id)
            .all(&self.db)
            .await?)
    }

    /// Queues a notification about an incident on a channel.
    pub async fn enqueue_notification(
        &self,
        incident_id: i64,
        channel: &str,
        payload: &Value,
    ) -> Result<notification::Model> {
        non_empty(channel, "channel")?;
        let t = now();
        notification::ActiveModel {
            incident_id: Set(incident_id),
            channel: Set(channel.to_owned()),
            payload: Set(payload.to_string()),
            state: Set(NotificationState::Pending),
            attempts: Set(0),
            next_attempt_at: Set(t),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| {
            Error::insert(
                e,
                || format!("incident {incident_id}"),
                || "notification".into(),
            )
        })
    }

    /// Claims up to `limit` due notifications for `lease`, like
    /// [`Store::claim_scan_jobs`].
    pub async fn claim_notifications(
        &self,
        limit: u64,
        lease: StdDuration,
    ) -> Result<Vec<notification::Model>> {
        self.claim_notifications_at(limit, lease, now()).await
    }

    /// [`Store::claim_notifications`] as if the time were `at`.
    pub async fn claim_notifications_at(
        &self,
        limit: u64,
        lease: StdDuration,
        at: Timestamp,
    ) -> Result<Vec<notification::Model>> {
        let at = micros(at);
        let until = at + claim_lease(lease, "notification lease")?;
        use notification::Column as N;
        let due = || {
            N::State
                .is_in([NotificationState::Pending, NotificationState::Sending])
                .and(N::NextAttemptAt.lte(at))
        };
        let candidates: Vec<i64> = notification::Entity::find()
            .select_only()
            .column(N::Id)
            .filter(due())
            .order_by_asc(N::NextAttemptAt)
            .order_by_asc(N::Id)
            .limit(super::row_limit(limit))
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut claimed = Vec::with_capacity(candidates.len());
        for id in candidates {
            let res = notification::Entity::update_many()
                .col_expr(N::State, Expr::value(NotificationState::Sending))
                .col_expr(N::Attempts, Expr::col(N::Attempts).add(1))
                .col_expr(N::NextAttemptAt, Expr::value(until))
                .col_expr(N::UpdatedAt, Expr::value(at))
                .filter(N::Id.eq(id))
                .filter(due())
                .exec(&self.db)
                .await?;
            if res.rows_affected == 1 {
                if let Some(m) = notification::Entity::find_by_id(id).one(&self.db).await? {
                    claimed.push(m);
                }
            }
        }
        Ok(claimed)
    }

    /// Marks a claimed notification delivered; `false` when the claim was lost.
    pub async fn notification_sent(&self, claimed: &notification::Model) -> Result<bool> {
        self.finish_notification(claimed, NotificationState::Sent, None, None)
            .await
    }

    /// Records a failed delivery: pending again at `retry_at`, or failed for
    /// good when `None`. `false` when the claim was lost.
    pub async fn notification_failed(
        &self,
        claimed: &notification::Model,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<bool> {
        let state = if retry_at.is_some() {
            NotificationState::Pending
        } else {
            NotificationState::Failed
        };
        self.finish_notification(claimed, state, Some(error), retry_at)
            .await
    }

    async fn finish_notification(
        &self,
        claimed: &notification::Model,
        state: NotificationState,
        error: Option<&str>,
        next: Option<Timestamp>,
    ) -> Result<bool> {
        use notification::Column as N;
        let mut q = notification::Entity::update_many()
            .col_expr(N::State, Expr::value(state))
            .col_expr(N::UpdatedAt, Expr::value(now()))
            .col_expr(N::LastError, Expr::value(error.map(str::to_owned)));
        if let Some(next) = next {
            q = q.col_expr(N::NextAttemptAt, Expr::value(micros(next)));
        }
        let res = q
            .filter(N::Id.eq(claimed.id))
            .filter(N::State.eq(NotificationState::Sending))
            .filter(N::Attempts.eq(claimed.attempts))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// Notifications of an incident, oldest first.
    pub async fn list_notifications(&self, incident_id: i64) -> Result<Vec<notification::Model>> {
        use notification::Column as N;
        Ok(notification::Entity::find()
            .filter(N::IncidentId.eq(incident_id))
            .order_by_asc(N::Id)
            .all(&self.db)
            .await?)
    }
}

/// A claim's lease: positive (a zero lease would leave the item due, so a
/// second worker could claim it at the same instant).
fn claim_lease(lease: StdDuration, what: &str) -> Result<chrono::Duration> {
    if lease.is_zero() {
        return Err(Error::Invalid(format!("{what} must be positive")));
    }
    ttl(lease, what)
}

impl incident::Model {
    /// The evidence, parsed.
    pub fn evidence_json(&self) -> Result<Value> {
        parse_json(&self.evidence, "incidents.evidence")
    }
}

impl notification::Model {
    /// The message, parsed.
    pub fn payload_json(&self) -> Result<Value> {
        parse_json(&self.payload, "notifications.payload")
    }
}
