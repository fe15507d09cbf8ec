//! What the learners read and write beyond the inventory: endpoint
//! templates, per-client windows and behaviour alerts.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TryInsertResult,
};

use super::inventory::Ingest;
use super::non_empty;
use crate::entity::{behaviour_alert, client_window, learned_endpoint, parameter};
use crate::error::Result;
use crate::{now, write_txn, Store};

/// Rows per INSERT statement of client windows (8 parameters each).
const WINDOW_CHUNK: usize = 1000;

/// A client's aggregates of one batch, as [`Ingest::insert_client_windows`] stores them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClientWindow {
    /// Batch window start, Unix seconds.
    pub window_start: i64,
    /// Batch window end, Unix seconds.
    pub window_end: i64,
    /// The client's keyed hash.
    pub client: String,
    /// `ip` or `session`.
    pub kind: String,
    /// The client's aggregates, JSON.
    pub stats: String,
}

/// An endpoint template as a learning run found it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLearnedEndpoint {
    /// HTTP method, upper case.
    pub method: String,
    /// Template, e.g. `/users/{user_id}`.
    pub template: String,
    /// GraphQL operation or SOAP action; empty for none.
    pub operation: String,
    /// Business function.
    pub function_label: Option<String>,
    /// Its confidence, 0..=1.
    pub function_confidence: Option<f64>,
    /// `new`, `changed` or `same`.
    pub change: String,
    /// The learner's detail, JSON.
    pub detail: String,
}

/// A behaviour alert to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBehaviourAlert {
    /// The client's keyed hash; empty for an application-wide alert.
    pub client: String,
    /// `ip`, `session` or `application`.
    pub kind: String,
    /// The threat's name.
    pub threat: String,
    /// Anomaly score.
    pub score: f64,
    /// Why.
    pub explanation: String,
    /// End of the window, Unix seconds.
    pub window_end: i64,
}

impl Ingest {
    /// Stores the per-client aggregates of a batch of `node_id` (of
    /// `application_id`) inside the ingest transaction.
    pub async fn insert_client_windows(
        &self,
        application_id: i64,
        node_id: i64,
        rows: &[NewClientWindow],
    ) -> Result<()> {
        for chunk in rows.chunks(WINDOW_CHUNK) {
            let models = chunk.iter().map(|w| client_window::ActiveModel {
                application_id: Set(application_id),
                node_id: Set(node_id),
                window_start: Set(w.window_start),
                window_end: Set(w.window_end),
                client: Set(w.client.clone()),
                kind: Set(w.kind.clone()),
                stats: Set(w.stats.clone()),
                ..Default::default()
            });
            client_window::Entity::insert_many(models)
                .exec_without_returning(&self.txn)
                .await?;
        }
        Ok(())
    }
}

impl Store {
    /// Client windows of an application whose window ended after `after`
    /// (Unix seconds), oldest first, at most `limit`.
    pub async fn client_windows_after(
        &self,
        application_id: i64,
        after: i64,
        limit: u64,
    ) -> Result<Vec<client_window::Model>> {
        use client_window::Column as C;
        Ok(client_window::Entity::find()
            .filter(C::ApplicationId.eq(application_id))
            .filter(C::WindowEnd.gt(after))
            .order_by_asc(C::WindowEnd)
            .order_by_asc(C::Id)
            .limit(super::row_limit(limit))
            .all(&self.db)
            .await?)
    }

    /// Deletes client windows that ended before `before` (Unix seconds).
    pub async fn prune_client_windows(&self, before: i64) -> Result<u64> {
        let res = client_window::Entity::delete_many()
            .filter(client_window::Column::WindowEnd.lt(before))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }

    /// Every parameter row of an application (all its endpoints), by
    /// endpoint and point.
    pub async fn list_application_parameters(
        &self,
        application_id: i64,
    ) -> Result<Vec<parameter::Model>> {
        use parameter::Column as P;
        Ok(parameter::Entity::find()
            .filter(P::ApplicationId.eq(application_id))
            .order_by_asc(P::EndpointId)
            .order_by_asc(P::Point)
            .all(&self.db)
            .await?)
    }

    /// Records the templates a learning run found: each is created or
    /// updated (seen now); the application's templates the run did not find
    /// are marked `gone` (kept, so the console can show what disappeared).
    pub async fn put_learned_endpoints(
        &self,
        application_id: i64,
        found: &[NewLearnedEndpoint],
    ) -> Result<()> {
        use learned_endpoint::Column as L;
        let t = now();
        let txn = write_txn(&self.db).await?;
        let existing = learned_endpoint::Entity::find()
            .filter(L::ApplicationId.eq(application_id))
            .all(&txn)
            .await?;
        for e in found {
            non_empty(&e.method, "method")?;
            non_empty(&e.template, "template")?;
            let row = learned_endpoint::ActiveModel {
                application_id: Set(application_id),
                method: Set(e.method.clone()),
                template: Set(e.template.clone()),
                operation: Set(e.operation.clone()),
                function_label: Set(e.function_label.clone()),
                function_confidence: Set(e.function_confidence),
                change: Set(e.change.clone()),
                detail: Set(e.detail.clone()),
                first_seen_at: Set(t),
                last_seen_at: Set(t),
                updated_at: Set(t),
                ..Default::default()
            };
            learned_endpoint::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([L::ApplicationId, L::Method, L::Template, L::Operation])
                        .update_columns([
                            L::FunctionLabel,
                            L::FunctionConfidence,
                            L::Change,
                            L::Detail,
                            L::LastSeenAt,
                            L::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        for old in existing {
            let still = found.iter().any(|e| {
                e.method == old.method && e.template == old.template && e.operation == old.operation
            });
            if !still && old.change != "gone" {
                learned_endpoint::Entity::update_many()
                    .col_expr(L::Change, sea_orm::sea_query::Expr::value("gone"))
                    .col_expr(L::UpdatedAt, sea_orm::sea_query::Expr::value(t))
                    .filter(L::Id.eq(old.id))
                    .exec(&txn)
                    .await?;
            }
        }
        txn.commit().await?;
        Ok(())
    }

    /// The application's learned templates, by method and template.
    pub async fn list_learned_endpoints(
        &self,
        application_id: i64,
    ) -> Result<Vec<learned_endpoint::Model>> {
        use learned_endpoint::Column as L;
        Ok(learned_endpoint::Entity::find()
            .filter(L::ApplicationId.eq(application_id))
            .order_by_asc(L::Template)
            .order_by_asc(L::Method)
            .order_by_asc(L::Operation)
            .all(&self.db)
            .await?)
    }

    /// Records a behaviour alert; `false` when the same (client, threat,
    /// window) was already recorded.
    pub async fn insert_behaviour_alert(
        &self,
        application_id: i64,
        a: &NewBehaviourAlert,
    ) -> Result<bool> {
        use behaviour_alert::Column as B;
        let row = behaviour_alert::ActiveModel {
            application_id: Set(application_id),
            client: Set(a.client.clone()),
            kind: Set(a.kind.clone()),
            threat: Set(a.threat.clone()),
            score: Set(a.score),
            explanation: Set(a.explanation.clone()),
            window_end: Set(a.window_end),
            created_at: Set(now()),
            ..Default::default()
        };
        let res = behaviour_alert::Entity::insert(row)
            .on_conflict_do_nothing_on([B::ApplicationId, B::Client, B::Threat, B::WindowEnd])
            .exec_without_returning(&self.db)
            .await?;
        Ok(matches!(res, TryInsertResult::Inserted(n) if n > 0))
    }

    /// Behaviour alerts of an application, oldest first, whose window ended
    /// after `after` (Unix seconds).
    pub async fn list_behaviour_alerts(
        &self,
        application_id: i64,
        after: i64,
    ) -> Result<Vec<behaviour_alert::Model>> {
        use behaviour_alert::Column as B;
        Ok(behaviour_alert::Entity::find()
            .filter(B::ApplicationId.eq(application_id))
            .filter(B::WindowEnd.gt(after))
            .order_by_asc(B::WindowEnd)
            .order_by_asc(B::Id)
            .all(&self.db)
            .await?)
    }
}
