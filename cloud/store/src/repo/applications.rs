//! Applications.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::Value;

use super::{non_empty, parse_json, updated};
use crate::entity::application;
use crate::error::{Error, Result};
use crate::{now, Store};

/// Default rule-pack schedule of a new application, in seconds.
pub const DEFAULT_PACK_SCHEDULE_SECS: i64 = 900;

impl Store {
    /// Creates an application named `name` (unique), with the default pack
    /// schedule (900 s) and empty settings.
    pub async fn create_application(&self, name: &str) -> Result<application::Model> {
        non_empty(name, "application name")?;
        let t = now();
        application::ActiveModel {
            name: Set(name.to_owned()),
            pack_schedule_secs: Set(DEFAULT_PACK_SCHEDULE_SECS),
            settings: Set("{}".to_owned()),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| Error::unique(e, || format!("application {name:?}")))
    }

    /// The application with this id.
    pub async fn application(&self, id: i64) -> Result<Option<application::Model>> {
        Ok(application::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// The application with this name.
    pub async fn application_by_name(&self, name: &str) -> Result<Option<application::Model>> {
        Ok(application::Entity::find()
            .filter(application::Column::Name.eq(name))
            .one(&self.db)
            .await?)
    }

    /// All applications, by name.
    pub async fn list_applications(&self) -> Result<Vec<application::Model>> {
        Ok(application::Entity::find()
            .order_by_asc(application::Column::Name)
            .all(&self.db)
            .await?)
    }

    /// Sets how often the application's rule pack is rebuilt (at least 1 s).
    pub async fn set_pack_schedule(&self, id: i64, secs: i64) -> Result<application::Model> {
        if secs < 1 {
            return Err(Error::Invalid(format!(
                "pack schedule must be at least 1 second, got {secs}"
            )));
        }
        let res = application::ActiveModel {
            id: Set(id),
            pack_schedule_secs: Set(secs),
            updated_at: Set(now()),
            ..Default::default()
        }
        .update(&self.db)
        .await;
        updated(res, || format!("application {id}"))
    }

    /// Replaces the application's free settings (a JSON object).
    pub async fn set_application_settings(
        &self,
        id: i64,
        settings: &Value,
    ) -> Result<application::Model> {
        if !settings.is_object() {
            return Err(Error::Invalid(
                "application settings must be a JSON object".into(),
            ));
        }
        let res = application::ActiveModel {
            id: Set(id),
            settings: Set(settings.to_string()),
            updated_at: Set(now()),
            ..Default::default()
        }
        .update(&self.db)
        .await;
        updated(res, || format!("application {id}"))
    }

    /// Deletes the application and everything that belongs to it. Returns
    /// whether it existed.
    pub async fn delete_application(&self, id: i64) -> Result<bool> {
        let res = application::Entity::delete_by_id(id).exec(&self.db).await?;
        Ok(res.rows_affected > 0)
    }
}

impl application::Model {
    /// The settings, parsed.
    pub fn settings_json(&self) -> Result<Value> {
        parse_json(&self.settings, "applications.settings")
    }
}
