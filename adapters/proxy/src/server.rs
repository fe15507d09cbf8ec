//! Listeners: the proxy (HTTP/1.1 and HTTP/2) and the admin endpoint.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use rampart_core::Engine;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use crate::body::ProxyBody;
use crate::config::NodeConfig;
use crate::core::NodeCore;
use crate::metrics::Metrics;
use crate::proxy::{handle, Gate, State};

/// A node with its listeners bound, ready to serve.
#[derive(Debug)]
pub struct Node {
    listener: TcpListener,
    admin: Option<TcpListener>,
    state: Arc<State>,
    core: NodeCore,
}

/// Connections the kernel completes before the node accepts them: a burst
/// of clients beyond the usual 1,024 is queued rather than left half-open
/// (the kernel caps it at `net.core.somaxconn`).
const LISTEN_BACKLOG: u32 = 8192;

/// The client listener: address reuse (a restart does not wait for old
/// sockets) and a deep accept queue.
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

impl Node {
    /// Validates the configuration and binds the listeners.
    pub async fn bind(config: NodeConfig, engine: Engine) -> anyhow::Result<Node> {
        let core = NodeCore::start(config, engine).await?;
        let config = core.config.clone();
        let upstream: http::Uri = config.upstream.parse()?;
        let listener = listen(config.listen)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let admin = match config.admin_listen {
            Some(a) => Some(
                TcpListener::bind(a)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot listen on {a} (admin): {e}"))?,
            ),
            None => None,
        };
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_timer(TokioTimer::new())
            .http1_preserve_header_case(true)
            .build(connector);
        let trusted = config.trusted();
        let gate = Gate::new(&config.overload);
        let state = Arc::new(State {
            engine: core.engine.clone(),
            client,
            upstream,
            trusted,
            config,
            metrics: core.metrics.clone(),
            telemetry: core.telemetry.clone(),
            gate,
        });
        Ok(Node {
            listener,
            admin,
            state,
            core,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        self.state.metrics.clone()
    }

    /// The slot holding the rule pack in place, when the node takes packs
    /// (from a file or the cloud).
    pub fn pack_slot(&self) -> Option<Arc<rampart_dsl::pack::PackSlot>> {
        self.state.engine.pack_slot().cloned()
    }

    /// Serves until `shutdown` completes, then stops accepting and gives
    /// in-flight requests `timeouts.shutdown_ms` to finish.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let state = self.state;
        let cfg = &state.config;
        info!(
            listen = %self.listener.local_addr()?,
            upstream = %state.upstream,
            mode = %state.engine.mode(),
            max_in_flight = state.gate.limit(),
            overload = ?cfg.overload.policy,
            admin = ?self.admin.as_ref().and_then(|l| l.local_addr().ok()),
            "rampart node serving"
        );
        for (kind, name, version, origin) in state.engine.plugins() {
            info!(kind, name, version, origin = %origin, "plugin loaded");
        }
        let (admin_stop_tx, admin_stop_rx) = tokio::sync::watch::channel(false);
        if let Some(admin) = self.admin {
            tokio::spawn(serve_admin(admin, state.clone(), admin_stop_rx.clone()));
        }
        self.core.spawn_background(admin_stop_rx)?;
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_millis(cfg.timeouts.header_read_ms))
            .preserve_header_case(true)
            .max_buf_size(256 << 10);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(256)
            .max_header_list_size(256 << 10);
        let graceful = GracefulShutdown::new();
        let permits = Arc::new(Semaphore::new(cfg.max_connections));
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                r = self.listener.accept() => match r {
                    Ok(x) => x,
                    Err(e) => {
                        warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = &mut shutdown => break,
            };
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                warn!(client = %peer, "connection refused: max_connections reached");
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let st = state.clone();
            // Set when the first request's head is read: until then the
            // connection has `header_read_ms` (hyper's own header timeout
            // starts only once the protocol is known, so a client that
            // sends nothing, or a few bytes of an HTTP/2 preface, would
            // otherwise hold its connection for ever).
            let started = Arc::new(AtomicBool::new(false));
            let seen = started.clone();
            let svc = service_fn(move |req: Request<Incoming>| {
                seen.store(true, Ordering::Relaxed);
                let st = st.clone();
                async move { Ok::<_, Infallible>(handle(st, peer, req).await) }
            });
            let conn = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), svc)
                .into_owned();
            let conn = graceful.watch(conn);
            let metrics = state.metrics.clone();
            metrics.connection_opened();
            let first = Duration::from_millis(cfg.timeouts.header_read_ms);
            tokio::spawn(async move {
                tokio::pin!(conn);
                let res = tokio::select! {
                    r = &mut conn => Some(r),
                    _ = tokio::time::sleep(first) => None,
                };
                let res = match res {
                    Some(r) => Some(r),
                    None if started.load(Ordering::Relaxed) => Some(conn.await),
                    None => {
                        debug!(client = %peer, "connection closed: no request within header_read_ms");
                        None
                    }
                };
                if let Some(Err(e)) = res {
                    debug!(client = %peer, error = %e, "connection ended with an error");
                }
                metrics.connection_closed();
                drop(permit);
            });
        }
        info!("shutting down: no new connections, draining in-flight requests");
        let grace = Duration::from_millis(cfg.timeouts.shutdown_ms);
        if tokio::time::timeout(grace, graceful.shutdown())
            .await
            .is_err()
        {
            warn!("shutdown grace period over; closing remaining connections");
        }
        let _ = admin_stop_tx.send(true);
        self.core.drain(grace).await;
        Ok(())
    }
}

fn text(status: StatusCode, ctype: &'static str, body: String) -> Response<ProxyBody> {
    let mut r = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|e| match e {})
            .boxed_unsync(),
    );
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(ctype),
    );
    r
}

async fn admin_route(state: Arc<State>, req: Request<Incoming>) -> Response<ProxyBody> {
    match req.uri().path() {
        "/healthz" | "/health" => {
            let plugins: Vec<_> = state
                .engine
                .plugins()
                .map(|(k, n, v, o)| serde_json::json!({"kind": k, "name": n, "version": v, "origin": o.to_string()}))
                .collect();
            let slot = state.engine.pack_slot();
            let pack = slot.and_then(|s| s.current());
            let rules = serde_json::json!({
                "local": state.engine.local_rules().map(|r| r.program().rules.len()),
                "pack": pack.map(|p| serde_json::json!({
                    "application": p.manifest.application,
                    "version": p.manifest.version,
                    "rules": p.manifest.rules,
                    "key": p.key_id.to_string(),
                })),
                "pack_error": slot.and_then(|s| s.last_error()),
            });
            let body = serde_json::json!({
                "status": "ok",
                "mode": state.engine.mode().as_str(),
                "upstream": state.upstream.to_string(),
                "version": env!("CARGO_PKG_VERSION"),
                "plugins": plugins,
                "rules": rules,
            });
            text(StatusCode::OK, "application/json", body.to_string() + "\n")
        }
        "/telemetry" => match state.telemetry.as_ref().map(|t| t.last()) {
            None => text(
                StatusCode::NOT_FOUND,
                "text/plain",
                "telemetry is off ([telemetry] enabled = false)\n".into(),
            ),
            Some(last) => text(
                StatusCode::OK,
                "application/json",
                serde_json::to_string_pretty(&last.as_deref()).unwrap_or_else(|_| "null".into())
                    + "\n",
            ),
        },
        "/metrics" => text(StatusCode::OK, "text/plain; version=0.0.4", {
            let v = state.engine.pack_slot().and_then(|s| s.current());
            state
                .metrics
                .set_pack_version(v.map_or(0, |p| p.manifest.version));
            let mut o = state.metrics.render(state.engine.mode().as_str());
            state.gate.render(&mut o);
            o
        }),
        _ => text(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: try /healthz, /metrics or /telemetry\n".into(),
        ),
    }
}

async fn serve_admin(
    listener: TcpListener,
    state: Arc<State>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r { Ok(x) => x, Err(_) => continue },
            _ = stop.changed() => return,
        };
        let st = state.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let st = st.clone();
                async move { Ok::<_, Infallible>(admin_route(st, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
