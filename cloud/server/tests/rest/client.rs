//! A REST client over loopback HTTP that checks every answer against the
//! OpenAPI document, the callers of a test (an admin and an analyst, each
//! with a console session and an API token), and the data the tests read:
//! an application with an enrolled node and real batches.

use std::net::SocketAddr;
use std::sync::Arc;

use rampart_cloud::LearningConfig;
use rampart_core::{Engine, EngineConfig, Request};
use rampart_store::entity::Role;
use rampart_telemetry::{Aggregator, Batch, Config, Observation};
use serde_json::{json, Value};

use crate::common::{
    app_and_node, config, sample_batch, send, start, upload, Node, Resp, Running, TestDb,
};
use crate::schema;

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Cred {
    /// Not at all.
    None,
    /// The session cookie, with the anti-CSRF header when `csrf` is set.
    Cookie {
        cookie: String,
        csrf: Option<String>,
    },
    /// `Authorization: Bearer`.
    Bearer(String),
    /// `Authorization` with any value.
    Authorization(String),
}

/// A console session from `POST /api/v1/login`.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    pub user: Value,
}

impl Session {
    /// Cookie and anti-CSRF header, as the console sends them.
    pub fn cred(&self) -> Cred {
        Cred::Cookie {
            cookie: self.cookie.clone(),
            csrf: Some(self.csrf.clone()),
        }
    }

    /// The cookie alone (a forged cross-site request).
    pub fn cookie_only(&self) -> Cred {
        Cred::Cookie {
            cookie: self.cookie.clone(),
            csrf: None,
        }
    }
}

/// The client: every answer of `/api/v1` is checked against the document
/// (the status is one the operation lists, a JSON body matches the schema
/// of that status).
#[derive(Debug, Clone)]
pub struct Api {
    pub addr: SocketAddr,
    pub doc: Arc<Value>,
}

impl Api {
    pub fn new(addr: SocketAddr) -> Api {
        Api {
            addr,
            doc: Arc::new(schema::document()),
        }
    }

    /// One request; `body` is sent as JSON.
    pub async fn call(&self, cred: &Cred, method: &str, path: &str, body: Option<&Value>) -> Resp {
        let mut headers: Vec<(String, String)> = Vec::new();
        match cred {
            Cred::None => {}
            Cred::Cookie { cookie, csrf } => {
                headers.push(("cookie".into(), format!("rampart_session={cookie}")));
                if let Some(c) = csrf {
                    headers.push(("x-csrf-token".into(), c.clone()));
                }
            }
            Cred::Bearer(t) => headers.push(("authorization".into(), format!("Bearer {t}"))),
            Cred::Authorization(v) => headers.push(("authorization".into(), v.clone())),
        }
        let bytes = match body {
            Some(b) => {
                headers.push(("content-type".into(), "application/json".into()));
                b.to_string().into_bytes()
            }
            None => Vec::new(),
        };
        let hs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let r = send(self.addr, method, path, &hs, bytes).await;
        self.conforms(method, path, &r);
        r
    }

    pub async fn get(&self, cred: &Cred, path: &str) -> Resp {
        self.call(cred, "GET", path, None).await
    }

    pub async fn post(&self, cred: &Cred, path: &str, body: &Value) -> Resp {
        self.call(cred, "POST", path, Some(body)).await
    }

    pub async fn put(&self, cred: &Cred, path: &str, body: &Value) -> Resp {
        self.call(cred, "PUT", path, Some(body)).await
    }

    pub async fn delete(&self, cred: &Cred, path: &str) -> Resp {
        self.call(cred, "DELETE", path, None).await
    }

    /// Panics unless the answer is one the document describes.
    fn conforms(&self, method: &str, path: &str, r: &Resp) {
        let doc = &self.doc;
        let Some(template) = schema::template_of(doc, method, path) else {
            // Not an operation of the document: the router must say so.
            if path.starts_with("/api/") {
                assert!(
                    matches!(r.status, 401 | 404 | 405),
                    "{method} {path} is not documented but answered {}: {}",
                    r.status,
                    body_text(r)
                );
            }
            return;
        };
        let op = schema::operation(doc, method, &template);
        let Some(resp) = schema::response(doc, op, r.status) else {
            panic!(
                "{method} {path} ({template}) answered {}, which the document does not list: {}",
                r.status,
                body_text(r)
            );
        };
        let ct = r
            .header("content-type")
            .map(|c| c.split(';').next().unwrap_or(c).trim().to_owned());
        match resp.get("content").and_then(Value::as_object) {
            None => assert!(
                r.body.is_empty(),
                "{method} {path}: {} has no documented body, got {}",
                r.status,
                body_text(r)
            ),
            Some(content) => {
                let ct = ct.unwrap_or_else(|| panic!("{method} {path}: no content type"));
                let media = content.get(&ct).unwrap_or_else(|| {
                    panic!(
                        "{method} {path}: {} answered {ct}, the document says {:?}",
                        r.status,
                        content.keys().collect::<Vec<_>>()
                    )
                });
                if ct == "application/json" {
                    let v = r.json();
                    let problems = schema::check(doc, &media["schema"], &v);
                    assert!(
                        problems.is_empty(),
                        "{method} {path} ({template}) {}: the answer does not match the document:\n{}\n{v:#}",
                        r.status,
                        problems.join("\n")
                    );
                }
            }
        }
    }
}

pub fn body_text(r: &Resp) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// Panics unless `r` has `status`; returns its JSON (null for no body).
pub fn expect(r: &Resp, status: u16, what: &str) -> Value {
    assert_eq!(r.status, status, "{what}: {}", body_text(r));
    if r.body.is_empty() {
        Value::Null
    } else if r
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
    {
        r.json()
    } else {
        Value::String(body_text(r))
    }
}

/// Panics unless `r` is the error `code` with `status`.
pub fn expect_error(r: &Resp, status: u16, code: &str, what: &str) -> Value {
    let v = expect(r, status, what);
    assert_eq!(v["error"], code, "{what}: {v}");
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {v}"
    );
    if status == 401 {
        assert!(
            r.header("www-authenticate").is_some(),
            "{what}: 401 without WWW-Authenticate"
        );
    }
    v
}

/// The names, passwords and roles of a test's users.
pub const ADMIN: (&str, &str) = ("admin", "correct horse battery staple");
pub const ANALYST: (&str, &str) = ("ana", "analyst password 7");

/// A cloud with an admin and an analyst (each signed in once and with an
/// API token), the application `shop` and one enrolled node of it.
#[derive(Debug)]
pub struct World {
    pub cloud: Running,
    pub api: Api,
    pub node: Node,
    pub app: String,
    pub app_id: i64,
    pub admin: Session,
    pub admin_token: String,
    pub analyst: Session,
    pub analyst_token: String,
}

impl World {
    pub fn admin(&self) -> Cred {
        self.admin.cred()
    }

    pub fn admin_bearer(&self) -> Cred {
        Cred::Bearer(self.admin_token.clone())
    }

    pub fn analyst(&self) -> Cred {
        self.analyst.cred()
    }

    pub fn analyst_bearer(&self) -> Cred {
        Cred::Bearer(self.analyst_token.clone())
    }

    pub fn store(&self) -> &rampart_store::Store {
        self.cloud.handle.store()
    }

    /// `/api/v1/apps/shop` + `rest`.
    pub fn app_path(&self, rest: &str) -> String {
        format!("/api/v1/apps/{}{rest}", self.app)
    }

    /// Uploads `n` real batches (sequence numbers from `first_seq`), their
    /// windows and events moved to now, and a heartbeat of the node.
    pub async fn traffic(&self, first_seq: u64, n: u64) {
        let now = now_secs();
        let base = sample_batch(1);
        for seq in first_seq..first_seq + n {
            let b = at_now(&base, seq, now);
            let r = upload(self.cloud.addr, &self.node, &b, seq % 2 == 0).await;
            assert_eq!(r.status, 200, "upload: {}", body_text(&r));
            assert_eq!(r.json(), json!({"accepted": true}));
        }
        self.heartbeat(None).await;
    }

    /// A heartbeat of the node reporting `pack_version`.
    pub async fn heartbeat(&self, pack_version: Option<i64>) {
        let bearer = self.node.bearer();
        let hb = json!({"version": "0.1.0", "pack_version": pack_version, "pack_error": null,
            "counters": {"requests": 13, "blocked": 1, "spool_batches": 0, "spool_dropped": 0}});
        let r = send(
            self.cloud.addr,
            "POST",
            "/v1/heartbeat",
            &[
                ("authorization", &bearer),
                ("content-type", "application/json"),
            ],
            hb.to_string().into_bytes(),
        )
        .await;
        assert_eq!(r.status, 200, "heartbeat: {}", body_text(&r));
    }
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// The sample batch with sequence number `seq`, its window, clients and
/// attack events at `now`.
pub fn at_now(base: &Batch, seq: u64, now: u64) -> Batch {
    let mut b = base.clone();
    b.seq = seq;
    b.window_start = now - 10;
    b.window_end = now;
    for c in &mut b.clients {
        c.first = now - 5;
        c.last = now;
    }
    for a in &mut b.attacks {
        a.time = now - 3;
    }
    b
}

pub use crate::common::request;

/// A real batch of `reqs` (client number, request) at `now`: each
/// inspected by the engine with the built-in plugins and aggregated as a
/// node does, request ids prefixed with `tag`.
pub fn real_batch(seq: u64, now: u64, tag: &str, reqs: Vec<(u8, Request)>) -> Batch {
    real_batch_with(&plain_engine(), seq, now, tag, reqs)
}

/// The engine of a node without rules.
pub fn plain_engine() -> Engine {
    let reg = rampart_builtin_plugins::registry().expect("registry");
    Engine::new(&reg, EngineConfig::default()).expect("engine")
}

/// [`real_batch`] with `engine`.
pub fn real_batch_with(
    engine: &Engine,
    seq: u64,
    now: u64,
    tag: &str,
    reqs: Vec<(u8, Request)>,
) -> Batch {
    let mut agg = Aggregator::new(Config {
        salt: b"test node salt".to_vec(),
        ..Config::default()
    });
    for (i, (client, mut req)) in reqs.into_iter().enumerate() {
        req.client_ip = Some(std::net::IpAddr::from([203, 0, 113, client]));
        let ins = engine.inspect(&req);
        let rid = format!("{tag}-{i}");
        let status = if ins.verdict.is_block() { 403 } else { 201 };
        agg.observe(&Observation {
            tree: &ins.tree,
            findings: &ins.findings,
            verdict: &ins.verdict,
            masked: &ins.rules.masked,
            tags: &ins.rules.tags,
            status,
            latency_us: 900,
            client_ip: req.client_ip,
            session: None,
            request_id: &rid,
            now,
        });
    }
    let mut b = agg.take(now + 1);
    b.seq = seq;
    b
}

/// A stored-XSS attempt in a comment form, `POST /comments/{id}`.
pub fn xss_comment(id: u32) -> Request {
    request(
        "POST",
        &format!("/comments/{id}"),
        &[
            ("Host", "shop.example"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        "author=eve&text=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E",
    )
}

/// Signs in through the API; panics unless it succeeds.
pub async fn login(api: &Api, name: &str, password: &str) -> Session {
    let r = api
        .post(
            &Cred::None,
            "/api/v1/login",
            &json!({"name": name, "password": password}),
        )
        .await;
    let v = expect(&r, 200, "login");
    let set = r.header("set-cookie").expect("a session cookie").to_owned();
    let cookie = set
        .split(';')
        .next()
        .and_then(|kv| kv.trim().strip_prefix("rampart_session="))
        .expect("rampart_session=...")
        .to_owned();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "cookie {set:?} lacks {attr}");
    }
    assert!(!set.contains("Secure"), "no Secure without TLS: {set:?}");
    Session {
        cookie,
        csrf: v["csrf"].as_str().expect("csrf").to_owned(),
        user: v["user"].clone(),
    }
}

/// A cloud with the callers, the application and its node (no traffic
/// yet). The learners and the scanner do not run by themselves.
pub async fn world(db: &TestDb) -> World {
    let mut cfg = config(db, "r1");
    cfg.learning = LearningConfig {
        enabled: false,
        ..LearningConfig::default()
    };
    cfg.scanning.enabled = false;
    let cloud = start(cfg).await;
    let store = cloud.handle.store();
    store
        .create_user(ADMIN.0, ADMIN.1, Role::Admin)
        .await
        .expect("admin user");
    let analyst = store
        .create_user(ANALYST.0, ANALYST.1, Role::Analyst)
        .await
        .expect("analyst user");
    let node = app_and_node(&cloud, "shop").await;
    let app_id = cloud.handle.application("shop").await.expect("app").id;
    let api = Api::new(cloud.addr);
    let admin = login(&api, ADMIN.0, ADMIN.1).await;
    let r = api
        .post(&admin.cred(), "/api/v1/tokens", &json!({"label": "ci"}))
        .await;
    let admin_token = expect(&r, 201, "admin token")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    // An analyst cannot create tokens through the API: the store makes one.
    let analyst_token = store
        .create_api_token(analyst.id, "siem", Role::Analyst)
        .await
        .expect("analyst token")
        .secret;
    let analyst = login(&api, ANALYST.0, ANALYST.1).await;
    World {
        cloud,
        api,
        node,
        app: "shop".into(),
        app_id,
        admin,
        admin_token,
        analyst,
        analyst_token,
    }
}
