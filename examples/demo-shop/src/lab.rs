//! The vulnerability lab: deliberately vulnerable endpoints, each with a patched twin.
//!
//! Served under `/lab/` only when [`crate::ShopConfig::lab`] is on. Every `/lab/vuln/...`
//! endpoint has a real vulnerability (the kind careless applications have), so that Rampart's
//! scanner can be shown confirming it; its `/lab/safe/...` twin does the same job correctly and
//! must never be confirmed.
//!
//! | Pair | Vulnerable | Patched twin |
//! |---|---|---|
//! | `products?category=` | SQL built by string concatenation | bound parameter |
//! | `greet?name=` | name echoed raw into HTML | HTML-escaped |
//! | `download?file=` | name joined under the sandbox's public folder, `..` not checked | plain file names only |
//! | `ping?host=` | `echo PING <host>` through a shell | `echo` run directly, host validated |
//! | `hello?name=` | name pasted into the template source | name passed as a variable |
//!
//! The lab's own safety nets (the scanner must never rely on them; they are there so that the lab
//! itself cannot be used to harm the machine it runs on):
//! - SQL runs with `PRAGMA query_only=ON` for that one statement; rusqlite prepares exactly one
//!   statement (a second one is an error, "Multiple statements provided") and the statement must
//!   be read-only (`sqlite3_stmt_readonly`); a watchdog interrupts it after 5 s; at most 200 rows.
//! - Files are read only inside the sandbox folder: paths are resolved like in a chroot (`..`
//!   stops at the sandbox root, absolute paths start there) and the result is canonicalized
//!   (symbolic links resolved) and must still lie under the sandbox root.
//! - Commands run in bash's restricted mode (`bash -r`: no output redirection, no `cd`, no
//!   command names with `/`, `PATH` read-only) with `PATH` set to a folder holding only `sleep`,
//!   `id`, `uname` and `whoami`, the `kill`, `ulimit`, `history` and `fc` builtins disabled, an
//!   empty environment, the sandbox as working directory, CPU, memory and file-size limits, a 5 s
//!   time limit after which the whole process group is killed, 16 KiB of output, four at a time.

mod runner;
mod template;

use std::fmt::Write as _;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use http::StatusCode;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, ToSql};

use crate::pages;
use crate::web::{self, esc, AppError, AppResult, Resp};
use crate::{App, Ctx};

/// Where the public files live, relative to the sandbox root.
const PUBLIC: [&str; 3] = ["var", "www", "public"];
/// The folder, relative to the sandbox root, that is the lab shell's whole `PATH`.
const BIN: &str = "lab-bin";
/// The only programs the lab shell can find.
const TOOLS: [&str; 4] = ["sleep", "id", "uname", "whoami"];

/// The files the sandbox holds: path relative to the root, content.
const SANDBOX_FILES: &[(&str, &str)] = &[
    (
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\n\
         daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
         www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n\
         shop:x:1000:1000:Rampart Demo Shop:/var/www:/bin/sh\n",
    ),
    (
        "etc/hosts",
        "127.0.0.1\tlocalhost\n127.0.1.1\trampart-lab\n",
    ),
    (
        "windows/win.ini",
        "; for 16-bit app support\r\n[fonts]\r\n[extensions]\r\n[mci extensions]\r\n[files]\r\n[Mail]\r\nMAPI=1\r\n",
    ),
    (
        "var/www/public/welcome.txt",
        "Welcome to the Rampart Demo Shop lab.\n\
         This folder is what /lab/vuln/download and /lab/safe/download serve.\n",
    ),
    (
        "var/www/public/opening-hours.txt",
        "Monday to Friday: 9:00-18:00\nSaturday: 10:00-16:00\nSunday: closed\n",
    ),
    (
        "README-LAB.txt",
        "This folder is the Rampart Demo Shop lab's sandbox. The files under etc/ and windows/\n\
         are fakes, planted so that path traversal can be shown without touching the real system.\n",
    ),
];

/// Time limit of a lab SQL statement and of a lab command.
const LIMIT: Duration = Duration::from_secs(5);
const MAX_ROWS: usize = 200;
const MAX_CELL: usize = 512;
const MAX_PARAM: usize = 2048;
const MAX_FILE: u64 = 1024 * 1024;
const MAX_OUTPUT: usize = 16 * 1024;
const CONCURRENT_RUNS: usize = 4;

/// Run before the user's part of the vulnerable command line (which bash runs in restricted mode).
const SHELL_PRELUDE: &str = "ulimit -t 5 -v 524288 -f 0 -c 0\n\
                             enable -n kill ulimit history fc pushd popd dirs\n";

/// The lab's state: its sandbox folder and the programs it runs.
#[derive(Debug)]
pub(crate) struct Lab {
    /// Canonical sandbox root.
    root: PathBuf,
    /// The shell for the vulnerable `ping` (run as `bash -r`); `None` when there is no bash.
    shell: Option<PathBuf>,
    /// `echo` for the patched `ping`.
    echo: Option<PathBuf>,
    remove_on_drop: bool,
    /// Commands running at once; a permit lives as long as its command, even if the client leaves.
    runs: Arc<tokio::sync::Semaphore>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.remove_on_drop {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

fn first_existing(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.is_file())
}

fn prepare_sandbox(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (rel, content) in SANDBOX_FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, content)?;
    }
    let bin = dir.join(BIN);
    std::fs::create_dir_all(&bin)?;
    #[cfg(unix)]
    for tool in TOOLS {
        let link = bin.join(tool);
        if std::fs::symlink_metadata(&link).is_ok() {
            std::fs::remove_file(&link)?;
        }
        let candidates = [format!("/bin/{tool}"), format!("/usr/bin/{tool}")];
        let refs: Vec<&str> = candidates.iter().map(String::as_str).collect();
        if let Some(target) = first_existing(&refs) {
            std::os::unix::fs::symlink(target, &link)?;
        }
    }
    Ok(())
}

impl Lab {
    /// Creates the sandbox: `<files_dir>/lab-sandbox` when the shop has a files folder (kept),
    /// otherwise a fresh folder in the system's temporary directory (removed when the shop ends).
    pub(crate) async fn open(files_dir: Option<&Path>) -> anyhow::Result<Lab> {
        let (dir, remove_on_drop) = match files_dir {
            Some(d) => (d.join("lab-sandbox"), false),
            None => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default();
                let name = format!("rampart-demo-shop-lab-{}-{nanos}", std::process::id());
                (std::env::temp_dir().join(name), true)
            }
        };
        let root = tokio::task::spawn_blocking(move || -> io::Result<PathBuf> {
            prepare_sandbox(&dir)?;
            std::fs::canonicalize(&dir)
        })
        .await??;
        let shell = if cfg!(unix) {
            first_existing(&["/bin/bash", "/usr/bin/bash"])
        } else {
            None
        };
        if shell.is_none() {
            tracing::warn!("lab: no bash found, /lab/vuln/ping will answer 503");
        }
        Ok(Lab {
            root,
            shell,
            echo: first_existing(&["/bin/echo", "/usr/bin/echo"]),
            remove_on_drop,
            runs: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_RUNS)),
        })
    }
}

/// Serves `/lab/...`; `rest` are the path segments after `lab`.
pub(crate) async fn route(
    app: &App,
    lab: &Lab,
    ctx: &Ctx,
    rest: &[&str],
    get: bool,
) -> AppResult<Resp> {
    let known = matches!(
        rest,
        [] | [""]
            | [
                "vuln" | "safe",
                "products" | "greet" | "download" | "ping" | "hello"
            ]
    );
    if !known {
        return Err(AppError::NotFound);
    }
    if !get {
        return Err(AppError::MethodNotAllowed("GET"));
    }
    let (vuln, what) = match rest {
        [mode, what] => (*mode == "vuln", *what),
        _ => return Ok(index(ctx)),
    };
    match what {
        "products" => products(app, ctx, vuln).await,
        "greet" => greet(ctx, vuln),
        "download" => download(lab, ctx, vuln).await,
        "ping" => ping(lab, ctx, vuln).await,
        "hello" => hello(ctx, vuln),
        _ => Err(AppError::NotFound),
    }
}

fn lab_page(ctx: &Ctx, status: StatusCode, title: &str, vuln: Option<bool>, body: &str) -> Resp {
    let banner = match vuln {
        Some(true) => {
            r#"<p class="errors" role="note"><strong>Deliberately vulnerable.</strong> This lab endpoint has a real vulnerability on purpose, so that Rampart's scanner can be shown confirming it. <a href="/lab/">Lab index</a></p>"#
        }
        Some(false) => {
            r#"<p class="notice" role="note"><strong>Patched twin.</strong> This lab endpoint does the same job as its vulnerable twin, safely. <a href="/lab/">Lab index</a></p>"#
        }
        None => "",
    };
    let html = pages::layout(title, ctx.user.as_ref(), &format!("{banner}\n{body}"));
    web::html(status, html)
}

fn too_long(value: &str) -> AppResult<()> {
    if value.len() > MAX_PARAM {
        Err(AppError::bad(format!(
            "parameter longer than {MAX_PARAM} bytes"
        )))
    } else {
        Ok(())
    }
}

const PAIRS: &[(&str, &str, &str, &str)] = &[
    (
        "SQL injection (SQLite)",
        "products",
        "category=Books",
        "query.category: the vulnerable twin builds its SQL by string concatenation; the patched one binds a parameter.",
    ),
    (
        "Reflected XSS",
        "greet",
        "name=Ada",
        "query.name: echoed raw into the page; the patched twin escapes it.",
    ),
    (
        "Path traversal (inside the lab sandbox)",
        "download",
        "file=welcome.txt",
        "query.file: joined under the sandbox's public folder without checking <code>..</code>; the patched twin accepts plain file names only.",
    ),
    (
        "Command injection (harmless command)",
        "ping",
        "host=example.com",
        "query.host: pasted into <code>echo PING &lt;host&gt;</code> run by a (restricted) shell; the patched twin validates the host and runs <code>echo</code> without a shell.",
    ),
    (
        "Server-side template injection",
        "hello",
        "name=Ada",
        "query.name: pasted into the template source (so <code>{{7*7}}</code> gives 49); the patched twin passes it as a variable.",
    ),
];

fn index(ctx: &Ctx) -> Resp {
    let mut body = String::from(
        r#"<section class="hero"><h1>Vulnerability lab</h1>
<p class="errors" role="alert"><strong>Warning: the <code>/lab/vuln/</code> endpoints are deliberately vulnerable.</strong>
They exist so that Rampart's scanner can be shown confirming real vulnerabilities, and not confirming them on the patched twins under <code>/lab/safe/</code>.
Never expose a shop with the lab turned on beyond this machine.</p></section>
<table><thead><tr><th>Vulnerability</th><th>Vulnerable</th><th>Patched twin</th><th>What differs</th></tr></thead><tbody>"#,
    );
    for (name, path, example, note) in PAIRS {
        let _ = write!(
            body,
            r#"<tr><td>{name}</td><td><a href="/lab/vuln/{path}?{example}">/lab/vuln/{path}</a></td><td><a href="/lab/safe/{path}?{example}">/lab/safe/{path}</a></td><td>{note}</td></tr>"#
        );
    }
    body.push_str("</tbody></table>");
    lab_page(ctx, StatusCode::OK, "Vulnerability lab", None, &body)
}

// ---------------------------------------------------------------------------------------------
// SQL injection

#[derive(Debug, Default)]
struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    more: bool,
}

fn cell(value: ValueRef<'_>) -> String {
    let mut text = match value {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Blob(b) => format!("<blob, {} bytes>", b.len()),
    };
    if text.len() > MAX_CELL {
        let mut end = MAX_CELL;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

fn select(conn: &Connection, sql: &str, params: &[&dyn ToSql]) -> Result<Table, String> {
    // rusqlite prepares one statement and refuses SQL with a second one ("Multiple statements
    // provided"), so `'; DELETE ...` cannot stack a statement after the SELECT.
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    if !stmt.readonly() {
        return Err("refused: not a read-only statement".into());
    }
    let columns = stmt.column_names().into_iter().map(str::to_owned).collect();
    let mut table = Table {
        columns,
        ..Table::default()
    };
    let count = stmt.column_count();
    let mut rows = stmt.query(params).map_err(|e| e.to_string())?;
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        if table.rows.len() >= MAX_ROWS {
            table.more = true;
            break;
        }
        let mut cells = Vec::with_capacity(count);
        for i in 0..count {
            cells.push(cell(row.get_ref(i).map_err(|e| e.to_string())?));
        }
        table.rows.push(cells);
    }
    Ok(table)
}

/// Runs one SELECT under the lab's safety nets: `PRAGMA query_only` on for this statement only,
/// a read-only check, a row cap and a watchdog that interrupts it after [`LIMIT`].
fn guarded_select(conn: &Connection, sql: &str, params: &[&dyn ToSql]) -> Result<Table, String> {
    conn.pragma_update(None, "query_only", true)
        .map_err(|e| e.to_string())?;
    let handle = conn.get_interrupt_handle();
    let (finished, watch) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = watch.recv_timeout(LIMIT) {
            handle.interrupt();
        }
    });
    let result = select(conn, sql, params);
    drop(finished);
    if let Err(e) = conn.pragma_update(None, "query_only", false) {
        tracing::error!(error = %e, "lab: could not turn query_only off again");
    }
    result
}

async fn products(app: &App, ctx: &Ctx, vuln: bool) -> AppResult<Resp> {
    let params = ctx.query()?;
    let category = params.str("category").to_owned();
    too_long(&category)?;
    let c = category.clone();
    let result = app
        .db(move |conn| {
            Ok(if vuln {
                // VULNERABLE ON PURPOSE: the input is pasted into the SQL text.
                let sql = format!(
                    "SELECT id, name, category, price_cents FROM products WHERE category = '{c}' ORDER BY id"
                );
                guarded_select(conn, &sql, &[])
            } else {
                guarded_select(
                    conn,
                    "SELECT id, name, category, price_cents FROM products WHERE category = ?1 ORDER BY id",
                    &[&c],
                )
            })
        })
        .await?;
    let form = format!(
        r#"<form class="filters" method="get"><label>Category <input name="category" value="{}"></label><button type="submit">Show</button></form>"#,
        esc(&category)
    );
    let table = match result {
        Ok(table) => table,
        Err(message) => {
            // As careless applications do: the database's error message goes to the page.
            let body = format!("<h1>Database error</h1>{form}<pre>{}</pre>", esc(&message));
            return Ok(lab_page(
                ctx,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Database error",
                Some(vuln),
                &body,
            ));
        }
    };
    let mut body = format!("<h1>Products in category “{}”</h1>{form}", esc(&category));
    if table.rows.is_empty() {
        body.push_str(r#"<p class="muted">No products in this category.</p>"#);
    } else {
        body.push_str("<table><thead><tr>");
        for c in &table.columns {
            let _ = write!(body, "<th>{}</th>", esc(c));
        }
        body.push_str("</tr></thead><tbody>");
        for row in &table.rows {
            body.push_str("<tr>");
            for c in row {
                let _ = write!(body, "<td>{}</td>", esc(c));
            }
            body.push_str("</tr>");
        }
        body.push_str("</tbody></table>");
        if table.more {
            let _ = write!(
                body,
                r#"<p class="muted">Only the first {MAX_ROWS} rows are shown.</p>"#
            );
        }
    }
    Ok(lab_page(ctx, StatusCode::OK, "Products", Some(vuln), &body))
}

// ---------------------------------------------------------------------------------------------
// Reflected XSS

fn greet(ctx: &Ctx, vuln: bool) -> AppResult<Resp> {
    let params = ctx.query()?;
    let name = params.str("name");
    too_long(name)?;
    let shown = if vuln {
        // VULNERABLE ON PURPOSE: the input goes into the HTML unescaped.
        name.to_owned()
    } else {
        esc(name)
    };
    let body = format!(
        r#"<h1>Hello, {shown}!</h1><p>Nice to see you at the Rampart Demo Shop.</p>
<form method="get"><label>Your name <input name="name" value="{}"></label><button type="submit">Greet me</button></form>"#,
        esc(name)
    );
    Ok(lab_page(ctx, StatusCode::OK, "Greeting", Some(vuln), &body))
}

// ---------------------------------------------------------------------------------------------
// Path traversal

/// Resolves a requested name the way a careless handler running in a chroot would: relative to
/// the public folder, `..` climbs (but never above the sandbox root, like `..` at `/`), an
/// absolute path (`/etc/passwd`, `C:\windows\win.ini`) starts at the sandbox root, and
/// backslashes count as separators. Returns the components relative to the root.
fn chroot_components(requested: &str) -> Vec<String> {
    let mut name = requested.replace('\\', "/");
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        name = format!("/{}", &name[2..]);
    }
    let mut parts: Vec<String> = if name.starts_with('/') {
        Vec::new()
    } else {
        PUBLIC.iter().map(|s| (*s).to_owned()).collect()
    };
    for comp in name.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other.to_owned()),
        }
    }
    parts
}

enum Lookup {
    Ok(Vec<u8>),
    Missing,
    Outside,
}

/// Reads a file if it really lies inside the sandbox once symbolic links are resolved. This is
/// the lab's safety net, which even the vulnerable handler goes through.
async fn read_confined(root: &Path, path: &Path) -> AppResult<Lookup> {
    let canonical = match tokio::fs::canonicalize(path).await {
        Ok(p) => p,
        Err(_) => return Ok(Lookup::Missing),
    };
    if !canonical.starts_with(root) {
        tracing::warn!(path = %path.display(), "lab: refused a path outside the sandbox");
        return Ok(Lookup::Outside);
    }
    match tokio::fs::metadata(&canonical).await {
        Ok(m) if m.is_file() && m.len() <= MAX_FILE => {}
        _ => return Ok(Lookup::Missing),
    }
    match tokio::fs::read(&canonical).await {
        Ok(bytes) => Ok(Lookup::Ok(bytes)),
        Err(_) => Ok(Lookup::Missing),
    }
}

/// A plain file name: no separators, no `..`, nothing hidden, no drive letters.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.contains(['/', '\\', ':', '\0'])
        && !name.chars().any(char::is_control)
}

async fn download(lab: &Lab, ctx: &Ctx, vuln: bool) -> AppResult<Resp> {
    let params = ctx.query()?;
    let requested = params.str("file");
    too_long(requested)?;
    if requested.is_empty() || requested.contains('\0') {
        return Err(AppError::bad("parameter file is required"));
    }
    let path = if vuln {
        // VULNERABLE ON PURPOSE: `..` is not checked (see chroot_components for the confinement).
        let mut path = lab.root.clone();
        path.extend(chroot_components(requested));
        path
    } else {
        if !plain_name(requested) {
            return Err(AppError::bad("invalid file name"));
        }
        let mut path = lab.root.clone();
        path.extend(PUBLIC);
        path.push(requested);
        path
    };
    match read_confined(&lab.root, &path).await? {
        Lookup::Ok(bytes) => Ok(web::bytes("text/plain; charset=utf-8", bytes)),
        Lookup::Missing => Err(AppError::NotFound),
        Lookup::Outside => {
            let body = "<h1>Refused</h1><p>That path resolves outside the lab sandbox. \
                        (This is the lab's own safety net, not part of the exercise.)</p>";
            Ok(lab_page(
                ctx,
                StatusCode::FORBIDDEN,
                "Refused",
                Some(vuln),
                body,
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Command injection

/// A host name (letters, digits and hyphens in dot-separated labels) or an IP address.
fn valid_host(host: &str) -> bool {
    if host.parse::<IpAddr>().is_ok() {
        return true;
    }
    let h = host.strip_suffix('.').unwrap_or(host);
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

async fn ping(lab: &Lab, ctx: &Ctx, vuln: bool) -> AppResult<Resp> {
    let params = ctx.query()?;
    let host = params.str("host").to_owned();
    too_long(&host)?;
    let program = if vuln { &lab.shell } else { &lab.echo };
    let Some(program) = program.clone() else {
        let body = "<h1>Not available</h1><p>The program this lab endpoint runs is missing on this machine.</p>";
        return Ok(lab_page(
            ctx,
            StatusCode::SERVICE_UNAVAILABLE,
            "Not available",
            Some(vuln),
            body,
        ));
    };
    if !vuln && !valid_host(&host) {
        return Err(AppError::invalid(
            "host must be a host name or an IP address",
        ));
    }
    let mut cmd = Command::new(&program);
    if vuln {
        // VULNERABLE ON PURPOSE: the input is pasted into a shell command line.
        let script = format!("{SHELL_PRELUDE}echo PING {host}\n");
        cmd.arg("-r").arg("-c").arg(script);
    } else {
        cmd.arg("PING").arg(&host);
    }
    cmd.env_clear()
        .env("PATH", lab.root.join(BIN))
        .current_dir(&lab.root);
    let permit = Arc::clone(&lab.runs)
        .acquire_owned()
        .await
        .map_err(|_| AppError::Internal)?;
    let shell = lab.shell.clone();
    let output = tokio::task::spawn_blocking(move || {
        let output = runner::run(cmd, LIMIT, MAX_OUTPUT, shell.as_deref());
        drop(permit);
        output
    })
    .await
    .map_err(|_| AppError::Internal)?;
    let output = output.map_err(|e| {
        tracing::error!(error = %e, "lab: could not run the command");
        AppError::Internal
    })?;
    let mut status = match (output.timed_out, output.code) {
        (true, _) => format!("stopped after {} s", LIMIT.as_secs()),
        (false, Some(code)) => format!("exit status {code}"),
        (false, None) => "ended by a signal".to_owned(),
    };
    if output.truncated {
        let _ = write!(status, ", output cut at {MAX_OUTPUT} bytes");
    }
    let body = format!(
        r#"<h1>Ping</h1><form method="get"><label>Host <input name="host" value="{}"></label><button type="submit">Ping</button></form>
<pre>{}</pre><p class="muted">{status}</p>"#,
        esc(&host),
        esc(&output.text)
    );
    Ok(lab_page(ctx, StatusCode::OK, "Ping", Some(vuln), &body))
}

// ---------------------------------------------------------------------------------------------
// Server-side template injection

fn hello(ctx: &Ctx, vuln: bool) -> AppResult<Resp> {
    let params = ctx.query()?;
    let name = params.str("name");
    too_long(name)?;
    let user = ctx.user.as_ref().map_or("guest", |u| u.username.as_str());
    let shop = "Rampart Demo Shop";
    let rendered = if vuln {
        // VULNERABLE ON PURPOSE: the input becomes part of the template source.
        let source = format!("Hello {name}, welcome to {{{{ shop }}}}!");
        template::render(&source, &[("user", user), ("shop", shop)])
    } else {
        template::render(
            "Hello {{ name }}, welcome to {{ shop }}!",
            &[("user", user), ("shop", shop), ("name", name)],
        )
    };
    let form = format!(
        r#"<form method="get"><label>Your name <input name="name" value="{}"></label><button type="submit">Say hello</button></form>"#,
        esc(name)
    );
    // The rendered text is escaped in both twins: the difference is evaluation, not XSS.
    match rendered {
        Ok(text) => {
            let body = format!("<h1>{}</h1>{form}", esc(&text));
            Ok(lab_page(ctx, StatusCode::OK, "Hello", Some(vuln), &body))
        }
        Err(e) => {
            let body = format!("<h1>Template error</h1><pre>{}</pre>{form}", esc(&e));
            Ok(lab_page(
                ctx,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Template error",
                Some(vuln),
                &body,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(s: &str) -> String {
        chroot_components(s).join("/")
    }

    #[test]
    fn chroot_resolution() {
        assert_eq!(joined("welcome.txt"), "var/www/public/welcome.txt");
        assert_eq!(joined("../../../etc/passwd"), "etc/passwd");
        assert_eq!(joined("../../../../../../../../etc/passwd"), "etc/passwd");
        assert_eq!(joined("/etc/passwd"), "etc/passwd");
        assert_eq!(joined("..\\..\\..\\windows\\win.ini"), "windows/win.ini");
        assert_eq!(joined("C:\\windows\\win.ini"), "windows/win.ini");
        assert_eq!(joined("./a/./b/../c"), "var/www/public/a/c");
    }

    #[test]
    fn plain_names_and_hosts() {
        assert!(plain_name("welcome.txt"));
        for bad in ["", "..", "../x", "a/b", "a\\b", ".hidden", "C:x", "a\0b"] {
            assert!(!plain_name(bad), "{bad:?}");
        }
        for ok in [
            "example.com",
            "localhost",
            "127.0.0.1",
            "::1",
            "a-b.example.",
            "xn--bcher-kva.de",
        ] {
            assert!(valid_host(ok), "{ok}");
        }
        for bad in [
            "", "-n", "a b", "a;b", "a..b", "$(id)", "-a.com", "a.com-", "..", "x\n",
        ] {
            assert!(!valid_host(bad), "{bad:?}");
        }
    }

    fn seeded() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        crate::db::seed(&conn).unwrap();
        conn
    }

    #[test]
    fn guarded_select_refuses_writes_and_restores_the_connection() {
        let conn = seeded();
        let count = |c: &Connection| -> i64 {
            c.query_row("SELECT count(*) FROM products", [], |r| r.get(0))
                .unwrap()
        };
        for sql in [
            "DELETE FROM products",
            "UPDATE products SET price_cents = 0",
            "SELECT 1; DELETE FROM products",
            "INSERT INTO products (name, category, description, price_cents) VALUES ('x','y','z',1) RETURNING id",
        ] {
            let err = guarded_select(&conn, sql, &[]).unwrap_err();
            assert!(!err.is_empty(), "{sql}");
        }
        assert_eq!(count(&conn), 24);
        let t = guarded_select(
            &conn,
            "SELECT name FROM products WHERE category = ?1",
            &[&"Books"],
        )
        .unwrap();
        assert!(!t.rows.is_empty());
        // query_only is off again: the shop can still write.
        conn.execute("UPDATE products SET featured = featured", [])
            .unwrap();
    }

    #[test]
    fn query_only_stops_a_write_that_passes_the_other_checks() {
        // The net behind the read-only check: with query_only on, SQLite itself refuses writes.
        let conn = seeded();
        conn.pragma_update(None, "query_only", true).unwrap();
        assert!(conn.execute("DELETE FROM products", []).is_err());
        conn.pragma_update(None, "query_only", false).unwrap();
    }
}
