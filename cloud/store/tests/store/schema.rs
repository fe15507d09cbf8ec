use rampart_store::{Error, Store};

use crate::common::TestDb;

async fn migrate_is_idempotent(db: &TestDb) {
    let latest = Store::latest_schema_version();
    assert!(latest >= 1);
    assert_eq!(db.store.schema_version().await.expect("version"), latest);
    // Already migrated by the harness: nothing more to do, twice.
    assert!(db.store.migrate().await.expect("again").is_empty());
    assert!(db.store.migrate().await.expect("again").is_empty());
    // Another process migrating at the same time changes nothing either.
    let other = db.another_store().await;
    let (a, b) = tokio::join!(db.store.migrate(), other.migrate());
    assert!(a.expect("a").is_empty() && b.expect("b").is_empty());
    assert_eq!(other.schema_version().await.expect("version"), latest);
    other.close().await.expect("close");
}

crate::on_both!(migrate_is_idempotent);

#[tokio::test]
async fn concurrent_first_migrations_apply_once_on_sqlite() {
    let path = std::env::temp_dir().join(format!(
        "rampart_store_fresh_{}_{}.db",
        std::process::id(),
        line!()
    ));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let a = Store::connect(&url).await.expect("a");
    let b = Store::connect(&url).await.expect("b");
    assert_eq!(a.schema_version().await.expect("version"), 0);
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    let mut applied = ra.expect("a migrates");
    applied.extend(rb.expect("b migrates"));
    applied.sort_unstable();
    let expected: Vec<i64> = (1..=Store::latest_schema_version()).collect();
    assert_eq!(applied, expected, "each migration applied exactly once");
    a.create_application("works").await.expect("schema usable");
    a.close().await.expect("close");
    b.close().await.expect("close");
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

#[tokio::test]
async fn concurrent_first_migrations_apply_once_on_postgres() {
    // A database made by the harness is already migrated: wipe it first.
    let Some(db) = crate::common::postgres("bare_migrations").await else {
        return;
    };
    // Wipe the schema the harness applied, then race two migrators.
    use rampart_store::sea_orm::ConnectionTrait;
    db.store
        .db()
        .execute_unprepared("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .await
        .expect("wipe");
    assert_eq!(db.store.schema_version().await.expect("version"), 0);
    let other = db.another_store().await;
    let (ra, rb) = tokio::join!(db.store.migrate(), other.migrate());
    let mut applied = ra.expect("a migrates");
    applied.extend(rb.expect("b migrates"));
    applied.sort_unstable();
    let expected: Vec<i64> = (1..=Store::latest_schema_version()).collect();
    assert_eq!(applied, expected, "each migration applied exactly once");
    other.close().await.expect("close");
}

#[tokio::test]
async fn connect_refuses_unknown_schemes_and_reports_errors_without_passwords() {
    match Store::connect("mysql://u:hunter2@h/db").await {
        Err(Error::Invalid(msg)) => {
            assert!(msg.contains("mysql://u:***@h/db"), "{msg}");
            assert!(!msg.contains("hunter2"));
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let dir = std::env::temp_dir().join("rampart-store-no-such-dir-xyz");
    let url = format!("sqlite://{}/x.db?mode=rwc", dir.display());
    match Store::connect(&url).await {
        Err(e @ Error::Connect { .. }) => {
            assert!(e.to_string().contains("cannot open the database"), "{e}");
        }
        other => panic!("expected Connect error, got {other:?}"),
    }
}

#[tokio::test]
async fn memory_database_works() {
    let store = Store::connect("sqlite::memory:").await.expect("memory");
    let all: Vec<i64> = (1..=Store::latest_schema_version()).collect();
    assert_eq!(store.migrate().await.expect("migrate"), all);
    let app = store.create_application("mem").await.expect("app");
    assert_eq!(app.pack_schedule_secs, 900);
    assert_eq!(store.backend(), rampart_store::Backend::Sqlite);
}
