//! The agent's TCP server: accepts HAProxy's SPOP connections and serves
//! each on its own task, within a connection limit, until shut down.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::codec::{Action, Message};

/// Answers the messages of one NOTIFY frame with the actions of its ACK.
/// Runs on tokio's blocking pool (inspection is CPU work); it must not
/// block on I/O for long. A panic gives an ACK without actions.
pub trait Handler: Send + Sync + 'static {
    fn notify(&self, messages: &[Message]) -> Vec<Action>;
}

/// Limits and timeouts of the agent.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The largest frame accepted; the handshake announces the smaller of
    /// this and HAProxy's `max-frame-size`.
    pub max_frame_size: u32,
    /// NOTIFY frames answered at once on one connection; when all are
    /// busy the agent stops reading that connection.
    pub max_in_flight: usize,
    /// Connections served at once; more wait in the listen queue.
    pub max_connections: usize,
    /// Handlers running at once over all connections (the CPUs).
    pub workers: usize,
    /// Time for HAProxy to send HAPROXY-HELLO after connecting.
    pub hello_timeout: Duration,
    /// Time for the rest of a frame once its first byte arrived.
    pub frame_timeout: Duration,
    /// On shutdown: time for the requests in flight to be answered.
    pub shutdown_grace: Duration,
}

impl Default for AgentConfig {
    fn default() -> AgentConfig {
        AgentConfig {
            max_frame_size: 1 << 20,
            max_in_flight: 64,
            max_connections: 1024,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            hello_timeout: Duration::from_secs(10),
            frame_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// A bound agent, ready to serve.
#[derive(Debug)]
pub struct Agent<H> {
    listener: TcpListener,
    handler: Arc<H>,
    config: Arc<AgentConfig>,
}

impl<H: Handler> Agent<H> {
    pub async fn bind(
        addr: SocketAddr,
        handler: Arc<H>,
        config: AgentConfig,
    ) -> std::io::Result<Agent<H>> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Agent {
            listener,
            handler,
            config: Arc::new(config),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes; then stops accepting, lets each
    /// connection answer what it has in flight, sends AGENT-DISCONNECT and
    /// returns (within `shutdown_grace`).
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let Agent {
            listener,
            handler,
            config,
        } = self;
        let (stop_tx, stop_rx) = watch::channel(false);
        let connections = Arc::new(Semaphore::new(config.max_connections.max(1)));
        let workers = Arc::new(Semaphore::new(config.workers.max(1)));
        let mut tasks = JoinSet::new();
        if let Ok(a) = listener.local_addr() {
            info!(listen = %a, max_frame_size = config.max_frame_size, "SPOE agent listening");
        }
        tokio::pin!(shutdown);
        loop {
            while tasks.try_join_next().is_some() {}
            let permit = tokio::select! {
                p = connections.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
                _ = &mut shutdown => break,
            };
            let (stream, peer) = tokio::select! {
                r = listener.accept() => match r {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of descriptors and the like: wait a little
                        // instead of spinning.
                        warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                _ = &mut shutdown => break,
            };
            let (h, c, w, s) = (
                handler.clone(),
                config.clone(),
                workers.clone(),
                stop_rx.clone(),
            );
            tasks.spawn(async move {
                let _permit = permit;
                crate::conn::serve(stream, peer, h, c, w, s).await;
            });
        }
        drop(listener);
        let _ = stop_tx.send(true);
        let grace = config.shutdown_grace + Duration::from_secs(1);
        if tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} })
            .await
            .is_err()
        {
            warn!("SPOP connections still open after the shutdown grace; closing them");
            tasks.abort_all();
        }
        info!("SPOE agent stopped");
    }
}
