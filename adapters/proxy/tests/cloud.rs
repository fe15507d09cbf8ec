//! A node and a real cloud (`rampart-cloud` on SQLite) over loopback:
//! enrollment, uploads, rule packs by long-poll, privacy of every byte the
//! node sends, and faults (the cloud down, the node restarted).

#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

mod support;

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rampart_cloud::{Cloud, CloudConfig, CloudHandle, RuleOrigin};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rampart-cloud-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A cloud on `listen`, serving until `stop` is sent.
struct TestCloud {
    addr: SocketAddr,
    handle: CloudHandle,
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
}

async fn start_cloud(dir: &Path, listen: SocketAddr) -> TestCloud {
    start_cloud_with(dir, listen, None).await
}

async fn start_cloud_with(
    dir: &Path,
    listen: SocketAddr,
    tls: Option<(PathBuf, PathBuf)>,
) -> TestCloud {
    let cfg = CloudConfig {
        listen,
        data_dir: dir.to_path_buf(),
        long_poll_max_secs: 5,
        // Packs are built when the test says so.
        scheduler: false,
        tls_cert: tls.as_ref().map(|t| t.0.clone()),
        tls_key: tls.map(|t| t.1),
        ..CloudConfig::default()
    };
    let cloud = Cloud::bind(cfg).await.unwrap();
    let addr = cloud.local_addr().unwrap();
    let handle = cloud.handle();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(async move {
        let _ = cloud
            .serve(async move {
                let _ = rx.await;
            })
            .await;
    });
    TestCloud {
        addr,
        handle,
        stop: tx,
        done,
    }
}

/// A TCP relay that records every byte a client sends through it, as it
/// passes (one buffer per connection).
async fn recording_relay(to: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<Arc<Mutex<Vec<u8>>>>>>) {
    relay(to, None).await
}

/// The recorded bytes of each connection through a relay.
type Recorded = Arc<Mutex<Vec<Arc<Mutex<Vec<u8>>>>>>;

/// A relay; with `tamper = (from, to)` (same length), it also rewrites
/// those bytes in what the server answers: a man in the middle.
async fn relay(
    to: SocketAddr,
    tamper: Option<(&'static [u8], &'static [u8])>,
) -> (SocketAddr, Recorded) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = l.accept().await {
            let conn = Arc::new(Mutex::new(Vec::new()));
            s2.lock().unwrap().push(conn.clone());
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(to).await else {
                    return;
                };
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let up = async {
                    let mut buf = vec![0u8; 65536];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        conn.lock().unwrap().extend_from_slice(&buf[..n]);
                        if sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = sw.shutdown().await;
                };
                let down = async {
                    let mut buf = vec![0u8; 65536];
                    loop {
                        let n = match sr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let chunk = &mut buf[..n];
                        if let Some((from, to)) = tamper {
                            let mut i = 0;
                            while i + from.len() <= chunk.len() {
                                if &chunk[i..i + from.len()] == from {
                                    chunk[i..i + from.len()].copy_from_slice(to);
                                }
                                i += 1;
                            }
                        }
                        if cw.write_all(chunk).await.is_err() {
                            break;
                        }
                    }
                    let _ = cw.shutdown().await;
                };
                tokio::join!(up, down);
            });
        }
    });
    (addr, seen)
}

/// The requests in a recorded byte stream, with gzip bodies inflated:
/// everything the node said, readable.
fn readable(stream: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = stream;
    while let Some(i) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = &rest[..i + 4];
        out.extend_from_slice(head);
        let text = String::from_utf8_lossy(head).to_ascii_lowercase();
        let len: usize = text
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let body = &rest[i + 4..(i + 4 + len).min(rest.len())];
        if text.contains("content-encoding: gzip") {
            let mut d = flate2::read::GzDecoder::new(body);
            let mut plain = Vec::new();
            // A body cut short by the end of the recording inflates partly.
            let _ = d.read_to_end(&mut plain);
            out.extend_from_slice(&plain);
        } else {
            out.extend_from_slice(body);
        }
        rest = &rest[(i + 4 + len).min(rest.len())..];
    }
    out
}

fn node_config(
    upstream: SocketAddr,
    cloud: SocketAddr,
    token: &str,
    data: &Path,
) -> rampart_proxy::NodeConfig {
    let mut cfg = config(upstream, "block");
    cfg.cloud.url = format!("http://{cloud}");
    cfg.cloud.token = token.to_string();
    cfg.cloud.name = "edge-1".into();
    cfg.cloud.data_dir = data.to_path_buf();
    cfg.cloud.heartbeat_seconds = 1;
    cfg.cloud.long_poll_seconds = 2;
    cfg.telemetry.flush_seconds = 1;
    cfg
}

/// Polls until `check` holds; a hang guard, not a timing assertion.
async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..1200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}

const CANARIES: &[&str] = &[
    "zebulon",
    "quackenbush",
    "canary.person",
    "4111111111111111",
    "4111 1111",
    "hunter2",
    "sk_live_canary",
    "555 010 9999",
];

fn canary_requests() -> Vec<Vec<u8>> {
    let json = r#"{"user":{"name":"Zebulon Quackenbush","email":"canary.person@example.org","password":"Hunter2-Canary!","phone":"+1 555 010 9999"},"card":{"number":"4111 1111 1111 1111"}}"#;
    vec![
        format!(
            "POST /api/signup HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
            json.len()
        )
        .into_bytes(),
        b"GET /users/zebulon-quackenbush/orders/4111111111111111?email=canary.person%40example.org HTTP/1.1\r\nHost: shop\r\nAuthorization: Bearer sk_live_CANARY1234567890\r\nCookie: session=Hunter2-session\r\nConnection: close\r\n\r\n".to_vec(),
        b"POST /login HTTP/1.1\r\nHost: shop\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 56\r\nConnection: close\r\n\r\nemail=canary.person%40example.org&password=Hunter2%21xyz".to_vec(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_reports_to_the_cloud_takes_its_packs_and_keeps_data_on_the_premises() {
    let dir = scratch("e2e");
    let cloud = start_cloud(&dir.join("cloud"), "127.0.0.1:0".parse().unwrap()).await;
    cloud.handle.create_application("shop").await.unwrap();
    let token = cloud
        .handle
        .create_enrollment_token("shop", Duration::from_secs(600))
        .await
        .unwrap();
    let (relay, recorded) = recording_relay(cloud.addr).await;
    let up = Upstream::start(None).await;
    let node = start_node(node_config(up.addr, relay, &token, &dir.join("node"))).await;

    for req in canary_requests() {
        assert_eq!(send_raw(node.addr, &req).await.status, 200);
    }
    let attack = b"GET /search?q=1%27%20UNION%20SELECT%20password%20FROM%20users-- HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n";
    assert_eq!(send_raw(node.addr, attack).await.status, 403);

    // The batches arrive: endpoints and the attack event are in the store.
    let store = cloud.handle.store().clone();
    let app = cloud.handle.application("shop").await.unwrap();
    until("the attack event stored", async || {
        !store
            .list_attack_events(app.id, None, 10)
            .await
            .unwrap()
            .is_empty()
    })
    .await;
    until("the endpoints stored", async || {
        store.list_endpoints(app.id).await.unwrap().len() >= 3
    })
    .await;

    // A rule put in the cloud reaches the node as a pack, by long-poll.
    assert_eq!(send_raw(node.addr, &get_req("/admin")).await.status, 200);
    cloud
        .handle
        .put_rule(
            "shop",
            "no-admin",
            r#"rule no-admin "No admin console" { when path ~ "/admin*" then block(451) }"#,
            RuleOrigin::Custom,
        )
        .await
        .unwrap();
    cloud.handle.build_packs_now().await.unwrap();
    until("the pack enforced", async || {
        send_raw(node.addr, &get_req("/admin")).await.status == 451
    })
    .await;
    assert!(dir.join("node/pack").exists());
    let metrics = node_metrics(&node).await;
    assert!(metrics.contains("rampart_rule_pack_version 1"), "{metrics}");
    // The pack came from the cloud; the batches went there.
    assert!(
        metric(&metrics, "rampart_rule_packs_installed_total") >= 1.0,
        "{metrics}"
    );
    assert!(
        metric(&metrics, "rampart_sync_batches_uploaded_total") >= 1.0,
        "{metrics}"
    );

    let _ = node.stop.send(());
    let _ = node.done.await;
    let _ = cloud.stop.send(());
    let _ = cloud.done.await;

    // Nothing the node sent holds a canary, in any encoding.
    let sent: Vec<u8> = recorded
        .lock()
        .unwrap()
        .iter()
        .flat_map(|s| readable(&s.lock().unwrap()))
        .collect();
    assert!(!sent.is_empty());
    let sent = String::from_utf8_lossy(&sent).to_ascii_lowercase();
    assert!(
        sent.contains("union select password"),
        "the attack payload is reported"
    );
    for c in CANARIES {
        for form in [c.to_string(), c.replace(' ', "+"), c.replace(' ', "%20")] {
            assert!(!sent.contains(&form), "{form:?} left the node");
        }
    }
    // Nor does the cloud's database.
    for entry in std::fs::read_dir(dir.join("cloud")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|x| x == "key") {
            continue;
        }
        let bytes = std::fs::read(&p).unwrap().to_ascii_lowercase();
        let text = String::from_utf8_lossy(&bytes);
        for c in CANARIES {
            assert!(!text.contains(c), "{c:?} in {}", p.display());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The application `shop` with one published rule (`/admin*` answers
/// 451), and an enrollment token for it.
async fn shop_with_admin_rule(h: &CloudHandle) -> String {
    h.create_application("shop").await.unwrap();
    h.put_rule(
        "shop",
        "no-admin",
        r#"rule no-admin "x" { when path ~ "/admin*" then block(451) }"#,
        RuleOrigin::Custom,
    )
    .await
    .unwrap();
    h.build_packs_now().await.unwrap();
    h.create_enrollment_token("shop", Duration::from_secs(600))
        .await
        .unwrap()
}

fn get_req(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n").into_bytes()
}

/// The node's Prometheus text.
async fn node_metrics(node: &TestNode) -> String {
    let r = send_raw(node.admin.unwrap(), &get_req("/metrics")).await;
    assert_eq!(r.status, 200);
    String::from_utf8_lossy(&r.body).into_owned()
}

/// The value of the sample `series` (name and labels, as rendered) in a
/// Prometheus text; panics when it is missing.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_cloud_down_the_node_enforces_its_pack_spools_and_delivers_later() {
    let dir = scratch("fault");
    // A fixed port, so that the cloud comes back where the node expects it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let cloud = start_cloud(&dir.join("cloud"), port).await;
    let token = shop_with_admin_rule(&cloud.handle).await;
    let up = Upstream::start(None).await;
    let data = dir.join("node");
    let node = start_node(node_config(up.addr, cloud.addr, &token, &data)).await;
    until("the pack enforced", async || {
        send_raw(node.addr, &get_req("/admin")).await.status == 451
    })
    .await;

    // The cloud goes away.
    let _ = cloud.stop.send(());
    let _ = cloud.done.await;
    for i in 0..20 {
        assert_eq!(
            send_raw(node.addr, &get_req(&format!("/p/{i}")))
                .await
                .status,
            200
        );
    }
    assert_eq!(send_raw(node.addr, &get_req("/admin")).await.status, 451);
    until("batches spooled", async || {
        std::fs::read_dir(data.join("spool"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .any(|e| e.path().to_string_lossy().ends_with(".batch.gz"))
            })
            .unwrap_or(false)
    })
    .await;
    // The node's metrics show the outage: failed exchanges, a spool.
    until("sync errors in the node's metrics", async || {
        let m = node_metrics(&node).await;
        ["upload", "heartbeat", "pack_fetch"]
            .iter()
            .all(|op| metric(&m, &format!("rampart_sync_errors_total{{op=\"{op}\"}}")) > 0.0)
            && metric(&m, "rampart_sync_spool_batches") > 0.0
            && metric(&m, "rampart_sync_spool_bytes") > 0.0
    })
    .await;

    // The node restarts with the cloud still down: the pack comes from disk.
    let _ = node.stop.send(());
    let _ = node.done.await;
    let node = start_node(node_config(up.addr, cloud.addr, "", &data)).await;
    assert_eq!(send_raw(node.addr, &get_req("/admin")).await.status, 451);

    // The cloud returns: the spool is delivered, nothing lost.
    let cloud = start_cloud(&dir.join("cloud"), port).await;
    let app = cloud.handle.application("shop").await.unwrap();
    let store = cloud.handle.store().clone();
    until("the spool delivered", async || {
        std::fs::read_dir(data.join("spool"))
            .map(|d| {
                !d.filter_map(|e| e.ok())
                    .any(|e| e.path().to_string_lossy().ends_with(".batch.gz"))
            })
            .unwrap_or(false)
    })
    .await;
    let eps = store.list_endpoints(app.id).await.unwrap();
    let stats: u64 = eps
        .iter()
        // `/p/N` from one client: `p` is not reported as a word (k = 3).
        .filter(|e| e.template == "/{word}/{int}")
        .filter_map(|e| e.stats.as_deref())
        .filter_map(|s| serde_json::from_str::<serde_json::Value>(s).ok())
        .filter_map(|s| s["requests"].as_u64())
        .sum();
    assert_eq!(stats, 20, "{eps:#?}");
    until("the delivery in the node's metrics", async || {
        let m = node_metrics(&node).await;
        metric(&m, "rampart_sync_batches_uploaded_total") > 0.0
            && metric(&m, "rampart_sync_spool_batches") == 0.0
    })
    .await;
    let _ = node.stop.send(());
    let _ = cloud.stop.send(());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_a_node_trusts_only_the_cloud_it_was_given() {
    let dir = scratch("tls");
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let (cert, key) = (dir.join("cloud.crt"), dir.join("cloud.key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let cloud = start_cloud_with(
        &dir.join("cloud"),
        "127.0.0.1:0".parse().unwrap(),
        Some((cert.clone(), key)),
    )
    .await;
    let token = shop_with_admin_rule(&cloud.handle).await;
    let up = Upstream::start(None).await;
    let https = |data: &Path, token: &str, ca: Option<PathBuf>| {
        let mut c = node_config(up.addr, cloud.addr, token, data);
        c.cloud.url = format!("https://{}", cloud.addr);
        c.cloud.ca_file = ca;
        c
    };
    // Without the cloud's certificate the node refuses to talk to it: its
    // enrollment fails and the node does not start.
    let reg = rampart_builtin_plugins::registry().unwrap();
    let cfg = https(&dir.join("untrusting"), &token, None);
    let engine = rampart_core::Engine::new(&reg, cfg.engine().unwrap()).unwrap();
    let err = rampart_proxy::Node::bind(cfg, engine).await.unwrap_err();
    assert!(format!("{err:#}").contains("enrollment"), "{err:#}");
    // With it, the node enrolls, takes the pack and uploads over TLS.
    let node = start_node(https(&dir.join("node"), &token, Some(cert))).await;
    until("the pack enforced over TLS", async || {
        send_raw(node.addr, &get_req("/admin")).await.status == 451
    })
    .await;
    let store = cloud.handle.store().clone();
    let app = cloud.handle.application("shop").await.unwrap();
    until("a batch ingested over TLS", async || {
        !store.list_endpoints(app.id).await.unwrap().is_empty()
    })
    .await;
    let _ = node.stop.send(());
    let _ = cloud.stop.send(());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pack_tampered_with_on_the_way_is_refused() {
    let dir = scratch("tamper");
    let cloud = start_cloud(&dir.join("cloud"), "127.0.0.1:0".parse().unwrap()).await;
    let token = shop_with_admin_rule(&cloud.handle).await;
    // Someone between the node and the cloud rewrites the rule in the pack.
    let (mitm, _) = relay(cloud.addr, Some((b"/admin*", b"/xdmin*"))).await;
    let up = Upstream::start(None).await;
    let data = dir.join("node");
    let node = start_node(node_config(up.addr, mitm, &token, &data)).await;
    let store = cloud.handle.store().clone();
    let app = cloud.handle.application("shop").await.unwrap();
    // The node says so in its heartbeat ...
    until("the refusal reported", async || {
        store
            .list_nodes(app.id)
            .await
            .unwrap()
            .iter()
            .any(|n| n.counters.contains("pack_error"))
    })
    .await;
    let n = store.list_nodes(app.id).await.unwrap().remove(0);
    assert!(
        n.counters
            .contains("pack content does not match its manifest"),
        "{}",
        n.counters
    );
    // ... and runs no rule from it, and keeps nothing of it.
    assert_eq!(send_raw(node.addr, &get_req("/admin")).await.status, 200);
    assert_eq!(send_raw(node.addr, &get_req("/xdmin")).await.status, 200);
    assert!(!data.join("pack").exists());
    let _ = node.stop.send(());
    let _ = cloud.stop.send(());
    let _ = std::fs::remove_dir_all(&dir);
}
