//! Rules and rule packs.

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::non_empty;
use crate::entity::{rule, rule_pack, RuleOrigin, RuleState};
use crate::error::{Error, Result};
use crate::{now, Store};

/// A rule to store with [`Store::put_rule`].
#[derive(Debug, Clone, Copy)]
pub struct NewRule<'a> {
    /// Rule identifier (unique per application).
    pub rule_id: &'a str,
    /// Source text in the rule language.
    pub source: &'a str,
    /// Custom or learned.
    pub origin: RuleOrigin,
    /// State of a new rule (an existing rule keeps its state).
    pub state: RuleState,
    /// Why the rule exists.
    pub explanation: &'a str,
    /// Learner confidence, 0..=1.
    pub confidence: Option<f64>,
}

impl Store {
    /// Creates the rule, or replaces the source, origin, explanation and
    /// confidence of the application's rule with the same `rule_id`. An
    /// existing rule keeps its state: whether a rule blocks is decided by
    /// [`Store::set_rule_state`], not by a learner re-emitting it.
    pub async fn put_rule(&self, application_id: i64, new: NewRule<'_>) -> Result<rule::Model> {
        non_empty(new.rule_id, "rule id")?;
        if let Some(c) = new.confidence {
            if !(0.0..=1.0).contains(&c) {
                return Err(Error::Invalid(format!(
                    "confidence must be within 0..=1, got {c}"
                )));
            }
        }
        let t = now();
        let row = rule::ActiveModel {
            application_id: Set(application_id),
            rule_id: Set(new.rule_id.to_owned()),
            source: Set(new.source.to_owned()),
            origin: Set(new.origin),
            state: Set(new.state),
            explanation: Set(new.explanation.to_owned()),
            confidence: Set(new.confidence),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        };
        use rule::Column as R;
        rule::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([R::ApplicationId, R::RuleId])
                    .update_columns([
                        R::Source,
                        R::Origin,
                        R::Explanation,
                        R::Confidence,
                        R::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_with_returning(&self.db)
            .await
            .map_err(|e| {
                Error::insert(
                    e,
                    || format!("application {application_id}"),
                    || "rule".into(),
                )
            })
    }

    /// Sets the state of the application's rule `rule_id`.
    pub async fn set_rule_state(
        &self,
        application_id: i64,
        rule_id: &str,
        state: RuleState,
    ) -> Result<rule::Model> {
        use rule::Column as R;
        let res = rule::Entity::update_many()
            .col_expr(R::State, Expr::value(state))
            .col_expr(R::UpdatedAt, Expr::value(now()))
            .filter(R::ApplicationId.eq(application_id))
            .filter(R::RuleId.eq(rule_id))
            .exec(&self.db)
            .await?;
        if res.rows_affected == 0 {
            return Err(Error::NotFound(format!("rule {rule_id:?}")));
        }
        self.rule(application_id, rule_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("rule {rule_id:?}")))
    }

    /// The application's rule `rule_id`.
    pub async fn rule(&self, application_id: i64, rule_id: &str) -> Result<Option<rule::Model>> {
        use rule::Column as R;
        Ok(rule::Entity::find()
            .filter(R::ApplicationId.eq(application_id))
            .filter(R::RuleId.eq(rule_id))
            .one(&self.db)
            .await?)
    }

    /// Rules of an application, by rule id.
    pub async fn list_rules(&self, application_id: i64) -> Result<Vec<rule::Model>> {
        use rule::Column as R;
        Ok(rule::Entity::find()
            .filter(R::ApplicationId.eq(application_id))
            .order_by_asc(R::RuleId)
            .all(&self.db)
            .await?)
    }

    /// Deletes the application's rule `rule_id`. Returns whether it existed.
    pub async fn delete_rule(&self, application_id: i64, rule_id: &str) -> Result<bool> {
        use rule::Column as R;
        let res = rule::Entity::delete_many()
            .filter(R::ApplicationId.eq(application_id))
            .filter(R::RuleId.eq(rule_id))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// The version the application's next rule pack should take: one more
    /// than the highest stored (published or not), 1 for the first.
    pub async fn next_pack_version(&self, application_id: i64) -> Result<i64> {
        use rule_pack::Column as P;
        let last: Option<i64> = rule_pack::Entity::find()
            .select_only()
            .column(P::Version)
            .filter(P::ApplicationId.eq(application_id))
            .order_by_desc(P::Version)
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(last.map_or(1, |v| v + 1))
    }

    /// Stores a built rule pack, unpublished. [`Error::Conflict`] when the
    /// version is taken (another replica built it first).
    pub async fn insert_rule_pack(
        &self,
        application_id: i64,
        version: i64,
        digest: &str,
        bytes: &[u8],
    ) -> Result<rule_pack::Model> {
        if version < 1 {
            return Err(Error::Invalid(format!(
                "pack version must be >= 1, got {version}"
            )));
        }
        non_empty(digest, "pack digest")?;
        let row = rule_pack::ActiveModel {
            application_id: Set(application_id),
            version: Set(version),
            digest: Set(digest.to_owned()),
            bytes: Set(bytes.to_vec()),
            created_at: Set(now()),
            published: Set(false),
            ..Default::default()
        };
        rule_pack::Entity::insert(row)
            .exec_with_returning(&self.db)
            .await
            .map_err(|e| {
                Error::insert(
                    e,
                    || format!("application {application_id}"),
                    || format!("rule pack version {version}"),
                )
            })
    }

    /// Publishes the pack (nodes may download it from now on). Publishing an
    /// already published pack changes nothing.
    pub async fn publish_rule_pack(
        &self,
        application_id: i64,
        version: i64,
    ) -> Result<rule_pack::Model> {
        use rule_pack::Column as P;
        rule_pack::Entity::update_many()
            .col_expr(P::Published, Expr::value(true))
            .col_expr(P::PublishedAt, Expr::value(Some(now())))
            .filter(P::ApplicationId.eq(application_id))
            .filter(P::Version.eq(version))
            .filter(P::Published.eq(false))
            .exec(&self.db)
            .await?;
        self.rule_pack(application_id, version)
            .await?
            .ok_or_else(|| Error::NotFound(format!("rule pack version {version}")))
    }

    /// The highest published pack of the application.
    pub async fn latest_published_pack(
        &self,
        application_id: i64,
    ) -> Result<Option<rule_pack::Model>> {
        use rule_pack::Column as P;
        Ok(rule_pack::Entity::find()
            .filter(P::ApplicationId.eq(application_id))
            .filter(P::Published.eq(true))
            .order_by_desc(P::Version)
            .one(&self.db)
            .await?)
    }

    /// The version of [`Store::latest_published_pack`], without loading the
    /// pack (for ETags and long-polls).
    pub async fn latest_published_version(&self, application_id: i64) -> Result<Option<i64>> {
        use rule_pack::Column as P;
        Ok(rule_pack::Entity::find()
            .select_only()
            .column(P::Version)
            .filter(P::ApplicationId.eq(application_id))
            .filter(P::Published.eq(true))
            .order_by_desc(P::Version)
            .into_tuple()
            .one(&self.db)
            .await?)
    }

    /// The application's pack with this version, published or not.
    pub async fn rule_pack(
        &self,
        application_id: i64,
        version: i64,
    ) -> Result<Option<rule_pack::Model>> {
        use rule_pack::Column as P;
        Ok(rule_pack::Entity::find()
            .filter(P::ApplicationId.eq(application_id))
            .filter(P::Version.eq(version))
            .one(&self.db)
            .await?)
    }
}
