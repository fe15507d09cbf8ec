//! Rampart's demo application: a small shop with HTML pages, a JSON API, GraphQL and SOAP, on SQLite.
//!
//! The shop is what Rampart protects, learns and scans in `rampart demo` and in tests. It is meant
//! to look and behave like a real application; it has no deliberate vulnerabilities, except in the
//! opt-in vulnerability lab ([`ShopConfig::lab`], endpoints under `/lab/`), which exists to show
//! Rampart's scanner confirming real vulnerabilities next to patched twins.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! rampart_demo_shop::serve(listener, rampart_demo_shop::ShopConfig::default(), async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await
//! # }
//! ```

#![forbid(unsafe_code)]

mod api;
mod auth;
mod db;
mod files;
mod graphql;
mod lab;
mod pages;
mod shop;
mod soap;
mod web;

use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use rusqlite::Connection;

use crate::db::User;
use crate::web::{AppError, AppResult, Params, Resp};

/// How the shop stores its data.
#[derive(Debug, Clone, Default)]
pub struct ShopConfig {
    /// SQLite database file; `None` keeps everything in memory (fresh seed data on every start).
    pub db_path: Option<PathBuf>,
    /// Folder for the downloadable files; created and filled on first start. `None` serves the
    /// built-in copies.
    pub files_dir: Option<PathBuf>,
    /// Serves the vulnerability lab under `/lab/`: deliberately vulnerable endpoints
    /// (`/lab/vuln/...`) and their patched twins (`/lab/safe/...`). Off by default; when off,
    /// `/lab/...` is a 404. Its sandbox folder is `<files_dir>/lab-sandbox`, or a temporary folder
    /// removed when the shop ends. Only ever turn it on for a shop bound to a loopback address.
    pub lab: bool,
}

/// Creates the schema and, when the database has no products yet, the seed data: two dozen
/// products in six categories, users `alice`/`alice-password`, `bob`/`bob-password` and
/// `admin`/`admin-password` (role `admin`), and a few reviews. Safe to call on a seeded database.
pub fn seed(conn: &Connection) -> anyhow::Result<()> {
    db::seed(conn)?;
    Ok(())
}

/// Serves the shop on `listener` until `shutdown` completes, then lets in-flight requests finish
/// (for up to ten seconds).
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: ShopConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let lab = config.lab;
    let app = Arc::new(App::open(config).await?);
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "demo shop listening");
        if lab && !addr.ip().is_loopback() {
            tracing::warn!(%addr, "demo shop lab is on and the shop is not bound to a loopback address");
        }
    }
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let app = Arc::clone(&app);
                let service = service_fn(move |req: Request<Incoming>| {
                    let app = Arc::clone(&app);
                    async move { Ok::<_, Infallible>(handle(&app, req).await) }
                });
                let conn = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(30))
                    .serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {
            tracing::warn!("demo shop: connections still open after 10s, closing");
        }
    }
    Ok(())
}

/// The application state shared by all connections.
#[derive(Debug)]
pub(crate) struct App {
    db: Arc<Mutex<Connection>>,
    files_dir: Option<PathBuf>,
    lab: Option<lab::Lab>,
}

impl App {
    async fn open(config: ShopConfig) -> anyhow::Result<App> {
        let db_path = config.db_path.clone();
        let conn = tokio::task::spawn_blocking(move || -> anyhow::Result<Connection> {
            let conn = match db_path {
                Some(path) => Connection::open(path)?,
                None => Connection::open_in_memory()?,
            };
            conn.busy_timeout(Duration::from_secs(5))?;
            db::seed(&conn)?;
            Ok(conn)
        })
        .await??;
        if let Some(dir) = &config.files_dir {
            files::prepare_dir(dir).await?;
        }
        let lab = if config.lab {
            let lab = lab::Lab::open(config.files_dir.as_deref()).await?;
            tracing::warn!(
                "demo shop: the vulnerability lab is ON: /lab/vuln/... endpoints are deliberately vulnerable"
            );
            Some(lab)
        } else {
            None
        };
        Ok(App {
            db: Arc::new(Mutex::new(conn)),
            files_dir: config.files_dir,
            lab,
        })
    }

    /// Runs `f` with the database on the blocking pool. The lock is held only for `f`.
    pub(crate) async fn db<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> AppResult<T> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            let mut conn = db.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "database task failed");
            AppError::Internal
        })?
    }

    /// Checks a username and password; on success opens a session and returns its token.
    pub(crate) async fn login(
        &self,
        username: &str,
        password: &str,
    ) -> AppResult<Option<(User, String)>> {
        if username.is_empty() || username.len() > 64 || password.len() > 1024 {
            return Ok(None);
        }
        let name = username.to_owned();
        let found = self
            .db(move |c| Ok(db::user_credentials(c, &name)?))
            .await?;
        let password = password.to_owned();
        let (user, ok) = tokio::task::spawn_blocking(move || match found {
            Some((user, hash)) => {
                let ok = auth::verify_password(&password, &hash);
                (Some(user), ok)
            }
            None => {
                // Spend the same effort for unknown users.
                let _ = auth::verify_password(&password, "sha256i$5000$00$00");
                (None, false)
            }
        })
        .await
        .map_err(|_| AppError::Internal)?;
        match user {
            Some(user) if ok => {
                let token = self.open_session(user.id).await?;
                Ok(Some((user, token)))
            }
            _ => Ok(None),
        }
    }

    pub(crate) async fn open_session(&self, user_id: i64) -> AppResult<String> {
        let token = auth::new_token();
        let t = token.clone();
        self.db(move |c| Ok(db::create_session(c, user_id, &t)?))
            .await?;
        Ok(token)
    }

    /// Registers an account and opens a session. On failure the form comes back with the error.
    pub(crate) async fn register(
        &self,
        reg: shop::Registration,
    ) -> Result<(User, String), (shop::Registration, AppError)> {
        let result = self
            .db(move |c| match shop::register(c, &reg) {
                Ok(user) => Ok(Ok(user)),
                Err(e) => Ok(Err((reg, e))),
            })
            .await;
        let user = match result {
            Ok(Ok(user)) => user,
            Ok(Err(failed)) => return Err(failed),
            Err(e) => return Err((shop::Registration::default(), e)),
        };
        match self.open_session(user.id).await {
            Ok(token) => Ok((user, token)),
            Err(e) => Err((shop::Registration::default(), e)),
        }
    }
}

/// One request, read in full (bounded) and authenticated.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub method: Method,
    pub path: String,
    pub raw_query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub user: Option<User>,
    pub token: Option<String>,
}

impl Ctx {
    pub(crate) fn query(&self) -> AppResult<Params> {
        Params::parse(self.raw_query.as_deref().unwrap_or(""))
    }

    pub(crate) fn form(&self) -> AppResult<Params> {
        Params::form(&self.headers, &self.body)
    }

    pub(crate) fn require_user(&self) -> AppResult<&User> {
        self.user.as_ref().ok_or(AppError::Unauthorized)
    }
}

/// Which surface a path belongs to; errors are rendered accordingly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Surface {
    Html,
    Api,
    GraphQl,
    Soap,
}

impl Surface {
    fn of(path: &str) -> Surface {
        if path == "/api" || path.starts_with("/api/") {
            Surface::Api
        } else if path == "/graphql" {
            Surface::GraphQl
        } else if path.starts_with("/soap/") {
            Surface::Soap
        } else {
            Surface::Html
        }
    }
}

async fn handle(app: &App, req: Request<Incoming>) -> Resp {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let surface = Surface::of(&path);
    let mut ctx = Ctx {
        method: parts.method,
        path,
        raw_query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body: Bytes::new(),
        user: None,
        token: None,
    };
    let result = async {
        ctx.body = web::read_body(&ctx.headers, body).await?;
        if let Some(token) = auth::request_token(&ctx.headers) {
            let t = token.clone();
            ctx.user = app.db(move |c| Ok(db::session_user(c, &t)?)).await?;
            if ctx.user.is_some() {
                ctx.token = Some(token);
            }
        }
        route(app, &ctx).await
    }
    .await;
    let resp = match result {
        Ok(resp) => resp,
        Err(err) => render_error(surface, &ctx, &err),
    };
    tracing::debug!(method = %ctx.method, path = %ctx.path, status = resp.status().as_u16(), "request");
    resp
}

fn render_error(surface: Surface, ctx: &Ctx, err: &AppError) -> Resp {
    let resp = match surface {
        Surface::Html => match err {
            AppError::Unauthorized => pages::login_redirect(ctx),
            _ => pages::error_page(ctx, err),
        },
        Surface::Api => api::error(err),
        Surface::GraphQl => graphql::error(err),
        Surface::Soap => soap::error(err),
    };
    match err {
        AppError::MethodNotAllowed(allow) => web::with_header(resp, http::header::ALLOW, allow),
        _ => resp,
    }
}

fn id(segment: &str) -> AppResult<i64> {
    match segment.parse::<i64>() {
        Ok(n) if n > 0 && segment.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(AppError::NotFound),
    }
}

async fn route(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    use AppError::MethodNotAllowed as NotAllowed;
    // HEAD is answered like GET; hyper leaves out the body.
    let method = if ctx.method == Method::HEAD {
        Method::GET
    } else {
        ctx.method.clone()
    };
    let get = method == Method::GET;
    let post = method == Method::POST;
    let segments: Vec<&str> = ctx.path.split('/').skip(1).collect();
    match segments.as_slice() {
        [""] if get => pages::home(app, ctx).await,
        ["search"] if get => pages::search(app, ctx).await,
        ["products", pid] if get => pages::product(app, ctx, id(pid)?).await,
        ["products", pid, "reviews"] if post => pages::post_review(app, ctx, id(pid)?).await,
        ["login"] if get => pages::login_get(ctx).await,
        ["login"] if post => pages::login_post(app, ctx).await,
        ["logout"] if post => pages::logout(app, ctx).await,
        ["register"] if get => pages::register_get(ctx).await,
        ["register"] if post => pages::register_post(app, ctx).await,
        ["cart"] if get => pages::cart(app, ctx).await,
        ["cart", "add"] if post => pages::cart_add(app, ctx).await,
        ["cart", "remove"] if post => pages::cart_remove(app, ctx).await,
        ["checkout"] if get => pages::checkout_get(app, ctx).await,
        ["checkout"] if post => pages::checkout_post(app, ctx).await,
        ["orders"] if get => pages::orders(app, ctx).await,
        ["orders", oid] if get => pages::order(app, ctx, id(oid)?).await,
        ["profile"] if get => pages::profile_get(ctx).await,
        ["profile"] if post => pages::profile_post(app, ctx).await,
        ["download"] if get => files::download(app, ctx).await,
        ["static", "app.css"] if get => Ok(files::stylesheet()),

        ["api", "health"] if get => api::health(app).await,
        ["api", "products"] if get => api::products(app, ctx).await,
        ["api", "products", pid] if get => api::product(app, id(pid)?).await,
        ["api", "login"] if post => api::login(app, ctx).await,
        ["api", "register"] if post => api::register(app, ctx).await,
        ["api", "cart"] if get => api::cart(app, ctx).await,
        ["api", "cart"] if post => api::cart_add(app, ctx).await,
        ["api", "checkout"] if post => api::checkout(app, ctx).await,
        ["api", "orders"] if get => api::orders(app, ctx).await,
        ["api", "users", uid] if get => api::user(app, ctx, id(uid)?).await,
        ["api", "users", uid] if method == Method::PUT => {
            api::update_user(app, ctx, id(uid)?).await
        }

        ["graphql"] if get || post => graphql::handle(app, ctx).await,
        ["soap", "orders"] if post => soap::import_order(app, ctx).await,
        ["soap", "orders"] if get => soap::wsdl(ctx),
        ["lab", rest @ ..] => match &app.lab {
            Some(lab) => lab::route(app, lab, ctx, rest, get).await,
            None => Err(AppError::NotFound),
        },

        ["" | "search" | "login" | "register" | "cart" | "checkout" | "orders" | "profile"
        | "download"]
        | ["products" | "orders", _]
        | ["static", "app.css"]
        | ["api", "health" | "products" | "orders"]
        | ["api", "products", _] => match segments.as_slice() {
            ["login" | "register" | "checkout" | "profile"] => Err(NotAllowed("GET, POST")),
            _ => Err(NotAllowed("GET")),
        },
        ["products", _, "reviews"]
        | ["logout"]
        | ["cart", "add" | "remove"]
        | ["api", "login" | "register" | "checkout"] => Err(NotAllowed("POST")),
        ["api", "cart"] => Err(NotAllowed("GET, POST")),
        ["api", "users", _] => Err(NotAllowed("GET, PUT")),
        ["graphql"] => Err(NotAllowed("GET, POST")),
        ["soap", "orders"] => Err(NotAllowed("GET, POST")),
        _ => Err(AppError::NotFound),
    }
}
