//! The vulnerability lab, end to end: the shop on 127.0.0.1:0 with the lab on, real HTTP/1.1.
//! Each vulnerable endpoint is exploited for real and its patched twin is not; the lab's safety
//! nets hold (no writes, no file outside the sandbox, no process left behind).

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rampart_demo_shop::{serve, ShopConfig};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

struct Shop {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Shop {
    async fn start(config: ShopConfig) -> Shop {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, config, async {
            let _ = rx.await;
        }));
        let shop = Shop {
            addr,
            stop: Some(tx),
            task,
        };
        // Connections are accepted once the shop (and its lab sandbox) is ready.
        assert_eq!(shop.get("/api/health").await.status, 200);
        shop
    }

    async fn lab() -> Shop {
        Shop::start(ShopConfig {
            lab: true,
            ..Default::default()
        })
        .await
    }

    async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }

    async fn request(&self, method: &str, target: &str, body: &[u8], ctype: &str) -> Resp {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        let head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body).await.unwrap();
        let mut buf = Vec::new();
        // A hang guard, not a speed bound.
        tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut buf))
            .await
            .unwrap()
            .unwrap();
        let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8(buf[..split].to_vec()).unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        Resp {
            status,
            body: String::from_utf8_lossy(&buf[split + 4..]).into_owned(),
        }
    }

    async fn get(&self, target: &str) -> Resp {
        self.request("GET", target, b"", "text/plain").await
    }

    /// GET `path?name=value`, the value percent-encoded.
    async fn query(&self, path: &str, name: &str, value: &str) -> Resp {
        self.get(&format!("{path}?{name}={}", enc(value))).await
    }
}

#[derive(Debug)]
struct Resp {
    status: u16,
    body: String,
}

impl Resp {
    /// The text of the first `<pre>` element (HTML entities for `<>&"'` decoded).
    fn pre(&self) -> String {
        let start = self.body.find("<pre>").map(|i| i + 5).unwrap();
        let end = self.body[start..].find("</pre>").unwrap() + start;
        self.body[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!(
        "rampart-demo-shop-labtest-{tag}-{}-{nanos}",
        std::process::id()
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_is_off_by_default() {
    let shop = Shop::start(ShopConfig::default()).await;
    for target in [
        "/lab",
        "/lab/",
        "/lab/vuln/greet?name=x",
        "/lab/safe/greet?name=x",
        "/lab/vuln/products?category=Books",
        "/lab/vuln/download?file=../../etc/passwd",
        "/lab/vuln/ping?host=x",
        "/lab/vuln/hello?name=x",
    ] {
        assert_eq!(shop.get(target).await.status, 404, "{target}");
    }
    shop.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_lists_every_pair_with_a_warning() {
    let shop = Shop::lab().await;
    for target in ["/lab/", "/lab"] {
        let r = shop.get(target).await;
        assert_eq!(r.status, 200);
        assert!(r.body.contains("deliberately vulnerable"));
        assert!(r.body.contains("Rampart Demo Shop"), "shop layout");
        for what in ["products", "greet", "download", "ping", "hello"] {
            assert!(r.body.contains(&format!("/lab/vuln/{what}?")), "{what}");
            assert!(r.body.contains(&format!("/lab/safe/{what}?")), "{what}");
        }
    }
    let r = shop
        .request(
            "POST",
            "/lab/vuln/greet",
            b"name=x",
            "application/x-www-form-urlencoded",
        )
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(shop.get("/lab/vuln/nothing").await.status, 404);
    assert_eq!(shop.get("/lab/other/greet").await.status, 404);
    // The vulnerable pages say what they are.
    assert!(shop
        .query("/lab/vuln/greet", "name", "x")
        .await
        .body
        .contains("Deliberately vulnerable"));
    assert!(shop
        .query("/lab/safe/greet", "name", "x")
        .await
        .body
        .contains("Patched twin"));
    shop.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_injection_is_real_on_vuln_and_absent_on_safe() {
    let shop = Shop::lab().await;
    for path in ["/lab/vuln/products", "/lab/safe/products"] {
        let r = shop.query(path, "category", "Books").await;
        assert_eq!(r.status, 200);
        assert!(r.body.contains("Rust in Practice"), "{path}");
    }

    // UNION-based: rows of the users table.
    let union = "x' UNION SELECT id, username, email, password_hash FROM users--";
    let r = shop.query("/lab/vuln/products", "category", union).await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("alice@example.com") || r.body.contains(">alice<"),
        "{}",
        r.body
    );
    assert!(r.body.contains("sha256i$"), "password hashes leak");
    let r = shop.query("/lab/safe/products", "category", union).await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("sha256i$"));
    assert!(r.body.contains("No products in this category"));

    // Error-based: a lone quote breaks the SQL and the error is shown.
    let r = shop.query("/lab/vuln/products", "category", "Books'").await;
    assert_eq!(r.status, 500);
    assert!(r.body.contains("Database error"));
    assert!(
        r.body.contains("unrecognized token") || r.body.contains("syntax error"),
        "{}",
        r.body
    );
    let r = shop.query("/lab/safe/products", "category", "Books'").await;
    assert_eq!(r.status, 200);

    // Boolean-based: true and false conditions differ on vuln, not on safe.
    let t = shop
        .query("/lab/vuln/products", "category", "Books' AND '1'='1")
        .await;
    let f = shop
        .query("/lab/vuln/products", "category", "Books' AND '1'='2")
        .await;
    assert!(t.body.contains("Rust in Practice"));
    assert!(!f.body.contains("Rust in Practice"));
    let t = shop
        .query("/lab/safe/products", "category", "Books' AND '1'='1")
        .await;
    let f = shop
        .query("/lab/safe/products", "category", "Books' AND '1'='2")
        .await;
    assert!(!t.body.contains("Rust in Practice"));
    assert!(!f.body.contains("Rust in Practice"));

    // Output is escaped even on the vulnerable twin (one vulnerability per endpoint).
    let r = shop
        .query(
            "/lab/vuln/products",
            "category",
            "x' UNION SELECT 1, '<script>x</script>', 3, 4--",
        )
        .await;
    assert!(r.body.contains("&lt;script&gt;x"));
    assert!(!r.body.contains("<script>x"));
    shop.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_injection_cannot_change_the_database() {
    let dir = temp_dir("sqlwrite");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("shop.db");
    let shop = Shop::start(ShopConfig {
        db_path: Some(db.clone()),
        lab: true,
        ..Default::default()
    })
    .await;
    let before = snapshot(&shop).await;
    assert_eq!(before["total"], 24);
    for payload in [
        "x'; DELETE FROM products; --",
        "x'; UPDATE products SET price_cents = 0; --",
        "x' UNION SELECT 1, 2, 3, 4; UPDATE products SET name = 'pwned'; --",
        "x'; INSERT INTO products (name, category, description, price_cents) VALUES ('p','c','d',1); --",
        "x'; DROP TABLE products; --",
        "x'; ATTACH DATABASE 'evil.db' AS evil; CREATE TABLE evil.t(x); --",
        "x' UNION SELECT * FROM (UPDATE products SET price_cents = 0 RETURNING *)--",
        "x' UNION SELECT 1, 2, 3, load_extension('evil')--",
        "x' UNION SELECT 1, 2, 3, 4 FROM products WHERE 1=(SELECT 1 FROM (DELETE FROM products))--",
        "'; PRAGMA query_only = OFF; DELETE FROM products; --",
        "x'; COMMIT; DELETE FROM products; --",
    ] {
        let r = shop.query("/lab/vuln/products", "category", payload).await;
        assert_eq!(r.status, 500, "{payload}: {}", r.body);
        assert!(r.body.contains("Database error"));
    }
    let r = shop
        .query(
            "/lab/vuln/products",
            "category",
            "x'; DELETE FROM products; --",
        )
        .await;
    assert!(r.body.contains("Multiple statements"), "{}", r.body);
    // A query that never ends is interrupted by the lab's watchdog, and the shop carries on.
    let endless = "x' UNION SELECT * FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT n, n, n, n FROM c WHERE n < 0)--";
    let r = shop.query("/lab/vuln/products", "category", endless).await;
    assert_eq!(r.status, 500);
    assert!(r.body.contains("interrupted"), "{}", r.body);
    assert_eq!(snapshot(&shop).await, before);
    // query_only is off again for the shop's own writes.
    let reg = shop
        .request(
            "POST",
            "/api/register",
            br#"{"username":"lab-user","email":"lab@example.com","password":"lab-password","name":"Lab"}"#,
            "application/json",
        )
        .await;
    assert_eq!(reg.status, 201, "{}", reg.body);
    shop.stop().await;
    // The database file itself: same products, nothing attached next to it.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (count, sum): (i64, i64) = conn
        .query_row(
            "SELECT count(*), sum(price_cents) FROM products WHERE name != 'pwned'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(count, 24);
    let total: i64 = before["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["price"].as_f64().unwrap() * 100.0).round() as i64)
        .sum();
    assert_eq!(sum, total);
    assert!(!dir.join("evil.db").exists());
    assert!(!Path::new("evil.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflected_xss_is_real_on_vuln_and_absent_on_safe() {
    let shop = Shop::lab().await;
    let payload = "<script>alert('rampart')</script>";
    let r = shop.query("/lab/vuln/greet", "name", payload).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains(payload));
    let r = shop.query("/lab/safe/greet", "name", payload).await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("<script>"));
    assert!(r
        .body
        .contains("&lt;script&gt;alert(&#39;rampart&#39;)&lt;/script&gt;"));
    let attr = "\"><img src=x onerror=alert(1)>";
    assert!(shop
        .query("/lab/vuln/greet", "name", attr)
        .await
        .body
        .contains("<img src=x onerror=alert(1)>"));
    assert!(!shop
        .query("/lab/safe/greet", "name", attr)
        .await
        .body
        .contains("<img"));
    shop.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_traversal_is_real_inside_the_sandbox_only() {
    let dir = temp_dir("traversal");
    let files = dir.join("files");
    let shop = Shop::start(ShopConfig {
        files_dir: Some(files.clone()),
        lab: true,
        ..Default::default()
    })
    .await;
    let sandbox = files.join("lab-sandbox");
    assert!(sandbox.join("etc/passwd").is_file());

    for path in ["/lab/vuln/download", "/lab/safe/download"] {
        let r = shop.query(path, "file", "welcome.txt").await;
        assert_eq!(r.status, 200, "{path}");
        assert!(r.body.contains("Welcome to the Rampart Demo Shop lab"));
    }
    for payload in [
        "../../../etc/passwd",
        "../../../../../../../../../../etc/passwd",
        "/etc/passwd",
        "./../../.././etc/passwd",
    ] {
        let r = shop.query("/lab/vuln/download", "file", payload).await;
        assert_eq!(r.status, 200, "{payload}");
        assert!(r.body.contains("root:x:0:0:"), "{payload}: {}", r.body);
        let r = shop.query("/lab/safe/download", "file", payload).await;
        assert_ne!(r.status, 200, "{payload}");
        assert!(!r.body.contains("root:x:0:0"));
    }
    for payload in [
        "..\\..\\..\\windows\\win.ini",
        "../../../../windows/win.ini",
        "C:\\windows\\win.ini",
    ] {
        let r = shop.query("/lab/vuln/download", "file", payload).await;
        assert_eq!(r.status, 200, "{payload}");
        assert!(r.body.contains("[fonts]"));
        let r = shop.query("/lab/safe/download", "file", payload).await;
        assert_eq!(r.status, 400, "{payload}");
    }

    // The real system stays out of reach: extra `..` stop at the sandbox root.
    let real_hostname = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let r = shop
        .query(
            "/lab/vuln/download",
            "file",
            "../../../../../../etc/hostname",
        )
        .await;
    assert_eq!(r.status, 404);
    if !real_hostname.trim().is_empty() {
        assert!(!r.body.contains(real_hostname.trim()) || r.body.contains("Page not found"));
    }
    // A symbolic link inside the sandbox pointing out of it is refused (canonicalization).
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/", sandbox.join("var/www/public/escape")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", sandbox.join("var/www/public/host.txt"))
            .unwrap();
        let r = shop
            .query("/lab/vuln/download", "file", "escape/etc/hostname")
            .await;
        assert_eq!(r.status, 403);
        assert!(r.body.contains("outside the lab sandbox"));
        for path in ["/lab/vuln/download", "/lab/safe/download"] {
            let r = shop.query(path, "file", "host.txt").await;
            assert_eq!(r.status, 403, "{path}");
        }
        // The lab shell's tools are links out of the sandbox too.
        let r = shop
            .query("/lab/vuln/download", "file", "/lab-bin/sleep")
            .await;
        assert_eq!(r.status, 403);
    }
    for bad in ["", ".hidden", "a/b"] {
        let r = shop.query("/lab/safe/download", "file", bad).await;
        assert_eq!(r.status, 400, "{bad:?}");
    }
    assert_eq!(
        shop.query("/lab/vuln/download", "file", "missing.txt")
            .await
            .status,
        404
    );
    assert_eq!(
        shop.query("/lab/vuln/download", "file", "../").await.status,
        404
    );
    shop.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Processes whose working directory is inside `root` (Linux only; elsewhere: none).
fn processes_in(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(cwd) = std::fs::read_link(e.path().join("cwd")) {
            if cwd.starts_with(root) {
                let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
                found.push(format!("{name}: {}", String::from_utf8_lossy(&cmd)));
            }
        }
    }
    found
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_injection_is_real_on_vuln_and_absent_on_safe() {
    if !Path::new("/bin/bash").exists() && !Path::new("/usr/bin/bash").exists() {
        eprintln!("no bash: the vulnerable ping answers 503, nothing to test");
        return;
    }
    let dir = temp_dir("ping");
    let files = dir.join("files");
    let shop = Shop::start(ShopConfig {
        files_dir: Some(files.clone()),
        lab: true,
        ..Default::default()
    })
    .await;
    let sandbox = std::fs::canonicalize(files.join("lab-sandbox")).unwrap();

    for path in ["/lab/vuln/ping", "/lab/safe/ping"] {
        let r = shop.query(path, "host", "example.com").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.pre().trim(), "PING example.com", "{path}");
    }
    for payload in [
        ";echo $((6*7))",
        "x && echo $((6*7))",
        "x | echo $((6*7))",
        "$(echo $((6*7)))",
        "`echo $((6*7))`",
        "x\necho $((6*7))",
    ] {
        let r = shop.query("/lab/vuln/ping", "host", payload).await;
        assert_eq!(r.status, 200, "{payload}");
        assert!(
            r.pre()
                .lines()
                .any(|l| l.split_whitespace().any(|w| w == "42")),
            "{payload}: {}",
            r.pre()
        );
        let r = shop.query("/lab/safe/ping", "host", payload).await;
        assert_eq!(r.status, 422, "{payload}");
        assert!(!r.body.contains("42"), "{payload}");
    }
    let r = shop.query("/lab/vuln/ping", "host", ";id").await;
    assert!(r.pre().contains("uid="), "{}", r.pre());

    // The lab's nets: restricted shell, nothing outside the tools folder, no writes.
    let r = shop
        .query("/lab/vuln/ping", "host", "x; echo owned > owned.txt")
        .await;
    assert!(r.pre().contains("restricted"), "{}", r.pre());
    assert!(!sandbox.join("owned.txt").exists());
    let r = shop
        .query("/lab/vuln/ping", "host", "x; /bin/echo absolute")
        .await;
    assert!(r.pre().contains("restricted"));
    assert!(!r.pre().contains("\nabsolute"));
    let r = shop
        .query("/lab/vuln/ping", "host", "x; rm -rf etc; touch t; cd /; ls")
        .await;
    assert!(
        r.pre().contains("not found") || r.pre().contains("restricted"),
        "{}",
        r.pre()
    );
    assert!(sandbox.join("etc/passwd").is_file());
    assert!(!sandbox.join("t").exists());
    let r = shop
        .query(
            "/lab/vuln/ping",
            "host",
            "x; type kill ulimit; PATH=/bin; echo after",
        )
        .await;
    assert!(r.pre().contains("kill: not found"), "{}", r.pre());
    assert!(!r.pre().contains("after"));

    // Long runners are stopped, with whatever they left in the background.
    let (a, b) = tokio::join!(
        shop.query("/lab/vuln/ping", "host", "x; sleep 60"),
        shop.query("/lab/vuln/ping", "host", "x; sleep 61 & echo started"),
    );
    assert_eq!(a.status, 200);
    assert!(a.body.contains("stopped after 5 s"), "{}", a.body);
    assert!(b.body.contains("stopped after 5 s"), "{}", b.body);
    assert!(b.pre().contains("started"));
    // Killing is done before the response; reaping may lag a little (a hang guard, not a bound).
    let mut left = processes_in(&sandbox);
    for _ in 0..100 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = processes_in(&sandbox);
    }
    assert!(left.is_empty(), "left behind: {left:?}");

    // Output is capped.
    let r = shop
        .query("/lab/vuln/ping", "host", "x; printf '%*s' 100000 y")
        .await;
    assert!(
        r.body.contains("output cut at"),
        "{}",
        &r.body[..200.min(r.body.len())]
    );
    shop.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssti_is_real_on_vuln_and_absent_on_safe() {
    let shop = Shop::lab().await;
    let r = shop.query("/lab/vuln/hello", "name", "{{6*7}}").await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("Hello 42, welcome to Rampart Demo Shop!"),
        "{}",
        r.body
    );
    let r = shop.query("/lab/vuln/hello", "name", "{{7*'7'}}").await;
    assert!(r.body.contains("Hello 7777777,"));
    let r = shop.query("/lab/vuln/hello", "name", "{{ user }}").await;
    assert!(r.body.contains("Hello guest,"));
    for (payload, error) in [
        ("{{1/0}}", "division by zero"),
        ("{{9223372036854775807+1}}", "integer overflow"),
        ("{{", "unexpected character"),
        ("{{ 'x' * 100000 }}", "string longer"),
    ] {
        let r = shop.query("/lab/vuln/hello", "name", payload).await;
        assert_eq!(r.status, 500, "{payload}");
        assert!(
            r.body.contains("Template error") && r.body.contains(error),
            "{payload}"
        );
    }
    for payload in ["{{6*7}}", "{{", "{{1/0}}"] {
        let r = shop.query("/lab/safe/hello", "name", payload).await;
        assert_eq!(r.status, 200, "{payload}");
        assert!(r
            .body
            .contains(&format!("Hello {payload}, welcome to Rampart Demo Shop!")));
    }
    // The rendered text is escaped on both: no XSS here.
    for path in ["/lab/vuln/hello", "/lab/safe/hello"] {
        let r = shop.query(path, "name", "<b>x</b>").await;
        assert!(
            r.body.contains("&lt;b&gt;x&lt;/b&gt;") && !r.body.contains("<b>x"),
            "{path}"
        );
    }
    shop.stop().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_sandbox_is_removed_when_the_shop_ends() {
    if !Path::new("/bin/bash").exists() && !Path::new("/usr/bin/bash").exists() {
        return;
    }
    let shop = Shop::lab().await;
    // The lab shell runs in the sandbox: the command injection tells where it is.
    let r = shop.query("/lab/vuln/ping", "host", "x; echo $PWD").await;
    let sandbox = PathBuf::from(r.pre().lines().last().unwrap().trim());
    assert!(
        sandbox.join("etc/passwd").is_file(),
        "{}",
        sandbox.display()
    );
    assert!(sandbox.starts_with(std::fs::canonicalize(std::env::temp_dir()).unwrap()));
    shop.stop().await;
    // The shop's state is dropped once its last connection task ends (a hang guard, not a bound).
    for _ in 0..100 {
        if !sandbox.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!sandbox.exists(), "{} left behind", sandbox.display());
}

async fn snapshot(shop: &Shop) -> Value {
    let r = shop.get("/api/products?limit=100").await;
    serde_json::from_str(&r.body).unwrap()
}
