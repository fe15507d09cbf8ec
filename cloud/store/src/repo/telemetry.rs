//! Attack events and metric batches uploaded by nodes.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TryInsertResult,
};

use crate::entity::{attack_event, metric_batch, node};
use crate::error::{Error, Result};
use crate::{micros, now, write_txn, Store, Timestamp};

/// Rows per INSERT statement (14 parameters each: well under SQLite's and
/// PostgreSQL's bind-parameter limits).
const EVENT_CHUNK: usize = 500;

/// An attack event as a node uploads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttackEvent {
    /// When the request was seen (node clock; stored to the microsecond).
    pub occurred_at: Timestamp,
    /// Endpoint as the node names it (e.g. `POST /login`).
    pub endpoint: String,
    /// Request point of the malicious value.
    pub point: String,
    /// Attack class.
    pub class: String,
    /// Rule or detector that fired (part of the dedup key).
    pub rule: String,
    /// Score given.
    pub score: i32,
    /// What the node did.
    pub action: String,
    /// Malicious span, already cut and masked by the node.
    pub payload: String,
    /// Node-assigned request id (part of the dedup key).
    pub request_id: String,
}

impl Store {
    /// Stores a node's attack events in one transaction; an event whose
    /// (node, request id, rule) is already stored is skipped, so a retried
    /// upload does not duplicate. Returns how many were new.
    pub async fn insert_attack_events(
        &self,
        node_id: i64,
        events: &[NewAttackEvent],
    ) -> Result<u64> {
        let txn = write_txn(&self.db).await?;
        let n = insert_attack_events_in(&txn, node_id, events).await?;
        txn.commit().await?;
        Ok(n)
    }

    /// Attack events of an application, newest first: at most `limit`, and
    /// only those that occurred at or after `since` when given.
    pub async fn list_attack_events(
        &self,
        application_id: i64,
        since: Option<Timestamp>,
        limit: u64,
    ) -> Result<Vec<attack_event::Model>> {
        use attack_event::Column as A;
        let mut q = attack_event::Entity::find().filter(A::ApplicationId.eq(application_id));
        if let Some(since) = since {
            q = q.filter(A::OccurredAt.gte(since));
        }
        Ok(q.order_by_desc(A::OccurredAt)
            .order_by_desc(A::Id)
            .limit(super::row_limit(limit))
            .all(&self.db)
            .await?)
    }

    /// Attack events of every application with an id above `after`, oldest
    /// first, at most `limit`: a consumer that remembers the last id it saw
    /// reads each event once (the scanner's job maker).
    pub async fn attack_events_after(
        &self,
        after: i64,
        limit: u64,
    ) -> Result<Vec<attack_event::Model>> {
        use attack_event::Column as A;
        Ok(attack_event::Entity::find()
            .filter(A::Id.gt(after))
            .order_by_asc(A::Id)
            .limit(super::row_limit(limit))
            .all(&self.db)
            .await?)
    }

    /// The id just before the first attack event (of any application) that
    /// occurred at or after `since`: where a consumer starting now reads
    /// from to take in only recent events. The last id when none is that
    /// recent; 0 when there are no events.
    pub async fn attack_event_id_before(&self, since: Timestamp) -> Result<i64> {
        use attack_event::Column as A;
        let first = attack_event::Entity::find()
            .filter(A::OccurredAt.gte(since))
            .order_by_asc(A::Id)
            .one(&self.db)
            .await?;
        if let Some(e) = first {
            return Ok(e.id - 1);
        }
        let last = attack_event::Entity::find()
            .order_by_desc(A::Id)
            .one(&self.db)
            .await?;
        Ok(last.map_or(0, |e| e.id))
    }

    /// How many attack events of an application a rule decided or fired
    /// in, at or after `since` (a learned rule's matches while monitoring).
    pub async fn count_attack_events_by_rule(
        &self,
        application_id: i64,
        rule: &str,
        since: Timestamp,
    ) -> Result<u64> {
        use attack_event::Column as A;
        use sea_orm::PaginatorTrait;
        Ok(attack_event::Entity::find()
            .filter(A::ApplicationId.eq(application_id))
            .filter(A::Rule.eq(rule))
            .filter(A::OccurredAt.gte(since))
            .count(&self.db)
            .await?)
    }

    /// Deletes attack events that occurred before `before` (retention).
    /// Returns how many were deleted.
    pub async fn prune_attack_events(&self, before: Timestamp) -> Result<u64> {
        let res = attack_event::Entity::delete_many()
            .filter(attack_event::Column::OccurredAt.lt(before))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }

    /// Records that the node's metric batch `seq` was ingested; `false` when
    /// it already was. To make ingestion itself idempotent, call this inside
    /// the same [`crate::Ingest`] transaction as the merges instead.
    pub async fn record_metric_batch(&self, node_id: i64, seq: i64, size: i64) -> Result<bool> {
        let txn = write_txn(&self.db).await?;
        let fresh = record_metric_batch_in(&txn, node_id, seq, size).await?;
        txn.commit().await?;
        Ok(fresh)
    }

    /// Highest metric batch sequence number ingested from the node, if any
    /// (lets a node resume numbering after losing its state).
    pub async fn last_metric_batch(&self, node_id: i64) -> Result<Option<i64>> {
        use metric_batch::Column as M;
        let row = metric_batch::Entity::find()
            .filter(M::NodeId.eq(node_id))
            .order_by_desc(M::Seq)
            .one(&self.db)
            .await?;
        Ok(row.map(|r| r.seq))
    }
}

async fn node_application<C: ConnectionTrait>(c: &C, node_id: i64) -> Result<i64> {
    node::Entity::find_by_id(node_id)
        .one(c)
        .await?
        .map(|n| n.application_id)
        .ok_or_else(|| Error::NotFound(format!("node {node_id}")))
}

pub(crate) async fn insert_attack_events_in<C: ConnectionTrait>(
    c: &C,
    node_id: i64,
    events: &[NewAttackEvent],
) -> Result<u64> {
    if events.is_empty() {
        return Ok(0);
    }
    let application_id = node_application(c, node_id).await?;
    let received = now();
    let mut inserted = 0;
    use attack_event::Column as A;
    for chunk in events.chunks(EVENT_CHUNK) {
        let rows = chunk.iter().map(|e| attack_event::ActiveModel {
            application_id: Set(application_id),
            node_id: Set(node_id),
            occurred_at: Set(micros(e.occurred_at)),
            endpoint: Set(e.endpoint.clone()),
            point: Set(e.point.clone()),
            class: Set(e.class.clone()),
            rule: Set(e.rule.clone()),
            score: Set(e.score),
            action: Set(e.action.clone()),
            payload: Set(e.payload.clone()),
            request_id: Set(e.request_id.clone()),
            received_at: Set(received),
            ..Default::default()
        });
        let res = attack_event::Entity::insert_many(rows)
            .on_conflict_do_nothing_on([A::NodeId, A::RequestId, A::Rule])
            .exec_without_returning(c)
            .await?;
        if let TryInsertResult::Inserted(n) = res {
            inserted += n;
        }
    }
    Ok(inserted)
}

pub(crate) async fn record_metric_batch_in<C: ConnectionTrait>(
    c: &C,
    node_id: i64,
    seq: i64,
    size: i64,
) -> Result<bool> {
    let application_id = node_application(c, node_id).await?;
    use metric_batch::Column as M;
    let row = metric_batch::ActiveModel {
        application_id: Set(application_id),
        node_id: Set(node_id),
        seq: Set(seq),
        size: Set(size),
        received_at: Set(now()),
        ..Default::default()
    };
    let res = metric_batch::Entity::insert(row)
        .on_conflict_do_nothing_on([M::NodeId, M::Seq])
        .exec_without_returning(c)
        .await?;
    Ok(matches!(res, TryInsertResult::Inserted(1)))
}
