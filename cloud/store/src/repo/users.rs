//! Console users and API tokens.

use std::sync::OnceLock;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::{non_empty, updated};
use crate::entity::{api_token, user, Role};
use crate::error::{Error, Result};
use crate::secret::{self, generate_token, hash_secret};
use crate::{now, Issued, Store};

/// Who an API token authenticates.
#[derive(Debug, Clone)]
pub struct ApiPrincipal {
    /// The token row (its `last_used_at` is the time before this use).
    pub token: api_token::Model,
    /// Its user.
    pub user: user::Model,
    /// Effective role: the token's, capped by the user's current role.
    pub role: Role,
}

/// A hash to verify against when the user does not exist, so that an
/// unknown name costs the same time as a wrong password.
static DUMMY_HASH: OnceLock<String> = OnceLock::new();

impl Store {
    /// Creates a console user; the password is stored as an Argon2id hash.
    pub async fn create_user(&self, name: &str, password: &str, role: Role) -> Result<user::Model> {
        non_empty(name, "user name")?;
        check_password(password)?;
        let password = password.to_owned();
        let hash = secret::blocking(move || secret::hash_password(&password)).await?;
        let t = now();
        user::ActiveModel {
            name: Set(name.to_owned()),
            password_hash: Set(hash),
            role: Set(role),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| Error::unique(e, || format!("user {name:?}")))
    }

    /// The user, if `name` exists and `password` is theirs.
    pub async fn authenticate_user(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Option<user::Model>> {
        let found = self.user_by_name(name).await?;
        let phc = match &found {
            Some(u) => u.password_hash.clone(),
            None => {
                if let Some(h) = DUMMY_HASH.get() {
                    h.clone()
                } else {
                    let h = secret::blocking(|| secret::hash_password("rampart-dummy")).await?;
                    DUMMY_HASH.get_or_init(|| h).clone()
                }
            }
        };
        let password = password.to_owned();
        let ok = secret::blocking(move || secret::verify_password(&password, &phc)).await?;
        Ok(found.filter(|_| ok))
    }

    /// Replaces a user's password.
    pub async fn set_user_password(&self, user_id: i64, password: &str) -> Result<user::Model> {
        check_password(password)?;
        let password = password.to_owned();
        let hash = secret::blocking(move || secret::hash_password(&password)).await?;
        let res = user::ActiveModel {
            id: Set(user_id),
            password_hash: Set(hash),
            updated_at: Set(now()),
            ..Default::default()
        }
        .update(&self.db)
        .await;
        updated(res, || format!("user {user_id}"))
    }

    /// Changes a user's role (their tokens are capped by it from now on).
    pub async fn set_user_role(&self, user_id: i64, role: Role) -> Result<user::Model> {
        let res = user::ActiveModel {
            id: Set(user_id),
            role: Set(role),
            updated_at: Set(now()),
            ..Default::default()
        }
        .update(&self.db)
        .await;
        updated(res, || format!("user {user_id}"))
    }

    /// The user with this id.
    pub async fn user(&self, id: i64) -> Result<Option<user::Model>> {
        Ok(user::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// The user with this name.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<user::Model>> {
        Ok(user::Entity::find()
            .filter(user::Column::Name.eq(name))
            .one(&self.db)
            .await?)
    }

    /// All users, by name.
    pub async fn list_users(&self) -> Result<Vec<user::Model>> {
        Ok(user::Entity::find()
            .order_by_asc(user::Column::Name)
            .all(&self.db)
            .await?)
    }

    /// Deletes a user and their tokens. Returns whether they existed.
    pub async fn delete_user(&self, id: i64) -> Result<bool> {
        let res = user::Entity::delete_by_id(id).exec(&self.db).await?;
        Ok(res.rows_affected > 0)
    }

    /// Creates an API token for a user, granting `role` (which must not be
    /// above the user's). The token is in [`Issued::secret`], shown once.
    pub async fn create_api_token(
        &self,
        user_id: i64,
        label: &str,
        role: Role,
    ) -> Result<Issued<api_token::Model>> {
        let owner = self
            .user(user_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("user {user_id}")))?;
        if !owner.role.covers(role) {
            return Err(Error::Invalid(format!(
                "user {:?} ({:?}) cannot hold a {role:?} token",
                owner.name, owner.role
            )));
        }
        let secret = generate_token()?;
        let row = api_token::ActiveModel {
            user_id: Set(user_id),
            label: Set(label.to_owned()),
            token_hash: Set(hash_secret(&secret)),
            role: Set(role),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| Error::insert(e, || format!("user {user_id}"), || "API token".into()))?;
        Ok(Issued { secret, row })
    }

    /// Who this API token authenticates, if it exists and is not revoked;
    /// records the use.
    pub async fn authenticate_api_token(&self, token: &str) -> Result<Option<ApiPrincipal>> {
        use api_token::Column as T;
        let Some(tok) = api_token::Entity::find()
            .filter(T::TokenHash.eq(hash_secret(token)))
            .filter(T::RevokedAt.is_null())
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let Some(owner) = self.user(tok.user_id).await? else {
            return Ok(None);
        };
        api_token::Entity::update_many()
            .col_expr(T::LastUsedAt, Expr::value(Some(now())))
            .filter(T::Id.eq(tok.id))
            .exec(&self.db)
            .await?;
        let role = if owner.role.covers(tok.role) {
            tok.role
        } else {
            owner.role
        };
        Ok(Some(ApiPrincipal {
            token: tok,
            user: owner,
            role,
        }))
    }

    /// Revokes a token. Returns whether it was active.
    pub async fn revoke_api_token(&self, id: i64) -> Result<bool> {
        use api_token::Column as T;
        let res = api_token::Entity::update_many()
            .col_expr(T::RevokedAt, Expr::value(Some(now())))
            .filter(T::Id.eq(id))
            .filter(T::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// A user's tokens (hashes only), newest first.
    pub async fn list_api_tokens(&self, user_id: i64) -> Result<Vec<api_token::Model>> {
        use api_token::Column as T;
        Ok(api_token::Entity::find()
            .filter(T::UserId.eq(user_id))
            .order_by_desc(T::Id)
            .all(&self.db)
            .await?)
    }
}

/// The shortest password accepted (NIST SP 800-63B's floor for
/// passwords users choose).
pub const MIN_PASSWORD_CHARS: usize = 8;

fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::Invalid(format!(
            "a password must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}
