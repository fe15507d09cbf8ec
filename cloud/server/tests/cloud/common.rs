//! Test harness: a database per test (a SQLite file in a folder of its own
//! and, when `RAMPART_TEST_POSTGRES` names a server, a PostgreSQL database
//! created for the test and dropped after it), cloud replicas on it serving
//! on 127.0.0.1, a small HTTP client, and a real batch.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use rampart_cloud::{Cloud, CloudConfig, CloudHandle};
use rampart_core::{Engine, EngineConfig, Request};
use rampart_store::sea_orm::ConnectionTrait;
use rampart_store::Store;
use rampart_telemetry::{Aggregator, Batch, Config, Observation};
use rampart_types::Header;
use serde_json::Value;
use tokio::net::TcpStream;

/// Environment variable naming the PostgreSQL server to test against.
pub const PG_ENV: &str = "RAMPART_TEST_POSTGRES";

/// The signing key every replica of a test shares (replicas serving the
/// same nodes must sign with one key).
pub const SEED_HEX: &str = "0707070707070707070707070707070707070707070707070707070707070707";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database and a folder made for one test.
#[derive(Debug)]
pub struct TestDb {
    /// URL of the database.
    pub url: String,
    /// A folder of the test's own (replicas' data folders go below it).
    pub dir: PathBuf,
    postgres: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
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

fn test_dir(suffix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rampart_cloud_{suffix}"));
    std::fs::create_dir_all(&dir).expect("test folder");
    dir
}

/// A SQLite database file in a fresh folder.
pub async fn sqlite(test: &str) -> TestDb {
    let dir = test_dir(&unique_suffix(test));
    let url = format!("sqlite://{}?mode=rwc", dir.join("cloud.sqlite").display());
    TestDb {
        url,
        dir,
        postgres: None,
    }
}

/// A fresh PostgreSQL database, or `None` (and a note on stderr) when
/// `RAMPART_TEST_POSTGRES` is not set.
pub async fn postgres(test: &str) -> Option<TestDb> {
    let Some(admin_url) = std::env::var(PG_ENV).ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped on PostgreSQL: {PG_ENV} is not set");
        return None;
    };
    let suffix = unique_suffix(test);
    let name = format!("rampart_cloud_{suffix}").to_ascii_lowercase();
    let admin = Store::connect(&admin_url)
        .await
        .expect("connect to RAMPART_TEST_POSTGRES");
    admin
        .db()
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    admin.close().await.expect("close admin connection");
    Some(TestDb {
        url: with_database(&admin_url, &name),
        dir: test_dir(&suffix),
        postgres: Some((admin_url, name)),
    })
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
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
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = $crate::common::sqlite(stringify!($name)).await;
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(db) = $crate::common::postgres(stringify!($name)).await {
                        super::$name(&db).await;
                    }
                }
            )*
        }
    };
}

/// A replica's configuration on the test's database: listening on a free
/// port of 127.0.0.1, the shared signing key, no scheduler.
pub fn config(db: &TestDb, replica: &str) -> CloudConfig {
    CloudConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        database: Some(db.url.clone()),
        data_dir: db.dir.join(replica),
        replica_id: Some(replica.to_owned()),
        signing_key: Some(SEED_HEX.to_owned()),
        scheduler: false,
        shutdown_grace_ms: 2_000,
        ..CloudConfig::default()
    }
}

/// A serving replica.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub handle: CloudHandle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<rampart_cloud::Result<()>>>,
}

impl Running {
    /// Shuts the replica down and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.expect("serve task").expect("serve");
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds and serves a replica with `cfg`.
pub async fn start(cfg: CloudConfig) -> Running {
    let cloud = Cloud::bind(cfg).await.expect("cloud binds");
    let addr = cloud.local_addr().expect("address");
    let handle = cloud.handle();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(cloud.serve(async move {
        let _ = rx.await;
    }));
    Running {
        addr,
        handle,
        stop: Some(tx),
        task: Some(task),
    }
}

/// An answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One request on a fresh connection.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Resp {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::from(body))).expect("request");
    let resp = sender.send_request(req).await.expect("response");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

/// A node's identity, from enrollment.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: i64,
    pub credential: String,
    pub application: String,
    pub pack_keys: Vec<String>,
}

impl Node {
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.credential)
    }
}

/// Enrolls a node with `token`; panics unless the cloud says 200.
pub async fn enroll(addr: SocketAddr, token: &str, name: &str) -> Node {
    let body = serde_json::json!({"token": token, "name": name, "version": "0.1.0"});
    let r = send(
        addr,
        "POST",
        "/v1/enroll",
        &[("content-type", "application/json")],
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    Node {
        id: v["node_id"].as_i64().expect("node_id"),
        credential: v["credential"].as_str().expect("credential").to_owned(),
        application: v["application"].as_str().expect("application").to_owned(),
        pack_keys: v["pack_keys"]
            .as_array()
            .expect("pack_keys")
            .iter()
            .map(|k| k.as_str().expect("key").to_owned())
            .collect(),
    }
}

/// Creates an application and enrolls one node of it through `r`.
pub async fn app_and_node(r: &Running, app: &str) -> Node {
    r.handle.create_application(app).await.expect("application");
    let token = r
        .handle
        .create_enrollment_token(app, rampart_cloud::DEFAULT_TOKEN_TTL)
        .await
        .expect("token");
    enroll(r.addr, &token, "edge-1").await
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

/// Uploads a batch (gzip or plain); returns the answer.
pub async fn upload(addr: SocketAddr, node: &Node, batch: &Batch, gzipped: bool) -> Resp {
    let json = serde_json::to_vec(batch).expect("batch JSON");
    let bearer = node.bearer();
    let mut headers = vec![
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    let body = if gzipped {
        headers.push(("content-encoding", "gzip"));
        gzip(&json)
    } else {
        json
    };
    send(addr, "POST", "/v1/batches", &headers, body).await
}

/// Polls `check` every 50 ms until it holds; a hang guard (not a timing
/// assertion) gives up after about a minute.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..1200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("gave up waiting for {what}");
}

/// A request as a node's engine sees it.
pub fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Request {
    let mut r = Request::new(method, target);
    for (n, v) in headers {
        r.headers.push(Header {
            name: n.as_bytes().to_vec(),
            value: v.as_bytes().to_vec(),
        });
    }
    if !body.is_empty() {
        r.body = body.as_bytes().to_vec();
        r.headers.push(Header {
            name: b"Content-Length".to_vec(),
            value: body.len().to_string().into_bytes(),
        });
    }
    r
}

/// A real batch: three clients' benign requests (a search, a JSON order, a
/// login) and one SQL injection, inspected by the engine with the built-in
/// plugins and aggregated as a node does.
pub fn sample_batch(seq: u64) -> Batch {
    let reg = rampart_builtin_plugins::registry().expect("registry");
    let engine = Engine::new(&reg, EngineConfig::default()).expect("engine");
    let mut agg = Aggregator::new(Config {
        salt: b"test node salt".to_vec(),
        ..Config::default()
    });
    let host = ("Host", "shop.example");
    let mut reqs = Vec::new();
    for client in 1..=3u8 {
        reqs.push((
            client,
            request(
                "GET",
                &format!("/search?q=red+shoes&page={client}"),
                &[host],
                "",
            ),
        ));
        reqs.push((
            client,
            request(
                "POST",
                &format!("/api/orders/{}", 1000 + u32::from(client)),
                &[host, ("Content-Type", "application/json")],
                r#"{"items":[{"sku":"A1","qty":2}],"note":"leave at the door"}"#,
            ),
        ));
        reqs.push((
            client,
            request(
                "POST",
                "/login",
                &[host, ("Content-Type", "application/x-www-form-urlencoded")],
                "user=someone&password=correct-horse",
            ),
        ));
    }
    reqs.push((
        9,
        request(
            "GET",
            "/search?q=shoes%27%20UNION%20SELECT%20password%20FROM%20users--",
            &[host],
            "",
        ),
    ));
    for (i, (client, mut req)) in reqs.into_iter().enumerate() {
        req.client_ip = Some(std::net::IpAddr::from([203, 0, 113, client]));
        let ins = engine.inspect(&req);
        let rid = format!("req-{i}");
        let status = if ins.verdict.is_block() { 403 } else { 200 };
        agg.observe(&Observation {
            tree: &ins.tree,
            findings: &ins.findings,
            verdict: &ins.verdict,
            masked: &ins.rules.masked,
            tags: &ins.rules.tags,
            status,
            latency_us: 1_000 + i as u64,
            client_ip: req.client_ip,
            session: None,
            request_id: &rid,
            now: 1_764_331_200,
        });
    }
    let mut b = agg.take(1_764_331_260);
    b.seq = seq;
    b
}
