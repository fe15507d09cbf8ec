//! What the integration tests share: guards on a test node.toml, an agent
//! on a random loopback port, a temporary folder.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use rampart_proxy::OverLimit;
use rampart_spoa::{Guard, Mode, NodeConfig};
use tokio::sync::oneshot;

/// The conformance suite's body limit.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A guard as the conformance suite configures one: 64 KiB body limit,
/// over_limit = block, no telemetry, no cloud.
pub fn guard(mode: &str) -> Guard {
    guard_with(mode, |_| {})
}

/// [`guard`] with changes to its node.toml.
pub fn guard_with(mode: &str, change: impl FnOnce(&mut NodeConfig)) -> Guard {
    let mut c = NodeConfig {
        mode: mode.into(),
        ..NodeConfig::default()
    };
    c.inspection.body_limit = BODY_LIMIT;
    c.inspection.over_limit = OverLimit::Block;
    c.telemetry.enabled = false;
    // The log goes to a file (the first guard of the process sets it up).
    c.log_file = Some(temp_dir("log").join("agent.log"));
    change(&mut c);
    Guard::new(c, "haproxy").expect("guard")
}

/// A running agent: its address and the switch that stops it.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts an agent for `guard` on 127.0.0.1 (random port) on a runtime
/// thread of its own.
pub fn agent(guard: Guard, mode: Option<Mode>) -> Running {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop, stop_rx) = oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async move {
            let a = rampart_spoa::bind(guard, "127.0.0.1:0".parse().expect("addr"), mode)
                .await
                .expect("bind");
            addr_tx.send(a.local_addr().expect("addr")).expect("send");
            a.serve(async {
                let _ = stop_rx.await;
            })
            .await;
        });
    });
    let addr = addr_rx.recv().expect("agent address");
    Running {
        addr,
        stop: Some(stop),
        thread: Some(thread),
    }
}

/// A new empty folder under the system's temporary folder.
pub fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "rampart-spoa-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}
