//! Test harness: every test body runs on a fresh SQLite file and, when
//! `RAMPART_TEST_POSTGRES` holds a server URL (e.g.
//! `postgres://postgres@127.0.0.1:55432/postgres`), on a fresh PostgreSQL
//! database created for that test and dropped after it (even when it fails).

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use rampart_store::sea_orm::ConnectionTrait;
use rampart_store::{Backend, Store};

/// Environment variable naming the PostgreSQL server to test against.
pub const PG_ENV: &str = "RAMPART_TEST_POSTGRES";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database made for one test.
#[derive(Debug)]
pub struct TestDb {
    /// The store, migrated.
    pub store: Store,
    /// URL of the test database (to open more stores on it).
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// Another store (its own pool) on the same database, as a second
    /// process or cloud replica would have.
    pub async fn another_store(&self) -> Store {
        Store::connect(&self.url).await.expect("second store")
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        match self {
            Cleanup::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("cleanup runtime");
                    rt.block_on(async {
                        if let Ok(admin) = Store::connect(&admin_url).await {
                            let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                            if let Err(e) = admin.db().execute_unprepared(&sql).await {
                                eprintln!("could not drop test database {name}: {e}");
                            }
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

fn unique_suffix(test: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut s = format!("{}_{n}_{nanos:x}_{test}", std::process::id());
    s.truncate(50);
    s
}

/// A fresh, migrated SQLite file database.
pub async fn sqlite(test: &str) -> TestDb {
    let path = std::env::temp_dir().join(format!("rampart_store_{}.db", unique_suffix(test)));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let cleanup = Cleanup::Sqlite(path);
    let store = Store::connect(&url).await.expect("open sqlite");
    store.migrate().await.expect("migrate sqlite");
    TestDb {
        store,
        url,
        cleanup,
    }
}

/// A fresh, migrated PostgreSQL database, or `None` (and a note on stderr)
/// when `RAMPART_TEST_POSTGRES` is not set.
pub async fn postgres(test: &str) -> Option<TestDb> {
    let Some(admin_url) = std::env::var(PG_ENV).ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped on PostgreSQL: {PG_ENV} is not set");
        return None;
    };
    let name = format!("rampart_test_{}", unique_suffix(test)).to_ascii_lowercase();
    let admin = Store::connect(&admin_url)
        .await
        .expect("connect to RAMPART_TEST_POSTGRES");
    admin
        .db()
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    admin.close().await.expect("close admin connection");
    let cleanup = Cleanup::Postgres {
        admin_url: admin_url.clone(),
        name: name.clone(),
    };
    let url = with_database(&admin_url, &name);
    let store = Store::connect(&url).await.expect("open test database");
    store.migrate().await.expect("migrate postgres");
    Some(TestDb {
        store,
        url,
        cleanup,
    })
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    format!("{}/{db}{query}", &base[..host_end])
}

/// Defines, for each `async fn name(db: &TestDb)` in scope, a test
/// `sqlite::name` and a test `postgres::name`.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::common::sqlite(stringify!($name)).await;
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = $crate::common::postgres(stringify!($name)).await {
                        super::$name(&db).await;
                    }
                }
            )*
        }
    };
}

#[test]
fn with_database_replaces_the_path() {
    assert_eq!(
        with_database("postgres://u@h:1/postgres", "x"),
        "postgres://u@h:1/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/postgres?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}

/// Enrolls a node named `name` in application `app`; its id.
pub async fn node_of(s: &Store, app: i64, name: &str) -> i64 {
    let tok = s
        .create_enrollment_token(app, std::time::Duration::from_secs(60))
        .await
        .expect("token");
    s.enroll_node(&tok.secret, name, "1")
        .await
        .expect("enroll")
        .expect("accepted")
        .row
        .id
}
