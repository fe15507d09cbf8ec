//! Real HTTP servers on 127.0.0.1 for the scanner's tests, and a small
//! hyper client the deliberately vulnerable handlers use.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rampart_scanner::point::percent_decode;
use rampart_scanner::ScannerConfig;
use tokio::net::TcpListener;

/// A request as the test server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    /// The first query parameter `k`, decoded (empty when absent).
    pub fn q(&self, k: &str) -> String {
        self.query
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    pub fn header(&self, k: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    }
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub location: Option<String>,
}

impl Reply {
    pub fn html(body: impl Into<String>) -> Reply {
        Reply {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: body.into(),
            location: None,
        }
    }

    pub fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
            location: None,
        }
    }
}

pub type BoxFut = Pin<Box<dyn Future<Output = Reply> + Send>>;
pub type Handler = Arc<dyn Fn(Seen) -> BoxFut + Send + Sync>;

/// A handler that blocks (SQLite, processes, files): run on the blocking pool.
pub fn blocking<F>(f: F) -> Handler
where
    F: Fn(Seen) -> Reply + Send + Sync + 'static,
{
    let f = Arc::new(f);
    Arc::new(move |s| {
        let f = f.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || f(s))
                .await
                .unwrap_or_else(|_| Reply::text(500, "handler panicked"))
        })
    })
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `host:port` for the allowlist.
    pub fn allow(&self) -> String {
        self.addr.to_string()
    }

    /// Requests received so far.
    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (percent_decode(k, true), percent_decode(v, true)),
            None => (percent_decode(kv, true), String::new()),
        })
        .collect()
}

pub async fn serve(handler: Handler) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let s2 = seen.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let handler = handler.clone();
            let seen = s2.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let handler = handler.clone();
                    let seen = seen.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let s = Seen {
                            method: parts.method.to_string(),
                            path: percent_decode(parts.uri.path(), false),
                            query: parse_query(parts.uri.query().unwrap_or("")),
                            headers: parts
                                .headers
                                .iter()
                                .map(|(k, v)| {
                                    (
                                        k.as_str().to_string(),
                                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                    )
                                })
                                .collect(),
                            body: String::from_utf8_lossy(&body).into_owned(),
                        };
                        seen.lock().unwrap().push(s.clone());
                        let r = handler(s).await;
                        let mut b = Response::builder()
                            .status(r.status)
                            .header("content-type", r.content_type);
                        if let Some(l) = r.location {
                            b = b.header("location", l);
                        }
                        Ok::<_, Infallible>(b.body(Full::new(Bytes::from(r.body))).unwrap())
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    TestServer { addr, seen, task }
}

/// GET with hyper (the SSRF and XXE handlers' fetcher). Only 127.0.0.1 is
/// fetched: the tests never reach anything else.
pub async fn http_get(url: &str) -> Option<String> {
    if !url.starts_with("http://127.0.0.1:") {
        return None;
    }
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let uri: hyper::Uri = url.parse().ok()?;
    let resp = client.get(uri).await.ok()?;
    let body = resp.into_body().collect().await.ok()?.to_bytes();
    Some(String::from_utf8_lossy(&body).into_owned())
}

/// Test configuration: one allowed target, a generous rate.
pub fn config(allow: &[String]) -> ScannerConfig {
    ScannerConfig {
        allow: allow.to_vec(),
        rate_limit: 1000.0,
        ..ScannerConfig::default()
    }
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Removes a directory when dropped.
pub struct DirGuard(pub std::path::PathBuf);

impl Drop for DirGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!("rampart-scanner-{tag}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A small shop database in SQLite (in memory).
pub fn shop_db() -> Arc<Mutex<rusqlite::Connection>> {
    let c = rusqlite::Connection::open_in_memory().unwrap();
    c.execute_batch(
        "CREATE TABLE products(id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL);
         CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL);
         INSERT INTO products VALUES (1,'apple',3),(2,'pear',4),(3,'plum',5),(4,'fig',9);
         INSERT INTO users VALUES (1,'alice','admin'),(2,'bob','user');",
    )
    .unwrap();
    Arc::new(Mutex::new(c))
}

/// Every row of every table and the schema, in order.
pub fn checksum(db: &Mutex<rusqlite::Connection>) -> String {
    let c = db.lock().unwrap();
    let mut out = String::new();
    let mut st = c
        .prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name")
        .unwrap();
    let schema: Vec<String> = st
        .query_map([], |r| {
            Ok(format!(
                "{}|{}|{:?}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    out.push_str(&schema.join("\n"));
    for t in ["products", "users"] {
        let mut st = c
            .prepare(&format!("SELECT * FROM {t} ORDER BY id"))
            .unwrap();
        let n = st.column_count();
        let rows: Vec<String> = st
            .query_map([], |r| {
                let mut s = Vec::new();
                for i in 0..n {
                    s.push(format!("{:?}", r.get_ref(i)?));
                }
                Ok(s.join(","))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        out.push('\n');
        out.push_str(&rows.join(";"));
    }
    out
}

/// `/product?id=`: the vulnerable handler builds SQL text from the value;
/// the patched twin binds it as a parameter. `blind`: the page never shows
/// the rows (only time can tell).
pub fn sqli_handler(
    db: Arc<Mutex<rusqlite::Connection>>,
    vulnerable: bool,
    blind: bool,
) -> Handler {
    blocking(move |s| {
        let id = s.q("id");
        let c = db.lock().unwrap();
        let rows: Result<Vec<String>, rusqlite::Error> = if vulnerable {
            let sql = format!("SELECT name, price FROM products WHERE id = '{id}'");
            c.prepare(&sql).and_then(|mut st| {
                st.query_map([], |r| {
                    Ok(format!(
                        "{} at {}",
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?
                    ))
                })
                .and_then(|it| it.collect())
            })
        } else {
            c.prepare("SELECT name, price FROM products WHERE id = ?1")
                .and_then(|mut st| {
                    st.query_map([&id], |r| {
                        Ok(format!(
                            "{} at {}",
                            r.get::<_, String>(0)?,
                            r.get::<_, i64>(1)?
                        ))
                    })
                    .and_then(|it| it.collect())
                })
        };
        if blind {
            return Reply::html("<html><body><p>Thanks for looking.</p></body></html>");
        }
        match rows {
            Ok(rows) => Reply::html(format!(
                "<html><body><h1>Product {}</h1><ul>{}</ul></body></html>",
                html_escape(&id),
                rows.iter()
                    .map(|r| format!("<li>{}</li>", html_escape(r)))
                    .collect::<String>()
            )),
            Err(_) => Reply::text(500, "database error"),
        }
    })
}
