//! `rampart scan`: active verification from the command line (issue #8).
//!
//! Two ways to choose what to probe:
//! - the parameters of one URL (`--target URL`): every query parameter and
//!   every `--data` form field, with every class's strategy, narrowed by
//!   `--point` and `--class`;
//! - the attacks the cloud recorded (`--from-attacks`): attack events read
//!   from the cloud's database, deduplicated, and replayed against the
//!   target's base URL.
//!
//! Every probe goes through `rampart_scanner` (allowlist, non-destructive
//! guard, rate limit, request budget, sandboxed strategies). The report
//! goes to stdout (or `--output`) as text, JSON or SARIF 2.1.0; progress to
//! stderr. Exit code: 0 nothing confirmed, 1 confirmed vulnerabilities, 2
//! usage or run error (a refused scan included).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rampart_scanner::point::percent_decode;
use rampart_scanner::{
    canonical_class, class_title, curl_command, remediation, severity, ScanReport, Scanner,
    ScannerConfig, Target, Verdict,
};
use serde_json::{json, Value};

/// The report's format.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// One block per finding, for people.
    Text,
    /// The scan reports with their targets.
    Json,
    /// SARIF 2.1.0, confirmed findings only (code scanning dashboards).
    Sarif,
}

#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// The URL to scan, e.g. http://127.0.0.1:8081/search?q=shoes. Its
    /// host:port is the only host probes may go to (see --allow). The values
    /// in the URL are the parameters' harmless values.
    #[arg(long, value_name = "URL")]
    target: String,
    /// A strategy script (rhai) to run instead of the built-in strategies,
    /// for every point.
    #[arg(long, value_name = "FILE.rhai")]
    script: Option<PathBuf>,
    /// Replay the attacks the cloud recorded (see --db, --app) against the
    /// target's base URL, instead of probing the target's own parameters.
    #[arg(long)]
    from_attacks: bool,
    /// Probe only this request point (repeatable), e.g. query.id,
    /// body:form.q, path[1], header["x-api-key"], cookie.lang.
    #[arg(long = "point", value_name = "POINT")]
    points: Vec<String>,
    /// Probe only this class (repeatable): sqli, xss, traversal, cmdi, ssti,
    /// ssrf, xxe (aliases such as rce or lfi too). With --script: the class
    /// reported (default custom).
    #[arg(long = "class", value_name = "CLASS")]
    classes: Vec<String>,
    /// The request's method (default: POST with --data, else GET).
    #[arg(long, conflicts_with = "from_attacks")]
    method: Option<String>,
    /// A form body (application/x-www-form-urlencoded), e.g.
    /// 'user=bob&q=shoes': its fields are probed too.
    #[arg(long, value_name = "FORM", conflicts_with = "from_attacks")]
    data: Option<String>,
    /// The attack payload seen, as a hint for the strategies (e.g. `1'`
    /// tells the SQL injection strategy to try the quoted context first).
    #[arg(long, conflicts_with = "from_attacks")]
    payload: Option<String>,
    /// Allow probes to another host too (repeatable): HOST or HOST:PORT.
    #[arg(long = "allow", value_name = "HOST[:PORT]")]
    allow: Vec<String>,
    /// A test account's header, sent with every probe (repeatable), e.g.
    /// 'Cookie: session=...'. Without one, credential headers are never sent.
    /// Values are redacted in the report.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Requests per second to the target at most (default 5).
    #[arg(long, value_name = "N")]
    rate: Option<f64>,
    /// Requests per scan (one point, one class) at most (default 60).
    #[arg(long, value_name = "N")]
    max_requests: Option<u32>,
    /// Timeout of one request, in milliseconds (default 10000).
    #[arg(long, value_name = "MS")]
    timeout_ms: Option<u64>,
    /// A folder of strategies: CLASS.rhai there replaces the built-in
    /// strategy of that class; other CLASS.rhai files add classes.
    #[arg(long, value_name = "DIR")]
    strategies: Option<PathBuf>,
    /// Where the scanner's out-of-band listener (SSRF and XXE callbacks)
    /// listens (default 127.0.0.1 on a free port).
    #[arg(long, value_name = "ADDR")]
    oob_listen: Option<String>,
    /// The base URL the target reaches that listener at, when the target
    /// is not on this host (e.g. `http://scanner.internal:8099`).
    #[arg(long, value_name = "URL")]
    oob_url: Option<String>,
    /// With --from-attacks: the cloud's database, sqlite://PATH?mode=rwc or
    /// postgres://... (default: the cloud's SQLite file under data/cloud, as
    /// `rampart cloud` and `rampart up` use).
    #[arg(
        long,
        value_name = "URL",
        env = "RAMPART_DATABASE",
        hide_env_values = true
    )]
    db: Option<String>,
    /// With --from-attacks: the application whose attacks to replay
    /// (default: the only application in the database).
    #[arg(long, value_name = "NAME", requires = "from_attacks")]
    app: Option<String>,
    /// With --from-attacks: attack events read at most, the most recent
    /// first.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    limit: u64,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Write the report to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Runs `rampart scan`; returns the exit code (0 nothing confirmed, 1
/// confirmed vulnerabilities, 2 usage or run error). Errors are printed
/// here, so that they exit with 2 too.
pub async fn run(args: ScanArgs) -> Result<i32> {
    match scan(args).await {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("rampart scan: error: {e:#}");
            Ok(2)
        }
    }
}

/// One scan to run: a target for the scanner and how to name it.
#[derive(Debug, Clone)]
struct Job {
    target: Target,
    /// `sqli query.category` (parameters) or `xss GET /a query.q` (attacks).
    label: String,
    /// The attack events the job stands for (with --from-attacks).
    attack: Option<AttackInfo>,
}

#[derive(Debug, Clone)]
struct AttackInfo {
    /// `METHOD /shape` as recorded.
    endpoints: BTreeSet<String>,
    /// The points as recorded.
    points: BTreeSet<String>,
    events: usize,
    rules: BTreeSet<String>,
    last_seen: String,
}

/// What the command scanned, for the report's header.
#[derive(Debug)]
struct ScanContext {
    target: String,
    mode: &'static str,
    allow: Vec<String>,
    /// Notes on what was left out (events without a strategy, ...).
    notes: Vec<String>,
    /// Attack events that could not be scanned (not counting those the
    /// user's --class/--point left out).
    unscannable: usize,
}

async fn scan(args: ScanArgs) -> Result<i32> {
    let url = TargetUrl::parse(&args.target)?;
    let script = match &args.script {
        Some(p) => {
            let src = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the script {}", p.display()))?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string());
            Some((name, src))
        }
        None => None,
    };
    let mut allow = vec![rampart_scanner::allow_entry_of(&url.full())?];
    allow.extend(args.allow.iter().cloned());
    let defaults = ScannerConfig::default();
    let cfg = ScannerConfig {
        allow: allow.clone(),
        rate_limit: args.rate.unwrap_or(defaults.rate_limit),
        max_requests: args.max_requests.unwrap_or(defaults.max_requests),
        request_timeout_ms: args.timeout_ms.unwrap_or(defaults.request_timeout_ms),
        test_credentials: credentials(&args.headers)?,
        strategies_dir: args.strategies.clone(),
        oob_listen: args
            .oob_listen
            .clone()
            .unwrap_or(defaults.oob_listen.clone()),
        oob_public_url: args.oob_url.clone(),
        ..defaults
    };
    cfg.validate().context("scanner settings")?;
    if let Some(dir) = &cfg.strategies_dir {
        if !dir.is_dir() {
            bail!("--strategies {}: not a folder", dir.display());
        }
    }
    let scanner = Scanner::new(cfg)
        .await
        .context("cannot start the scanner")?;
    if !scanner.is_allowed(&url.full()) {
        bail!("target not allowlisted: {}", url.full());
    }
    for c in &args.classes {
        if script.is_none() && !scanner.has_strategy(c) {
            bail!(
                "no strategy for class `{c}` (built in: {}; or give --strategies DIR with {c}.rhai, or --script)",
                rampart_scanner::builtin_classes().join(", ")
            );
        }
    }
    for p in &args.points {
        rampart_scanner::parse_point(p).with_context(|| format!("--point {p}"))?;
    }
    let mut ctx = ScanContext {
        target: args.target.clone(),
        mode: if args.from_attacks {
            "attacks"
        } else {
            "parameters"
        },
        allow,
        notes: Vec::new(),
        unscannable: 0,
    };
    let jobs = if args.from_attacks {
        attack_jobs(&args, &url, &scanner, script.is_some(), &mut ctx).await?
    } else {
        parameter_jobs(&args, &url, &scanner, script.is_some())?
    };
    for n in &ctx.notes {
        eprintln!("rampart scan: {}", clean(n));
    }

    let mut progress = Progress::new(jobs.len());
    let mut results: Vec<(Job, ScanReport)> = Vec::with_capacity(jobs.len());
    for (i, job) in jobs.into_iter().enumerate() {
        progress.start(i + 1, &job.label);
        let report = match &script {
            Some((name, src)) => scanner.scan_with_script(&job.target, name, src).await,
            None => scanner.scan(&job.target).await,
        };
        progress.done(i + 1, &job.label, &report);
        results.push((job, report));
    }
    progress.finish();

    let out = match args.format {
        ReportFormat::Text => text_report(&ctx, &results),
        ReportFormat::Json => serde_json::to_string_pretty(&json_report(&ctx, &results))? + "\n",
        ReportFormat::Sarif => serde_json::to_string_pretty(&sarif_report(&results))? + "\n",
    };
    match &args.output {
        Some(p) => std::fs::write(p, out.as_bytes())
            .with_context(|| format!("cannot write {}", p.display()))?,
        None => {
            let mut so = std::io::stdout().lock();
            so.write_all(out.as_bytes())
                .and_then(|()| so.flush())
                .context("cannot write the report")?;
        }
    }
    if results.is_empty() && ctx.unscannable > 0 {
        eprintln!(
            "rampart scan: error: none of the {} attack event(s) could be scanned (see the notes above)",
            ctx.unscannable
        );
        return Ok(2);
    }
    Ok(exit_code(&results))
}

/// 2 when a scan was refused or none reached a verdict, 1 when a
/// vulnerability was confirmed, else 0. Errors are explained on stderr.
fn exit_code(results: &[(Job, ScanReport)]) -> i32 {
    let refused: Vec<&ScanReport> = results
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r.verdict == Verdict::Refused)
        .collect();
    if let Some(first) = refused.first() {
        eprintln!(
            "rampart scan: error: {} scan(s) refused by the scanner's safety checks (a refused request is never sent): {}",
            refused.len(),
            clean(first.error.as_deref().unwrap_or(&first.summary))
        );
        return 2;
    }
    let concluded = results
        .iter()
        .any(|(_, r)| matches!(r.verdict, Verdict::Confirmed | Verdict::NotConfirmed));
    if !results.is_empty() && !concluded {
        let why = results
            .first()
            .map(|(_, r)| r.error.clone().unwrap_or_else(|| r.summary.clone()))
            .unwrap_or_default();
        eprintln!(
            "rampart scan: error: no scan reached a verdict (all inconclusive): {}",
            clean(&why)
        );
        return 2;
    }
    if results.iter().any(|(_, r)| r.verdict == Verdict::Confirmed) {
        1
    } else {
        0
    }
}

/// `--header 'Name: value'` lines as the scanner's test credentials.
fn credentials(headers: &[String]) -> Result<Option<BTreeMap<String, String>>> {
    if headers.is_empty() {
        return Ok(None);
    }
    let mut m = BTreeMap::new();
    for h in headers {
        let Some((k, v)) = h.split_once(':') else {
            bail!("--header {h:?}: expected 'Name: value'");
        };
        let k = k.trim();
        if k.is_empty() {
            bail!("--header {h:?}: empty header name");
        }
        m.insert(k.to_string(), v.trim().to_string());
    }
    Ok(Some(m))
}

// ---------------------------------------------------------------- the URL

/// The target URL, split (no URL crate: the scanner parses what it sends).
#[derive(Debug, Clone, PartialEq, Eq)]
struct TargetUrl {
    /// `http` or `https`.
    scheme: String,
    /// `host`, `host:port`, `[v6]:port`.
    authority: String,
    /// Starts with `/`.
    path: String,
    /// Raw query, without `?`.
    query: Option<String>,
}

impl TargetUrl {
    fn parse(s: &str) -> Result<TargetUrl> {
        let s = s.trim();
        let Some((scheme, rest)) = s.split_once("://") else {
            bail!("--target {s:?}: expected an http:// or https:// URL");
        };
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            bail!("--target {s:?}: only http and https targets can be scanned");
        }
        let rest = rest.split_once('#').map_or(rest, |(a, _)| a);
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..end];
        let tail = &rest[end..];
        if authority.is_empty() {
            bail!("--target {s:?}: no host");
        }
        if authority.contains('@') {
            bail!("--target {s:?}: credentials in the URL are not sent; give a test account with --header");
        }
        if authority
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
            || tail.chars().any(char::is_control)
        {
            bail!("--target {s:?}: spaces or control characters in the URL");
        }
        let (path, query) = match tail.split_once('?') {
            Some((p, q)) => (p, Some(q.to_string())),
            None => (tail, None),
        };
        let path = if path.is_empty() { "/" } else { path };
        Ok(TargetUrl {
            scheme,
            authority: authority.to_string(),
            path: path.to_string(),
            query,
        })
    }

    /// `scheme://authority`.
    fn base(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }

    /// The path with its query string, as the scanner's `Target.path`.
    fn path_and_query(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }

    fn full(&self) -> String {
        format!("{}{}", self.base(), self.path_and_query())
    }

    /// Query parameters, decoded (`+` as a space), in order.
    fn query_pairs(&self) -> Vec<(String, String)> {
        self.query.as_deref().map(form_pairs).unwrap_or_default()
    }

    /// Percent-decoded path segments (`/a/b` -> `a`, `b`).
    fn segments(&self) -> Vec<String> {
        let p = self.path.strip_prefix('/').unwrap_or(&self.path);
        let p = p.strip_suffix('/').unwrap_or(p);
        if p.is_empty() {
            return Vec::new();
        }
        p.split('/').map(|s| percent_decode(s, false)).collect()
    }
}

/// `a=1&b=2` decoded (`+` as a space); a key without `=` has an empty value.
fn form_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (percent_decode(k, true), percent_decode(v, true)),
            None => (percent_decode(kv, true), String::new()),
        })
        .collect()
}

/// The request point of a query or form key (`source` is `query` or
/// `body:form`): `q` -> `query.q`, `u[name]` -> `query.u.name`, `user-id`
/// -> `query["user-id"]`. `None` for array keys (`x[]`, `x[0]`), which the
/// scanner does not replay.
fn key_point(source: &str, key: &str) -> Option<String> {
    let members = match key.find('[') {
        Some(i) if i > 0 && key.ends_with(']') => {
            let mut members = vec![key[..i].to_string()];
            let mut rest = &key[i..];
            let mut ok = true;
            while !rest.is_empty() {
                let Some(inner) = rest.strip_prefix('[') else {
                    ok = false;
                    break;
                };
                let Some(close) = inner.find(']') else {
                    ok = false;
                    break;
                };
                let m = &inner[..close];
                if m.is_empty() || m.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                if m.contains('[') {
                    ok = false;
                    break;
                }
                members.push(m.to_string());
                rest = &inner[close + 1..];
            }
            if ok {
                members
            } else {
                vec![key.to_string()]
            }
        }
        _ => vec![key.to_string()],
    };
    let mut out = source.to_string();
    for m in &members {
        push_member(&mut out, m);
    }
    Some(out)
}

/// Appends `.name` (an identifier) or `["name"]` (anything else, escaped as
/// spec/request-points.md says).
fn push_member(out: &mut String, m: &str) {
    let ident = m
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident {
        out.push('.');
        out.push_str(m);
        return;
    }
    out.push_str("[\"");
    for c in m.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push_str("\"]");
}

// ---------------------------------------------------------------- the jobs

/// The classes to probe: `--class`, else (with a script) `custom`, else the
/// built-in classes and those of `--strategies`. Deduplicated by canonical
/// name, the first spelling kept.
fn classes(args: &ScanArgs, scanner: &Scanner, script: bool) -> Result<Vec<String>> {
    let mut list: Vec<String> = if !args.classes.is_empty() {
        args.classes.clone()
    } else if script {
        vec!["custom".to_string()]
    } else {
        let mut l: Vec<String> = rampart_scanner::builtin_classes()
            .into_iter()
            .map(String::from)
            .collect();
        if let Some(dir) = &scanner.config().strategies_dir {
            l.extend(user_classes(dir)?);
        }
        l
    };
    let mut seen = BTreeSet::new();
    list.retain(|c| seen.insert(canonical_class(c)));
    Ok(list)
}

/// `CLASS` of every `CLASS.rhai` in a strategies folder, sorted.
fn user_classes(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let rd = std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for e in rd {
        let e = e.with_context(|| format!("cannot read {}", dir.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".rhai") {
            if !stem.is_empty()
                && stem
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                out.push(stem.to_string());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Every point of the target URL (and `--data`) with every class.
fn parameter_jobs(
    args: &ScanArgs,
    url: &TargetUrl,
    scanner: &Scanner,
    script: bool,
) -> Result<Vec<Job>> {
    let method = match &args.method {
        Some(m) => m.trim().to_ascii_uppercase(),
        None if args.data.is_some() => "POST".to_string(),
        None => "GET".to_string(),
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        bail!("--method {method:?}: not an HTTP method");
    }
    let methods = &scanner.config().methods;
    if !methods.iter().any(|m| m.eq_ignore_ascii_case(&method)) {
        bail!(
            "method {method} is not scanned (only {}): replaying PUT, PATCH or DELETE changes state by itself",
            methods.join(", ")
        );
    }
    let form = args.data.as_deref().map(form_pairs).unwrap_or_default();
    // Points the request carries, with their values, in order.
    let mut known: Vec<(String, String)> = Vec::new();
    let mut skipped = Vec::new();
    for (source, pairs) in [("query", url.query_pairs()), ("body:form", form.clone())] {
        for (k, v) in pairs {
            match key_point(source, &k) {
                Some(p) if !known.iter().any(|(q, _)| *q == p) => known.push((p, v)),
                Some(_) => {}
                None => skipped.push(k),
            }
        }
    }
    if !skipped.is_empty() && args.points.is_empty() {
        eprintln!(
            "rampart scan: array parameters are not probed: {}",
            clean(&skipped.join(", "))
        );
    }
    let points: Vec<(String, Option<String>)> = if args.points.is_empty() {
        known.into_iter().map(|(p, v)| (p, Some(v))).collect()
    } else {
        let segments = url.segments();
        args.points
            .iter()
            .map(|p| {
                let v = known
                    .iter()
                    .find(|(q, _)| q == p)
                    .map(|(_, v)| v.clone())
                    .or_else(|| match rampart_scanner::parse_point(p) {
                        Ok(rampart_scanner::Point::PathSegment(n)) => segments.get(n).cloned(),
                        _ => None,
                    });
                (p.clone(), v)
            })
            .collect()
    };
    if points.is_empty() {
        bail!(
            "nothing to probe: {} has no query parameter and no --data field; name points with --point",
            url.full()
        );
    }
    let classes = classes(args, scanner, script)?;
    let mut jobs = Vec::new();
    for (point, original) in &points {
        for class in &classes {
            let mut t = Target::new(
                url.base(),
                method.clone(),
                url.path_and_query(),
                point.clone(),
                args.payload.clone().unwrap_or_default(),
                class.clone(),
            );
            if let Some(o) = original {
                t = t.with_original(o.clone());
            }
            for (k, v) in &form {
                if let Some(p) = key_point("body:form", k) {
                    t = t.with_param(p, v.clone());
                }
            }
            jobs.push(Job {
                label: format!("{class} {point}"),
                target: t,
                attack: None,
            });
        }
    }
    Ok(jobs)
}

/// The attack events of the cloud's database as jobs against the target's
/// base URL. When the target names a path, only the events of endpoints
/// whose shape that path fits are kept, and they are probed at that URL.
async fn attack_jobs(
    args: &ScanArgs,
    url: &TargetUrl,
    scanner: &Scanner,
    script: bool,
    ctx: &mut ScanContext,
) -> Result<Vec<Job>> {
    let db_url = match &args.db {
        Some(u) => u.clone(),
        None => rampart_cloud::CloudConfig::default().database_url(),
    };
    if let Some(path) = sqlite_file(&db_url) {
        if !Path::new(&path).is_file() {
            bail!(
                "no cloud database at {path}: give the cloud's database with --db URL (`rampart demo` keeps it in data/demo/cloud/cloud.sqlite)"
            );
        }
    }
    let store = rampart_store::Store::connect(&db_url)
        .await
        .with_context(|| {
            format!(
                "cannot open the cloud database {}",
                rampart_store::redact_url(&db_url)
            )
        })?;
    let events = read_events(&store, args).await;
    let _ = store.close().await;
    let (app, events) = events?;
    let total = events.len();
    let resolver = Resolver::new(url);
    let methods = scanner.config().methods.clone();
    let classes: BTreeSet<String> = args.classes.iter().map(|c| canonical_class(c)).collect();
    let points: BTreeSet<&str> = args.points.iter().map(String::as_str).collect();

    // (method, path, point, canonical class) -> the job; the payload of the
    // most recent event (events come newest first).
    let mut groups: BTreeMap<(String, String, String, String), (Target, AttackInfo)> =
        BTreeMap::new();
    let mut left_out = LeftOut::default();
    for ev in events {
        let (method, shape) = match ev.endpoint.trim().split_once(' ') {
            Some((m, s)) => (m.trim().to_ascii_uppercase(), s.trim().to_string()),
            None => ("GET".to_string(), ev.endpoint.trim().to_string()),
        };
        let shape = if shape.starts_with('/') {
            shape
        } else {
            format!("/{shape}")
        };
        let canonical = canonical_class(&ev.class);
        if !classes.is_empty() && !classes.contains(&canonical) {
            left_out.filtered += 1;
            continue;
        }
        if !script && !scanner.has_strategy(&ev.class) {
            *left_out.no_strategy.entry(ev.class.clone()).or_default() += 1;
            continue;
        }
        if !methods.iter().any(|m| m.eq_ignore_ascii_case(&method)) {
            *left_out.bad_method.entry(method).or_default() += 1;
            continue;
        }
        let Some((path, guessed)) = resolver.path(&shape) else {
            left_out.other_endpoint += 1;
            continue;
        };
        let Some((point, original)) = resolver.point(&ev.point, &canonical) else {
            *left_out
                .unresolved_point
                .entry(ev.point.clone())
                .or_default() += 1;
            continue;
        };
        if !points.is_empty()
            && !points.contains(point.as_str())
            && !points.contains(ev.point.as_str())
        {
            left_out.filtered += 1;
            continue;
        }
        if guessed {
            left_out.guessed_words += 1;
        }
        let endpoint = format!("{method} {shape}");
        let when = ev.occurred_at.to_rfc3339();
        let key = (method.clone(), path.clone(), point.clone(), canonical);
        let entry = groups.entry(key).or_insert_with(|| {
            let payload = if ev.payload == "[masked]" {
                String::new()
            } else {
                ev.payload.clone()
            };
            let mut t = Target::new(
                url.base(),
                method.clone(),
                path,
                point,
                payload,
                ev.class.clone(),
            );
            t.original = original;
            (
                t,
                AttackInfo {
                    endpoints: BTreeSet::new(),
                    points: BTreeSet::new(),
                    events: 0,
                    rules: BTreeSet::new(),
                    last_seen: when,
                },
            )
        });
        entry.1.events += 1;
        entry.1.endpoints.insert(endpoint);
        entry.1.points.insert(ev.point.clone());
        if !ev.rule.is_empty() {
            entry.1.rules.insert(ev.rule.clone());
        }
    }
    ctx.notes.push(format!(
        "{total} attack event(s) of application {app}, {} scan(s) after deduplication",
        groups.len()
    ));
    ctx.notes.extend(left_out.notes(url));
    if groups.is_empty() {
        ctx.unscannable = total - left_out.filtered;
    }
    Ok(groups
        .into_values()
        .map(|(target, info)| Job {
            label: format!(
                "{} {} {} {}",
                target.class, target.method, target.path, target.point
            ),
            target,
            attack: Some(info),
        })
        .collect())
}

/// Events not scanned, and why.
#[derive(Debug, Default)]
struct LeftOut {
    filtered: usize,
    no_strategy: BTreeMap<String, usize>,
    bad_method: BTreeMap<String, usize>,
    other_endpoint: usize,
    unresolved_point: BTreeMap<String, usize>,
    guessed_words: usize,
}

impl LeftOut {
    fn notes(&self, url: &TargetUrl) -> Vec<String> {
        let list = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(k, n)| format!("{k} ({n})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = Vec::new();
        if self.filtered > 0 {
            out.push(format!(
                "{} event(s) left out by --class/--point",
                self.filtered
            ));
        }
        if !self.no_strategy.is_empty() {
            out.push(format!(
                "not scanned, no strategy for the class: {}",
                list(&self.no_strategy)
            ));
        }
        if !self.bad_method.is_empty() {
            out.push(format!(
                "not scanned, method not replayed (state-changing): {}",
                list(&self.bad_method)
            ));
        }
        if self.other_endpoint > 0 {
            out.push(format!(
                "{} event(s) of endpoints whose shape the target path {} does not fit",
                self.other_endpoint, url.path
            ));
        }
        if !self.unresolved_point.is_empty() {
            out.push(format!(
                "not scanned, points the node shaped (names it had not seen from enough clients) that the target URL does not name: {}; give the endpoint's URL with its parameters as --target",
                list(&self.unresolved_point)
            ));
        }
        if self.guessed_words > 0 {
            out.push(format!(
                "{} event(s) on paths with `{{word}}` segments the node did not name: probed with a guessed word; give the endpoint's URL as --target",
                self.guessed_words
            ));
        }
        out
    }
}

/// Turns the node's shapes back into concrete requests: path shapes
/// (`/products/{int}`) and shaped points (`query.{word}`, `[*]`), with the
/// help of the target URL when it names a path and parameters.
#[derive(Debug)]
struct Resolver {
    /// The target's decoded path segments, when it names a path.
    segments: Option<Vec<String>>,
    path_and_query: String,
    /// The target's query points and their values.
    known: Vec<(String, String)>,
}

impl Resolver {
    fn new(url: &TargetUrl) -> Resolver {
        let segments = (url.path != "/").then(|| url.segments());
        let known = url
            .query_pairs()
            .into_iter()
            .filter_map(|(k, v)| key_point("query", &k).map(|p| (p, v)))
            .collect();
        Resolver {
            segments,
            path_and_query: url.path_and_query(),
            known,
        }
    }

    /// The concrete path (with the target's query when the target names
    /// the path) and whether a `{word}` was guessed; `None` when the target
    /// names another path.
    fn path(&self, shape: &str) -> Option<(String, bool)> {
        match &self.segments {
            Some(segs) => {
                let s = shape.strip_prefix('/').unwrap_or(shape);
                let s = s.strip_suffix('/').unwrap_or(s);
                let shaped: Vec<&str> = if s.is_empty() {
                    Vec::new()
                } else {
                    s.split('/').collect()
                };
                let fits = shaped.len() == segs.len()
                    && shaped.iter().zip(segs).all(|(a, b)| name_fits(a, b));
                fits.then(|| (self.path_and_query.clone(), false))
            }
            None => Some((
                rampart_cloud::concrete_path(shape),
                shape.contains("{word}"),
            )),
        }
    }

    /// The concrete point and its harmless value (from the target URL);
    /// `None` when a shaped name cannot be resolved.
    fn point(&self, point: &str, canonical: &str) -> Option<(String, Option<String>)> {
        let point = replayable_point(point, canonical);
        if let Some((p, v)) = self
            .known
            .iter()
            .find(|(k, _)| *k == point || point_fits(&point, k))
        {
            return Some((p.clone(), Some(v.clone())));
        }
        let (_, toks) = lex_point(&point)?;
        if toks
            .iter()
            .any(|t| matches!(t, PointTok::Member(m) if is_placeholder(m)))
        {
            return None;
        }
        // Positions the node did not keep (`[*]`): the first one.
        Some((point.replace("[*]", "[0]"), None))
    }
}

/// A point the scanner can replay: a layer inside a value (`query.q:xml.a`,
/// `query.q:base64`) is probed at the value that holds it (`query.q`);
/// source layers (`body:json.a`) are kept, and so are XML bodies for XXE.
fn replayable_point(point: &str, canonical: &str) -> String {
    if canonical == "xxe" && point.starts_with("body:xml") {
        return point.to_string();
    }
    let Some((source, toks)) = lex_point(point) else {
        return point.to_string();
    };
    let mut out = source;
    let mut in_value = false;
    for t in &toks {
        match t {
            PointTok::Layer(_) if in_value => break,
            PointTok::Layer(_) => {}
            _ => in_value = true,
        }
        out.push_str(&t.render());
    }
    out
}

/// One step of a point (spec/request-points.md section 1), names kept as
/// written (placeholders such as `{word}` included).
#[derive(Debug, Clone, PartialEq, Eq)]
enum PointTok {
    Member(String),
    /// Digits or `*`.
    Index(String),
    Layer(String),
}

impl PointTok {
    fn render(&self) -> String {
        match self {
            PointTok::Member(m) => {
                let mut s = String::new();
                if is_placeholder(m) {
                    s.push('.');
                    s.push_str(m);
                } else {
                    push_member(&mut s, m);
                }
                s
            }
            PointTok::Index(i) => format!("[{i}]"),
            PointTok::Layer(l) => format!(":{l}"),
        }
    }
}

/// Splits a point into its source and steps; `None` when malformed.
fn lex_point(point: &str) -> Option<(String, Vec<PointTok>)> {
    let chars: Vec<char> = point.chars().collect();
    let mut i = 0;
    let mut source = String::new();
    while i < chars.len() && chars[i].is_ascii_alphabetic() {
        source.push(chars[i]);
        i += 1;
    }
    if source.is_empty() {
        return None;
    }
    let name = |i: &mut usize| {
        let mut s = String::new();
        while *i < chars.len() && !matches!(chars[*i], '.' | ':' | '[') {
            s.push(chars[*i]);
            *i += 1;
        }
        s
    };
    let mut toks = Vec::new();
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                toks.push(PointTok::Member(name(&mut i)));
            }
            ':' => {
                i += 1;
                toks.push(PointTok::Layer(name(&mut i)));
            }
            '[' => {
                i += 1;
                if chars.get(i) == Some(&'"') {
                    i += 1;
                    let mut s = String::new();
                    loop {
                        let c = *chars.get(i)?;
                        i += 1;
                        match c {
                            '"' => break,
                            '\\' => {
                                let e = *chars.get(i)?;
                                i += 1;
                                if e == 'x' {
                                    let hex: String = chars.iter().skip(i).take(2).collect();
                                    let b = u8::from_str_radix(&hex, 16).ok()?;
                                    i += 2;
                                    s.push(char::from(b));
                                } else {
                                    s.push(e);
                                }
                            }
                            c => s.push(c),
                        }
                    }
                    if chars.get(i) != Some(&']') {
                        return None;
                    }
                    i += 1;
                    toks.push(PointTok::Member(s));
                } else {
                    let mut n = String::new();
                    while i < chars.len() && chars[i] != ']' {
                        n.push(chars[i]);
                        i += 1;
                    }
                    if chars.get(i) != Some(&']') || n.is_empty() {
                        return None;
                    }
                    i += 1;
                    toks.push(PointTok::Index(n));
                }
            }
            _ => return None,
        }
    }
    Some((source, toks))
}

fn is_placeholder(s: &str) -> bool {
    s.len() > 2 && s.starts_with('{') && s.ends_with('}')
}

/// The placeholder the node reports for a segment or name it has not
/// admitted as a word.
fn placeholder_of(s: &str) -> &'static str {
    match rampart_telemetry::shape::segment_kind(s.as_bytes()) {
        rampart_telemetry::shape::SegmentKind::Word => "{word}",
        rampart_telemetry::shape::SegmentKind::Data(f) => f.placeholder(),
    }
}

/// True when a shaped segment or name (`orders`, `{int}`) fits a concrete
/// one.
fn name_fits(shaped: &str, concrete: &str) -> bool {
    shaped == concrete || (is_placeholder(shaped) && placeholder_of(concrete) == shaped)
}

/// True when a shaped point (`query.{word}`, `body:json.items[*].id`) fits
/// a concrete one.
fn point_fits(shaped: &str, concrete: &str) -> bool {
    let (Some((s1, t1)), Some((s2, t2))) = (lex_point(shaped), lex_point(concrete)) else {
        return false;
    };
    s1 == s2
        && t1.len() == t2.len()
        && t1.iter().zip(&t2).all(|(a, b)| match (a, b) {
            (PointTok::Member(a), PointTok::Member(b)) => name_fits(a, b),
            (PointTok::Index(a), PointTok::Index(b)) => a == "*" || a == b,
            (PointTok::Layer(a), PointTok::Layer(b)) => a == b,
            _ => false,
        })
}

/// The application and its attack events (newest first).
async fn read_events(
    store: &rampart_store::Store,
    args: &ScanArgs,
) -> Result<(String, Vec<rampart_store::entity::attack_event::Model>)> {
    if store.schema_version().await? == 0 {
        bail!("the database holds no Rampart cloud schema");
    }
    let app = match &args.app {
        Some(name) => store
            .application_by_name(name)
            .await?
            .with_context(|| format!("no application named {name:?} in the cloud database"))?,
        None => {
            let mut apps = store.list_applications().await?;
            match apps.len() {
                0 => bail!("the cloud database has no application"),
                1 => apps.remove(0),
                _ => {
                    let names: Vec<String> = apps.iter().map(|a| a.name.clone()).collect();
                    bail!(
                        "the cloud database has several applications ({}): choose one with --app",
                        names.join(", ")
                    )
                }
            }
        }
    };
    let events = store.list_attack_events(app.id, None, args.limit).await?;
    Ok((app.name, events))
}

/// The file of a `sqlite:` URL (not for in-memory databases).
fn sqlite_file(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite:")?;
    if url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split_once('?').map_or(rest, |(p, _)| p);
    (!path.is_empty()).then(|| path.to_string())
}

// ---------------------------------------------------------------- progress

/// Progress on stderr: one updating line on a terminal, plain lines
/// otherwise.
struct Progress {
    tty: bool,
    total: usize,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            tty: std::io::stderr().is_terminal(),
            total,
        }
    }

    fn start(&mut self, i: usize, label: &str) {
        if self.tty {
            let line = fit(&format!("[{i}/{}] {} ...", self.total, clean(label)));
            let mut e = std::io::stderr().lock();
            let _ = write!(e, "\r{line}\x1b[K");
            let _ = e.flush();
        }
    }

    fn done(&mut self, i: usize, label: &str, r: &ScanReport) {
        let line = format!(
            "[{i}/{}] {} ... {} ({})",
            self.total,
            clean(label),
            verdict_words(r.verdict),
            requests(r.requests_sent)
        );
        let mut e = std::io::stderr().lock();
        if self.tty {
            let _ = write!(e, "\r{}\x1b[K", fit(&line));
            let _ = e.flush();
        } else {
            let _ = writeln!(e, "{line}");
        }
    }

    fn finish(&self) {
        if self.tty && self.total > 0 {
            eprintln!();
        }
    }
}

/// A progress line cut to the terminal's width (`COLUMNS`, else 80), so
/// that `\r` rewrites it in place: the label is shortened, the verdict kept.
fn fit(line: &str) -> String {
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|w| *w >= 20)
        .unwrap_or(80);
    fit_to(line, width - 1)
}

fn fit_to(line: &str, width: usize) -> String {
    let n = line.chars().count();
    if n <= width {
        return line.to_string();
    }
    // Keep the head (`[i/n] class`) and the tail (`... verdict (N requests)`).
    let tail_len = line.find(" ...").map_or(0, |i| line[i..].chars().count());
    let head_len = width.saturating_sub(tail_len + 1);
    if head_len < 10 {
        return line.chars().take(width).collect();
    }
    let head: String = line.chars().take(head_len).collect();
    let tail: String = line.chars().skip(n - tail_len).collect();
    format!("{head}~{tail}")
}

/// `1 request`, `6 requests`.
fn requests(n: u32) -> String {
    format!("{n} request{}", if n == 1 { "" } else { "s" })
}

fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::Confirmed => "confirmed",
        Verdict::NotConfirmed => "not confirmed",
        Verdict::Inconclusive => "inconclusive",
        Verdict::Refused => "refused",
    }
}

/// Text safe for a terminal: control characters (but newlines and tabs)
/// written `\xNN`, so that a response cannot drive the terminal.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            for b in c.to_string().bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------- reports

fn full_url(t: &Target) -> String {
    format!("{}{}", t.base.trim_end_matches('/'), t.path)
}

/// Words wrapped at `width` columns, each line after the first indented.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = 0usize;
    for w in text.split_whitespace() {
        if line > 0 && line + 1 + w.chars().count() > width {
            out.push('\n');
            out.push_str(indent);
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(w);
        line += w.chars().count();
    }
    out
}

/// Lines of `s`, at most `max_lines`, each cut at `max_chars`.
fn excerpt_lines(s: &str, max_lines: usize, max_chars: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let lines: Vec<&str> = s.lines().collect();
    for l in lines.iter().take(max_lines) {
        let l = l.trim_end();
        if l.chars().count() > max_chars {
            let cut: String = l.chars().take(max_chars).collect();
            out.push(format!("{cut}..."));
        } else {
            out.push(l.to_string());
        }
    }
    if lines.len() > max_lines {
        out.push(format!("... ({} more lines)", lines.len() - max_lines));
    }
    out
}

#[derive(Debug, Default)]
struct Counts {
    confirmed: usize,
    not_confirmed: usize,
    inconclusive: usize,
    refused: usize,
    requests: u64,
}

fn counts(results: &[(Job, ScanReport)]) -> Counts {
    let mut c = Counts::default();
    for (_, r) in results {
        match r.verdict {
            Verdict::Confirmed => c.confirmed += 1,
            Verdict::NotConfirmed => c.not_confirmed += 1,
            Verdict::Inconclusive => c.inconclusive += 1,
            Verdict::Refused => c.refused += 1,
        }
        c.requests += u64::from(r.requests_sent);
    }
    c
}

fn text_report(ctx: &ScanContext, results: &[(Job, ScanReport)]) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "rampart scan of {} ({}): {} scan(s), allowlist {}",
        clean(&ctx.target),
        ctx.mode,
        results.len(),
        clean(&ctx.allow.join(", "))
    );
    for n in &ctx.notes {
        let _ = writeln!(o, "  note: {}", clean(n));
    }
    // Confirmed findings first, in full; then one line per other scan.
    for (job, r) in results
        .iter()
        .filter(|(_, r)| r.verdict == Verdict::Confirmed)
    {
        let t = &job.target;
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "CONFIRMED {} ({}): {}",
            clean(&r.class),
            severity(&r.class),
            class_title(&r.class)
        );
        let _ = writeln!(
            o,
            "  endpoint:    {} {}",
            clean(&t.method),
            clean(&full_url(t))
        );
        let _ = writeln!(o, "  point:       {}", clean(&t.point));
        if let Some(a) = &job.attack {
            let join = |set: &BTreeSet<String>| {
                set.iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                o,
                "  attacks:     {} event(s) at {} {} (rules: {}), last {}",
                a.events,
                clean(&join(&a.endpoints)),
                clean(&join(&a.points)),
                clean(&join(&a.rules)),
                a.last_seen
            );
        }
        let _ = writeln!(
            o,
            "  strategy:    {} ({})",
            clean(&r.strategy),
            requests(r.requests_sent)
        );
        let _ = writeln!(o, "  summary:     {}", clean(&r.summary));
        if let Some(e) = &r.error {
            let _ = writeln!(o, "  note:        {}", clean(e));
        }
        for (i, e) in r.evidence.iter().enumerate() {
            let _ = writeln!(o, "  evidence {}:  {}", i + 1, clean(&e.note));
            let _ = writeln!(o, "    reproduce: {}", clean(&curl_command(&e.request)));
            let _ = writeln!(o, "    response:");
            for l in excerpt_lines(&e.response_excerpt, 40, 200) {
                let _ = writeln!(o, "      | {}", clean(&l));
            }
        }
        let _ = writeln!(
            o,
            "  remediation: {}",
            wrap(remediation(&r.class), 86, "               ")
        );
    }
    let others: Vec<&(Job, ScanReport)> = results
        .iter()
        .filter(|(_, r)| r.verdict != Verdict::Confirmed)
        .collect();
    if !others.is_empty() {
        let _ = writeln!(o);
    }
    for (job, r) in others {
        let t = &job.target;
        let why = match (&r.error, r.summary.is_empty()) {
            (Some(e), _) if *e != r.summary && !r.summary.is_empty() => {
                format!("{} ({e})", r.summary)
            }
            (Some(e), _) => e.clone(),
            (None, false) => r.summary.clone(),
            (None, true) => String::new(),
        };
        let _ = writeln!(
            o,
            "{} {}: {} {} {} [{}, {}]{}{}",
            verdict_words(r.verdict),
            clean(&r.class),
            clean(&t.method),
            clean(&full_url(t)),
            clean(&t.point),
            clean(&r.strategy),
            requests(r.requests_sent),
            if why.is_empty() { "" } else { ": " },
            clean(&why)
        );
    }
    let c = counts(results);
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "Summary: {} confirmed, {} not confirmed, {} inconclusive, {} refused; {} request(s) sent.",
        c.confirmed, c.not_confirmed, c.inconclusive, c.refused, c.requests
    );
    o
}

fn json_report(ctx: &ScanContext, results: &[(Job, ScanReport)]) -> Value {
    let c = counts(results);
    let items: Vec<Value> = results
        .iter()
        .map(|(job, r)| {
            let t = &job.target;
            let confirmed = r.verdict == Verdict::Confirmed;
            let mut v = json!({
                "target": t,
                "url": full_url(t),
                "report": r,
                "severity": severity(&r.class),
                "curl": r.evidence.iter().map(|e| curl_command(&e.request)).collect::<Vec<_>>(),
                "remediation": if confirmed { Value::from(remediation(&r.class)) } else { Value::Null },
            });
            if let (Some(a), Some(obj)) = (&job.attack, v.as_object_mut()) {
                obj.insert(
                    "attack".into(),
                    json!({
                        "endpoints": a.endpoints,
                        "points": a.points,
                        "events": a.events,
                        "rules": a.rules,
                        "last_seen": a.last_seen,
                    }),
                );
            }
            v
        })
        .collect();
    json!({
        "tool": "rampart-scan",
        "version": env!("CARGO_PKG_VERSION"),
        "target": ctx.target,
        "mode": ctx.mode,
        "allow": ctx.allow,
        "notes": ctx.notes,
        "results": items,
        "summary": {
            "scans": results.len(),
            "confirmed": c.confirmed,
            "not_confirmed": c.not_confirmed,
            "inconclusive": c.inconclusive,
            "refused": c.refused,
            "requests": c.requests,
        },
    })
}

/// GitHub's `security-severity` scale: critical >= 9.0, high >= 7.0,
/// medium >= 4.0.
fn security_severity(sev: &str) -> &'static str {
    match sev {
        "critical" => "9.5",
        "high" => "8.0",
        _ => "5.5",
    }
}

fn sarif_level(sev: &str) -> &'static str {
    match sev {
        "critical" | "high" => "error",
        _ => "warning",
    }
}

/// A SARIF 2.1.0 log: one rule per class scanned, one result per confirmed
/// finding.
fn sarif_report(results: &[(Job, ScanReport)]) -> Value {
    let mut rule_ids: Vec<String> = Vec::new();
    for (_, r) in results {
        let id = canonical_class(&r.class);
        if !rule_ids.contains(&id) {
            rule_ids.push(id);
        }
    }
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| {
            let sev = severity(id);
            json!({
                "id": id,
                "name": class_title(id),
                "shortDescription": { "text": class_title(id) },
                "fullDescription": {
                    "text": format!("{} confirmed by Rampart's active verification (a safe, non-destructive probe).", class_title(id))
                },
                "help": { "text": remediation(id) },
                "defaultConfiguration": { "level": sarif_level(sev) },
                "properties": {
                    "security-severity": security_severity(sev),
                    "severity": sev,
                    "tags": ["security"],
                },
            })
        })
        .collect();
    let findings: Vec<Value> = results
        .iter()
        .filter(|(_, r)| r.verdict == Verdict::Confirmed)
        .map(|(job, r)| {
            let t = &job.target;
            let id = canonical_class(&r.class);
            let index = rule_ids.iter().position(|x| *x == id).unwrap_or(0);
            let sev = severity(&r.class);
            let path = t.path.split_once('?').map_or(t.path.as_str(), |(p, _)| p);
            let evidence: Vec<Value> = r
                .evidence
                .iter()
                .map(|e| {
                    json!({
                        "note": e.note,
                        "request": e.request,
                        "curl": curl_command(&e.request),
                        "response_excerpt": e.response_excerpt,
                    })
                })
                .collect();
            let summary = if r.summary.is_empty() {
                String::new()
            } else {
                format!(": {}", r.summary)
            };
            json!({
                "ruleId": id,
                "ruleIndex": index,
                "level": sarif_level(sev),
                "message": {
                    "text": format!("{} confirmed at {} of {} {}{}", class_title(&r.class), t.point, t.method, path, summary)
                },
                "locations": [{
                    "physicalLocation": { "artifactLocation": { "uri": full_url(t) } },
                    "logicalLocations": [{
                        "name": t.point,
                        "fullyQualifiedName": format!("{} {} {}", t.method, path, t.point),
                        "kind": "parameter",
                    }],
                }],
                "partialFingerprints": {
                    "rampartFinding/v1": format!("{} {} {} {}", t.method, path, t.point, id),
                },
                "properties": {
                    "severity": sev,
                    "strategy": r.strategy,
                    "requestsSent": r.requests_sent,
                    "payload": t.payload,
                    "evidence": evidence,
                    "curl": r.evidence.first().map(|e| curl_command(&e.request)),
                },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "rampart-scan",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "results": findings,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u =
            TargetUrl::parse("http://127.0.0.1:8081/lab/vuln/products?category=shoes#x").unwrap();
        assert_eq!(u.base(), "http://127.0.0.1:8081");
        assert_eq!(u.path_and_query(), "/lab/vuln/products?category=shoes");
        assert_eq!(
            u.query_pairs(),
            vec![("category".to_string(), "shoes".to_string())]
        );
        let u = TargetUrl::parse("HTTPS://Shop.example?q=a+b%21").unwrap();
        assert_eq!(u.path, "/");
        assert_eq!(u.query_pairs()[0].1, "a b!");
        assert_eq!(
            TargetUrl::parse("http://[::1]/a/b%2Fc/").unwrap().full(),
            "http://[::1]/a/b%2Fc/"
        );
        assert_eq!(
            TargetUrl::parse("http://[::1]:9/a/b%2Fc/")
                .unwrap()
                .segments(),
            vec!["a", "b/c"]
        );
        for bad in [
            "ftp://h/",
            "127.0.0.1:8080/x",
            "http:///x",
            "http://u:p@h/",
            "http://h /",
        ] {
            assert!(TargetUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_points() {
        assert_eq!(key_point("query", "q").unwrap(), "query.q");
        assert_eq!(key_point("query", "u[name]").unwrap(), "query.u.name");
        assert_eq!(
            key_point("body:form", "user-id").unwrap(),
            "body:form[\"user-id\"]"
        );
        assert_eq!(key_point("query", "a\"b").unwrap(), "query[\"a\\\"b\"]");
        assert_eq!(key_point("query", "a\u{1b}").unwrap(), "query[\"a\\x1b\"]");
        assert_eq!(key_point("query", "x[]"), None);
        assert_eq!(key_point("query", "x[0]"), None);
        assert_eq!(key_point("query", "a[b]c").unwrap(), "query[\"a[b]c\"]");
        // Every point the command makes parses, and names the same key.
        for (k, p) in [("q", "query.q"), ("user-id", "query[\"user-id\"]")] {
            let made = key_point("query", k).unwrap();
            assert_eq!(made, p);
            assert_eq!(
                rampart_scanner::parse_point(&made).unwrap(),
                rampart_scanner::Point::Query(k.to_string())
            );
        }
        assert_eq!(
            rampart_scanner::parse_point(&key_point("query", "u[name]").unwrap()).unwrap(),
            rampart_scanner::Point::Query("u[name]".to_string())
        );
    }

    #[test]
    fn shaped_attacks_are_resolved_against_the_target() {
        assert!(point_fits("query.{word}", "query.name"));
        assert!(point_fits("query.{int}", "query[\"42\"]"));
        assert!(!point_fits("query.{int}", "query.name"));
        assert!(point_fits(
            "body:json.items[*].{word}",
            "body:json.items[3].sku"
        ));
        assert!(!point_fits("body:json.items[*]", "query.items[3]"));
        assert_eq!(replayable_point("query.q:xml.a", "xss"), "query.q");
        assert_eq!(
            replayable_point("query.{word}:xml.{word}", "xss"),
            "query.{word}"
        );
        assert_eq!(replayable_point("body:json.a.b", "sqli"), "body:json.a.b");
        assert_eq!(
            replayable_point("body:json.a:base64", "sqli"),
            "body:json.a"
        );
        assert_eq!(
            replayable_point("header[\"user-agent\"]", "sqli"),
            "header[\"user-agent\"]"
        );
        assert_eq!(
            replayable_point("body:xml.order.note", "xxe"),
            "body:xml.order.note"
        );

        let r = Resolver::new(&TargetUrl::parse("http://h:1/shop/items/12?id=7&x=a").unwrap());
        assert_eq!(
            r.path("/shop/items/{int}"),
            Some(("/shop/items/12?id=7&x=a".to_string(), false))
        );
        assert_eq!(
            r.path("/{word}/{word}/{int}"),
            Some(("/shop/items/12?id=7&x=a".to_string(), false))
        );
        assert_eq!(r.path("/shop/items/{uuid}"), None);
        assert_eq!(r.path("/shop/items"), None);
        assert_eq!(
            r.point("query.{word}", "sqli"),
            Some(("query.id".to_string(), Some("7".to_string())))
        );
        assert_eq!(
            r.point("query.x", "xss"),
            Some(("query.x".to_string(), Some("a".to_string())))
        );
        assert_eq!(
            r.point("body:json.items[*].name", "xss"),
            Some(("body:json.items[0].name".to_string(), None))
        );
        assert_eq!(r.point("body:json.{word}", "xss"), None);

        let root = Resolver::new(&TargetUrl::parse("http://h:1").unwrap());
        assert_eq!(
            root.path("/products/{int}"),
            Some(("/products/1".to_string(), false))
        );
        assert_eq!(
            root.path("/{word}/{int}"),
            Some(("/item/1".to_string(), true))
        );
        assert_eq!(root.point("query.{word}", "xss"), None);
    }

    #[test]
    fn sqlite_files() {
        assert_eq!(
            sqlite_file("sqlite://data/cloud/cloud.sqlite?mode=rwc").unwrap(),
            "data/cloud/cloud.sqlite"
        );
        assert_eq!(sqlite_file("sqlite:///tmp/a.db").unwrap(), "/tmp/a.db");
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://h/db"), None);
    }

    #[test]
    fn text_helpers() {
        assert_eq!(clean("a\u{1b}[2Jb\n"), "a\\x1b[2Jb\n");
        let long = format!(
            "[1/2] xss GET /{} query.q ... confirmed (2 requests)",
            "a".repeat(200)
        );
        let f = fit_to(&long, 79);
        assert!(
            f.chars().count() < 80 && f.ends_with("... confirmed (2 requests)"),
            "{f}"
        );
        assert_eq!(wrap("aa bb cc", 5, ">"), "aa bb\n>cc");
        assert_eq!(
            excerpt_lines("a\nb\nc", 2, 10),
            vec!["a", "b", "... (1 more lines)"]
        );
        let h = credentials(&["Cookie: a=b".into()]).unwrap().unwrap();
        assert_eq!(h["Cookie"], "a=b");
        assert!(credentials(&["nope".into()]).is_err());
    }

    #[test]
    fn sarif_holds_confirmed_findings_only() {
        let t = Target::new("http://h:1", "GET", "/p?c=1", "query.c", "", "sqli");
        let mk = |verdict| ScanReport {
            class: "sqli".into(),
            strategy: "builtin:sqli".into(),
            verdict,
            summary: "s".into(),
            evidence: Vec::new(),
            requests_sent: 3,
            error: None,
        };
        let job = Job {
            target: t.clone(),
            label: "sqli query.c".into(),
            attack: None,
        };
        let results = vec![
            (job.clone(), mk(Verdict::Confirmed)),
            (job, mk(Verdict::NotConfirmed)),
        ];
        let s = sarif_report(&results);
        assert_eq!(s["version"], "2.1.0");
        assert_eq!(s["runs"][0]["tool"]["driver"]["rules"][0]["id"], "sqli");
        assert_eq!(
            s["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"],
            "9.5"
        );
        let res = s["runs"][0]["results"].as_array().unwrap();
        assert_eq!(res.len(), 1);
        assert_eq!(res[0]["level"], "error");
        assert_eq!(
            res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "http://h:1/p?c=1"
        );
        assert_eq!(exit_code(&results), 1);
    }
}
