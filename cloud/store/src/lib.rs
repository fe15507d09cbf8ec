//! Rampart's cloud store: sea-orm entities, schema migrations and a small
//! typed repository over them, on SQLite (the embedded default) or PostgreSQL
//! (several cloud replicas sharing one database).
//!
//! ```no_run
//! # async fn demo() -> rampart_store::Result<()> {
//! let store = rampart_store::Store::connect("sqlite::memory:").await?;
//! store.migrate().await?;
//! let app = store.create_application("shop").await?;
//! let token = store
//!     .create_enrollment_token(app.id, std::time::Duration::from_secs(3600))
//!     .await?;
//! // `token.secret` goes to the operator once; only its hash is stored.
//! # let _ = token;
//! # Ok(())
//! # }
//! ```
//!
//! Design notes:
//! * Secrets (enrollment tokens, node credentials, API tokens, passwords) are
//!   never stored: see [`secret`]. Functions that create one return it once in
//!   an [`Issued`].
//! * Statistics and other JSON documents are stored as JSON text; merging is
//!   the caller's business ([`Store::upsert_endpoint_stats`] hands the stored
//!   value to a closure inside a transaction).
//! * Writes that read then write lock first: on PostgreSQL the row (an
//!   `UPDATE` before the read), on SQLite the database (`BEGIN IMMEDIATE`), so
//!   concurrent replicas never lose an update.
//! * Timestamps come from the calling process's clock and are stored in UTC
//!   with microsecond precision (callers' timestamps are truncated to it).
//! * SQLite pools hold one connection (sea-orm's default for SQLite): while an
//!   [`Ingest`] transaction is open, other calls on the same store wait for it.

#![forbid(unsafe_code)]

pub mod entity;
mod error;
mod migration;
mod repo;
pub mod secret;

use std::time::Duration as StdDuration;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    sqlx::sqlite::SqliteJournalMode, ConnectOptions, Database, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

pub use error::{redact_url, Error, Result};
pub use repo::{
    ApiPrincipal, AttackQuery, Heartbeat, Ingest, NewAttackEvent, NewBehaviourAlert,
    NewClientWindow, NewIncident, NewLearnedEndpoint, NewRule, NewScanJob, NewSession,
    OpenedIncident, TrafficCounts, DEFAULT_PACK_SCHEDULE_SECS,
};

/// Re-exported so that callers name the same types as the entities.
pub use chrono;
pub use sea_orm;
pub use serde_json;

/// A UTC timestamp, as stored.
pub type Timestamp = DateTime<Utc>;

/// A freshly created secret and the row that stores its hash. The secret is
/// shown here once and cannot be recovered from the store.
#[derive(Debug, Clone)]
pub struct Issued<T> {
    /// The plaintext token or credential, to hand to its owner.
    pub secret: String,
    /// The stored row.
    pub row: T,
}

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (bundled).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Handle on the cloud database. Cheap to clone (a connection pool).
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
}

impl Store {
    /// Opens the database at `url`: `sqlite://PATH?mode=rwc` (created if
    /// missing), `sqlite::memory:`, or `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`.
    /// Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Store> {
        let redacted = error::redact_url(url);
        let supported = ["sqlite:", "postgres:", "postgresql:"];
        if !supported.iter().any(|p| url.starts_with(p)) {
            return Err(Error::Invalid(format!(
                "database URL {redacted} is neither sqlite: nor postgres:"
            )));
        }
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .sqlx_logging(false)
            .connect_timeout(StdDuration::from_secs(10))
            .acquire_timeout(StdDuration::from_secs(30));
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if url.starts_with("sqlite:") && !in_memory {
            // Write-ahead log: readers do not block the writer and vice versa.
            options.map_sqlx_sqlite_opts(|o| o.journal_mode(SqliteJournalMode::Wal));
        }
        let db = Database::connect(options)
            .await
            .map_err(|source| Error::Connect {
                url: redacted,
                source,
            })?;
        Ok(Store { db })
    }

    /// Brings the schema to the latest version; does nothing when it is
    /// already there. Safe to call from several processes at once. Returns
    /// the migrations applied by this call.
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        migration::run(&self.db).await
    }

    /// Highest schema version applied to the database (0 before [`Store::migrate`]).
    pub async fn schema_version(&self) -> Result<i64> {
        repo::schema_version(&self.db).await
    }

    /// Latest schema version this build of the store knows.
    pub fn latest_schema_version() -> i64 {
        migration::latest_version()
    }

    /// The database kind.
    pub fn backend(&self) -> Backend {
        match self.db.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    /// The underlying sea-orm connection, for read-only queries the
    /// repository does not offer. Writes should go through the repository
    /// functions, which keep the invariants (hashes only, dedup keys, locks).
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Closes the pool (waits for connections in use to be returned).
    pub async fn close(self) -> Result<()> {
        self.db.close().await?;
        Ok(())
    }
}

/// Current time as stored: UTC, truncated to microseconds (PostgreSQL's
/// precision), so that a value read back equals the value written.
pub(crate) fn now() -> Timestamp {
    micros(Utc::now())
}

/// A caller's timestamp as it will be stored (microsecond precision on both
/// databases), so that what is written compares equal to what is read back.
pub(crate) fn micros(t: Timestamp) -> Timestamp {
    t.trunc_subsecs(6)
}

/// Begins a transaction that will write: `BEGIN IMMEDIATE` on SQLite, so the
/// write lock is taken up front and a read-then-write cannot fail halfway
/// with "database is locked"; a plain `BEGIN` on PostgreSQL.
pub(crate) async fn write_txn(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}
