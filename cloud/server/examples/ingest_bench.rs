//! Ingestion benchmark (issue #6): the metrics of N requests from M nodes
//! uploaded to one cloud over loopback and ingested, with the throughput and
//! the database's size.
//!
//! ```sh
//! cargo run --release -p rampart-cloud --example ingest_bench -- \
//!     --nodes 10 --requests 1000000 --per-batch 10000 [--database postgres://...]
//! ```
//!
//! It ends with a learning run on what was ingested and prints its time.
//!
//! Each node is a real `rampart-sync` client (enrollment, gzip uploads from
//! its spool); its batches are made by the node's aggregator from requests
//! the engine inspected (a pool of varied requests, replayed from many
//! client addresses). Aggregation is timed apart from ingestion.

use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use rampart_cloud::{Cloud, CloudConfig};
use rampart_core::{Engine, EngineConfig, Inspection, Request};
use rampart_sync::{Client, SyncConfig};
use rampart_telemetry::{Aggregator, Batch, Config, Observation};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

/// A pool of varied requests: REST reads by id, searches, JSON writes,
/// product pages, logins, a few attacks.
fn pool(n: usize) -> Vec<Request> {
    let words = ["shoes", "red jacket", "gift card", "tent", "42", "o'neill"];
    (0..n)
        .map(|i| {
            let host = ("Host", "shop.example");
            let mut r = match i % 6 {
                0 => Request::new("GET", &format!("/api/users/{}/orders/{}", i % 997, i)),
                1 => Request::new(
                    "GET",
                    &format!("/search?q={}&page={}&sort=price", words[i % words.len()].replace(' ', "+"), i % 9),
                ),
                2 => {
                    let body = format!(
                        r#"{{"order":{{"sku":"SKU-{i:05}","qty":{},"note":"leave at the door {i}"}},"customer":{{"email":"user{i}@example.org"}}}}"#,
                        i % 4 + 1
                    );
                    Request::new("POST", "/api/orders")
                        .header("Content-Type", "application/json")
                        .header("Content-Length", &body.len().to_string())
                        .body(body)
                }
                3 => Request::new("GET", &format!("/products/{}-{}", words[i % words.len()].replace(' ', "-"), i % 50)),
                4 => {
                    let body = format!("user=user{i}&password=secret{i}");
                    Request::new("POST", "/login")
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .header("Content-Length", &body.len().to_string())
                        .body(body)
                }
                _ if i % 60 == 5 => Request::new("GET", "/search?q=1%27+UNION+SELECT+password+FROM+users--"),
                _ => Request::new("GET", &format!("/static/app.{}.js", i % 7)),
            };
            r = r.header(host.0, host.1).header(
                "User-Agent",
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
            );
            r
        })
        .collect()
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let nodes: usize = arg("--nodes", "10").parse()?;
    let requests: usize = arg("--requests", "1000000").parse()?;
    let per_batch: usize = arg("--per-batch", "10000").parse()?;
    let database = arg("--database", "");
    let root = std::env::temp_dir().join(format!("rampart-ingest-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;
    let cloud_dir = root.join("cloud");
    let cfg = CloudConfig {
        listen: "127.0.0.1:0".parse()?,
        data_dir: cloud_dir.clone(),
        database: (!database.is_empty()).then_some(database.clone()),
        scheduler: false,
        ..CloudConfig::default()
    };
    let cloud = Cloud::bind(cfg).await?;
    let addr = cloud.local_addr()?;
    let ops = cloud.handle();
    ops.create_application("bench").await?;
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(cloud.serve(async move {
        let _ = rx.await;
    }));

    // The nodes' side: inspect a pool once, aggregate every request.
    let reg = rampart_builtin_plugins::registry()?;
    let engine = Engine::new(&reg, EngineConfig::default())?;
    let pool: Vec<Inspection> = pool(4000).iter().map(|r| engine.inspect(r)).collect();
    // Request times: the last hour (learning reads the retention period).
    let base = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        - 3600;
    let t = Instant::now();
    let per_node = requests / nodes.max(1);
    let mut batches: Vec<Vec<Batch>> = Vec::new();
    for n in 0..nodes {
        let mut agg = Aggregator::new(Config {
            salt: b"bench salt".to_vec(),
            ..Config::default()
        });
        let mut out = Vec::new();
        for r in 0..per_node {
            let ins = &pool[(r * 7 + n) % pool.len()];
            // Clients of 20 consecutive requests each (a session), so that
            // the learning run has a behaviour model to train.
            let c = r / 20;
            let ip = IpAddr::from([10, n as u8, (c >> 8) as u8, c as u8]);
            agg.observe(&Observation {
                tree: &ins.tree,
                findings: &ins.findings,
                verdict: &ins.verdict,
                masked: &[],
                tags: &[],
                status: if r % 13 == 0 { 404 } else { 200 },
                latency_us: 500 + (r % 900) as u64,
                client_ip: Some(ip),
                session: None,
                request_id: "r",
                now: base + (r / 1000) as u64,
            });
            if (r + 1) % per_batch == 0 {
                out.push(agg.take(base + (r / 1000) as u64));
            }
        }
        if !agg.is_empty() {
            out.push(agg.take(base + (per_node / 1000) as u64 + 1));
        }
        batches.push(out);
    }
    let aggregation = t.elapsed();
    let total_batches: usize = batches.iter().map(Vec::len).sum();
    let raw: usize = batches
        .iter()
        .flatten()
        .map(|b| serde_json::to_vec(b).map(|v| v.len()).unwrap_or(0))
        .sum();

    // Enroll the nodes and spool their batches.
    let mut clients = Vec::new();
    for (n, bs) in batches.iter().enumerate() {
        let token = ops
            .create_enrollment_token("bench", Duration::from_secs(600))
            .await?;
        let c = Client::start(SyncConfig {
            url: format!("http://{addr}"),
            token,
            name: format!("node-{n}"),
            data_dir: root.join(format!("node-{n}")),
            spool_max_bytes: 1 << 34,
            ..SyncConfig::default()
        })
        .await?;
        for b in bs {
            c.spool(b);
        }
        clients.push(c);
    }
    let spooled: u64 = (0..nodes)
        .map(|n| dir_size(&root.join(format!("node-{n}/spool"))))
        .sum();

    // Ingestion: every node uploads its spool at once.
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in clients {
        tasks.push(tokio::spawn(async move { c.upload_pending().await }));
    }
    let mut uploaded = 0;
    for t in tasks {
        uploaded += t.await??;
    }
    let ingest = t.elapsed();
    let app = ops.application("bench").await?;
    let endpoints = ops.store().list_endpoints(app.id).await?.len();
    // Learning on what was ingested: templates, functions, formats, the
    // behaviour model on the clients' windows, the rules.
    let t = Instant::now();
    let learned = ops.learn_now("bench").await?;
    let learning = t.elapsed();
    let _ = stop.send(());
    let _ = server.await;
    let db = if database.is_empty() {
        format!("{} bytes (SQLite, WAL included)", dir_size(&cloud_dir))
    } else {
        "see the PostgreSQL database".to_string()
    };
    println!("nodes {nodes}, requests {requests}, batches {total_batches} ({uploaded} uploaded), per batch {per_batch} requests");
    println!("node side: aggregation {:.2} s ({:.0} requests/s on one core), batches {:.1} MB JSON, {:.1} MB gzip",
        aggregation.as_secs_f64(), requests as f64 / aggregation.as_secs_f64(), raw as f64 / 1e6, spooled as f64 / 1e6);
    println!(
        "cloud: ingested in {:.2} s: {:.1} batches/s, {:.0} requests/s represented; {endpoints} endpoints; database {db}",
        ingest.as_secs_f64(),
        total_batches as f64 / ingest.as_secs_f64(),
        requests as f64 / ingest.as_secs_f64()
    );
    println!(
        "learning: {:.2} s ({} templates, {} points, behaviour model on {} client windows, {} rules)",
        learning.as_secs_f64(),
        learned.templates,
        learned.points,
        learned.behaviour_clients,
        learned.rules_written
    );
    let _ = std::fs::remove_dir_all(&root);
    Ok(())
}
