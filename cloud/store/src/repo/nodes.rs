//! Enrollment tokens and nodes.

use std::time::Duration as StdDuration;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::Value;

use super::{non_empty, parse_json, ttl, updated};
use crate::entity::{enrollment_token, node};
use crate::error::{Error, Result};
use crate::secret::{generate_token, hash_secret};
use crate::{now, write_txn, Issued, Store};

/// What a node reports in a heartbeat.
#[derive(Debug, Clone, Copy)]
pub struct Heartbeat<'a> {
    /// Node software version.
    pub version: &'a str,
    /// Rule-pack version it runs, if any.
    pub rule_pack_version: Option<i64>,
    /// Its counters (any JSON document).
    pub counters: &'a Value,
}

impl Store {
    /// Creates a one-time enrollment token for `application_id`, valid for
    /// `ttl`. The token is in the returned [`Issued::secret`]; the store keeps
    /// its hash.
    pub async fn create_enrollment_token(
        &self,
        application_id: i64,
        ttl_: StdDuration,
    ) -> Result<Issued<enrollment_token::Model>> {
        let ttl_ = ttl(ttl_, "enrollment token lifetime")?;
        let secret = generate_token()?;
        let t = now();
        let row = enrollment_token::ActiveModel {
            application_id: Set(application_id),
            token_hash: Set(hash_secret(&secret)),
            created_at: Set(t),
            expires_at: Set(t + ttl_),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| {
            Error::insert(
                e,
                || format!("application {application_id}"),
                || "enrollment token".into(),
            )
        })?;
        Ok(Issued { secret, row })
    }

    /// Trades an enrollment token for a node: the token must exist, be
    /// unexpired and unused; it is marked used by the new node, atomically,
    /// so a token enrolls at most one node even under concurrent calls.
    /// Returns the node and its credential (shown once), or `None` when the
    /// token is refused (unknown, expired or used: callers should not tell
    /// which).
    pub async fn enroll_node(
        &self,
        token: &str,
        name: &str,
        version: &str,
    ) -> Result<Option<Issued<node::Model>>> {
        non_empty(name, "node name")?;
        let hash = hash_secret(token);
        let t = now();
        let txn = write_txn(&self.db).await?;
        let claimed = enrollment_token::Entity::update_many()
            .col_expr(enrollment_token::Column::UsedAt, Expr::value(t))
            .filter(enrollment_token::Column::TokenHash.eq(hash.as_str()))
            .filter(enrollment_token::Column::UsedAt.is_null())
            .filter(enrollment_token::Column::ExpiresAt.gt(t))
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            txn.rollback().await?;
            return Ok(None);
        }
        let Some(tok) = enrollment_token::Entity::find()
            .filter(enrollment_token::Column::TokenHash.eq(hash.as_str()))
            .one(&txn)
            .await?
        else {
            txn.rollback().await?;
            return Ok(None);
        };
        let secret = generate_token()?;
        let row = node::ActiveModel {
            application_id: Set(tok.application_id),
            name: Set(name.to_owned()),
            credential_hash: Set(hash_secret(&secret)),
            version: Set(version.to_owned()),
            counters: Set("{}".to_owned()),
            enrolled_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        enrollment_token::ActiveModel {
            id: Set(tok.id),
            used_by_node_id: Set(Some(row.id)),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        txn.commit().await?;
        Ok(Some(Issued { secret, row }))
    }

    /// Enrollment tokens of an application, newest first (hashes only).
    pub async fn list_enrollment_tokens(
        &self,
        application_id: i64,
    ) -> Result<Vec<enrollment_token::Model>> {
        Ok(enrollment_token::Entity::find()
            .filter(enrollment_token::Column::ApplicationId.eq(application_id))
            .order_by_desc(enrollment_token::Column::CreatedAt)
            .order_by_desc(enrollment_token::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// The node whose credential this is, if any.
    pub async fn authenticate_node(&self, credential: &str) -> Result<Option<node::Model>> {
        Ok(node::Entity::find()
            .filter(node::Column::CredentialHash.eq(hash_secret(credential)))
            .one(&self.db)
            .await?)
    }

    /// The node with this id.
    pub async fn node(&self, id: i64) -> Result<Option<node::Model>> {
        Ok(node::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Nodes of an application, by id.
    pub async fn list_nodes(&self, application_id: i64) -> Result<Vec<node::Model>> {
        Ok(node::Entity::find()
            .filter(node::Column::ApplicationId.eq(application_id))
            .order_by_asc(node::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Records a heartbeat: version, rule-pack version, counters, and the time.
    pub async fn record_heartbeat(&self, node_id: i64, hb: Heartbeat<'_>) -> Result<node::Model> {
        let t = now();
        let res = node::ActiveModel {
            id: Set(node_id),
            version: Set(hb.version.to_owned()),
            rule_pack_version: Set(hb.rule_pack_version),
            counters: Set(hb.counters.to_string()),
            last_heartbeat_at: Set(Some(t)),
            updated_at: Set(t),
            ..Default::default()
        }
        .update(&self.db)
        .await;
        updated(res, || format!("node {node_id}"))
    }

    /// Removes a node (its credential stops working; its events and batches
    /// go with it). Returns whether it existed.
    pub async fn delete_node(&self, node_id: i64) -> Result<bool> {
        let res = node::Entity::delete_by_id(node_id).exec(&self.db).await?;
        Ok(res.rows_affected > 0)
    }
}

impl node::Model {
    /// The counters of the last heartbeat, parsed.
    pub fn counters_json(&self) -> Result<Value> {
        parse_json(&self.counters, "nodes.counters")
    }
}
