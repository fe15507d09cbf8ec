#![allow(clippy::panic, clippy::unwrap_used)]
//! The adapters' conformance suite (adapters/conformance) against the proxy
//! node: two real `rampart node` processes (block and monitor mode) on the
//! suite's node.toml files, in front of the suite's echo backend.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rampart_conformance::backend::Echo;
use rampart_conformance::{prepare, run, Targets};

struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `rampart node` on a config and reads its address from its log.
async fn node(config: &Path, log: &Path) -> (Node, SocketAddr) {
    let child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("node")
        .arg("--config")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("rampart node starts");
    let node = Node(child);
    for _ in 0..600 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if v["message"] == "rampart node serving" {
                let addr = v["listen"].as_str().expect("listen").parse().expect("addr");
                return (node, addr);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the node did not start; its log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_node_passes_the_conformance_suite() {
    let dir =
        std::env::temp_dir().join(format!("rampart-conformance-proxy-{}", std::process::id()));
    let echo = Echo::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let files = prepare(&dir, echo.addr()).unwrap();
    let (_b, block) = node(&files.block_config, &files.block_log).await;
    let (_m, monitor) = node(&files.monitor_config, &files.monitor_log).await;
    let report = run(
        &Targets {
            adapter: "proxy".into(),
            block: Some(block),
            monitor: Some(monitor),
            files,
            log_wait: rampart_conformance::LOG_WAIT,
        },
        &echo,
    )
    .await;
    print!("{}", report.render());
    assert!(report.ok(), "{}", report.render());
    // Every case ran in both modes.
    assert_eq!(
        report.outcomes.len(),
        2 * rampart_conformance::cases::all().len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
