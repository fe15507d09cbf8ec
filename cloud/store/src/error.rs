//! The store's error type.

use sea_orm::{DbErr, SqlErr};

/// Result of every store function.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database could not be reached or the URL is not understood.
    #[error("cannot open the database {url}: {source}")]
    Connect {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// Driver error.
        #[source]
        source: DbErr,
    },
    /// A schema migration failed; the database is left at the previous version.
    #[error("schema migration {version} ({name}) failed: {source}")]
    Migration {
        /// Migration number.
        version: i64,
        /// Migration name.
        name: &'static str,
        /// Driver error.
        #[source]
        source: DbErr,
    },
    /// A row with the same unique key exists.
    #[error("{0} already exists")]
    Conflict(String),
    /// The row the call refers to does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// An argument was refused before touching the database.
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// A JSON column does not hold valid JSON (a row written outside the store).
    #[error("column {column} does not hold valid JSON: {source}")]
    Json {
        /// `table.column`.
        column: &'static str,
        /// Parser error.
        #[source]
        source: serde_json::Error,
    },
    /// Hashing or checking a password failed (not a wrong password: that is `Ok(None)`).
    #[error("password hashing failed: {0}")]
    Password(String),
    /// The system random generator failed.
    #[error("random generator failed: {0}")]
    Random(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

impl Error {
    /// Maps a unique-constraint violation to [`Error::Conflict`] naming `what`,
    /// and any other error to [`Error::Database`].
    pub(crate) fn unique(err: DbErr, what: impl FnOnce() -> String) -> Error {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Error::Conflict(what()),
            _ => Error::Database(err),
        }
    }

    /// Maps a foreign-key violation to [`Error::NotFound`] naming `what`,
    /// a unique violation to [`Error::Conflict`] naming `dup`, and any other
    /// error to [`Error::Database`].
    pub(crate) fn insert(
        err: DbErr,
        missing: impl FnOnce() -> String,
        dup: impl FnOnce() -> String,
    ) -> Error {
        match err.sql_err() {
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => Error::NotFound(missing()),
            Some(SqlErr::UniqueConstraintViolation(_)) => Error::Conflict(dup()),
            _ => Error::Database(err),
        }
    }
}

/// The URL with the password part of `user:password@` replaced by `***`, so
/// it can go into error messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}:***{}",
        &url[..scheme_end + 3],
        &userinfo[..colon],
        &rest[at..]
    )
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact_url("postgres://me:s3cret@db:5432/x?sslmode=require"),
            "postgres://me:***@db:5432/x?sslmode=require"
        );
        assert_eq!(redact_url("postgres://me@db/x"), "postgres://me@db/x");
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(
            redact_url("sqlite:///data/a@b.db?mode=rwc"),
            "sqlite:///data/a@b.db?mode=rwc"
        );
    }
}
