//! `rampart demo`: the README's first command starts the shop behind a node,
//! prints working URLs, serves through the node, and stops cleanly on
//! SIGTERM; with the cloud built in, its console signs the admin in and,
//! fed by the demo's own traffic, shows requests, attacks and a learned
//! inventory.

// Test helpers outside `#[test]` functions unwrap and panic too, and tests
// read whole responses.
#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

fn get(url_base: &str, path: &str) -> (u16, String) {
    let hostport = url_base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = TcpStream::connect(hostport).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let status = buf
        .split(' ')
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    (status, buf)
}

/// A running `rampart demo`, killed (by its pid) when dropped; `stop` ends
/// it with SIGTERM instead.
struct Demo {
    child: Child,
    /// Its standard error.
    log: PathBuf,
    /// Kept open: the demo's standard output stays writable.
    _stdout: std::io::Lines<BufReader<ChildStdout>>,
    /// The banner, up to "Ctrl-C stops".
    banner: Vec<String>,
}

impl Demo {
    /// Starts the demo on free loopback ports with `data` and `extra`
    /// arguments; returns once it printed its banner.
    fn start(data: &Path, extra: &[&str]) -> Demo {
        static STARTS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log = data.with_extension(format!("{n}.log"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rampart"));
        cmd.args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--shop-listen",
            "127.0.0.1:0",
            "--admin",
            "127.0.0.1:0",
        ]);
        #[cfg(feature = "cloud")]
        cmd.args(["--console", "127.0.0.1:0"]);
        let mut child = cmd
            .arg("--data")
            .arg(data)
            .args(extra)
            .env_remove("RAMPART_ADMIN_PASSWORD")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut banner = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            let done = line.contains("Ctrl-C stops");
            banner.push(line);
            if done {
                break;
            }
        }
        let demo = Demo {
            child,
            log,
            _stdout: lines,
            banner,
        };
        assert!(
            demo.banner.iter().any(|l| l.contains("Ctrl-C stops")),
            "the demo did not start: {:?}\n{}",
            demo.banner,
            demo.log_text()
        );
        demo
    }

    /// Every URL of the banner, in order.
    fn urls(&self) -> Vec<String> {
        self.banner
            .iter()
            .filter_map(|l| {
                let i = l.find("http://")?;
                Some(l[i..].split_whitespace().next()?.to_string())
            })
            .collect()
    }

    /// The URL on the banner line that mentions `what`.
    fn url_of(&self, what: &str) -> String {
        self.banner
            .iter()
            .filter(|l| l.contains(what))
            .find_map(|l| {
                let i = l.find("http://")?;
                Some(l[i..].split_whitespace().next()?.to_string())
            })
            .unwrap_or_else(|| panic!("no {what} URL in {:?}", self.banner))
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM: a graceful shutdown with exit status 0.
    fn stop(mut self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}\n{}", self.log_text());
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        // Ends only the process this test started.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A data folder of the test's own, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("rampart-demo-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    Scratch(d)
}

#[test]
fn demo_serves_the_shop_through_the_node() {
    let data = scratch("test");
    let mut extra = Vec::new();
    if cfg!(feature = "cloud") {
        extra.extend(["--traffic", "off"]);
    }
    let demo = Demo::start(&data.0, &extra);
    let urls = demo.urls();
    let (protected, direct, health) = (&urls[0], &urls[1], &urls[2]);
    let (status, body) = get(protected, "/");
    assert_eq!(status, 200);
    assert!(body.contains("Rampart Demo Shop"));
    let (status, body) = get(protected, "/api/products?q=head&limit=3");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"name\""));
    assert_eq!(get(direct, "/").0, 200);
    let (status, body) = get(health.trim_end_matches("/healthz"), "/healthz");
    assert_eq!(status, 200);
    assert!(body.contains("\"mode\":\"block\""));
    demo.stop();
}

/// An HTTP/1.1 exchange on a connection of its own: status, head, body.
#[cfg(feature = "cloud")]
fn http(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let hostport = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = TcpStream::connect(hostport).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    (status, head, String::from_utf8_lossy(&body).into_owned())
}

#[cfg(feature = "cloud")]
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&b[..i]);
        let n = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + n]);
        b = &b[i + 2 + n + 2..];
    }
    out
}

/// Signs in to the console; the session cookie (`name=value`).
#[cfg(feature = "cloud")]
fn login(console: &str, password: &str) -> Result<String, (u16, String)> {
    let body = serde_json::json!({"name": "admin", "password": password}).to_string();
    let (status, head, text) = http(console, "POST", "/api/v1/login", &[], &body);
    if status != 200 {
        return Err((status, text));
    }
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["user"]["name"], "admin", "{text}");
    assert_eq!(v["user"]["role"], "admin", "{text}");
    let cookie = head
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("set-cookie")
                .then_some(v.trim())
        })
        .find_map(|v| {
            let kv = v.split(';').next()?.trim();
            kv.starts_with("rampart_session=").then(|| kv.to_owned())
        })
        .unwrap_or_else(|| panic!("no session cookie in\n{head}"));
    Ok(cookie)
}

#[cfg(feature = "cloud")]
fn api_json(console: &str, cookie: &str, path: &str) -> serde_json::Value {
    let (status, _, text) = http(console, "GET", path, &[("Cookie", cookie)], "");
    assert_eq!(status, 200, "{path}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
}

/// The demo's own traffic brings the console to life: requests and
/// attacks in the overview, a learned inventory, an ingesting cloud.
#[cfg(feature = "cloud")]
#[test]
fn the_demo_console_comes_alive() {
    let data = scratch("console");
    let password = "correct horse battery staple";
    let demo = Demo::start(&data.0, &["--admin-password", password]);
    let console = demo.url_of("console");
    assert!(
        demo.banner.iter().any(|l| l.contains("user admin")),
        "{:?}",
        demo.banner
    );
    assert!(
        !demo.banner.iter().any(|l| l.contains(password)),
        "a given password is not printed: {:?}",
        demo.banner
    );
    assert!(!data.0.join("console-admin.txt").exists());
    let (status, _) = login(&console, "wrong").unwrap_err();
    assert_eq!(status, 401);
    let cookie = login(&console, password).unwrap();

    // A hang guard, not a timing assertion: the demo aims at a minute.
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    let (mut overview, mut endpoints);
    loop {
        overview = api_json(&console, &cookie, "/api/v1/apps/demo/overview?minutes=60");
        endpoints = api_json(&console, &cookie, "/api/v1/apps/demo/endpoints");
        let totals = &overview["totals"];
        let alive = totals["requests"].as_u64().unwrap_or(0) > 0
            && totals["attacks"].as_u64().unwrap_or(0) > 0
            && endpoints.as_array().is_some_and(|e| !e.is_empty());
        if alive {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the console never came alive: overview {overview}\nendpoints {endpoints}\n{}",
            demo.log_text()
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    // The node reports in, and the inventory holds the shop's routes.
    let nodes = overview["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "{overview}");
    assert_eq!(nodes[0]["name"], "local", "{overview}");
    assert!(
        endpoints
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["method"].is_string()
                && e["template"].as_str().is_some_and(|t| t.starts_with('/'))),
        "{endpoints}"
    );
    // The cloud's metrics count what came in.
    let (status, _, metrics) = http(&console, "GET", "/metrics", &[], "");
    assert_eq!(status, 200);
    let ingested = metrics
        .lines()
        .find_map(|l| l.strip_prefix("rampart_cloud_batches_total{result=\"ingested\"} "))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(ingested >= 1.0, "{metrics}");
    demo.stop();
}

/// Without `--admin-password`, the first start makes one up, prints it and
/// saves it (owner-only); a restart keeps it; a given one replaces it.
#[cfg(feature = "cloud")]
#[test]
fn the_demo_makes_up_a_console_password_once() {
    let data = scratch("password");
    let demo = Demo::start(&data.0, &["--traffic", "off"]);
    let file = data.0.join("console-admin.txt");
    let saved = std::fs::read_to_string(&file).unwrap();
    let password = saved.trim().to_owned();
    assert!(password.len() >= 16, "{password:?}");
    assert!(
        demo.banner.iter().any(|l| l.contains(&password)),
        "{:?}",
        demo.banner
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    login(&demo.url_of("console"), &password).unwrap();
    demo.stop();

    // A restart keeps the user, its password and the file.
    let demo = Demo::start(&data.0, &["--traffic", "off"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), saved);
    assert!(
        !demo.banner.iter().any(|l| l.contains(&password)),
        "{:?}",
        demo.banner
    );
    login(&demo.url_of("console"), &password).unwrap();
    demo.stop();

    // A given password replaces it; the stale file goes.
    let demo = Demo::start(
        &data.0,
        &["--traffic", "off", "--admin-password", "s3cret-given"],
    );
    assert!(!file.exists());
    let console = demo.url_of("console");
    assert_eq!(login(&console, &password).unwrap_err().0, 401);
    login(&console, "s3cret-given").unwrap();
    demo.stop();
}
