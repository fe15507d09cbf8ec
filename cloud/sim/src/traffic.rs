//! Users and attackers: normal sessions and attack scenarios as timed
//! requests, each with its ground truth.
//!
//! A [`Schedule`] of the learning phase holds normal sessions only; one of
//! the test phase mixes normal sessions with attack scenario instances and
//! requests carrying injected values. Request times are offsets from the
//! phase's start; the [`crate::driver`] replays them. Session cookies and
//! bearer tokens are not in the requests: the driver keeps them per
//! session from the responses, as a browser or API client would.

use std::collections::HashSet;
use std::time::Duration;

use rampart_learn::{Function, ParamFormat, Threat};
use serde::{Deserialize, Serialize};

use crate::app::{App, BodyKind, EndpointSpec, IdKind, Loc, Route};
use crate::rng::{hash_str, Rng};
use crate::values::{self, injected, InjectionKind, ValueGen};

/// The ground truth of one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truth {
    /// The endpoint (index into [`App::endpoints`]); `None` for paths the
    /// application does not have.
    pub endpoint: Option<usize>,
    /// The attack scenario instance the request belongs to.
    pub scenario: Option<(Threat, u32)>,
    /// The request point carrying an injected value (`query.id`, or
    /// `path[N]` for a path segment).
    pub injected: Option<String>,
    /// What was injected there.
    pub injection: Option<InjectionKind>,
    /// The session (client) the request belongs to; unique per schedule.
    pub session: u64,
}

/// One request to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimRequest {
    /// When to send it, from the start of the phase.
    pub at: Duration,
    /// The method.
    pub method: String,
    /// The path, percent-encoded.
    pub path: String,
    /// The query string without `?`, percent-encoded.
    pub query: Option<String>,
    /// Headers (lower-case names), `x-forwarded-for` with the client's
    /// address among them.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The client's IP address (private ranges).
    pub client: String,
    /// What the request is.
    pub truth: Truth,
}

impl SimRequest {
    /// The request target: path and query.
    pub fn target(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }
}

/// One attack scenario instance of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    /// The threat.
    pub threat: Threat,
    /// Its instance id (unique in the schedule).
    pub id: u32,
    /// When its first request is sent.
    pub start: Duration,
    /// The clients' addresses.
    pub clients: Vec<String>,
    /// Its requests.
    pub requests: usize,
}

/// Requests in the order of their times, and what they hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The requests, sorted by [`SimRequest::at`].
    pub requests: Vec<SimRequest>,
    /// The attack scenario instances.
    pub scenarios: Vec<ScenarioInfo>,
    /// Normal sessions.
    pub normal_sessions: usize,
    /// Requests carrying injected values.
    pub injected: usize,
}

/// What a test phase holds.
#[derive(Debug, Clone, PartialEq)]
pub struct TestConfig {
    /// Seed of everything random.
    pub seed: u64,
    /// Normal sessions.
    pub sessions: usize,
    /// Length of the phase; sessions start anywhere in it.
    pub duration: Duration,
    /// Instances of each threat (threats the application cannot suffer,
    /// such as brute force without a sign-in, are skipped).
    pub per_threat: usize,
    /// Normal requests that get an injected value.
    pub injections: usize,
}

const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:124.0) Gecko/20100101 Firefox/124.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.2420.81",
];
const API_AGENTS: &[&str] = &[
    "okhttp/4.12.0",
    "MyApp/3.2.1 (iOS 17.4)",
    "axios/1.6.8",
    "Go-http-client/1.1",
    "python-requests/2.31.0",
    "Dalvik/2.1.0 (Linux; U; Android 13)",
    "node-fetch/1.0",
];
const TOOLS: &[&str] = &[
    "python-requests/2.31.0",
    "curl/8.5.0",
    "Go-http-client/1.1",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine)",
    "gobuster/3.6",
    "Scrapy/2.11 (+https://scrapy.org)",
    "Wget/1.21.4",
];
const LANGS: &[&str] = &[
    "en-US,en;q=0.9",
    "de-DE,de;q=0.9,en;q=0.8",
    "fr-FR,fr;q=0.9",
    "es-ES,es;q=0.9,en;q=0.7",
    "en-GB,en;q=0.9",
];
const FORCED: &[&str] = &[
    "/admin.php",
    "/.git/config",
    "/.git/HEAD",
    "/backup.zip",
    "/backup.sql",
    "/.env",
    "/wp-login.php",
    "/wp-admin/",
    "/phpmyadmin/",
    "/server-status",
    "/config.json",
    "/config.php.bak",
    "/.DS_Store",
    "/web.config",
    "/.htaccess",
    "/db.sql",
    "/dump.sql",
    "/old/",
    "/test/",
    "/debug",
    "/console",
    "/actuator/env",
    "/actuator/health",
    "/.svn/entries",
    "/administrator/",
    "/cgi-bin/test.cgi",
    "/xmlrpc.php",
    "/api/swagger.json",
    "/swagger-ui.html",
    "/v2/api-docs",
    "/.aws/credentials",
    "/id_rsa",
    "/site.tar.gz",
    "/www.zip",
    "/logs/error.log",
    "/install.php",
    "/setup/",
    "/shell.php",
    "/info.php",
    "/phpinfo.php",
    "/admin/login.jsp",
    "/manager/html",
    "/.well-known/security.txt",
    "/crossdomain.xml",
    "/composer.json",
    "/package.json",
    "/.npmrc",
    "/Dockerfile",
    "/docker-compose.yml",
    "/jenkins/",
    "/solr/admin/",
    "/elmah.axd",
    "/trace.axd",
    "/.vscode/settings.json",
    "/backup/",
    "/private/",
    "/uploads/",
    "/tmp/",
    "/database.yml",
    "/config/database.yml",
    "/storage/logs/laravel.log",
];
const FORCED_WORDS: &[&str] = &[
    "admin", "backup", "old", "new", "dev", "staging", "test", "private", "internal", "config",
    "secret", "db", "data", "export", "files", "hidden", "api", "v0", "beta", "legacy",
];
const FORCED_EXT: &[&str] = &[
    ".php", ".bak", ".zip", ".old", ".sql", ".tar.gz", "/", ".asp", ".json", ".txt",
];

/// A client while its session is generated.
#[derive(Debug, Clone)]
struct Client {
    ip: String,
    session: u64,
    agent: String,
    browser: bool,
    lang: String,
    cookies: Vec<(String, String)>,
    user: Option<usize>,
    logged_in: bool,
    scenario: Option<(Threat, u32)>,
}

/// Values of one request before it is written out.
#[derive(Debug, Clone)]
struct Filled {
    ep: usize,
    path: Vec<String>,
    params: Vec<(usize, String)>,
}

fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn pct_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A JSON value of a parameter: numbers and booleans as such when they
/// parse, else a string.
fn json_value(format: ParamFormat, v: &str) -> serde_json::Value {
    match format {
        ParamFormat::Integer => v
            .parse::<i64>()
            .map(serde_json::Value::from)
            .unwrap_or_else(|_| v.into()),
        ParamFormat::Decimal => v
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(serde_json::Value::Number)
            .unwrap_or_else(|| v.into()),
        ParamFormat::Boolean => match v {
            "true" => true.into(),
            "false" => false.into(),
            _ => v.into(),
        },
        _ => v.into(),
    }
}

fn json_insert(root: &mut serde_json::Value, path: &[String], v: serde_json::Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if !root.is_object() {
        *root = serde_json::Value::Object(serde_json::Map::new());
    }
    if let Some(obj) = root.as_object_mut() {
        if rest.is_empty() {
            obj.insert(first.clone(), v);
        } else {
            let child = obj
                .entry(first.clone())
                .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
            json_insert(child, rest, v);
        }
    }
}

/// An XML element being built for a SOAP body.
#[derive(Debug, Default)]
struct Elem {
    name: String,
    attrs: Vec<(String, String)>,
    text: Option<String>,
    children: Vec<Elem>,
}

impl Elem {
    fn insert(&mut self, path: &[&str], v: &str) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        if let Some(a) = first.strip_prefix('@') {
            self.attrs.push((a.to_string(), v.to_string()));
            return;
        }
        let i = match self.children.iter().position(|c| c.name == *first) {
            Some(i) => i,
            None => {
                self.children.push(Elem {
                    name: first.to_string(),
                    ..Elem::default()
                });
                self.children.len() - 1
            }
        };
        if rest.is_empty() {
            self.children[i].text = Some(v.to_string());
        } else {
            self.children[i].insert(rest, v);
        }
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attrs {
            out.push_str(&format!(" {k}=\"{}\"", xml_escape(v)));
        }
        out.push('>');
        if let Some(t) = &self.text {
            out.push_str(&xml_escape(t));
        }
        for c in &self.children {
            c.write(out);
        }
        out.push_str(&format!("</{}>", self.name));
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn gql_type(format: ParamFormat, required: bool) -> String {
    let t = match format {
        ParamFormat::Integer => "Int",
        ParamFormat::Decimal => "Float",
        ParamFormat::Boolean => "Boolean",
        _ => "String",
    };
    if required {
        format!("{t}!")
    } else {
        t.to_string()
    }
}

/// The generator of one schedule.
struct Gen<'a> {
    app: &'a App,
    rng: Rng,
    ips: HashSet<String>,
    next_session: u64,
    next_scenario: u32,
    reqs: Vec<SimRequest>,
    /// Normal requests that may take an injected value, with their values.
    injectable: Vec<(usize, Client, Filled)>,
}

impl<'a> Gen<'a> {
    fn new(app: &'a App, seed: u64) -> Gen<'a> {
        Gen {
            app,
            rng: Rng::new(seed ^ hash_str(0x7ea, &app.name)),
            ips: HashSet::new(),
            next_session: 1,
            next_scenario: 1,
            reqs: Vec::new(),
            injectable: Vec::new(),
        }
    }

    fn ip(&mut self) -> String {
        loop {
            let ip = match self.rng.below(3) {
                0 => format!(
                    "10.{}.{}.{}",
                    self.rng.below(256),
                    self.rng.below(256),
                    self.rng.range(1, 254)
                ),
                1 => format!(
                    "172.{}.{}.{}",
                    self.rng.range(16, 31),
                    self.rng.below(256),
                    self.rng.range(1, 254)
                ),
                _ => format!("192.168.{}.{}", self.rng.below(256), self.rng.range(1, 254)),
            };
            if self.ips.insert(ip.clone()) {
                return ip;
            }
        }
    }

    fn client(&mut self, browser: bool, agent: Option<&str>) -> Client {
        let session = self.next_session;
        self.next_session += 1;
        let ip = self.ip();
        let agent = match agent {
            Some(a) => a.to_string(),
            None if browser => self.rng.pick(BROWSERS).to_string(),
            None => self.rng.pick(API_AGENTS).to_string(),
        };
        // The browser's own cookies (the session cookie comes from the
        // server), as the HTML endpoints declare them.
        let mut cookies = Vec::new();
        if browser {
            let mut seen = HashSet::new();
            for ep in &self.app.endpoints {
                for p in &ep.params {
                    if let Loc::Cookie(name) = &p.loc {
                        if seen.insert(name.clone()) && self.rng.chance(0.8) {
                            let v = p.gen.value(p.format, &mut self.rng);
                            cookies.push((name.clone(), v));
                        }
                    }
                }
            }
        }
        Client {
            ip,
            session,
            agent,
            browser,
            lang: self.rng.pick(LANGS).to_string(),
            cookies,
            user: None,
            logged_in: false,
            scenario: None,
        }
    }

    fn ep(&self, i: usize) -> &'a EndpointSpec {
        &self.app.endpoints[i]
    }

    /// Whether a normal client can call endpoint `i` (its objects known).
    fn callable(&self, i: usize, c: &Client) -> bool {
        let ep = self.ep(i);
        ep.path_params.iter().all(|p| {
            if p.owner {
                return c.user.is_some();
            }
            match &p.collection {
                Some(coll) => !self.app.objects(coll).is_empty(),
                None => true,
            }
        }) && (!ep.admin || c.user.is_some_and(|u| self.app.users[u].admin))
    }

    /// A path value for a parameter of `kind` without a collection.
    fn free_segment(&mut self, kind: &IdKind) -> String {
        match kind {
            IdKind::Int => self.rng.range(1, 9999).to_string(),
            IdKind::Uuid => values::uuid(&mut self.rng),
            IdKind::Hex(n) => ValueGen::Hex(*n).value(ParamFormat::Hex, &mut self.rng),
            IdKind::Slug => values::slug(&mut self.rng),
            IdKind::Year => self.rng.range(2019, 2025).to_string(),
            IdKind::Month => format!("{:02}", self.rng.range(1, 12)),
            IdKind::Day => format!("{:02}", self.rng.range(1, 28)),
            IdKind::Choice(xs) if !xs.is_empty() => self.rng.pick(xs).clone(),
            IdKind::Choice(_) => "x".to_string(),
        }
    }

    /// An existing object of `coll`, popular ones more often.
    fn object(&mut self, coll: &str) -> Option<String> {
        let ids = self.app.objects(coll);
        if ids.is_empty() {
            return None;
        }
        // Squaring a uniform variate favours the first ids.
        let u = self.rng.f64();
        let i = ((u * u) * ids.len() as f64) as usize;
        ids.get(i.min(ids.len() - 1)).cloned()
    }

    /// Values for a request of endpoint `i` by `c`.
    fn fill(&mut self, i: usize, c: &Client) -> Filled {
        let ep = self.ep(i);
        let mut path = Vec::with_capacity(ep.path_params.len());
        for p in &ep.path_params {
            let v = if p.owner {
                c.user
                    .map(|u| self.app.users[u].id.to_string())
                    .unwrap_or_else(|| "1".to_string())
            } else {
                match p.collection.as_deref().and_then(|coll| self.object(coll)) {
                    Some(v) => v,
                    None => self.free_segment(&p.kind),
                }
            };
            path.push(v);
        }
        let mut params = Vec::new();
        for (k, p) in ep.params.iter().enumerate() {
            if matches!(p.loc, Loc::Cookie(_)) {
                continue;
            }
            if !p.required && !self.rng.chance(0.5) {
                continue;
            }
            let user = c.user.map(|u| &self.app.users[u]);
            let v = match (&p.gen, &p.loc) {
                // Keys and tokens in headers stay the same for a client.
                (_, Loc::Header(_)) => {
                    let mut r = Rng::new(hash_str(c.session, &p.point));
                    p.gen.value(p.format, &mut r)
                }
                (ValueGen::Username, _) if ep.function == Function::Login => {
                    user.map_or_else(|| values::username(&mut self.rng), |u| u.username.clone())
                }
                (ValueGen::LoginEmail, _) if ep.function == Function::Login => {
                    user.map_or_else(|| values::email(&mut self.rng), |u| u.email.clone())
                }
                (ValueGen::Password, _) if ep.function == Function::Login => user.map_or_else(
                    || p.gen.value(p.format, &mut self.rng),
                    |u| u.password.clone(),
                ),
                (ValueGen::Username, _) if ep.function == Function::Registration => {
                    format!(
                        "{}{}",
                        values::username(&mut self.rng).replace('.', "_"),
                        c.session
                    )
                }
                (ValueGen::Object(coll), _) => match self.object(coll) {
                    Some(v) => v,
                    None => p.gen.value(p.format, &mut self.rng),
                },
                _ => p.gen.value(p.format, &mut self.rng),
            };
            params.push((k, v));
        }
        Filled {
            ep: i,
            path,
            params,
        }
    }

    /// Writes a request out.
    fn render(&mut self, c: &Client, f: &Filled, at: f64) -> SimRequest {
        let ep = self.ep(f.ep);
        let path_values: Vec<String> = f.path.iter().map(|v| pct_path(v)).collect();
        let path = ep.fill(&path_values);
        let mut query = Vec::new();
        let mut form = Vec::new();
        let mut json = serde_json::Value::Object(serde_json::Map::new());
        let mut vars = serde_json::Map::new();
        let mut parts: Vec<(String, Option<String>, String)> = Vec::new();
        let mut soap = Elem::default();
        let mut headers: Vec<(String, String)> = Vec::new();
        for (k, v) in &f.params {
            let p = &ep.params[*k];
            match &p.loc {
                Loc::Query(n) => query.push(format!("{}={}", pct(n), pct(v))),
                Loc::Form(n) => form.push(format!("{}={}", pct(n), pct(v))),
                Loc::Json(path) => json_insert(&mut json, path, json_value(p.format, v)),
                Loc::Multipart(n) => parts.push((n.clone(), None, v.clone())),
                Loc::File(n) => parts.push((n.clone(), Some(v.clone()), String::new())),
                Loc::Cookie(_) => {}
                Loc::Header(n) => headers.push((n.clone(), v.clone())),
                Loc::GraphQl(n) => {
                    vars.insert(n.clone(), json_value(p.format, v));
                }
                Loc::Soap { field, .. } => {
                    let steps: Vec<&str> = field.split('/').collect();
                    soap.insert(&steps, v);
                }
            }
        }
        headers.push(("x-forwarded-for".into(), c.ip.clone()));
        headers.push(("user-agent".into(), c.agent.clone()));
        if c.browser {
            let accept = if ep.html {
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
            } else {
                "application/json, text/plain, */*"
            };
            headers.push(("accept".into(), accept.into()));
            headers.push(("accept-language".into(), c.lang.clone()));
        } else {
            headers.push(("accept".into(), "application/json".into()));
        }
        if !c.cookies.is_empty() {
            let cookie = c
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={}", pct(v)))
                .collect::<Vec<_>>()
                .join("; ");
            headers.push(("cookie".into(), cookie));
        }
        let body: Vec<u8> = match ep.body {
            BodyKind::None => Vec::new(),
            BodyKind::Form => form.join("&").into_bytes(),
            BodyKind::Json => json.to_string().into_bytes(),
            BodyKind::Multipart => {
                let boundary = format!("----simboundary{:016x}", self.rng.next_u64());
                let mut b = String::new();
                for (name, file, v) in &parts {
                    b.push_str(&format!("--{boundary}\r\n"));
                    match file {
                        Some(fname) => {
                            b.push_str(&format!(
                                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{fname}\"\r\nContent-Type: text/plain\r\n\r\n"
                            ));
                            b.push_str(&format!(
                                "id,name,amount\n1,{},{}\n2,{},{}\n",
                                values::person_name(&mut self.rng),
                                self.rng.range(1, 999),
                                values::person_name(&mut self.rng),
                                self.rng.range(1, 999)
                            ));
                        }
                        None => {
                            b.push_str(&format!(
                                "Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{v}"
                            ));
                        }
                    }
                    b.push_str("\r\n");
                }
                b.push_str(&format!("--{boundary}--\r\n"));
                headers.push((
                    "content-type".into(),
                    format!("multipart/form-data; boundary={boundary}"),
                ));
                b.into_bytes()
            }
            BodyKind::GraphQl => {
                let op = ep.operation.clone().unwrap_or_else(|| "Query".into());
                let write = !matches!(
                    ep.function,
                    Function::Search
                        | Function::ProductView
                        | Function::Profile
                        | Function::ApiRead
                        | Function::Static
                        | Function::Download
                );
                let decls: Vec<String> = ep
                    .params
                    .iter()
                    .filter_map(|p| match &p.loc {
                        Loc::GraphQl(n) if vars.contains_key(n) => {
                            Some(format!("${n}: {}", gql_type(p.format, p.required)))
                        }
                        _ => None,
                    })
                    .collect();
                let args: Vec<String> = vars.keys().map(|n| format!("{n}: ${n}")).collect();
                let field = lower_first(&op);
                let doc = format!(
                    "{} {op}{} {{ {field}{} {{ __typename }} }}",
                    if write { "mutation" } else { "query" },
                    if decls.is_empty() {
                        String::new()
                    } else {
                        format!("({})", decls.join(", "))
                    },
                    if args.is_empty() {
                        String::new()
                    } else {
                        format!("({})", args.join(", "))
                    },
                );
                serde_json::json!({ "query": doc, "operationName": op, "variables": vars })
                    .to_string()
                    .into_bytes()
            }
            BodyKind::Soap => {
                let op = ep.operation.clone().unwrap_or_else(|| "Request".into());
                soap.name = op.clone();
                soap.attrs.insert(
                    0,
                    ("xmlns".into(), format!("urn:{}:service", self.app.name)),
                );
                let mut inner = String::new();
                soap.write(&mut inner);
                headers.push((
                    "soapaction".into(),
                    format!("\"urn:{}:service#{op}\"", self.app.name),
                ));
                format!(
                    "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>{inner}</soap:Body></soap:Envelope>"
                )
                .into_bytes()
            }
        };
        if ep.body != BodyKind::Multipart {
            if let Some(ct) = ep.body.content_type() {
                headers.push(("content-type".into(), ct.into()));
            }
        }
        SimRequest {
            at: Duration::from_secs_f64(at.max(0.0)),
            method: ep.method.clone(),
            path,
            query: if query.is_empty() {
                None
            } else {
                Some(query.join("&"))
            },
            headers,
            body,
            client: c.ip.clone(),
            truth: Truth {
                endpoint: Some(f.ep),
                scenario: c.scenario,
                injected: None,
                injection: None,
                session: c.session,
            },
        }
    }

    fn emit(&mut self, c: &Client, f: &Filled, at: f64) {
        let r = self.render(c, f, at);
        if c.scenario.is_none() {
            self.injectable
                .push((self.reqs.len(), c.clone(), f.clone()));
        }
        self.reqs.push(r);
    }

    /// A request to a path the application may not have.
    fn raw(&mut self, c: &Client, method: &str, path: &str, at: f64) {
        let endpoint = match self.app.route(method, path, None) {
            Route::Found(i, _) | Route::UnknownObject(i) => Some(i),
            _ => None,
        };
        let mut headers = vec![
            ("x-forwarded-for".to_string(), c.ip.clone()),
            ("user-agent".to_string(), c.agent.clone()),
            ("accept".to_string(), "*/*".to_string()),
        ];
        if !c.cookies.is_empty() {
            let cookie = c
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={}", pct(v)))
                .collect::<Vec<_>>()
                .join("; ");
            headers.push(("cookie".into(), cookie));
        }
        self.reqs.push(SimRequest {
            at: Duration::from_secs_f64(at.max(0.0)),
            method: method.to_string(),
            path: path.to_string(),
            query: None,
            headers,
            body: Vec::new(),
            client: c.ip.clone(),
            truth: Truth {
                endpoint,
                scenario: c.scenario,
                injected: None,
                injection: None,
                session: c.session,
            },
        });
    }

    /// The sign-in endpoint a client uses (POST with a password).
    fn login_ep(&self, browser: bool) -> Option<usize> {
        let eps: Vec<usize> = self
            .app
            .with_function(Function::Login)
            .into_iter()
            .filter(|&i| {
                let e = self.ep(i);
                e.method == "POST" && e.params.iter().any(|p| p.gen == ValueGen::Password)
            })
            .collect();
        eps.iter()
            .find(|&&i| self.ep(i).html == browser)
            .or(eps.first())
            .copied()
    }

    /// Signs in (with an occasional typo first). Returns the time after.
    fn login(&mut self, c: &mut Client, mut t: f64, admin: bool) -> f64 {
        let Some(ep) = self.login_ep(c.browser) else {
            return t;
        };
        let users: Vec<usize> = (0..self.app.users.len())
            .filter(|&u| self.app.users[u].admin == admin)
            .collect();
        if users.is_empty() {
            return t;
        }
        c.user = Some(*self.rng.pick(&users));
        // The sign-in page first, for browsers.
        if c.browser {
            let page = self.app.endpoints.iter().position(|e| {
                e.function == Function::Login
                    && e.method == "GET"
                    && e.template == self.ep(ep).template
            });
            if let Some(p) = page {
                let f = self.fill(p, c);
                self.emit(c, &f, t);
                t += self.rng.think(5.0, 2.0, 20.0);
            }
        }
        if self.rng.chance(0.08) {
            let mut f = self.fill(ep, c);
            for (k, v) in &mut f.params {
                if self.ep(ep).params[*k].gen == ValueGen::Password {
                    let typo = *self.rng.pick(&["1", "!", "x", "2024"]);
                    v.push_str(typo);
                }
            }
            self.emit(c, &f, t);
            t += self.rng.think(5.0, 2.0, 15.0);
        }
        let f = self.fill(ep, c);
        self.emit(c, &f, t);
        c.logged_in = true;
        t + self.rng.think(3.0, 0.5, 10.0)
    }

    /// One normal session from `start`.
    fn session(&mut self, start: f64) {
        let has_html = self.app.endpoints.iter().any(|e| e.html);
        let browser = has_html && self.rng.chance(0.75);
        let mut c = self.client(browser, None);
        let mut t = start;
        let admin_session = self.rng.chance(0.06);
        let (median, steps) = if browser {
            (6.0, self.rng.range(3, 20))
        } else {
            (2.0, self.rng.range(5, 40))
        };
        // Landing: the home page and its assets.
        if browser {
            let home = (0..self.app.endpoints.len()).find(|&i| {
                let e = self.ep(i);
                e.method == "GET"
                    && e.html
                    && e.segments().len() <= 1
                    && e.path_params.len() == e.segments().len()
                    && matches!(e.function, Function::ProductView | Function::Static)
                    && e.params
                        .iter()
                        .all(|p| !p.required || matches!(p.loc, Loc::Cookie(_)))
            });
            if let Some(h) = home {
                let f = self.fill(h, &c);
                self.emit(&c, &f, t);
                t += 0.05;
            }
            let statics: Vec<usize> = self
                .app
                .with_function(Function::Static)
                .into_iter()
                .filter(|&i| self.ep(i).segments().len() > 1 || self.ep(i).template.contains('.'))
                .collect();
            for s in statics {
                if self.rng.chance(0.7) {
                    let f = self.fill(s, &c);
                    self.emit(&c, &f, t);
                    t += self.rng.think(0.05, 0.01, 0.3);
                }
            }
            t += self.rng.think(median, 1.0, 60.0);
        }
        if admin_session || self.rng.chance(if browser { 0.4 } else { 0.8 }) {
            t = self.login(&mut c, t, admin_session);
        }
        let mut cart = 0;
        for _ in 0..steps {
            let weights: Vec<f64> = (0..self.app.endpoints.len())
                .map(|i| {
                    let e = self.ep(i);
                    if !self.callable(i, &c) {
                        return 0.0;
                    }
                    let w = match e.function {
                        Function::ProductView => 30.0,
                        Function::Search => 14.0,
                        Function::ApiRead => 25.0,
                        Function::ApiWrite => 6.0,
                        Function::Cart => 8.0,
                        Function::Checkout if cart > 0 => 6.0,
                        Function::Profile => 4.0,
                        Function::Download => 2.0,
                        Function::Upload => 1.0,
                        Function::Static => 1.0,
                        Function::Registration if !c.logged_in => 1.0,
                        Function::PasswordReset if !c.logged_in => 0.3,
                        Function::Admin if admin_session => 60.0,
                        _ => 0.0,
                    };
                    // Browsers mostly use pages, API clients the API.
                    let fit = if e.html == browser { 1.0 } else { 0.15 };
                    // Endpoints needing a session only after signing in.
                    let auth = if e.auth && !c.logged_in { 0.3 } else { 1.0 };
                    w * fit * auth
                })
                .collect();
            if weights.iter().all(|w| *w <= 0.0) {
                break;
            }
            let i = self.rng.weighted(&weights);
            let e = self.ep(i);
            if e.auth && !c.logged_in {
                t = self.login(&mut c, t, admin_session);
                if !c.logged_in || !self.callable(i, &c) {
                    continue;
                }
            }
            // An occasional stale link.
            if self.rng.chance(0.01) {
                let p = format!("/{}", values::slug(&mut self.rng));
                self.raw(&c, "GET", &p, t);
                t += self.rng.think(median, 0.3, 60.0);
            }
            let f = self.fill(i, &c);
            self.emit(&c, &f, t);
            match e.function {
                Function::Cart if e.method != "GET" => cart += 1,
                Function::Checkout if e.method != "GET" => cart = 0,
                Function::Registration if e.method == "POST" => c.logged_in = true,
                _ => {}
            }
            t += self.rng.think(median, 0.3, 90.0);
        }
        if c.logged_in && self.rng.chance(0.3) {
            let outs = self.app.with_function(Function::Logout);
            if !outs.is_empty() {
                let o = *self.rng.pick(&outs);
                let f = self.fill(o, &c);
                self.emit(&c, &f, t);
            }
        }
    }

    fn attacker(&mut self, threat: Threat, id: u32, tool: bool) -> Client {
        let agent = if tool {
            Some(self.rng.pick(TOOLS).to_string())
        } else {
            None
        };
        let mut c = self.client(!tool, agent.as_deref());
        c.cookies.clear();
        c.scenario = Some((threat, id));
        c
    }

    /// One instance of `threat` from `start`; `None` when the application
    /// offers nothing to attack that way.
    fn attack(&mut self, threat: Threat, start: f64) -> Option<ScenarioInfo> {
        let before = self.reqs.len();
        let id = self.next_scenario;
        let mut clients = Vec::new();
        let mut t = start;
        match threat {
            Threat::BruteForce => {
                let web = self.rng.chance(0.5);
                let ep = self.login_ep(web)?;
                if self.app.users.is_empty() {
                    return None;
                }
                let tool = self.rng.chance(0.6);
                let mut c = self.attacker(threat, id, tool);
                c.user = Some(self.rng.index(self.app.users.len()));
                clients.push(c.ip.clone());
                let n = self.rng.range(60, 240);
                for _ in 0..n {
                    let mut f = self.fill(ep, &c);
                    for (k, v) in &mut f.params {
                        if self.ep(ep).params[*k].gen == ValueGen::Password {
                            *v = ValueGen::Password.value(ParamFormat::FreeText, &mut self.rng);
                        }
                    }
                    self.emit(&c, &f, t);
                    t += self.rng.think(0.8, 0.1, 3.0);
                }
            }
            Threat::CredentialStuffing => {
                let web = self.rng.chance(0.5);
                let ep = self.login_ep(web)?;
                let n = self.rng.range(15, 40);
                for _ in 0..n {
                    let tool = self.rng.chance(0.5);
                    let c = self.attacker(threat, id, tool);
                    clients.push(c.ip.clone());
                    let mut tc = start + self.rng.f64() * 45.0;
                    for _ in 0..self.rng.range(1, 4) {
                        // Leaked credentials of other sites: unknown users
                        // (c.user is None, so fill draws fresh names).
                        let f = self.fill(ep, &c);
                        self.emit(&c, &f, tc);
                        tc += self.rng.think(2.0, 0.3, 8.0);
                    }
                }
            }
            Threat::Enumeration => {
                let mut cands: Vec<(usize, usize)> = Vec::new();
                for (i, e) in self.app.endpoints.iter().enumerate() {
                    if e.method != "GET" {
                        continue;
                    }
                    for (k, p) in e.path_params.iter().enumerate() {
                        let ok = p.owner
                            || p.collection
                                .as_deref()
                                .is_some_and(|c| !self.app.objects(c).is_empty());
                        if ok && p.kind == IdKind::Int {
                            cands.push((i, k));
                        }
                    }
                }
                if cands.is_empty() {
                    return None;
                }
                let (ep, k) = cands[self.rng.index(cands.len())];
                let mut c = {
                    let tool = self.rng.chance(0.4);
                    self.attacker(threat, id, tool)
                };
                clients.push(c.ip.clone());
                if self.ep(ep).auth {
                    t = self.login(&mut c, t, false);
                }
                let first = match &self.ep(ep).path_params[k].collection {
                    Some(coll) => self
                        .app
                        .objects(coll)
                        .first()
                        .and_then(|s| s.parse::<i64>().ok())
                        .unwrap_or(1),
                    None => 1,
                };
                let id0 = first + self.rng.range(0, 20);
                let n = self.rng.range(80, 300);
                for step in 0..n {
                    let mut f = self.fill(ep, &c);
                    f.path[k] = (id0 + step).to_string();
                    self.emit(&c, &f, t);
                    t += self.rng.think(0.5, 0.05, 2.0);
                }
            }
            Threat::ForcedBrowsing => {
                let c = {
                    let tool = self.rng.chance(0.8);
                    self.attacker(threat, id, tool)
                };
                clients.push(c.ip.clone());
                let n = self.rng.range(60, 200);
                let mut paths: Vec<String> = FORCED.iter().map(|s| s.to_string()).collect();
                self.rng.shuffle(&mut paths);
                for j in 0..n as usize {
                    let p = match paths.get(j) {
                        Some(p) => p.clone(),
                        None => format!(
                            "/{}{}",
                            self.rng.pick(FORCED_WORDS),
                            self.rng.pick(FORCED_EXT)
                        ),
                    };
                    self.raw(&c, "GET", &p, t);
                    t += self.rng.think(0.3, 0.02, 1.5);
                }
            }
            Threat::Scraping => {
                let mut eps: Vec<usize> = self
                    .app
                    .with_function(Function::ProductView)
                    .into_iter()
                    .filter(|&i| {
                        self.ep(i).method == "GET"
                            && self.ep(i).path_params.iter().any(|p| {
                                p.collection
                                    .as_deref()
                                    .is_some_and(|c| !self.app.objects(c).is_empty())
                            })
                    })
                    .collect();
                if eps.is_empty() {
                    eps = self
                        .app
                        .with_function(Function::ApiRead)
                        .into_iter()
                        .filter(|&i| {
                            let e = self.ep(i);
                            e.method == "GET"
                                && !e.auth
                                && e.path_params.iter().any(|p| p.collection.is_some())
                        })
                        .collect();
                }
                if eps.is_empty() {
                    return None;
                }
                let c = {
                    let tool = self.rng.chance(0.5);
                    self.attacker(threat, id, tool)
                };
                clients.push(c.ip.clone());
                let n = self.rng.range(100, 400);
                for _ in 0..n {
                    let i = *self.rng.pick(&eps);
                    let mut f = self.fill(i, &c);
                    // Walks the catalogue uniformly, not by popularity.
                    for (k, p) in self.ep(i).path_params.iter().enumerate() {
                        if let Some(coll) = &p.collection {
                            let ids = self.app.objects(coll);
                            if !ids.is_empty() {
                                f.path[k] = ids[self.rng.index(ids.len())].clone();
                            }
                        }
                    }
                    self.emit(&c, &f, t);
                    t += self.rng.think(0.8, 0.1, 3.0);
                }
            }
            Threat::ApiAbuse => {
                let eps: Vec<usize> = (0..self.app.endpoints.len())
                    .filter(|&i| {
                        let e = self.ep(i);
                        e.method != "GET"
                            && !e.admin
                            && matches!(
                                e.function,
                                Function::ApiWrite
                                    | Function::Cart
                                    | Function::Registration
                                    | Function::PasswordReset
                            )
                            && e.path_params.iter().all(|p| {
                                p.collection
                                    .as_deref()
                                    .is_none_or(|c| !self.app.objects(c).is_empty())
                                    && !p.owner
                            })
                    })
                    .collect();
                if eps.is_empty() {
                    return None;
                }
                let ep = *self.rng.pick(&eps);
                let mut c = {
                    let tool = self.rng.chance(0.5);
                    self.attacker(threat, id, tool)
                };
                c.browser = false;
                clients.push(c.ip.clone());
                if self.ep(ep).auth {
                    t = self.login(&mut c, t, false);
                }
                let rate = self.rng.range(5, 15) as f64;
                let secs = self.rng.range(30, 90) as f64;
                let n = (rate * secs) as usize;
                for _ in 0..n {
                    let f = self.fill(ep, &c);
                    self.emit(&c, &f, t);
                    t += 1.0 / rate * (0.5 + self.rng.f64());
                }
            }
        }
        self.next_scenario += 1;
        Some(ScenarioInfo {
            threat,
            id,
            start: Duration::from_secs_f64(start),
            clients,
            requests: self.reqs.len() - before,
        })
    }

    /// Puts injected values into `n` normal requests.
    fn inject(&mut self, n: usize) -> usize {
        let mut done = 0;
        let mut order: Vec<usize> = (0..self.injectable.len()).collect();
        self.rng.shuffle(&mut order);
        for j in order {
            if done >= n {
                break;
            }
            let (idx, c, mut f) = self.injectable[j].clone();
            let ep = self.ep(f.ep);
            // Candidate points: the values sent, and path parameters.
            let mut cands: Vec<(Option<usize>, usize)> = f
                .params
                .iter()
                .enumerate()
                .filter(|(_, (k, _))| !matches!(ep.params[*k].loc, Loc::Header(_)))
                .map(|(pos, _)| (None, pos))
                .collect();
            for k in 0..f.path.len() {
                cands.push((Some(k), 0));
            }
            if cands.is_empty() {
                continue;
            }
            let kind = *self.rng.pick(&InjectionKind::ALL);
            let (point, _) = match *self.rng.pick(&cands) {
                (Some(k), _) => {
                    let p = &ep.path_params[k];
                    let format = match p.kind {
                        IdKind::Int | IdKind::Year | IdKind::Month | IdKind::Day => {
                            ParamFormat::Integer
                        }
                        IdKind::Uuid => ParamFormat::Uuid,
                        IdKind::Hex(_) => ParamFormat::Hex,
                        _ => ParamFormat::Enumeration,
                    };
                    f.path[k] = injected(kind, format, &f.path[k], &mut self.rng);
                    (format!("path[{}]", ep.segment_of(k).unwrap_or(k)), ())
                }
                (None, pos) => {
                    let (k, v) = &mut f.params[pos];
                    let p = &ep.params[*k];
                    *v = injected(kind, p.format, v, &mut self.rng);
                    (p.point.clone(), ())
                }
            };
            let at = self.reqs[idx].at.as_secs_f64();
            let mut r = self.render(&c, &f, at);
            r.truth.injected = Some(point);
            r.truth.injection = Some(kind);
            self.reqs[idx] = r;
            done += 1;
        }
        done
    }

    fn finish(
        mut self,
        normal_sessions: usize,
        scenarios: Vec<ScenarioInfo>,
        injected: usize,
    ) -> Schedule {
        self.reqs.sort_by_key(|r| r.at);
        Schedule {
            requests: self.reqs,
            scenarios,
            normal_sessions,
            injected,
        }
    }
}

/// The learning phase: `sessions` normal sessions starting anywhere in
/// `duration`.
pub fn learning_phase(app: &App, seed: u64, sessions: usize, duration: Duration) -> Schedule {
    let mut g = Gen::new(app, seed);
    let span = duration.as_secs_f64();
    for _ in 0..sessions {
        let start = g.rng.f64() * span;
        g.session(start);
    }
    g.finish(sessions, Vec::new(), 0)
}

/// The test phase: normal sessions, [`TestConfig::per_threat`] instances of
/// every threat the application can suffer, each starting at a random time
/// in the first three quarters of the phase, and injected values.
pub fn test_phase(app: &App, cfg: &TestConfig) -> Schedule {
    let mut g = Gen::new(app, cfg.seed ^ 0x7e57);
    // Session numbers of the test phase do not collide with a learning
    // phase's.
    g.next_session = 1 << 32;
    let span = cfg.duration.as_secs_f64();
    for _ in 0..cfg.sessions {
        let start = g.rng.f64() * span;
        g.session(start);
    }
    let mut scenarios = Vec::new();
    for _ in 0..cfg.per_threat {
        for &threat in Threat::ALL {
            let start = g.rng.f64() * span * 0.75;
            if let Some(s) = g.attack(threat, start) {
                scenarios.push(s);
            }
        }
    }
    let injected = g.inject(cfg.injections);
    g.finish(cfg.sessions, scenarios, injected)
}
