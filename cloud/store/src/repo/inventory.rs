//! Endpoints, parameters, learned profiles, and the ingestion transaction.

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, TryInsertResult,
};
use serde_json::Value;

use super::telemetry::{insert_attack_events_in, record_metric_batch_in, NewAttackEvent};
use super::{non_empty, parse_json, updated};
use crate::entity::{endpoint, learned_profile, parameter};
use crate::error::{Error, Result};
use crate::{now, write_txn, Store, Timestamp};

/// A write transaction for one upload: record the batch, merge statistics,
/// store events, then [`Ingest::commit`]. Either all of it is stored or none,
/// so a batch refused as a duplicate by [`Ingest::record_metric_batch`] (or
/// an upload that failed halfway) is never half-counted. Dropping it without
/// committing rolls back.
///
/// On PostgreSQL each merged endpoint/parameter row stays locked until the
/// commit: merge rows in a stable order (e.g. sorted by method and template)
/// so that two concurrent uploads cannot deadlock.
#[derive(Debug)]
pub struct Ingest {
    pub(super) txn: DatabaseTransaction,
}

impl Store {
    /// Begins an [`Ingest`] transaction.
    pub async fn begin_ingest(&self) -> Result<Ingest> {
        Ok(Ingest {
            txn: write_txn(&self.db).await?,
        })
    }

    /// Finds or creates the endpoint (`method` is upper-cased) and marks it
    /// seen now.
    pub async fn upsert_endpoint(
        &self,
        application_id: i64,
        method: &str,
        template: &str,
    ) -> Result<endpoint::Model> {
        let txn = write_txn(&self.db).await?;
        let ep = touch_endpoint(&txn, application_id, method, template, now()).await?;
        txn.commit().await?;
        Ok(ep)
    }

    /// Read-modify-write of an endpoint's statistics: finds or creates the
    /// endpoint, hands its stored statistics (`None` the first time) to `f`,
    /// and stores what `f` returns, all in one transaction with the row
    /// locked, so concurrent merges never lose an update.
    pub async fn upsert_endpoint_stats<F>(
        &self,
        application_id: i64,
        method: &str,
        template: &str,
        f: F,
    ) -> Result<endpoint::Model>
    where
        F: FnOnce(Option<Value>) -> Value,
    {
        let txn = write_txn(&self.db).await?;
        let ep = endpoint_stats_in(&txn, application_id, method, template, f).await?;
        txn.commit().await?;
        Ok(ep)
    }

    /// The endpoint with this key.
    pub async fn endpoint(
        &self,
        application_id: i64,
        method: &str,
        template: &str,
    ) -> Result<Option<endpoint::Model>> {
        Ok(endpoint::Entity::find()
            .filter(endpoint::Column::ApplicationId.eq(application_id))
            .filter(endpoint::Column::Method.eq(method.to_ascii_uppercase()))
            .filter(endpoint::Column::Template.eq(template))
            .one(&self.db)
            .await?)
    }

    /// The endpoint with this id.
    pub async fn endpoint_by_id(&self, id: i64) -> Result<Option<endpoint::Model>> {
        Ok(endpoint::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Endpoints of an application, by template then method.
    pub async fn list_endpoints(&self, application_id: i64) -> Result<Vec<endpoint::Model>> {
        Ok(endpoint::Entity::find()
            .filter(endpoint::Column::ApplicationId.eq(application_id))
            .order_by_asc(endpoint::Column::Template)
            .order_by_asc(endpoint::Column::Method)
            .all(&self.db)
            .await?)
    }

    /// Sets (or clears, with `None`) the endpoint's business-function label
    /// and its confidence (0..=1).
    pub async fn set_endpoint_function(
        &self,
        endpoint_id: i64,
        label: Option<&str>,
        confidence: Option<f64>,
    ) -> Result<endpoint::Model> {
        check_confidence(confidence)?;
        let res = endpoint::ActiveModel {
            id: Set(endpoint_id),
            function_label: Set(label.map(str::to_owned)),
            function_confidence: Set(confidence),
            ..Default::default()
        }
        .update(&self.db)
        .await;
        updated(res, || format!("endpoint {endpoint_id}"))
    }

    /// Finds or creates the parameter (request point) of an endpoint and
    /// marks it seen now.
    pub async fn upsert_parameter(
        &self,
        endpoint_id: i64,
        point: &str,
    ) -> Result<parameter::Model> {
        let txn = write_txn(&self.db).await?;
        let p = touch_parameter(&txn, endpoint_id, point, now()).await?;
        txn.commit().await?;
        Ok(p)
    }

    /// Read-modify-write of a parameter's statistics, like
    /// [`Store::upsert_endpoint_stats`].
    pub async fn upsert_parameter_stats<F>(
        &self,
        endpoint_id: i64,
        point: &str,
        f: F,
    ) -> Result<parameter::Model>
    where
        F: FnOnce(Option<Value>) -> Value,
    {
        let txn = write_txn(&self.db).await?;
        let p = parameter_stats_in(&txn, endpoint_id, point, f).await?;
        txn.commit().await?;
        Ok(p)
    }

    /// The parameter with this key.
    pub async fn parameter(
        &self,
        endpoint_id: i64,
        point: &str,
    ) -> Result<Option<parameter::Model>> {
        Ok(parameter::Entity::find()
            .filter(parameter::Column::EndpointId.eq(endpoint_id))
            .filter(parameter::Column::Point.eq(point))
            .one(&self.db)
            .await?)
    }

    /// Parameters of an endpoint, by point.
    pub async fn list_parameters(&self, endpoint_id: i64) -> Result<Vec<parameter::Model>> {
        Ok(parameter::Entity::find()
            .filter(parameter::Column::EndpointId.eq(endpoint_id))
            .order_by_asc(parameter::Column::Point)
            .all(&self.db)
            .await?)
    }

    /// Sets the parameter's learned format (or clears it with `None`), its
    /// confidence, and whether its values are personal data.
    pub async fn set_parameter_format(
        &self,
        parameter_id: i64,
        label: Option<&str>,
        confidence: Option<f64>,
        personal_data: bool,
    ) -> Result<parameter::Model> {
        check_confidence(confidence)?;
        let res = parameter::ActiveModel {
            id: Set(parameter_id),
            format_label: Set(label.map(str::to_owned)),
            format_confidence: Set(confidence),
            personal_data: Set(personal_data),
            ..Default::default()
        }
        .update(&self.db)
        .await;
        updated(res, || format!("parameter {parameter_id}"))
    }

    /// Stores a learner's profile of an endpoint (`point` empty) or of one of
    /// its points, replacing the previous profile of the same `kind`.
    pub async fn put_learned_profile(
        &self,
        endpoint_id: i64,
        point: &str,
        kind: &str,
        model_version: &str,
        profile: &Value,
    ) -> Result<learned_profile::Model> {
        non_empty(kind, "profile kind")?;
        let ep = endpoint::Entity::find_by_id(endpoint_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::NotFound(format!("endpoint {endpoint_id}")))?;
        let t = now();
        let row = learned_profile::ActiveModel {
            application_id: Set(ep.application_id),
            endpoint_id: Set(endpoint_id),
            point: Set(point.to_owned()),
            kind: Set(kind.to_owned()),
            model_version: Set(model_version.to_owned()),
            profile: Set(profile.to_string()),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        };
        use learned_profile::Column as C;
        let res = learned_profile::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([C::EndpointId, C::Point, C::Kind])
                    .update_columns([C::ModelVersion, C::Profile, C::UpdatedAt])
                    .to_owned(),
            )
            .exec_with_returning(&self.db)
            .await;
        res.map_err(|e| Error::insert(e, || format!("endpoint {endpoint_id}"), || "profile".into()))
    }

    /// Learned profiles of an application, by endpoint, point and kind.
    pub async fn list_learned_profiles(
        &self,
        application_id: i64,
    ) -> Result<Vec<learned_profile::Model>> {
        use learned_profile::Column as C;
        Ok(learned_profile::Entity::find()
            .filter(C::ApplicationId.eq(application_id))
            .order_by_asc(C::EndpointId)
            .order_by_asc(C::Point)
            .order_by_asc(C::Kind)
            .all(&self.db)
            .await?)
    }

    /// Deletes one learned profile. Returns whether it existed.
    pub async fn delete_learned_profile(
        &self,
        endpoint_id: i64,
        point: &str,
        kind: &str,
    ) -> Result<bool> {
        use learned_profile::Column as C;
        let res = learned_profile::Entity::delete_many()
            .filter(C::EndpointId.eq(endpoint_id))
            .filter(C::Point.eq(point))
            .filter(C::Kind.eq(kind))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected > 0)
    }
}

impl Ingest {
    /// Records that the node's batch `seq` is being ingested. `false` means
    /// it already was: drop this transaction and acknowledge the upload.
    pub async fn record_metric_batch(&self, node_id: i64, seq: i64, size: i64) -> Result<bool> {
        record_metric_batch_in(&self.txn, node_id, seq, size).await
    }

    /// [`Store::upsert_endpoint_stats`] inside this transaction.
    pub async fn upsert_endpoint_stats<F>(
        &self,
        application_id: i64,
        method: &str,
        template: &str,
        f: F,
    ) -> Result<endpoint::Model>
    where
        F: FnOnce(Option<Value>) -> Value,
    {
        endpoint_stats_in(&self.txn, application_id, method, template, f).await
    }

    /// [`Store::upsert_parameter_stats`] inside this transaction.
    pub async fn upsert_parameter_stats<F>(
        &self,
        endpoint_id: i64,
        point: &str,
        f: F,
    ) -> Result<parameter::Model>
    where
        F: FnOnce(Option<Value>) -> Value,
    {
        parameter_stats_in(&self.txn, endpoint_id, point, f).await
    }

    /// [`Store::insert_attack_events`] inside this transaction.
    pub async fn insert_attack_events(
        &self,
        node_id: i64,
        events: &[NewAttackEvent],
    ) -> Result<u64> {
        insert_attack_events_in(&self.txn, node_id, events).await
    }

    /// Makes everything done in this transaction durable.
    pub async fn commit(self) -> Result<()> {
        Ok(self.txn.commit().await?)
    }

    /// Discards everything done in this transaction.
    pub async fn rollback(self) -> Result<()> {
        Ok(self.txn.rollback().await?)
    }
}

fn check_confidence(c: Option<f64>) -> Result<()> {
    match c {
        Some(v) if !(0.0..=1.0).contains(&v) => Err(Error::Invalid(format!(
            "confidence must be within 0..=1, got {v}"
        ))),
        _ => Ok(()),
    }
}

/// Marks the endpoint seen (which locks its row on PostgreSQL), creating it
/// when missing, and returns it.
async fn touch_endpoint<C: ConnectionTrait>(
    c: &C,
    application_id: i64,
    method: &str,
    template: &str,
    t: Timestamp,
) -> Result<endpoint::Model> {
    non_empty(method, "method")?;
    non_empty(template, "path template")?;
    let method = method.to_ascii_uppercase();
    use endpoint::Column as E;
    let touch = || {
        endpoint::Entity::update_many()
            .col_expr(E::LastSeenAt, Expr::value(t))
            .filter(E::ApplicationId.eq(application_id))
            .filter(E::Method.eq(method.as_str()))
            .filter(E::Template.eq(template))
    };
    if touch().exec(c).await?.rows_affected == 0 {
        let row = endpoint::ActiveModel {
            application_id: Set(application_id),
            method: Set(method.clone()),
            template: Set(template.to_owned()),
            first_seen_at: Set(t),
            last_seen_at: Set(t),
            ..Default::default()
        };
        let res = endpoint::Entity::insert(row)
            .on_conflict_do_nothing_on([E::ApplicationId, E::Method, E::Template])
            .exec_without_returning(c)
            .await
            .map_err(|e| {
                Error::insert(
                    e,
                    || format!("application {application_id}"),
                    || "endpoint".into(),
                )
            })?;
        if !matches!(res, TryInsertResult::Inserted(1)) {
            // Inserted concurrently by someone else: lock it now.
            touch().exec(c).await?;
        }
    }
    endpoint::Entity::find()
        .filter(E::ApplicationId.eq(application_id))
        .filter(E::Method.eq(method.as_str()))
        .filter(E::Template.eq(template))
        .one(c)
        .await?
        .ok_or_else(|| Error::NotFound(format!("endpoint {method} {template}")))
}

async fn endpoint_stats_in<C, F>(
    c: &C,
    application_id: i64,
    method: &str,
    template: &str,
    f: F,
) -> Result<endpoint::Model>
where
    C: ConnectionTrait,
    F: FnOnce(Option<Value>) -> Value,
{
    let ep = touch_endpoint(c, application_id, method, template, now()).await?;
    let old = ep
        .stats
        .as_deref()
        .map(|s| parse_json(s, "endpoints.stats"))
        .transpose()?;
    let new = f(old);
    Ok(endpoint::ActiveModel {
        id: Set(ep.id),
        stats: Set(Some(new.to_string())),
        ..Default::default()
    }
    .update(c)
    .await?)
}

/// Marks the parameter seen (locking its row on PostgreSQL), creating it
/// when missing, and returns it.
async fn touch_parameter<C: ConnectionTrait>(
    c: &C,
    endpoint_id: i64,
    point: &str,
    t: Timestamp,
) -> Result<parameter::Model> {
    non_empty(point, "request point")?;
    use parameter::Column as P;
    let touch = || {
        parameter::Entity::update_many()
            .col_expr(P::LastSeenAt, Expr::value(t))
            .filter(P::EndpointId.eq(endpoint_id))
            .filter(P::Point.eq(point))
    };
    if touch().exec(c).await?.rows_affected == 0 {
        let ep = endpoint::Entity::find_by_id(endpoint_id)
            .one(c)
            .await?
            .ok_or_else(|| Error::NotFound(format!("endpoint {endpoint_id}")))?;
        let row = parameter::ActiveModel {
            application_id: Set(ep.application_id),
            endpoint_id: Set(endpoint_id),
            point: Set(point.to_owned()),
            personal_data: Set(false),
            first_seen_at: Set(t),
            last_seen_at: Set(t),
            ..Default::default()
        };
        let res = parameter::Entity::insert(row)
            .on_conflict_do_nothing_on([P::EndpointId, P::Point])
            .exec_without_returning(c)
            .await
            .map_err(|e| {
                Error::insert(
                    e,
                    || format!("endpoint {endpoint_id}"),
                    || "parameter".into(),
                )
            })?;
        if !matches!(res, TryInsertResult::Inserted(1)) {
            touch().exec(c).await?;
        }
    }
    parameter::Entity::find()
        .filter(P::EndpointId.eq(endpoint_id))
        .filter(P::Point.eq(point))
        .one(c)
        .await?
        .ok_or_else(|| Error::NotFound(format!("parameter {point} of endpoint {endpoint_id}")))
}

async fn parameter_stats_in<C, F>(
    c: &C,
    endpoint_id: i64,
    point: &str,
    f: F,
) -> Result<parameter::Model>
where
    C: ConnectionTrait,
    F: FnOnce(Option<Value>) -> Value,
{
    let p = touch_parameter(c, endpoint_id, point, now()).await?;
    let old = p
        .stats
        .as_deref()
        .map(|s| parse_json(s, "parameters.stats"))
        .transpose()?;
    let new = f(old);
    Ok(parameter::ActiveModel {
        id: Set(p.id),
        stats: Set(Some(new.to_string())),
        ..Default::default()
    }
    .update(c)
    .await?)
}

impl endpoint::Model {
    /// The statistics, parsed (`None` before the first merge).
    pub fn stats_json(&self) -> Result<Option<Value>> {
        self.stats
            .as_deref()
            .map(|s| parse_json(s, "endpoints.stats"))
            .transpose()
    }
}

impl parameter::Model {
    /// The statistics, parsed (`None` before the first merge).
    pub fn stats_json(&self) -> Result<Option<Value>> {
        self.stats
            .as_deref()
            .map(|s| parse_json(s, "parameters.stats"))
            .transpose()
    }
}

impl learned_profile::Model {
    /// The profile, parsed.
    pub fn profile_json(&self) -> Result<Value> {
        parse_json(&self.profile, "learned_profiles.profile")
    }
}
