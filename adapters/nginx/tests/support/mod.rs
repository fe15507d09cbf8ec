//! Real NGINX (Debian's binary) with the built module, a hyper echo
//! backend, and a plain HTTP/1.1 client over TCP: no mocks.
#![allow(dead_code, clippy::panic)]

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// The nginx binary and the module, or None (after a skip notice) when
/// either is missing; a missing one fails the test when
/// RAMPART_REQUIRE_SERVERS=1 (CI).
pub fn prerequisites(test: &str) -> Option<(PathBuf, PathBuf)> {
    let nginx = std::env::var_os("RAMPART_NGINX_BIN")
        .map(PathBuf::from)
        .or_else(|| {
            ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())
        });
    let module = module_path();
    let missing = match (&nginx, &module) {
        (None, _) => Some("the nginx binary (apt-get install nginx)".to_string()),
        (_, None) => Some(
            "the built module (adapters/nginx/build.sh, or RAMPART_NGINX_MODULE=/path/to/ngx_http_rampart_module.so)"
                .to_string(),
        ),
        _ => None,
    };
    if let Some(what) = missing {
        if std::env::var("RAMPART_REQUIRE_SERVERS").as_deref() == Ok("1") {
            panic!("{test}: {what} is missing and RAMPART_REQUIRE_SERVERS=1");
        }
        eprintln!("SKIP {test}: {what} is missing (set RAMPART_REQUIRE_SERVERS=1 to fail instead)");
        return None;
    }
    Some((nginx?, module?))
}

/// RAMPART_NGINX_MODULE, else what adapters/nginx/build.sh built last
/// (`$CARGO_TARGET_DIR/ngx_http_rampart_module.so`), else the cdylib of
/// this test's profile (target/<profile>/libngx_http_rampart_module.so).
/// `cargo test` does not build the cdylib itself: run build.sh first.
fn module_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RAMPART_NGINX_MODULE") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?;
    let built = profile_dir.parent()?.join("ngx_http_rampart_module.so");
    let own = profile_dir.join("libngx_http_rampart_module.so");
    let p = [built, own].into_iter().find(|p| p.is_file())?;
    eprintln!("using the module {}", p.display());
    Some(p)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub fn temp_dir(name: &str) -> PathBuf {
    // Under the target directory (cargo's tmp folder for integration
    // tests); left in place after the run for a look at the logs.
    let base = option_env!("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let d = base.join(format!("rampart-nginx-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("test dir");
    d
}

/// An HTTP/1.1 echo backend: answers 200 with
/// `METHOD TARGET\n`, each header as `name: value\n`, `\n`, then the body.
pub struct Echo {
    pub addr: SocketAddr,
    _rt: tokio::runtime::Runtime,
}

pub fn echo() -> Echo {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    rt.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(echo_one))
                    .await;
            });
        }
    });
    Echo { addr, _rt: rt }
}

async fn echo_one(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut out = format!("{} {}\n", req.method(), req.uri()).into_bytes();
    for (k, v) in req.headers() {
        out.extend_from_slice(k.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    out.extend_from_slice(&body);
    Ok(Response::new(Full::new(Bytes::from(out))))
}

/// What the echo saw: its body after the blank line that ends the headers.
pub fn echoed_body(resp_body: &[u8]) -> &[u8] {
    let at = resp_body
        .windows(2)
        .position(|w| w == b"\n\n")
        .expect("echo format");
    &resp_body[at + 2..]
}

/// The echoed header value (lower-case name), if the backend saw it.
pub fn echoed_header<'a>(resp_body: &'a [u8], name: &str) -> Option<&'a str> {
    let text = std::str::from_utf8(resp_body).ok()?;
    let head = text.split("\n\n").next()?;
    head.lines()
        .skip(1)
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

/// The node.toml of the tests: block mode, a 1 MiB body limit refused
/// above it (413), the verdict log as JSON lines in `DIR/rampart.log`.
pub fn node_toml(dir: &Path) -> String {
    format!(
        "mode = \"block\"\nlog_format = \"json\"\nlog_file = \"{}\"\n\
         [inspection]\nbody_limit = 1048576\nover_limit = \"block\"\n\
         [telemetry]\nenabled = false\n",
        dir.join("rampart.log").display()
    )
}

/// A running nginx (master + workers), stopped on drop.
pub struct Nginx {
    pub bin: PathBuf,
    pub dir: PathBuf,
    pub port: u16,
    child: Child,
}

impl Nginx {
    /// Writes `DIR/node.toml` ([`node_toml`]) and
    /// `DIR/nginx.conf` (the given server blocks), starts nginx and waits
    /// until it answers.
    pub fn start(bin: &Path, module: &Path, dir: &Path, servers: &str) -> Nginx {
        Nginx::start_with(bin, module, dir, servers, &node_toml(dir))
    }

    /// As [`Nginx::start`] with this node.toml.
    pub fn start_with(
        bin: &Path,
        module: &Path,
        dir: &Path,
        servers: &str,
        node_text: &str,
    ) -> Nginx {
        let node = dir.join("node.toml");
        std::fs::write(&node, node_text).expect("node.toml");
        let port = free_port();
        write_conf(
            dir,
            module,
            &node,
            &servers.replace("PORT", &port.to_string()),
        );
        let stderr = std::fs::File::create(dir.join("stderr.log")).expect("stderr log");
        let child = Command::new(bin)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-g")
            .arg("daemon off;")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start nginx");
        let mut n = Nginx {
            bin: bin.to_path_buf(),
            dir: dir.to_path_buf(),
            port,
            child,
        };
        n.wait_ready();
        n
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "nginx exited ({status}):\n{}\n{}",
                    std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default(),
                    std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
                );
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not listen on {}:\n{}",
                self.port,
                std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn master_pid(&self) -> u32 {
        self.child.id()
    }

    /// `nginx -s reload` (SIGHUP to the master).
    pub fn reload(&self) {
        signal(self.master_pid(), "HUP");
    }

    /// Rewrites nginx.conf's servers, for a reload.
    pub fn rewrite(&self, module: &Path, servers: &str) {
        write_conf(
            &self.dir,
            module,
            &self.dir.join("node.toml"),
            &servers.replace("PORT", &self.port.to_string()),
        );
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    pub fn rampart_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("rampart.log")).unwrap_or_default()
    }

    pub fn send(&self, raw: &[u8]) -> Reply {
        send(self.port, raw)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM to the master: it stops its workers (a SIGKILL would
        // leave them running).
        signal(self.child.id(), "TERM");
        let _ = self.child.wait();
    }
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

fn write_conf(dir: &Path, module: &Path, node: &Path, servers: &str) {
    let d = dir.display();
    // Workers run as the user that started nginx (a root master would
    // otherwise switch them to nobody, who cannot write DIR).
    let user = if running_as_root() {
        "user root;\n"
    } else {
        ""
    };
    let conf = format!(
        r#"load_module {module};
{user}worker_processes 1;
error_log {d}/error.log info;
pid {d}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    client_body_buffer_size 16k;
    client_max_body_size 10m;
    rampart_config {node};
{servers}
}}
"#,
        module = module.display(),
        node = node.display(),
    );
    std::fs::write(dir.join("nginx.conf"), conf).expect("nginx.conf");
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

/// Runs `nginx -t` on a configuration: (success, output).
pub fn check_conf(bin: &Path, module: &Path, dir: &Path, http: &str) -> (bool, String) {
    let d = dir.display();
    let conf = format!(
        "load_module {};\nerror_log {d}/error.log;\npid {d}/nginx.pid;\nevents {{}}\nhttp {{\n    access_log off;\n    client_body_temp_path {d}/client_body;\n    proxy_temp_path {d}/proxy;\n    fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n{http}\n}}\n",
        module.display()
    );
    let path = dir.join("check.conf");
    std::fs::write(&path, conf).expect("conf");
    let out = Command::new(bin)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .arg("-t")
        .output()
        .expect("nginx -t");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    (out.status.success(), text)
}

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends raw request bytes (which must say `Connection: close`) and reads
/// the whole response.
pub fn send(port: u16, raw: &[u8]) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    s.write_all(raw).expect("write");
    // The whole response, up to 64 MiB.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    while buf.len() < 64 << 20 {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    parse(&buf)
}

fn parse(buf: &[u8]) -> Reply {
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(buf)));
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = buf[end + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(nl) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&b[..nl]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = nl + 2;
        out.extend_from_slice(&b[start..start + size]);
        b = &b[start + size + 2..];
    }
}

/// A GET with `Connection: close` and extra header lines.
pub fn get(target: &str, extra: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: test.local\r\n{extra}Connection: close\r\n\r\n")
        .into_bytes()
}

/// A POST with a Content-Length body.
pub fn post(target: &str, ctype: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {target} HTTP/1.1\r\nHost: test.local\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// A POST with a chunked body (in chunks of `chunk` bytes).
pub fn post_chunked(target: &str, ctype: &str, body: &[u8], chunk: usize) -> Vec<u8> {
    let mut r = format!(
        "POST {target} HTTP/1.1\r\nHost: test.local\r\nContent-Type: {ctype}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for c in body.chunks(chunk) {
        r.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        r.extend_from_slice(c);
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(b"0\r\n\r\n");
    r
}
