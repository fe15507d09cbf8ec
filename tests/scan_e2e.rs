//! Active threat verification end to end: attacks sent through a real node
//! at the demo shop's deliberately vulnerable lab endpoints become attack
//! events in the cloud, scan jobs, confirmed incidents with evidence and a
//! webhook notification; the same attacks at the patched twins produce no
//! incident; and no probe changes the shop's database.

#![cfg(feature = "cloud")]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rampart_cloud::{Cloud, CloudConfig, NotifyChannel, NotifyKind, ScanTarget, ScanningConfig};
use rampart_proxy::{Node, NodeConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// (endpoint, query parameter, attack) for each lab pair.
const ATTACKS: &[(&str, &str, &str)] = &[
    (
        "products",
        "category",
        "shoes' UNION SELECT username, password_hash, 1, 2 FROM users--",
    ),
    ("greet", "name", "<script>alert(document.cookie)</script>"),
    ("download", "file", "../../../../etc/passwd"),
    ("ping", "host", "127.0.0.1; cat /etc/passwd"),
    (
        "hello",
        "name",
        "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}",
    ),
];

fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One HTTP/1.1 GET from `client`; the status.
async fn get(addr: SocketAddr, target: &str, client: &str) -> u16 {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: Mozilla/5.0\r\n\
         X-Forwarded-For: {client}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    let head = String::from_utf8_lossy(&buf);
    head.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// A webhook receiver: keeps every POSTed JSON body, answers 200.
async fn webhook(received: Arc<Mutex<Vec<serde_json::Value>>>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind webhook");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let received = received.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let Ok(n) = s.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        let body = &buf[end + 4..end + 4 + len];
                        if let Ok(v) = serde_json::from_slice(body) {
                            received.lock().expect("lock").push(v);
                        }
                        let _ = s
                            .write_all(
                                b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                            )
                            .await;
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// Every row of the shop's tables, in a stable text form.
fn shop_rows(db: &Path) -> String {
    let c = rusqlite::Connection::open(db).expect("open shop db");
    let mut out = String::new();
    for table in ["users", "products", "reviews", "orders", "order_items"] {
        let Ok(mut st) = c.prepare(&format!("SELECT * FROM {table} ORDER BY 1")) else {
            continue;
        };
        let n = st.column_count();
        let rows = st
            .query_map([], |r| {
                let mut line = String::new();
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    line.push_str(&format!("{v:?}|"));
                }
                Ok(line)
            })
            .expect("query");
        for row in rows {
            out.push_str(table);
            out.push_str(&row.expect("row"));
            out.push('\n');
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn attacks_at_the_lab_become_confirmed_incidents_and_a_webhook() {
    let dir = std::env::temp_dir().join(format!("rampart-scan-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let (stop, rx) = tokio::sync::watch::channel(false);

    // The shop with its lab.
    let shop_l = TcpListener::bind("127.0.0.1:0").await.expect("bind shop");
    let shop = shop_l.local_addr().expect("addr");
    let shop_db = dir.join("shop.sqlite");
    let cfg = rampart_demo_shop::ShopConfig {
        db_path: Some(shop_db.clone()),
        files_dir: Some(dir.join("files")),
        lab: true,
    };
    let mut r = rx.clone();
    tokio::spawn(rampart_demo_shop::serve(shop_l, cfg, async move {
        let _ = r.changed().await;
    }));

    // The cloud scans the shop and notifies a webhook.
    let received = Arc::new(Mutex::new(Vec::new()));
    let hook = webhook(received.clone()).await;
    let mut scanning = ScanningConfig {
        tick_secs: 1,
        jobs_per_tick: 10,
        targets: vec![ScanTarget {
            application: "demo-shop".into(),
            base: format!("http://{shop}"),
        }],
        notify: vec![NotifyChannel {
            name: "hook".into(),
            kind: NotifyKind::Webhook,
            url: format!("http://{hook}/rampart"),
            authorization: None,
            project: None,
            issue_type: None,
        }],
        ..ScanningConfig::default()
    };
    scanning.probe.rate_limit = 100.0;
    let ccfg = CloudConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: dir.join("cloud"),
        scanning,
        ..CloudConfig::default()
    };
    let cloud = Cloud::bind(ccfg).await.expect("cloud");
    let cloud_addr = cloud.local_addr().expect("addr");
    let ops = cloud.handle();
    let app = ops.create_application("demo-shop").await.expect("app");
    let token = ops
        .create_enrollment_token("demo-shop", Duration::from_secs(600))
        .await
        .expect("token");
    let mut r = rx.clone();
    tokio::spawn(cloud.serve(async move {
        let _ = r.changed().await;
    }));

    // A node in block mode in front of the shop, enrolled in the cloud.
    let mut ncfg = NodeConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        upstream: format!("http://{shop}"),
        mode: "block".into(),
        trusted_proxies: vec!["127.0.0.1".into()],
        ..NodeConfig::default()
    };
    ncfg.telemetry.flush_seconds = 1;
    ncfg.cloud.url = format!("http://{cloud_addr}");
    ncfg.cloud.token = token;
    ncfg.cloud.name = "e2e".into();
    ncfg.cloud.data_dir = dir.join("node");
    ncfg.validate().expect("node config");
    let mut reg = rampart_core::Registry::new();
    rampart_builtin_plugins::register(&mut reg).expect("plugins");
    let engine =
        rampart_core::Engine::new(&reg, ncfg.engine().expect("engine config")).expect("engine");
    let node = Node::bind(ncfg, engine).await.expect("node");
    let node_addr = node.local_addr().expect("addr");
    let mut r = rx.clone();
    tokio::spawn(node.serve(async move {
        let _ = r.changed().await;
    }));

    // Benign traffic from a few users passes, and makes the node admit the
    // lab's route words and parameter names (k-anonymity: 3 clients).
    let benign = [
        ("products", "category", "shoes"),
        ("greet", "name", "bob"),
        ("download", "file", "catalogue.txt"),
        ("ping", "host", "localhost"),
        ("hello", "name", "alice"),
    ];
    for user in [
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.3",
        "198.51.100.4",
    ] {
        for (ep, param, value) in benign {
            for side in ["vuln", "safe"] {
                let status = get(
                    node_addr,
                    &format!("/lab/{side}/{ep}?{param}={value}"),
                    user,
                )
                .await;
                assert_ne!(status, 403, "benign /lab/{side}/{ep} passes");
            }
        }
    }
    let before = shop_rows(&shop_db);
    assert!(before.contains("users"), "the shop has users");

    // The attacks, at each vulnerable endpoint and its patched twin.
    for (ep, param, attack) in ATTACKS {
        for side in ["vuln", "safe"] {
            let status = get(
                node_addr,
                &format!("/lab/{side}/{ep}?{param}={}", pct(attack)),
                "203.0.113.9",
            )
            .await;
            assert_eq!(
                status, 403,
                "the node blocks {attack:?} at /lab/{side}/{ep}"
            );
        }
    }

    // Wait for the events, then for the scans (a hang guard, not a timing
    // assertion).
    let store = ops.store();
    let mut incidents = Vec::new();
    for _ in 0..240 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        ops.scan_now().await.expect("scan pass");
        let jobs = store
            .list_scan_jobs(app.id, None, 1000)
            .await
            .expect("jobs");
        let pending = jobs.iter().any(|j| {
            matches!(
                j.state,
                rampart_store::entity::ScanJobState::Pending
                    | rampart_store::entity::ScanJobState::Running
            )
        });
        incidents = store.list_incidents(app.id, None).await.expect("incidents");
        let hooks = received.lock().expect("lock").len();
        if jobs.len() >= 2 * ATTACKS.len()
            && !pending
            && hooks >= incidents.len()
            && !incidents.is_empty()
        {
            break;
        }
    }
    let jobs = store
        .list_scan_jobs(app.id, None, 1000)
        .await
        .expect("jobs");
    let summary: Vec<String> = jobs
        .iter()
        .map(|j| format!("{} {} {:?} {:?}", j.class, j.point, j.state, j.last_error))
        .collect();
    let events: Vec<String> = store
        .list_attack_events(app.id, None, 1000)
        .await
        .expect("events")
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {:?}",
                e.endpoint, e.point, e.class, e.rule, e.payload
            )
        })
        .collect();
    let summary = format!("{summary:#?}\nevents: {events:#?}");
    let titles: Vec<&String> = incidents.iter().map(|i| &i.title).collect();
    // One incident per vulnerable endpoint, none at a patched twin.
    for (ep, _, _) in ATTACKS {
        let hit = incidents
            .iter()
            .filter(|i| i.title.contains(&format!("/lab/vuln/{ep} ")))
            .count();
        assert_eq!(
            hit, 1,
            "one incident for /lab/vuln/{ep}; incidents: {titles:?}; jobs: {summary}"
        );
    }
    assert!(
        incidents.iter().all(|i| !i.title.contains("/lab/safe/")),
        "no incident at a patched twin: {titles:?}"
    );
    // Each incident carries evidence and a curl command.
    for i in &incidents {
        let ev: serde_json::Value = serde_json::from_str(&i.evidence).expect("evidence json");
        assert_eq!(ev["report"]["verdict"], "confirmed", "{}", i.title);
        assert!(
            ev["curl"].as_str().is_some_and(|c| c.starts_with("curl ")),
            "{}",
            i.title
        );
        assert!(ev["remediation"].as_str().is_some_and(|r| !r.is_empty()));
        assert!(!ev["report"]["evidence"]
            .as_array()
            .is_none_or(Vec::is_empty));
    }
    // The webhook heard of each incident.
    let got = received.lock().expect("lock").clone();
    assert_eq!(
        got.len(),
        incidents.len(),
        "one notification per incident: {got:#?}"
    );
    assert!(got.iter().all(|v| v["event"] == "incident.opened"));
    // No probe changed the shop's data.
    assert_eq!(
        shop_rows(&shop_db),
        before,
        "the scans left the shop's rows as they were"
    );

    let _ = stop.send(true);
    let _ = std::fs::remove_dir_all(&dir);
}
