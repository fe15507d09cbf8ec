//! Schema migrations.
//!
//! A small versioned runner instead of `sea-orm-migration` (which brings a
//! CLI and schema discovery the cloud does not need). Each migration is a list
//! of backend-neutral sea-query statements, frozen in time: later changes are
//! new migrations, never edits of old ones. Applied versions are recorded in
//! `rampart_schema_migrations`.
//!
//! Safe to run from several processes at once: on PostgreSQL every step holds
//! a transaction-scoped advisory lock; on SQLite every step runs in an
//! `IMMEDIATE` transaction (the database write lock). Each migration commits
//! with its bookkeeping row, so a failed one leaves the schema at the previous
//! version (both databases have transactional DDL).

use chrono::Utc;
use sea_orm::sea_query::{
    ColumnDef, ForeignKey, ForeignKeyAction, ForeignKeyCreateStatement, Index,
    IndexCreateStatement, OnConflict, Query, Table, TableCreateStatement,
};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
};

use crate::error::{Error, Result};
use crate::write_txn;

/// Name of the bookkeeping table.
pub(crate) const MIGRATIONS_TABLE: &str = "rampart_schema_migrations";

/// Advisory-lock key of migrations on PostgreSQL ("RMPT" + 1).
const PG_LOCK_KEY: i64 = 0x524d_5054_0001;

struct Migration {
    version: i64,
    name: &'static str,
    statements: fn() -> Vec<Schema>,
}

enum Schema {
    Table(Box<TableCreateStatement>),
    Index(Box<IndexCreateStatement>),
}

impl Schema {
    fn build(&self, backend: DbBackend) -> Statement {
        match self {
            Schema::Table(t) => backend.build(t.as_ref()),
            Schema::Index(i) => backend.build(i.as_ref()),
        }
    }
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial schema",
        statements: initial_schema,
    },
    Migration {
        version: 2,
        name: "learning: endpoint templates, client windows, behaviour alerts",
        statements: learning_schema,
    },
    Migration {
        version: 3,
        name: "console: sessions, traffic per minute",
        statements: console_schema,
    },
];

/// The latest schema version this build knows.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Applies every migration not yet applied; returns the versions applied now.
pub(crate) async fn run(db: &DatabaseConnection) -> Result<Vec<i64>> {
    let backend = db.get_database_backend();
    let bookkeeping = Table::create()
        .table(MIGRATIONS_TABLE)
        .if_not_exists()
        .col(
            ColumnDef::new("version")
                .big_integer()
                .not_null()
                .primary_key(),
        )
        .col(ColumnDef::new("name").text().not_null())
        .col(
            ColumnDef::new("applied_at")
                .timestamp_with_time_zone()
                .not_null(),
        )
        .take();
    let txn = write_txn(db).await?;
    lock(&txn).await?;
    txn.execute(&bookkeeping)
        .await
        .map_err(|source| Error::Migration {
            version: 0,
            name: "bookkeeping table",
            source,
        })?;
    txn.commit().await?;

    let mut applied = Vec::new();
    for m in MIGRATIONS {
        let txn = write_txn(db).await?;
        lock(&txn).await?;
        let fail = |source: DbErr| Error::Migration {
            version: m.version,
            name: m.name,
            source,
        };
        let mut claim = Query::insert();
        claim
            .into_table(MIGRATIONS_TABLE)
            .columns(["version", "name", "applied_at"])
            .values([m.version.into(), m.name.into(), Utc::now().into()])
            .map_err(|e| Error::Invalid(e.to_string()))?
            .on_conflict(OnConflict::column("version").do_nothing().to_owned());
        let claimed = txn.execute(&claim).await.map_err(fail)?.rows_affected();
        if claimed == 0 {
            txn.rollback().await?;
            continue;
        }
        for stmt in (m.statements)() {
            txn.execute_raw(stmt.build(backend)).await.map_err(fail)?;
        }
        txn.commit().await.map_err(fail)?;
        applied.push(m.version);
    }
    Ok(applied)
}

/// Serialises migrators on PostgreSQL (SQLite's IMMEDIATE transaction already does).
async fn lock(txn: &DatabaseTransaction) -> Result<()> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [PG_LOCK_KEY.into()],
        ))
        .await?;
    }
    Ok(())
}

fn table(t: TableCreateStatement) -> Schema {
    Schema::Table(Box::new(t))
}

fn id() -> ColumnDef {
    ColumnDef::new("id")
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .take()
}

fn big(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().take()
}

fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().not_null().take()
}

fn text_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().null().take()
}

fn time(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

fn time_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .take()
}

fn real_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).double().null().take()
}

fn fk(
    from_table: &'static str,
    col: &'static str,
    to_table: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{col}"))
        .from(from_table, col)
        .to(to_table, "id")
        .on_delete(on_delete)
        .take()
}

fn index(name: &'static str, table: &'static str, cols: &[&'static str], unique: bool) -> Schema {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(*c);
    }
    if unique {
        i.unique();
    }
    Schema::Index(Box::new(i.take()))
}

fn initial_schema() -> Vec<Schema> {
    use ForeignKeyAction::{Cascade, SetNull};
    vec![
        table(
            Table::create()
                .table("applications")
                .col(id())
                .col(text("name"))
                .col(
                    ColumnDef::new("pack_schedule_secs")
                        .big_integer()
                        .not_null()
                        .default(900),
                )
                .col(ColumnDef::new("settings").text().not_null().default("{}"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .take(),
        ),
        index("ux_applications_name", "applications", &["name"], true),
        table(
            Table::create()
                .table("nodes")
                .col(id())
                .col(big("application_id"))
                .col(text("name"))
                .col(text("credential_hash"))
                .col(text("version"))
                .col(ColumnDef::new("rule_pack_version").big_integer().null())
                .col(time_null("last_heartbeat_at"))
                .col(ColumnDef::new("counters").text().not_null().default("{}"))
                .col(time("enrolled_at"))
                .col(time("updated_at"))
                .foreign_key(&mut fk("nodes", "application_id", "applications", Cascade))
                .take(),
        ),
        index("ux_nodes_credential", "nodes", &["credential_hash"], true),
        index("ix_nodes_application", "nodes", &["application_id"], false),
        table(
            Table::create()
                .table("enrollment_tokens")
                .col(id())
                .col(big("application_id"))
                .col(text("token_hash"))
                .col(time("created_at"))
                .col(time("expires_at"))
                .col(time_null("used_at"))
                .col(ColumnDef::new("used_by_node_id").big_integer().null())
                .foreign_key(&mut fk(
                    "enrollment_tokens",
                    "application_id",
                    "applications",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "enrollment_tokens",
                    "used_by_node_id",
                    "nodes",
                    SetNull,
                ))
                .take(),
        ),
        index(
            "ux_enrollment_tokens_hash",
            "enrollment_tokens",
            &["token_hash"],
            true,
        ),
        index(
            "ix_enrollment_tokens_application",
            "enrollment_tokens",
            &["application_id"],
            false,
        ),
        table(
            Table::create()
                .table("endpoints")
                .col(id())
                .col(big("application_id"))
                .col(text("method"))
                .col(text("template"))
                .col(text_null("function_label"))
                .col(real_null("function_confidence"))
                .col(time("first_seen_at"))
                .col(time("last_seen_at"))
                .col(text_null("stats"))
                .foreign_key(&mut fk(
                    "endpoints",
                    "application_id",
                    "applications",
                    Cascade,
                ))
                .take(),
        ),
        index(
            "ux_endpoints_key",
            "endpoints",
            &["application_id", "method", "template"],
            true,
        ),
        table(
            Table::create()
                .table("parameters")
                .col(id())
                .col(big("application_id"))
                .col(big("endpoint_id"))
                .col(text("point"))
                .col(text_null("format_label"))
                .col(real_null("format_confidence"))
                .col(
                    ColumnDef::new("personal_data")
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(time("first_seen_at"))
                .col(time("last_seen_at"))
                .col(text_null("stats"))
                .foreign_key(&mut fk(
                    "parameters",
                    "application_id",
                    "applications",
                    Cascade,
                ))
                .foreign_key(&mut fk("parameters", "endpoint_id", "endpoints", Cascade))
                .take(),
        ),
        index(
            "ux_parameters_key",
            "parameters",
            &["endpoint_id", "point"],
            true,
        ),
        index(
            "ix_parameters_application",
            "parameters",
            &["application_id"],
            false,
        ),
        table(
            Table::create()
                .table("learned_profiles")
                .col(id())
                .col(big("application_id"))
                .col(big("endpoint_id"))
                .col(text("point"))
                .col(text("kind"))
                .col(text("model_version"))
                .col(text("profile"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .foreign_key(&mut fk(
                    "learned_profiles",
                    "application_id",
                    "applications",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "learned_profiles",
                    "endpoint_id",
                    "endpoints",
                    Cascade,
                ))
                .take(),
        ),
        index(
            "ux_learned_profiles_key",
            "learned_profiles",
            &["endpoint_id", "point", "kind"],
            true,
        ),
        index(
            "ix_learned_profiles_application",
            "learned_profiles",
            &["application_id"],
            false,
        ),
        table(
            Table::create()
                .table("rules")
                .col(id())
                .col(big("application_id"))
                .col(text("rule_id"))
                .col(text("source"))
                .col(text("origin"))
                .col(text("state"))
                .col(ColumnDef::new("explanation").text().not_null().default(""))
                .col(real_null("confidence"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .foreign_key(&mut fk("rules", "application_id", "applications", Cascade))
                .take(),
        ),
        index(
            "ux_rules_key",
            "rules",
            &["application_id", "rule_id"],
            true,
        ),
        table(
            Table::create()
                .table("rule_packs")
                .col(id())
                .col(big("application_id"))
                .col(big("version"))
                .col(text("digest"))
                .col(ColumnDef::new("bytes").blob().not_null())
                .col(time("created_at"))
                .col(
                    ColumnDef::new("published")
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(time_null("published_at"))
                .foreign_key(&mut fk(
                    "rule_packs",
                    "application_id",
                    "applications",
                    Cascade,
                ))
                .take(),
        ),
        index(
            "ux_rule_packs_key",
            "rule_packs",
            &["application_id", "version"],
            true,
        ),
        table(
            Table::create()
                .table("attack_events")
                .col(id())
                .col(big("application_id"))
                .col(big("node_id"))
                .col(time("occurred_at"))
                .col(text("endpoint"))
                .col(text("point"))
                .col(text("class"))
                .col(text("rule"))
                .col(ColumnDef::new("score").integer().not_null())
                .col(text("action"))
                .col(text("payload"))
                .col(text("request_id"))
                .col(time("received_at"))
                .foreign_key(&mut fk(
                    "attack_events",
                    "application_id",
                    "applications",
                    Cascade,
                ))
                .foreign_key(&mut fk("attack_events", "node_id", "nodes", Cascade))
                .take(),
        ),
        index(
            "ux_attack_events_dedup",
            "attack_events",
            &["node_id", "request_id", "rule"],
            true,
        ),
        index(
            "ix_attack_events_app_time",
            "attack_events",
            &["application_id", "occurred_at"],
            false,
        ),
        table(
            Table::create()
                .table("metric_batches")
                .col(id())
                .col(big("application_id"))
                .col(big("node_id"))
                .col(big("seq"))
                .col(time("received_at"))
                .col(big("size"))
                .foreign_key(&mut fk(
                    "metric_batches",
                    "application_id",
                    "applications",
                    Cascade,
                ))
                .foreign_key(&mut fk("metric_batches", "node_id", "nodes", Cascade))
                .take(),
        ),
        index(
            "ux_metric_batches_key",
            "metric_batches",
            &["node_id", "seq"],
            true,
        ),
        table(
            Table::create()
                .table("scan_jobs")
                .col(id())
                .col(big("application_id"))
                .col(big("endpoint_id"))
                .col(text("point"))
                .col(text("class"))
                .col(text("payload_family"))
                .col(text("payload"))
                .col(text("state"))
                .col(ColumnDef::new("attempts").integer().not_null().default(0))
                .col(time("next_attempt_at"))
                .col(text_null("last_error"))
                .col(text("dedup_key"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .foreign_key(&mut fk(
                    "scan_jobs",
                    "application_id",
                    "applications",
                    Cascade,
                ))
                .foreign_key(&mut fk("scan_jobs", "endpoint_id", "endpoints", Cascade))
                .take(),
        ),
        index(
            "ux_scan_jobs_dedup",
            "scan_jobs",
            &["application_id", "dedup_key"],
            true,
        ),
        index(
            "ix_scan_jobs_due",
            "scan_jobs",
            &["state", "next_attempt_at"],
            false,
        ),
        table(
            Table::create()
                .table("incidents")
                .col(id())
                .col(big("application_id"))
                .col(text("title"))
                .col(text("severity"))
                .col(ColumnDef::new("endpoint_id").big_integer().null())
                .col(text_null("point"))
                .col(text_null("payload"))
                .col(ColumnDef::new("evidence").text().not_null().default("{}"))
                .col(text("status"))
                .col(text("dedup_key"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .foreign_key(&mut fk(
                    "incidents",
                    "application_id",
                    "applications",
                    Cascade,
                ))
                .foreign_key(&mut fk("incidents", "endpoint_id", "endpoints", SetNull))
                .take(),
        ),
        index(
            "ux_incidents_dedup",
            "incidents",
            &["application_id", "dedup_key"],
            true,
        ),
        index(
            "ix_incidents_status",
            "incidents",
            &["application_id", "status"],
            false,
        ),
        table(
            Table::create()
                .table("notifications")
                .col(id())
                .col(big("incident_id"))
                .col(text("channel"))
                .col(text("payload"))
                .col(text("state"))
                .col(ColumnDef::new("attempts").integer().not_null().default(0))
                .col(time("next_attempt_at"))
                .col(text_null("last_error"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .foreign_key(&mut fk(
                    "notifications",
                    "incident_id",
                    "incidents",
                    Cascade,
                ))
                .take(),
        ),
        index(
            "ix_notifications_due",
            "notifications",
            &["state", "next_attempt_at"],
            false,
        ),
        index(
            "ix_notifications_incident",
            "notifications",
            &["incident_id"],
            false,
        ),
        table(
            Table::create()
                .table("users")
                .col(id())
                .col(text("name"))
                .col(text("password_hash"))
                .col(text("role"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .take(),
        ),
        index("ux_users_name", "users", &["name"], true),
        table(
            Table::create()
                .table("api_tokens")
                .col(id())
                .col(big("user_id"))
                .col(ColumnDef::new("label").text().not_null().default(""))
                .col(text("token_hash"))
                .col(text("role"))
                .col(time("created_at"))
                .col(time_null("last_used_at"))
                .col(time_null("revoked_at"))
                .foreign_key(&mut fk("api_tokens", "user_id", "users", Cascade))
                .take(),
        ),
        index("ux_api_tokens_hash", "api_tokens", &["token_hash"], true),
        index("ix_api_tokens_user", "api_tokens", &["user_id"], false),
        table(
            Table::create()
                .table("job_leases")
                .col(ColumnDef::new("name").text().not_null().primary_key())
                .col(text("holder"))
                .col(time("acquired_at"))
                .col(time("expires_at"))
                .take(),
        ),
    ]
}

/// Version 2: what the learners need beyond version 1. The endpoint
/// templates they reconstruct (the `endpoints` rows stay the path shapes
/// the nodes report), the per-client aggregates of each batch (behaviour),
/// and the behaviour alerts raised on them.
fn learning_schema() -> Vec<Schema> {
    use ForeignKeyAction::Cascade;
    vec![
        table(
            Table::create()
                .table("learned_endpoints")
                .col(id())
                .col(big("application_id"))
                .col(text("method"))
                .col(text("template"))
                .col(text("operation"))
                .col(text_null("function_label"))
                .col(real_null("function_confidence"))
                .col(text("change"))
                .col(text("detail"))
                .col(time("first_seen_at"))
                .col(time("last_seen_at"))
                .col(time("updated_at"))
                .foreign_key(&mut fk(
                    "learned_endpoints",
                    "application_id",
                    "applications",
                    Cascade,
                ))
                .take(),
        ),
        index(
            "ux_learned_endpoints_key",
            "learned_endpoints",
            &["application_id", "method", "template", "operation"],
            true,
        ),
        table(
            Table::create()
                .table("client_windows")
                .col(id())
                .col(big("application_id"))
                .col(big("node_id"))
                .col(big("window_start"))
                .col(big("window_end"))
                .col(text("client"))
                .col(text("kind"))
                .col(text("stats"))
                .foreign_key(&mut fk(
                    "client_windows",
                    "application_id",
                    "applications",
                    Cascade,
                ))
                .foreign_key(&mut fk("client_windows", "node_id", "nodes", Cascade))
                .take(),
        ),
        index(
            "ix_client_windows_time",
            "client_windows",
            &["application_id", "window_end"],
            false,
        ),
        table(
            Table::create()
                .table("behaviour_alerts")
                .col(id())
                .col(big("application_id"))
                .col(text("client"))
                .col(text("kind"))
                .col(text("threat"))
                .col(ColumnDef::new("score").double().not_null())
                .col(text("explanation"))
                .col(big("window_end"))
                .col(time("created_at"))
                .foreign_key(&mut fk(
                    "behaviour_alerts",
                    "application_id",
                    "applications",
                    Cascade,
                ))
                .take(),
        ),
        index(
            "ux_behaviour_alerts_key",
            "behaviour_alerts",
            &["application_id", "client", "threat", "window_end"],
            true,
        ),
    ]
}

fn console_schema() -> Vec<Schema> {
    use ForeignKeyAction::Cascade;
    vec![
        table(
            Table::create()
                .table("console_sessions")
                .col(id())
                .col(text("token_hash"))
                .col(big("user_id"))
                .col(text("csrf"))
                .col(time("created_at"))
                .col(time("expires_at"))
                .foreign_key(&mut fk("console_sessions", "user_id", "users", Cascade))
                .take(),
        ),
        index(
            "ux_console_sessions_token",
            "console_sessions",
            &["token_hash"],
            true,
        ),
        table(
            Table::create()
                .table("traffic_minutes")
                .col(id())
                .col(big("application_id"))
                .col(big("minute"))
                .col(big("requests"))
                .col(big("blocked"))
                .col(big("monitored"))
                .col(big("attacks"))
                .foreign_key(&mut fk(
                    "traffic_minutes",
                    "application_id",
                    "applications",
                    Cascade,
                ))
                .take(),
        ),
        index(
            "ux_traffic_minutes_key",
            "traffic_minutes",
            &["application_id", "minute"],
            true,
        ),
    ]
}
